"""Create the responder role and give admins the permission to answer proposals."""

from importlib import import_module

from django.db import migrations

create_roles = import_module("civic.accounts.migrations.0002_roles").create_roles


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_notify_answers"),
        ("proposals", "0010_answers"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
