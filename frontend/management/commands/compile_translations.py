from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Compile the .po catalogues into the .mo files Django reads. Does what "
        "`compilemessages` does without GNU gettext, which a fresh machine lacks."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for locale_path in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_path).glob("*/LC_MESSAGES/*.po")):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                catalogue = polib.pofile(str(po_path))
                # Django ignores fuzzy entries too; an entry a person has not confirmed
                # falls back to English rather than showing a guess.
                catalogue.save_as_mofile(str(mo_path))
                if options["verbosity"]:
                    self.stdout.write(f"{mo_path}: {catalogue.percent_translated()}% translated")
