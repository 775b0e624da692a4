"""Pages of the proposal list that cost the same at the millionth row as at the first.

Two steps, whichever way the page is asked for: the page's ids from the filtered,
ordered set (an index scan yields them without reading the rows), then the rows of just
those ids (proposals.listing). The count is exact while that is cheap and an estimate,
labelled `count_is_estimate`, beyond.

`?page=N` is the contract's pagination; `?cursor=` walks the same order by the last row's
sort key instead of an offset, so the 50,000th page costs what the first does.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.core.paginator import Page as DjangoPage
from django.db import OperationalError, connection, transaction
from django.db.models import BooleanField, QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param

from civic.errors import InvalidInput
from civic.pagination import PageNumberPagination
from civic.sql import RowSQL
from proposals.filters import ORDER_COLUMNS, RELEVANCE
from proposals.models import Proposal

# Up to this many rows the count is exact; past it, PostgreSQL's planner estimate.
EXACT_COUNT_UP_TO = 1_000
# How far the planner's guess may be over EXACT_COUNT_UP_TO and the set still be counted:
# guesses can be far off (5,207 for a word three proposals of a million hold; thousands
# for a small table whose statistics are out of date), and the time limit bounds a try.
ESTIMATE_SLACK = 100
# An exact count that takes longer than this gives way to the estimate.
COUNT_TIMEOUT_MS = 15
MAX_PAGE = 10_000_000
MAX_CURSOR = 300
# PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout.
QUERY_CANCELED = "57014"


@dataclass(frozen=True)
class Page:
    ids: list[int]
    count: int
    count_is_estimate: bool
    next: str | None
    previous: str | None


def _planner_rows(sql: str, params: Any) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):  # psycopg parses json; other drivers may not
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def list_count(queryset: QuerySet[Proposal]) -> tuple[int, bool]:
    """(count, whether it is an estimate) of a filtered list.

    On PostgreSQL a COUNT(*) over a million rows takes longer than the page itself, so
    the planner's estimate is asked first. A set it does not expect to be large is
    counted, up to one past EXACT_COUNT_UP_TO, but under a time limit: a filter no index
    answers (theme and district, say) can need a scan of the whole table even to count a
    few rows, and then the estimate stands.
    SQLite, the default for small installations, counts.
    """
    ids = queryset.order_by().values("pk")
    if connection.vendor != "postgresql":
        return ids.count(), False
    try:
        sql, params = ids.query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing, such as a search of no words
        return 0, False
    estimate = _planner_rows(sql, params)
    if estimate > EXACT_COUNT_UP_TO * ESTIMATE_SLACK:
        return estimate, True
    capped_sql, capped_params = ids[: EXACT_COUNT_UP_TO + 1].query.sql_with_params()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {COUNT_TIMEOUT_MS}")
            # Django's own SQL for the capped id set, its values as parameters.
            capped = f"SELECT count(*) FROM ({capped_sql}) AS capped"  # noqa: S608
            cursor.execute(capped, capped_params)
            counted = cursor.fetchone()[0]
            # SET LOCAL outlives a released savepoint: inside a caller's transaction
            # the limit would otherwise hold for the rest of it.
            cursor.execute("SET LOCAL statement_timeout TO DEFAULT")
    except OperationalError as error:
        # Only the time limit (query_canceled) gives way to the estimate; a lost
        # connection or the like is an error of the request like any other.
        if getattr(error.__cause__, "sqlstate", None) != QUERY_CANCELED:
            raise
        return max(estimate, 1), True
    if counted > EXACT_COUNT_UP_TO:
        return max(estimate, counted), True
    return counted, False


def _page_size(request: Request) -> int:
    paginator = PageNumberPagination()
    return paginator.get_page_size(request) or paginator.page_size


def _ids(queryset: QuerySet[Proposal], start: int, stop: int) -> list[int]:
    # Only the ids: the joins and prefetches of the full rows are left to the second step.
    return list(queryset.prefetch_related(None).values_list("pk", flat=True)[start:stop])


def page_by_number(*, queryset: QuerySet[Proposal], request: Request) -> Page:
    size = _page_size(request)
    raw = request.query_params.get("page", "1")
    if raw == "last":  # as DRF's paginator allows; by the estimate where the count is one
        count, _ = list_count(queryset)
        raw = str(max(1, -(-count // size)))
    # ASCII digits only ("²" is a digit to str.isdigit); past MAX_PAGE no list has rows,
    # and the offset would overflow the database's integer.
    number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else 0
    if not 1 <= number <= MAX_PAGE:
        raise NotFound("Invalid page.")
    start = (number - 1) * size
    # One row more than the page says whether there is a next one without the count.
    ids = _ids(queryset, start, start + size + 1)
    if not ids and number > 1:
        raise NotFound("Invalid page.")
    count, estimate = list_count(queryset)
    url = request.build_absolute_uri()
    previous = None
    if number > 1:
        previous = (
            replace_query_param(url, "page", number - 1)
            if number > 2
            else remove_query_param(url, "page")
        )
    return Page(
        ids=ids[:size],
        count=count,
        count_is_estimate=estimate,
        next=replace_query_param(url, "page", number + 1) if len(ids) > size else None,
        previous=previous,
    )


class _ListPage(DjangoPage):
    """A page that knows from its own ids whether another follows, whatever the count says."""

    def __init__(self, rows: list[Proposal], number: int, paginator: "ListPaginator", more: bool):
        super().__init__(rows, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more


class ListPaginator(Paginator):
    """Django's paginator for the proposal list pages, on the same two steps: the count
    of `list_count` (so `count_is_estimate` says when it is the planner's estimate), and a
    page's ids before its rows.

    Where the count is an estimate it may be short (the planner's guess, or the time limit's
    stand-in), so it bounds nothing: a page is as deep as the rows go, one id past the page
    says whether there is a next, and "of N" pages never says fewer than the page reached.
    """

    @cached_property
    def _counted(self) -> tuple[int, bool]:
        return list_count(self.object_list)

    @cached_property
    def count(self) -> int:
        return self._counted[0]

    @property
    def count_is_estimate(self) -> bool:
        return self._counted[1]

    @property
    def num_pages(self) -> int:
        counted = super().num_pages
        return max(counted, getattr(self, "_reached", 0)) if self.count_is_estimate else counted

    def validate_number(self, number: Any) -> int:
        if not self.count_is_estimate:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError) as error:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from error
        if not 1 <= number <= MAX_PAGE:
            raise EmptyPage(self.error_messages["no_results"])
        return number

    def page(self, number: Any) -> DjangoPage:
        number = self.validate_number(number)
        start = (number - 1) * self.per_page
        ids = _ids(self.object_list, start, start + self.per_page + 1)
        more = len(ids) > self.per_page
        ids = ids[: self.per_page]
        # Past the rows' end an estimated list shows an empty page with its way back.
        self._reached = number + (1 if more else 0)
        rows = {row.pk: row for row in self.object_list.filter(pk__in=ids)}
        return _ListPage([rows[pk] for pk in ids if pk in rows], number, self, more)


def _encode(cursor: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(cursor, separators=(",", ":")).encode()).decode()


def _decode(raw: str, ordering: str) -> dict[str, Any]:
    bad = InvalidInput("Invalid cursor.", errors={"cursor": ["Invalid cursor."]})
    # The cursors this module writes are short; a long one is not one of them (and a
    # deeply nested JSON would exhaust the parser's recursion).
    if len(raw) > MAX_CURSOR:
        raise bad
    try:
        cursor = json.loads(base64.urlsafe_b64decode(raw.encode() + b"=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise bad from None
    if not isinstance(cursor, dict) or cursor.get("o") != ordering:
        raise bad
    if ordering == RELEVANCE:
        if not _whole(cursor.get("n")):
            raise bad
        return cursor
    key = cursor.get("k")
    columns = ORDER_COLUMNS[ordering]
    if not isinstance(key, list) or len(key) != len(columns) or cursor.get("d") not in ("n", "p"):
        raise bad
    try:
        cursor["k"] = [
            _from_json(column, value) for column, value in zip(columns, key, strict=True)
        ]
    except (TypeError, ValueError, OverflowError):
        raise bad from None
    return cursor


def _whole(value: Any) -> bool:
    """A JSON integer the database's bigint holds, not negative."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


def _from_json(column: str, value: Any) -> Any:
    if column.lstrip("-") == "created_at":
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("a naive datetime")
        # In UTC, as stored: a moment that has none (year 1 east of Greenwich) fails here
        # on every engine, not in SQLite's adapter alone.
        return connection.ops.adapt_datetimefield_value(moment.astimezone(UTC))
    if not _whole(value):
        raise TypeError("not a whole number a column holds")
    return value


def _key(row: dict[str, Any], columns: tuple[str, ...]) -> list[Any]:
    values = []
    for column in columns:
        value = row[column.lstrip("-")]
        values.append(value.isoformat() if isinstance(value, datetime) else value)
    return values


def _after(columns: tuple[str, ...], key: list[Any], *, backwards: bool) -> RowSQL:
    """Rows past `key` in the order of `columns` (all one direction), as one row-value
    comparison, which an index on those columns answers with a range scan."""
    descending = columns[0].startswith("-")
    operator = "<" if descending != backwards else ">"
    names = ", ".join("{row}." + column.lstrip("-") for column in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    # Column names are constants; the key's values go in as parameters.
    return RowSQL(f"({names}) {operator} ({placeholders})", key, output_field=BooleanField())


def page_by_cursor(*, queryset: QuerySet[Proposal], request: Request, ordering: str) -> Page:
    size = _page_size(request)
    raw = request.query_params.get("cursor", "")
    url = request.build_absolute_uri()
    count, estimate = list_count(queryset)
    if ordering == RELEVANCE:
        # Ranks are computed per query, so relevance walks by position; search results
        # are short lists, where an offset costs nothing.
        start = _decode(raw, ordering)["n"] if raw else 0
        ids = _ids(queryset, start, start + size + 1)
        link = {"o": ordering}
        return Page(
            ids=ids[:size],
            count=count,
            count_is_estimate=estimate,
            next=replace_query_param(url, "cursor", _encode({**link, "n": start + size}))
            if len(ids) > size
            else None,
            previous=replace_query_param(
                url, "cursor", _encode({**link, "n": max(0, start - size)})
            )
            if start > 0
            else None,
        )
    columns = ORDER_COLUMNS[ordering]
    fields = [column.lstrip("-") for column in columns]
    queryset = queryset.order_by(*columns)
    backwards = False
    if raw:
        cursor = _decode(raw, ordering)
        backwards = cursor["d"] == "p"
        queryset = queryset.filter(_after(columns, cursor["k"], backwards=backwards))
    if backwards:
        queryset = queryset.reverse()
    rows = list(queryset.prefetch_related(None).values(*fields)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    has_next = more if not backwards else True
    has_previous = bool(raw) and (more if backwards else True)
    return Page(
        ids=[row["id"] for row in rows],
        count=count,
        count_is_estimate=estimate,
        next=replace_query_param(
            url, "cursor", _encode({"o": ordering, "d": "n", "k": _key(rows[-1], columns)})
        )
        if rows and has_next
        else None,
        previous=replace_query_param(
            url, "cursor", _encode({"o": ordering, "d": "p", "k": _key(rows[0], columns)})
        )
        if rows and has_previous
        else None,
    )
