"""The pages of following (issue 15): the notification list, opening one, "mark all as
read", the unread badge in the header, the email settings of what one follows, the one-click
unsubscribe behind the link in those emails, and the follow buttons of a proposal and a
strategy."""

import html
import itertools
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from civic.accounts.models import User
from proposals.answers.notify import unsubscribe_token as answers_unsubscribe_token
from proposals.comments.services import comment_create
from proposals.following.tokens import unsubscribe_token
from proposals.models import Comment, Follow, Notification, Proposal
from proposals.services import proposal_moderate
from tests.conftest import page_client_for
from tests.factories import ProposalFactory, SectionFactory, StrategyFactory, UserFactory
from tests.frontend.helpers import (
    LANGUAGES,
    _checked,
    _decide,
    _messages,
    _page,
    _submit,
    _tr,
)

pytestmark = pytest.mark.django_db

Kind = Notification.Kind
NOTHING_TO_FOLLOW = "Nothing to follow was named, or it cannot be followed."
_sources = itertools.count()


def _note(user, kind, *, proposal=None, strategy=None, comment=None, status="", age=0, read=False):
    """A notification as the fan-out writes it, `age` minutes old."""
    now = timezone.now()
    return Notification.objects.create(
        user=user,
        kind=kind,
        source=f"test:{next(_sources)}",
        proposal=proposal,
        strategy=strategy,
        comment=comment,
        status=status,
        created_at=now - timedelta(minutes=age),
        read_at=now if read else None,
    )


def _listed(response) -> list[int]:
    """The notifications a list page shows, in its order."""
    return [int(n) for n in re.findall(r"/me/notifications/(\d+)/open/", response.content.decode())]


def _unread_rows(response) -> int:
    return response.content.decode().count('<li class="unread">')


def _badge(response) -> str | None:
    match = re.search(r'<span class="badge">(\d+)', response.content.decode())
    return match.group(1) if match else None


def _follows(user, **target) -> bool:
    return Follow.objects.filter(user=user, active=True, **target).exists()


def _user(user) -> User:
    return User.objects.get(pk=user.pk)


@pytest.fixture
def other_proposal(strategy):
    return ProposalFactory(strategy=strategy, title="Фонари на улице Абая", code="ALT-000777")


# --- the list: /<lang>/me/notifications/ ---------------------------------------------------


def test_the_list_needs_an_account():
    response = Client().get("/en/me/notifications/")
    assert response.status_code == 302
    assert response.url.startswith("/en/login/?next=")


def test_the_list_shows_ones_own_newest_first_with_the_unread_marked(
    resident, other_resident, other_proposal, strategy
):
    middle = _note(resident, Kind.COMMENT, proposal=other_proposal, age=30, read=True)
    newest = _note(resident, Kind.ANSWER, proposal=other_proposal, age=5)
    oldest = _note(resident, Kind.VERSION, strategy=strategy, age=90)
    others = _note(other_resident, Kind.REPLY, proposal=other_proposal, age=1)
    response = page_client_for(resident).get("/en/me/notifications/")
    assert response.status_code == 200
    assert _listed(response) == [newest.pk, middle.pk, oldest.pk]
    assert others.pk not in _listed(response)
    assert _unread_rows(response) == 2
    assert response.content.decode().count('<li class="read">') == 1
    page = _page(response)
    assert page.count("Unread: ") == 2  # for screen readers, beside the class
    assert "A reply to your comment" not in page  # the other person's
    assert "Mark all as read" in page


def test_the_list_of_someone_without_notifications_says_how_to_get_some(resident):
    page = _page(page_client_for(resident).get("/en/me/notifications/"))
    assert "No notifications yet. Follow a proposal" in page
    assert "Mark all as read" not in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_kind_of_notification_reads_in_the_visitors_language(
    resident, other_proposal, strategy, language
):
    strategy.title_ru, strategy.title_kk, strategy.title_en = (
        "Стратегия Алматы",
        "Алматы стратегиясы",
        "Almaty strategy",
    )
    strategy.save()
    for n, kind in enumerate(Kind.values):
        _note(
            resident,
            kind,
            proposal=None if kind == Kind.VERSION else other_proposal,
            strategy=strategy if kind == Kind.VERSION else None,
            status=Proposal.Status.PUBLISHED if kind == Kind.STATUS else "",
            age=n,
        )
    title, code = "Фонари на улице Абая", "ALT-000777"
    expected = {
        "ru": [
            f"Новый комментарий к «{title}» ({code})",
            f"Ответ на ваш комментарий к «{title}» ({code})",
            f"Город ответил на «{title}» ({code})",
            f"«{title}» ({code}): новый статус — опубликовано",
            f"Новое предложение в разделе, на который вы подписаны: «{title}» ({code})",
            "Новая редакция стратегии «Стратегия Алматы»",
        ],
        "kk": [
            f"«{title}» ({code}) ұсынысына жаңа пікір",
            f"«{title}» ({code}) ұсынысындағы пікіріңізге жауап",
            f"Қала «{title}» ({code}) ұсынысына жауап берді",
            f"«{title}» ({code}): жаңа мәртебесі — жарияланды",
            f"Сіз жазылған бөлімде жаңа ұсыныс: «{title}» ({code})",
            "«Алматы стратегиясы» стратегиясының жаңа редакциясы",
        ],
        "en": [
            f"New comment on “{title}” ({code})",
            f"A reply to your comment on “{title}” ({code})",
            f"The city answered “{title}” ({code})",
            f"“{title}” ({code}) is now published",
            f"New proposal in a section you follow: “{title}” ({code})",
            "A new version of the strategy “Almaty strategy”",
        ],
    }[language]
    assert len(expected) == len(Kind.values)  # a new kind needs its line here
    page = _page(page_client_for(resident).get(f"/{language}/me/notifications/"))
    for line in expected:
        assert line in page, line


def test_the_list_is_paginated_and_keeps_the_unread_filter(resident, other_proposal):
    made = [_note(resident, Kind.COMMENT, proposal=other_proposal, age=n) for n in range(25)]
    client = page_client_for(resident)
    first = client.get("/en/me/notifications/")
    assert _listed(first) == [note.pk for note in made[:20]]
    assert "Page 1 of 2" in _page(first)
    second = client.get("/en/me/notifications/?page=2")
    assert _listed(second) == [note.pk for note in made[20:]]
    unread = client.get("/en/me/notifications/?unread=1")
    assert 'href="?unread=1&amp;page=2"' in unread.content.decode()


def test_unread_only_shows_the_unread_and_says_when_there_are_none(resident, other_proposal):
    read = _note(resident, Kind.COMMENT, proposal=other_proposal, read=True)
    unread = _note(resident, Kind.ANSWER, proposal=other_proposal, age=1)
    client = page_client_for(resident)
    response = client.get("/en/me/notifications/?unread=1")
    assert _listed(response) == [unread.pk]
    page = _page(response)
    assert 'href="/en/me/notifications/">Show all' in page
    assert "Show unread only" not in page
    assert "Show unread only" in _page(client.get("/en/me/notifications/"))
    Notification.objects.filter(pk=unread.pk).update(read_at=timezone.now())
    response = client.get("/en/me/notifications/?unread=1")
    assert _listed(response) == []
    assert "Nothing unread." in _page(response)
    assert _listed(client.get("/en/me/notifications/")) == [read.pk, unread.pk]


def test_the_list_runs_the_same_queries_for_3_and_25_notifications(
    resident, other_proposal, strategy
):
    client = page_client_for(resident)

    def add(count: int) -> None:
        for n in range(count):
            if n % 2:
                _note(resident, Kind.VERSION, strategy=strategy)
            else:
                _note(resident, Kind.COMMENT, proposal=ProposalFactory(strategy=strategy))

    def measured() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/en/me/notifications/").status_code == 200
        return len(captured.captured_queries)

    add(3)
    client.get("/en/me/notifications/")
    small = measured()
    add(22)
    assert measured() == small


# --- opening one, marking all read ---------------------------------------------------------


def test_opening_a_comment_notification_marks_it_read_and_goes_to_the_comment(
    strategy, resident, other_resident, moderator, django_capture_on_commit_callbacks
):
    proposal = _decide(
        _submit(resident, strategy, title="Тротуар вдоль арыка"), moderator, "approve"
    )
    with django_capture_on_commit_callbacks(execute=True):
        comment = comment_create(
            proposal=proposal, author=other_resident, body="Поддерживаю, там темно вечером."
        )
    # The author follows what they wrote: the fan-out wrote them one notification.
    note = Notification.objects.get(user=resident, kind=Kind.COMMENT)
    client = page_client_for(resident)
    assert _badge(client.get("/en/")) == "1"
    response = client.post(f"/en/me/notifications/{note.pk}/open/")
    assert response.status_code == 302
    assert response.url == f"/en/proposals/{proposal.pk}/#comment-{comment.pk}"
    note.refresh_from_db()
    assert note.read_at is not None
    assert _badge(client.get("/en/")) is None
    assert f'id="comment-{comment.pk}"' in client.get(response.url).content.decode()


def test_opening_other_kinds_goes_to_the_proposal_or_the_strategys_versions(
    resident, other_proposal, strategy
):
    status = _note(resident, Kind.STATUS, proposal=other_proposal, status="published")
    version = _note(resident, Kind.VERSION, strategy=strategy)
    client = page_client_for(resident)
    response = client.post(f"/ru/me/notifications/{status.pk}/open/")
    assert response.url == f"/ru/proposals/{other_proposal.pk}/"
    response = client.post(f"/ru/me/notifications/{version.pk}/open/")
    assert response.url == f"/ru/strategies/{strategy.slug}/versions/"
    assert Notification.objects.filter(user=resident, read_at__isnull=True).count() == 0


def test_another_persons_notification_is_a_404_and_stays_unread(
    resident, other_resident, other_proposal
):
    theirs = _note(other_resident, Kind.COMMENT, proposal=other_proposal)
    response = page_client_for(resident).post(f"/en/me/notifications/{theirs.pk}/open/")
    assert response.status_code == 404
    assert page_client_for(resident).post("/en/me/notifications/999999/open/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_needs_an_account_and_a_post(resident, other_proposal):
    note = _note(resident, Kind.COMMENT, proposal=other_proposal)
    response = Client().post(f"/en/me/notifications/{note.pk}/open/")
    assert response.status_code == 302
    assert "/login/" in response.url
    assert page_client_for(resident).get(f"/en/me/notifications/{note.pk}/open/").status_code == 405
    note.refresh_from_db()
    assert note.read_at is None


def test_mark_all_as_read_marks_ones_own_only(resident, other_resident, other_proposal):
    mine = [_note(resident, Kind.COMMENT, proposal=other_proposal, age=n) for n in range(3)]
    theirs = _note(other_resident, Kind.COMMENT, proposal=other_proposal)
    client = page_client_for(resident)
    assert client.get("/en/me/notifications/read/").status_code == 405
    response = client.post("/en/me/notifications/read/", follow=True)
    assert response.redirect_chain == [("/en/me/notifications/", 302)]
    assert "All notifications are marked as read." in _messages(response)
    assert _unread_rows(response) == 0
    assert _listed(response) == [note.pk for note in mine]
    assert not Notification.objects.filter(user=resident, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_as_read_needs_an_account(resident, other_proposal):
    note = _note(resident, Kind.COMMENT, proposal=other_proposal)
    response = Client().post("/en/me/notifications/read/")
    assert response.status_code == 302
    assert "/login/" in response.url
    note.refresh_from_db()
    assert note.read_at is None


# --- the header ----------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "word"), [("ru", "непрочитанных"), ("en", "unread")])
def test_the_header_shows_the_unread_count_on_every_page(
    resident, other_resident, other_proposal, strategy, language, word
):
    for n in range(3):
        _note(resident, Kind.COMMENT, proposal=other_proposal, age=n)
    _note(resident, Kind.ANSWER, proposal=other_proposal, read=True)
    _note(other_resident, Kind.ANSWER, proposal=other_proposal)
    client = page_client_for(resident)
    for path in ("/", f"/strategies/{strategy.slug}/", f"/proposals/{other_proposal.pk}/"):
        response = client.get(f"/{language}{path}")
        assert _badge(response) == "3", path
        assert f'<span class="visually-hidden"> {word}</span>' in _page(response)
    assert _badge(page_client_for(other_resident).get(f"/{language}/")) == "1"


def test_no_badge_without_unread_and_no_link_for_visitors(resident, other_proposal):
    _note(resident, Kind.COMMENT, proposal=other_proposal, read=True)
    response = page_client_for(resident).get("/en/")
    assert 'href="/en/me/notifications/">Notifications</a>' in _page(response)
    assert _badge(response) is None
    visitor = Client().get("/en/")
    assert "/en/me/notifications/" not in visitor.content.decode()
    assert _badge(visitor) is None


def test_the_badge_counts_only_what_the_list_shows(
    resident, other_proposal, moderator, django_capture_on_commit_callbacks
):
    _note(resident, Kind.COMMENT, proposal=other_proposal)
    _note(resident, Kind.COMMENT, proposal=other_proposal)
    Follow.objects.create(user=resident, proposal=other_proposal)
    client = page_client_for(resident)
    assert _badge(client.get("/en/")) == "2"
    # Taken down since: its notifications leave the list, and the count with them, and
    # the takedown itself is not news to anyone but its author.
    with django_capture_on_commit_callbacks(execute=True):
        proposal_moderate(
            proposal=other_proposal, moderator=moderator, decision="reject", reason="spam"
        )
    response = client.get("/en/me/notifications/")
    assert _listed(response) == []
    assert _badge(response) is None


# --- the email settings: /<lang>/me/notifications/settings/ --------------------------------

SETTINGS = "/en/me/notifications/settings/"


def test_the_settings_show_the_current_choices(resident):
    response = page_client_for(resident).get(SETTINGS)
    assert response.status_code == 200
    assert _checked(response, "notify_email") == {"daily"}  # the default
    assert _checked(response, "follow_automatically") == {"1"}
    assert _checked(response, "notify_answers") == {"1"}
    page = _page(response)
    assert "Emails about what you follow" in page
    assert 'href="/en/me/notifications/"' in page


@pytest.mark.parametrize("choice", ["immediate", "daily", "off"])
def test_how_often_the_emails_come_is_saved(resident, choice):
    if choice == "daily":
        User.objects.filter(pk=resident.pk).update(notify_email="off")
    response = page_client_for(resident).post(SETTINGS, {"notify_email": choice}, follow=True)
    assert response.redirect_chain == [(SETTINGS, 302)]
    assert _user(resident).notify_email == choice
    assert "Your email settings are saved." in _messages(response)
    assert _checked(response, "notify_email") == {choice}


def test_following_automatically_is_turned_off_and_on(resident):
    client = page_client_for(resident)
    response = client.post(SETTINGS, {"follow_automatically": "0"}, follow=True)
    assert _user(resident).follow_automatically is False
    assert _checked(response, "follow_automatically") == {"0"}
    client.post(SETTINGS, {"follow_automatically": "1"})
    assert _user(resident).follow_automatically is True


def test_the_whole_form_saves_every_choice_at_once(resident):
    page_client_for(resident).post(
        SETTINGS, {"notify_email": "off", "follow_automatically": "0", "notify_answers": "0"}
    )
    user = _user(resident)
    assert (user.notify_email, user.follow_automatically, user.notify_answers) == (
        "off",
        False,
        False,
    )


@pytest.mark.parametrize(
    "data",
    [
        {"notify_email": "weekly"},
        {"notify_email": ""},
        {"follow_automatically": "yes"},
        # One good value beside a bad one: nothing is saved, not half the form.
        {"notify_email": "off", "follow_automatically": "2"},
        {"notify_email": "off", "notify_answers": "maybe"},
    ],
)
def test_a_bad_value_is_a_400_that_changes_nothing(resident, data):
    response = page_client_for(resident).post(SETTINGS, data)
    assert response.status_code == 400
    assert "Choose whether to get these emails." in _page(response)
    user = _user(resident)
    assert (user.notify_email, user.follow_automatically, user.notify_answers) == (
        "daily",
        True,
        True,
    )


def test_the_settings_keep_csrf_protection(resident):
    client = Client(enforce_csrf_checks=True)
    client.force_login(resident)
    response = client.post(SETTINGS, {"notify_email": "off", "follow_automatically": "0"})
    assert response.status_code == 403
    user = _user(resident)
    assert (user.notify_email, user.follow_automatically) == ("daily", True)


# --- the one-click unsubscribe: /<lang>/unsubscribe/notifications/<token>/ -----------------


def _unsubscribe_path(user, language="en") -> str:
    return f"/{language}/unsubscribe/notifications/{unsubscribe_token(user)}/"


@pytest.mark.parametrize("language", LANGUAGES)
def test_opening_the_unsubscribe_link_asks_and_changes_nothing(resident, language):
    path = _unsubscribe_path(resident, language)
    response = Client().get(path)
    assert response.status_code == 200
    page = _page(response)
    assert f'<form method="post" action="{path}">' in page
    assert 'name="enable"' not in page
    assert _tr(language, "Stop these emails") in page
    # The page names nobody: the link may be forwarded with the email.
    assert resident.email not in page
    assert resident.display_name not in page
    assert _user(resident).notify_email == "daily"


def test_a_post_without_session_or_csrf_token_turns_the_emails_off(resident):
    path = _unsubscribe_path(resident)
    # As a mail client's one-click unsubscribe (RFC 8058): nobody signed in, no token.
    response = Client(enforce_csrf_checks=True).post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert _user(resident).notify_email == "off"
    page = _page(response)
    assert "You will no longer get emails about what you follow." in page
    assert 'name="enable" value="1"' in page
    # The emails about answers are another choice, with their own link.
    assert _user(resident).notify_answers is True


def test_enable_turns_the_daily_email_back_on(resident):
    User.objects.filter(pk=resident.pk).update(notify_email="off")
    path = _unsubscribe_path(resident)
    page = _page(Client().get(path))
    assert "You do not get emails about what you follow." in page
    response = Client(enforce_csrf_checks=True).post(path, {"enable": "1"})
    assert response.status_code == 200
    assert _user(resident).notify_email == "daily"
    assert "You will get one email a day about what you follow." in _page(response)


def test_the_link_acts_on_its_own_account_whoever_is_signed_in(resident, other_resident):
    page_client_for(other_resident).post(_unsubscribe_path(resident))
    assert _user(resident).notify_email == "off"
    assert _user(other_resident).notify_email == "daily"


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_token_is_a_404_that_changes_nothing(resident, method):
    good = unsubscribe_token(resident)
    forged = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    for token in (forged, "nonsense", answers_unsubscribe_token(resident)):
        response = getattr(Client(), method)(f"/en/unsubscribe/notifications/{token}/")
        assert response.status_code == 404, token
        assert "This unsubscribe link is not valid." in _page(response)
    assert _user(resident).notify_email == "daily"


# --- the follow buttons --------------------------------------------------------------------


def _follow_form(response) -> str:
    match = re.search(
        r'<form method="post" action="/\w\w/follow/".*?</form>', response.content.decode(), re.S
    )
    return match.group(0) if match else ""


def test_the_proposal_page_follows_and_stops_following(other_resident, published):
    client = page_client_for(other_resident)
    url = f"/en/proposals/{published.pk}/"
    form = _follow_form(client.get(url))
    assert f'name="proposal" value="{published.pk}"' in form
    assert 'name="following" value="1"' in form
    assert f'name="next" value="{url}"' in form
    assert 'name="csrfmiddlewaretoken"' in form
    assert ">Follow</button>" in form

    response = client.post(
        "/en/follow/", {"proposal": published.pk, "following": "1", "next": url}, follow=True
    )
    assert response.redirect_chain == [(url, 302)]
    assert _follows(other_resident, proposal=published)
    assert "You follow it now." in _messages(response)
    form = _follow_form(response)
    assert 'name="following" value="0"' in form
    assert ">Stop following</button>" in form

    response = client.post(
        "/en/follow/", {"proposal": published.pk, "following": "0", "next": url}, follow=True
    )
    assert not _follows(other_resident, proposal=published)
    assert "You no longer follow it." in _messages(response)
    assert ">Follow</button>" in _follow_form(response)
    # Stopping keeps the row, so a comment later does not follow it again.
    assert Follow.objects.filter(user=other_resident, proposal=published, active=False).exists()


def test_the_author_follows_what_they_wrote_and_the_button_says_so(resident, published):
    form = _follow_form(page_client_for(resident).get(f"/ru/proposals/{published.pk}/"))
    assert 'name="following" value="0"' in form
    assert f">{_tr('ru', 'Stop following')}</button>" in form


def test_the_button_comes_back_to_the_page_with_its_query(other_resident, published):
    url = f"/en/proposals/{published.pk}/?from=list"
    form = _follow_form(page_client_for(other_resident).get(url))
    assert f'name="next" value="/en/proposals/{published.pk}/?from=list"' in form


def test_an_unpublished_proposal_has_no_follow_button(resident, pending, moderator):
    for user in (resident, moderator):
        response = page_client_for(user).get(f"/en/proposals/{pending.pk}/")
        assert response.status_code == 200
        assert _follow_form(response) == ""


def test_visitors_get_a_sign_in_link_instead_of_the_button(published, strategy):
    for url in (f"/en/proposals/{published.pk}/", f"/en/strategies/{strategy.slug}/"):
        response = Client().get(url)
        assert _follow_form(response) == ""
        assert f'href="/en/login/?next={url}">Sign in to follow</a>' in _page(response), url


def test_the_strategy_page_follows_and_stops_following(resident, strategy):
    client = page_client_for(resident)
    url = f"/en/strategies/{strategy.slug}/"
    form = _follow_form(client.get(url))
    assert f'name="strategy" value="{strategy.slug}"' in form
    assert 'name="following" value="1"' in form
    assert ">Follow this strategy</button>" in form
    response = client.post(
        "/en/follow/", {"strategy": strategy.slug, "following": "1", "next": url}, follow=True
    )
    assert response.redirect_chain == [(url, 302)]
    assert _follows(resident, strategy=strategy)
    form = _follow_form(response)
    assert 'name="following" value="0"' in form
    assert ">Stop following</button>" in form
    client.post("/en/follow/", {"strategy": strategy.slug, "following": "0", "next": url})
    assert not _follows(resident, strategy=strategy)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_buttons_read_in_each_language(other_resident, published, language):
    client = page_client_for(other_resident)
    form = _follow_form(client.get(f"/{language}/proposals/{published.pk}/"))
    assert f">{_tr(language, 'Follow')}</button>" in html.unescape(form)
    form = _follow_form(client.get(f"/{language}/strategies/{published.strategy.slug}/"))
    assert f">{_tr(language, 'Follow this strategy')}</button>" in html.unescape(form)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"following": "1"},
        {"proposal": "", "following": "1"},
        {"proposal": "abc", "following": "1"},
        {"proposal": "99999999", "following": "1"},
        {"proposal": "99999999999999999999", "following": "1"},
        {"proposal": "{published}", "following": "yes"},
        {"proposal": "{published}"},
        {"strategy": "no-such-strategy", "following": "1"},
        {"section": "x", "following": "0"},
    ],
)
def test_bad_follow_input_is_a_400_page_naming_the_problem(other_resident, published, data):
    data = {key: value.format(published=published.pk) for key, value in data.items()}
    response = page_client_for(other_resident).post("/en/follow/", data)
    assert response.status_code == 400
    page = _page(response)
    assert "The request could not be understood" in page
    assert NOTHING_TO_FOLLOW in page
    assert not Follow.objects.filter(user=other_resident).exists()


def test_the_400_page_reads_in_russian(other_resident):
    response = page_client_for(other_resident).post("/ru/follow/", {"following": "1"})
    assert response.status_code == 400
    assert _tr("ru", NOTHING_TO_FOLLOW) in _page(response)


def test_a_strategy_slug_with_a_nul_is_a_400(resident, strategy):
    response = page_client_for(resident).post(
        "/en/follow/", {"strategy": f"{strategy.slug}\x00", "following": "1"}
    )
    assert response.status_code == 400
    assert not Follow.objects.filter(user=resident).exists()


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/path", "http://testserver.evil/"]
)
def test_next_pointing_to_another_host_is_ignored(other_resident, published, target):
    response = page_client_for(other_resident).post(
        "/en/follow/", {"proposal": published.pk, "following": "1", "next": target}
    )
    assert response.status_code == 302
    assert response.url == "/en/me/notifications/"
    assert _follows(other_resident, proposal=published)


def test_visitors_are_sent_to_sign_in_and_follow_nothing(published, strategy):
    response = Client().post("/en/follow/", {"proposal": published.pk, "following": "1"})
    assert response.status_code == 302
    assert response.url.startswith("/en/login/?next=")
    response = Client().post("/en/follow/", {"strategy": strategy.slug, "following": "1"})
    assert response.status_code == 302
    assert not Follow.objects.filter(strategy=strategy).exists()


def test_the_follow_page_takes_posts_only(resident):
    assert page_client_for(resident).get("/en/follow/").status_code == 405


def test_a_pending_proposal_of_someone_else_cannot_be_followed(resident, other_resident, pending):
    response = page_client_for(other_resident).post(
        "/en/follow/", {"proposal": pending.pk, "following": "1"}
    )
    assert response.status_code == 400
    assert NOTHING_TO_FOLLOW in _page(response)
    assert not _follows(other_resident, proposal=pending)
    # Its author may, as whoever may open it: the rule is who can see it, not its status.
    Follow.objects.filter(user=resident, proposal=pending).update(active=False)
    response = page_client_for(resident).post(
        "/en/follow/", {"proposal": pending.pk, "following": "1"}
    )
    assert response.status_code == 302
    assert _follows(resident, proposal=pending)


def test_a_draft_strategy_cannot_be_followed(resident):
    draft = StrategyFactory(slug="draft-plan", status="draft")
    response = page_client_for(resident).post(
        "/en/follow/", {"strategy": draft.slug, "following": "1"}
    )
    assert response.status_code == 400
    assert not _follows(resident, strategy=draft)


def test_an_unverified_account_may_follow(published):
    unverified = UserFactory(email_verified=False)
    response = page_client_for(unverified).post(
        "/en/follow/", {"proposal": published.pk, "following": "1"}
    )
    assert response.status_code == 302
    assert _follows(unverified, proposal=published)


def test_a_section_comment_notification_names_the_section_and_opens_its_discussion(
    resident, strategy
):
    section = SectionFactory(strategy=strategy, code="3", title_en="Transport")
    comment = Comment.objects.create(section=section, author=UserFactory(), body="Автобусы.")
    note = Notification.objects.create(
        user=resident, kind=Kind.COMMENT, source="comment:x", section=section, comment=comment
    )
    client = page_client_for(resident)
    page = _page(client.get("/en/me/notifications/"))
    assert "New comment on the section “3. Transport”" in page
    response = client.post(f"/en/me/notifications/{note.pk}/open/")
    assert response.status_code == 302
    assert response["Location"] == (
        f"/en/strategies/{strategy.slug}/sections/3/discussion/#comment-{comment.pk}"
    )
