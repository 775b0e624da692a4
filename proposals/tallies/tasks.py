"""The tally refresh and the periodic sweep that catches what a lost message missed."""

from celery import shared_task
from django.conf import settings

from proposals.tallies.selectors import tally_dirty_strategy_ids
from proposals.tallies.services import tally_schedule_refresh, tally_update


@shared_task(name="proposals.tally_refresh")
def tally_refresh(strategy_id: int) -> None:
    """Bring one strategy's tally up to date; a no-op when it already is."""
    tally = tally_update(strategy_id=strategy_id)
    if tally is not None and tally.is_dirty:
        # Changes landed while we counted: go round once more.
        tally_schedule_refresh(strategy_id)


@shared_task(name="proposals.tally_sweep")
def tally_sweep() -> list[int]:
    """Periodic (Celery beat): refresh every snapshot a lost message left behind."""
    strategy_ids = tally_dirty_strategy_ids(max_age_seconds=settings.CIVIC_TALLY_MAX_AGE_SECONDS)
    for strategy_id in strategy_ids:
        tally_schedule_refresh(strategy_id)
    return strategy_ids
