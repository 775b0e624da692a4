from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from proposals.suggest.evaluation import EVAL, best_themes, evaluation_sets
from proposals.suggest.suggester import default_suggester
from proposals.suggest.training import current_suggester


class Command(BaseCommand):
    help = (
        "Top-1 accuracy and per-theme precision and recall of the theme suggester on the "
        "evaluation texts in proposals/suggest/eval/<language>.jsonl, beside the baseline "
        "that always answers the most common theme."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--folder", default=str(EVAL), help="folder of <language>.jsonl files")
        parser.add_argument(
            "--vocabulary",
            action="store_true",
            help="evaluate the starting vocabulary alone, not the active learned model",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        suggester = default_suggester() if options["vocabulary"] else current_suggester()
        self.stdout.write(f"model: {suggester.version}")
        for language, items in evaluation_sets(Path(options["folder"])).items():
            primary = Counter(item["themes"][0] for item in items)
            common = primary.most_common(1)[0][0]
            best = best_themes(suggester, items)
            hits = sum(1 for item, slug in zip(items, best, strict=True) if slug in item["themes"])
            baseline = sum(1 for item in items if common in item["themes"])
            self.stdout.write(
                f"{language}: {len(items)} texts, top-1 accuracy {hits / len(items):.1%} "
                f"(baseline, always '{common}': {baseline / len(items):.1%})"
            )
            self.stdout.write(f"  {'theme':18} {'precision':>9} {'recall':>7} {'texts':>6}")
            for theme in sorted(primary):
                # Precision: of the texts given this theme first, those about it.
                # Recall: of the texts mainly about it, those given it first.
                given = [item for item, slug in zip(items, best, strict=True) if slug == theme]
                right = sum(1 for item in given if theme in item["themes"])
                found = sum(
                    1
                    for item, slug in zip(items, best, strict=True)
                    if item["themes"][0] == theme and slug == theme
                )
                precision = right / len(given) if given else 0.0
                self.stdout.write(
                    f"  {theme:18} {precision:>9.1%} {found / primary[theme]:>7.1%} "
                    f"{primary[theme]:>6}"
                )
