"""Learning from moderators: the words of confirmed proposals teach the suggester new keys.

A word key (a Russian or English stem, the first letters of a Kazakh word) that appears in
at least MIN_TEXTS confirmed proposals and mostly in proposals of one theme (MIN_SHARE)
speaks for that theme with weight LEARNED_WEIGHT × its share; copies of one campaign count
once. Keys of the starting vocabulary keep their
entries; the learned ones fill in what the vocabulary lacks (the words residents actually
use). A new model is kept only if it is at least as accurate as the vocabulary alone on the
evaluation texts, which it never sees while training.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from functools import lru_cache

from django.db import DatabaseError, transaction
from django.utils import timezone

from proposals.duplicates.fingerprint import text_hash
from proposals.models import Proposal, SuggesterModel
from proposals.suggest.evaluation import evaluation_sets, top1_accuracy
from proposals.suggest.stemming import english_stem, kazakh_key, russian_stem, words
from proposals.suggest.suggester import Suggester, Table, vocabulary_tables
from proposals.suggest.vocabulary import VOCABULARY

MIN_TEXTS = 3
MIN_SHARE = 0.6
# A learned key counts for less than a vocabulary word: vocabulary words were chosen for
# their theme, learned ones were only seen beside it.
LEARNED_WEIGHT = 0.3
# A Kazakh word is keyed by its first letters: endings pile up after the stem.
KAZAKH_KEY_LETTERS = 6
# Retrain only once this many more proposals have been confirmed since the last model.
RETRAIN_AFTER = 20

Example = tuple[str, str, list[str]]  # language, text, confirmed theme slugs


def _key(language: str, word: str) -> str:
    if language == "kk":
        return kazakh_key(word)[:KAZAKH_KEY_LETTERS]
    if language == "en":
        return english_stem(word)
    return russian_stem(word)


def confirmed_examples() -> Iterator[Example]:
    """Published proposals with their themes: a moderator confirmed those themes when
    approving (the decision replaces or keeps them), so they are the labels to learn from."""
    themes: dict[int, list[str]] = defaultdict(list)
    through = Proposal.themes.through
    for proposal_id, slug in through.objects.filter(
        proposal__status=Proposal.Status.PUBLISHED
    ).values_list("proposal_id", "theme__slug"):
        themes[proposal_id].append(slug)
    seen: set[object] = set()
    for proposal_id, language, title, body, group in (
        Proposal.objects.filter(pk__in=themes.keys())
        .order_by("id")
        .values_list("id", "language", "title", "body", "fingerprint__group")
        .iterator(chunk_size=2000)
    ):
        # A campaign teaches once: its hundred copies would make its incidental words
        # (a street, a school number) look like the theme's own.
        text = f"{title}\n{body}"
        copy_of = group if group is not None else text_hash(text)
        if copy_of in seen:
            continue
        seen.add(copy_of)
        yield language, text, themes[proposal_id]


def learn(examples: Iterable[Example]) -> dict[str, Table]:
    """{language: {key: {slug: weight}}} of the keys the examples teach."""
    texts_with: dict[str, Counter[str]] = defaultdict(Counter)
    theme_texts: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for language, text, slugs in examples:
        keys = {_key(language, word) for word in words(text)}
        for key in keys:
            texts_with[language][key] += 1
            for slug in slugs:
                theme_texts[language][key][slug] += 1
    learned: dict[str, Table] = {}
    for language, counts in texts_with.items():
        table: Table = {}
        for key, total in counts.items():
            if total < MIN_TEXTS:
                continue
            shares = {
                slug: round(LEARNED_WEIGHT * count / total, 3)
                for slug, count in theme_texts[language][key].items()
                if count / total >= MIN_SHARE
            }
            if shares:
                table[key] = shares
        learned[language] = table
    return learned


def suggester_with(learned: dict[str, Table], version: str) -> Suggester:
    tables = vocabulary_tables(VOCABULARY)
    for language, table in learned.items():
        base = tables.setdefault(language, {})
        for key, shares in table.items():
            base.setdefault(key, shares)
    return Suggester(tables, version=version)


def _accuracy(suggester: Suggester) -> dict[str, float]:
    return {
        language: round(top1_accuracy(suggester, items), 4)
        for language, items in evaluation_sets().items()
    }


def suggester_retrain(*, force: bool = False) -> SuggesterModel | None:
    """Train a new model from the confirmed proposals and make it the active one if it is
    no worse than the vocabulary alone. None when there was too little new to learn from."""
    examples = list(confirmed_examples())
    active = SuggesterModel.objects.filter(active=True).first()
    if not force and len(examples) < (active.trained_on if active else 0) + RETRAIN_AFTER:
        return None
    number = SuggesterModel.objects.count() + 1
    version = f"learned-{number}-{timezone.now():%Y%m%d}"
    learned = learn(examples)
    accuracy = {
        "model": _accuracy(suggester_with(learned, version)),
        "vocabulary": _accuracy(Suggester.from_vocabulary()),
    }
    better = sum(accuracy["model"].values()) >= sum(accuracy["vocabulary"].values())
    with transaction.atomic():
        if better:
            SuggesterModel.objects.filter(active=True).update(active=False)
        return SuggesterModel.objects.create(
            version=version,
            trained_on=len(examples),
            learned=learned,
            accuracy=accuracy,
            active=better,
        )


@lru_cache(maxsize=2)
def _loaded(version: str) -> Suggester:
    model = SuggesterModel.objects.get(version=version)
    return suggester_with(model.learned, version)


def current_suggester() -> Suggester:
    """The active learned model, or the vocabulary alone before any (or without a database:
    `suggest_themes` must work on a bare checkout)."""
    from proposals.suggest.suggester import default_suggester

    try:
        version = (
            SuggesterModel.objects.filter(active=True).values_list("version", flat=True).first()
        )
    except DatabaseError:  # no database, or not migrated yet
        return default_suggester()
    return _loaded(version) if version else default_suggester()
