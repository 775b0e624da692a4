"""The Russian texts keep one ё convention: ё everywhere it belongs (учётная, истёк, ещё, её,
отчёт, «всё равно»), never the same word once with ё and once with е.

The words spelled with ё are collected from the ru catalogue's msgstrs and from the other
Russian texts residents read (the terms, the demo strategy), plus a short explicit list; a
text that spells one of them with е fails, naming the catalogue entry or the file and line.

Not checked: the texts residents write and the suggester's vocabulary (proposals/suggest/):
residents type е for ё, and the suggester folds ё to е on purpose.
"""

import re
from collections.abc import Iterator
from pathlib import Path

import polib
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
CATALOGUE = ROOT / "frontend" / "locale" / "ru" / "LC_MESSAGES" / "django.po"
TEXTS = (
    ROOT / "civic" / "accounts" / "terms" / "2026-11" / "ru.md",
    ROOT / "strategy" / "demo" / "almaty-2050.ru.md",
    ROOT / "strategy" / "demo" / "revised" / "almaty-2050.ru.md",
)
# The counter under the proposal form speaks Russian from the script, not the catalogue.
SCRIPT = ROOT / "frontend" / "static" / "frontend" / "civic.js"
SCRIPT_RU = re.compile(r"\bru: \{[^}]*\}")

# Common words that need ё, whether or not the catalogue uses them today.
ALWAYS_YO = frozenset({"ещё", "её", "истёк", "учёт", "отчёт", "счёт", "расчёт", "подсчёт"})
# Stems whose every form keeps the ё. (Not «счёт»: its plural счета́ is written with е.)
YO_STEMS = ("учётн", "отчёт", "подсчёт", "расчёт")
# «все» is a word of its own ("all, everyone"), so it is flagged only in phrases that always
# mean «всё».
YO_PHRASES = {"все равно": "всё равно", "все-таки": "всё-таки"}
# Words written with е that are right as they are, although a ё-word folds to them
# (все/всё, всем/всём, небо/нёбо, слез/слёз, узнаем/узнаём, совершенно/совершённо, ...).
VALID_WITH_E = frozenset(
    {"все", "всем", "небо", "слез", "узнаем", "совершенно", "осел", "чем", "нем", "берет", "падеж"}
)

RUSSIAN_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
ONLY_RUSSIAN = re.compile(r"[а-яё]+(?:-[а-яё]+)*")

Place = tuple[str, str]  # (where, text): "msgid '…'" or "path:line"


def catalogue_places() -> Iterator[Place]:
    """Every translated text of the ru catalogue, named by its msgid (and plural form)."""
    for entry in polib.pofile(str(CATALOGUE)):
        if entry.obsolete:
            continue
        name = f"msgid {entry.msgid!r}" + (f" (msgctxt {entry.msgctxt!r})" if entry.msgctxt else "")
        if entry.msgstr_plural:
            for form, text in sorted(entry.msgstr_plural.items()):
                yield f"{name} msgstr[{form}]", text
        else:
            yield name, entry.msgstr


def file_places() -> Iterator[Place]:
    """The other Russian texts line by line, named by path and line number."""
    for path in TEXTS:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            yield f"{path.relative_to(ROOT)}:{number}", line
    for number, line in enumerate(SCRIPT.read_text(encoding="utf-8").splitlines(), 1):
        for match in SCRIPT_RU.finditer(line):
            yield f"{SCRIPT.relative_to(ROOT)}:{number}", match.group()


def russian_words(text: str) -> list[str]:
    """Lower-case Russian words; a word with a Kazakh or Latin letter is not Russian."""
    words = (word.lower() for word in RUSSIAN_WORD.findall(text))
    return [word for word in words if ONLY_RUSSIAN.fullmatch(word)]


def yo_words(places: list[Place]) -> frozenset[str]:
    """The words these texts spell with ё, and the ones that always take it."""
    found = {word for _, text in places for word in russian_words(text) if "ё" in word}
    return frozenset(found | ALWAYS_YO)


def misspellings(places: list[Place]) -> list[str]:
    """Each word spelled with е where the texts (or the rule) spell it with ё."""
    with_e = {word.replace("ё", "е"): word for word in yo_words(places)}
    for word in VALID_WITH_E:
        with_e.pop(word, None)
    stems = {stem.replace("ё", "е"): stem for stem in YO_STEMS}
    found = []
    for where, text in places:
        for word in russian_words(text):
            right = with_e.get(word) or next(
                (stems[s] + word[len(s) :] for s in stems if word.startswith(s)), None
            )
            if right:
                found.append(f"{where}: «{word}» should be «{right}»")
        lowered = text.lower()
        found += [
            f"{where}: «{wrong}» should be «{right}»"
            for wrong, right in YO_PHRASES.items()
            if re.search(rf"(?<!\w){re.escape(wrong)}(?!\w)", lowered)
        ]
    return found


def test_the_russian_texts_spell_each_word_with_yo_the_same_way() -> None:
    places = [*catalogue_places(), *file_places()]
    assert places, "no Russian text was read"
    found = misspellings(places)
    assert not found, "\n".join(found)


def test_a_word_spelled_with_e_is_caught() -> None:
    """The check itself: a catalogue text and a file line that drop the ё are both named."""
    places = [
        ("msgid 'This account is closed.'", "Эта учетная запись закрыта."),
        ("msgid 'Report'", "Отчёт"),
        ("terms.md:3", "Отчет готов, но мне все равно. Все жители его видят."),
    ]
    assert misspellings(places) == [
        "msgid 'This account is closed.': «учетная» should be «учётная»",
        "terms.md:3: «отчет» should be «отчёт»",
        "terms.md:3: «все равно» should be «всё равно»",
    ]
