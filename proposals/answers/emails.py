"""The email about the city's answer to a proposal, for its author or for someone who
reacted to it.

Written from templates in the recipient's language, from the same catalogue as the pages.
It names nobody: not the recipient, not the other recipients, not the official who answered.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from civic.accounts.models import User
from civic.languages import LANGUAGE_CODES
from proposals.answers.tokens import unsubscribe_url
from proposals.labels import OUTCOME
from proposals.models import Answer, Proposal


def email_language(recipient: User, proposal: Proposal) -> str:
    """The recipient's own language; the proposal's for an account without a usable one."""
    for language in (recipient.language, proposal.language):
        if language in LANGUAGE_CODES:
            return language
    return "ru"


def answer_email(
    *, proposal: Proposal, answer: Answer, recipient: User, language: str
) -> tuple[str, str]:
    """(subject, body) about `answer` for `recipient`, the author or a reactor."""
    language = language if language in LANGUAGE_CODES else "ru"
    with translation.override(language):
        context = {
            "is_author": recipient.pk == proposal.author_id,
            "code": proposal.code,
            "title": proposal.title,
            "outcome": str(OUTCOME.get(answer.outcome, answer.outcome)),
            "text": answer.text,
            "link": f"{settings.CIVIC_SITE_URL}/{language}/proposals/{proposal.pk}/",
            "unsubscribe": unsubscribe_url(recipient, language),
        }
        subject = render_to_string("proposals/emails/answer_subject.txt", context)
        body = render_to_string("proposals/emails/answer.txt", context)
    return " ".join(subject.split()), body.strip() + "\n"
