from typing import Any

from django.core.management.base import BaseCommand

from proposals.suggest.training import suggester_retrain


class Command(BaseCommand):
    help = (
        "Train a theme suggester from the themes moderators confirmed (published proposals), "
        "and make it the active model if it is at least as accurate as the vocabulary alone "
        "on the evaluation texts. The periodic task does the same every six hours."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--force", action="store_true", help="train even if few proposals are new"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        model = suggester_retrain(force=options["force"])
        if model is None:
            self.stdout.write("Too few newly confirmed proposals to train on; nothing done.")
            return
        learned = sum(len(table) for table in model.learned.values())
        self.stdout.write(
            f"{model.version}: {model.trained_on} published proposals, {learned} learned keys, "
            f"{'active' if model.active else 'kept inactive: less accurate than the vocabulary'}"
        )
        for language in sorted(model.accuracy["model"]):
            self.stdout.write(
                f"  {language}: top-1 {model.accuracy['model'][language]:.1%} "
                f"(vocabulary alone {model.accuracy['vocabulary'][language]:.1%})"
            )
