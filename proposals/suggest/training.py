"""Learning from moderators: a classifier trained on the themes they confirmed.

The labels are the themes of published proposals: a moderator approved each with those
themes (chosen, kept, or left ticked as suggested). Copies of one campaign count once.

A new model is judged on the city's own proposals: the newest HOLDOUT_SHARE of the
confirmed ones are held out, a candidate is trained on the rest, and on the held-out ones
it must do at least as well as the vocabulary alone and as the model in use (on those the
model in use never saw), and in no language much worse. A language with fewer than MIN_JUDGED held-out proposals cannot
be judged that way: there, the written evaluation texts are a floor the candidate must
not fall below (by more than TOLERANCE). The model put in use is then trained on every confirmed proposal. Every
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
from proposals.suggest.classifier import BLEND_HALF, Classifier, Example, fit
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
# How much worse than what it would replace a candidate may be in one language (held-out
# proposals or written texts): a text or two in a hundred, such as vocabulary scores that
# tie and a model that learned little breaks either way.
TOLERANCE = 0.02
# Learn from the newest this many distinct proposals: older ones add little, and training
# on 100,000 stays within minutes and a gigabyte.
MAX_TEXTS = 50_000
# The blend weights a training may choose between (see classifier.py).
BLEND_CHOICES = (30, 100, 300, 1000)
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
    """Whether the candidate may be put in use, and the figures that decided it.

    On the held-out proposals as a whole it must do at least as well as the vocabulary
    and as the model in use; in each language judged, no worse than them by more than
    TOLERANCE (a text or two: one language's noise must not veto a gain on the whole)."""
    vocabulary = default_suggester()
    written = evaluation_sets()
    figures: dict[str, Any] = {"held_out": {}, "written": {}}
    pooled: dict[str, list[bool]] = defaultdict(list)
    better = True
    by_language = _by_language(held_out)
    for language in sorted(set(written) | set(by_language)):
        items = by_language.get(language, [])
        if len(items) >= MIN_JUDGED:
            hits = {"model": _hits(candidate, items), "vocabulary": _hits(vocabulary, items)}
            row: dict[str, Any] = {"texts": len(items)} | {k: _share(v) for k, v in hits.items()}
            row["baseline"] = _share([baseline_theme in item.themes for item in items])
            better &= row["model"] >= row["vocabulary"] - TOLERANCE
            # The model in use is compared only on what it never learned from.
            unseen = [i for i in items if in_use_until is None or i.confirmed_at > in_use_until]
            if in_use is not None and len(unseen) >= MIN_JUDGED:
                hits["model_on_unseen"] = _hits(candidate, unseen)
                hits["in_use_on_unseen"] = _hits(in_use, unseen)
                row["unseen_by_model_in_use"] = len(unseen)
                row["model_on_unseen"] = _share(hits["model_on_unseen"])
                row["in_use_on_unseen"] = _share(hits["in_use_on_unseen"])
                better &= row["model_on_unseen"] >= row["in_use_on_unseen"] - TOLERANCE
            for kind, kind_hits in hits.items():
                pooled[kind] += kind_hits
            figures["held_out"][language] = row
        elif language in written:
            # Too few of the city's own proposals to judge: the written texts are a floor.
            row = {
                "texts": len(written[language]),
                "model": _share(_hits(candidate, written[language])),
                "vocabulary": _share(_hits(vocabulary, written[language])),
            }
            better &= row["model"] >= row["vocabulary"] - TOLERANCE
            figures["written"][language] = row
    if pooled:
        whole = {kind: _share(kind_hits) for kind, kind_hits in pooled.items()}
        figures["held_out_whole"] = whole | {"texts": len(pooled["model"])}
        better &= whole["model"] >= whole["vocabulary"]
        if "in_use_on_unseen" in whole:
            better &= whole["model_on_unseen"] >= whole["in_use_on_unseen"]
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


def _blend_half(items: Sequence[Confirmed]) -> float:
    """How far to trust the classifier against the vocabulary, chosen on the newest share
    of these proposals by a classifier trained on the rest; ties go to the vocabulary."""
    cut = len(items) - math.ceil(len(items) * HOLDOUT_SHARE)
    check = items[cut:]
    probe = fit([item.example for item in items[:cut]]) if len(check) >= MIN_JUDGED else None
    if probe is None:
        return BLEND_HALF

    def top1(half: float) -> float:
        probe.blend_half = half
        return _share(_hits(LearnedSuggester(probe, "probe"), check))

    return max(BLEND_CHOICES, key=lambda half: (top1(half), half))


@dataclass
class Built:
    classifier: Classifier | None
    better: bool
    figures: dict[str, Any]


def build(
    confirmed: Sequence[Confirmed], in_use: Suggester | None, in_use_until: datetime | None
) -> Built:
    """Train on confirmed proposals (oldest first) and judge the result (the module's
    docstring says how); no database, so the benchmark measures exactly this."""
    confirmed = confirmed[-MAX_TEXTS:]
    held = math.ceil(len(confirmed) * HOLDOUT_SHARE) if len(confirmed) > 1 else 0
    training, held_out = confirmed[: len(confirmed) - held], confirmed[len(confirmed) - held :]
    final = fit([item.example for item in confirmed])
    if final is None:
        return Built(None, False, {})
    # Judged as trained without the held-out proposals; put in use as trained on them all.
    # The blend is chosen on the training part alone, so the held-out ones judge it too.
    final.blend_half = _blend_half(training)
    judged = fit([item.example for item in training]) or final
    judged.blend_half = final.blend_half
    primary = Counter(item.themes[0] for item in training or confirmed)
    better, figures = judge(
        LearnedSuggester(judged, "candidate"),
        in_use,
        in_use_until,
        held_out,
        primary.most_common(1)[0][0] if primary else FALLBACK_THEME,
    )
    figures["texts"] = {"training": len(training), "held_out": len(held_out)}
    figures["blend_half"] = final.blend_half
    return Built(final, better, figures)


def _retrain(confirmed_count: int) -> SuggesterModel | None:
    confirmed = confirmed_proposals()
    active = SuggesterModel.objects.filter(active=True).first()
    in_use = _loaded(active.version) if active is not None else None
    built = build(confirmed, in_use, active.trained_until if active is not None else None)
    if built.classifier is None:
        return None
    now = timezone.now()
    try:
        with transaction.atomic():
            if built.better:
                SuggesterModel.objects.filter(active=True).update(active=False)
            return SuggesterModel.objects.create(
                version=_version(now),
                created_at=now,
                # What the next run compares with: every published proposal, copies included.
                trained_on=confirmed_count,
                trained_until=confirmed[-1].confirmed_at,
                learned={
                    "themes": built.classifier.themes,
                    "languages": built.classifier.learned,
                    "blend_half": built.classifier.blend_half,
                },
                weights=built.classifier.to_bytes(),
                accuracy=built.figures,
                active=built.better,
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
        blend_half=model.learned["blend_half"],
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
