"""How the processes log (civic/logs.py): UTC times with the offset, JSON lines on request,
an access log without tokens or query strings, one WARNING line for an unknown Host, and
one line per Celery task with its outcome and duration, quiet for idle sweeps.

The formatters are checked on their own; the rest with the real programs: Django as
configured by the settings, gunicorn with deploy/gunicorn.conf.py, and (with PostgreSQL and
Redis) a Celery worker and beat.
"""

import io
import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from celery import Celery, current_app
from django.conf import settings

from civic.logs import (
    AccessLogFilter,
    JSONFormatter,
    TextFormatter,
    found_nothing,
    periodic_task_names,
    redact_path,
)
from proposals.models import Tally
from tests.factories import StrategyFactory
from tests.proposals import test_tasks_e2e as e2e

ROOT = Path(__file__).resolve().parents[2]


def _logged(formatter: logging.Formatter, emit) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("tests.civic.logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return stream.getvalue()


def _is_utc_now(stamp: str) -> bool:
    moment = datetime.fromisoformat(stamp)
    return (
        moment.utcoffset() == timedelta(0)
        and abs((datetime.now(UTC) - moment).total_seconds()) < 60
    )


def test_json_lines_have_the_keys_and_utc_times():
    def emit(logger):
        logger.info("Task %s done", "x", extra={"task": "proposals.tally_sweep", "duration": 0.5})
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("it failed")

    lines = _logged(JSONFormatter(), emit).splitlines()
    assert len(lines) == 2  # the traceback stays inside its line
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "INFO"
    assert first["logger"] == "tests.civic.logs"
    assert first["message"] == "Task x done"
    assert first["task"] == "proposals.tally_sweep"
    assert first["duration"] == 0.5
    assert "exception" not in first
    assert first["time"].endswith("+00:00") and _is_utc_now(first["time"])
    assert second["level"] == "ERROR"
    assert "ValueError: boom" in second["exception"]


def test_text_lines_are_in_utc_with_the_offset():
    # Django sets the process's zone to TIME_ZONE (Asia/Almaty): the line must not follow it.
    assert time.localtime().tm_gmtoff != 0 or settings.TIME_ZONE == "UTC"
    line = _logged(TextFormatter(), lambda logger: logger.warning("hello"))
    stamp, level, *_ = line.split(" ")
    assert level == "WARNING"
    assert stamp.endswith("+00:00") and _is_utc_now(stamp)


def test_tokens_of_emailed_links_are_taken_out_of_paths():
    assert redact_path("/ru/verify-email/eyJ1Ijo1fQ:1t:sig/") == "/ru/verify-email/<token>/"
    assert redact_path("/kk/password-reset/MQ/cx3-9f8e7d/") == "/kk/password-reset/MQ/<token>/"
    assert redact_path("/en/unsubscribe/notifications/abc/") == (
        "/en/unsubscribe/notifications/<token>/"
    )
    assert redact_path("/ru/me/email/abc/") == "/ru/me/email/<token>/"
    assert redact_path("/ru/verify-email/resend/") == "/ru/verify-email/resend/"
    assert redact_path("/ru/proposals/12/") == "/ru/proposals/12/"


def test_access_records_lose_the_query_string_and_the_referer():
    atoms = {
        "h": "127.0.0.1",
        "m": "GET",
        "U": "/ru/unsubscribe/SECRET/",
        "q": "token=ALSO-SECRET",
        "H": "HTTP/1.1",
        "r": "GET /ru/unsubscribe/SECRET/?token=ALSO-SECRET HTTP/1.1",
        "s": "200",
        "b": "12",
        "B": 12,
        "M": 3,
        "a": "curl/8",
        "f": "https://civic.example/ru/verify-email/SECRET/",
    }
    record = logging.LogRecord("gunicorn.access", logging.INFO, "", 0, '%(r)s "%(f)s"', (), None)
    record.args = atoms  # as gunicorn passes them: one mapping
    AccessLogFilter().filter(record)
    line = JSONFormatter().format(record)
    assert "SECRET" not in line
    body = json.loads(line)
    assert body["path"] == "/ru/unsubscribe/<token>/"
    assert body["status"] == 200
    assert body["message"] == 'GET /ru/unsubscribe/<token>/ HTTP/1.1 "-"'


@pytest.mark.django_db
def test_every_sweep_with_nothing_to_do_counts_as_idle():
    """The worker logs a periodic task at DEBUG when its result says it found nothing
    (found_nothing); each sweep, run on an empty database, must answer so."""
    periodic = periodic_task_names() - {"civic.heartbeat"}  # it records, finds nothing
    assert len(periodic) >= 15
    for name in sorted(periodic):
        result = current_app.tasks[name].apply().get()
        assert found_nothing(result), (name, result)
    assert not found_nothing([3])
    assert not found_nothing({"requeued": 0, "failed": 1})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_LOG_LEVEL"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "civic.settings",
            "DJANGO_DEBUG": "1",
            "CIVIC_DATA_DIR": str(tmp_path),
            "PYTHONPATH": str(ROOT),
            "CIVIC_LOG_FORMAT": "json",
        }
    )
    env.update(extra)
    return env


def test_django_logs_json_lines_when_asked(tmp_path):
    """The settings' LOGGING, as the processes read it from the environment."""
    script = (
        "import django, logging; django.setup(); "
        "logging.getLogger('civic.example').warning('from %s', 'django', extra={'n': 1})"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (line,) = result.stderr.splitlines()
    body = json.loads(line)
    assert body["message"] == "from django" and body["n"] == 1
    assert body["logger"] == "civic.example" and body["level"] == "WARNING"
    assert body["time"].endswith("+00:00")


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """gunicorn as the web unit starts it (deploy/gunicorn.conf.py), on a free port."""
    port = _free_port()
    log = tmp_path / "web.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(ROOT / "deploy" / "gunicorn.conf.py"),
                "civic.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ],
            cwd=tmp_path,
            # The civic user's home is the checkout: gunicorn must write nothing there.
            env=_environment(tmp_path, HOME=str(tmp_path / "home")),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        e2e._wait(
            lambda: urllib.request.urlopen(base + "/healthz", timeout=2),
            timeout=60,
            what="gunicorn",
        )
        yield base, log
    finally:
        process.terminate()
        process.wait(timeout=30)


def _get(url: str, host: str | None = None) -> int:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _lines(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def _wait_for_line(log: Path, condition) -> list[dict]:
    return e2e._wait(
        lambda: [line for line in _lines(log) if condition(line)], timeout=20, what="a log line"
    )


def test_gunicorn_access_log_and_the_unknown_host(gunicorn):
    base, log = gunicorn
    assert _get(base + "/healthz?token=QUERY-SECRET") == 200
    _get(base + "/ru/verify-email/PATH-SECRET/")
    assert _get(base + "/healthz", host="attacker.example") == 400
    _wait_for_line(log, lambda line: "attacker" in line["message"])
    accesses = _wait_for_line(log, lambda line: line["logger"] == "gunicorn.access")

    # Every line, gunicorn's own included, is a JSON object timed in UTC.
    lines = _lines(log)
    assert all(line["time"].endswith("+00:00") for line in lines)
    assert any(line["logger"] == "gunicorn.error" for line in lines)  # "Booting worker"
    text = log.read_text()
    assert "QUERY-SECRET" not in text and "PATH-SECRET" not in text

    health = [line for line in accesses if line["path"] == "/healthz" and line["status"] == 200]
    assert health and health[0]["method"] == "GET"
    assert isinstance(health[0]["duration_ms"], int)
    assert any(line["path"] == "/ru/verify-email/<token>/" for line in accesses)

    # One line for the refused host: a warning that names it, no traceback.
    refused = [
        line
        for line in lines
        if line["logger"].startswith("django") and "attacker" in line["message"]
    ]
    assert len(refused) == 1, refused
    assert refused[0]["level"] == "WARNING"
    assert refused[0]["logger"] == "django.security.DisallowedHost"
    assert "exception" not in refused[0]
    assert "Traceback" not in text
    assert not (log.parent / "home").exists()  # no control socket under $HOME


# --- Celery: a real worker and beat (PostgreSQL, Redis) ----------------------------------


@pytest.mark.services
@pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")),
    reason="needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL (as .ci/run does)",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_logs_each_task_once_and_idle_sweeps_quietly(tmp_path):
    stack = e2e.Stack(tmp_path)
    try:
        stack.env.update({"CIVIC_LOG_FORMAT": "json", "CIVIC_TALLY_SWEEP_SECONDS": "1"})
        stack.start_redis()
        # The unit's command (deploy/systemd/civic-worker.service) at DEBUG, to see the
        # quiet lines too, with a task that only sleeps.
        stack._start(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "civic",
                "--quiet",
                "worker",
                "--loglevel",
                "DEBUG",
                "--concurrency",
                "2",
                "--without-gossip",
                "--without-mingle",
                "--include",
                "tests.proposals.slow_tasks",
            ],
        )
        stack.start_beat()
        log = tmp_path / "worker.log"

        def lines() -> list[dict]:
            # Python's warning about running as root comes before logging is set up.
            text = log.read_text()
            return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

        def task_lines(name: str) -> list[dict]:
            return [line for line in lines() if line.get("task") == name]

        # A task's outcome and duration, once, at INFO.
        Celery(broker=stack.env["REDIS_URL"]).send_task("tests.sleep", args=[0.3])
        done = e2e._wait(lambda: task_lines("tests.sleep"), timeout=30, what="the task's line")
        assert len(done) == 1
        assert done[0]["level"] == "INFO"
        assert done[0]["outcome"] == "succeeded"
        assert 0.3 <= done[0]["duration"] < 5
        assert done[0]["time"].endswith("+00:00")

        # Idle sweeps: run (seen at DEBUG), and nothing at INFO.
        e2e._wait(lambda: len(task_lines("proposals.tally_sweep")) >= 3, timeout=30, what="sweeps")
        assert {line["level"] for line in task_lines("proposals.tally_sweep")} == {"DEBUG"}
        # One that finds work says so at INFO.
        # (An open strategy without its tally yet: the sweep sends its first build.)
        strategy = StrategyFactory(slug="logs-e2e")
        assert not Tally.objects.filter(strategy=strategy).exists()
        e2e._wait(
            lambda: [
                line
                for line in task_lines("proposals.tally_sweep")
                if line["level"] == "INFO" and str(strategy.pk) in line["message"]
            ],
            timeout=30,
            what="a sweep that found a dirty tally",
        )
        # The sweeps' "received" lines are DEBUG, and Celery's own "succeeded" lines gone.
        received = [line for line in lines() if line["logger"] == "celery.worker.strategy"]
        assert {line["level"] for line in received if "tally_sweep" in line["message"]} == {"DEBUG"}
        assert {line["level"] for line in received if "tests.sleep" in line["message"]} == {"INFO"}
        assert not [line for line in lines() if line["logger"] == "celery.app.trace"]
    except BaseException:
        print(stack.logs())
        raise
    finally:
        stack.close()
