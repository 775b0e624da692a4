"""Reading strategy documents: Markdown (one file per language) and JSON.

The format is described in docs/strategy-format.md. Parsing is pure: it turns files into a
`StrategyDocument` and touches no table; `strategy.services.strategy_import` writes it.

Choices the format leaves open, made here:
- One call imports one document. Files naming different slugs are an error, because the
  caller gets a single `ImportResult` back and a typo in one slug should not quietly create
  a second strategy.
- A JSON file holds every language, so it is imported alone.
- The section tree comes from the codes, not from the heading levels: "1.2" is a child of
  "1" whether its heading is `###` or `##`. A child must come inside its parent (after it,
  before the parent's next sibling), so document order is the tree's pre-order.
- Only top-level headings count: a heading inside a block quote or a list item is body text.
- Unknown front matter / JSON keys are errors, so a misspelt `closes_on` is not ignored.
- `code_prefix` may be given (front matter or JSON) for documents whose usual abbreviation
  cannot be derived from the slug.
- JSON `null` for status or a date means "not given" (the stored value is kept).
"""

from __future__ import annotations

import bisect
import json
import json.decoder
import json.scanner
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from django.core.validators import slug_re
from markdown_it import MarkdownIt

from civic.languages import LANGUAGE_CODES

if TYPE_CHECKING:
    from strategy.models import Strategy

STATUSES = ("draft", "open", "closed", "archived")
DOCUMENT_KEYS = ("status", "opens_at", "closes_at", "code_prefix")
FRONT_MATTER_KEYS = ("slug", "language", *DOCUMENT_KEYS)
JSON_KEYS = ("slug", *DOCUMENT_KEYS, "title", "description", "sections")
JSON_SECTION_KEYS = ("code", "title", "body", "children")
MARKDOWN_SUFFIXES = (".md", ".markdown")
SLUG_MAX, CODE_MAX, PREFIX_MAX, TITLE_MAX, SECTION_TITLE_MAX = 80, 50, 20, 300, 500

# "1", "1.", "1.2", "2.3.1." followed by a space or the end of the heading. [0-9] rather than
# \d, which would also take Arabic-Indic and other Unicode digits.
_CODE_RE = re.compile(r"(?P<code>[0-9]+(?:\.[0-9]+)*)\.?(?:\s+(?P<title>.*))?$", re.DOTALL)
_PREFIX_RE = re.compile(r"[A-Z0-9]+")
_YAML_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class StrategyImportError(Exception):
    """A document that cannot be imported; `messages` holds one "file:line: problem" each."""

    def __init__(self, messages: Iterable[str]) -> None:
        self.messages = list(messages)
        super().__init__("\n".join(self.messages))


@dataclass
class DocumentSection:
    code: str
    parent_code: str | None
    # Pre-order index over the whole tree, which is also the order in the document.
    position: int
    depth: int
    title: dict[str, str] = field(default_factory=dict)
    body: dict[str, str] = field(default_factory=dict)


@dataclass
class StrategyDocument:
    slug: str
    # Languages the document carries; the service leaves the columns of the others alone.
    languages: tuple[str, ...]
    status: str | None = None
    opens_at: date | None = None
    closes_at: date | None = None
    code_prefix: str | None = None
    title: dict[str, str] = field(default_factory=dict)
    description: dict[str, str] = field(default_factory=dict)
    sections: list[DocumentSection] = field(default_factory=list)
    # "file:line" of each document key and of each section ("section 1.2"), so that
    # problems found later, against the stored rows, can still point into the files.
    origins: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportResult:
    strategy: Strategy
    created: bool
    sections_created: int
    sections_updated: int
    sections_deleted: int = 0
    # False when the import found everything as stored and wrote nothing.
    changed: bool = True


def parse_strategy_files(paths: Sequence[Path | str]) -> StrategyDocument:
    sources: list[tuple[str, str]] = []
    errors: list[str] = []
    for path in paths:
        name = str(path)
        try:
            sources.append((name, Path(path).read_text(encoding="utf-8")))
        except UnicodeDecodeError as exc:
            errors.append(f"{name}:{_line_of_offset_bytes(Path(path), exc.start)}: not UTF-8 text")
        except OSError as exc:
            errors.append(f"{name}:0: cannot read the file: {exc.strerror or exc}")
    if errors:
        raise StrategyImportError(errors)
    return parse_strategy_texts(sources)


def parse_strategy_texts(sources: Sequence[tuple[str, str]]) -> StrategyDocument:
    """Parse (name, text) pairs, e.g. uploads in the admin; the name's suffix picks the format."""
    if not sources:
        raise StrategyImportError(["no files given"])
    errors: list[str] = []
    json_documents: list[tuple[str, StrategyDocument]] = []
    markdown_files: list[_MarkdownFile] = []
    for name, text in sources:
        # Editors on Windows like to start files with a byte order mark and end lines in CRLF.
        text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        suffix = Path(name).suffix.lower()
        if suffix == ".json":
            document = _parse_json(name, text, errors)
            if document is not None:
                json_documents.append((name, document))
        elif suffix in MARKDOWN_SUFFIXES:
            parsed = _parse_markdown(name, text, errors)
            if parsed is not None:
                markdown_files.append(parsed)
        else:
            errors.append(f"{name}:0: unknown file type {suffix or '(none)'}; use .md or .json")
    if errors:
        raise StrategyImportError(errors)

    if json_documents and len(sources) > 1:
        name = json_documents[0][0]
        raise StrategyImportError(
            [f"{name}:1: a JSON file holds every language and must be imported alone"]
        )
    if json_documents:
        return json_documents[0][1]
    document = _merge_markdown(markdown_files, errors)
    if errors or document is None:
        raise StrategyImportError(errors)
    return document


# --- Markdown ------------------------------------------------------------------------------


@dataclass
class _Heading:
    line: int  # 1-based, in the file
    code: str
    title: str
    body: str


@dataclass
class _MarkdownFile:
    name: str
    slug: str
    language: str
    # key -> (value, line) for the document keys this file sets
    values: dict[str, tuple[Any, int]]
    slug_line: int
    title: str
    description: str
    sections: list[_Heading]


def _parse_markdown(name: str, text: str, errors: list[str]) -> _MarkdownFile | None:
    lines = text.split("\n")
    problems: list[str] = []

    def error(line: int, message: str) -> None:
        problems.append(f"{name}:{line}: {message}")

    front, body_start = _split_front_matter(lines, error)
    values: dict[str, tuple[Any, int]] = {}
    slug = language = ""
    slug_line = 1
    if front is not None:
        slug, language, slug_line = _front_matter_values(front, values, error)
    title, description, sections = "", "", []
    if body_start is not None:
        title, description, sections = _markdown_headings(lines[body_start:], body_start, error)
    errors.extend(problems)
    if problems:
        return None
    return _MarkdownFile(
        name=name,
        slug=slug,
        language=language,
        values=values,
        slug_line=slug_line,
        title=title,
        description=description,
        sections=sections,
    )


@dataclass
class _FrontMatter:
    text: str
    first_line: int  # file line of the first YAML line


def _split_front_matter(
    lines: list[str], error: Callable[[int, str], None]
) -> tuple[_FrontMatter | None, int | None]:
    """The YAML between the opening and closing `---`, and the index of the first body line.

    Without a closing line there is no telling where the text starts, so there is no body.
    """
    if not lines or lines[0].rstrip() != "---":
        error(1, "no front matter: the file must start with '---', then 'slug: ...'")
        return None, 0
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            return _FrontMatter("\n".join(lines[1:index]), 2), index + 1
    error(1, "front matter is not closed: no second '---' line")
    return None, None


def _front_matter_values(
    front: _FrontMatter, values: dict[str, tuple[Any, int]], error: Callable[[int, str], None]
) -> tuple[str, str, int]:
    """Check the front matter, fill `values`; return slug, language and the slug's line."""
    first = front.first_line
    try:
        root = yaml.compose(front.text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first + mark.line if mark is not None else first
        problem = getattr(exc, "problem", None) or str(exc)
        error(line, f"front matter is not valid YAML: {problem}")
        return "", "", first
    if root is None:
        error(first - 1, "front matter is empty: it needs at least 'slug' and 'language'")
        return "", "", first
    if not isinstance(root, yaml.MappingNode):
        error(first, "front matter must be 'key: value' lines")
        return "", "", first

    key_lines: dict[str, int] = {}
    for key_node, _value_node in root.value:
        key = str(key_node.value)
        line = first + key_node.start_mark.line
        if key in key_lines:
            error(line, f'front matter key "{key}" repeats (first at line {key_lines[key]})')
        key_lines[key] = line
        if key not in FRONT_MATTER_KEYS:
            error(line, f'unknown front matter key "{key}"; known: {", ".join(FRONT_MATTER_KEYS)}')
    try:
        data = yaml.safe_load(front.text)
    except yaml.YAMLError as exc:
        # e.g. a !!python/object tag, which safe_load refuses to build.
        error(first, f"front matter is not plain YAML: {str(exc).splitlines()[0]}")
        return "", "", first
    except ValueError:
        # YAML reads 2019-13-45 as a timestamp and date() then refuses it.
        for key_node, value_node in root.value:
            if value_node.tag == _YAML_TIMESTAMP and not _loads_as_yaml(value_node.value):
                error(first + key_node.start_mark.line, f"bad date {value_node.value!r}")
        return "", "", first

    slug_line = key_lines.get("slug", front.first_line - 1)
    slug = _check_slug(data.get("slug"), slug_line, error)
    language = data.get("language")
    if language is None:
        error(front.first_line - 1, "front matter has no language (ru, kk or en)")
        language = ""
    elif language not in LANGUAGE_CODES:
        error(key_lines["language"], f"unknown language {language!r}; use ru, kk or en")
        language = ""
    for key in DOCUMENT_KEYS:
        if key in data and data[key] is not None:
            value = _check_document_value(key, data[key], key_lines[key], error)
            if value is not None:
                values[key] = (value, key_lines[key])
    _check_dates(values, error)
    return slug, language, slug_line


def _loads_as_yaml(text: str) -> bool:
    try:
        yaml.safe_load(text)
    except ValueError:
        return False
    return True


def _check_slug(value: Any, line: int, error: Callable[[int, str], None]) -> str:
    if value is None or value == "":
        error(line, "no slug: add 'slug: city-2050' to the front matter")
        return ""
    if not isinstance(value, str) or not slug_re.match(value) or len(value) > SLUG_MAX:
        error(line, f"slug {value!r} must be latin letters, digits, '-' or '_', at most 80")
        return ""
    return value


def _check_document_value(
    key: str, value: Any, line: int, error: Callable[[int, str], None]
) -> Any:
    """The checked value of status / opens_at / closes_at / code_prefix, or None after an error."""
    if key == "status":
        if value not in STATUSES:
            error(line, f"unknown status {value!r}; use one of {', '.join(STATUSES)}")
            return None
        return value
    if key == "code_prefix":
        if not isinstance(value, str) or not _PREFIX_RE.fullmatch(value) or len(value) > PREFIX_MAX:
            error(line, f"code_prefix {value!r} must be 1-20 capital latin letters and digits")
            return None
        return value
    # opens_at, closes_at: YAML gives a date for 2019-11-29 and a str when it is quoted.
    if isinstance(value, datetime):
        error(line, f"bad date for {key}: {value.isoformat()} has a time; give YYYY-MM-DD")
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    error(line, f"bad date for {key}: {value!r}; give YYYY-MM-DD")
    return None


def _check_dates(values: dict[str, tuple[Any, int]], error: Callable[[int, str], None]) -> None:
    if "opens_at" in values and "closes_at" in values:
        (opens, _), (closes, line) = values["opens_at"], values["closes_at"]
        if closes < opens:
            error(line, f"closes_at {closes} is before opens_at {opens}")
            del values["closes_at"]


def _markdown_headings(
    body_lines: list[str], offset: int, error: Callable[[int, str], None]
) -> tuple[str, str, list[_Heading]]:
    """Title, description and sections of the text after the front matter.

    markdown-it finds the headings, so a `#` in a fenced code block is not one; the bodies
    are the original lines between headings, so the Markdown is kept as written.
    """
    source = "\n".join(body_lines)
    # (first line, line after the heading, level, text), lines 0-based within body_lines
    found: list[tuple[int, int, int, str]] = []
    tokens = MarkdownIt("commonmark").parse(source)
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.level == 0 and token.map:
            text = tokens[index + 1].content.strip()
            found.append((token.map[0], token.map[1], int(token.tag[1:]), text))

    def chunk(start: int, end: int) -> str:
        return "\n".join(body_lines[start:end]).strip()

    title = description = ""
    sections: list[_Heading] = []
    first_section = 0
    if not found or found[0][2] != 1:
        where = offset + 1 + (found[0][0] if found else 0)
        error(where, "no title: the document must have a '# Title' heading before its sections")
    else:
        start, after, _, title = found[0]
        if chunk(0, start):
            error(offset + 1, "text before the '# Title' heading belongs to no section")
        description = chunk(after, found[1][0] if len(found) > 1 else len(body_lines))
        first_section = 1
        if not title:
            error(offset + start + 1, "the '# Title' heading is empty")

    seen: dict[str, int] = {}
    for index in range(first_section, len(found)):
        start, after, level, text = found[index]
        line = offset + start + 1
        end = found[index + 1][0] if index + 1 < len(found) else len(body_lines)
        if level == 1:
            error(line, f'second title heading "# {text}": sections start with ##')
            continue
        match = _CODE_RE.match(text)
        if not match:
            error(line, f'heading "{text}" has no section code (like "1." or "2.3.")')
            continue
        code = _normalise_code(match["code"])
        section_title = (match["title"] or "").strip()
        if code in seen:
            error(line, f"section code {code} repeats (first at line {seen[code]})")
            continue
        seen[code] = line
        if not section_title:
            error(line, f'heading "{text}" has a code but no title')
        elif len(section_title) > SECTION_TITLE_MAX:
            error(line, f"section {code} title is longer than {SECTION_TITLE_MAX} characters")
        if len(code) > CODE_MAX:
            error(line, f"section code {code} is longer than {CODE_MAX} characters")
        sections.append(_Heading(line, code, section_title, chunk(after, end)))
    if len(title) > TITLE_MAX:
        error(offset + found[0][0] + 1, f"title is longer than {TITLE_MAX} characters")
    _check_tree([(s.code, s.line) for s in sections], error)
    return title, description, sections


def _normalise_code(code: str) -> str:
    # "01.02" and "1.2" are the same section; int() drops the leading zeros.
    return ".".join(str(int(part)) for part in code.split("."))


def _parent_code(code: str) -> str | None:
    return code.rpartition(".")[0] or None


def _check_tree(codes: list[tuple[str, int]], error: Callable[[int, str], None]) -> None:
    """Every child must come inside its parent: after it, before the parent's next sibling."""
    seen: set[str] = set()
    open_path: list[str] = []  # the previous section and its ancestors
    for code, line in codes:
        parent = _parent_code(code)
        while open_path and open_path[-1] != parent:
            open_path.pop()
        if parent is not None and not open_path:
            if parent in seen:
                error(
                    line, f"section {code} is outside its parent {parent}: move it under {parent}"
                )
            else:
                error(line, f"section {code} is numbered under {parent}, but there is no {parent}")
        seen.add(code)
        open_path.append(code)


def _merge_markdown(files: list[_MarkdownFile], errors: list[str]) -> StrategyDocument | None:
    """Join the language files of one document; sections are matched by code."""
    first = files[0]
    for other in files[1:]:
        if other.slug != first.slug:
            errors.append(
                f"{other.name}:{other.slug_line}: slug {other.slug!r} differs from "
                f"{first.slug!r} in {first.name}; import one document at a time"
            )
    by_language: dict[str, _MarkdownFile] = {}
    for parsed in files:
        if parsed.language in by_language:
            earlier = by_language[parsed.language]
            errors.append(
                f"{parsed.name}:{parsed.slug_line}: a second {parsed.language} file for "
                f"{parsed.slug!r} (the first is {earlier.name})"
            )
        else:
            by_language[parsed.language] = parsed
    if errors:
        return None

    # Russian first: its file fixes the order when the others are compared with it.
    ordered = [by_language[lang] for lang in LANGUAGE_CODES if lang in by_language]
    reference = ordered[0]
    document = StrategyDocument(slug=reference.slug, languages=tuple(f.language for f in ordered))

    set_by: dict[str, str] = {}
    for parsed in ordered:
        for key, (value, line) in parsed.values.items():
            if key in set_by:
                errors.append(
                    f"{parsed.name}:{line}: {key} is already given in {set_by[key]}; "
                    "keys other than slug and language belong in one file only"
                )
                continue
            set_by[key] = f"{parsed.name}:{line}"
            setattr(document, key, value)
            document.origins[key] = set_by[key]
    # Each file checks its own pair; this catches opens_at in one file, closes_at in another.
    if document.closes_at and document.opens_at and document.closes_at < document.opens_at:
        errors.append(
            f"{set_by['closes_at']}: closes_at {document.closes_at} is before opens_at "
            f"{document.opens_at} ({set_by['opens_at']})"
        )

    reference_codes = [s.code for s in reference.sections]
    for parsed in ordered[1:]:
        errors.extend(_compare_codes(reference, parsed))
    if errors:
        return None

    for parsed in ordered:
        document.title[parsed.language] = parsed.title
        document.description[parsed.language] = parsed.description
    by_code = {code: index for index, code in enumerate(reference_codes)}
    for index, heading in enumerate(reference.sections):
        document.sections.append(
            DocumentSection(
                code=heading.code,
                parent_code=_parent_code(heading.code),
                position=index,
                depth=heading.code.count("."),
                title={},
                body={},
            )
        )
        document.origins[f"section {heading.code}"] = f"{reference.name}:{heading.line}"
    for parsed in ordered:
        for heading in parsed.sections:
            section = document.sections[by_code[heading.code]]
            section.title[parsed.language] = heading.title
            section.body[parsed.language] = heading.body
    return document


def _compare_codes(reference: _MarkdownFile, other: _MarkdownFile) -> list[str]:
    problems: list[str] = []
    mine = {s.code: s.line for s in reference.sections}
    theirs = {s.code: s.line for s in other.sections}
    for heading in reference.sections:
        if heading.code not in theirs:
            problems.append(
                f"{reference.name}:{heading.line}: section {heading.code} is missing from "
                f"{other.name}; the language files must have the same sections"
            )
    for heading in other.sections:
        if heading.code not in mine:
            problems.append(
                f"{other.name}:{heading.line}: section {heading.code} is not in "
                f"{reference.name}; the language files must have the same sections"
            )
    if not problems:
        for ours, their in zip(reference.sections, other.sections, strict=True):
            if ours.code != their.code:
                problems.append(
                    f"{other.name}:{their.line}: section {their.code} comes where "
                    f"{reference.name}:{ours.line} has {ours.code}; keep the same order"
                )
                break
    return problems


# --- JSON ----------------------------------------------------------------------------------


class _JsonObject(dict):  # type: ignore[type-arg]
    """A decoded JSON object that remembers the line of its `{` and of each key."""

    line: int
    key_lines: dict[str, int]


def _load_json_with_lines(text: str) -> Any:
    """json.loads, but every object comes back as a _JsonObject knowing its lines.

    The stdlib decoder gives positions only in its errors; the pure-Python scanner looks up
    `parse_object` on the decoder, so wrapping it there lets us see where each value starts.
    """
    line_starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]

    def line_at(index: int) -> int:
        return bisect.bisect_right(line_starts, index)

    def parse_object(
        s_and_end: tuple[str, int], strict: bool, scan_once: Callable[..., Any], *rest: Any
    ) -> tuple[_JsonObject, int]:
        starts: list[int] = []

        def recording_scan(string: str, index: int) -> Any:
            starts.append(index)
            return scan_once(string, index)

        memo = rest[2] if len(rest) > 2 else None
        pairs, end = json.decoder.JSONObject(
            s_and_end, strict, recording_scan, None, lambda pairs: pairs, memo
        )
        result = _JsonObject()
        result.line = line_at(s_and_end[1] - 1)
        result.key_lines = {}
        for (key, value), start in zip(pairs, starts, strict=True):
            if key in result:
                raise json.JSONDecodeError(f'key "{key}" repeats', s_and_end[0], start)
            result[key] = value
            result.key_lines[key] = line_at(start)
        return result, end

    decoder = json.JSONDecoder()
    decoder.parse_object = parse_object  # type: ignore[attr-defined]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    return decoder.decode(text)


def _parse_json(name: str, text: str, errors: list[str]) -> StrategyDocument | None:
    problems: list[str] = []

    def error(line: int, message: str) -> None:
        problems.append(f"{name}:{line}: {message}")

    try:
        data = _load_json_with_lines(text)
    except json.JSONDecodeError as exc:
        errors.append(f"{name}:{exc.lineno}: invalid JSON: {exc.msg} (column {exc.colno})")
        return None
    except RecursionError:
        errors.append(f"{name}:1: invalid JSON: nested too deeply")
        return None
    if not isinstance(data, _JsonObject):
        errors.append(f"{name}:1: the JSON must be one object with slug, title and sections")
        return None

    for key in data:
        if key not in JSON_KEYS:
            error(data.key_lines[key], f'unknown key "{key}"; known: {", ".join(JSON_KEYS)}')
    slug = _check_slug(data.get("slug"), data.key_lines.get("slug", data.line), error)
    document = StrategyDocument(slug=slug, languages=())
    for key in DOCUMENT_KEYS:
        if data.get(key) is not None:
            line = data.key_lines[key]
            value = _check_document_value(key, data[key], line, error)
            setattr(document, key, value)
            document.origins[key] = f"{name}:{line}"
    if document.opens_at and document.closes_at and document.closes_at < document.opens_at:
        error(
            data.key_lines["closes_at"],
            f"closes_at {document.closes_at} is before opens_at {document.opens_at}",
        )

    languages: set[str] = set()
    document.title = _json_texts(data, "title", TITLE_MAX, languages, error)
    document.description = _json_texts(data, "description", None, languages, error)
    sections = data.get("sections", [])
    if not isinstance(sections, list):
        error(data.key_lines["sections"], "sections must be a list")
        sections = []
    seen: dict[str, int] = {}
    _json_sections(
        sections,
        None,
        data.key_lines.get("sections", data.line),
        document,
        seen,
        languages,
        name,
        error,
    )
    document.languages = tuple(lang for lang in LANGUAGE_CODES if lang in languages)
    if not document.languages:
        error(data.line, 'no text in any language: give title {"ru": ...}')
    errors.extend(problems)
    return None if problems else document


def _json_texts(
    obj: _JsonObject,
    key: str,
    max_length: int | None,
    languages: set[str],
    error: Callable[[int, str], None],
) -> dict[str, str]:
    value = obj.get(key)
    if value is None:
        return {}
    line = obj.key_lines[key]
    if not isinstance(value, _JsonObject):
        error(line, f'{key} must be an object like {{"ru": "...", "kk": "..."}}')
        return {}
    texts: dict[str, str] = {}
    for language, text in value.items():
        text_line = value.key_lines[language]
        if language not in LANGUAGE_CODES:
            error(text_line, f"unknown language {language!r} in {key}; use ru, kk or en")
        elif not isinstance(text, str):
            error(text_line, f"{key}.{language} must be text")
        elif max_length is not None and len(text.strip()) > max_length:
            error(text_line, f"{key}.{language} is longer than {max_length} characters")
        else:
            texts[language] = text.strip()
            languages.add(language)
    return texts


def _json_sections(
    items: list[Any],
    parent: str | None,
    line: int,
    document: StrategyDocument,
    seen: dict[str, int],
    languages: set[str],
    name: str,
    error: Callable[[int, str], None],
) -> None:
    """Append `items` and their children in pre-order, checking codes against the nesting."""
    for item in items:
        if not isinstance(item, _JsonObject):
            error(line, "each section must be an object with code, title, body, children")
            continue
        for key in item:
            if key not in JSON_SECTION_KEYS:
                error(
                    item.key_lines[key],
                    f'unknown section key "{key}"; known: code, title, body, children',
                )
        raw = item.get("code")
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)  # "code": 2 is as clear as "code": "2"
        code_line = item.key_lines.get("code", item.line)
        match = _CODE_RE.match(raw) if isinstance(raw, str) else None
        if match is None or match["title"]:
            error(code_line, f'section has no valid code (like "1" or "2.3"): {raw!r}')
            continue
        code = _normalise_code(match["code"])
        if code in seen:
            error(code_line, f"section code {code} repeats (first at line {seen[code]})")
            continue
        seen[code] = code_line
        expected_parent = _parent_code(code)
        if expected_parent != parent:
            if expected_parent is None:
                error(code_line, f"section {code} is a top-level number but is nested in {parent}")
            elif expected_parent in seen:
                error(
                    code_line,
                    f"section {code} belongs in the children of {expected_parent}, "
                    f"not {parent or 'the top level'}",
                )
            else:
                error(
                    code_line,
                    f"section {code} is numbered under {expected_parent}, but "
                    f"there is no {expected_parent}",
                )
        if len(code) > CODE_MAX:
            error(code_line, f"section code {code} is longer than {CODE_MAX} characters")
        section = DocumentSection(
            code=code,
            parent_code=expected_parent,
            position=len(document.sections),
            depth=code.count("."),
            title=_json_texts(item, "title", SECTION_TITLE_MAX, languages, error),
            body=_json_texts(item, "body", None, languages, error),
        )
        document.sections.append(section)
        document.origins[f"section {code}"] = f"{name}:{code_line}"
        children = item.get("children", [])
        if not isinstance(children, list):
            error(item.key_lines["children"], "children must be a list")
            continue
        _json_sections(
            children,
            code,
            item.key_lines.get("children", item.line),
            document,
            seen,
            languages,
            name,
            error,
        )


def _line_of_offset_bytes(path: Path, offset: int) -> int:
    try:
        return path.read_bytes()[:offset].count(b"\n") + 1
    except OSError:
        return 0
