"""The email an author gets when a moderator decides on their proposal.

Short texts in the three languages, chosen by the author's language. The pages
issue moves them into the gettext catalogue with the rest of the interface.
"""

from proposals.models import ProposalEvent

_SUBJECT = {
    "ru": "Решение по вашему предложению {code}",
    "kk": "{code} ұсынысыңыз бойынша шешім",
    "en": "A decision on your proposal {code}",
}
_OUTCOME = {
    "approve": {
        "ru": "Ваше предложение «{title}» опубликовано.",
        "kk": "«{title}» ұсынысыңыз жарияланды.",
        "en": "Your proposal “{title}” has been published.",
    },
    "reject": {
        "ru": "Ваше предложение «{title}» отклонено. Причина: {reason}.",
        "kk": "«{title}» ұсынысыңыз қабылданбады. Себебі: {reason}.",
        "en": "Your proposal “{title}” has been rejected. Reason: {reason}.",
    },
    "request_changes": {
        "ru": "Модератор просит доработать предложение «{title}».",
        "kk": "Модератор «{title}» ұсынысын түзетуді сұрайды.",
        "en": "A moderator asks you to revise your proposal “{title}”.",
    },
}
_NOTE = {
    "ru": "Комментарий модератора: {note}",
    "kk": "Модератордың пікірі: {note}",
    "en": "The moderator's note: {note}",
}
_REASONS = {
    "spam": {"ru": "спам", "kk": "спам", "en": "spam"},
    "offensive": {
        "ru": "оскорбительное содержание",
        "kk": "қорлайтын мазмұн",
        "en": "offensive content",
    },
    "off_topic": {"ru": "не по теме", "kk": "тақырыпқа сай емес", "en": "off topic"},
    "duplicate": {
        "ru": "повтор другого предложения",
        "kk": "басқа ұсыныстың қайталануы",
        "en": "a duplicate of another proposal",
    },
    "personal_data": {
        "ru": "содержит персональные данные",
        "kk": "жеке деректер бар",
        "en": "contains personal data",
    },
    "not_a_proposal": {"ru": "это не предложение", "kk": "бұл ұсыныс емес", "en": "not a proposal"},
    "other": {"ru": "другое", "kk": "басқа", "en": "other"},
}


def decision_email(event: ProposalEvent, language: str) -> tuple[str, str]:
    """(subject, body) for the author of the event's proposal."""
    language = language if language in _SUBJECT else "ru"
    proposal = event.proposal
    lines = [
        _OUTCOME[event.action][language].format(
            title=proposal.title,
            reason=_REASONS.get(event.reason, {}).get(language, event.reason),
        )
    ]
    if event.note:
        lines.append(_NOTE[language].format(note=event.note))
    return _SUBJECT[language].format(code=proposal.code), "\n\n".join(lines)
