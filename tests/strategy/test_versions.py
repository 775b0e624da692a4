"""Versions of a strategy document: recorded by the import, compared word by word."""

import shutil
import textwrap
from pathlib import Path

import pytest

from strategy.importers import StrategyImportError
from strategy.models import Section, Strategy, StrategyVersion
from strategy.services import strategy_import_files
from strategy.versions import reflow, section_changes, version_snapshot, word_diff

DATA = Path(__file__).parent / "documents"
ALMATY = [DATA / f"almaty-2050.{language}.md" for language in ("ru", "kk", "en")]
pytestmark = pytest.mark.django_db


def copy_almaty(directory: Path) -> list[Path]:
    return [Path(shutil.copy(path, directory / path.name)) for path in ALMATY]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def spelled(diff: list[dict], side: str) -> str:
    """The text the runs spell on one side: "new" (equal + insert) or "old" (equal + delete)."""
    skip = "delete" if side == "new" else "insert"
    return "".join(run["text"] for run in diff if run["op"] != skip)


def first_section_with_body(path: Path) -> tuple[str, str]:
    """(code, a sentence of its body) of the first `### ` section in a Markdown file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("### "))
    code = lines[start].split()[1].rstrip(".")
    body = next(line for line in lines[start + 1 :] if line.strip())
    return code, body


# --- recording ------------------------------------------------------------------------------


def test_first_import_records_version_one_with_every_section():
    strategy = strategy_import_files(ALMATY).strategy
    versions = list(StrategyVersion.objects.filter(strategy=strategy))
    assert [v.number for v in versions] == [1]
    codes = list(Section.objects.filter(strategy=strategy).values_list("code", flat=True))
    assert [s["code"] for s in versions[0].sections] == codes
    assert versions[0].changed_sections == codes


def test_snapshot_holds_title_description_and_the_tree_in_every_language():
    strategy = strategy_import_files(ALMATY).strategy
    snapshot = version_snapshot(strategy)
    assert snapshot["title"]["ru"] == strategy.title_ru
    assert snapshot["title"]["kk"] == strategy.title_kk
    assert snapshot["description"]["en"] == strategy.description_en
    child = next(s for s in snapshot["sections"] if s["parent_code"])
    row = Section.objects.get(strategy=strategy, code=child["code"])
    assert child["parent_code"] == row.parent.code
    assert child["depth"] == row.depth
    assert child["title"] == {"ru": row.title_ru, "kk": row.title_kk, "en": row.title_en}
    assert child["body"] == {"ru": row.body_ru, "kk": row.body_kk, "en": row.body_en}
    version = StrategyVersion.objects.get(strategy=strategy)
    assert (version.title, version.description, version.sections) == (
        snapshot["title"],
        snapshot["description"],
        snapshot["sections"],
    )


def test_reimporting_the_same_text_records_no_version():
    strategy_import_files(ALMATY)
    strategy_import_files(ALMATY)
    assert StrategyVersion.objects.count() == 1


def test_a_changed_section_makes_version_two_and_names_only_that_section(tmp_path):
    files = copy_almaty(tmp_path)
    strategy = strategy_import_files(files).strategy
    code, sentence = first_section_with_body(files[0])
    edit(files[0], sentence, sentence + " Новое обязательство города.")
    strategy_import_files(files)
    latest = StrategyVersion.objects.filter(strategy=strategy).order_by("-number").first()
    assert latest.number == 2
    assert latest.changed_sections == [code]
    # The living section has the new text; version 1 still has the old one.
    first = StrategyVersion.objects.get(strategy=strategy, number=1)
    old_body = next(s for s in first.sections if s["code"] == code)["body"]["ru"]
    assert "Новое обязательство города." not in old_body
    assert (
        "Новое обязательство города." in Section.objects.get(strategy=strategy, code=code).body_ru
    )


def test_a_change_in_one_language_only_counts(tmp_path):
    files = copy_almaty(tmp_path)
    strategy = strategy_import_files(files).strategy
    code, sentence = first_section_with_body(files[1])  # the Kazakh file
    edit(files[1], sentence, sentence + " Жаңа сөйлем.")
    strategy_import_files(files)
    assert StrategyVersion.objects.get(strategy=strategy, number=2).changed_sections == [code]


def test_status_or_dates_alone_make_no_version(tmp_path):
    files = copy_almaty(tmp_path)
    strategy = strategy_import_files(files).strategy
    edit(files[0], "status: open", "status: closed")
    strategy_import_files(files)
    strategy.refresh_from_db()
    assert strategy.status == Strategy.Status.CLOSED
    assert StrategyVersion.objects.filter(strategy=strategy).count() == 1


def test_added_and_removed_sections_are_named_in_document_order(tmp_path):
    first = write(
        tmp_path,
        "a.ru.md",
        """
        ---
        slug: versions-test
        language: ru
        ---
        # Документ

        ## 1. Первый

        Текст первого.

        ## 2. Второй

        Текст второго.

        ## 3. Третий

        Текст третьего.
        """,
    )
    strategy = strategy_import_files([first]).strategy
    second = write(
        tmp_path,
        "a.ru.md",
        """
        ---
        slug: versions-test
        language: ru
        ---
        # Документ

        ## 1. Первый

        Текст первого.

        ### 1.1. Новый

        Совсем новый раздел.

        ## 3. Третий

        Текст третьего, исправленный.
        """,
    )
    strategy_import_files([second])
    v1, v2 = StrategyVersion.objects.filter(strategy=strategy).order_by("number")
    assert v2.changed_sections == ["1.1", "2", "3"]
    changes = section_changes(v1, v2, "ru")
    assert [(c["section_code"], c["change"]) for c in changes] == [
        ("1", "unchanged"),
        ("1.1", "added"),
        ("2", "removed"),
        ("3", "changed"),
    ]
    removed = next(c for c in changes if c["section_code"] == "2")
    assert removed["title"] == "Второй"
    assert {run["op"] for run in removed["diff"]} == {"delete"}
    added = next(c for c in changes if c["section_code"] == "1.1")
    assert spelled(added["diff"], "new") == "Новый\n\nСовсем новый раздел."
    assert {run["op"] for run in added["diff"]} == {"insert"}
    # Comparing a version with itself: everything unchanged.
    assert {c["change"] for c in section_changes(v2, v2, "ru")} == {"unchanged"}


def test_an_import_of_some_languages_keeps_the_others_text_in_the_version(tmp_path):
    files = copy_almaty(tmp_path)
    strategy = strategy_import_files(files).strategy
    code, sentence = first_section_with_body(files[0])
    edit(files[0], sentence, sentence + " Дополнение.")
    strategy_import_files([files[0]])  # Russian only
    v1, v2 = StrategyVersion.objects.filter(strategy=strategy).order_by("number")
    old = next(s for s in v1.sections if s["code"] == code)
    new = next(s for s in v2.sections if s["code"] == code)
    assert new["body"]["kk"] == old["body"]["kk"] != ""
    assert new["body"]["en"] == old["body"]["en"] != ""
    assert new["body"]["ru"] != old["body"]["ru"]
    assert v2.title == v1.title


def test_a_failed_import_records_no_version(tmp_path):
    files = copy_almaty(tmp_path)
    strategy = strategy_import_files(files).strategy
    # A prefix other than the stored one stops the import; its text change is not recorded.
    edit(files[0], "language: ru\n", "language: ru\ncode_prefix: OTHER\n")
    edit(files[0], "# Алматы-2050", "# Алматы-2050 (изменено)")
    with pytest.raises(StrategyImportError):
        strategy_import_files(files)
    assert StrategyVersion.objects.filter(strategy=strategy).count() == 1


def test_diff_is_in_the_requested_language_with_russian_fallback(tmp_path):
    files = copy_almaty(tmp_path)
    strategy = strategy_import_files(files).strategy
    code, sentence = first_section_with_body(files[2])  # English
    edit(files[2], sentence, sentence + " A new promise.")
    strategy_import_files(files)
    v1, v2 = StrategyVersion.objects.filter(strategy=strategy).order_by("number")
    english = next(c for c in section_changes(v1, v2, "en") if c["section_code"] == code)
    assert {"op": "insert", "text": " A new promise."} in english["diff"]
    russian = next(c for c in section_changes(v1, v2, "ru") if c["section_code"] == code)
    assert russian["change"] == "changed"  # the section changed, in another language
    assert {run["op"] for run in russian["diff"]} == {"equal"}
    assert russian["title"] == Section.objects.get(strategy=strategy, code=code).title_ru
    # An unknown language falls back to Russian, as localized() does.
    assert section_changes(v1, v2, "de")[0]["title"] == section_changes(v1, v2, "ru")[0]["title"]


# --- the word diff --------------------------------------------------------------------------


def test_word_diff_of_equal_texts_is_one_equal_run():
    assert word_diff("Город без окраин.", "Город без окраин.") == [
        {"op": "equal", "text": "Город без окраин."}
    ]


def test_word_diff_replaces_whole_words_and_keeps_punctuation():
    diff = word_diff(
        "Все дворы должны быть освещены.", "Все дворы и остановки будут освещены к 2027 году."
    )
    assert diff == [
        {"op": "equal", "text": "Все дворы "},
        {"op": "delete", "text": "должны быть"},
        {"op": "insert", "text": "и остановки будут"},
        {"op": "equal", "text": " освещены"},
        {"op": "insert", "text": " к 2027 году"},
        {"op": "equal", "text": "."},
    ]


def test_word_diff_treats_kazakh_letters_as_parts_of_words():
    diff = word_diff("Қала ағаштар отырғызады", "Қала жыл сайын ағаштар отырғызады")
    assert diff == [
        {"op": "equal", "text": "Қала"},
        {"op": "insert", "text": " жыл сайын"},
        {"op": "equal", "text": " ағаштар отырғызады"},
    ]
    # ә, ғ, қ, ң, ө, ұ, ү, һ, і never split a word in two.
    diff = word_diff("әуе өңірі", "әуе үңгірі")
    assert diff == [
        {"op": "equal", "text": "әуе "},
        {"op": "delete", "text": "өңірі"},
        {"op": "insert", "text": "үңгірі"},
    ]


def test_word_diff_merges_neighbouring_runs_of_one_kind():
    diff = word_diff("a b c d", "a x y d")
    assert diff == [
        {"op": "equal", "text": "a "},
        {"op": "delete", "text": "b c"},
        {"op": "insert", "text": "x y"},
        {"op": "equal", "text": " d"},
    ]
    assert all(left["op"] != right["op"] for left, right in zip(diff, diff[1:], strict=False))


def test_word_diff_ignores_rewrapped_lines_but_not_new_paragraphs():
    assert word_diff("one two\nthree four", "one two three four") == [
        {"op": "equal", "text": "one two three four"}
    ]
    assert word_diff("one two three four", "one two\nthree four") == [
        {"op": "equal", "text": "one two three four"}
    ]
    diff = word_diff("one two three", "one two\n\nthree")
    assert {"op": "insert", "text": "\n\n"} in diff


def test_reflow_undoes_wrapping_but_keeps_paragraphs_and_list_items():
    text = "Город проведёт\nводопровод.\n\nПлан:\n- газ\n- свет\n1. школы"
    assert reflow(text) == "Город проведёт водопровод.\n\nПлан:\n- газ\n- свет\n1. школы"


def test_word_diff_from_and_to_nothing():
    assert word_diff("", "Новый текст") == [{"op": "insert", "text": "Новый текст"}]
    assert word_diff("Старый текст", "") == [{"op": "delete", "text": "Старый текст"}]
    assert word_diff("", "") == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Город проведёт водопровод и газ.", "Город проведёт водопровод, газ и освещение."),
        ("ТЭЦ-2 переводится на газ.", "ТЭЦ-2 переводится на газ до конца 2026 года."),
        ("Жаяу жүргіншілер\nқауіпсіздігі.", "Жаяу жүргіншілердің қауіпсіздігіне назар."),
        ("One.\n\nTwo three.", "One, two.\n\nThree."),
    ],
)
def test_word_diff_spells_both_texts_reflowed(old, new):
    diff = word_diff(old, new)
    assert spelled(diff, "new") == reflow(new)
    assert spelled(diff, "old") == reflow(old)
