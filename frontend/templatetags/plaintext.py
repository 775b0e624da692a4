"""Text residents wrote, shown as what it is: plain text, never HTML.

A comment is stored as typed (docs/api-notes.md, "Comments"), so the page escapes every
character of it and adds only three things of its own: paragraphs at blank lines, a line
break at each single line end, and links for the web addresses in it.
"""

import re

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Only http and https: a `javascript:` or `data:` address never becomes a link. An address
# ends at white space or at a character that cannot stand in it unescaped (quotes, angle
# brackets), so nothing a resident types can close the attribute or open a tag.
_ADDRESS = re.compile(r"\bhttps?://[^\s<>\"]+", re.IGNORECASE)
# An address needs a host: "http://" followed by a full stop is a sentence, not a link.
_HAS_HOST = re.compile(r"https?://[^\s/?#.,;:!'()\[\]{}]", re.IGNORECASE)
# Punctuation that ends the sentence around an address rather than the address itself.
_TRAILING = frozenset(".,;:!?'\"*…»”’")
_CLOSING = {")": "(", "]": "[", "}": "{"}
_PARAGRAPHS = re.compile(r"\n[ \t]*\n\s*")


def _split_trailing(address: str) -> tuple[str, str]:
    """The address without the punctuation after it, and that punctuation.

    A closing bracket stays when the address opened one ("…/Almaty_(city)"), and goes
    when it closes the sentence's own bracket ("(see https://example.kz)")."""
    end = len(address)
    while end:
        last = address[end - 1]
        if last in _CLOSING:
            if address.count(_CLOSING[last], 0, end) >= address.count(last, 0, end):
                break
        elif last not in _TRAILING:
            break
        end -= 1
    return address[:end], address[end:]


def _linked(text: str) -> str:
    """`text` escaped, with each web address in it made a link."""
    parts = []
    position = 0
    for match in _ADDRESS.finditer(text):
        address, after = _split_trailing(match.group())
        if not _HAS_HOST.match(address):
            continue
        parts.append(escape(text[position : match.start()]))
        # Residents' links: not endorsed (nofollow), user content (ugc), and the page they
        # open gets no handle on this one (noopener).
        parts.append(
            format_html('<a href="{}" rel="nofollow ugc noopener">{}</a>', address, address)
        )
        parts.append(escape(after))
        position = match.end()
    parts.append(escape(text[position:]))
    return "".join(parts)


@register.filter(is_safe=False)
def plain_text(value: object) -> SafeString:
    """Plain text as HTML: every character escaped, paragraphs and line breaks kept, and
    http/https addresses made links. Nothing else of the text becomes markup."""
    text = str(value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return mark_safe("")  # noqa: S308 (empty)
    paragraphs = [
        "<p>" + _linked(paragraph).replace("\n", "<br>\n") + "</p>"
        for paragraph in _PARAGRAPHS.split(text)
    ]
    # Safe: every piece of the resident's text went through escape() or format_html().
    return mark_safe("\n".join(paragraphs))  # noqa: S308


@register.filter
def marked(parts: list[tuple[str, bool]]) -> SafeString:
    """A search highlight (text pieces, matched or not) escaped, matches in <mark>."""
    return mark_safe(  # noqa: S308 - every piece is escaped here
        "".join(
            format_html("<mark>{}</mark>", text) if matched else escape(text)
            for text, matched in parts
        )
    )
