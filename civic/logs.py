"""How every process logs: the web (Django under gunicorn, gunicorn itself), the Celery
worker and beat.

One shape for all of them, so that the lines of one incident can be read side by side:

- times in UTC, ISO 8601 with the offset written out (`2026-05-01T09:30:00.123+00:00`),
  never the process's local time (Django sets it to TIME_ZONE, gunicorn and Celery each
  had their own format, and a journal gathered three zones);
- `CIVIC_LOG_FORMAT=json` writes one JSON object per line (time, level, logger, message,
  exception when there is one, and the record's extra fields as keys) for a log shipper;
- the access log (gunicorn's) holds no query strings and no tokens from the emailed links:
  a reset or verification link read from a log would open someone's account;
- a Celery task's outcome and duration are one line at INFO once it ends, except a
  periodic task (a sweep, the heartbeat) that found nothing, which is DEBUG, as is its
  "received" line: they run every few seconds;
- a request with an unknown Host is one WARNING line, not a traceback: it is a bot or a
  misconfigured proxy, never a bug.

`logging_config()` is the dictConfig that civic/settings.py (LOGGING) and
deploy/gunicorn.conf.py both use; the Celery signal handlers at the end are connected in
civic/celery.py.
"""

import json
import logging
import logging.config
import re
import time
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

TEXT_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
# gunicorn's atoms: peer address, request line (path without the query, see AccessLogFilter),
# status, bytes, milliseconds, user agent. No referer: it carries other pages' addresses,
# query strings included. Behind the proxy the peer is the proxy; the client's address is
# in the proxy's own log (the site stores no client addresses, see README).
ACCESS_LOG_FORMAT = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

# The pages whose path carries a secret from an email (frontend/urls.py): the
# verification, address-change and unsubscribe links, and the password-reset link. The
# segment is replaced; "resend" and "set-password" (Django's stand-in once the token is in
# the session) are not secrets but are replaced the same, which costs nothing.
_TOKEN_IN_PATH = re.compile(
    r"(/(?:verify-email|me/email|unsubscribe(?:/notifications)?|password-reset/[^/]+)/)"
    r"(?!resend/)[^/?#]+"
)
REDACTED = "<token>"

# What every LogRecord has; anything else on a record came through `extra=` and becomes a
# key of the JSON line.
_RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("", logging.INFO, "", 0, "", (), None).__dict__
) | {"message", "asctime", "taskName"}


def redact_path(path: str) -> str:
    """The path with the tokens of emailed links replaced."""
    return _TOKEN_IN_PATH.sub(r"\1" + REDACTED, path)


def utc_time(created: float) -> str:
    return datetime.fromtimestamp(created, tz=UTC).isoformat(timespec="milliseconds")


class TextFormatter(logging.Formatter):
    """Plain lines, timed in UTC with the offset."""

    def __init__(self, fmt: str = TEXT_FORMAT, **kwargs: Any) -> None:
        super().__init__(fmt, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        return utc_time(record.created)


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, process, message, exception, and the
    record's extra fields.

    Only plain values (text, numbers, booleans) among the extras are written: Django passes
    the request object and Celery the task's arguments, which a log must not spill.
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": utc_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "process": record.process,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        for key, value in record.__dict__.items():
            if key in _RECORD_ATTRIBUTES or key in line or key.startswith("_"):
                continue
            if value is None or isinstance(value, str | int | float | bool):
                line[key] = value
        return json.dumps(line, ensure_ascii=False, default=str)


class AccessLogFilter(logging.Filter):
    """gunicorn's access record, without query strings or tokens, and with its fields as
    the record's attributes (so that the JSON line has them as keys)."""

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args
        if not isinstance(atoms, dict):
            return True
        path = redact_path(str(atoms.get("U") or "-"))
        method = str(atoms.get("m") or "-")
        protocol = str(atoms.get("H") or "-")
        # gunicorn's wrapper answers "-" for what it lacks; set only what it has.
        dict.update(atoms, {"U": path, "q": "-", "r": f"{method} {path} {protocol}", "f": "-"})
        record.client = atoms.get("h")
        record.method = method
        record.path = path
        status = str(atoms.get("s") or "")
        record.status = int(status) if status.isdigit() else status
        record.bytes = atoms.get("B") or 0
        record.duration_ms = atoms.get("M")
        record.user_agent = atoms.get("a")
        return True


class RedactFilter(logging.Filter):
    """Tokens of emailed links out of Django's request lines ("Bad Request: /ru/verify-
    email/...")."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_path(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        elif isinstance(record.msg, str):
            record.msg = redact_path(record.msg)
        return True


def periodic_task_names() -> set[str]:
    """The tasks beat sends (the sweeps and the heartbeat)."""
    return {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}


class PeriodicTaskQuiet(logging.Filter):
    """The worker's "Task ... received" line, at DEBUG for the tasks beat sends every few
    seconds; on-demand tasks (a report, an email) keep it at INFO, which shows when a
    worker took one as well as when it finished."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, dict) and args.get("name") in periodic_task_names():
            if not logging.getLogger(record.name).isEnabledFor(logging.DEBUG):
                return False
            record.levelno = logging.DEBUG
            record.levelname = logging.getLevelName(logging.DEBUG)
        return True


class OneLineWarning(logging.Filter):
    """A refused Host header: a WARNING line without the traceback Django attaches.

    Django logs `DisallowedHost` at ERROR with the exception; the message already says
    which host was refused, and the traceback only shows Django's own request handling.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING:
            record.levelno = logging.WARNING
            record.levelname = logging.getLevelName(logging.WARNING)
        record.exc_info = None
        record.exc_text = None
        return True


def logging_config(*, level: str = "INFO", json_lines: bool = False) -> dict[str, Any]:
    """The dictConfig of every process: one stream (stderr, which systemd's journal
    reads), one formatter."""
    formatter = "civic.logs.JSONFormatter" if json_lines else "civic.logs.TextFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "access": {"()": "civic.logs.AccessLogFilter"},
            "redact": {"()": "civic.logs.RedactFilter"},
            "one_line": {"()": "civic.logs.OneLineWarning"},
            "periodic_quiet": {"()": "civic.logs.PeriodicTaskQuiet"},
        },
        "formatters": {"civic": {"()": formatter}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "civic"}},
        "root": {"handlers": ["console"], "level": level.upper()},
        "loggers": {
            # Django's defaults give these their own handlers (a second, differently
            # formatted line in debug); here they only pass records up to the root.
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            "django.server": {"handlers": [], "level": "INFO", "propagate": True},
            "django.request": {"filters": ["redact"]},
            "django.security.DisallowedHost": {"filters": ["one_line"]},
            "django.db.backends": {"level": "WARNING"},
            # gunicorn adds handlers of its own format to these; replaced by the root's.
            "gunicorn.error": {"handlers": [], "level": "INFO", "propagate": True},
            "gunicorn.access": {
                "handlers": [],
                "level": "INFO",
                "propagate": True,
                "filters": ["access"],
            },
            # Celery's "succeeded" line (with no duration in a JSON line's keys) and beat's
            # "Sending due task" every few seconds: task_finished() below writes one line
            # per task instead, and beat's sweeps show in the worker's lines. Errors still
            # show.
            "celery.app.trace": {"level": "WARNING"},
            "celery.beat": {"level": "WARNING"},
            "celery.worker.strategy": {"filters": ["periodic_quiet"]},
        },
    }


def logging_config_from_env(environ: dict[str, str]) -> dict[str, Any]:
    """`DJANGO_LOG_LEVEL` (default INFO) and `CIVIC_LOG_FORMAT` (`text` or `json`)."""
    log_format = environ.get("CIVIC_LOG_FORMAT", "text").strip().lower() or "text"
    if log_format not in {"text", "json"}:
        raise ImproperlyConfigured(f"CIVIC_LOG_FORMAT must be text or json, not {log_format!r}.")
    return logging_config(
        level=environ.get("DJANGO_LOG_LEVEL", "INFO").strip() or "INFO",
        json_lines=log_format == "json",
    )


# --- Celery (connected in civic/celery.py) --------------------------------------------------

task_logger = logging.getLogger("civic.tasks")
# task id -> monotonic start, per process (a prefork child runs its own tasks).
_started: dict[str, float] = {}

_OUTCOMES = {"SUCCESS": "succeeded", "FAILURE": "failed", "RETRY": "retried"}


def celery_setup_logging(loglevel: int | str | None = None, **kwargs: Any) -> None:
    """Celery's own logging set-up, replaced: the settings' LOGGING, at the level of the
    command's `--loglevel`. Connecting this also keeps Celery from putting its own
    handler, in local time, on the root logger."""
    logging.config.dictConfig(settings.LOGGING)
    # Python's warnings, as log lines too (Celery's own set-up does the same).
    logging.captureWarnings(True)
    if loglevel:
        logging.getLogger().setLevel(loglevel)


def task_started(task_id: str | None = None, **kwargs: Any) -> None:
    if task_id:
        _started[task_id] = time.monotonic()


def found_nothing(result: Any) -> bool:
    """A sweep's answer when it had nothing to do: nothing, zero, an empty list, or
    counts that are all zero."""
    if isinstance(result, dict):
        return all(found_nothing(value) for value in result.values())
    return not result


def task_finished(
    task_id: str | None = None,
    task: Any = None,
    retval: Any = None,
    state: str | None = None,
    **kwargs: Any,
) -> None:
    """One line per task: its outcome and duration, and what it returned."""
    started = _started.pop(task_id or "", None)
    duration = time.monotonic() - started if started is not None else 0.0
    name = getattr(task, "name", "?")
    outcome = _OUTCOMES.get(state or "", (state or "unknown").lower())
    periodic = name in periodic_task_names()
    in_process = bool(getattr(getattr(task, "request", None), "is_eager", False))
    quiet = outcome == "succeeded" and (in_process or (periodic and found_nothing(retval)))
    result = repr(retval)
    if len(result) > 200:
        result = result[:197] + "..."
    task_logger.log(
        logging.DEBUG if quiet else logging.INFO,
        "Task %s[%s] %s in %.3f s: %s",
        name,
        task_id,
        outcome,
        duration,
        result,
        extra={
            "task": name,
            "task_id": task_id,
            "outcome": outcome,
            "duration": round(duration, 6),
        },
    )
