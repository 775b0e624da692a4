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

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from proposals.duplicates.fingerprint import proposal_text, text_hash
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
    """Published proposals with their themes: a moderator approved them with those themes
    (chosen, kept or left ticked as suggested), so they are the labels to learn from."""
    through = Proposal.themes.through
    published = Proposal.objects.filter(status=Proposal.Status.PUBLISHED)
    seen: set[object] = set()
    last = 0
    while True:
        chunk = list(
            published.filter(id__gt=last)
            .order_by("id")
            .values_list("id", "language", "title", "body", "fingerprint__group")[:2000]
        )
        if not chunk:
            return
        last = chunk[-1][0]
        themes: dict[int, list[str]] = defaultdict(list)
        for proposal_id, slug in through.objects.filter(
            proposal_id__in=[row[0] for row in chunk]
        ).values_list("proposal_id", "theme__slug"):
            themes[proposal_id].append(slug)
        for proposal_id, language, title, body, group in chunk:
            if not themes[proposal_id]:
                continue
            # A campaign teaches once: its hundred copies would make its incidental words
            # (a street, a school number) look like the theme's own.
            text = proposal_text(title, body)
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
    """Train a new model from the confirmed proposals and put it in use if it is at least as
    accurate on the evaluation texts as the vocabulary alone and as the model in use. None
    when too little is new since the last model (in use or not)."""
    newest = SuggesterModel.objects.order_by("-created_at", "-id").first()
    confirmed = Proposal.objects.filter(status=Proposal.Status.PUBLISHED).count()
    if not force and confirmed < (newest.trained_on if newest else 0) + RETRAIN_AFTER:
        return None
    examples = list(confirmed_examples())
    now = timezone.now()
    version = f"learned-{SuggesterModel.objects.count() + 1}-{now:%Y%m%d-%H%M%S}"
    learned = learn(examples)
    accuracy = {
        "model": _accuracy(suggester_with(learned, version)),
        "vocabulary": _accuracy(Suggester.from_vocabulary()),
    }
    active = SuggesterModel.objects.filter(active=True).first()
    to_beat = sum(accuracy["vocabulary"].values())
    if active is not None:
        to_beat = max(to_beat, sum(active.accuracy.get("model", {}).values()))
    better = sum(accuracy["model"].values()) >= to_beat
    try:
        with transaction.atomic():
            if better:
                SuggesterModel.objects.filter(active=True).update(active=False)
            return SuggesterModel.objects.create(
                version=version,
                created_at=now,
                # What the next run compares with: every published proposal, copies included.
                trained_on=confirmed,
                learned=learned,
                accuracy=accuracy,
                active=better,
            )
    except IntegrityError:
        # Another run (the task and the command at once) made its model this very second.
        return None


@lru_cache(maxsize=2)
def _loaded(version: str) -> Suggester:
    model = SuggesterModel.objects.get(version=version)
    return suggester_with(model.learned, version)


def current_suggester() -> Suggester:
    """The active learned model, or the vocabulary alone before any (or without a database:
    `suggest_themes` must work on a bare checkout)."""
    from proposals.suggest.suggester import default_suggester

    try:
        # A savepoint: a failed query inside a caller's transaction must not spoil it.
        with transaction.atomic():
            version = (
                SuggesterModel.objects.filter(active=True).values_list("version", flat=True).first()
            )
    except DatabaseError:  # no database, or not migrated yet
        return default_suggester()
    return _loaded(version) if version else default_suggester()
