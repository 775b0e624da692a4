import shutil
import textwrap
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from civic.errors import InvalidInput
from proposals.models import Proposal, Tally
from strategy.importers import StrategyImportError, parse_strategy_files
from strategy.models import Section, Strategy
from strategy.services import derive_code_prefix, strategy_import_files, strategy_schedule

# Not "data/": .gitignore drops every data/ folder (meant for the SQLite one).
DATA = Path(__file__).parent / "documents"
ALMATY = [DATA / f"almaty-2050.{language}.md" for language in ("ru", "kk", "en")]


RU_HEADER = """\
---
slug: almaty-2050
language: ru
---
# Алматы-2050
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def copy_almaty(directory: Path) -> list[Path]:
    return [Path(shutil.copy(path, directory / path.name)) for path in ALMATY]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def drop_section(path: Path, heading_start: str, next_heading_start: str) -> None:
    """Remove the section whose heading starts with `heading_start`, up to the next one."""
    text = path.read_text(encoding="utf-8")
    start = text.index(heading_start)
    end = text.index(next_heading_start, start)
    path.write_text(text[:start] + text[end:], encoding="utf-8")


def snapshot() -> list[tuple]:
    """Every stored strategy and section value, to show that a failed import wrote nothing."""
    strategies = list(Strategy.objects.order_by("pk").values_list())
    sections = list(Section.objects.order_by("pk").values_list())
    tallies = list(Tally.objects.order_by("pk").values_list("strategy_id", "dirty_version"))
    return [*strategies, *sections, *tallies]


def make_proposal(section: Section) -> Proposal:
    author = get_user_model().objects.create_user(
        email=f"resident{Proposal.objects.count()}@example.com",
        password="a long password 123",
        display_name="Resident",
    )
    return Proposal.objects.create(
        strategy=section.strategy,
        section=section,
        author=author,
        title="Title here",
        body="x" * 30,
        language="ru",
    )


# --- Successful imports ----------------------------------------------------------------------


@pytest.mark.django_db
def test_markdown_in_three_languages_fills_each_language_column():
    result = strategy_import_files(ALMATY)

    assert result.created is True
    assert (result.sections_created, result.sections_updated, result.sections_deleted) == (6, 0, 0)
    strategy = Strategy.objects.get(slug="almaty-2050")
    assert result.strategy == strategy
    assert strategy.code_prefix == "ALM2050"
    assert strategy.status == "open"
    assert (strategy.opens_at, strategy.closes_at) == (date(2019, 11, 29), date(2020, 1, 31))
    assert (strategy.title_ru, strategy.title_kk, strategy.title_en) == (
        "Алматы-2050",
        "Алматы-2050",
        "Almaty 2050",
    )
    assert strategy.description_kk == "Қаланы 2050 жылға дейін дамыту стратегиясының жобасы."
    assert strategy.description_en == "Draft strategy for the city's development to 2050."

    air = Section.objects.get(strategy=strategy, code="2.1")
    assert (air.title_ru, air.title_kk, air.title_en) == ("Воздух", "Ауа", "Air")
    assert air.body_ru == "Перевод частного сектора на газ."
    assert air.body_kk == "Жеке секторды газға көшіру."
    assert air.body_en == "Moving the private sector to gas heating."


@pytest.mark.django_db
def test_markdown_section_tree_has_parents_depths_and_preorder_positions():
    strategy_import_files(ALMATY)

    sections = list(Section.objects.filter(strategy__slug="almaty-2050").order_by("position"))
    assert [(s.code, s.parent.code if s.parent else None, s.depth) for s in sections] == [
        ("1", None, 0),
        ("1.1", "1", 1),
        ("1.2", "1", 1),
        ("2", None, 0),
        ("2.1", "2", 1),
        ("2.1.1", "2.1", 2),
    ]
    assert [s.position for s in sections] == [0, 1, 2, 3, 4, 5]


@pytest.mark.django_db
def test_hash_lines_in_a_fenced_code_block_stay_in_the_body():
    strategy_import_files(ALMATY)

    transport = Section.objects.get(code="1.1")
    assert transport.body_ru.startswith("Общественный транспорт связывает окраины с центром.")
    assert "# это не заголовок\n## 9. и это тоже" in transport.body_ru
    assert not Section.objects.filter(code="9").exists()


@pytest.mark.django_db
def test_import_creates_a_dirty_tally():
    result = strategy_import_files(ALMATY)

    tally = Tally.objects.get(strategy=result.strategy)
    assert tally.is_dirty


@pytest.mark.django_db
def test_json_import():
    result = strategy_import_files([DATA / "astana-2030.json"])

    strategy = result.strategy
    assert result.created is True
    assert strategy.slug == "astana-2030"
    assert strategy.code_prefix == "AST2030"
    assert strategy.status == "draft"
    assert (strategy.opens_at, strategy.closes_at) == (date(2024, 3, 1), date(2024, 4, 30))
    assert (strategy.title_ru, strategy.title_kk, strategy.title_en) == (
        "Астана-2030",
        "",
        "Astana 2030",
    )
    sections = list(strategy.sections.order_by("position"))
    assert [(s.code, s.parent_id and s.parent.code, s.depth) for s in sections] == [
        ("1", None, 0),
        ("1.1", "1", 1),
        ("2", None, 0),
    ]
    assert (sections[1].title_en, sections[1].body_ru) == ("Roads", "Безопасные переходы.")


@pytest.mark.django_db
def test_new_strategy_without_status_is_a_draft(tmp_path):
    path = write(
        tmp_path,
        "shymkent-2030.kk.md",
        """
        ---
        slug: shymkent-2030
        language: kk
        ---
        # Шымкент-2030

        ## 1. Жасыл қала
        """,
    )

    strategy = strategy_import_files([path]).strategy

    assert strategy.status == "draft"
    assert (strategy.opens_at, strategy.closes_at) == (None, None)
    assert strategy.title_kk == "Шымкент-2030"
    assert strategy.title_ru == ""


@pytest.mark.django_db
def test_code_prefix_can_be_given_in_front_matter(tmp_path):
    files = copy_almaty(tmp_path)
    edit(files[0], "slug: almaty-2050\n", "slug: almaty-2050\ncode_prefix: ALA2050\n")

    assert strategy_import_files(files).strategy.code_prefix == "ALA2050"


def test_derive_code_prefix():
    assert derive_code_prefix(slug="almaty-2050") == "ALM2050"
    assert derive_code_prefix(slug="nur-sultan") == "NUR"
    assert derive_code_prefix(slug="2050-astana") == "AST2050"


@pytest.mark.django_db
def test_byte_order_mark_and_windows_line_ends_are_read(tmp_path):
    path = tmp_path / "a.ru.md"
    text = RU_HEADER + "\nОписание.\n\n## 1. Один\n\nТекст.\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())

    strategy = strategy_import_files([path]).strategy

    assert strategy.description_ru == "Описание."
    assert strategy.sections.get().body_ru == "Текст."


@pytest.mark.django_db
def test_a_heading_inside_a_block_quote_is_body_text(tmp_path):
    path = write(tmp_path, "a.ru.md", RU_HEADER + "\n## 1. Один\n\n> ## Цитата\n")

    strategy = strategy_import_files([path]).strategy

    assert strategy.sections.get().body_ru == "> ## Цитата"


# --- Importing again -------------------------------------------------------------------------


@pytest.mark.django_db
def test_reimport_keeps_section_ids_and_updates_text(tmp_path):
    strategy_import_files(ALMATY)
    ids = dict(Section.objects.values_list("code", "pk"))
    version = Tally.objects.get().dirty_version
    files = copy_almaty(tmp_path)
    edit(files[1], "### 1.1. Көлік", "### 1.1. Қоғамдық көлік")
    edit(files[2], "Clean air and parks.", "Clean air, parks and trees.")
    for path, title in zip(files, ("Парки", "Саябақтар", "Parks"), strict=True):
        with path.open("a", encoding="utf-8") as file:
            file.write(f"\n### 2.2. {title}\n\nText.\n")

    result = strategy_import_files(files)

    assert result.created is False
    assert (result.sections_created, result.sections_updated, result.sections_deleted) == (1, 2, 0)
    assert {
        code: pk for code, pk in Section.objects.values_list("code", "pk") if code in ids
    } == ids
    transport = Section.objects.get(code="1.1")
    assert transport.title_kk == "Қоғамдық көлік"
    assert transport.title_ru == "Транспорт"
    assert Section.objects.get(code="2").body_en == "Clean air, parks and trees."
    parks = Section.objects.get(code="2.2")
    assert (parks.title_ru, parks.title_kk, parks.title_en) == ("Парки", "Саябақтар", "Parks")
    assert (parks.parent.code, parks.depth, parks.position) == ("2", 1, 6)
    assert Tally.objects.get().dirty_version == version + 1


@pytest.mark.django_db
def test_reimport_of_the_same_text_changes_nothing():
    strategy_import_files(ALMATY)
    before = snapshot()

    result = strategy_import_files(ALMATY)

    assert result.changed is False
    assert (result.sections_created, result.sections_updated, result.sections_deleted) == (0, 0, 0)
    assert snapshot() == before


@pytest.mark.django_db
def test_reimport_keeps_stored_status_dates_and_prefix_when_the_text_omits_them(tmp_path):
    strategy = strategy_import_files(ALMATY).strategy
    Strategy.objects.filter(pk=strategy.pk).update(code_prefix="ALA2050")
    strategy_schedule(
        strategy=Strategy.objects.get(pk=strategy.pk),
        status="closed",
        opens_at=date(2019, 12, 1),
        closes_at=date(2020, 2, 1),
    )
    files = copy_almaty(tmp_path)
    for line in ("status: open\n", "opens_at: 2019-11-29\n", "closes_at: 2020-01-31\n"):
        edit(files[0], line, "")

    strategy = strategy_import_files(files).strategy

    strategy.refresh_from_db()
    assert strategy.code_prefix == "ALA2050"
    assert strategy.status == "closed"
    assert (strategy.opens_at, strategy.closes_at) == (date(2019, 12, 1), date(2020, 2, 1))


@pytest.mark.django_db
def test_reimport_overwrites_status_and_dates_given_in_the_text(tmp_path):
    strategy = strategy_import_files(ALMATY).strategy
    strategy_schedule(strategy=strategy, status="draft", opens_at=None, closes_at=None)

    strategy_import_files(ALMATY)

    strategy.refresh_from_db()
    assert strategy.status == "open"
    assert (strategy.opens_at, strategy.closes_at) == (date(2019, 11, 29), date(2020, 1, 31))


@pytest.mark.django_db
def test_reimport_that_drops_a_section_without_proposals_deletes_it(tmp_path):
    strategy_import_files(ALMATY)
    utilities_id = Section.objects.get(code="1.2").pk
    transport_id = Section.objects.get(code="1.1").pk
    files = copy_almaty(tmp_path)
    for path in files:
        drop_section(path, "### 1.2.", "## 2.")

    result = strategy_import_files(files)

    assert result.sections_deleted == 1
    assert not Section.objects.filter(pk=utilities_id).exists()
    assert list(Section.objects.order_by("position").values_list("code", "position")) == [
        ("1", 0),
        ("1.1", 1),
        ("2", 2),
        ("2.1", 3),
        ("2.1.1", 4),
    ]
    assert Section.objects.get(code="1.1").pk == transport_id


@pytest.mark.django_db
def test_reimport_that_drops_a_section_with_proposals_stops_and_changes_nothing(tmp_path):
    strategy_import_files(ALMATY)
    proposal = make_proposal(Section.objects.get(code="2.1.1"))
    files = copy_almaty(tmp_path)
    # Also a change that would otherwise be written, and a section that could be deleted.
    edit(files[0], "status: open", "status: closed")
    edit(files[2], "### 1.1. Transport", "### 1.1. Buses")
    for path in files:
        text = path.read_text(encoding="utf-8")
        path.write_text(text[: text.index("#### 2.1.1.")], encoding="utf-8")
        drop_section(path, "### 1.2.", "## 2.")
    before = snapshot()

    with pytest.raises(StrategyImportError) as caught:
        strategy_import_files(files)

    assert any(
        "section 2.1.1" in message and "1 proposal" in message for message in caught.value.messages
    )
    assert not any("section 1.2 " in message for message in caught.value.messages)
    assert snapshot() == before
    proposal.refresh_from_db()
    assert proposal.section.code == "2.1.1"
    assert Section.objects.get(code="1.1").title_en == "Transport"


@pytest.mark.django_db
def test_reimport_whose_date_clashes_with_the_stored_one_is_refused(tmp_path):
    strategy_import_files(ALMATY)
    files = copy_almaty(tmp_path)
    edit(files[0], "opens_at: 2019-11-29\n", "")
    edit(files[0], "closes_at: 2020-01-31", "closes_at: 2019-11-01")
    before = snapshot()

    with pytest.raises(StrategyImportError) as caught:
        strategy_import_files(files)

    assert caught.value.messages == [
        f"{files[0]}:5: closes_at 2019-11-01 would be before opens_at 2019-11-29"
    ]
    assert snapshot() == before


@pytest.mark.django_db
def test_reimport_with_a_different_code_prefix_is_refused(tmp_path):
    strategy_import_files(ALMATY)
    files = copy_almaty(tmp_path)
    edit(files[1], "language: kk\n", "language: kk\ncode_prefix: ALA2050\n")
    before = snapshot()

    with pytest.raises(StrategyImportError) as caught:
        strategy_import_files(files)

    assert caught.value.messages[0].startswith(f"{files[1]}:4: code_prefix ALA2050 differs")
    assert snapshot() == before


# --- Errors ----------------------------------------------------------------------------------


def assert_refused(paths: list[Path], expected: str) -> list[str]:
    """The import fails with a message containing `expected` and leaves the database empty."""
    with pytest.raises(StrategyImportError) as caught:
        strategy_import_files(paths)
    messages = caught.value.messages
    assert any(expected in message for message in messages), messages
    assert not Strategy.objects.exists()
    assert not Section.objects.exists()
    assert not Tally.objects.exists()
    return messages


@pytest.mark.django_db
def test_error_missing_slug(tmp_path):
    path = write(tmp_path, "a.ru.md", "---\nlanguage: ru\n---\n# Title\n\n## 1. One\n")
    assert_refused([path], f"{path}:1: no slug")


@pytest.mark.django_db
def test_error_no_front_matter(tmp_path):
    path = write(tmp_path, "a.ru.md", "# Title\n\n## 1. One\n")
    assert_refused([path], f"{path}:1: no front matter")


@pytest.mark.django_db
def test_error_heading_without_code(tmp_path):
    path = write(
        tmp_path,
        "almaty.kk.md",
        RU_HEADER.replace("ru", "kk") + "\n## 1. Бір\n\nМәтін.\n\n## Foo\n",
    )
    assert_refused([path], f'{path}:11: heading "Foo" has no section code')


@pytest.mark.django_db
def test_error_code_repeats(tmp_path):
    path = write(tmp_path, "a.ru.md", RU_HEADER + "\n## 1. Один\n\n## 01. Снова один\n")
    assert_refused([path], f"{path}:9: section code 1 repeats (first at line 7)")


@pytest.mark.django_db
def test_error_child_under_no_parent(tmp_path):
    path = write(tmp_path, "a.ru.md", RU_HEADER + "\n## 1. Один\n\n### 2.1. Сирота\n")
    assert_refused([path], f"{path}:9: section 2.1 is numbered under 2, but there is no 2")


@pytest.mark.django_db
def test_error_child_outside_its_parent(tmp_path):
    path = write(tmp_path, "a.ru.md", RU_HEADER + "\n## 1. Один\n\n## 2. Два\n\n### 1.1. Под 1\n")
    assert_refused([path], f"{path}:11: section 1.1 is outside its parent 1")


@pytest.mark.django_db
def test_error_language_files_disagree_on_codes(tmp_path):
    ru = write(tmp_path, "a.ru.md", RU_HEADER + "\n## 1. Один\n\n## 2. Два\n")
    kk = write(tmp_path, "a.kk.md", RU_HEADER.replace("ru", "kk") + "\n## 1. Бір\n\n## 3. Үш\n")
    messages = assert_refused([kk, ru], f"{ru}:9: section 2 is missing from {kk}")
    assert any(m.startswith(f"{kk}:9: section 3 is not in {ru}") for m in messages)


@pytest.mark.django_db
def test_error_language_files_disagree_on_order(tmp_path):
    ru = write(tmp_path, "a.ru.md", RU_HEADER + "\n## 1. Один\n\n## 2. Два\n")
    en = write(tmp_path, "a.en.md", RU_HEADER.replace("ru", "en") + "\n## 2. Two\n\n## 1. One\n")
    assert_refused([ru, en], f"{en}:7: section 2 comes where {ru}:7 has 1")


@pytest.mark.django_db
def test_error_front_matter_key_in_two_files(tmp_path):
    ru = write(tmp_path, "a.ru.md", RU_HEADER.replace("language: ru", "language: ru\nstatus: open"))
    kk = write(tmp_path, "a.kk.md", RU_HEADER.replace("language: ru", "language: kk\nstatus: open"))
    assert_refused([ru, kk], f"{kk}:4: status is already given in {ru}:4")


@pytest.mark.django_db
def test_error_bad_front_matter_yaml(tmp_path):
    path = write(tmp_path, "a.ru.md", "---\nslug: almaty-2050\nlanguage: [ru\n---\n# T\n")
    assert_refused([path], f"{path}:3: front matter is not valid YAML")


@pytest.mark.django_db
def test_error_unknown_front_matter_key(tmp_path):
    path = write(
        tmp_path,
        "a.ru.md",
        RU_HEADER.replace("language: ru", "language: ru\ncloses_on: 2020-01-01"),
    )
    assert_refused([path], f'{path}:4: unknown front matter key "closes_on"')


@pytest.mark.django_db
def test_error_unknown_language(tmp_path):
    path = write(tmp_path, "a.de.md", RU_HEADER.replace("language: ru", "language: de"))
    assert_refused([path], f"{path}:3: unknown language 'de'")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("opens_at: 2019-13-45", "bad date '2019-13-45'"),
        ("opens_at: tomorrow", "bad date for opens_at: 'tomorrow'"),
        ('opens_at: "2019-02-30"', "bad date for opens_at: '2019-02-30'"),
        ("opens_at: 2019-11-29 10:00:00", "bad date for opens_at: 2019-11-29T10:00:00 has a time"),
    ],
)
def test_error_bad_date(tmp_path, line, expected):
    path = write(tmp_path, "a.ru.md", RU_HEADER.replace("language: ru", f"language: ru\n{line}"))
    assert_refused([path], f"{path}:4: {expected}")


@pytest.mark.django_db
def test_error_closes_before_opens(tmp_path):
    header = RU_HEADER.replace(
        "language: ru", "language: ru\nopens_at: 2020-01-01\ncloses_at: 2019-01-01"
    )
    path = write(tmp_path, "a.ru.md", header)
    assert_refused([path], f"{path}:5: closes_at 2019-01-01 is before opens_at 2020-01-01")


@pytest.mark.django_db
def test_error_unknown_status(tmp_path):
    path = write(
        tmp_path, "a.ru.md", RU_HEADER.replace("language: ru", "language: ru\nstatus: live")
    )
    assert_refused([path], f"{path}:4: unknown status 'live'")


@pytest.mark.django_db
def test_error_several_slugs(tmp_path):
    ru = write(tmp_path, "a.ru.md", RU_HEADER)
    kk = write(tmp_path, "b.kk.md", RU_HEADER.replace("almaty-2050", "astana").replace("ru", "kk"))
    assert_refused([ru, kk], f"{kk}:2: slug 'astana' differs from 'almaty-2050'")


@pytest.mark.django_db
def test_error_json_with_markdown(tmp_path):
    ru = write(tmp_path, "a.ru.md", RU_HEADER)
    json_path = tmp_path / "astana.json"
    shutil.copy(DATA / "astana-2030.json", json_path)
    assert_refused([ru, json_path], f"{json_path}:1: a JSON file holds every language")


@pytest.mark.django_db
def test_error_unknown_file_type(tmp_path):
    path = write(tmp_path, "a.txt", RU_HEADER)
    assert_refused([path], f"{path}:0: unknown file type .txt")


@pytest.mark.django_db
def test_error_invalid_json(tmp_path):
    path = write(
        tmp_path, "a.json", '{\n  "slug": "a",\n  "title": {"ru": "T"}\n  "sections": []\n}\n'
    )
    assert_refused([path], f"{path}:4: invalid JSON")


@pytest.mark.django_db
def test_error_json_names_the_line_of_the_bad_value(tmp_path):
    text = (DATA / "astana-2030.json").read_text(encoding="utf-8")
    path = tmp_path / "astana.json"
    path.write_text(
        text.replace('"status": "draft"', '"status": "live"').replace(
            '"code": "1.1"', '"code": "2.1"'
        ),
        encoding="utf-8",
    )
    messages = assert_refused([path], f"{path}:3: unknown status 'live'")
    assert f"{path}:15: section 2.1 is numbered under 2, but there is no 2" in messages


@pytest.mark.django_db
def test_error_json_missing_slug_and_repeated_code(tmp_path):
    path = write(
        tmp_path,
        "a.json",
        """
        {
          "title": {"ru": "T"},
          "sections": [
            {"code": "1", "title": {"ru": "Один"}},
            {"code": "1.", "title": {"ru": "Снова"}}
          ]
        }
        """,
    )
    messages = assert_refused([path], f"{path}:1: no slug")
    assert f"{path}:5: section code 1 repeats (first at line 4)" in messages


def test_parse_reports_every_problem_at_once(tmp_path):
    path = write(tmp_path, "a.ru.md", "---\nlanguage: ru\n---\n# T\n\n## Один\n\n### 3.1. Х\n")

    with pytest.raises(StrategyImportError) as caught:
        parse_strategy_files([path])

    assert caught.value.messages == [
        f"{path}:1: no slug: add 'slug: city-2050' to the front matter",
        f'{path}:6: heading "Один" has no section code (like "1." or "2.3.")',
        f"{path}:8: section 3.1 is numbered under 3, but there is no 3",
    ]


# --- strategy_schedule -----------------------------------------------------------------------


@pytest.mark.django_db
def test_strategy_schedule_sets_status_and_dates():
    strategy = strategy_import_files(ALMATY).strategy

    strategy_schedule(
        strategy=strategy, status="closed", opens_at=date(2020, 1, 1), closes_at=date(2020, 1, 1)
    )

    strategy.refresh_from_db()
    assert (strategy.status, strategy.opens_at, strategy.closes_at) == (
        "closed",
        date(2020, 1, 1),
        date(2020, 1, 1),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "opens_at", "closes_at", "field"),
    [
        ("live", None, None, "status"),
        ("open", date(2020, 2, 1), date(2020, 1, 1), "closes_at"),
    ],
)
def test_strategy_schedule_refuses_bad_values(status, opens_at, closes_at, field):
    strategy = strategy_import_files(ALMATY).strategy

    with pytest.raises(InvalidInput) as caught:
        strategy_schedule(strategy=strategy, status=status, opens_at=opens_at, closes_at=closes_at)

    assert caught.value.field == field
    strategy.refresh_from_db()
    assert (strategy.status, strategy.opens_at) == ("open", date(2019, 11, 29))


# --- The management command ------------------------------------------------------------------


@pytest.mark.django_db
def test_command_imports_and_prints_a_summary():
    out = StringIO()

    call_command("import_strategy", *map(str, ALMATY), stdout=out)

    assert "almaty-2050: created" in out.getvalue()
    assert "6 created, 0 updated, 0 deleted" in out.getvalue()
    assert Section.objects.filter(strategy__slug="almaty-2050").count() == 6

    out = StringIO()
    call_command("import_strategy", *map(str, ALMATY), stdout=out)
    assert "almaty-2050: unchanged" in out.getvalue()


@pytest.mark.django_db
def test_command_prints_every_error_and_fails(tmp_path):
    path = write(tmp_path, "a.ru.md", "---\nlanguage: ru\n---\n# T\n\n## Один\n")
    err = StringIO()

    with pytest.raises(CommandError, match="2 problem"):
        call_command("import_strategy", str(path), stderr=err)

    assert f"{path}:1: no slug" in err.getvalue()
    assert f'{path}:6: heading "Один" has no section code' in err.getvalue()
    assert not Strategy.objects.exists()


@pytest.mark.django_db
def test_hostile_files_are_import_errors_not_crashes(tmp_path):
    tagged = tmp_path / "tagged.ru.md"
    tagged.write_text(
        "---\nslug: x-2050\nlanguage: ru\nstatus: !!python/object:builtins.object {}\n---\n# T\n",
        encoding="utf-8",
    )
    deep = tmp_path / "deep.json"
    deep.write_text('{"slug": "x-2050", "title": ' + "[" * 100_000 + "]" * 100_000 + "}")
    for path in (tagged, deep):
        with pytest.raises(StrategyImportError) as error:
            strategy_import_files([path])
        assert f"{path.name}:" in error.value.messages[0]
    assert not Strategy.objects.exists()
