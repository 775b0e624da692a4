"""Emails about a published answer: to the proposal's author and to everyone who reacted
to it, once each, in each person's language.

The once-each guarantee lives in the database: an `AnswerNotice` row per (proposal,
person) is claimed under a unique constraint before any email goes out, and its
`sent_at` is set only after the email went. A task that runs twice, or a sweep that
re-runs it, finds the rows claimed and sends only what is still unsent; a failed email
leaves its row unsent for the sweep. `Answer.notified_at` closes the answer once every
claimed row is sent, so a later edit of the answer sends nothing.
"""

import logging

from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from civic.accounts.models import User
from proposals.answers.emails import answer_email, email_language
from proposals.answers.tokens import (
    unsubscribe_token,
    unsubscribe_url,
    unsubscribe_user_from_token,
)
from proposals.models import Answer, AnswerNotice, Follow, Proposal

# The token helpers are part of this module's interface for the pages.
__all__ = [
    "answer_notify",
    "answer_recipients",
    "unsubscribe_token",
    "unsubscribe_url",
    "unsubscribe_user_from_token",
]

logger = logging.getLogger(__name__)


def _wants_answer_emails() -> Q:
    # One rule for everyone, the author included: an active account with an address
    # that has not turned these emails off (the author's own link turns them off too).
    return Q(is_active=True, notify_answers=True) & ~Q(email="")


def answer_recipients(*, proposal: Proposal) -> list[User]:
    """The author, everyone who reacted to `proposal` and its followers, each once, who
    want answer emails (active accounts with `notify_answers` on), ordered by id."""
    stopped = Follow.objects.filter(user=OuterRef("pk"), proposal=proposal, active=False)
    return list(
        User.objects.filter(
            Q(pk=proposal.author_id)
            | Q(reactions__proposal=proposal)
            | Q(follows__proposal=proposal, follows__active=True),
            _wants_answer_emails(),
        )
        # Whoever stopped following the proposal hears no more of it, reactors included.
        .exclude(Exists(stopped))
        .distinct()
        .order_by("pk")
    )


def _send_notice(notice_id: int, answer: Answer) -> bool:
    """Send one claimed email, unless another worker holds it or has sent it.

    The row stays locked while the email goes out, so two runs at once cannot both send
    it; `sent_at` commits only after the email went. Returns whether this call sent it.
    """
    with transaction.atomic():
        notice = (
            AnswerNotice.objects.select_for_update(skip_locked=True)
            .select_related("user")
            .filter(pk=notice_id, sent_at__isnull=True)
            .first()
        )
        if notice is None:
            return False
        recipient = notice.user
        proposal = answer.proposal
        language = email_language(recipient, proposal)
        subject, body = answer_email(
            proposal=proposal, answer=answer, recipient=recipient, language=language
        )
        link = unsubscribe_url(recipient, language)
        EmailMessage(
            subject=subject,
            body=body,
            to=[recipient.email],
            headers={
                # RFC 2369 and RFC 8058: mail clients show an unsubscribe button that
                # POSTs "List-Unsubscribe=One-Click" to the link.
                "List-Unsubscribe": f"<{link}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        ).send()
        notice.sent_at = timezone.now()
        notice.save(update_fields=["sent_at"])
    return True


def answer_notify(*, proposal_id: int) -> int:
    """Email everyone concerned about the proposal's published answer, once each.

    A no-op for an answer that is unpublished or already notified. Returns the number
    of emails this call sent.
    """
    answer = (
        Answer.objects.select_related("proposal")
        .filter(proposal_id=proposal_id, published=True, notified_at__isnull=True)
        .first()
    )
    if answer is None:
        return 0
    proposal = answer.proposal
    AnswerNotice.objects.bulk_create(
        [
            AnswerNotice(proposal=proposal, user=user)
            for user in answer_recipients(proposal=proposal)
        ],
        ignore_conflicts=True,
    )
    # Someone who turned the emails off (or closed the account) after their row was
    # claimed is not written to; their row goes, so it does not hold the answer open.
    AnswerNotice.objects.filter(proposal=proposal, sent_at__isnull=True).exclude(
        user__in=User.objects.filter(_wants_answer_emails())
    ).delete()
    sent = 0
    unsent = AnswerNotice.objects.filter(proposal=proposal, sent_at__isnull=True)
    for notice_id in unsent.order_by("pk").values_list("pk", flat=True):
        try:
            sent += _send_notice(notice_id, answer)
        except Exception:
            # One address the mail server refuses must not stop the others; the row
            # stays unsent and the sweep tries it again.
            logger.exception("answer email %s of proposal %s failed", notice_id, proposal_id)
    if not unsent.exists():
        Answer.objects.filter(pk=answer.pk, notified_at__isnull=True).update(
            notified_at=timezone.now()
        )
    return sent
