"""Backup and restore as docs/deploy.md tells an operator to do them: `pg_dump` of the
database, `pg_restore` into an empty one, then the release steps and `rebuild_tallies`.
The restored installation must hold every proposal, reaction, answer and comment, and
count them as the original did; Redis and report files are not part of the backup.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from civic.accounts.services import role_grant
from proposals import services
from proposals.answers.services import answer_save
from proposals.comments.services import comment_create
from proposals.models import Tally
from proposals.tallies.services import tally_rebuild
from tests.factories import ProposalFactory, StrategyFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the backup is PostgreSQL's pg_dump and pg_restore: set DATABASE_URL",
    ),
    pytest.mark.skipif(
        shutil.which("pg_dump") is None or shutil.which("pg_restore") is None,
        reason="pg_dump and pg_restore (PostgreSQL's client tools) are not installed",
    ),
]


def _url(name: str) -> str:
    settings = connection.settings_dict
    user, password = settings["USER"], settings["PASSWORD"]
    login = f"{user}:{password}@" if password else f"{user}@"
    return (
        f"postgresql://{login}{settings['HOST'] or 'localhost'}:{settings['PORT'] or 5432}/{name}"
    )


def _counts(url: str) -> dict:
    """What the restored rows say, read without Django: the operator's own check."""
    with psycopg.connect(url) as db:
        one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731 - a local shorthand
        return {
            "proposals": one("SELECT count(*) FROM proposals_proposal"),
            "reactions": one("SELECT count(*) FROM proposals_reaction"),
            "kept_totals": one("SELECT sum(reactions_total) FROM proposals_proposal"),
            "answers": one("SELECT count(*) FROM proposals_answer"),
            "comments": one("SELECT count(*) FROM proposals_comment"),
            "users": one("SELECT count(*) FROM accounts_user"),
        }


def _tally(url: str, slug: str) -> dict:
    with psycopg.connect(url) as db:
        data = db.execute(
            "SELECT t.data FROM proposals_tally t JOIN strategy_strategy s ON s.id = t.strategy_id"
            " WHERE s.slug = %s",
            [slug],
        ).fetchone()[0]
    return data if isinstance(data, dict) else json.loads(data)


def _without_times(data: dict) -> dict:
    return {key: value for key, value in data.items() if key != "generated_at"}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_dump_restored_into_an_empty_database_is_the_same_installation(tmp_path):
    strategy = StrategyFactory(slug="backup")
    proposals = ProposalFactory.create_batch(6, strategy=strategy)
    residents = UserFactory.create_batch(3)
    for index, proposal in enumerate(proposals):
        for resident in residents[: index % 4]:
            services.reaction_set(proposal=proposal, user=resident, kind="like")
    responder = UserFactory()
    role_grant(user=responder, role="responder")
    answer_save(proposal=proposals[0], responder=responder, outcome="accepted", publish=True)
    comment_create(proposal=proposals[1], author=residents[0], body="Весной здесь всегда лужа")
    tally_rebuild(strategy_id=strategy.pk)
    original = _url(connection.settings_dict["NAME"])
    before = _counts(original)
    tally_before = Tally.objects.get(strategy=strategy).data

    dump = tmp_path / "civic.dump"
    restored_name = f"civic_restore_{os.getpid()}"
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", original], check=True
    )
    with psycopg.connect(_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{restored_name}"')
        admin.execute(f'CREATE DATABASE "{restored_name}"')
    restored = _url(restored_name)
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored}", str(dump)],
            check=True,
        )
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}
        }
        env.update(DATABASE_URL=restored, DJANGO_DEBUG="1", CIVIC_DATA_DIR=str(tmp_path))
        for command in (["migrate", "--check"], ["rebuild_tallies"]):
            done = subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
            )
            assert done.returncode == 0, done.stdout + done.stderr
        assert _counts(restored) == before
        assert before["reactions"] and before["answers"] and before["comments"]
        assert _without_times(_tally(restored, "backup")) == _without_times(tally_before)
    finally:
        with psycopg.connect(_url("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)')
