"""What people read for the codes of proposals: statuses, decisions, reasons, reactions.

Used by the pages and by the emails sent to authors, in the reader's language.
"""

from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from proposals.models import Answer, Proposal, ProposalEvent, Reaction
from strategy.models import Section

STATUS = {
    Proposal.Status.PENDING: _("Pending"),
    Proposal.Status.PUBLISHED: _("Published"),
    Proposal.Status.REJECTED: _("Rejected"),
    Proposal.Status.CHANGES_REQUESTED: _("Changes requested"),
    Proposal.Status.WITHDRAWN: _("Withdrawn"),
}

ACTION = {
    ProposalEvent.Action.SUBMIT: _("Submitted"),
    ProposalEvent.Action.EDIT: _("Edited by the author"),
    ProposalEvent.Action.WITHDRAW: _("Withdrawn by the author"),
    ProposalEvent.Action.APPROVE: _("Approved"),
    ProposalEvent.Action.REJECT: _("Rejected"),
    ProposalEvent.Action.REQUEST_CHANGES: _("Changes requested"),
    ProposalEvent.Action.ANSWER: _("The city's answer"),
}

# The outcomes of the city's answer, as Kazakhstan's summary tables of public discussions
# name them.
OUTCOME = {
    Answer.Outcome.ACCEPTED: _("Accepted"),
    Answer.Outcome.ACCEPTED_IN_PART: _("Accepted in part"),
    Answer.Outcome.ALREADY_PLANNED: _("Already planned"),
    Answer.Outcome.NOT_ACCEPTED: _("Not accepted"),
    Answer.Outcome.OUT_OF_SCOPE: _("Out of scope"),
}

REASON = {
    ProposalEvent.Reason.SPAM: _("Spam"),
    ProposalEvent.Reason.OFFENSIVE: _("Offensive"),
    ProposalEvent.Reason.OFF_TOPIC: _("Off topic"),
    ProposalEvent.Reason.DUPLICATE: _("Duplicate of another proposal"),
    ProposalEvent.Reason.PERSONAL_DATA: _("Contains personal data"),
    ProposalEvent.Reason.NOT_A_PROPOSAL: _("Not a proposal"),
    ProposalEvent.Reason.OTHER: _("Other"),
}

# The five reactions keep the names residents know them by (docs/glossary.md).
REACTION = {
    Reaction.Kind.LIKE: pgettext_lazy("reaction", "Like"),
    Reaction.Kind.INDIFFERENT: pgettext_lazy("reaction", "I don't care"),
    Reaction.Kind.FUNNY: pgettext_lazy("reaction", "Funny"),
    Reaction.Kind.SYMPATHY: pgettext_lazy("reaction", "Sympathy"),
    Reaction.Kind.OUTRAGE: pgettext_lazy("reaction", "Outrageous"),
}


def section_label(section: Section | None) -> str:
    """ "1.2. Title" in the active language, or the whole document for no section."""
    return f"{section.code}. {section.title}" if section else gettext("The whole document")
