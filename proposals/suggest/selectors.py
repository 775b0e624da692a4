"""Which proposals still wait for their suggestions."""

from proposals.models import Proposal


def suggestions_waiting(*, limit: int = 500) -> list[int]:
    """Pending proposals with no suggestion yet: their message was lost."""
    return list(
        Proposal.objects.filter(status=Proposal.Status.PENDING, suggestion_version="")
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
