"""Versions of a strategy document: what each import left, and what changed between two.

The living `Section` rows are updated in place by every import (their ids keep proposals
attached); a `StrategyVersion` keeps each text whole, so an earlier one stays readable and
two can be compared. `version_snapshot` reads the tables and `version_record` writes a
version; everything else is pure, working on snapshots (plain dicts and lists, as stored in
a version's JSON columns).
"""

import difflib
import re
from collections.abc import Iterable
from typing import Any

from django.utils import timezone, translation

from civic.languages import LANGUAGE_CODES
from strategy.models import Section, Strategy, StrategyVersion
from strategy.signals import strategy_version_recorded

# A change is one of these, per section, from one version to another.
ADDED, REMOVED, CHANGED, UNCHANGED = "added", "removed", "changed", "unchanged"
EQUAL, INSERT, DELETE = "equal", "insert", "delete"

# Words (any script: \w is Unicode, so Cyrillic and Kazakh letters such as ә, ғ, қ, ң, ө,
# ұ, ү, һ, і are word characters), runs of white space, and single other characters.
_TOKEN_RE = re.compile(r"\w+|\s+|[^\w\s]")
# Section text stored in a snapshot, one dict per language.
_TEXT_KEYS = ("title", "body")


def _texts(obj: object, field: str) -> dict[str, str]:
    return {language: getattr(obj, f"{field}_{language}") or "" for language in LANGUAGE_CODES}


def version_snapshot(strategy: Strategy) -> dict[str, Any]:
    """The document as the tables hold it now: title, description and sections in order.

    Read from the database (two queries), not from an imported document, so languages an
    import did not carry keep their stored text here too.
    """
    sections = list(Section.objects.filter(strategy=strategy).order_by("position"))
    codes = {section.pk: section.code for section in sections}
    return {
        "title": _texts(strategy, "title"),
        "description": _texts(strategy, "description"),
        "sections": [
            {
                "code": section.code,
                "parent_code": codes.get(section.parent_id) if section.parent_id else None,
                "depth": section.depth,
                "title": _texts(section, "title"),
                "body": _texts(section, "body"),
            }
            for section in sections
        ],
    }


def _same_text(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return all(
        (old.get(key) or {}).get(language, "") == (new.get(key) or {}).get(language, "")
        for key in _TEXT_KEYS
        for language in LANGUAGE_CODES
    )


def _merged_order(
    old_sections: list[dict[str, Any]], new_sections: list[dict[str, Any]]
) -> list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]]:
    """(code, old, new) in the new document's order; a removed section comes where it was,
    just before the section that followed it in the old text and is still there."""
    old_by_code = {section["code"]: section for section in old_sections}
    new_by_code = {section["code"]: section for section in new_sections}
    removed_before: dict[str, list[str]] = {}
    pending: list[str] = []
    for section in old_sections:
        if section["code"] in new_by_code:
            if pending:
                removed_before[section["code"]] = pending
                pending = []
        else:
            pending.append(section["code"])
    order: list[str] = []
    for section in new_sections:
        order.extend(removed_before.get(section["code"], []))
        order.append(section["code"])
    order.extend(pending)
    return [(code, old_by_code.get(code), new_by_code.get(code)) for code in order]


def _change(old: dict[str, Any] | None, new: dict[str, Any] | None) -> str:
    if old is None:
        return ADDED
    if new is None:
        return REMOVED
    return UNCHANGED if _same_text(old, new) else CHANGED


def changed_codes(
    old_sections: list[dict[str, Any]], new_sections: list[dict[str, Any]]
) -> list[str]:
    """Codes of the sections added, removed or changed (in any language), in document order."""
    return [
        code
        for code, old, new in _merged_order(old_sections, new_sections)
        if _change(old, new) != UNCHANGED
    ]


def version_record(*, strategy: Strategy) -> StrategyVersion | None:
    """Record the stored text as the next version, unless it is the latest one already.

    Called by `strategy_import` inside its transaction, after the write, while the strategy
    row is locked; returns the new version, or None when the text did not change.
    """
    snapshot = version_snapshot(strategy)
    latest = StrategyVersion.objects.filter(strategy=strategy).order_by("-number").first()
    if latest is not None and (
        latest.title == snapshot["title"]
        and latest.description == snapshot["description"]
        and latest.sections == snapshot["sections"]
    ):
        return None
    previous_sections = latest.sections if latest is not None else []
    version = StrategyVersion.objects.create(
        strategy=strategy,
        number=(latest.number + 1) if latest is not None else 1,
        imported_at=timezone.now(),
        title=snapshot["title"],
        description=snapshot["description"],
        sections=snapshot["sections"],
        changed_sections=changed_codes(previous_sections, snapshot["sections"]),
    )
    if latest is not None:
        # The first version is the document itself, not news for its followers.
        strategy_version_recorded.send(sender=StrategyVersion, version_id=version.pk)
    return version


# --- the word-level diff --------------------------------------------------------------------


# A line that starts a list item ("- ", "* ", "• ", "1. ", "2) ") keeps its line break.
_LIST_ITEM_RE = re.compile(r"\n[ \t]*(?:[-*•]|[0-9]+[.)])[ \t]")


def _tokens(text: str) -> list[str]:
    """Words, punctuation and white space, the white space reflowed: a paragraph break
    stays one, a line break before a list item stays one, any other run is a space. Text
    merely re-wrapped onto other lines is then the same text, and reads well at any width."""
    pieces: list[str] = []
    for match in _TOKEN_RE.finditer(text or ""):
        piece = match.group()
        if piece.isspace():
            newline = piece.find("\n")
            if piece.count("\n") >= 2:
                piece = "\n\n"
            elif newline >= 0 and _LIST_ITEM_RE.match(text, match.start() + newline):
                piece = "\n"
            else:
                piece = " "
        pieces.append(piece)
    return pieces


def reflow(text: str) -> str:
    """The text with its line wrapping undone, as the diff shows it (see `_tokens`)."""
    return "".join(_tokens(text)).strip()


def _regions(runs: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Split the runs into stretches of equal text and stretches of change; white space
    alone between two changes belongs to the change around it."""
    groups: list[list[tuple[str, str]]] = []
    change: list[tuple[str, str]] | None = None
    for index, (op, text) in enumerate(runs):
        between = (
            change is not None
            and text.isspace()
            and index + 1 < len(runs)
            and runs[index + 1][0] != EQUAL
        )
        if op != EQUAL or between:
            if change is None:
                change = []
                groups.append(change)
            change.append((op, text))
        else:
            groups.append([(op, text)])
            change = None
    return groups


def _merge(runs: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    merged: list[dict[str, str]] = []
    for op, text in runs:
        if not text:
            continue
        if merged and merged[-1]["op"] == op:
            merged[-1]["text"] += text
        else:
            merged.append({"op": op, "text": text})
    return merged


def word_diff(old: str, new: str) -> list[dict[str, str]]:
    """`[{op, text}]` turning `old` into `new` word by word; `op` is equal, insert or delete.

    The equal and inserted runs spell `new`, the equal and deleted runs spell `old`, both
    reflowed (`reflow`: line wrapping undone, paragraphs and list items kept). Where a
    stretch both removes and adds words, its deletions come first as one run, then its
    insertions, so it reads "old words → new words" rather than alternating word by word.
    """
    a, b = _tokens(old), _tokens(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    runs: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            runs.append((EQUAL, "".join(b[j1:j2])))
            continue
        if tag in ("delete", "replace"):
            runs.append((DELETE, "".join(a[i1:i2])))
        if tag in ("insert", "replace"):
            runs.append((INSERT, "".join(b[j1:j2])))
    out: list[tuple[str, str]] = []
    for group in _regions(runs):
        if not {DELETE, INSERT} <= {op for op, _ in group}:
            # Only additions (or only removals): the spaces between them are really equal.
            out.extend(group)
            continue
        out.append((DELETE, "".join(text for op, text in group if op != INSERT)))
        out.append((INSERT, "".join(text for op, text in group if op != DELETE)))
    return _merge(out)


# --- comparing two versions -----------------------------------------------------------------


def _pick_language(old: dict[str, Any] | None, new: dict[str, Any] | None, language: str) -> str:
    """The requested language, else Russian, Kazakh, English: the first that either side
    has text in, so both sides of a diff are in one language (strategy.models.localized)."""
    for code in (language, *LANGUAGE_CODES):
        if code not in LANGUAGE_CODES:
            continue
        for side in (old, new):
            if side and ((side.get("title") or {}).get(code) or (side.get("body") or {}).get(code)):
                return code
    return language if language in LANGUAGE_CODES else "ru"


def _text(section: dict[str, Any] | None, key: str, language: str) -> str:
    return ((section or {}).get(key) or {}).get(language, "")


def localized_text(texts: dict[str, str] | None, language: str | None = None) -> str:
    """One of a snapshot's {language: text} in the active language, with the fallback of
    strategy.models.localized."""
    language = (language or translation.get_language() or "ru")[:2]
    texts = texts or {}
    for code in (language, *LANGUAGE_CODES):
        if texts.get(code):
            return texts[code]
    return ""


def section_diff(
    old: dict[str, Any] | None, new: dict[str, Any] | None, language: str
) -> dict[str, list[dict[str, str]]]:
    """The word diffs of a section's title and of its body, in one language."""
    language = _pick_language(old, new, language)
    return {
        "title": word_diff(_text(old, "title", language), _text(new, "title", language)),
        "body": word_diff(_text(old, "body", language), _text(new, "body", language)),
    }


def description_diff(
    old_version: StrategyVersion, new_version: StrategyVersion, language: str | None = None
) -> list[dict[str, str]]:
    """The word diff of the document's description (the text before the first section)."""
    language = (language or translation.get_language() or "ru")[:2]
    old = {"body": old_version.description or {}}
    new = {"body": new_version.description or {}}
    return section_diff(old, new, language)["body"]


def section_changes(
    old_version: StrategyVersion, new_version: StrategyVersion, language: str | None = None
) -> list[dict[str, Any]]:
    """Section by section, from `old_version` to `new_version`, in document order.

    Each item: `section_code`, `change` (added, removed, changed, unchanged: a change in
    any language's text counts), `diff` (title, a paragraph break, then the body, as word
    runs in `language`), and for the pages `title`, `depth`, `title_diff`, `body_diff`.
    """
    language = (language or translation.get_language() or "ru")[:2]
    items: list[dict[str, Any]] = []
    for code, old, new in _merged_order(old_version.sections, new_version.sections):
        parts = section_diff(old, new, language)
        diff = list(parts["title"])
        if parts["body"]:
            # The break between title and body belongs to the section: added with it,
            # removed with it, else kept.
            between = INSERT if old is None else DELETE if new is None else EQUAL
            diff = _merge(
                [(run["op"], run["text"]) for run in diff]
                + [(between, "\n\n")]
                + [(run["op"], run["text"]) for run in parts["body"]]
            )
        shown = new if new is not None else old
        assert shown is not None  # noqa: S101 - every code comes from one side or the other
        items.append(
            {
                "section_code": code,
                "change": _change(old, new),
                "diff": diff,
                "title": localized_text(shown.get("title"), language),
                "depth": shown.get("depth", code.count(".")),
                "title_diff": parts["title"],
                "body_diff": parts["body"],
            }
        )
    return items
