"""What the proposals app keeps about a person, for "download my data" and "delete my
account" (registered with civic.accounts.personal_data in ProposalsConfig.ready())."""

from typing import Any

from django.db import transaction

from civic.accounts.models import User
from proposals.models import (
    AnswerNotice,
    Comment,
    CommentFlag,
    Follow,
    Notification,
    NotificationDigest,
    Proposal,
    ProposalEvent,
    Reaction,
)
from proposals.services import reactions_erase


def _at(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def proposals_export(user: User) -> dict[str, Any]:
    """The person's proposals, their reactions, the events about their proposals, the
    emails sent to them about answers, their comments, the flags they raised, what they
    follow and their notifications. Other people appear by display name only, the
    way the pages show them: never their addresses."""
    proposals = (
        Proposal.objects.filter(author=user)
        .select_related("strategy", "section", "district", "answer", "duplicate_of")
        .prefetch_related("themes")
        .order_by("created_at", "id")
    )
    events = (
        ProposalEvent.objects.filter(proposal__author=user)
        .select_related("proposal", "actor")
        .order_by("at", "id")
    )
    reactions = Reaction.objects.filter(user=user).select_related("proposal").order_by("id")
    notices = AnswerNotice.objects.filter(user=user).select_related("proposal").order_by("id")
    comments = (
        Comment.objects.filter(author=user)
        .select_related("proposal", "section__strategy")
        .order_by("id")
    )
    flags = CommentFlag.objects.filter(user=user).order_by("id")
    return {
        "proposals": [_proposal(p) for p in proposals],
        "events": [_event(e) for e in events],
        "reactions": [
            {
                "proposal": r.proposal.code,
                "kind": r.kind,
                "created_at": _at(r.created_at),
                "updated_at": _at(r.updated_at),
            }
            for r in reactions
        ],
        "answer_emails": [
            {
                "proposal": n.proposal.code,
                "claimed_at": _at(n.created_at),
                "sent_at": _at(n.sent_at),
            }
            for n in notices
        ],
        "comments": [
            {
                "id": c.pk,
                # A comment is on a proposal (its code) or on a section of a strategy.
                "proposal": c.proposal.code if c.proposal_id else None,
                "section": (
                    {"strategy": c.section.strategy.slug, "code": c.section.code}
                    if c.section_id
                    else None
                ),
                "parent": c.parent_id,
                "body": c.body,
                "created_at": _at(c.created_at),
                "edited_at": _at(c.edited_at),
                "deleted_at": _at(c.deleted_at),
                "hidden_reason": c.hidden_reason or None,
            }
            for c in comments
        ],
        "comment_flags": [
            {"comment": f.comment_id, "reason": f.reason, "created_at": _at(f.created_at)}
            for f in flags
        ],
        "follows": [
            {
                "proposal": f.proposal.code if f.proposal_id else None,
                "section": (
                    {"strategy": f.section.strategy.slug, "code": f.section.code}
                    if f.section_id
                    else None
                ),
                "strategy": f.strategy.slug if f.strategy_id else None,
                "following": f.active,
                "automatic": f.automatic,
                "created_at": _at(f.created_at),
            }
            for f in Follow.objects.filter(user=user)
            .select_related("proposal", "section__strategy", "strategy")
            .order_by("id")
        ],
        # The notifications say what happened, not who did it: the kind and what it is about.
        "notifications": [
            {
                "kind": kind,
                "proposal": code,
                "status": status,
                "created_at": _at(created_at),
                "read_at": _at(read_at),
                "emailed_at": _at(emailed_at),
            }
            for kind, code, status, created_at, read_at, emailed_at in Notification.objects.filter(
                user=user
            )
            .order_by("id")
            .values_list("kind", "proposal__code", "status", "created_at", "read_at", "emailed_at")
        ],
    }


def _proposal(proposal: Proposal) -> dict[str, Any]:
    answer = getattr(proposal, "answer", None)
    return {
        "id": proposal.pk,
        "code": proposal.code,
        "strategy": proposal.strategy.slug,
        "section": proposal.section.code if proposal.section_id else None,
        "title": proposal.title,
        "body": proposal.body,
        "language": proposal.language,
        "district": proposal.district.slug if proposal.district_id else None,
        "themes": sorted(t.slug for t in proposal.themes.all()),
        "themes_chosen": proposal.author_themes,
        "status": proposal.status,
        "duplicate_of": proposal.duplicate_of.code if proposal.duplicate_of_id else None,
        "created_at": _at(proposal.created_at),
        "updated_at": _at(proposal.updated_at),
        "published_at": _at(proposal.published_at),
        # Only the answer the public sees: a draft is the city's work in progress.
        "answer": {
            "outcome": answer.outcome,
            "text": answer.text,
            "answered_at": _at(answer.answered_at),
        }
        if answer is not None and answer.published
        else None,
    }


def _event(event: ProposalEvent) -> dict[str, Any]:
    # An answer's history row carries the responders' drafts; the published answer is
    # under its proposal above.
    is_answer = event.action == ProposalEvent.Action.ANSWER
    return {
        "proposal": event.proposal.code,
        "at": _at(event.at),
        "action": event.action,
        "actor": event.actor.display_name if event.actor_id else None,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "reason": event.reason,
        "note": None if is_answer else event.note,
        "changes": None if is_answer else event.changes,
    }


@transaction.atomic
def proposals_erase(user: User) -> None:
    """The person's reactions go, and the proposals' kept totals are recounted and every
    tally they counted in is marked for a rebuild in the same transaction, so both stay
    equal to the rows. Their proposals and comments stay (as by a former resident); the
    record of answer emails sent to them, the flags they raised, what they followed and
    their notifications go."""
    reactions_erase(user=user)
    AnswerNotice.objects.filter(user=user).delete()
    # Their comments stay in the discussions they belong to, as by a former resident, like
    # their proposals; the flags they raised on others' comments go.
    CommentFlag.objects.filter(user=user).delete()
    # What they followed and what they were told of is about them alone.
    Follow.objects.filter(user=user).delete()
    Notification.objects.filter(user=user).delete()
    NotificationDigest.objects.filter(user=user).delete()


def reactions_erase_on_delete(sender: object, *, instance: User, **kwargs: object) -> None:
    """Receiver of pre_delete for accounts: an account removed outright (the admin's
    delete) would take its reactions with it by cascade, behind the kept totals' back;
    they go first here, in the deletion's transaction, with the totals recounted."""
    reactions_erase(user=instance)
