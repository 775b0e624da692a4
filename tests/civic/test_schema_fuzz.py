"""The OpenAPI schema, fuzzed against a live server (issue 11: "no 5xx, responses match").

gunicorn serves the site with debug off, as in production (static files collected),
over the demo data: a strategy with its sections and versions, proposals in every
status, answers, reactions. Schemathesis reads the schema from /api/schema/ and sends
every operation generated requests, valid and invalid, as an anonymous visitor, as a
signed-in resident and as an admin (tokens from /api/v1/auth/token/, as a client gets
them). It checks that no answer is a 5xx, that every status code is one the schema
names, and that every body matches the schema.

Bounded: at most MAX_EXAMPLES cases per operation and phase, a fixed seed
(CIVIC_FUZZ_SEED changes it), about a minute in all on two cores. Operations added
later are fuzzed with no change here; only signing out is left out of the signed-in
runs, since it would end the token the rest of the run uses.

The database: on PostgreSQL, gunicorn uses the test database itself (the test commits
its rows). SQLite's test database lives in this process's memory, which gunicorn cannot
open: the test copies it, demo rows and all, into a file that gunicorn serves.
"""

import json
import os
import sqlite3
import subprocess
import sys
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest
from django.conf import global_settings
from django.db import connection

from proposals.demo import DEMO_PASSWORD, demo_load
from proposals.demo_data import DEMO_RESIDENTS
from tests.proposals import test_tasks_e2e as e2e

pytestmark = [
    # Rows must be committed for gunicorn to see them; the serialized rollback puts back
    # the themes, districts and roles that migrations created.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ST = str(Path(sys.executable).parent / "st")  # schemathesis's command, a dev dependency
MAX_EXAMPLES = 20
SEED = os.environ.get("CIVIC_FUZZ_SEED", "2050")
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"
# A run stops by itself after MAX_EXAMPLES per operation; this only stops a hung one.
RUN_TIMEOUT = 150
# Generous limits: the fuzzer is one client sending thousands of requests.
THROTTLES = ("REGISTER", "LOGIN", "SUBMIT", "REACT", "REPORT", "SIMILAR", "RESET_EMAIL", "EXPORT")
# Who the fuzzer is: a visitor, a resident, and an admin (who moderates, answers and
# orders reports, so the staff endpoints get past their permission checks).
PEOPLE = {"anonymous": None, "resident": DEMO_RESIDENTS[0]["email"], "admin": "admin@demo.civic.kz"}


@pytest.fixture
def server(tmp_path, settings):
    """gunicorn over the demo data, debug off; yields the running stack."""
    # The demo accounts' password must be one gunicorn's hashers read (the suite's own
    # fast hasher is a test setting gunicorn does not have).
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    demo_load()
    stack = e2e.Stack(tmp_path)
    env = stack.env
    env.pop("REDIS_URL", None)  # no broker: background work runs in the request
    env.update(
        {
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "fuzz-" + "k" * 60,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
            **{f"CIVIC_THROTTLE_{name}": "100000/minute" for name in THROTTLES},
        }
    )
    if connection.vendor == "sqlite":
        copy = tmp_path / "fuzz.sqlite3"
        connection.ensure_connection()
        with closing(sqlite3.connect(copy)) as target:
            connection.connection.backup(target)
        env["DATABASE_URL"] = f"sqlite:///{copy}"
    # As a deployment does: error pages (a refused CSRF check, say) link the stylesheet.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=e2e.ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    try:
        stack.start_web()
        yield stack
    except BaseException:
        print(stack.logs())  # shown by pytest on failure
        raise
    finally:
        stack.close()


def _token(stack: e2e.Stack, email: str) -> str:
    """A token as a client gets one: from the API, with the account's password."""
    request = urllib.request.Request(
        f"{stack.base_url}/api/v1/auth/token/",
        data=json.dumps({"email": email, "password": DEMO_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["token"]


def _fuzz(stack: e2e.Stack, tmp_path: Path, token: str | None) -> tuple[int, str]:
    command = [
        ST,
        "run",
        f"{stack.base_url}/api/schema/",
        "--checks",
        CHECKS,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        SEED,
        # One client thread: hypothesis describes strategies with ast.parse, which
        # CPython 3.11 does not keep thread-safe.
        "--workers",
        "1",
        "--phases",
        "examples,coverage,fuzzing",
        "--request-timeout",
        "30",
        "--no-shrink",
    ]
    if token:
        command += ["--header", f"Authorization: Token {token}"]
        # Signing out would end the token the rest of the run signs in with.
        command += ["--exclude-path-regex", r"/auth/logout/$"]
    done = subprocess.run(
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def test_every_operation_answers_within_its_schema(server, tmp_path):
    failures = []
    for who, email in PEOPLE.items():
        code, output = _fuzz(server, tmp_path, _token(server, email) if email else None)
        if code != 0:
            failures.append(f"=== as {who}: schemathesis exit {code}\n{output[-15000:]}")
    assert not failures, "\n".join(failures) + "\n" + server.logs()
