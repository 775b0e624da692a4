"""Grouping near-duplicates: time and memory of a whole-strategy regrouping, and how well the
groups match the campaigns that made them, beside plain exact-text matching.

    DATABASE_URL=postgres://... .venv/bin/python bench/duplicates.py --proposals 100000

Texts are generated from the evaluation texts of the theme suggester (three languages):
most are single proposals, the rest campaigns of 2 to 400 copies of one text, each copy with
small changes (a word dropped or swapped, a typo, case and punctuation, a sentence added).
The strategy is written to the database once; then a fresh process runs the real
`duplicates_refresh(full=True)` (read every text, sign, band, group, write fingerprints,
bands and groups) and reports its wall time and peak memory; then 200 new proposals are
added one refresh each (the incremental path after a submission).
"""

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import time
from collections import defaultdict
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic.settings")
# A developer's run, like `make run`: debug on unless the environment says otherwise.
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.data import drop  # noqa: E402
from civic.accounts.models import User  # noqa: E402
from proposals.duplicates import fingerprint as fp  # noqa: E402
from proposals.duplicates.services import duplicates_refresh, group_signatures  # noqa: E402
from proposals.models import Fingerprint, Proposal  # noqa: E402
from strategy.models import Strategy  # noqa: E402

SLUG = "bench-duplicates"
EVAL = ROOT / "proposals" / "suggest" / "eval"
EXTRA = {
    "ru": "Прошу рассмотреть как можно скорее.",
    "kk": "Осы мәселені тезірек қарауды сұраймын.",
    "en": "Please look at this as soon as possible.",
}


def _sentences() -> dict[str, list[str]]:
    """Every sentence of the evaluation texts, by language."""
    found: dict[str, list[str]] = {}
    for language in ("ru", "kk", "en"):
        lines = (EVAL / f"{language}.jsonl").read_text(encoding="utf-8").splitlines()
        texts = [json.loads(line)["text"] for line in lines if line.strip()]
        found[language] = sorted(
            {s.strip() for text in texts for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()}
        )
    return found


def _original(rng: random.Random, sentences: dict[str, list[str]]) -> tuple[str, str]:
    # Four to six sentences of one language in a random order, with a house number: residents
    # write about the same things in the same words, but two originals share at most a
    # sentence or two.
    language = rng.choice(("ru", "kk", "en"))
    picked = rng.sample(sentences[language], rng.randint(4, 6))
    return language, f"{' '.join(picked)} {rng.randint(1, 300)}"


def _variant(rng: random.Random, text: str, language: str) -> str:
    words = text.split()
    for _ in range(rng.randint(0, 2)):
        change = rng.random()
        at = rng.randrange(len(words))
        if change < 0.3 and len(words) > 10:
            del words[at]
        elif change < 0.6:
            other = rng.randrange(len(words))
            words[at], words[other] = words[other], words[at]
        elif len(words[at]) > 3:
            cut = rng.randrange(1, len(words[at]) - 1)
            words[at] = words[at][:cut] + words[at][cut + 1 :]  # a typo
    out = " ".join(words)
    if rng.random() < 0.3:
        out = out.lower()
    if rng.random() < 0.3:
        out = out.replace(",", "").replace(".", "!")
    if rng.random() < 0.3:
        out = f"{out} {EXTRA[language]}"
    return out


def generate(count: int, seed: int = 7) -> tuple[list[tuple[str, str]], list[int]]:
    """`count` (language, text) pairs and the campaign each belongs to (its own index when
    it is a single proposal)."""
    rng = random.Random(seed)
    sentences = _sentences()
    texts: list[tuple[str, str]] = []
    campaign: list[int] = []
    while len(texts) < count:
        language, text = _original(rng, sentences)
        copies = 1 if rng.random() < 0.85 else min(int(rng.paretovariate(1.2)) + 1, 400)
        label = len(texts)
        for n in range(min(copies, count - len(texts))):
            texts.append((language, text if n == 0 else _variant(rng, text, language)))
            campaign.append(label)
    return texts, campaign


def _title_body(text: str) -> tuple[str, str]:
    """The title and body a generated text is stored with (the same in memory and in the
    database, so both runs sign the same text)."""
    return text[:60].strip() or "Предложение", text[:10_000].ljust(20, ".")


def _proposal(
    strategy: Strategy, author: User, code: str, language: str, text: str, *, published: bool
) -> Proposal:
    """An unsaved proposal of a generated text, published or pending."""
    title, body = _title_body(text)
    now = timezone.now()
    return Proposal(
        code=code,
        strategy=strategy,
        author=author,
        title=title,
        body=body,
        language=language,
        status="published" if published else "pending",
        created_at=now,
        updated_at=now,
        published_at=now if published else None,
    )


def write_strategy(texts: list[tuple[str, str]]) -> Strategy:
    for old in Strategy.objects.filter(slug=SLUG):
        drop(old)
    author, _ = User.objects.get_or_create(
        email="bench@example.org", defaults={"display_name": "bench"}
    )
    with transaction.atomic():
        strategy = Strategy.objects.create(
            slug=SLUG, code_prefix="DUP", status="open", title_ru="Бенчмарк дубликатов"
        )
        Proposal.objects.bulk_create(
            (
                _proposal(strategy, author, f"DUP-{n:08d}", language, text, published=True)
                for n, (language, text) in enumerate(texts, start=1)
            ),
            batch_size=5_000,
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return strategy


def pairs_quality(found: list[int], truth: list[int]) -> tuple[float, float]:
    """Pairwise precision and recall of a grouping against the campaigns."""

    def pairs(labels: list[int]) -> set[tuple[int, int]]:
        members: dict[int, list[int]] = defaultdict(list)
        for index, label in enumerate(labels):
            members[label].append(index)
        return {pair for ids in members.values() for pair in combinations(ids, 2)}

    found_pairs, true_pairs = pairs(found), pairs(truth)
    hits = len(found_pairs & true_pairs)
    precision = hits / len(found_pairs) if found_pairs else 1.0
    recall = hits / len(true_pairs) if true_pairs else 1.0
    return precision, recall


def _peak_kib() -> int:
    # The process's own high-water mark. getrusage's ru_maxrss would carry the parent's peak
    # over the fork, and the parent holds every text in memory for the quality figures.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child() -> None:
    """The timed run, in a process of its own so its peak memory is the refresh's."""
    strategy = Strategy.objects.get(slug=SLUG)
    before = _peak_kib()
    started = time.perf_counter()
    result = duplicates_refresh(strategy_id=strategy.pk, full=True)
    elapsed = time.perf_counter() - started
    peak = _peak_kib()
    print(
        json.dumps(
            {
                "fingerprinted": result.fingerprinted,
                "seconds": elapsed,
                "peak_mib": peak / 1024,
                "start_mib": before / 1024,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proposals", type=int, default=100_000)
    parser.add_argument(
        "--campaign", type=int, default=0, help="then add one campaign of this many copies"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child()
        return

    texts, truth = generate(args.proposals)
    campaigns = len(set(truth))
    print(
        f"{connection.vendor}: {len(texts):,} proposals, {campaigns:,} distinct originals, "
        f"{len(texts) - campaigns:,} campaign copies"
    )
    p = fp.params()
    print(f"parameters: {p.name} (threshold {p.threshold}, {p.bands} bands of {p.rows})")

    # Quality, in memory, on the same texts: MinHash/LSH against exact-text matching.
    started = time.perf_counter()
    signatures = fp.signatures([fp.proposal_text(*_title_body(text)) for _, text in texts], p)
    groups = group_signatures(list(range(len(texts))), signatures, p)
    minhash_labels = [groups.find(i) for i in range(len(texts))]
    minhash_seconds = time.perf_counter() - started
    started = time.perf_counter()
    first_of: dict[str, int] = {}
    exact_labels = [
        first_of.setdefault(fp.text_hash(fp.proposal_text(*_title_body(text))), i)
        for i, (_, text) in enumerate(texts)
    ]
    exact_seconds = time.perf_counter() - started
    for name, labels, seconds in (
        ("near-duplicates (MinHash/LSH)", minhash_labels, minhash_seconds),
        ("baseline (exact text)", exact_labels, exact_seconds),
    ):
        precision, recall = pairs_quality(labels, truth)
        sizes: dict[int, int] = defaultdict(int)
        for label in labels:
            sizes[label] += 1
        grouped = sum(size for size in sizes.values() if size > 1)
        print(
            f"  {name}: {seconds:.2f} s in memory; {sum(1 for s in sizes.values() if s > 1):,} "
            f"groups holding {grouped:,} proposals; pairs precision {precision:.1%}, "
            f"recall {recall:.1%}"
        )

    started = time.perf_counter()
    strategy = write_strategy(texts)
    print(f"wrote the strategy in {time.perf_counter() - started:.1f} s (not timed below)")

    out = subprocess.run(  # noqa: S603 - our own script, in our own interpreter
        [sys.executable, __file__, "--child"],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ,
    )
    run = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"whole-strategy regrouping from the database: {run['fingerprinted']:,} proposals in "
        f"{run['seconds']:.1f} s; peak memory {run['peak_mib']:.0f} MiB "
        f"(of which {run['start_mib']:.0f} MiB before it started)"
    )
    stored = list(
        Fingerprint.objects.filter(strategy=strategy).order_by("proposal_id").values_list("group")
    )
    precision, recall = pairs_quality([g for (g,) in stored], truth)
    print(f"  stored groups: pairs precision {precision:.1%}, recall {recall:.1%}")

    # The incremental path: new submissions, one refresh each, as after real submissions.
    rng = random.Random(11)
    author = User.objects.get(email="bench@example.org")
    timings = []
    for n in range(200):
        language, text = texts[rng.randrange(len(texts))]
        if n % 2:
            text = _variant(rng, text, language)
        proposal = _proposal(strategy, author, f"DUP-NEW-{n:04d}", language, text, published=False)
        proposal.save()
        started = time.perf_counter()
        duplicates_refresh(strategy_id=strategy.pk, proposal_id=proposal.pk)
        timings.append(time.perf_counter() - started)
    timings.sort()
    print(
        f"incremental refresh after one submission: median {timings[100] * 1000:.1f} ms, "
        f"slowest {timings[-1] * 1000:.1f} ms (200 submissions)"
    )
    if args.campaign:
        _big_campaign(strategy, author, args.campaign)
    drop(strategy)


def _big_campaign(strategy: Strategy, author: User, copies: int) -> None:
    """One campaign of `copies` copies added at once: the lookups a resident and a moderator
    make against it, and the refresh after one more copy, must not grow with its size."""
    from proposals.duplicates.selectors import near_duplicates_of_text

    rng = random.Random(13)
    language, text = _original(rng, _sentences())
    Proposal.objects.bulk_create(
        (
            _proposal(
                strategy,
                author,
                f"DUP-BIG-{n:06d}",
                language,
                _variant(rng, text, language),
                published=True,
            )
            for n in range(copies)
        ),
        batch_size=5_000,
    )
    started = time.perf_counter()
    duplicates_refresh(strategy_id=strategy.pk)
    print(
        f"a campaign of {copies:,} copies added and grouped in {time.perf_counter() - started:.1f} s"
    )
    copy = _variant(rng, text, language)
    title, body = _title_body(copy)
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        found = near_duplicates_of_text(strategy=strategy, title=title, body=body)
        timings.append(time.perf_counter() - started)
    print(
        f"  'already proposed?' against it: median {sorted(timings)[10] * 1000:.1f} ms "
        f"({len(found)} shown)"
    )
    proposal = _proposal(strategy, author, "DUP-BIG-NEW", language, copy, published=False)
    proposal.save()
    started = time.perf_counter()
    duplicates_refresh(strategy_id=strategy.pk, proposal_id=proposal.pk)
    print(f"  refresh after one more copy: {(time.perf_counter() - started) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
