import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from civic.accounts.services import role_grant
from tests.factories import StrategyFactory, UserFactory


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle counters and tally snapshots live in the cache; tests must not
    # inherit each other's.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_throttle_counts(request, django_db_blocker):
    # Rate-limit counts also live in a database table (civic/throttling.py), which the
    # flush after a transactional test leaves alone; other tests roll it back.
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(
        marker and (marker.kwargs.get("transaction") or marker.args[:1] == (True,))
    )
    transactional |= bool(
        {"transactional_db", "live_server", "django_db_reset_sequences"} & set(request.fixturenames)
    )
    if transactional:
        from civic.throttling import throttle_cache

        with django_db_blocker.unblock():
            throttle_cache.clear()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def strategy(db):
    return StrategyFactory(slug="almaty-test", code_prefix="ALT")


def _user_with(role: str | None, **kwargs):
    user = UserFactory(**kwargs)
    if role:
        role_grant(user=user, role=role)
    return user


@pytest.fixture
def resident(db):
    return _user_with(None, display_name="Айгерим")


@pytest.fixture
def other_resident(db):
    return _user_with(None, display_name="Дмитрий")


@pytest.fixture
def moderator(db):
    return _user_with("moderator", display_name="Модератор")


@pytest.fixture
def analyst(db):
    return _user_with("analyst", display_name="Аналитик")


@pytest.fixture
def responder(db):
    return _user_with("responder", display_name="Ответственный")


@pytest.fixture
def admin_user(db):
    return _user_with("admin", display_name="Админ")


def page_client_for(user) -> Client:
    """A browser-like client for the pages, signed in as `user` (anonymous for None)."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user=user)
    return client


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's cost is the point in production and pure waste in tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _tasks_in_process():
    # In-process tests run tasks eagerly whatever REDIS_URL says; the end-to-end
    # tests (test_tasks_e2e.py) run real worker processes for the real thing.
    from civic.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _no_local_tally_memo(settings):
    # Tests read a tally right after rebuilding it; the per-process memo would
    # hand them the previous one for up to a second (test_selectors covers it).
    settings.CIVIC_TALLY_LOCAL_SECONDS = 0


@pytest.fixture(autouse=True)
def _no_form_fill_time(settings):
    # Pages are posted here without loading the form first, faster than any person: the
    # minimum fill time is off. The honeypot stays on; tests/frontend/test_bots.py runs
    # both checks at the production default.
    settings.CIVIC_FORM_MIN_SECONDS = 0


@pytest.fixture(scope="session", autouse=True)
def _compiled_translations():
    # The .mo files are built, not committed: tests that read Kazakh need them fresh.
    from django.core.management import call_command

    call_command("compile_translations", verbosity=0)


@pytest.fixture
def submit(django_capture_on_commit_callbacks):
    """Submit through the service and run what it enqueues after the commit (theme
    suggestions, near-duplicate refresh), as a worker would."""
    from proposals.services import proposal_submit

    def _submit(strategy, title: str, body: str, author=None):
        with django_capture_on_commit_callbacks(execute=True):
            return proposal_submit(
                author=author or UserFactory(), strategy=strategy, title=title, body=body
            )

    return _submit


@pytest.fixture
def people_by_role(resident, moderator, analyst, admin_user) -> dict:
    """One person of each role, and None for an anonymous visitor."""
    return {
        "anonymous": None,
        "resident": resident,
        "moderator": moderator,
        "analyst": analyst,
        "admin": admin_user,
    }
