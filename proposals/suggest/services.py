"""Writing suggestions onto proposals; training lives in training.py."""

from typing import Any

from proposals.duplicates.fingerprint import proposal_text
from proposals.models import Proposal
from proposals.suggest.training import current_suggester


def proposal_suggestions_save(*, proposal_id: int) -> list[dict[str, Any]]:
    """Suggest themes for a proposal's current text and store them beside its themes."""
    proposal = Proposal.objects.filter(pk=proposal_id).only("id", "title", "body").first()
    if proposal is None:
        return []
    suggestion = current_suggester().suggest(proposal_text(proposal.title, proposal.body))
    themes = [
        {"slug": theme.slug, "score": theme.score, "words": list(theme.words)}
        for theme in suggestion.themes
    ]
    Proposal.objects.filter(pk=proposal_id).update(
        suggested_themes=themes, suggestion_version=suggestion.version
    )
    return themes
