"""One settings module, read from the environment.

The defaults run with nothing installed: SQLite under ./data, tasks in-process, a
local-memory cache. Production behaviour comes only from environment variables
(see README, "Running in production").
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from civic.logs import logging_config_from_env


def env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "")
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or default


BASE_DIR = Path(__file__).resolve().parent.parent
# A development checkout has manage.py beside the packages. An installed Civic (a wheel in
# site-packages) has only its code there, and never writes beside it.
CHECKOUT = (BASE_DIR / "manage.py").is_file()

# Off unless asked for: a server started with a bare environment must not list every URL on
# a 404 or keep every query in memory. `make run` and `make test` turn it on.
DEBUG = env_flag("DJANGO_DEBUG", False)


def env_folder(name: str, folder: str) -> Path:
    """A folder Civic writes in: the variable `name`, else `folder` in the checkout (or, for
    an installed Civic with debug on, in the working directory)."""
    value = os.environ.get(name, "").strip()
    return Path(value) if value else (BASE_DIR if CHECKOUT else Path.cwd()) / folder


if not CHECKOUT and not DEBUG:
    # A production process of an installed Civic must not guess: the working directory
    # differs between the release commands, gunicorn and the workers, so a guessed folder
    # would leave collectstatic's files or the beat schedule where the others do not look.
    _unset = [
        name
        for name in ("CIVIC_DATA_DIR", "DJANGO_STATIC_ROOT")
        if not os.environ.get(name, "").strip()
    ]
    if _unset:
        raise ImproperlyConfigured(
            f"{' and '.join(_unset)} must be set when Civic is installed as a package and "
            "DJANGO_DEBUG is off: CIVIC_DATA_DIR is the folder of the beat schedule (and of the "
            "SQLite file and MEDIA_ROOT unless DATABASE_URL and MEDIA_ROOT say otherwise), "
            "DJANGO_STATIC_ROOT the folder `collectstatic` fills and /static/ is served from. "
            "Nothing is written beside the installed code."
        )
DATA_DIR = env_folder("CIVIC_DATA_DIR", "data")
# A one-machine installation on SQLite with tasks in the web process, on purpose: the
# deploy checks (civic/checks.py) then stop asking for PostgreSQL and Redis.
CIVIC_EMBEDDED = env_flag("CIVIC_EMBEDDED", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        # A server started with debug off and no key must fail now, not sign
        # sessions and tokens with a guessable key.
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug-mode"  # noqa: S105

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # Django's admin with the site's sign-in rate limit (civic/admin_site.py).
    "civic.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    # Object permissions (django-rules); each app's rules.py is loaded at start-up.
    "rules.apps.AutodiscoverRulesConfig",
    "civic.accounts",
    "strategy",
    "proposals",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "civic.middleware.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "frontend.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After authentication: sends a signed-in resident who has not accepted the current
    # terms to the consent page, and refuses their API writes.
    "civic.accounts.middleware.ConsentMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "civic.urls"
SESSION_ENGINE = "civic.sessions"
WSGI_APPLICATION = "civic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "frontend.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{DATA_DIR / 'civic.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # IMMEDIATE transactions take the write lock up front, so concurrent writers
    # queue behind the busy timeout instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Every access rule is a django-rules predicate (civic/accounts/rules.py, proposals/rules.py),
# asked before the group permissions that say who holds which role (civic/accounts/roles.py).
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Redis: Celery broker and cache ---------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "").strip()

# Rate limits count in the "throttle" cache (civic/throttling.py): shared by every web
# process, and held in this database table (created by a migration) when Redis is away.
_THROTTLE_DB = {
    "BACKEND": "django.core.cache.backends.db.DatabaseCache",
    "LOCATION": "civic_throttle_cache",
    # Counters expire with their window; the cap only bounds a flood of distinct clients.
    "OPTIONS": {"MAX_ENTRIES": 100_000},
}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                # Redis is an accelerator here, never the truth: when it is down tally
                # snapshots miss and are read from the database instead of failing.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        },
        "throttle": {
            "BACKEND": "civic.throttling.FallbackCache",
            "OPTIONS": {"PRIMARY": "throttle_redis", "FALLBACK": "throttle_db"},
        },
        # Errors are raised here, so that the throttle cache can turn to the database.
        "throttle_redis": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": False,
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        },
        "throttle_db": _THROTTLE_DB,
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "throttle": _THROTTLE_DB,
    }

# Eager mode still builds a producer to serialise tasks like a real send; a named
# in-memory broker keeps kombu from warning about the missing host.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CIVIC_TASK_SOFT_TIME_LIMIT", "600"))
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60
# Reports of a million proposals take minutes: they have their own, longer limit.
CIVIC_REPORT_TIME_LIMIT = int(os.environ.get("CIVIC_REPORT_TIME_LIMIT", "3600"))
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker that lost Redis keeps trying to reconnect (after 2 s, then 4, 6, ... up to every
# 30 s) for as long as it takes, instead of exiting after 100 tries.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# kombu's Redis transport, with the fix that lets a worker holding unacknowledged messages
# reconnect after Redis was killed, instead of exiting (civic/broker.py).
if REDIS_URL.startswith("redis://"):
    CELERY_BROKER_TRANSPORT = "civic.broker:Transport"
# A task still running when the connection drops finishes its work (every task is
# idempotent, and a report keeps its progress); only its acknowledgement is lost. Redis
# hands the message out again after the visibility timeout, or, if Redis lost it, a beat
# sweeper redoes what it was for. Stated here because Celery 6 flips the default.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# A publish that cannot reach the broker fails fast; the intent is already in the
# database and the beat sweepers redo it, so a request never waits on Redis.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Longer than the hard time limit of the longest task, so an acked-late task
    # that is still running is never handed to a second worker.
    "visibility_timeout": max(CELERY_TASK_TIME_LIMIT, CIVIC_REPORT_TIME_LIMIT + 60) * 2,
    "socket_connect_timeout": 1,
    "socket_timeout": 5,
    # A connection that died without a word (a restarted Redis, a dropped route) is found
    # by these checks rather than waited on.
    "socket_keepalive": True,
    "health_check_interval": 10,
}
CELERY_TIMEZONE = "Asia/Almaty"
CIVIC_TALLY_SWEEP_SECONDS = float(os.environ.get("CIVIC_TALLY_SWEEP_SECONDS", "5"))
# The decision and answer email sweeps run this often, and resend an email whose task has
# not sent it this long after the decision or answer (its own message had its chance).
CIVIC_EMAIL_SWEEP_SECONDS = float(os.environ.get("CIVIC_EMAIL_SWEEP_SECONDS", "60"))
CIVIC_EMAIL_SWEEP_AFTER_SECONDS = float(os.environ.get("CIVIC_EMAIL_SWEEP_AFTER_SECONDS", "120"))
# The theme suggester retrains this often, and after approvals, once this many proposals
# are newly confirmed since its last model (proposals/suggest/training.py).
CIVIC_SUGGESTER_RETRAIN_SECONDS = float(os.environ.get("CIVIC_SUGGESTER_RETRAIN_SECONDS", "21600"))
CIVIC_SUGGESTER_RETRAIN_AFTER = int(os.environ.get("CIVIC_SUGGESTER_RETRAIN_AFTER", "20"))
# The daily digest of what people follow goes out from this hour on (TIME_ZONE), checked
# this often; each person's digest row makes it once a day however often it runs.
CIVIC_DIGEST_HOUR = int(os.environ.get("CIVIC_DIGEST_HOUR", "9"))
CIVIC_DIGEST_CHECK_SECONDS = float(os.environ.get("CIVIC_DIGEST_CHECK_SECONDS", "900"))
if not 0 <= CIVIC_DIGEST_HOUR <= 23:
    raise ImproperlyConfigured("CIVIC_DIGEST_HOUR must be an hour from 0 to 23.")
CELERY_BEAT_SCHEDULE = {
    "tally-sweep": {
        "task": "proposals.tally_sweep",
        "schedule": CIVIC_TALLY_SWEEP_SECONDS,
        # A sweep that waited longer than its own period is superseded by the next one.
        "options": {"expires": CIVIC_TALLY_SWEEP_SECONDS},
    },
    "verification-email-sweep": {
        "task": "accounts.verification_email_sweep",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "suggestion-sweep": {
        "task": "proposals.suggestion_sweep",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "suggester-retrain": {
        "task": "proposals.suggester_retrain",
        "schedule": CIVIC_SUGGESTER_RETRAIN_SECONDS,
        "options": {"expires": CIVIC_SUGGESTER_RETRAIN_SECONDS},
    },
    "duplicate-sweep": {
        "task": "proposals.duplicate_sweep",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "report-sweep": {
        "task": "proposals.report_sweep",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "report-expire": {
        "task": "proposals.report_expire",
        "schedule": 3600.0,
        "options": {"expires": 3600},
    },
    "decision-email-sweep": {
        "task": "proposals.decision_email_sweep",
        "schedule": CIVIC_EMAIL_SWEEP_SECONDS,
        "options": {"expires": CIVIC_EMAIL_SWEEP_SECONDS},
    },
    "answer-email-sweep": {
        "task": "proposals.answer_email_sweep",
        "schedule": CIVIC_EMAIL_SWEEP_SECONDS,
        "options": {"expires": CIVIC_EMAIL_SWEEP_SECONDS},
    },
    "notification-sweep": {
        "task": "proposals.notification_sweep",
        "schedule": CIVIC_EMAIL_SWEEP_SECONDS,
        "options": {"expires": CIVIC_EMAIL_SWEEP_SECONDS},
    },
    "notification-digest": {
        "task": "proposals.send_digests",
        "schedule": CIVIC_DIGEST_CHECK_SECONDS,
        "options": {"expires": CIVIC_DIGEST_CHECK_SECONDS},
    },
    "summary-sweep": {
        "task": "proposals.summary_sweep",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "data-export-sweep": {
        "task": "accounts.data_export_sweep",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "data-export-expire": {
        "task": "accounts.data_export_expire",
        "schedule": 3600.0,
        "options": {"expires": 3600},
    },
    "client-counters-expire": {
        "task": "accounts.client_counters_expire",
        "schedule": 3600.0,
        "options": {"expires": 3600},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# --- Health and the one beat (civic/health.py, civic/beat.py) ---
# Beat sends a heartbeat task this often; the worker that runs it records the time, and
# /readyz fails once the newest is older than the worker's threshold (a few intervals, so
# that one heartbeat waiting behind a busy moment does not fail it).
CIVIC_HEALTH_HEARTBEAT_SECONDS = float(os.environ.get("CIVIC_HEALTH_HEARTBEAT_SECONDS", "15"))
CIVIC_HEALTH_WORKER_MAX_AGE_SECONDS = float(
    os.environ.get("CIVIC_HEALTH_WORKER_MAX_AGE_SECONDS", "60")
)
# Beat records each tick while it holds the beat lock; it ticks at least every third of
# CIVIC_BEAT_LOCK_SECONDS.
CIVIC_HEALTH_BEAT_MAX_AGE_SECONDS = float(os.environ.get("CIVIC_HEALTH_BEAT_MAX_AGE_SECONDS", "60"))
# Only the beat holding this lock in Redis sends; it renews it on every tick, and a
# standby beat takes over this long after the holder died without giving it back.
CIVIC_BEAT_LOCK_SECONDS = float(os.environ.get("CIVIC_BEAT_LOCK_SECONDS", "30"))
if CIVIC_HEALTH_WORKER_MAX_AGE_SECONDS <= CIVIC_HEALTH_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        "CIVIC_HEALTH_WORKER_MAX_AGE_SECONDS must be longer than CIVIC_HEALTH_HEARTBEAT_SECONDS."
    )
if CIVIC_BEAT_LOCK_SECONDS < 3 or CIVIC_HEALTH_BEAT_MAX_AGE_SECONDS <= CIVIC_BEAT_LOCK_SECONDS / 3:
    raise ImproperlyConfigured(
        "CIVIC_BEAT_LOCK_SECONDS must be at least 3, and CIVIC_HEALTH_BEAT_MAX_AGE_SECONDS "
        "longer than a third of it (how often beat ticks at the least)."
    )
CELERY_BEAT_SCHEDULE["worker-heartbeat"] = {
    "task": "civic.heartbeat",
    "schedule": CIVIC_HEALTH_HEARTBEAT_SECONDS,
    # A heartbeat that waited longer than its period proves nothing more than the next.
    "options": {"expires": CIVIC_HEALTH_HEARTBEAT_SECONDS},
}
CELERY_BEAT_SCHEDULER = "civic.beat:Scheduler"

# Bursts of changes to one strategy are folded into one refresh this many seconds later.
CIVIC_TALLY_COALESCE_SECONDS = float(os.environ.get("CIVIC_TALLY_COALESCE_SECONDS", "1"))
# Each web process reuses a tally snapshot it read for this long before asking Redis again.
CIVIC_TALLY_LOCAL_SECONDS = float(os.environ.get("CIVIC_TALLY_LOCAL_SECONDS", "1"))
# Public list pages are kept this long at most for readers who see the same database
# snapshot (civic/snapshots.py); any write moves the snapshot on, so they are never stale.
# 0 builds every page.
CIVIC_SNAPSHOT_CACHE_SECONDS = int(os.environ.get("CIVIC_SNAPSHOT_CACHE_SECONDS", "60"))
# A snapshot older than this is rebuilt by the sweeper even if nothing marked it dirty.
CIVIC_TALLY_MAX_AGE_SECONDS = int(os.environ.get("CIVIC_TALLY_MAX_AGE_SECONDS", "3600"))

# The sign-up and submit forms: a post sooner than this after its page was shown (by the
# page's signed stamp) is a script's, refused quietly (frontend/bots.py); 0 turns it off.
CIVIC_FORM_MIN_SECONDS = float(os.environ.get("CIVIC_FORM_MIN_SECONDS", "3"))

# Near-duplicates. Two proposals are near-duplicates when the share of the 5-letter pieces
# ("shingles") of their texts they have in common (Jaccard similarity) is at least this.
# Changing any of these makes the next refresh rebuild every strategy's groups.
# Comments: how long their author may edit one (minutes), and how many distinct residents'
# flags hide one from the public until a moderator decides.
CIVIC_COMMENT_EDIT_MINUTES = int(os.environ.get("CIVIC_COMMENT_EDIT_MINUTES", "15"))
CIVIC_COMMENT_HIDE_AFTER_FLAGS = int(os.environ.get("CIVIC_COMMENT_HIDE_AFTER_FLAGS", "3"))
if CIVIC_COMMENT_EDIT_MINUTES < 0 or CIVIC_COMMENT_HIDE_AFTER_FLAGS < 1:
    raise ImproperlyConfigured(
        "CIVIC_COMMENT_EDIT_MINUTES must be at least 0 and CIVIC_COMMENT_HIDE_AFTER_FLAGS at least 1."
    )

CIVIC_DUPLICATE_THRESHOLD = float(os.environ.get("CIVIC_DUPLICATE_THRESHOLD", "0.5"))
CIVIC_DUPLICATE_SHINGLE = int(os.environ.get("CIVIC_DUPLICATE_SHINGLE", "5"))
CIVIC_DUPLICATE_NUM_PERM = int(os.environ.get("CIVIC_DUPLICATE_NUM_PERM", "64"))
# A refresh with more new or changed proposals than this regroups the whole strategy in
# memory instead of one proposal at a time (an import, a first run).
CIVIC_DUPLICATE_BATCH = int(os.environ.get("CIVIC_DUPLICATE_BATCH", "2000"))
# Refuse to start with values MinHash/LSH cannot work with, rather than fail on a submission.
if not 0 < CIVIC_DUPLICATE_THRESHOLD <= 1:
    raise ImproperlyConfigured("CIVIC_DUPLICATE_THRESHOLD must be above 0 and at most 1.")
if CIVIC_DUPLICATE_SHINGLE < 2 or CIVIC_DUPLICATE_NUM_PERM < 16 or CIVIC_DUPLICATE_BATCH < 1:
    raise ImproperlyConfigured(
        "CIVIC_DUPLICATE_SHINGLE must be at least 2, CIVIC_DUPLICATE_NUM_PERM at least 16 "
        "and CIVIC_DUPLICATE_BATCH at least 1."
    )

# A queued report nobody started for this long is sent to the workers again (a lost
# message); a running one past its time limit is retried up to this many times, then failed.
CIVIC_REPORT_REQUEUE_SECONDS = int(os.environ.get("CIVIC_REPORT_REQUEUE_SECONDS", "300"))
CIVIC_REPORT_MAX_ATTEMPTS = int(os.environ.get("CIVIC_REPORT_MAX_ATTEMPTS", "3"))
# A running report whose build wrote nothing for this long lost its worker.
CIVIC_REPORT_STALL_SECONDS = int(os.environ.get("CIVIC_REPORT_STALL_SECONDS", "300"))
# Report files are removed this many days after they were built.
CIVIC_REPORT_RETENTION_DAYS = int(os.environ.get("CIVIC_REPORT_RETENTION_DAYS", "7"))

# --- Personal data --------------------------------------------------------------------------
# The version of the terms and privacy notice in force: the texts are
# <CIVIC_TERMS_DIR>/<version>/<ru|kk|en>.md. Changing it asks every signed-in resident to
# accept the new version before they write anything.
CIVIC_TERMS_VERSION = os.environ.get("CIVIC_TERMS_VERSION", "2026-11").strip()
CIVIC_TERMS_DIR = Path(os.environ.get("CIVIC_TERMS_DIR", BASE_DIR / "civic" / "accounts" / "terms"))
# "Download my data" files are removed this many days after they were built.
CIVIC_EXPORT_RETENTION_DAYS = int(os.environ.get("CIVIC_EXPORT_RETENTION_DAYS", "7"))

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
if os.environ.get("EMAIL_FILE_PATH"):
    EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"]
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_flag("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Civic <noreply@localhost>")

CIVIC_EMAIL_VERIFICATION = env_flag("CIVIC_EMAIL_VERIFICATION", True)
CIVIC_EMAIL_VERIFICATION_MAX_AGE = 3 * 24 * 3600
CIVIC_SITE_URL = os.environ.get("CIVIC_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Security -------------------------------------------------------------------------------
DJANGO_SECURE = env_flag("DJANGO_SECURE", False)
if DJANGO_SECURE:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Liveness and readiness answer over plain HTTP too: a load balancer or monitor probing
# the process directly must not get a redirect to HTTPS instead of the answer.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# No page loads anything from elsewhere, and no page runs inline script: scripts and
# styles are files under /static/, charts are SVG drawn on the server. The admin
# keeps Django's own pages, which carry a few inline scripts.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LOGIN_URL = "frontend:login"
LOGIN_REDIRECT_URL = "frontend:home"
LOGOUT_REDIRECT_URL = "frontend:home"
PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600
# An API token stops working this many days after it was issued (signing in again gives a
# new one); a password change or reset, or POST /api/v1/auth/logout/, ends it sooner.
CIVIC_TOKEN_TTL_DAYS = int(os.environ.get("CIVIC_TOKEN_TTL_DAYS", "30"))

# Bodies over 1 MiB are refused with 413 by civic.middleware before any parsing.
CIVIC_MAX_BODY_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = CIVIC_MAX_BODY_BYTES

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", "Русский"), ("kk", "Қазақша"), ("en", "English")]
# One catalogue for the pages and for the messages of services they show.
LOCALE_PATHS = [BASE_DIR / "frontend" / "locale"]
FORMAT_MODULE_PATH = ["frontend.formats"]
LANGUAGE_COOKIE_NAME = "civic_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Asia/Almaty"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env_folder("DJANGO_STATIC_ROOT", "staticfiles")
if STATIC_ROOT == BASE_DIR / "staticfiles":
    # WhiteNoise serves from here; in the checkout, an empty folder beats a warning on every
    # start. A configured folder is collectstatic's to make: until then the warning is true.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))
MEDIA_URL = "media/"

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header is what turns "not signed in" into a 401.
        "civic.accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PARSER_CLASSES": ["civic.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PAGINATION_CLASS": "civic.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "civic.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "register": os.environ.get("CIVIC_THROTTLE_REGISTER", "20/hour"),
        "login": os.environ.get("CIVIC_THROTTLE_LOGIN", "30/minute"),
        "submit": os.environ.get("CIVIC_THROTTLE_SUBMIT", "30/hour"),
        "react": os.environ.get("CIVIC_THROTTLE_REACT", "300/minute"),
        # Comment writes (post, edit, flag): per account, and per address across accounts.
        "comment": os.environ.get("CIVIC_THROTTLE_COMMENT", "30/hour"),
        "comment_address": os.environ.get("CIVIC_THROTTLE_COMMENT_ADDRESS", "120/hour"),
        "report": os.environ.get("CIVIC_THROTTLE_REPORT", "30/hour"),
        "similar": os.environ.get("CIVIC_THROTTLE_SIMILAR", "120/hour"),
        # Password-reset emails to one address, whoever asks (keyed by a hash of it).
        "reset_email": os.environ.get("CIVIC_THROTTLE_RESET_EMAIL", "3/hour"),
        "export": os.environ.get("CIVIC_THROTTLE_EXPORT", "10/hour"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # How many proxies in front of us append to X-Forwarded-For. 0 trusts only the socket
    # address: otherwise anyone could pick their own address and dodge every rate limit.
    "NUM_PROXIES": int(os.environ.get("CIVIC_NUM_PROXIES", "0")),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Civic API",
    "DESCRIPTION": "Residents' proposals on a city strategy document.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the installed sidecar package: no request leaves the site.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The tally endpoint is served by a plain view; its DRF twin describes it.
    "PREPROCESSING_HOOKS": ["proposals.apis.document_tally_endpoint"],
    # docs/api.md's errors on every operation; the fields only some readers get, optional.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "proposals.apis.document_fields_for_some_readers",
        "civic.schema.document_errors",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ProposalStatusEnum": "proposals.models.Proposal.Status",
        "StrategyStatusEnum": "strategy.models.Strategy.Status",
        "AnswerOutcomeEnum": "proposals.models.Answer.Outcome",
        # The proposals' rejection reasons keep the name they had before comments came.
        "ReasonEnum": "proposals.models.ProposalEvent.Reason",
        "CommentFlagReasonEnum": "proposals.models.CommentFlag.Reason",
        "CommentHideReasonEnum": "proposals.models.Comment.HideReason",
        "CommentModerationReasonEnum": "proposals.comments.services.MODERATOR_REASONS",
    },
}

# One format for the web, gunicorn, the worker and beat (civic/logs.py): UTC times with the
# offset, `CIVIC_LOG_FORMAT=json` for JSON lines, DJANGO_LOG_LEVEL for the level (the
# worker and beat take theirs from --loglevel).
LOGGING = logging_config_from_env(os.environ)
