from typing import Any

from django.core.management.base import BaseCommand

from proposals.suggest.training import suggester_retrain


class Command(BaseCommand):
    help = (
        "Train a theme classifier on the themes moderators confirmed (published proposals) "
        "and put it in use if, on the newest confirmed proposals held out from its training, "
        "it does at least as well as the vocabulary alone and the model in use (the written "
        "evaluation texts are the floor for a language with too few). The periodic task does "
        "the same every six hours."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--force", action="store_true", help="train even if few proposals are new"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        model = suggester_retrain(force=options["force"])
        if model is None:
            self.stdout.write(
                "Too few newly confirmed proposals (or themes) to train on; nothing done."
            )
            return
        texts = model.accuracy["texts"]
        self.stdout.write(
            f"{model.version}: {model.trained_on} published proposals, "
            f"{texts['training'] + texts['held_out']} distinct texts "
            f"({texts['held_out']} newest held out to judge it), "
            f"{'active' if model.active else 'kept inactive: not as good as what it would replace'}"
        )
        whole = model.accuracy.get("held_out_whole")
        if whole:
            self.stdout.write(
                f"  all held out: top-1 {whole['model']:.1%} (vocabulary alone "
                f"{whole['vocabulary']:.1%}); blend half {model.accuracy['blend_half']}"
            )
        for language, row in sorted(model.accuracy["held_out"].items()):
            line = (
                f"  {language}: top-1 {row['model']:.1%} on {row['texts']} held-out proposals "
                f"(vocabulary alone {row['vocabulary']:.1%}, always one theme {row['baseline']:.1%}"
            )
            if "in_use_on_unseen" in row:
                line += (
                    f"; on the {row['unseen_by_model_in_use']} the model in use never saw: "
                    f"{row['model_on_unseen']:.1%} against its {row['in_use_on_unseen']:.1%}"
                )
            self.stdout.write(line + ")")
        for language, row in sorted(model.accuracy["written"].items()):
            self.stdout.write(
                f"  {language}: too few held-out proposals to judge; on the written evaluation "
                f"texts top-1 {row['model']:.1%} (vocabulary alone {row['vocabulary']:.1%})"
            )
