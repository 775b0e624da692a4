"""Score a text against the vocabulary of every theme.

Each word of the text is stemmed (Russian, English) or matched by its longest Kazakh
vocabulary key; every theme that word belongs to gets its weight, shared between the
themes when a word belongs to several. Scores are each theme's share of the text's
evidence, best first, with the words that gave it.

Every text gets a best guess: one with no vocabulary word at all gets FALLBACK_THEME at
the score of knowing nothing (one theme in twelve), so no proposal waits without a theme
and a guess is never pre-ticked for a moderator.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from proposals.language import detect_language
from proposals.suggest.stemming import (
    KAZAKH_LETTERS,
    english_stem,
    kazakh_key,
    kazakh_prefixes,
    russian_stem,
    words,
)
from proposals.suggest.vocabulary import VOCABULARY

VERSION = "vocabulary-1"
# A theme with less than this share of the evidence is not suggested.
MIN_SHARE = 0.15
LIMIT = 3
# Housing and utilities are what residents write to a city about most (over half of the
# real appeals the suggester was measured on): the best guess when nothing else speaks.
FALLBACK_THEME = "housing_utilities"
THEME_COUNT = 12

Table = dict[str, dict[str, float]]


@dataclass(frozen=True)
class ThemeScore:
    slug: str
    score: float
    words: tuple[str, ...]


@dataclass(frozen=True)
class Suggestion:
    language: str
    themes: list[ThemeScore] = field(default_factory=list)
    version: str = VERSION


def vocabulary_tables(vocabulary: dict[str, dict[str, str]]) -> dict[str, Table]:
    keyed = {
        "ru": lambda w: russian_stem(w.casefold()),
        "en": lambda w: english_stem(w.casefold()),
        "kk": kazakh_key,
    }
    owners: dict[str, dict[str, set[str]]] = {lang: defaultdict(set) for lang in keyed}
    for slug, by_language in vocabulary.items():
        for language, entries in by_language.items():
            # Phrases are written with underscores; each of their words counts alone.
            for entry in words(entries.replace("_", " ")):
                owners[language][keyed[language](entry)].add(slug)
    # A word several themes share says less about each of them.
    return {
        language: {key: {slug: 1 / len(slugs) for slug in slugs} for key, slugs in table.items()}
        for language, table in owners.items()
    }


class Suggester:
    def __init__(self, tables: dict[str, Table], version: str = VERSION) -> None:
        self.tables = tables
        self.version = version

    @classmethod
    def from_vocabulary(cls) -> "Suggester":
        return cls(vocabulary_tables(VOCABULARY))

    def _evidence(self, word: str) -> tuple[str | None, dict[str, float]]:
        """The themes a word speaks for, and the language whose vocabulary it was found in."""
        if word.isascii():
            found = self.tables["en"].get(english_stem(word), {})
            return ("en" if found else None), found
        russian = {}
        if not KAZAKH_LETTERS.intersection(word):
            russian = self.tables["ru"].get(russian_stem(word), {})
        kazakh = self.tables["kk"]
        for prefix in kazakh_prefixes(word):
            if prefix in kazakh:
                merged = dict(russian)
                for slug, weight in kazakh[prefix].items():
                    merged[slug] = max(merged.get(slug, 0.0), weight)
                return ("ru" if russian else "kk"), merged
        return ("ru" if russian else None), russian

    def evidence(self, text: str) -> tuple[str, dict[str, float], dict[str, list[str]]]:
        """The text's language, each theme's share of its vocabulary evidence, and the
        words that gave each theme its share."""
        found = [(word, *self._evidence(word)) for word in words(text)]
        # A word without Kazakh letters found only among the Kazakh keys is Kazakh typed on
        # a Russian keyboard ("коликтер") or a Russian word that begins like one
        # ("количество" like "көлік"). One such word alone, in a text with no Kazakh
        # letter, is taken for the second: Kazakh typed that way has several.
        guessed = [w for w, language, _ in found if language == "kk" and not _has_kazakh(w)]
        trust_guessed = len(guessed) >= 2 or any(_has_kazakh(w) for w, _, _ in found)
        totals: dict[str, float] = defaultdict(float)
        drivers: dict[str, list[str]] = defaultdict(list)
        found_in: Counter[str] = Counter()
        for word, language, evidence in found:
            if not trust_guessed and word in guessed:
                continue
            if language:
                found_in[language] += 1
            for slug, weight in evidence.items():
                totals[slug] += weight
                if word not in drivers[slug]:
                    drivers[slug].append(word)
        evidence = sum(totals.values())
        language = detect_language(text)
        # A short Kazakh text may have too few Kazakh-only letters for the letter count
        # (or be typed on a Russian keyboard): its words say which vocabulary it speaks.
        if language == "ru" and found_in["kk"] > found_in["ru"]:
            language = "kk"
        return language, {slug: total / evidence for slug, total in totals.items()}, drivers

    def suggest(self, text: str, *, limit: int = LIMIT) -> Suggestion:
        language, shares, drivers = self.evidence(text)
        if not shares:
            shares = {FALLBACK_THEME: 1 / THEME_COUNT}
        return Suggestion(
            language=language, themes=ranked(shares, drivers, limit), version=self.version
        )

    def suggest_many(self, texts: list[str], *, limit: int = LIMIT) -> list[Suggestion]:
        return [self.suggest(text, limit=limit) for text in texts]


def _has_kazakh(word: str) -> bool:
    return bool(KAZAKH_LETTERS.intersection(word))


def ranked(
    scores: dict[str, float], drivers: dict[str, list[str]], limit: int = LIMIT
) -> list[ThemeScore]:
    """Best first: the best always, the others while they hold MIN_SHARE of the score."""
    order = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return [
        ThemeScore(slug=slug, score=round(score, 3), words=tuple(drivers.get(slug, [])[:5]))
        for position, (slug, score) in enumerate(order)
        if position == 0 or score >= MIN_SHARE
    ][:limit]


@lru_cache(maxsize=1)
def default_suggester() -> Suggester:
    return Suggester.from_vocabulary()
