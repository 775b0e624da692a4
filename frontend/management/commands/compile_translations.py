"""Build the .mo files Django reads from the .po catalogues, in a development checkout.

An installed Civic ships its catalogues compiled (setup.py builds them into the wheel) and
never writes beside its code: there the command only says which catalogues are installed,
and fails if one is missing, so a release step that still runs it learns something true.
"""

from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Compile the .po catalogues into the .mo files Django reads (a development checkout; "
        "does what `compilemessages` does without GNU gettext, which a fresh machine lacks). "
        "An installed Civic ships them compiled: this only lists them and writes nothing."
    )

    # It reads two settings and writes files: a site whose code does not load yet (the very
    # state a release is in before its checks) must still get its catalogues.
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        for locale_path in map(Path, settings.LOCALE_PATHS):
            if settings.CHECKOUT:
                self._compile(locale_path, options["verbosity"])
            else:
                self._list_shipped(locale_path, options["verbosity"])

    def _compile(self, locale_path: Path, verbosity: int) -> None:
        catalogues = sorted(locale_path.glob("*/LC_MESSAGES/*.po"))
        if not catalogues:
            raise CommandError(f"No .po catalogues in {locale_path}.")
        for po_path in catalogues:
            mo_path = po_path.with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                if verbosity:
                    self.stdout.write(f"{mo_path}: up to date")
                continue
            catalogue = polib.pofile(str(po_path))
            # Django ignores fuzzy entries too; an entry a person has not confirmed falls
            # back to English rather than showing a guess.
            catalogue.save_as_mofile(str(mo_path))
            if verbosity:
                self.stdout.write(
                    f"{mo_path}: compiled, {catalogue.percent_translated()}% translated"
                )

    def _list_shipped(self, locale_path: Path, verbosity: int) -> None:
        languages = [code for code, _ in settings.LANGUAGES]
        missing = [
            code
            for code in languages
            if not (locale_path / code / "LC_MESSAGES" / "django.mo").is_file()
        ]
        if missing:
            raise CommandError(
                f"This installation has no compiled catalogue for {', '.join(missing)} in "
                f"{locale_path}: the package was built without them. Reinstall from a wheel "
                "built by `pip wheel` or `python -m build`, which compile them."
            )
        if verbosity:
            self.stdout.write(
                f"{locale_path}: the installed package ships its catalogues compiled "
                f"({', '.join(languages)}); nothing to compile, nothing written."
            )
