"""The ru/kk/en catalogues against the code: every string the code marks is in them, every
ru/kk entry is translated, not fuzzy and keeps the msgid's placeholders, and no live entry
is one the code no longer uses.

Collects msgids as `make messages` (manage.py makemessages) does, but without GNU gettext:
Babel's Python extractor stands in for xgettext, and templates go through Django's own
`templatize` first, which is what makemessages feeds xgettext. So this runs on a machine
with only Python.
"""

import fnmatch
import io
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polib
import pytest
from babel.messages.extract import extract
from django.conf import settings
from django.utils.translation.template import templatize

ROOT = Path(settings.BASE_DIR)
LOCALE_DIR = ROOT / "frontend" / "locale"
TRANSLATED_LANGUAGES = ("ru", "kk")

# The Makefile's `messages` target: makemessages run from the repository root with these
# --ignore patterns, on top of makemessages' own defaults.
MAKEFILE_IGNORES = (".venv", "tests", "bench", "staticfiles", "data")
DJANGO_DEFAULT_IGNORES = ("CVS", ".*", "*~", "*.pyc")
IGNORE_PATTERNS = MAKEFILE_IGNORES + DJANGO_DEFAULT_IGNORES
EXTENSIONS = (".py", ".html", ".txt")  # makemessages' defaults for the "django" domain

# makemessages' xgettext keywords for Python (and for templatized templates), with the
# xgettext defaults the code uses. `_` covers every alias here (`gettext as _`,
# `gettext_lazy as _`); `translation.gettext(...)` matches `gettext` by its last name.
KEYWORDS: dict[str, tuple | None] = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}

# printf-style directives as Python's % operator reads them; "%%" is matched so that it is
# consumed (and then dropped) rather than read as the start of a directive.
PERCENT_RE = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +\-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])"
)
# str.format fields: {}, {0}, {name}, {name!r}, {name:>10}; "{{" and "}}" are literal braces.
BRACE_RE = re.compile(r"\{(?P<field>\w*(?:\.\w+|\[\w+\])*)(?:![rsa])?(?::[^{}]*)?\}")

Key = tuple[str | None, str]  # (msgctxt, msgid)


@dataclass(frozen=True)
class Found:
    """One marked string in the source, and where it is (for failure messages)."""

    context: str | None
    msgid: str
    plural: str | None
    where: str


# --- collecting the code's strings ------------------------------------------------------------


def _ignored(path: Path, patterns: Iterable[str]) -> bool:
    # django.core.management.utils.is_ignored_path: a pattern matches the name or the path.
    return any(
        fnmatch.fnmatchcase(path.name, p) or fnmatch.fnmatchcase(str(path), p) for p in patterns
    )


def source_files(root: Path, ignore_patterns: Iterable[str] = IGNORE_PATTERNS) -> Iterator[Path]:
    """The files makemessages reads under root (its find_files, for our settings)."""
    patterns = tuple(ignore_patterns)
    ignored_roots = {Path(p).resolve() for p in (settings.MEDIA_ROOT, settings.STATIC_ROOT) if p}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()  # a stable walk, so a failure names the same first file every run
        for dirname in list(dirnames):
            path = Path(dirpath, dirname)
            # makemessages does not descend into locale directories either.
            if _ignored(path, patterns) or path.resolve() in ignored_roots or dirname == "locale":
                dirnames.remove(dirname)
        for filename in sorted(filenames):
            path = Path(dirpath, filename)
            if path.suffix in EXTENSIONS and not _ignored(path, patterns):
                yield path


def strings_in_file(path: Path, root: Path) -> Iterator[Found]:
    """The msgids in one file, as xgettext would read them from what makemessages gives it."""
    source = path.read_bytes()
    if path.suffix != ".py":
        # makemessages hands xgettext templatize's output with --language=Python.
        source = templatize(source.decode("utf-8"), origin=str(path)).encode("utf-8")
    relative = path.relative_to(root)
    for lineno, message, _comments, context in extract(
        "python", io.BytesIO(source), keywords=KEYWORDS
    ):
        msgid, plural = (message[0], message[1]) if isinstance(message, tuple) else (message, None)
        yield Found(context, msgid, plural, f"{relative}:{lineno}")


def collect_strings(
    root: Path, ignore_patterns: Iterable[str] = IGNORE_PATTERNS
) -> dict[Key, Found]:
    """Every marked string under root, the first place it occurs kept for messages."""
    found: dict[Key, Found] = {}
    for path in source_files(root, ignore_patterns):
        for item in strings_in_file(path, root):
            found.setdefault((item.context, item.msgid), item)
    return found


# --- reading catalogues ---------------------------------------------------------------------------


def catalogue_path(language: str, locale_dir: Path = LOCALE_DIR) -> Path:
    return locale_dir / language / "LC_MESSAGES" / "django.po"


def live_entries(po: polib.POFile) -> dict[Key, polib.POEntry]:
    return {(e.msgctxt, e.msgid): e for e in po if not e.obsolete}


def _label(entry: polib.POEntry | Found) -> str:
    context = entry.msgctxt if isinstance(entry, polib.POEntry) else entry.context
    return f"{entry.msgid!r}" + (f" (context {context!r})" if context else "")


def _nplurals(po: polib.POFile) -> int:
    match = re.search(r"nplurals\s*=\s*(\d+)", po.metadata.get("Plural-Forms", ""))
    assert match, f"{po.fpath}: the header has no Plural-Forms"
    return int(match[1])


def placeholders(text: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """Named placeholders (as a set) and unnamed ones (in order, as their count and order
    must match the arguments): %(name)s, %s, %d, {name}, {}."""
    named: set[str] = set()
    unnamed: list[str] = []
    for m in PERCENT_RE.finditer(text):
        if m["conv"] == "%":
            continue
        if m["name"] is not None:
            named.add(f"%({m['name']}){m['conv']}")
        else:
            unnamed.append(f"%{m['conv']}")
    for m in BRACE_RE.finditer(text.replace("{{", "").replace("}}", "")):
        field = m["field"]
        if field and not field.isdigit():
            named.add(f"{{{field}}}")
        else:
            unnamed.append(f"{{{field}}}")
    return frozenset(named), tuple(unnamed)


def _show(found: tuple[frozenset[str], tuple[str, ...]]) -> str:
    return ", ".join(sorted(found[0]) + list(found[1])) or "none"


# --- the checks (each returns its problems, one line per entry) -----------------------------------


def missing_entries(found: dict[Key, Found], po_path: Path) -> list[str]:
    """Strings in the code that the catalogue lacks, holds only as obsolete, or holds with
    another msgid_plural."""
    po = polib.pofile(str(po_path))
    live = live_entries(po)
    obsolete = {(e.msgctxt, e.msgid) for e in po.obsolete_entries()}
    problems = []
    for key, item in sorted(found.items(), key=lambda kv: kv[1].where):
        entry = live.get(key)
        if entry is None:
            state = "is obsolete (#~)" if key in obsolete else "is missing"
            problems.append(f"{item.where}: {_label(item)} {state} in {po_path}")
        elif (entry.msgid_plural or None) != item.plural:
            problems.append(
                f"{item.where}: {_label(item)} has plural {item.plural!r} in the code but "
                f"{entry.msgid_plural or None!r} in {po_path}"
            )
    return problems


def stale_entries(found: dict[Key, Found], po_path: Path) -> list[str]:
    """Live catalogue entries that no string in the code asks for."""
    po = polib.pofile(str(po_path))
    return [
        f"{po_path}: {_label(entry)} is not used by the code"
        for key, entry in live_entries(po).items()
        if key not in found
    ]


def untranslated_entries(po_path: Path) -> list[str]:
    """Live entries that are fuzzy, empty, or lack a plural form."""
    po = polib.pofile(str(po_path))
    nplurals = _nplurals(po)
    problems = []
    for entry in live_entries(po).values():
        if "fuzzy" in entry.flags:
            problems.append(f"{po_path}: {_label(entry)} is fuzzy")
        if entry.msgid_plural:
            forms = entry.msgstr_plural
            absent = [i for i in range(nplurals) if not forms.get(i)]
            if absent:
                problems.append(
                    f"{po_path}: {_label(entry)} has no translation for plural form(s) {absent} "
                    f"(the header says nplurals={nplurals})"
                )
            extra = sorted(i for i in forms if i >= nplurals)
            if extra:
                problems.append(f"{po_path}: {_label(entry)} has extra plural form(s) {extra}")
        elif not entry.msgstr:
            problems.append(f"{po_path}: {_label(entry)} is not translated")
    return problems


def placeholder_mismatches(po_path: Path) -> list[str]:
    """Translations whose placeholders differ from the msgid's (msgid_plural's for every
    plural form: in Russian form 0 also serves 21, 31 ..., so it needs the count too)."""
    po = polib.pofile(str(po_path))
    problems = []
    for entry in live_entries(po).values():
        if entry.msgid_plural:
            expected = placeholders(entry.msgid_plural)
            if placeholders(entry.msgid) != expected:
                problems.append(
                    f"{po_path}: {_label(entry)}: msgid has {_show(placeholders(entry.msgid))} "
                    f"but msgid_plural has {_show(expected)}"
                )
            translations = [(f"msgstr[{i}]", s) for i, s in sorted(entry.msgstr_plural.items())]
        else:
            expected = placeholders(entry.msgid)
            translations = [("msgstr", entry.msgstr)]
        for name, text in translations:
            if text and placeholders(text) != expected:
                problems.append(
                    f"{po_path}: {_label(entry)}: {name} {text!r} has {_show(placeholders(text))}, "
                    f"the msgid has {_show(expected)}"
                )
    return problems


def msgid_differences(po_path: Path, other_path: Path) -> list[str]:
    """Live entries (with their plurals) in one catalogue and not the other."""

    def keys(path: Path) -> set[tuple[str | None, str, str | None]]:
        entries = live_entries(polib.pofile(str(path))).values()
        return {(e.msgctxt, e.msgid, e.msgid_plural or None) for e in entries}

    ours, theirs = keys(po_path), keys(other_path)
    return [
        f"{po_path} lacks {key!r} (in {other_path})" for key in sorted(theirs - ours, key=str)
    ] + [f"{po_path} has {key!r}, {other_path} does not" for key in sorted(ours - theirs, key=str)]


def _report(problems: list[str]) -> str:
    return f"{len(problems)} problem(s):\n" + "\n".join(problems)


# --- the real catalogues --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def code_strings() -> dict[Key, Found]:
    found = collect_strings(ROOT)
    # A guard against the collector silently finding nothing (a wrong root, say).
    assert len(found) > 100, f"only {len(found)} strings collected under {ROOT}"
    return found


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_code_string_is_in_the_catalogue(
    code_strings: dict[Key, Found], language: str
) -> None:
    problems = missing_entries(code_strings, catalogue_path(language))
    assert not problems, _report(problems)


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_entry_is_translated_and_not_fuzzy(language: str) -> None:
    problems = untranslated_entries(catalogue_path(language))
    assert not problems, _report(problems)


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_translations_keep_the_placeholders(language: str) -> None:
    problems = placeholder_mismatches(catalogue_path(language))
    assert not problems, _report(problems)


@pytest.mark.parametrize("language", (*TRANSLATED_LANGUAGES, "en"))
def test_no_entry_the_code_no_longer_uses(code_strings: dict[Key, Found], language: str) -> None:
    problems = stale_entries(code_strings, catalogue_path(language))
    assert not problems, _report(problems)


@pytest.mark.parametrize("language", (*TRANSLATED_LANGUAGES, "en"))
def test_no_entry_is_in_the_catalogue_twice(language: str) -> None:
    # GNU msgfmt refuses a catalogue with a duplicate; Python's reader keeps the last.
    po = polib.pofile(str(catalogue_path(language)))
    keys = [(entry.msgctxt, entry.msgid) for entry in po if not entry.obsolete]
    twice = sorted({key for key in keys if keys.count(key) > 1}, key=str)
    assert not twice, _report([f"{msgid!r} (context {context!r})" for context, msgid in twice])


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_english_catalogue_has_the_same_msgids(language: str) -> None:
    problems = msgid_differences(catalogue_path("en"), catalogue_path(language))
    assert not problems, _report(problems)


# --- the checks can fail: tiny sources and catalogues in tmp_path --------------------------------

PO_HEADER = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\\n"

"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tiny_source(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    _write(
        root / "app" / "views.py",
        "from django.utils.translation import gettext as _, npgettext_lazy\n"
        "TITLE = _('Proposals')\n"
        "COUNT = npgettext_lazy('tally', '%(count)s vote', '%(count)s votes', 'count')\n",
    )
    _write(
        root / "app" / "templates" / "page.html",
        "{% load i18n %}<h1>{% translate 'Home' context 'menu' %}</h1>\n"
        "{% blocktranslate trimmed with name=user.name %}\n"
        "  Hello,\n  {{ name }}\n{% endblocktranslate %}\n",
    )
    # Directories `make messages` skips: their strings must not count.
    _write(
        root / "tests" / "test_x.py",
        "from django.utils.translation import gettext\ngettext('Test only')\n",
    )
    _write(root / ".venv" / "lib.py", "_('Vendored')\n")
    return root


def _good_po() -> str:
    return PO_HEADER + (
        'msgid "Proposals"\nmsgstr "Предложения"\n\n'
        'msgctxt "tally"\nmsgid "%(count)s vote"\nmsgid_plural "%(count)s votes"\n'
        'msgstr[0] "%(count)s голос"\nmsgstr[1] "%(count)s голоса"\nmsgstr[2] "%(count)s голосов"\n\n'
        'msgctxt "menu"\nmsgid "Home"\nmsgstr "Главная"\n\n'
        'msgid "Hello, %(name)s"\nmsgstr "Здравствуйте, %(name)s"\n'
    )


def test_collector_reads_python_and_templates_as_makemessages_does(tiny_source: Path) -> None:
    found = collect_strings(tiny_source)
    assert set(found) == {
        (None, "Proposals"),
        ("tally", "%(count)s vote"),
        ("menu", "Home"),
        (None, "Hello, %(name)s"),  # trimmed, the variable as a named placeholder
    }
    assert found[("tally", "%(count)s vote")].plural == "%(count)s votes"


def test_a_good_tiny_catalogue_passes(tiny_source: Path, tmp_path: Path) -> None:
    po = _write(tmp_path / "ru.po", _good_po())
    found = collect_strings(tiny_source)
    assert missing_entries(found, po) == []
    assert stale_entries(found, po) == []
    assert untranslated_entries(po) == []
    assert placeholder_mismatches(po) == []
    assert msgid_differences(po, po) == []


def test_a_missing_entry_fails(tiny_source: Path, tmp_path: Path) -> None:
    po = _write(
        tmp_path / "ru.po", _good_po().replace('msgid "Proposals"\nmsgstr "Предложения"\n', "")
    )
    problems = missing_entries(collect_strings(tiny_source), po)
    assert len(problems) == 1 and "'Proposals' is missing" in problems[0]
    assert "app/views.py:2" in problems[0]


def test_an_obsolete_entry_counts_as_missing(tiny_source: Path, tmp_path: Path) -> None:
    text = _good_po().replace(
        'msgid "Proposals"\nmsgstr "Предложения"\n',
        '#~ msgid "Proposals"\n#~ msgstr "Предложения"\n',
    )
    problems = missing_entries(collect_strings(tiny_source), _write(tmp_path / "ru.po", text))
    assert len(problems) == 1 and "is obsolete" in problems[0]


def test_an_untranslated_template_string_fails(tiny_source: Path, tmp_path: Path) -> None:
    _write(
        tiny_source / "app" / "templates" / "new.txt",
        '{% load i18n %}{% translate "Withdraw" %}\n',
    )
    problems = missing_entries(collect_strings(tiny_source), _write(tmp_path / "ru.po", _good_po()))
    assert problems == [f"app/templates/new.txt:1: 'Withdraw' is missing in {tmp_path / 'ru.po'}"]


def test_a_changed_plural_fails(tiny_source: Path, tmp_path: Path) -> None:
    po = _write(tmp_path / "ru.po", _good_po().replace('"%(count)s votes"', '"%(count)s ballots"'))
    problems = missing_entries(collect_strings(tiny_source), po)
    assert len(problems) == 1 and "has plural '%(count)s votes' in the code" in problems[0]


def test_a_fuzzy_entry_fails(tmp_path: Path) -> None:
    po = _write(
        tmp_path / "ru.po", _good_po().replace('msgid "Proposals"', '#, fuzzy\nmsgid "Proposals"')
    )
    assert untranslated_entries(po) == [f"{po}: 'Proposals' is fuzzy"]


def test_an_empty_translation_or_plural_form_fails(tmp_path: Path) -> None:
    text = (
        _good_po()
        .replace('msgstr "Главная"', 'msgstr ""')
        .replace('msgstr[2] "%(count)s голосов"\n', "")
    )
    problems = untranslated_entries(_write(tmp_path / "ru.po", text))
    assert len(problems) == 2
    assert "'Home' (context 'menu') is not translated" in problems[0] + problems[1]
    assert "plural form(s) [2]" in problems[0] + problems[1]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('msgstr "Здравствуйте, %(name)s"', 'msgstr "Здравствуйте, %(имя)s"'),  # renamed
        ('msgstr "Здравствуйте, %(name)s"', 'msgstr "Здравствуйте, %(name)"'),  # cut short
        ('msgstr "Здравствуйте, %(name)s"', 'msgstr "Здравствуйте!"'),  # dropped
        ('msgstr[0] "%(count)s голос"', 'msgstr[0] "один голос"'),  # a plural form drops it
        ('msgstr "Предложения"', 'msgstr "Предложения {count}"'),  # one added
    ],
)
def test_a_broken_placeholder_fails(tmp_path: Path, old: str, new: str) -> None:
    text = _good_po()
    assert old in text
    problems = placeholder_mismatches(_write(tmp_path / "ru.po", text.replace(old, new)))
    assert len(problems) == 1, problems


def test_placeholders_are_read_as_python_reads_them() -> None:
    assert placeholders("%(n)d of %(total)s, 100%% done") == ({"%(n)d", "%(total)s"}, ())
    assert placeholders("%s and %.1f%%") == (frozenset(), ("%s", "%f"))
    assert placeholders("{name} said {{hi}} {0!r:>3}") == ({"{name}"}, ("{0}",))
    assert placeholders("Unknown language %(language)r.") == ({"%(language)r"}, ())


def test_a_stale_entry_fails(tiny_source: Path, tmp_path: Path) -> None:
    po = _write(tmp_path / "ru.po", _good_po() + '\nmsgid "Test only"\nmsgstr "Только тест"\n')
    problems = stale_entries(collect_strings(tiny_source), po)
    assert problems == [f"{po}: 'Test only' is not used by the code"]


def test_an_english_catalogue_with_other_msgids_fails(tmp_path: Path) -> None:
    ru = _write(tmp_path / "ru.po", _good_po())
    en = _write(tmp_path / "en.po", _good_po().replace('msgid "Proposals"', 'msgid "Proposal"'))
    problems = msgid_differences(en, ru)
    assert problems == [
        f"{en} lacks (None, 'Proposals', None) (in {ru})",
        f"{en} has (None, 'Proposal', None), {ru} does not",
    ]
