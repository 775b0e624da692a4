"""The table rate limits count in when Redis is away or not configured (civic/throttling.py).

Django's DatabaseCache layout, made by its own `createcachetable`; the name is the
LOCATION of the `throttle_db` / `throttle` cache in settings.
"""

from django.core.management import call_command
from django.db import migrations

TABLE = "civic_throttle_cache"


def create_table(apps, schema_editor):
    call_command("createcachetable", TABLE, database=schema_editor.connection.alias, verbosity=0)


def drop_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    # Needs nothing of the accounts tables: it follows the latest accounts migration only
    # to keep one leaf in the graph (renumber it when migrations are merged).
    dependencies = [("accounts", "0007_consent_and_export")]
    operations = [migrations.RunPython(create_table, drop_table)]
