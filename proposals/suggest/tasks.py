"""Suggesting themes in the worker, the sweep behind it, and the periodic retrain."""

from celery import shared_task

from civic.celery import enqueue
from proposals.suggest import training
from proposals.suggest.selectors import suggestions_waiting
from proposals.suggest.services import proposal_suggestions_save


@shared_task(name="proposals.suggest_themes")
def suggest_proposal_themes(proposal_id: int) -> None:
    """Suggest themes for a submitted or edited proposal (the moderation queue shows them)."""
    proposal_suggestions_save(proposal_id=proposal_id)


@shared_task(name="proposals.suggestion_sweep")
def suggestion_sweep() -> int:
    """Periodic: suggest for pending proposals whose message was lost."""
    waiting = suggestions_waiting()
    for proposal_id in waiting:
        enqueue("proposals.suggest_themes", proposal_id)
    return len(waiting)


@shared_task(name="proposals.suggester_retrain")
def suggester_retrain() -> str | None:
    """Periodic, and after each approval: learn from the themes moderators confirmed, once
    enough are new since the last model."""
    model = training.suggester_retrain()
    return f"{model.version} active={model.active}" if model else None
