"""Top-1 accuracy of the vocabulary suggester on the development texts, with its misses.

    .venv/bin/python bench/dev_suggester.py            # accuracy and every miss
    .venv/bin/python bench/dev_suggester.py --quiet    # accuracy only
    .venv/bin/python bench/dev_suggester.py --language kk
    DEV_FOLDER=/some/other/folder .venv/bin/python bench/dev_suggester.py

The development texts in proposals/suggest/dev/ were written to grow the vocabulary; they
are apart from the evaluation texts in proposals/suggest/eval/, which this never reads.
A miss shows the text, the themes it was written for, the themes suggested with their
shares and the words that drove each, and the words of the text no vocabulary knows.
"""

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic.settings")
# A developer's run, like `make run`: debug on unless the environment says otherwise.
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

from proposals.suggest.evaluation import best_themes, evaluation_sets  # noqa: E402
from proposals.suggest.stemming import words  # noqa: E402
from proposals.suggest.suggester import Suggester  # noqa: E402

DEV = Path(
    os.environ.get("DEV_FOLDER")
    or Path(__file__).resolve().parents[1] / "proposals" / "suggest" / "dev"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--language", choices=["ru", "kk", "en"], help="one language only")
    parser.add_argument("--quiet", action="store_true", help="accuracy only, no misses")
    args = parser.parse_args()
    suggester = Suggester.from_vocabulary()
    sets = evaluation_sets(DEV)
    totals = Counter()
    for language, items in sets.items():
        if args.language and language != args.language:
            continue
        best = best_themes(suggester, items)
        misses = [
            (item, slug)
            for item, slug in zip(items, best, strict=True)
            if slug not in item["themes"]
        ]
        hits = len(items) - len(misses)
        totals["hits"] += hits
        totals["texts"] += len(items)
        missed_by_theme = Counter(item["themes"][0] for item, _ in misses)
        print(f"{language}: {len(items)} texts, top-1 accuracy {hits / len(items):.1%}")
        if missed_by_theme:
            print(
                "  misses by theme: "
                + ", ".join(f"{t} {n}" for t, n in missed_by_theme.most_common())
            )
        if args.quiet:
            continue
        for item, slug in misses:
            suggestion = suggester.suggest(item["text"])
            got = "; ".join(
                f"{theme.slug} {theme.score:.2f} ({', '.join(theme.words)})"
                for theme in suggestion.themes
            )
            unknown = [word for word in words(item["text"]) if not suggester._evidence(word)[1]]
            print(f"  - {item['text']}")
            print(f"    expected {'/'.join(item['themes'])}, got {slug}: {got or 'nothing'}")
            print(f"    unknown: {' '.join(unknown)}")
    if totals["texts"]:
        print(
            f"all: {totals['texts']} texts, top-1 accuracy {totals['hits'] / totals['texts']:.1%}"
        )


if __name__ == "__main__":
    main()
