"""The full-text index of proposals, in each engine's own kind: a GIN-indexed tsvector
column on PostgreSQL, an FTS5 table on SQLite (see proposals/search/services.py).

Not part of the model's state: Django has no field for an FTS5 table, and the column is
only ever read and written through raw SQL in proposals.search.
"""

from django.db import migrations

POSTGRES = [
    "ALTER TABLE proposals_proposal ADD COLUMN search_vector tsvector",
    "CREATE INDEX proposal_search_vector ON proposals_proposal USING gin (search_vector)",
]
POSTGRES_BACK = [
    "DROP INDEX IF EXISTS proposal_search_vector",
    "ALTER TABLE proposals_proposal DROP COLUMN IF EXISTS search_vector",
]
SQLITE = [
    # Stems only (letters and digits), folded already: the tokenizer needs no folding.
    "CREATE VIRTUAL TABLE proposals_search USING fts5("
    "title, body, tokenize = 'unicode61 remove_diacritics 0')",
    # A proposal that goes (an erased account's, a test's) takes its index row along.
    "CREATE TRIGGER proposals_search_delete AFTER DELETE ON proposals_proposal "
    "BEGIN DELETE FROM proposals_search WHERE rowid = old.id; END",
]
SQLITE_BACK = [
    "DROP TRIGGER IF EXISTS proposals_search_delete",
    "DROP TABLE IF EXISTS proposals_search",
]


def _run(schema_editor, statements: dict) -> None:
    for statement in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


def create(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRES, "sqlite": SQLITE})
    # The app's own indexer, not a frozen copy: the index must hold what search looks up,
    # and analysis.py is the one definition of that.
    from proposals.search.services import search_index_rebuild

    search_index_rebuild()


def drop(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRES_BACK, "sqlite": SQLITE_BACK})


class Migration(migrations.Migration):
    dependencies = [("proposals", "0018_reaction_totals")]

    operations = [migrations.RunPython(create, drop)]
