"""How many texts a second the theme suggester handles on one core, after start-up, beside
the plain baseline that always answers the most common theme.

    .venv/bin/python bench/suggest.py --texts 20000

The texts are the evaluation texts of proposals/suggest/eval/, repeated; suggestions are
not cached, so repeating them costs the same as new texts.
"""

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic.settings")
# A developer's run, like `make run`: debug on unless the environment says otherwise.
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

from proposals.suggest.suggester import Suggester  # noqa: E402

EVAL = Path(__file__).resolve().parents[1] / "proposals" / "suggest" / "eval"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=20_000)
    args = parser.parse_args()
    items = [
        json.loads(line)
        for path in sorted(EVAL.glob("*.jsonl"))
        for line in path.read_text("utf-8").splitlines()
        if line
    ]
    texts = [items[n % len(items)]["text"] for n in range(args.texts)]
    started = time.perf_counter()
    suggester = Suggester.from_vocabulary()
    print(f"start-up: {time.perf_counter() - started:.3f} s; {len(items)} distinct texts")

    common = Counter(item["themes"][0] for item in items).most_common(1)[0][0]
    started = time.perf_counter()
    answers = [common for _ in texts]
    baseline = time.perf_counter() - started

    # The stem caches are cleared first, so the run starts as cold as a new process.
    from proposals.suggest import stemming

    for cached in (stemming.russian_stem, stemming.english_stem, stemming.kazakh_prefixes):
        cached.cache_clear()
    distinct = [item["text"] for item in items]
    started = time.perf_counter()
    for text in distinct:
        suggester.suggest(text)
    cold = time.perf_counter() - started
    print(f"suggester, every word new: {len(distinct) / cold:,.0f} texts/s")
    started = time.perf_counter()
    for text in texts:
        suggester.suggest(text)
    elapsed = time.perf_counter() - started
    print(
        f"suggester, words seen before: {len(texts) / elapsed:,.0f} texts/s "
        f"({elapsed:.2f} s for {len(texts):,})"
    )
    print(f"baseline (always '{common}'): {len(answers) / max(baseline, 1e-9):,.0f} texts/s")


if __name__ == "__main__":
    main()
