"""HEAD on every page answers as GET does, without the body (issue 18).

Monitors, link checkers and proxies ask HEAD; a page that answered 405 to it looked down.
The walk covers every route of frontend/urls.py, for a visitor and for each role, so a page
added later is checked too (or the walk says it does not know how to fill its address).
"""

from datetime import timedelta
from itertools import count

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from civic.accounts.tokens import email_change_token_make, email_token_make
from frontend.urls import urlpatterns
from proposals.answers.notify import unsubscribe_token as answers_unsubscribe_token
from proposals.comments.services import comment_create
from proposals.following.tokens import unsubscribe_token
from proposals.models import Notification, Report
from proposals.reports.services import report_order
from strategy.models import Section
from strategy.services import strategy_import_files
from tests.conftest import page_client_for
from tests.frontend.helpers import _published
from tests.frontend.test_version_pages import ALMATY

pytestmark = pytest.mark.django_db

# Who asks a page that refused a visitor: a resident, then an administrator (whose role
# holds every staff permission).
PEOPLE = ("resident", "admin_user")
# Pages every visitor must get with 200 to HEAD: what monitors and link checkers ask for.
PUBLIC_200 = ("home", "strategy", "tallies", "versions", "version", "proposals", "proposal")
_sources = count()


@pytest.fixture
def world(resident, moderator, analyst, django_capture_on_commit_callbacks):
    """One of everything a page address names: a strategy imported from its files (so it
    has a version and sections), a published proposal with a comment, a notification, a
    built report, and the tokens of the links in emails."""
    strategy = strategy_import_files(ALMATY).strategy
    strategy.opens_at = timezone.localdate() - timedelta(days=10)
    strategy.closes_at = timezone.localdate() + timedelta(days=10)
    strategy.status = strategy.Status.OPEN
    strategy.save()
    section = Section.objects.filter(strategy=strategy, parent__isnull=False).first()
    proposal = _published(resident, strategy, moderator, section=section)
    comment = comment_create(author=resident, proposal=proposal, body="Согласна, и у нас тоже.")
    note = Notification.objects.create(
        user=resident,
        kind=Notification.Kind.COMMENT,
        source=f"test:{next(_sources)}",
        proposal=proposal,
        comment=comment,
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = report_order(user=analyst, strategy_slug=strategy.slug, format="csv", filters={})
    report.refresh_from_db()
    assert report.status == Report.Status.DONE and report.file  # built in process
    return {
        "slug": strategy.slug,
        "number": 1,
        "a": 1,
        "b": 1,
        "code": section.code,
        "format": "csv",
        "proposal_id": proposal.pk,
        "comment_id": comment.pk,
        "notification_id": note.pk,
        "report_id": report.pk,
        "uidb64": urlsafe_base64_encode(force_bytes(resident.pk)),
        "tokens": {
            "unsubscribe": answers_unsubscribe_token(resident),
            "unsubscribe-notifications": unsubscribe_token(resident),
            "email-confirm": email_change_token_make(
                user_id=resident.pk, email="new-address@example.org"
            ),
            "verify-email": email_token_make(user_id=resident.pk, email=resident.email),
            "password-reset-confirm": default_token_generator.make_token(resident),
        },
    }


def _address(pattern: URLPattern, world: dict) -> str:
    names = pattern.pattern.converters
    kwargs = {}
    for name in names:
        if name == "token":
            kwargs[name] = world["tokens"][pattern.name]
        else:
            assert name in world, f"the walk cannot fill <{name}> of {pattern.name}"
            kwargs[name] = world[name]
    return reverse(f"frontend:{pattern.name}", kwargs=kwargs)


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _same_answer(client: Client, path: str) -> tuple[int, int]:
    got = client.get(path)
    head = client.head(path)
    assert head.status_code == got.status_code, (path, got.status_code, head.status_code)
    assert head.get("Content-Type") == got.get("Content-Type"), path
    assert head.get("Location") == got.get("Location"), path
    assert head.get("Content-Disposition") == got.get("Content-Disposition"), path
    assert _body(head) == b"", path
    return got.status_code, head.status_code


def _refused(status: int, client: Client, path: str) -> bool:
    """Sent to sign in, or forbidden: the page is for someone else."""
    return status == 403 or (status == 302 and "/login/" in client.get(path)["Location"])


def test_every_page_answers_head_as_it_answers_get(request, world):
    people = [None, *(request.getfixturevalue(who) for who in PEOPLE)]
    answers: dict[str, list[int]] = {}
    for pattern in urlpatterns:
        path = _address(pattern, world)
        # A visitor first; a page that refuses them is asked again by a resident, then by an
        # administrator. A fresh client each time: a page may change the session.
        for user in people:
            client = page_client_for(user)
            status, _ = _same_answer(client, path)
            answers.setdefault(pattern.name, []).append(status)
            if not _refused(status, client, path):
                break

    for name in PUBLIC_200:
        assert answers[name] == [200], name
    # Pages behind a sign-in: a visitor is sent to sign in, the right person gets the page.
    for name in ("my-proposals", "notifications", "profile"):
        assert answers[name] == [302, 200], name
    for name in (
        "moderation-queue",
        "answers",
        "analysis",
        "reports",
        "report-download",
        "duplicate-groups",
    ):
        assert answers[name] == [302, 403, 200], name


def test_head_on_a_report_file_sends_its_headers_and_no_body(world, analyst):
    path = reverse("frontend:report-download", args=[world["report_id"]])
    client = page_client_for(analyst)
    head = client.head(path)
    assert head.status_code == 200
    assert head["Content-Disposition"].startswith("attachment")
    assert head["Cache-Control"] == "private, no-store"
    assert _body(head) == b""
