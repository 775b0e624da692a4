import logging
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from civic.celery import enqueue
from proposals.emails import decision_email
from proposals.models import ProposalEvent
from proposals.services import decision_mark_notified
from proposals.tallies import tally_dirty_strategy_ids, tally_rebuild, tally_schedule_refresh

logger = logging.getLogger(__name__)


@shared_task(name="proposals.tally_refresh")
def tally_refresh(strategy_id: int) -> None:
    """Bring one strategy's tally up to date; a no-op when it already is."""
    from proposals.models import Tally

    tally = Tally.objects.filter(strategy_id=strategy_id).first()
    if tally is not None and not tally.is_dirty and tally.generated_at is not None:
        return
    tally = tally_rebuild(strategy_id=strategy_id)
    if tally is not None and tally.is_dirty and not tally_refresh.app.conf.task_always_eager:
        # Changes landed while we counted: go round once more.
        tally_schedule_refresh(strategy_id)


@shared_task(name="proposals.tally_sweep")
def tally_sweep() -> list[int]:
    """Periodic (Celery beat): refresh every snapshot a lost message left behind."""
    strategy_ids = tally_dirty_strategy_ids(max_age_seconds=settings.CIVIC_TALLY_MAX_AGE_SECONDS)
    for strategy_id in strategy_ids:
        tally_schedule_refresh(strategy_id)
    return strategy_ids


@shared_task(name="proposals.send_decision_email")
def send_decision_email(event_id: int) -> None:
    event = (
        ProposalEvent.objects.select_related("proposal", "proposal__author")
        .filter(pk=event_id, notified_at__isnull=True)
        .first()
    )
    if event is None:
        return
    author = event.proposal.author
    if not author.is_active:
        # A deleted (or closed) account: its placeholder address must never be written to.
        decision_mark_notified(event_id=event.pk)
        return
    subject, body = decision_email(event, author.language or event.proposal.language)
    send_mail(subject=subject, message=body, from_email=None, recipient_list=[author.email])
    decision_mark_notified(event_id=event.pk)


@shared_task(name="proposals.decision_email_sweep")
def decision_email_sweep() -> int:
    """Periodic: resend decision emails whose task was lost (sent at least once)."""
    now = timezone.now()
    ids = list(
        ProposalEvent.objects.filter(
            action__in=ProposalEvent.DECISIONS,
            notified_at__isnull=True,
            # Old enough that the first task had its chance; after two days an email
            # that still fails is given up, so it cannot block newer ones forever.
            at__lt=now - timedelta(seconds=settings.CIVIC_EMAIL_SWEEP_AFTER_SECONDS),
            at__gt=now - timedelta(days=2),
        )
        .order_by("-at")
        .values_list("id", flat=True)[:500]
    )
    for event_id in ids:
        enqueue(send_decision_email, event_id)
    return len(ids)


@shared_task(
    name="proposals.report_build",
    soft_time_limit=settings.CIVIC_REPORT_TIME_LIMIT,
    time_limit=settings.CIVIC_REPORT_TIME_LIMIT + 60,
)
def report_build(report_id: int) -> None:
    """Build one report's file. A redelivered message finds the report claimed or done
    and returns; a failure leaves the report `failed` with a reason an analyst can read."""
    from proposals.reports.services import report_build_file, report_fail, report_start

    attempt = report_start(report_id=report_id)
    if attempt is None:
        return
    try:
        report_build_file(report_id=report_id, attempt=attempt)
    except SoftTimeLimitExceeded:
        report_fail(
            report_id=report_id,
            attempt=attempt,
            error=f"The build took longer than {settings.CIVIC_REPORT_TIME_LIMIT} seconds.",
        )
    except Exception as exc:
        logger.exception("report %s failed", report_id)
        report_fail(
            report_id=report_id,
            attempt=attempt,
            error=f"The report could not be built: {type(exc).__name__}: {exc}",
        )


@shared_task(name="proposals.report_sweep")
def report_sweep() -> dict[str, int]:
    """Periodic: requeue reports whose message was lost or whose worker died."""
    from proposals.reports.services import report_sweep as sweep

    return sweep()


@shared_task(name="proposals.report_expire")
def report_expire() -> int:
    """Periodic: remove report files past their retention period."""
    from proposals.reports.services import report_expire as expire

    return expire()


@shared_task(name="proposals.suggest_themes")
def suggest_proposal_themes(proposal_id: int) -> None:
    """Suggest themes for a submitted or edited proposal (the moderation queue shows them)."""
    from proposals.services import proposal_suggestions_save

    proposal_suggestions_save(proposal_id=proposal_id)


@shared_task(name="proposals.suggestion_sweep")
def suggestion_sweep() -> int:
    """Periodic: suggest for pending proposals whose message was lost."""
    from proposals.models import Proposal

    waiting = Proposal.objects.filter(
        status=Proposal.Status.PENDING, suggestion_version=""
    ).values_list("pk", flat=True)[:500]
    for proposal_id in waiting:
        enqueue(suggest_proposal_themes, proposal_id)
    return len(waiting)


@shared_task(name="proposals.duplicates_refresh")
def duplicates_refresh(strategy_id: int, proposal_id: int | None = None) -> dict[str, object]:
    """Fingerprint a new or edited proposal (or, without one, every stale proposal of the
    strategy) and regroup the strategy's near-duplicates around it."""
    from proposals.duplicates.services import duplicates_refresh as refresh

    return refresh(strategy_id=strategy_id, proposal_id=proposal_id).as_dict()


@shared_task(name="proposals.duplicate_sweep")
def duplicate_sweep() -> list[int]:
    """Periodic: refresh the strategies a lost message or a changed threshold left behind."""
    from proposals.duplicates.selectors import strategies_needing_refresh

    strategy_ids = strategies_needing_refresh()
    for strategy_id in strategy_ids:
        enqueue(duplicates_refresh, strategy_id)
    return strategy_ids


@shared_task(name="proposals.suggester_retrain")
def suggester_retrain() -> str | None:
    """Periodic, and after each approval: learn from the themes moderators confirmed, once
    enough are new since the last model."""
    from proposals.suggest.training import suggester_retrain as retrain

    model = retrain()
    return f"{model.version} active={model.active}" if model else None
