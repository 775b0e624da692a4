"""`civic-admin`: the management commands of an installed Civic, which has no manage.py.

`civic-admin migrate` is `python manage.py migrate` in a checkout: the same commands, with
the settings module defaulting to Civic's own.
"""

import os
import sys

from django.core.management import execute_from_command_line


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic.settings")
    execute_from_command_line(sys.argv)
