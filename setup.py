"""The build step pyproject.toml cannot say: compile the translation catalogues into the wheel.

The .po catalogues are the source and the .mo files Django reads are not kept in git, so a
wheel built from a clean tree would have pages in English only. This compiles each
frontend/locale/<language>/LC_MESSAGES/*.po into the build folder (never into the source
tree), so every wheel, and every wheel built from the sdist, ships its catalogues and an
installed Civic never has to write beside its own code. polib is a build requirement.

Editable installs (`make`) read the source tree, where `manage.py compile_translations`
builds the .mo files.
"""

from pathlib import Path

import polib
from setuptools import setup
from setuptools.command.build_py import build_py

LOCALE = Path("frontend") / "locale"


class BuildWithCatalogues(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        for po_path in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
            mo_path = Path(self.build_lib) / po_path.with_suffix(".mo")
            mo_path.parent.mkdir(parents=True, exist_ok=True)
            # Django skips fuzzy entries too: an unconfirmed one falls back to English.
            polib.pofile(str(po_path)).save_as_mofile(str(mo_path))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if self.editable_mode:
            return outputs
        return outputs + [
            str(Path(self.build_lib) / po_path.with_suffix(".mo"))
            for po_path in sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))
        ]


setup(cmdclass={"build_py": BuildWithCatalogues})
