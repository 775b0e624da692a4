"""The email an author gets when a moderator decides on their proposal.

Written from templates in the author's language, from the same catalogue as the pages.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from civic.languages import supported_language
from proposals.labels import REASON
from proposals.models import ProposalEvent


def decision_email(event: ProposalEvent, language: str) -> tuple[str, str]:
    """(subject, body) for the author of the event's proposal."""
    language = supported_language(language)
    proposal = event.proposal
    with translation.override(language):
        context = {
            "code": proposal.code,
            "title": proposal.title,
            "action": event.action,
            "reason": str(REASON.get(event.reason, event.reason)).lower(),
            "note": event.note,
            "link": f"{settings.CIVIC_SITE_URL}/{language}/me/proposals/",
        }
        subject = render_to_string("proposals/emails/decision_subject.txt", context)
        body = render_to_string("proposals/emails/decision.txt", context)
    return " ".join(subject.split()), body.strip() + "\n"
