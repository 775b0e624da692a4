"""The report's CSV both ways in one run: PostgreSQL's COPY and Python's csv module.

report_build_file writes a CSV report with COPY on PostgreSQL (reports/copy.py) and with
the csv module everywhere else (reports/rows.py and writers.write_csv), and says the two
give the same file. CI's SQLite run only ever takes the Python path and its PostgreSQL
run only COPY, so here both builds go through the service on PostgreSQL, one after the
other, over the same proposals: the second with the service told that the database is
not PostgreSQL. The text is what residents and staff write that a CSV can trip on:
quotes, commas, semicolons, line breaks of every kind, formula starts, Kazakh letters,
ё, emoji, a lone `\\.` line (COPY's end-of-data marker), a `%` and a byte-order mark.
(tests/proposals/test_csv_safety.py holds the two writers, called directly, to the same
bytes; this holds the service's two files to it.)
"""

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from civic.accounts.models import User
from proposals.models import Proposal, ProposalEvent, Reaction, Report
from proposals.reports import copy as report_copy
from proposals.reports import services as report_services
from proposals.reports import writers as report_writers
from proposals.reports.rows import COLUMNS
from strategy.models import District, Strategy, Theme
from tests.factories import ProposalFactory, SectionFactory, UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="COPY is PostgreSQL's: set DATABASE_URL to a PostgreSQL database",
    ),
]

BOM = b"\xef\xbb\xbf"
# Titles (5 to 200 characters) and bodies (20 or more) that a CSV can trip on.
TEXTS = {
    "quotes": (
        "Кавычки \"двойные\", 'одинарные' и «ёлочки»",
        'Он сказал: "поставьте скамейку", а она: ""две"" — и точка; конец.',
    ),
    "formula-starts": (
        "=СУММ(1;2) во дворе",
        "+7 701 000 00 00 звоните\n-2 градуса в подъезде\n@акимат ответьте\r\n=HYPERLINK(1)",
    ),
    "line-breaks": (
        "Многострочный заголовок\nвторая строка",
        "Строка с LF\nстрока с CRLF\r\nстрока с CR\rи табуляция\tв конце\t",
    ),
    "kazakh": (
        "Әкімдік, аулаға жарық орнатыңыз",
        "Ғимарат, қала, ңң, өзен, ұлы, үй, һ, і: бәрі дұрыс жазылуы керек; рахмет!",
    ),
    "yo": (
        "Ёлка, ёж, всё ещё ждём",
        "Ещё раз: ёмкость для мусора переполнена, её не вывозят всё лето.",
    ),
    "emoji": (
        "Детская площадка 😀👍",
        "Семья 👩‍👩‍👧, флаг 🇰🇿, сердце ❤️ и собака 🐕 — всё в одном тексте.",
    ),
    "copy-markers": (
        "Обратная косая \\ и \\N",
        "Строка до\n\\.\nстрока после: конец данных COPY, NULL и \\N — просто текст.",
    ),
    "placeholders": (
        "100% скидка %s %(name)s",
        "\ufeffМетка порядка байтов в начале, %d и {name} и $1 посередине текста.",
    ),
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def awkward(strategy, moderator) -> list[Proposal]:
    """Proposals with every kind of value the report holds, its text awkward throughout:
    sections with and without titles in each language, themes, a district, reactions,
    decisions with notes, a duplicate, times on both sides of Almaty's move from +06 to +05
    on 1 March 2024, on a whole second and at its last microsecond."""
    named = SectionFactory(
        strategy=strategy,
        code="1",
        position=0,
        title_ru='Дворы, "скверы";=1+1',
        title_kk="Аулалар мен саябақтар: ғ, қ, ң, ө, ұ, ү, һ, і",
        title_en="",
    )
    sub = SectionFactory(
        strategy=strategy,
        code="1.1",
        position=1,
        title_ru="@Освещение\nи ёлки 🎄",
        title_kk="",
        title_en="-Lighting, trees",
    )
    transport, ecology = Theme.objects.get(slug="transport"), Theme.objects.get(slug="ecology")
    district = District.objects.get(slug="medeu")
    times = [
        datetime(2024, 2, 29, 17, 59, 59, 999999, tzinfo=UTC),  # 23:59:59 +06:00
        datetime(2024, 2, 29, 19, 0, 0, tzinfo=UTC),  # 00:00 +05:00 on 1 March
        datetime(2025, 12, 31, 18, 30, 0, 123456, tzinfo=UTC),  # the new year in Almaty
    ]
    proposals = []
    for n, (title, body) in enumerate(TEXTS.values()):
        status = [Proposal.Status.PUBLISHED, Proposal.Status.PENDING, Proposal.Status.REJECTED][
            n % 3
        ]
        proposal = ProposalFactory(
            strategy=strategy,
            section=[named, sub, None][n % 3],
            district=district if n % 2 else None,
            themes=[[transport, ecology], [ecology], []][n % 3],
            language=["ru", "kk", "en"][n % 3],
            title=title,
            body=body,
            status=status,
            published_at=times[(n + 1) % 3] if status == Proposal.Status.PUBLISHED else None,
        )
        Proposal.objects.filter(pk=proposal.pk).update(created_at=times[n % 3])
        proposals.append(proposal)
    for proposal, action, reason, note in (
        (proposals[0], ProposalEvent.Action.APPROVE, "", ""),
        (proposals[2], ProposalEvent.Action.REJECT, "duplicate", 'См. "первое";=1+1\r\nёлки'),
        (proposals[5], ProposalEvent.Action.REJECT, "other", "+7 701; бәрі 😀"),
        (proposals[4], ProposalEvent.Action.REQUEST_CHANGES, "", "Уточните, пожалуйста:\n-адрес"),
    ):
        event = ProposalEvent.objects.create(
            proposal=proposal,
            action=action,
            from_status=Proposal.Status.PENDING,
            to_status=proposal.status,
            reason=reason,
            note=note,
            actor=moderator,
            at=times[2],
        )
        Proposal.objects.filter(pk=proposal.pk).update(latest_decision=event)
    Proposal.objects.filter(pk=proposals[2].pk).update(duplicate_of=proposals[0])
    for kind in ("like", "like", "funny", "outrage", "sympathy", "indifferent"):
        Reaction.objects.create(proposal=proposals[0], user=UserFactory(), kind=kind)
    Reaction.objects.create(proposal=proposals[3], user=UserFactory(), kind="outrage")
    return proposals


def _spy(function: Callable[..., Any], name: str, calls: list[str]) -> Callable[..., Any]:
    def spied(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return function(*args, **kwargs)

    return spied


class _NotPostgres:
    """What the service asks of the connection to choose COPY: the vendor, another one."""

    vendor = "not-postgresql"


def _build(analyst: User, strategy: Strategy, language: str, filters: dict[str, Any]) -> bytes:
    report = Report.objects.create(
        ordered_by=analyst,
        strategy=strategy,
        format=Report.Format.CSV,
        filters=filters,
        language=language,
    )
    attempt = report_services.report_start(report_id=report.pk)
    assert attempt is not None
    done = report_services.report_build_file(report_id=report.pk, attempt=attempt)
    assert done is not None and done.status == Report.Status.DONE, report.error
    return Path(done.file.path).read_bytes()


def _records(raw: bytes) -> list[list[str]]:
    assert raw.startswith(BOM)
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


CASES = {
    "ru": ("ru", {}, None),
    "kk": ("kk", {}, None),
    "en": ("en", {}, None),
    # Several COPY statements, one per chunk of ids, make one file.
    "ru-chunks-of-3": ("ru", {}, 3),
    # The filters' values go into COPY as parameters of the list's own query.
    "kk-filtered": ("kk", {"q": "конец", "theme": ["transport", "ecology"]}, 2),
}


@pytest.mark.parametrize("case", CASES)
def test_the_service_writes_the_same_csv_by_copy_and_by_python(
    awkward, strategy, analyst, monkeypatch, case
):
    language, filters, chunk = CASES[case]
    if chunk is not None:
        monkeypatch.setattr(report_copy, "CHUNK", chunk)
    used: list[str] = []
    monkeypatch.setattr(
        report_services, "write_csv_copy", _spy(report_services.write_csv_copy, "copy", used)
    )
    monkeypatch.setattr(report_writers, "write_csv", _spy(report_writers.write_csv, "python", used))

    by_copy = _build(analyst, strategy, language, filters)
    with monkeypatch.context() as python_only:
        python_only.setattr(report_services, "connection", _NotPostgres())
        by_python = _build(analyst, strategy, language, filters)
    assert used == ["copy", "python"]  # each build took the path it was meant to

    records = _records(by_copy)
    assert records[0] == list(COLUMNS)
    expected = Proposal.objects.filter(strategy=strategy)
    if filters:
        expected = expected.filter(
            search_text__contains="конец", themes__slug__in=filters["theme"]
        ).distinct()
    assert len(records) - 1 == expected.count() > 1
    assert by_copy.decode() == by_python.decode()  # a readable difference first
    assert by_copy == by_python


# --- a proposal without a code: a row between its insert and its code -------------------------


@pytest.fixture
def both_without_a_code(awkward, strategy, analyst, monkeypatch) -> tuple[bytes, bytes]:
    """The report both ways with one proposal's code NULL. The model allows it for the moment
    between the insert and the code (proposal_submit sets both in one transaction, and the
    admin shows the code read-only), so no committed row of the site has it; a row written
    some other way could."""
    Proposal.objects.filter(pk=awkward[1].pk).update(code=None)
    by_copy = _build(analyst, strategy, "ru", {})
    with monkeypatch.context() as python_only:
        python_only.setattr(report_services, "connection", _NotPostgres())
        by_python = _build(analyst, strategy, "ru", {})
    return by_copy, by_python


def test_a_proposal_without_a_code_reads_the_same_both_ways(both_without_a_code):
    by_copy, by_python = both_without_a_code
    assert _records(by_copy) == _records(by_python)
    assert [record[0] for record in _records(by_copy)[1:]].count("") == 1


def test_a_proposal_without_a_code_gives_the_same_bytes_both_ways(both_without_a_code):
    by_copy, by_python = both_without_a_code
    assert by_copy == by_python
