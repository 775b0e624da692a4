"""The suggester's learning curve: top-1 on held-out texts after learning from 0, 100, 300,
1,000 and 3,000 confirmed proposals, beside the vocabulary alone and the baseline that
always answers the most common theme; then training time and peak memory at 100,000
confirmed proposals, and suggestion speed on one core.

    .venv/bin/python bench/suggest_learning.py                      # our own texts
    .venv/bin/python bench/suggest_learning.py --data appeals.jsonl # anyone's labelled texts

--data takes JSON lines {"text": ..., "themes": [main, ...]} (optionally "language" and
"date"; dated texts are ordered by date, so the held-out share is the newest, as the
retrain judges). Without it the training pool is our development texts
(proposals/suggest/dev/) and the held-out set our evaluation texts (eval/): all written by
the team, so the curve shows that the learning works, not what it reaches on residents'
text. The 100,000 proposals for the time and memory figures are made from the same texts
with variation (a house number, a street, sentences of two texts joined).
"""

import argparse
import json
import os
import random
import resource
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path

# One core, as the aim says: BLAS would otherwise spread a batch over every core.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

from proposals.language import detect_language  # noqa: E402
from proposals.suggest.suggester import FALLBACK_THEME, default_suggester  # noqa: E402
from proposals.suggest.training import (  # noqa: E402
    MAX_TEXTS,
    Built,
    Confirmed,
    LearnedSuggester,
    build,
)

SUGGEST = Path(__file__).resolve().parents[1] / "proposals" / "suggest"
POINTS = [0, 100, 300, 1000, 3000]
STREETS = ["Абая", "Сейфуллина", "Толе би", "Жандосова", "Momyshuly", "Райымбека", "Гагарина"]


def _read(paths: list[Path]) -> list[dict]:
    items = []
    for path in paths:
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                item.setdefault("language", detect_language(item["text"]))
                items.append(item)
    return items


def _top1(suggester, items: list[dict]) -> float:
    suggestions = suggester.suggest_many([item["text"] for item in items])
    hits = sum(
        s.themes[0].slug in item["themes"] for s, item in zip(suggestions, items, strict=True)
    )
    return hits / len(items)


def _confirmed(items: list[dict]) -> list[Confirmed]:
    """As the retrain reads them, oldest first: one minute apart in the given order."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        Confirmed(item["language"], item["text"], item["themes"], start + timedelta(minutes=n))
        for n, item in enumerate(items)
    ]


def _trained(items: list[dict]) -> tuple[LearnedSuggester | None, Built]:
    """What a retrain makes of these: the classifier with its blend chosen on the data,
    and whether the retrain would put it in use."""
    built = build(_confirmed(items), None, None)
    model = LearnedSuggester(built.classifier, "bench") if built.classifier else None
    return model, built


def _varied(items: list[dict], count: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        first, second = rng.choice(items), rng.choice(items)
        text = f"{first['text']} Дом {rng.randint(1, 300)}, ул. {rng.choice(STREETS)}."
        themes = list(first["themes"])
        if rng.random() < 0.3:  # a text about two things, as residents write
            text += " " + second["text"]
            themes += [t for t in second["themes"] if t not in themes]
        made.append({"text": text, "themes": themes, "language": first["language"]})
    return made


def _train_at_scale(items: list[dict], count: int, queue) -> None:
    """In a child process, so that its peak memory is the training's alone: the whole
    retrain (three fits, the blend's choice, the judging), as the worker runs it."""
    confirmed = _confirmed(_varied(items, count))
    started = time.perf_counter()
    build(confirmed, None, None)
    queue.put((time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="labelled JSON lines; default: our own texts")
    parser.add_argument("--held-out", type=float, default=0.2, help="share held out (--data)")
    parser.add_argument("--scale", type=int, default=100_000, help="proposals for time/memory")
    parser.add_argument("--speed-texts", type=int, default=20_000)
    args = parser.parse_args()

    if args.data:
        items = _read([args.data])
        if all("date" in item for item in items):
            items.sort(key=lambda item: item["date"])
        else:
            random.Random(1).shuffle(items)
        cut = len(items) - int(len(items) * args.held_out)
        pool, held_out = items[:cut], items[cut:]
        source = f"{args.data}: {len(pool)} to learn from, the newest {len(held_out)} held out"
    else:
        pool = _read(sorted((SUGGEST / "dev").glob("*.jsonl")))
        random.Random(1).shuffle(pool)
        held_out = _read(sorted((SUGGEST / "eval").glob("*.jsonl")))
        source = (
            f"our texts: {len(pool)} development texts to learn from, "
            f"{len(held_out)} evaluation texts held out"
        )
    print(source)
    vocabulary = default_suggester()
    vocabulary_top1 = _top1(vocabulary, held_out)
    languages = Counter(item["language"] for item in held_out)
    print(f"held-out languages: {dict(languages)}")
    print()
    print(
        "| confirmed | learned model | the retrain would | vocabulary alone "
        "| always the most common theme |"
    )
    print("| ---: | ---: | --- | ---: | ---: |")
    for point in POINTS:
        if point > len(pool):
            print(f"| {point:,} | n/a: the pool has {len(pool):,} | | | |")
            continue
        learned_from = pool[:point]
        common = Counter(item["themes"][0] for item in learned_from).most_common(1)
        theme = common[0][0] if common else FALLBACK_THEME
        baseline = sum(theme in item["themes"] for item in held_out) / len(held_out)
        model, built = _trained(learned_from) if point else (None, None)
        verdict = "—"
        if built is not None and built.classifier is not None:
            verdict = (
                f"{'put it in use' if built.better else 'keep it inactive'} "
                f"(blend half {built.figures['blend_half']})"
            )
        top1 = _top1(model, held_out) if model else vocabulary_top1
        print(
            f"| {point:,} | {top1:.1%} | {verdict} | {vocabulary_top1:.1%} "
            f"| {baseline:.1%} ('{theme}') |"
        )

    print()
    queue = get_context("fork").SimpleQueue()
    child = get_context("fork").Process(target=_train_at_scale, args=(pool, args.scale, queue))
    child.start()
    seconds, peak_kib = queue.get()
    child.join()
    print(
        f"retrain on {args.scale:,} confirmed proposals (it learns from the newest "
        f"{min(args.scale, MAX_TEXTS):,}): {seconds:.1f} s, peak memory "
        f"{peak_kib / 1024:,.0f} MiB (the whole process, Django included)"
    )

    model, _ = _trained(pool)
    texts = [item["text"] for item in _varied(held_out, args.speed_texts, seed=3)]
    started = time.perf_counter()
    model.suggest_many(texts)
    batch = time.perf_counter() - started
    sample = texts[:2000]
    started = time.perf_counter()
    for text in sample:
        model.suggest(text)
    single = time.perf_counter() - started
    print(
        f"suggestion speed, one core: {len(texts) / batch:,.0f} texts/s in batches "
        f"(suggest_themes, the retrain's judging), {len(sample) / single:,.0f} texts/s "
        f"one at a time (a new proposal)"
    )


if __name__ == "__main__":
    main()
