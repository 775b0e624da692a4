"""Settings come from the environment; a misconfigured server fails at start."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECURE": "1",
    "DJANGO_SECRET_KEY": "k3y-" + "x7Qp9vR2mT5wL8nB4cF6hJ1dS0aZ" * 3,
    "DJANGO_ALLOWED_HOSTS": "civic.example.kz",
    # The production essentials civic/checks.py asks for (tests/civic/test_deploy_checks.py).
    "DATABASE_URL": "postgres://civic:secret@127.0.0.1:5432/civic",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "DEFAULT_FROM_EMAIL": "Civic <noreply@civic.example.kz>",
    "CIVIC_SITE_URL": "https://civic.example.kz",
    "CIVIC_NUM_PROXIES": "1",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_secure_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_without_secure_settings():
    env = {**PRODUCTION, "DJANGO_SECURE": "0"}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "security.W004" in result.stderr  # no HSTS


def test_no_secret_key_with_debug_off_fails_at_start():
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr
