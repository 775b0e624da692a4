"""What no page may do, checked over the pages of every view module: a form that posts
without a CSRF token, script outside the strict Content-Security-Policy, and anything
a resident or a visitor wrote shown unescaped."""

import html
import re
from urllib.parse import quote

import pytest
from django.test import Client

from civic.accounts.models import User
from proposals.comments.services import comment_create
from proposals.models import Comment, CommentFlag, Follow, Notification, Proposal
from proposals.services import reaction_set
from tests.conftest import page_client_for
from tests.factories import UserFactory
from tests.frontend.helpers import _published, _submission, _submit

pytestmark = pytest.mark.django_db


def _post_forms(response) -> list[str]:
    return re.findall(
        r"<form\b[^>]*method=\"post\"[^>]*>.*?</form>", response.content.decode(), re.S | re.I
    )


@pytest.fixture
def talk(published, resident, other_resident):
    """A comment of the proposal's author and a notification of it for the author."""
    comment = comment_create(
        proposal=published, author=resident, body="Сначала надо починить освещение."
    )
    note = Notification.objects.create(
        user=resident, kind="comment", source="test:1", proposal=published, comment=comment
    )
    return {"comment": comment.pk, "note": note.pk}


FORM_PAGES = [
    (None, "/ru/login/"),
    (None, "/ru/signup/"),
    (None, "/ru/password-reset/"),
    ("resident", "/ru/proposals/new/"),
    ("resident", "/ru/proposals/{changes}/edit/"),
    ("resident", "/ru/me/proposals/"),
    ("other_resident", "/ru/proposals/{published}/"),
    ("moderator", "/ru/moderation/"),
    ("moderator", "/ru/moderation/{pending}/"),
    ("other_resident", "/ru/strategies/{slug}/"),
    ("resident", "/ru/me/notifications/"),
    ("resident", "/ru/me/notifications/settings/"),
    ("other_resident", "/ru/comments/{comment}/reply/"),
    ("resident", "/ru/comments/{comment}/edit/"),
    ("resident", "/ru/comments/{comment}/delete/"),
    ("other_resident", "/ru/comments/{comment}/flag/"),
    ("moderator", "/ru/moderation/comments/{comment}/"),
]


@pytest.mark.parametrize(("who", "path"), FORM_PAGES)
def test_every_form_that_posts_carries_a_csrf_token(
    client, request, who, path, strategy, published, pending, changes_requested, talk
):
    if who:
        client.force_login(request.getfixturevalue(who))
    path = path.format(
        slug=strategy.slug,
        published=published.pk,
        pending=pending.pk,
        changes=changes_requested.pk,
        **talk,
    )
    response = client.get(path)
    assert response.status_code == 200
    forms = _post_forms(response)
    # The language switcher is on every page; the page's own form comes on top of it.
    assert len(forms) >= 2, path
    for form in forms:
        assert 'name="csrfmiddlewaretoken"' in form, form[:200]


def test_a_post_without_the_csrf_token_is_refused(resident, strategy):
    client = Client(enforce_csrf_checks=True)
    client.force_login(resident)
    response = client.post("/ru/proposals/new/", _submission(strategy))
    assert response.status_code == 403
    assert not Proposal.objects.exists()
    form = client.get("/ru/proposals/new/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    response = client.post(
        "/ru/proposals/new/", {**_submission(strategy), "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert Proposal.objects.count() == 1


# Every page that takes a POST of what the issue-15 pages added, with a body it would accept.
POST_PAGES = [
    ("other_resident", "/ru/follow/", {"proposal": "{published}", "following": "1"}),
    ("resident", "/ru/me/notifications/{note}/open/", {}),
    ("resident", "/ru/me/notifications/read/", {}),
    ("resident", "/ru/me/notifications/settings/", {"notify_email": "off"}),
    ("other_resident", "/ru/proposals/{published}/comments/", {"body": "Поддерживаю это."}),
    ("other_resident", "/ru/comments/{comment}/reply/", {"body": "Согласен с автором."}),
    ("resident", "/ru/comments/{comment}/edit/", {"body": "Сначала свет, потом деревья."}),
    ("resident", "/ru/comments/{comment}/delete/", {}),
    ("other_resident", "/ru/comments/{comment}/flag/", {"reason": "spam"}),
    ("moderator", "/ru/moderation/comments/{comment}/", {"action": "hide", "reason": "spam"}),
]


def _discussion_state() -> dict:
    return {
        "comments": sorted(Comment.objects.values_list("id", "body", "deleted_at", "hidden_by")),
        "flags": CommentFlag.objects.count(),
        "follows": sorted(Follow.objects.values_list("user_id", "proposal_id", "active")),
        "unread": Notification.objects.filter(read_at__isnull=True).count(),
        "notify_email": sorted(User.objects.values_list("pk", "notify_email")),
    }


@pytest.mark.parametrize(("who", "path", "data"), POST_PAGES)
def test_the_discussion_and_following_posts_need_the_csrf_token(
    request, who, path, data, published, talk
):
    user = request.getfixturevalue(who)
    path = path.format(published=published.pk, **talk)
    data = {key: value.format(published=published.pk) for key, value in data.items()}
    before = _discussion_state()
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(user)
    assert guarded.post(path, data).status_code == 403
    assert _discussion_state() == before
    # The same post with the browser's token gets past the check: the 403 was the token's.
    assert page_client_for(user).post(path, data).status_code != 403
    assert _discussion_state() != before


def _csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


SCRIPT_PAGES = [
    (None, "/ru/"),
    (None, "/ru/strategies/{slug}/"),
    (None, "/ru/strategies/{slug}/tallies/"),
    (None, "/ru/proposals/"),
    (None, "/ru/proposals/{published}/"),
    (None, "/ru/login/"),
    (None, "/ru/signup/"),
    ("other_resident", "/ru/proposals/{published}/"),
    ("resident", "/ru/proposals/new/"),
    ("resident", "/ru/me/proposals/"),
    ("moderator", "/ru/moderation/"),
    ("moderator", "/ru/moderation/{pending}/"),
    ("moderator", "/ru/moderation/history/"),
    ("analyst", "/ru/analysis/"),
    ("other_resident", "/ru/strategies/{slug}/"),
    ("resident", "/ru/me/notifications/"),
    ("resident", "/ru/me/notifications/settings/"),
    ("moderator", "/ru/moderation/comments/"),
]


@pytest.mark.parametrize(("who", "path"), SCRIPT_PAGES)
def test_pages_run_only_script_files_under_a_strict_policy(
    client, request, strategy, published, pending, who, path
):
    if who:
        client.force_login(request.getfixturevalue(who))
    response = client.get(
        path.format(slug=strategy.slug, published=published.pk, pending=pending.pk)
    )
    assert response.status_code == 200
    policy = _csp(response)
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    content = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", content, re.I)
    assert scripts, "the page should load its script file"
    assert [tag for tag in scripts if not re.search(r"\ssrc=", tag)] == []
    assert not re.search(r"\son[a-z]+\s*=", content, re.I), "no inline event handlers"


@pytest.mark.parametrize("status", [404, 403])
def test_error_pages_carry_the_policy_too(client, resident, status):
    if status == 403:
        client.force_login(resident)
        response = client.get("/ru/moderation/")
    else:
        response = client.get("/ru/proposals/999999/")
    assert response.status_code == status
    assert _csp(response)["script-src"] == ["'self'"]


XSS_TITLE = "<script>alert(1)</script> во дворе"
XSS_BODY = '<img src=x onerror="alert(2)"> Посадить деревья вдоль арыков во дворах.'


def _assert_escaped(content: str, where: str, *, body: bool = True) -> None:
    assert "<script>alert(1)</script>" not in content, where
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content, where
    if body:
        assert "<img src=x" not in content, where
        assert "&lt;img src=x" in content, where


def test_what_residents_write_is_escaped(
    client,
    strategy,
    moderator,
    analyst,
    other_resident,
    section,
    django_capture_on_commit_callbacks,
):
    author = UserFactory(display_name="<b>Жирный</b> автор")
    with django_capture_on_commit_callbacks(execute=True):
        proposal = _published(
            author, strategy, moderator, section=section, title=XSS_TITLE, body=XSS_BODY
        )
        reaction_set(proposal=proposal, user=other_resident, kind="like")
        waiting = _submit(author, strategy, title=XSS_TITLE, body=XSS_BODY)
    # The notification list words the title into its line: escaped all the same.
    Notification.objects.create(user=author, kind="answer", source="test:1", proposal=proposal)
    for url in ["/ru/proposals/", f"/ru/proposals/{proposal.pk}/"]:
        content = client.get(url).content.decode()
        _assert_escaped(content, url)
        assert "<b>Жирный</b>" not in content, url
        assert "&lt;b&gt;Жирный&lt;/b&gt;" in content, url
    tallies = client.get(f"/ru/strategies/{strategy.slug}/tallies/").content.decode()
    _assert_escaped(tallies, "tallies", body=False)
    staff_pages = [
        (author, "/ru/me/proposals/", False),
        (author, "/ru/me/notifications/", False),
        (moderator, "/ru/moderation/", True),
        (moderator, f"/ru/moderation/{waiting.pk}/", True),
        (moderator, f"/ru/moderation/{waiting.pk}/?dup_q=дворе", True),
        (moderator, "/ru/moderation/history/", False),
        (analyst, "/ru/analysis/", True),
    ]
    for user, url, body in staff_pages:
        response = page_client_for(user).get(url)
        assert response.status_code == 200, url
        _assert_escaped(response.content.decode(), url, body=body)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/ru/proposals/?q={x}", 200),
        ("/ru/proposals/?district={x}", 400),
        ("/ru/proposals/?created_after={x}", 400),
        ("/ru/login/?next={x}", 200),
    ],
)
def test_what_visitors_put_in_the_address_is_escaped(client, published, path, status):
    payload = '"><script>alert(1)</script>'
    response = client.get(path.format(x=quote(payload)))
    assert response.status_code == status
    content = response.content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "alert(1)" in html.unescape(content).replace("%28", "(").replace("%29", ")")
