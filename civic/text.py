"""Checks on text people write, shared by proposals and account names."""

import unicodedata

from django.utils.translation import gettext_noop

from civic.errors import InvalidInput

# Bidirectional overrides and isolates: they reorder what readers see ("Trojan
# source"); nothing residents write in Russian, Kazakh or English needs them.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_text(
    value: str, *, field: str, min_length: int, max_length: int, multiline: bool = True
) -> str:
    """Trim, normalise line ends, and refuse control characters and invisible-only text.

    Newline and tab are allowed where `multiline`. Lengths count characters after
    trimming; the minimum counts only characters a reader can see.
    """
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    allowed = "\n\t" if multiline else ""
    for char in text:
        if char in _BIDI_CONTROLS or (char not in allowed and unicodedata.category(char) == "Cc"):
            raise InvalidInput(
                gettext_noop("Character %(char)s is not allowed."),
                field=field,
                params={"char": f"U+{ord(char):04X}"},
            )
    visible = sum(1 for char in text if not char.isspace() and unicodedata.category(char) != "Cf")
    if visible < min_length:
        raise InvalidInput(
            gettext_noop("Must be at least %(count)d characters."),
            field=field,
            params={"count": min_length},
        )
    if len(text) > max_length:
        raise InvalidInput(
            gettext_noop("Must be at most %(count)d characters."),
            field=field,
            params={"count": max_length},
        )
    return text
