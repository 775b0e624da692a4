"""Rate limits count in one store that every web process shares, and they hold with Redis
away: the database when Redis errors or is not configured (civic/throttling.py).

The first tests run two real processes with the settings the environment gives them, as
two gunicorn workers would be; the rest swap the caches in this process.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.cache import caches
from django.db import connection
from rest_framework.test import APIClient

from civic import throttling
from civic.clients import ScopedRateThrottle
from civic.throttling import THROTTLE_TABLE, throttle_cache
from frontend.throttling import PageThrottle
from tests.conftest import page_client_for

ROOT = Path(__file__).resolve().parents[2]
BODY = {"email": "nobody@example.org", "password": "not-the-password"}

# One process's sign-in attempts: "api" at the API's token endpoint, "page" at the sign-in
# page (both in the `login` scope); prints the status of each.
ATTEMPTS = r"""
import json, sys
import django
django.setup()
from django.test import Client
client = Client(REMOTE_ADDR="203.0.113.7")
statuses = []
for kind in sys.argv[1:]:
    if kind == "api":
        response = client.post(
            "/api/v1/auth/token/",
            {"email": "nobody@example.org", "password": "not-the-password"},
            content_type="application/json",
        )
    else:
        response = client.post(
            "/en/login/", {"username": "nobody@example.org", "password": "not-the-password"}
        )
    statuses.append(response.status_code)
print(json.dumps(statuses))
"""


@pytest.fixture(autouse=True)
def _redis_not_marked_down():
    # A test with Redis unreachable leaves its process counting in the database for a few
    # seconds (civic.throttling); the next test must start with Redis tried first.
    throttling._primary_down_until.clear()
    yield
    throttling._primary_down_until.clear()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A migrated SQLite database file, made once for the module's process tests."""
    folder = tmp_path_factory.mktemp("throttle-db")
    env = {
        key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}
    }
    env.update(DJANGO_DEBUG="1", CIVIC_DATA_DIR=str(folder), PYTHONPATH=str(ROOT))
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    return folder / "civic.sqlite3"


def _run(env: dict[str, str], *attempts: str) -> list[int]:
    result = subprocess.run(
        [sys.executable, "-c", ATTEMPTS, *attempts],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _process_env(tmp_path: Path, database: Path, redis_url: str | None) -> dict[str, str]:
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(database, folder / "civic.sqlite3")
    env = {
        key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}
    }
    env.update(
        DJANGO_DEBUG="1",
        DJANGO_SETTINGS_MODULE="civic.settings",
        CIVIC_DATA_DIR=str(folder),
        CIVIC_THROTTLE_LOGIN="4/minute",
        PYTHONPATH=str(ROOT),
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


@pytest.mark.parametrize(
    "redis",
    [
        pytest.param("none", id="embedded-no-redis"),
        pytest.param("dead", id="redis-unreachable"),
        pytest.param("live", id="redis"),
    ],
)
def test_two_processes_share_one_limit(redis, tmp_path, migrated_sqlite):
    if redis == "live" and not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis: set REDIS_URL (as .ci/run does)")
    redis_url = {
        "none": None,
        "dead": f"redis://127.0.0.1:{_closed_port()}/0",
        "live": os.environ.get("REDIS_URL"),
    }[redis]
    if redis == "live":
        caches["default"].clear()  # the same Redis database: start from no counts
    env = _process_env(tmp_path, migrated_sqlite, redis_url)

    first = _run(env, "api", "page")
    second = _run(env, "api", "page", "api", "page")

    # Four sign-in attempts a minute from one address, whichever process takes them.
    assert 429 not in first, first
    assert 429 not in second[:2], second
    assert second[2:] == [429, 429], (first, second)


# --- in this process --------------------------------------------------------------------------


def _dead_redis_caches(settings) -> None:
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1},
        },
        "throttle": {
            "BACKEND": "civic.throttling.FallbackCache",
            "OPTIONS": {"PRIMARY": "throttle_redis", "FALLBACK": "throttle_db"},
        },
        "throttle_redis": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"IGNORE_EXCEPTIONS": False, "SOCKET_CONNECT_TIMEOUT": 1},
        },
        "throttle_db": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": THROTTLE_TABLE,
        },
    }


def _table_rows() -> int:
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(THROTTLE_TABLE)
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - a constant name
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_with_redis_unreachable_the_api_and_the_pages_still_limit(settings, monkeypatch):
    _dead_redis_caches(settings)
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "3/minute"})
    monkeypatch.setattr(PageThrottle, "THROTTLE_RATES", {"login": "3/minute"})
    api = APIClient(REMOTE_ADDR="198.51.100.20")
    page = page_client_for(None)

    statuses = [api.post("/api/v1/auth/token/", BODY, format="json").status_code]
    statuses.append(
        page.post(
            "/en/login/",
            {"username": BODY["email"], "password": BODY["password"]},
            REMOTE_ADDR="198.51.100.20",
        ).status_code
    )
    statuses.append(api.post("/api/v1/auth/token/", BODY, format="json").status_code)
    statuses.append(api.post("/api/v1/auth/token/", BODY, format="json").status_code)

    assert 429 not in statuses[:3], statuses
    assert statuses[3] == 429, statuses
    assert _table_rows() == 1  # one client, one scope: counted in the database table


@pytest.mark.django_db
def test_without_redis_the_limits_count_in_the_database(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "throttle": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": THROTTLE_TABLE,
        },
    }
    APIClient(REMOTE_ADDR="198.51.100.21").post("/api/v1/auth/token/", BODY, format="json")
    assert _table_rows() == 1
    assert throttle_cache.get("nothing") is None


@pytest.mark.django_db
def test_with_redis_up_counts_go_to_redis_and_return_there_after_a_failure():
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis: set REDIS_URL (as .ci/run does)")
    throttle_cache.set("after", [1.0], 60)
    assert caches["throttle_redis"].get("after") == [1.0]
    assert caches["throttle_db"].get("after") is None

    # Just after a failure this process does not wait on Redis again...
    throttling._primary_down_until["throttle_redis"] = time.monotonic() + 60
    throttle_cache.set("during", [2.0], 60)
    assert caches["throttle_db"].get("during") == [2.0]
    # ...and a few seconds later it is back.
    throttling._primary_down_until["throttle_redis"] = time.monotonic() - 1
    throttle_cache.set("again", [3.0], 60)
    assert caches["throttle_redis"].get("again") == [3.0]


def test_every_rate_limit_counts_in_the_throttle_cache():
    # Importing the URLs imports every view, and with them every throttle class.
    from django.urls import get_resolver
    from rest_framework.throttling import SimpleRateThrottle

    get_resolver().url_patterns  # noqa: B018

    def subclasses(cls: type) -> set[type]:
        found = set(cls.__subclasses__())
        for sub in list(found):
            found |= subclasses(sub)
        return found

    ours = [
        cls
        for cls in subclasses(SimpleRateThrottle)
        if cls.__module__.split(".")[0] in {"civic", "proposals", "frontend", "strategy"}
    ]
    assert ScopedRateThrottle in ours and PageThrottle in ours
    for cls in ours:
        assert cls.cache is throttle_cache, cls
