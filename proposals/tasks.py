"""Proposals' Celery tasks, thin: each loads ids and calls a service.

Celery's autodiscovery imports each app's `tasks` module only; the packages' own task
modules are imported here so that the worker and the in-process mode both register them.
"""

from celery import shared_task

from civic.celery import enqueue
from proposals.answers import tasks as answers_tasks  # noqa: F401
from proposals.duplicates import tasks as duplicates_tasks  # noqa: F401
from proposals.following import tasks as following_tasks  # noqa: F401
from proposals.reports import tasks as reports_tasks  # noqa: F401
from proposals.selectors import decision_emails_unsent
from proposals.services import decision_email_send
from proposals.suggest import tasks as suggest_tasks  # noqa: F401
from proposals.summary import tasks as summary_tasks  # noqa: F401
from proposals.tallies import tasks as tallies_tasks  # noqa: F401


@shared_task(name="proposals.send_decision_email")
def send_decision_email(event_id: int) -> None:
    decision_email_send(event_id=event_id)


@shared_task(name="proposals.decision_email_sweep")
def decision_email_sweep() -> int:
    """Periodic: resend decision emails whose task was lost (sent at least once)."""
    ids = decision_emails_unsent()
    for event_id in ids:
        enqueue("proposals.send_decision_email", event_id)
    return len(ids)
