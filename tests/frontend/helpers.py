"""What the page tests of several view modules share: the usual texts, proposals made
through the services, and readers of a page's HTML."""

import html
import re

from django.utils import translation

from proposals.models import Proposal, ProposalEvent, Reaction
from proposals.services import proposal_moderate, proposal_submit
from strategy.models import Theme

S = Proposal.Status
LANGUAGES = ("ru", "kk", "en")
TITLE = "Больше деревьев во дворах"
BODY = "Посадить деревья вдоль арыков и починить освещение во дворах."
STRONG = "Tulip-Garden-1987!"


def _submit(author, strategy, **kwargs) -> Proposal:
    return proposal_submit(
        author=author,
        strategy=strategy,
        title=kwargs.pop("title", TITLE),
        body=kwargs.pop("body", BODY),
        **kwargs,
    )


def _decide(proposal, moderator, decision, **kwargs) -> Proposal:
    return proposal_moderate(proposal=proposal, moderator=moderator, decision=decision, **kwargs)


def _published(author, strategy, moderator, **kwargs) -> Proposal:
    return _decide(_submit(author, strategy, **kwargs), moderator, "approve")


def _themes(*slugs) -> list[Theme]:
    return [Theme.objects.get(slug=slug) for slug in slugs]


def _page(response) -> str:
    return html.unescape(response.content.decode())


def _messages(response) -> str:
    """The text of the flash messages a page shows, '' when it shows none."""
    match = re.search(r'<div class="messages"[^>]*>(.*?)</div>', response.content.decode(), re.S)
    return html.unescape(match.group(1)) if match else ""


def _input_tags(response, name: str) -> list[str]:
    return [
        tag
        for tag in re.findall(r"<(?:input|textarea|select)\b[^>]*>", response.content.decode())
        if f'name="{name}"' in tag
    ]


def _checked(response, name: str) -> set[str]:
    return {
        re.search(r'value="([^"]*)"', tag).group(1)
        for tag in _input_tags(response, name)
        if re.search(r"\schecked\b", tag)
    }


def _tr(language: str, message: str, **params) -> str:
    with translation.override(language):
        text = translation.gettext(message)
    return text % params if params else text


def _snapshot() -> dict:
    return {
        "proposals": sorted(
            Proposal.objects.values_list("id", "status", "title", "body", "duplicate_of_id")
        ),
        "themes": sorted(Proposal.themes.through.objects.values_list("proposal_id", "theme_id")),
        "events": ProposalEvent.objects.count(),
        "reactions": sorted(Reaction.objects.values_list("proposal_id", "user_id", "kind")),
    }


def _submission(strategy, **fields) -> dict:
    data = {
        "strategy": strategy.slug,
        "section": "",
        "title": TITLE,
        "body": BODY,
        "district": "",
        "themes": [],
    }
    data.update(fields)
    return data
