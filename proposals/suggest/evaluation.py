"""The evaluation texts and top-1 accuracy, shared by `evaluate_suggester` and training."""

import json
from pathlib import Path
from typing import Any

from proposals.suggest.suggester import Suggester

EVAL = Path(__file__).resolve().parent / "eval"


def evaluation_sets(folder: Path = EVAL) -> dict[str, list[dict[str, Any]]]:
    """{language: [{"text", "themes"}, ...]} from <folder>/<language>.jsonl."""
    return {
        path.stem: [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
        for path in sorted(folder.glob("*.jsonl"))
    }


def best_themes(suggester: Suggester, items: list[dict[str, Any]]) -> list[str | None]:
    suggestions = suggester.suggest_many([item["text"] for item in items])
    return [s.themes[0].slug if s.themes else None for s in suggestions]


def top1_accuracy(suggester: Suggester, items: list[dict[str, Any]]) -> float:
    """Share of texts whose best suggestion is one of their themes."""
    best = best_themes(suggester, items)
    hits = sum(1 for item, slug in zip(items, best, strict=True) if slug in item["themes"])
    return hits / len(items) if items else 0.0
