"""Stems of Russian, Kazakh and English words, so that "дорогам", "жолдарды" and "roads"
meet their vocabulary entries "дорога", "жол" and "road"."""

import re
from functools import lru_cache

import snowballstemmer

_RUSSIAN = snowballstemmer.stemmer("russian")
_ENGLISH = snowballstemmer.stemmer("english")

# Letters only Kazakh uses: a word with one of them is Kazakh, not Russian.
KAZAKH_LETTERS = frozenset("әғқңөұүһі")
# Residents often type Kazakh on a Russian keyboard (к for қ, о for ө): Kazakh words are
# compared with those letters folded onto their Russian neighbours.
KAZAKH_FOLD = str.maketrans("әғқңөұүһі", "агкноуухи")
_MIN_KEY = 3


@lru_cache(maxsize=65536)
def russian_stem(word: str) -> str:
    return _RUSSIAN.stemWord(word)


@lru_cache(maxsize=65536)
def english_stem(word: str) -> str:
    return _ENGLISH.stemWord(word)


def kazakh_key(word: str) -> str:
    """The key of a Kazakh vocabulary word: folded, without a final к/г/п/б.

    Kazakh is agglutinative (жол-дар-ы-на) and Snowball has no Kazakh stemmer. Endings
    only ever follow the stem, so a word is found by the longest vocabulary key it starts
    with; the final consonant goes because it voices before a vowel (көлік, көлігі).
    """
    key = word.casefold().translate(KAZAKH_FOLD)
    if len(key) > _MIN_KEY and key[-1] in "кгпб":
        key = key[:-1]
    return key


@lru_cache(maxsize=65536)
def kazakh_prefixes(word: str) -> tuple[str, ...]:
    """The prefixes of a word that may be a Kazakh vocabulary key, longest first."""
    folded = word.translate(KAZAKH_FOLD)
    return tuple(folded[:n] for n in range(len(folded), _MIN_KEY - 1, -1))


_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


def words(text: str) -> list[str]:
    """The words of a text, case-folded, ё read as е."""
    return _WORD.findall(text.casefold().replace("ё", "е"))
