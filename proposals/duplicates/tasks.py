"""Fingerprinting and grouping near-duplicates in the worker, and the sweep behind it."""

from celery import shared_task

from civic.celery import enqueue
from proposals.duplicates import services
from proposals.duplicates.selectors import strategies_needing_refresh


@shared_task(name="proposals.duplicates_refresh")
def duplicates_refresh(strategy_id: int, proposal_id: int | None = None) -> dict[str, object]:
    """Fingerprint a new or edited proposal (or, without one, every stale proposal of the
    strategy) and regroup the strategy's near-duplicates around it."""
    return services.duplicates_refresh(strategy_id=strategy_id, proposal_id=proposal_id).as_dict()


@shared_task(name="proposals.duplicate_sweep")
def duplicate_sweep() -> list[int]:
    """Periodic: refresh the strategies a lost message or a changed threshold left behind."""
    strategy_ids = strategies_needing_refresh()
    for strategy_id in strategy_ids:
        enqueue("proposals.duplicates_refresh", strategy_id)
    return strategy_ids
