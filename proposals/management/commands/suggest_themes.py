import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from proposals.suggest.training import current_suggester


class Command(BaseCommand):
    help = (
        'Suggest themes for texts: reads JSON lines {"text": ...} on standard input and writes '
        'one JSON line per input, {"language": ..., "themes": [{"slug": ..., "score": ...}]}, '
        "best first, by the active learned model, or the vocabulary alone when there is none "
        "(no database needed)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--words", action="store_true", help="also give the words behind each theme"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        suggester = current_suggester()
        for number, line in enumerate(sys.stdin, start=1):
            if not line.strip():
                continue
            try:
                text = json.loads(line)["text"]
                if not isinstance(text, str):
                    raise TypeError
            except (ValueError, KeyError, TypeError) as exc:
                raise CommandError(f'line {number}: expected {{"text": "..."}}') from exc
            suggestion = suggester.suggest(text)
            themes = [
                {"slug": theme.slug, "score": theme.score}
                | ({"words": list(theme.words)} if options["words"] else {})
                for theme in suggestion.themes
            ]
            self.stdout.write(
                json.dumps({"language": suggestion.language, "themes": themes}, ensure_ascii=False)
            )
