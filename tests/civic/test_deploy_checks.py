"""With debug off, a server missing a production essential says so (issue 18, civic/checks.py).

`manage.py check --deploy`, a release step, fails with one Error per missing essential:
PostgreSQL (civic.E001), Redis (E002), an email backend that sends (E003) and a public
CIVIC_SITE_URL (E004). Each process logs one WARNING per problem when it starts: gunicorn's
workers, the Celery worker and beat, here as real processes. deploy/civic.env.example is a
complete environment once it has a key, and the first administrator is made with
`createsuperuser --noinput`.
"""

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.checks import Error
from django.core.checks import Warning as CheckWarning
from django.core.management import call_command

from civic.accounts.models import User
from civic.checks import production_essentials, warn_if_not_production_ready

ROOT = Path(__file__).resolve().parents[2]
SECRET = "deploy-checks-" + "k7" * 30
# Production, complete: nothing here reaches a database or Redis, `check` only reads it.
COMPLETE = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECURE": "1",
    "DJANGO_SECRET_KEY": SECRET,
    "DJANGO_ALLOWED_HOSTS": "civic.example.kz",
    "DATABASE_URL": "postgres://civic:secret@127.0.0.1:5432/civic",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": "smtp.example.kz",
    "DEFAULT_FROM_EMAIL": "Civic <noreply@civic.example.kz>",
    "CIVIC_SITE_URL": "https://civic.example.kz",
    "CIVIC_NUM_PROXIES": "1",
}
# What an operator who read only the old README set: the rest is left to the defaults.
BARE = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": SECRET,
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
}
OURS = ("DATABASE_URL", "REDIS_URL", "EMAIL_", "DEFAULT_FROM_EMAIL", "CIVIC_", "DJANGO_")


def _env(tmp_path: Path, values: dict[str, str]) -> dict[str, str]:
    # Nothing of the suite's own environment leaks in: each case says all it sets.
    clean = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
    return {**clean, "CIVIC_DATA_DIR": str(tmp_path), **values}


def _manage(tmp_path: Path, values: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_env(tmp_path, values),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _ids(text: str) -> list[str]:
    return re.findall(r"\(civic\.[EW]\d{3}\)", text)


# --- manage.py check --deploy ------------------------------------------------------------


def test_check_deploy_fails_on_each_missing_essential_and_names_the_variable(tmp_path):
    result = _manage(tmp_path, BARE, "check", "--deploy")
    assert result.returncode == 1, result.stdout + result.stderr
    errors = result.stderr
    for check_id in ("civic.E001", "civic.E002", "civic.E003", "civic.E004"):
        assert errors.count(f"({check_id})") == 1, errors
    assert "SQLite" in errors and "DATABASE_URL=postgres://" in errors
    assert "REDIS_URL=redis://" in errors
    assert "console.EmailBackend" in errors
    assert "EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend" in errors
    assert "CIVIC_SITE_URL is http://127.0.0.1:8000" in errors


def test_check_deploy_is_clean_when_production_is_complete(tmp_path):
    result = _manage(tmp_path, COMPLETE, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_file_backend_is_a_warning_a_release_passes_with(tmp_path):
    values = {
        **COMPLETE,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
    }
    result = _manage(tmp_path, values, "check", "--deploy")
    assert result.returncode == 0, result.stdout + result.stderr
    assert _ids(result.stderr) == ["(civic.W003)"]
    assert str(tmp_path / "mail") in result.stderr


def test_plain_check_and_the_release_commands_are_not_stopped(tmp_path):
    # Only --deploy asks: migrate, collectstatic and a development checkout run as before.
    result = _manage(tmp_path, BARE, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not _ids(result.stdout + result.stderr)


# --- each check, in process --------------------------------------------------------------


def _found() -> dict[str, str]:
    # Every check but the database's: the suite's own database cannot be swapped in process
    # (the subprocess tests above pin civic.E001 both ways).
    return {
        problem.id: type(problem).__name__
        for problem in production_essentials()
        if problem.id != "civic.E001"
    }


@pytest.fixture
def production(settings):
    """The test settings made complete; each test then takes one thing away."""
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "Civic <noreply@civic.example.kz>"
    settings.CIVIC_SITE_URL = "https://civic.example.kz"
    settings.ALLOWED_HOSTS = ["civic.example.kz"]
    settings.DJANGO_SECURE = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    return settings


def test_complete_settings_have_nothing_to_say(production):
    assert _found() == {}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "https://[::1]",
        "http://0.0.0.0:8000",
        "http://civic.localhost",
        "civic.example.kz",
        "",
    ],
)
def test_a_site_url_residents_cannot_open_is_an_error(production, url):
    production.CIVIC_SITE_URL = url
    assert _found() == {"civic.E004": "Error"}


def test_site_url_warnings(production):
    production.CIVIC_SITE_URL = "http://civic.example.kz"
    assert _found() == {"civic.W001": "Warning"}  # HTTPS-only site, http:// links
    production.CIVIC_SITE_URL = "https://other.example.kz"
    assert _found() == {"civic.W002": "Warning"}  # links a 400 would answer
    production.ALLOWED_HOSTS = [".example.kz"]
    assert _found() == {}


def test_email_from_localhost_and_proxies_without_a_count(production):
    production.DEFAULT_FROM_EMAIL = "Civic <noreply@localhost>"
    assert _found() == {"civic.W004": "Warning"}
    production.DEFAULT_FROM_EMAIL = "noreply@civic.example.kz"
    production.REST_FRAMEWORK = {**production.REST_FRAMEWORK, "NUM_PROXIES": 0}
    assert _found() == {"civic.W005": "Warning"}


@pytest.mark.parametrize("backend", ["console", "locmem", "dummy"])
def test_backends_that_send_nothing_are_errors(production, backend):
    production.EMAIL_BACKEND = f"django.core.mail.backends.{backend}.EmailBackend"
    assert _found() == {"civic.E003": "Error"}


def test_an_embedded_installation_says_so_explicitly(production):
    production.REDIS_URL = ""
    assert _found() == {"civic.E002": "Error"}
    production.CIVIC_EMBEDDED = True
    assert _found() == {}
    assert "civic.E001" not in {problem.id for problem in production_essentials()}
    # Email and links matter to a small installation too.
    production.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    assert _found() == {"civic.E003": "Error"}


def test_errors_come_first(production):
    production.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    production.CIVIC_SITE_URL = "http://127.0.0.1:8000"
    assert [(type(p), p.id) for p in production_essentials() if p.id != "civic.E001"] == [
        (Error, "civic.E004"),
        (CheckWarning, "civic.W003"),
    ]


def test_with_debug_on_a_process_warns_of_nothing(settings, caplog):
    settings.DEBUG = True
    with caplog.at_level(logging.WARNING, logger="civic.checks"):
        assert warn_if_not_production_ready("web") == []
    assert caplog.records == []
    settings.DEBUG = False
    with caplog.at_level(logging.WARNING, logger="civic.checks"):
        found = warn_if_not_production_ready("web")
    assert len(caplog.records) == len(found) > 0


# --- every process warns when it starts ----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _started(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _warned(log: Path, process: str) -> list[str]:
    marker = f"NOT READY FOR PRODUCTION ({process}): "
    return re.findall(re.escape(marker) + r"(civic\.[EW]\d{3})", log.read_text(errors="replace"))


def test_gunicorn_warns_once_per_missing_essential_and_still_serves(tmp_path):
    port = _free_port()
    log = tmp_path / "web.log"
    env = _env(tmp_path, BARE)
    web = _started(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "civic.wsgi",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        env,
        log,
    )
    try:
        _wait(
            lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2),
            timeout=90,
            what="gunicorn",
        )
        # Warned, not refused: the site answers, and its log says what is missing.
        assert sorted(_warned(log, "web")) == [
            "civic.E001",
            "civic.E002",
            "civic.E003",
            "civic.E004",
        ]
    finally:
        _stop(web)


@pytest.mark.parametrize("program", ["worker", "beat"])
def test_celery_worker_and_beat_warn_when_they_start(tmp_path, program):
    # A Redis address nothing answers on: the warnings come at start, before any connection,
    # so a process that cannot reach its broker yet has already said what else is wrong.
    env = _env(tmp_path, {**BARE, "REDIS_URL": f"redis://127.0.0.1:{_free_port()}/0"})
    log = tmp_path / f"{program}.log"
    args = [sys.executable, "-m", "celery", "-A", "civic", program, "--loglevel", "INFO"]
    if program == "beat":
        args += ["--schedule", str(tmp_path / "beat-schedule")]
    process = _started(args, env, log)
    try:
        _wait(
            lambda: len(_warned(log, program)) >= 3, timeout=120, what=f"the {program}'s warnings"
        )
        time.sleep(1)  # and no more than one each
        assert sorted(_warned(log, program)) == ["civic.E001", "civic.E003", "civic.E004"]
    finally:
        _stop(process)


# --- the first administrator ---------------------------------------------------------------


@pytest.mark.django_db
def test_createsuperuser_without_prompts_makes_the_first_administrator(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Kx9-first-admin-2050")
    call_command(
        "createsuperuser",
        "--noinput",
        "--email",
        "Akim.Office@Almaty.kz",
        "--display_name",
        "Администратор",
        verbosity=0,
    )
    admin = User.objects.get(email="akim.office@almaty.kz")
    assert admin.is_superuser and admin.is_staff and admin.email_verified
    assert admin.display_name == "Администратор"
    assert admin.check_password("Kx9-first-admin-2050")


# --- deploy/civic.env.example ----------------------------------------------------------------

EXAMPLE = ROOT / "deploy" / "civic.env.example"
# What reads the environment: the settings, the log settings, gunicorn's configuration.
READERS = [
    ROOT / "civic" / "settings.py",
    ROOT / "civic" / "logs.py",
    ROOT / "deploy" / "gunicorn.conf.py",
]


def _example() -> tuple[dict[str, str], set[str]]:
    """The variables the example sets, and the names it mentions commented out."""
    values, commented = {}, set()
    for line in EXAMPLE.read_text().splitlines():
        if match := re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line):
            values[match[1]] = match[2].strip('"')
        elif match := re.fullmatch(r"# ([A-Z][A-Z0-9_]*)=\S*", line):
            commented.add(match[1])
    return values, commented


def test_the_example_environment_passes_check_deploy(tmp_path):
    values, _ = _example()
    values.update(CIVIC_DATA_DIR=str(tmp_path), MEDIA_ROOT=str(tmp_path / "media"))
    # As copied, without its key, nothing starts...
    result = _manage(tmp_path, values, "check", "--deploy")
    assert result.returncode == 1
    assert "DJANGO_SECRET_KEY must be set" in result.stderr
    # ...and with one, the rest of it is a complete production environment.
    values["DJANGO_SECRET_KEY"] = SECRET
    result = _manage(tmp_path, values, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_example_names_every_variable_and_only_real_ones():
    values, commented = _example()
    named = set(values) | commented
    read = set()
    for path in READERS:
        read |= set(
            re.findall(
                r"""(?:environ\.get|env_flag|env_list|env_folder|environ\[)\(?\s*["']([A-Z][A-Z0-9_]*)["']""",
                path.read_text(),
            )
        )
        read |= set(re.findall(r"""env=["']([A-Z][A-Z0-9_]*)["']""", path.read_text()))
    read -= {"DJANGO_SETTINGS_MODULE"}
    assert read - named == set(), "variables the example does not mention"
    assert named - read == set(), "names nothing reads"
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert values["CIVIC_NUM_PROXIES"] == "1"
