"""Give the role groups the permissions added since 0002 (admins see every report)."""

from importlib import import_module

from django.db import migrations

create_roles = import_module("civic.accounts.migrations.0002_roles").create_roles


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_verification_sent_at"),
        ("proposals", "0004_reports"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
