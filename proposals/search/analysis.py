"""The words of a text as search compares them: Russian and English word forms by their
Snowball stems, Kazakh ones by the stem left when their endings are taken off.

Pure functions, the same for the index and the query, on either database: PostgreSQL
stems Russian and English itself (its `russian` configuration, English words included)
and takes the Kazakh stems from here; SQLite's FTS5 index holds every stem from here.
"""

import re
from functools import lru_cache

from proposals.suggest.stemming import KAZAKH_FOLD, english_stem, russian_stem

# Letters and digits, so "42" and "2050" are words too; a word is at least two of them.
_WORD = re.compile(r"[^\W_]{2,}")
# A query longer than this is cut: each word is one more index probe.
MAX_QUERY_WORDS = 8

# Kazakh endings, one list for every slot: plural, possessive, case. A word loses the
# longest one it ends with, then the next, so жол-дар-ы-на comes back to жол.
_KAZAKH_ENDINGS = sorted(
    {
        # plural
        "лар",
        "лер",
        "дар",
        "дер",
        "тар",
        "тер",
        # possessive
        "ымыз",
        "іміз",
        "мыз",
        "міз",
        "ыңыз",
        "іңіз",
        "ңыз",
        "ңіз",
        "ым",
        "ім",
        "ың",
        "ің",
        "сы",
        "сі",
        "ы",
        "і",
        # genitive, accusative
        "ның",
        "нің",
        "дың",
        "дің",
        "тың",
        "тің",
        "ны",
        "ні",
        "ды",
        "ді",
        "ты",
        "ті",
        # dative
        "ға",
        "ге",
        "қа",
        "ке",
        "на",
        "не",
        # locative and its attributive -ғы/-гі
        "нда",
        "нде",
        "да",
        "де",
        "та",
        "те",
        "дағы",
        "дегі",
        "тағы",
        "тегі",
        "ндағы",
        "ндегі",
        # ablative, instrumental
        "нан",
        "нен",
        "дан",
        "ден",
        "тан",
        "тен",
        "мен",
        "бен",
        "пен",
    },
    key=len,
    reverse=True,
)
_VOWELS = frozenset("аәеёиоөуұүыіэюя")
# A consonant voiced before an ending comes back: көлігі → көлік, жолағы → жолақ.
_DEVOICE = str.maketrans({"г": "к", "ғ": "қ", "б": "п"})
_MAX_ENDINGS = 4


def normalise(text: str) -> str:
    """Case-folded, ё read as е: how both indexes receive text."""
    return text.casefold().replace("ё", "е")


def words(text: str) -> list[str]:
    return _WORD.findall(normalise(text))


def _cyrillic(word: str) -> bool:
    return any("а" <= letter <= "я" or letter in "әғқңөұүһі" for letter in word)


@lru_cache(maxsize=65536)
def kazakh_stem(word: str) -> str:
    """The stem of a (case-folded) Kazakh word, folded onto Russian letters.

    Folded because residents often type Kazakh on a Russian keyboard (к for қ). Applied to
    every Cyrillic word, Russian ones too: nothing in a word says which of the two it is.
    """
    stem = word
    for _ in range(_MAX_ENDINGS):
        for ending in _KAZAKH_ENDINGS:
            rest = stem[: -len(ending)]
            if stem.endswith(ending) and len(rest) >= 2 and _VOWELS.intersection(rest):
                stem = rest
                break
        else:
            break
    if stem != word:
        stem = stem[:-1] + stem[-1].translate(_DEVOICE)
    return stem.translate(KAZAKH_FOLD)


@lru_cache(maxsize=65536)
def stems(word: str) -> frozenset[str]:
    """Every form a (normalised) word is indexed and looked up under."""
    if word.isdigit():
        return frozenset((word,))
    if _cyrillic(word):
        return frozenset((russian_stem(word), kazakh_stem(word)))
    return frozenset((english_stem(word),))


def index_terms(text: str) -> str:
    """The text as FTS5 indexes it: every stem of every word, in order."""
    return " ".join(" ".join(sorted(stems(word))) for word in words(text))


def kazakh_terms(text: str) -> str:
    """The Kazakh stems of a text's Cyrillic words, which PostgreSQL's own
    configurations know nothing of."""
    return " ".join(kazakh_stem(word) for word in words(text) if _cyrillic(word))


def query_words(q: str) -> list[str]:
    """The distinct words of a query, in order, at most MAX_QUERY_WORDS."""
    return list(dict.fromkeys(words(q)))[:MAX_QUERY_WORDS]


def query_stems(q: str) -> frozenset[str]:
    return frozenset(stem for word in query_words(q) for stem in stems(word))
