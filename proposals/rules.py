"""Who may do what with proposals: every access rule of this app, in one place.

The API's permission classes and serializers, the page views, the templates and the
services all ask these rules (`civic.accounts.rules.allows`, or `{% has_perm %}` in a
template), so the API and the pages give the same answer; tests/test_permission_matrix.py
holds them to one table of role × action × state.

A permission here says *who* may act on a proposal. Whether its status allows the act
is the state machine's business (proposals.services: DECISIONS, may_edit, may_withdraw),
because the two refusals differ: "not yours" is a 403, "not now" a 409.

The queryset twin of `proposals.read_proposal` is `visible_filter` below: the lists use it
where a rule per row would not scale.
"""

from typing import Any

import rules
from django.db.models import Q

from civic.accounts.rules import (
    allows,
    is_signed_in,
    is_staff_account,
    is_verified_resident,
    may_answer,
    may_moderate,
    may_order_reports,
    sees_every_proposal,
    sees_every_report,
    sees_history,
)
from proposals.models import Proposal

Status = Proposal.Status


@rules.predicate
def is_author(user: Any, proposal: Proposal | None) -> bool:
    return proposal is not None and is_signed_in(user) and proposal.author_id == user.pk


@rules.predicate
def is_published(user: Any, proposal: Proposal | None) -> bool:
    return proposal is not None and proposal.status == Status.PUBLISHED


@rules.predicate
def is_publicly_rejected(user: Any, proposal: Proposal | None) -> bool:
    """Rejected for a reason the public may know (duplicate, off topic, not a proposal, or
    `other` where the moderator chose so); spam, insults and personal data stay hidden."""
    return (
        proposal is not None
        and proposal.status == Status.REJECTED
        and bool(proposal.rejection_public)
    )


@rules.predicate
def ordered_it(user: Any, report: Any) -> bool:
    return report is not None and is_signed_in(user) and report.ordered_by_id == user.pk


is_public = is_published | is_publicly_rejected
# The moderator's decision, reason and note: for the author, whom it answers, and the staff
# who see every proposal. Responders see only what the public sees.
sees_decision = is_author | sees_every_proposal

# --- reading a proposal, and which of its parts ------------------------------------------
# A pending, withdrawn or privately rejected proposal is a 404 to everyone else.
rules.add_perm("proposals.read_proposal", sees_every_proposal | is_public | is_author)
rules.add_perm("proposals.view_decision", sees_decision)
# Why it was rejected: public where the reason is, else for those who see the decision.
rules.add_perm("proposals.view_rejection", is_publicly_rejected | sees_decision)
# What the theme suggester thought: for the staff who decide, not for authors.
rules.add_perm("proposals.view_suggested_themes", sees_every_proposal)
# An answer saved but not yet published: those who answer, and staff who see everything.
rules.add_perm("proposals.view_draft_answer", may_answer | sees_every_proposal)

# --- residents --------------------------------------------------------------------------
rules.add_perm("proposals.submit_proposal", is_verified_resident)
rules.add_perm("proposals.edit_proposal", is_author)  # while changes are requested (409)
rules.add_perm("proposals.withdraw_proposal", is_author)  # while pending or asked to change
rules.add_perm("proposals.react", is_verified_resident)  # to published proposals (409)

# --- staff ------------------------------------------------------------------------------
# Every status in the lists and the analysts' workspace, near-duplicates, groups of copies.
rules.add_perm("proposals.view_every_proposal", sees_every_proposal)
rules.add_perm("proposals.view_near_duplicates", sees_every_proposal)
rules.add_perm("proposals.moderate", may_moderate)
rules.add_perm("proposals.view_history", sees_history)
rules.add_perm("proposals.answer", may_answer)  # published proposals only (409)
rules.add_perm("proposals.link_section", may_answer)  # an answered proposal to a new section
# Named apart from the role permission "proposals.order_report" that it reads.
rules.add_perm("proposals.order_reports", may_order_reports)
# A report is private to the analyst who ordered it; admins see every one.
rules.add_perm("proposals.read_report", may_order_reports & (ordered_it | sees_every_report))


# --- comments (proposals/comments/) -----------------------------------------------------
@rules.predicate
def wrote_comment(user: Any, comment: Any) -> bool:
    return comment is not None and is_signed_in(user) and comment.author_id == user.pk


# On published proposals only (409 otherwise, like reactions).
rules.add_perm("proposals.comment", is_verified_resident)
# Within the edit window (409 edit_window_closed after).
rules.add_perm("proposals.edit_comment", wrote_comment)
rules.add_perm("proposals.delete_comment", wrote_comment)
# Others' comments: flagging one's own says nothing a deletion would not.
rules.add_perm("proposals.flag_comment", is_verified_resident & ~wrote_comment)
rules.add_perm("proposals.moderate_comment", may_moderate)
# A hidden comment's text: for its author, who wrote it, and the moderators who decide.
rules.add_perm("proposals.read_hidden_comment", wrote_comment | may_moderate)
# Why a comment was hidden: for its author, whom it answers, and staff.
rules.add_perm("proposals.view_comment_hidden_reason", wrote_comment | is_staff_account)


class CommentVerdicts:
    """The comment rules for one reader, asked at most twice each per list.

    Every comment rule above depends on the comment only through whether this reader wrote
    it (`wrote_comment`); the rest is about the reader, and some of it costs a query
    (`is_staff_account`). Asking once per comment would make a discussion's queries grow
    with its length, on the pages and in the API alike.
    """

    def __init__(self, user: Any) -> None:
        self.user = user
        self._known: dict[tuple[str, bool], bool] = {}

    def __call__(self, perm: str, comment: Any) -> bool:
        key = (perm, comment.author_id == getattr(self.user, "pk", None))
        if key not in self._known:
            self._known[key] = allows(self.user, perm, comment)
        return self._known[key]


# --- following (proposals/following/) ---------------------------------------------------
# Anyone signed in: following asks nothing of the email address, the emails only go to a
# verified one.
rules.add_perm("proposals.follow", is_signed_in)


def visible_filter(user: Any) -> Q | None:
    """`proposals.read_proposal` as a filter on proposals; None where it is every one."""
    if sees_every_proposal(user):
        return None
    visible = Q(status=Status.PUBLISHED) | Q(status=Status.REJECTED, rejection_public=True)
    if is_signed_in(user):
        visible |= Q(author=user)
    return visible
