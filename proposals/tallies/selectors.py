"""Reading tally snapshots: as the API serves them (cached JSON), and which are behind."""

import json
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F, Q
from django.utils import timezone

from proposals.models import Answer, Proposal, Reaction, Tally
from strategy.models import Strategy
from strategy.selectors import strategy_get_public

Status = Proposal.Status


def tally_cache_key(slug: str) -> str:
    return f"civic:tally:json:{slug}"


def tally_render(strategy: Strategy, tally: Tally | None) -> bytes:
    data = (tally.data if tally is not None else None) or tally_compute_empty()
    body = {
        "strategy": strategy.slug,
        # In the site's time zone, like every other timestamp the API returns.
        "generated_at": timezone.localtime(tally.generated_at)
        if tally is not None and tally.generated_at
        else None,
        **data,
    }
    return json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False).encode()


def tally_compute_empty() -> dict[str, Any]:
    return {
        "totals": {"received": 0, **dict.fromkeys(Status.values, 0)},
        "by_theme": [],
        "by_section": [],
        "by_district": [],
        "by_language": [],
        "by_day": [],
        "reactions": dict.fromkeys(Reaction.Kind.values, 0),
        "top_proposals": [],
        "answers": {
            "answered": 0,
            "unanswered": 0,
            "overdue": 0,
            "median_days_to_answer": None,
            "by_outcome": dict.fromkeys(Answer.Outcome.values, 0),
            "deadline_days": None,
            "support_threshold": None,
            "by_theme": [],
            "by_section": [],
            "by_district": [],
        },
        "comments": {"total": 0, "by_theme": [], "by_section": []},
        "most_discussed": [],
    }


def tally_dirty_strategy_ids(*, max_age_seconds: int) -> list[int]:
    """Strategies whose snapshot is behind its rows, or older than `max_age_seconds`."""
    stale_before = timezone.now() - timedelta(seconds=max_age_seconds)
    missing = Strategy.objects.filter(tally__isnull=True).exclude(status=Strategy.Status.DRAFT)
    behind = Tally.objects.filter(
        Q(dirty_version__gt=F("built_version"))
        | Q(generated_at__isnull=True)
        | Q(generated_at__lt=stale_before)
    )
    return sorted(
        set(missing.values_list("id", flat=True))
        | set(behind.values_list("strategy_id", flat=True))
    )


# slug -> (when read, JSON body): each web process keeps the snapshots it served
# for CIVIC_TALLY_LOCAL_SECONDS, so most tally requests touch neither Redis nor
# the database. Only strategies that exist are kept, so it cannot grow unbounded.
_tally_memo: dict[str, tuple[float, bytes]] = {}


def tally_json(*, slug: str) -> bytes | None:
    """The public tally snapshot of a strategy as JSON, or None if it is not public."""
    now = time.monotonic()
    memo = _tally_memo.get(slug)
    if memo is not None and now - memo[0] < settings.CIVIC_TALLY_LOCAL_SECONDS:
        return memo[1]
    body = cache.get(tally_cache_key(slug))
    if body is None:
        strategy = strategy_get_public(slug=slug)
        if strategy is None:
            _tally_memo.pop(slug, None)
            return None
        tally = Tally.objects.filter(strategy=strategy).first()
        body = tally_render(strategy, tally)
        if tally is not None and tally.generated_at is not None:
            # add, not set: a rebuild that finished since the row was read has already
            # cached a newer snapshot, which this older one must not replace.
            cache.add(tally_cache_key(slug), body, timeout=None)
    _tally_memo[slug] = (now, body)
    return body


def tally_memo_forget(slug: str) -> None:
    _tally_memo.pop(slug, None)


def tally_data(*, slug: str) -> dict[str, Any] | None:
    """The tally snapshot as a dict, for the pages; read like the API reads it."""
    body = tally_json(slug=slug)
    return None if body is None else json.loads(body)
