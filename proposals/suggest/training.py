"""Learning from moderators: a classifier trained on the themes they confirmed.

The labels are the themes of published proposals: a moderator approved each with those
themes (chosen, kept, or left ticked as suggested). Copies of one campaign count once.

A new model is judged on the city's own proposals: the newest HOLDOUT_SHARE of the
confirmed ones are held out, a candidate is trained on the rest, and on the held-out ones
it must do at least as well as the vocabulary alone and as the model in use (on those the
model in use never saw). A language with fewer than MIN_JUDGED held-out proposals cannot
be judged that way: there, the written evaluation texts are a floor the candidate must
not fall below (by more than FLOOR_TOLERANCE). The model put in use is then trained on every confirmed proposal. Every
model is kept with its figures and data size; one is in use at most.
"""

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from proposals.duplicates.fingerprint import proposal_text, text_hash
from proposals.models import Proposal, SuggesterModel
from proposals.suggest.classifier import Classifier, Example, fit
from proposals.suggest.evaluation import evaluation_sets
from proposals.suggest.suggester import (
    FALLBACK_THEME,
    LIMIT,
    THEME_COUNT,
    Suggester,
    Suggestion,
    default_suggester,
    ranked,
)

# The newest share of confirmed proposals a candidate is judged on.
HOLDOUT_SHARE = 0.2
# Held-out proposals a language needs before they, not the written texts, judge it.
MIN_JUDGED = 30
# The written texts are a floor give or take one point: about one text in a hundred
# whose vocabulary scores tie, which a model that learned little breaks either way.
FLOOR_TOLERANCE = 0.01
LOCK = "suggester-retrain"
# Longer than any training (about a minute at 100,000 proposals); a crashed run's lock ends.
LOCK_SECONDS = 1800


@dataclass(frozen=True)
class Confirmed:
    language: str
    text: str
    themes: list[str]
    confirmed_at: datetime

    @property
    def example(self) -> Example:
        return self.language, self.text, self.themes


class LearnedSuggester(Suggester):
    """The vocabulary and a classifier together: each theme's score is the vocabulary's
    share of the evidence and the classifier's probability, weighed by how much the
    classifier learned in the text's language."""

    def __init__(self, classifier: Classifier, version: str) -> None:
        super().__init__(default_suggester().tables, version=version)
        self.classifier = classifier

    def suggest(self, text: str, *, limit: int = LIMIT) -> Suggestion:
        return self.suggest_many([text], limit=limit)[0]

    def suggest_many(self, texts: list[str], *, limit: int = LIMIT) -> list[Suggestion]:
        if not texts:
            return []
        classifier = self.classifier
        probabilities = classifier.probabilities(texts)
        suggestions = []
        for text, row in zip(texts, probabilities, strict=True):
            language, shares, drivers = self.evidence(text)
            weight = classifier.weight(language)
            # No vocabulary word: the vocabulary's guess is the fallback at the score of
            # knowing nothing, which a classifier that learned a little soon outweighs.
            shares = shares or {FALLBACK_THEME: 1 / THEME_COUNT}
            scores = {slug: (1 - weight) * share for slug, share in shares.items()}
            for slug, probability in zip(classifier.themes, row, strict=True):
                scores[slug] = scores.get(slug, 0.0) + weight * float(probability)
            themes = ranked(scores, drivers, limit)
            for position, theme in enumerate(themes):
                if not theme.words and weight and theme.slug in classifier.themes:
                    learned = tuple(classifier.words_for(text, theme.slug))
                    themes[position] = replace(theme, words=learned)
            suggestions.append(Suggestion(language=language, themes=themes, version=self.version))
        return suggestions


def confirmed_proposals() -> list[Confirmed]:
    """Published proposals with their themes, oldest confirmation first; the copies of a
    campaign (one near-duplicate group, or one text) are one proposal."""
    through = Proposal.themes.through
    published = Proposal.objects.filter(status=Proposal.Status.PUBLISHED)
    seen: set[object] = set()
    confirmed: list[Confirmed] = []
    last = 0
    while True:
        chunk = list(
            published.filter(id__gt=last)
            .order_by("id")
            .values_list("id", "language", "title", "body", "fingerprint__group", "published_at")[
                :2000
            ]
        )
        if not chunk:
            break
        last = chunk[-1][0]
        themes: dict[int, list[str]] = defaultdict(list)
        for proposal_id, slug in (
            through.objects.filter(proposal_id__in=[row[0] for row in chunk])
            .order_by("id")
            .values_list("proposal_id", "theme__slug")
        ):
            themes[proposal_id].append(slug)
        for proposal_id, language, title, body, group, published_at in chunk:
            if not themes[proposal_id]:
                continue
            # A campaign teaches once: its hundred copies would make its incidental words
            # (a street, a school number) look like the theme's own.
            text = proposal_text(title, body)
            copy_of = group if group is not None else text_hash(text)
            if copy_of in seen:
                continue
            seen.add(copy_of)
            confirmed.append(Confirmed(language, text, themes[proposal_id], published_at))
    confirmed.sort(key=lambda item: item.confirmed_at)
    return confirmed


def confirmed_examples() -> list[Example]:
    return [item.example for item in confirmed_proposals()]


def _hits(suggester: Suggester, items: Sequence[Confirmed | dict[str, Any]]) -> list[bool]:
    texts = [item.text if isinstance(item, Confirmed) else item["text"] for item in items]
    labels = [item.themes if isinstance(item, Confirmed) else item["themes"] for item in items]
    return [
        bool(suggestion.themes) and suggestion.themes[0].slug in themes
        for suggestion, themes in zip(suggester.suggest_many(texts), labels, strict=True)
    ]


def _share(hits: list[bool]) -> float:
    return round(sum(hits) / len(hits), 4) if hits else 0.0


def _by_language(items: Sequence[Confirmed]) -> dict[str, list[Confirmed]]:
    grouped: dict[str, list[Confirmed]] = defaultdict(list)
    for item in items:
        grouped[item.language].append(item)
    return dict(grouped)


def judge(
    candidate: Suggester,
    in_use: Suggester | None,
    in_use_until: datetime | None,
    held_out: Sequence[Confirmed],
    baseline_theme: str,
) -> tuple[bool, dict[str, Any]]:
    """Whether the candidate may be put in use, and the figures that decided it."""
    vocabulary = default_suggester()
    written = evaluation_sets()
    figures: dict[str, Any] = {"held_out": {}, "written": {}}
    better = True
    for language in sorted(set(written) | {item.language for item in held_out}):
        items = _by_language(held_out).get(language, [])
        if len(items) >= MIN_JUDGED:
            row = {
                "texts": len(items),
                "model": _share(_hits(candidate, items)),
                "vocabulary": _share(_hits(vocabulary, items)),
                "baseline": _share([baseline_theme in item.themes for item in items]),
            }
            better &= row["model"] >= row["vocabulary"]
            # The model in use is compared only on what it never learned from.
            unseen = [i for i in items if in_use_until is None or i.confirmed_at > in_use_until]
            if in_use is not None and len(unseen) >= MIN_JUDGED:
                row["unseen_by_model_in_use"] = len(unseen)
                row["model_on_unseen"] = _share(_hits(candidate, unseen))
                row["in_use_on_unseen"] = _share(_hits(in_use, unseen))
                better &= row["model_on_unseen"] >= row["in_use_on_unseen"]
            figures["held_out"][language] = row
        elif language in written:
            # Too few of the city's own proposals to judge: the written texts are a floor.
            row = {
                "texts": len(written[language]),
                "model": _share(_hits(candidate, written[language])),
                "vocabulary": _share(_hits(vocabulary, written[language])),
            }
            better &= row["model"] >= row["vocabulary"] - FLOOR_TOLERANCE
            figures["written"][language] = row
    return better, figures


def _version(now: datetime) -> str:
    return f"learned-{SuggesterModel.objects.count() + 1}-{now:%Y%m%d-%H%M%S}"


def suggester_retrain(*, force: bool = False) -> SuggesterModel | None:
    """Train a new model from the confirmed proposals and put it in use if it is judged at
    least as good (see the module's docstring). None when too little is new since the last
    model (in use or not), or when the confirmed proposals name fewer than two themes."""
    newest = SuggesterModel.objects.order_by("-created_at", "-id").first()
    confirmed_count = Proposal.objects.filter(status=Proposal.Status.PUBLISHED).count()
    # Only once enough more proposals are confirmed than the last model (in use or not) saw.
    due = (newest.trained_on if newest else 0) + settings.CIVIC_SUGGESTER_RETRAIN_AFTER
    if not force and confirmed_count < due:
        return None
    # One training at a time: approvals and the periodic run may all find it due at once.
    if not cache.add(LOCK, True, timeout=LOCK_SECONDS):
        return None
    try:
        return _retrain(confirmed_count)
    finally:
        cache.delete(LOCK)


def _retrain(confirmed_count: int) -> SuggesterModel | None:
    confirmed = confirmed_proposals()
    held = math.ceil(len(confirmed) * HOLDOUT_SHARE) if len(confirmed) > 1 else 0
    training, held_out = confirmed[: len(confirmed) - held], confirmed[len(confirmed) - held :]
    final = fit([item.example for item in confirmed])
    if final is None:
        return None
    now = timezone.now()
    version = _version(now)
    # Judged as trained without the held-out proposals; put in use as trained on them all.
    judged = fit([item.example for item in training])
    candidate = LearnedSuggester(judged or final, version)
    active = SuggesterModel.objects.filter(active=True).first()
    in_use = _loaded(active.version) if active is not None else None
    primary = Counter(item.themes[0] for item in training or confirmed)
    better, figures = judge(
        candidate,
        in_use,
        active.trained_until if active is not None else None,
        held_out,
        primary.most_common(1)[0][0] if primary else FALLBACK_THEME,
    )
    figures["texts"] = {"training": len(training), "held_out": len(held_out)}
    try:
        with transaction.atomic():
            if better:
                SuggesterModel.objects.filter(active=True).update(active=False)
            return SuggesterModel.objects.create(
                version=version,
                created_at=now,
                # What the next run compares with: every published proposal, copies included.
                trained_on=confirmed_count,
                trained_until=confirmed[-1].confirmed_at,
                learned={
                    "themes": final.themes,
                    "languages": final.learned,
                    "prior": final.prior,
                },
                weights=final.to_bytes(),
                accuracy=figures,
                active=better,
            )
    except IntegrityError:
        # Another run (the task and the command at once) made its model this very second.
        return None


@lru_cache(maxsize=2)
def _loaded(version: str) -> Suggester:
    model = SuggesterModel.objects.get(version=version)
    if model.weights is None:  # a model of the word-key method before the classifier
        return default_suggester()
    classifier = Classifier.from_bytes(
        bytes(model.weights),
        themes=model.learned["themes"],
        learned=model.learned["languages"],
        prior=model.learned["prior"],
    )
    return LearnedSuggester(classifier, version)


def current_suggester() -> Suggester:
    """The model in use, or the vocabulary alone before any (or without a database:
    `suggest_themes` must work on a bare checkout)."""
    try:
        # A savepoint: a failed query inside a caller's transaction must not spoil it.
        with transaction.atomic():
            version = (
                SuggesterModel.objects.filter(active=True).values_list("version", flat=True).first()
            )
    except DatabaseError:  # no database, or not migrated yet
        return default_suggester()
    return _loaded(version) if version else default_suggester()
