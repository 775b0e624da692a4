import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from proposals.suggest.suggester import Suggestion
from proposals.suggest.training import current_suggester

BATCH = 256


class Command(BaseCommand):
    help = (
        'Suggest themes for texts: reads JSON lines {"text": ...} on standard input and writes '
        'one JSON line per input, {"language": ..., "themes": [{"slug": ..., "score": ...}]}, '
        "best first (every text gets at least one), by the model in use, or the vocabulary "
        "alone when there is none (no database needed)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--words", action="store_true", help="also give the words behind each theme"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        suggester = current_suggester()
        batch: list[str] = []
        for number, line in enumerate(sys.stdin, start=1):
            if not line.strip():
                continue
            try:
                text = json.loads(line)["text"]
                if not isinstance(text, str):
                    raise TypeError
            except (ValueError, KeyError, TypeError) as exc:
                raise CommandError(f'line {number}: expected {{"text": "..."}}') from exc
            batch.append(text)
            # The classifier reads texts faster together; answers still come in order.
            if len(batch) == BATCH:
                self._write(suggester.suggest_many(batch), words=options["words"])
                batch = []
        self._write(suggester.suggest_many(batch), words=options["words"])

    def _write(self, suggestions: list[Suggestion], *, words: bool) -> None:
        for suggestion in suggestions:
            themes = [
                {"slug": theme.slug, "score": theme.score}
                | ({"words": list(theme.words)} if words else {})
                for theme in suggestion.themes
            ]
            self.stdout.write(
                json.dumps({"language": suggestion.language, "themes": themes}, ensure_ascii=False)
            )
