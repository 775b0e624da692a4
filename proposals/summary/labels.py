"""What people read for the outcomes of the city's answers, in the reader's language.

The outcome names have one definition, in proposals/labels.py beside the statuses and
reasons; the summary's pages and files take them from here with `describe`.
"""

from django.utils.translation import gettext

from proposals.labels import OUTCOME, REASON, STATUS
from proposals.models import Proposal

__all__ = ["OUTCOME", "describe"]


def describe(row: dict) -> str:
    """A summary row's outcome as a reader says it, in the active language: the outcome,
    "awaiting the city's answer", or the public rejection and its reason."""
    if row["status"] == Proposal.Status.REJECTED:
        rejected = str(STATUS[Proposal.Status.REJECTED])
        reason = REASON.get(row["rejection_reason"])
        return f"{rejected}: {reason}" if reason else rejected
    if row["outcome"]:
        return str(OUTCOME.get(row["outcome"], row["outcome"]))
    return gettext("Awaiting the city's answer")
