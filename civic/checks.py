"""What a production installation needs beyond Django's own deploy checks.

A server with debug off still starts on the defaults that make a development checkout run
with nothing installed: SQLite, no Redis, emails printed to the console, links to
http://127.0.0.1:8000. Each of those is silent until a resident waits for an email that
never comes. So, with debug off:

- `manage.py check --deploy` reports each missing essential as an Error (exit status 1),
  which stops a release whose steps run it before the processes restart;
- every process (gunicorn's workers through civic/wsgi.py, the Celery worker and beat
  through the signals below) logs one WARNING per problem when it starts.

The processes warn rather than refuse: a supervisor restarts a refusing process for ever,
so a site that ran degraded (tasks in the request, say) would be down instead, and the
release step is where a person is watching. A small installation on one machine may run
on SQLite with tasks in process on purpose: CIVIC_EMBEDDED=1 says so, and silences only
the database and Redis checks (email and links matter there too).
"""

import ipaddress
import logging
from typing import Any
from urllib.parse import urlsplit

from celery.signals import beat_init, celeryd_init
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.http.request import split_domain_port, validate_host

logger = logging.getLogger(__name__)

# Backends that accept a message and send it nowhere.
_NOT_SENDING = {
    "django.core.mail.backends.console.EmailBackend": "prints every email on the console",
    "django.core.mail.backends.locmem.EmailBackend": "keeps every email in memory",
    "django.core.mail.backends.dummy.EmailBackend": "drops every email",
}
_FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
_SMTP_HINT = (
    "Set EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST, "
    "EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS and DEFAULT_FROM_EMAIL."
)
_EMBEDDED_HINT = (
    " (A one-machine installation on SQLite with tasks in the web process, on purpose: "
    "CIVIC_EMBEDDED=1.)"
)


def _embedded() -> bool:
    # An explicit choice, off unless the environment says so (civic/settings.py).
    return settings.CIVIC_EMBEDDED


def _is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _database() -> list[CheckMessage]:
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine == "django.db.backends.postgresql" or _embedded():
        return []
    if engine == "django.db.backends.sqlite3":
        what = f"the SQLite file {settings.DATABASES['default']['NAME']}"
    else:
        what = engine
    return [
        Error(
            f"The database is {what}, not PostgreSQL: one writer at a time, and no "
            "database the web, worker and beat processes of several machines can share.",
            hint="Set DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/NAME." + _EMBEDDED_HINT,
            id="civic.E001",
        )
    ]


def _redis() -> list[CheckMessage]:
    if settings.REDIS_URL or _embedded():
        return []
    return [
        Error(
            "REDIS_URL is not set: background work (reports, emails, tallies) runs inside "
            "web requests, no beat can run the sweeps that redo lost work and remove old "
            "files, and each web process keeps a cache of its own.",
            hint="Set REDIS_URL=redis://HOST:6379/0, and run a Celery worker and one beat."
            + _EMBEDDED_HINT,
            id="civic.E002",
        )
    ]


def _email() -> list[CheckMessage]:
    backend = settings.EMAIL_BACKEND
    if backend in _NOT_SENDING:
        return [
            Error(
                f"EMAIL_BACKEND is {backend}, which {_NOT_SENDING[backend]}: no resident "
                "gets an address check, a password reset, a decision or an answer.",
                hint=_SMTP_HINT,
                id="civic.E003",
            )
        ]
    problems: list[CheckMessage] = []
    if backend == _FILE_BACKEND:
        # Chosen by name, so perhaps on purpose (a staging site); still nothing is sent.
        folder = getattr(settings, "EMAIL_FILE_PATH", "(EMAIL_FILE_PATH is not set)")
        problems.append(
            Warning(
                f"EMAIL_BACKEND is the file backend: emails are written to {folder}, not sent.",
                hint=_SMTP_HINT,
                id="civic.W003",
            )
        )
    _, _, domain = settings.DEFAULT_FROM_EMAIL.rstrip(">").rpartition("@")
    if not domain or _is_loopback(domain):
        problems.append(
            Warning(
                f"DEFAULT_FROM_EMAIL is {settings.DEFAULT_FROM_EMAIL!r}: mail servers refuse "
                "or bin messages from an address at localhost.",
                hint="Set DEFAULT_FROM_EMAIL to an address of the city's domain, e.g. "
                "'Civic <noreply@civic.example.kz>'.",
                id="civic.W004",
            )
        )
    return problems


def _site_url() -> list[CheckMessage]:
    url = settings.CIVIC_SITE_URL
    parts = urlsplit(url)
    hint = "Set CIVIC_SITE_URL to the address residents open, e.g. https://civic.example.kz."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [
            Error(
                f"CIVIC_SITE_URL is {url!r}, not an http(s) address: links in emails are broken.",
                hint=hint,
                id="civic.E004",
            )
        ]
    if _is_loopback(parts.hostname):
        return [
            Error(
                f"CIVIC_SITE_URL is {url}: every link in an email (address check, password "
                "reset, decisions, answers) points at the resident's own machine.",
                hint=hint,
                id="civic.E004",
            )
        ]
    problems: list[CheckMessage] = []
    if parts.scheme == "http" and settings.DJANGO_SECURE:
        problems.append(
            Warning(
                f"CIVIC_SITE_URL is {url}, while DJANGO_SECURE=1 serves the site over HTTPS "
                "only: every link in an email goes through a redirect.",
                hint="Start CIVIC_SITE_URL with https://.",
                id="civic.W001",
            )
        )
    host, _ = split_domain_port(parts.netloc.lower())
    if not validate_host(host, settings.ALLOWED_HOSTS):
        problems.append(
            Warning(
                f"The host of CIVIC_SITE_URL ({host}) is not in DJANGO_ALLOWED_HOSTS: links in "
                "emails would answer 400 Bad Request.",
                hint=f"Add {host} to DJANGO_ALLOWED_HOSTS.",
                id="civic.W002",
            )
        )
    return problems


def _proxies() -> list[CheckMessage]:
    trusts_proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None) is not None
    if not trusts_proxy or settings.REST_FRAMEWORK["NUM_PROXIES"]:
        return []
    return [
        Warning(
            "DJANGO_SECURE=1 trusts X-Forwarded-Proto from a proxy, but CIVIC_NUM_PROXIES is "
            "0: every visitor who is not signed in is counted as the proxy's address, so one "
            "rate limit is shared by all of them.",
            hint="Behind one proxy (nginx, Caddy) that sets X-Forwarded-For, set "
            "CIVIC_NUM_PROXIES=1.",
            id="civic.W005",
        )
    ]


def production_essentials() -> list[CheckMessage]:
    """Every problem found, errors first."""
    problems = [*_database(), *_redis(), *_email(), *_site_url(), *_proxies()]
    return sorted(problems, key=lambda problem: (-problem.level, problem.id or ""))


@register("civic", deploy=True)
def check_production_essentials(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """`manage.py check --deploy`: the release step that stops a bad configuration."""
    return production_essentials()


def warn_if_not_production_ready(process: str) -> list[CheckMessage]:
    """Log one WARNING per problem when a process starts with debug off; return them."""
    if settings.DEBUG:
        return []
    problems = production_essentials()
    for problem in problems:
        logger.warning(
            "NOT READY FOR PRODUCTION (%s): %s: %s %s",
            process,
            problem.id,
            problem.msg,
            problem.hint or "",
        )
    return problems


@celeryd_init.connect(dispatch_uid="civic.checks.worker")
def _worker_starts(**kwargs: Any) -> None:
    warn_if_not_production_ready("worker")


@beat_init.connect(dispatch_uid="civic.checks.beat")
def _beat_starts(**kwargs: Any) -> None:
    warn_if_not_production_ready("beat")
