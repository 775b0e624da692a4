"""Accounts that wrote, reacted to or commented on a proposal before following existed
follow it now, as they would have had they done so today."""

from django.db import migrations

SOURCES = [
    ("proposals_proposal", "author_id", "id"),
    ("proposals_reaction", "user_id", "proposal_id"),
    ("proposals_comment", "author_id", "proposal_id"),
]


def backfill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for table, user_column, proposal_column in SOURCES:
            # One statement per source, however many rows: ON CONFLICT skips pairs already
            # there (a person who both wrote and commented). WHERE also settles SQLite's
            # parse of INSERT ... SELECT ... ON CONFLICT.
            # The names come from SOURCES above, never from input.
            sql = (
                "INSERT INTO proposals_follow "  # noqa: S608
                "(user_id, proposal_id, active, automatic, created_at) "
                f"SELECT DISTINCT {user_column}, {proposal_column}, TRUE, TRUE, CURRENT_TIMESTAMP "
                f"FROM {table} WHERE {user_column} IS NOT NULL "
                "ON CONFLICT DO NOTHING"
            )
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("proposals", "0015_following"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
