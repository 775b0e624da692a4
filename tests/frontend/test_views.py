"""The server-rendered pages: who may see what, forms that change things, and what a page
must never do (run inline script, leave the site, show an email address, answer 500)."""

import html
import re
from urllib.parse import quote, urlsplit

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import translation

from civic.accounts.models import User
from civic.accounts.services import role_grant
from frontend.templatetags.civic import filter_label
from frontend.throttling import PageThrottle
from proposals.models import Proposal, ProposalEvent, Reaction
from proposals.services import proposal_moderate, proposal_submit, reaction_set
from strategy.models import District, Strategy, Theme
from tests.conftest import page_client_for
from tests.factories import SectionFactory, StrategyFactory, UserFactory

pytestmark = pytest.mark.django_db

S = Proposal.Status
LANGUAGES = ("ru", "kk", "en")
TITLE = "Больше деревьев во дворах"
BODY = "Посадить деревья вдоль арыков и починить освещение во дворах."
STRONG = "Tulip-Garden-1987!"


# --- helpers -----------------------------------------------------------------------------------


def _submit(author, strategy, **kwargs) -> Proposal:
    return proposal_submit(
        author=author,
        strategy=strategy,
        title=kwargs.pop("title", TITLE),
        body=kwargs.pop("body", BODY),
        **kwargs,
    )


def _decide(proposal, moderator, decision, **kwargs) -> Proposal:
    return proposal_moderate(proposal=proposal, moderator=moderator, decision=decision, **kwargs)


def _published(author, strategy, moderator, **kwargs) -> Proposal:
    return _decide(_submit(author, strategy, **kwargs), moderator, "approve")


def _themes(*slugs) -> list[Theme]:
    return [Theme.objects.get(slug=slug) for slug in slugs]


def _page(response) -> str:
    return html.unescape(response.content.decode())


def _messages(response) -> str:
    """The text of the flash messages a page shows, '' when it shows none."""
    match = re.search(r'<div class="messages"[^>]*>(.*?)</div>', response.content.decode(), re.S)
    return html.unescape(match.group(1)) if match else ""


def _input_tags(response, name: str) -> list[str]:
    return [
        tag
        for tag in re.findall(r"<(?:input|textarea|select)\b[^>]*>", response.content.decode())
        if f'name="{name}"' in tag
    ]


def _checked(response, name: str) -> set[str]:
    return {
        re.search(r'value="([^"]*)"', tag).group(1)
        for tag in _input_tags(response, name)
        if re.search(r"\schecked\b", tag)
    }


def _tr(language: str, message: str, **params) -> str:
    with translation.override(language):
        text = translation.gettext(message)
    return text % params if params else text


def _snapshot() -> dict:
    return {
        "proposals": sorted(
            Proposal.objects.values_list("id", "status", "title", "body", "duplicate_of_id")
        ),
        "themes": sorted(Proposal.themes.through.objects.values_list("proposal_id", "theme_id")),
        "events": ProposalEvent.objects.count(),
        "reactions": sorted(Reaction.objects.values_list("proposal_id", "user_id", "kind")),
    }


@pytest.fixture
def section(strategy):
    return SectionFactory(strategy=strategy, code="1", position=0, title_ru="Экология города")


@pytest.fixture
def other_moderator(db):
    user = UserFactory(display_name="Второй модератор")
    role_grant(user=user, role="moderator")
    return user


@pytest.fixture
def published(strategy, resident, moderator, section):
    return _published(resident, strategy, moderator, section=section, themes=_themes("ecology"))


@pytest.fixture
def pending(strategy, resident):
    return _submit(resident, strategy, title="Предложение на модерации")


@pytest.fixture
def changes_requested(strategy, resident, moderator):
    proposal = _submit(resident, strategy, title="Предложение на доработке")
    return _decide(proposal, moderator, "request_changes", note="Уточните адрес.")


# --- public pages and languages ----------------------------------------------------------------

PUBLIC_PAGES = [
    "",
    "strategies/{slug}/",
    "strategies/{slug}/tallies/",
    "proposals/",
    "proposals/{id}/",
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("page", PUBLIC_PAGES)
def test_public_pages_answer_anonymous_visitors_in_every_language(
    client, strategy, published, language, page
):
    url = f"/{language}/" + page.format(slug=strategy.slug, id=published.pk)
    response = client.get(url)
    assert response.status_code == 200, url
    assert f'<html lang="{language}">' in response.content.decode()


def test_public_pages_show_what_they_are_about(client, strategy, published, section):
    assert strategy.title_ru in _page(client.get(f"/ru/strategies/{strategy.slug}/"))
    assert section.title_ru in _page(client.get(f"/ru/strategies/{strategy.slug}/"))
    assert published.title in _page(client.get("/ru/proposals/"))
    detail = _page(client.get(f"/ru/proposals/{published.pk}/"))
    assert published.title in detail
    assert published.code in detail


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/", "/ru/"), ("/proposals/{id}/", "/ru/proposals/{id}/"), ("/proposals/", "/ru/proposals/")],
)
def test_a_path_without_language_goes_to_russian(client, published, path, expected):
    response = client.get(path.format(id=published.pk))
    assert response.status_code == 302
    assert response.url == expected.format(id=published.pk)


@pytest.mark.parametrize(
    ("path", "expected"), [("/", "/kk/"), ("/proposals/{id}/", "/kk/proposals/{id}/")]
)
def test_the_language_cookie_picks_where_a_bare_path_goes(client, published, path, expected):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "kk"
    response = client.get(path.format(id=published.pk))
    assert response.status_code == 302
    assert response.url == expected.format(id=published.pk)


@pytest.mark.parametrize("accept", ["en", "en-US,en;q=0.9", "kk", "de-DE,de;q=0.8"])
def test_the_browser_language_does_not_change_the_default(client, published, accept):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 302
    assert response.url == "/ru/"
    response = client.get(f"/proposals/{published.pk}/", HTTP_ACCEPT_LANGUAGE=accept)
    assert response.url == f"/ru/proposals/{published.pk}/"


def test_an_unknown_language_cookie_falls_back_to_russian(client):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "de"
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == "/ru/"


# --- who may see a proposal or a strategy ------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 404),
        ("other_resident", 404),
        ("resident", 200),
        ("moderator", 200),
        ("analyst", 200),
    ],
)
def test_a_pending_proposal_is_seen_only_by_its_author_and_staff(request, pending, who, status):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    response = page_client_for(user).get(f"/ru/proposals/{pending.pk}/")
    assert response.status_code == status
    if status == 200:
        assert pending.title in _page(response)
    else:
        assert pending.title not in _page(response)


def test_a_pending_proposal_is_not_in_the_public_list(client, pending, published):
    page = _page(client.get("/ru/proposals/"))
    assert published.title in page
    assert pending.title not in page


@pytest.mark.parametrize("page", ["strategies/{slug}/", "strategies/{slug}/tallies/"])
def test_a_draft_strategy_is_not_found(client, db, page):
    draft = StrategyFactory(slug="draft-plan", status=Strategy.Status.DRAFT, title_ru="Черновик")
    response = client.get("/ru/" + page.format(slug=draft.slug))
    assert response.status_code == 404
    assert "Черновик" not in _page(response)
    assert "Черновик" not in _page(client.get("/ru/"))


# --- role pages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/ru/moderation/",
        "/ru/moderation/history/",
        "/ru/moderation/{id}/",
        "/ru/analysis/",
        "/ru/me/proposals/",
        "/ru/proposals/new/",
        "/ru/proposals/{id}/edit/",
        "/kk/moderation/",
    ],
)
def test_anonymous_visitors_of_role_pages_are_sent_to_sign_in(client, pending, path):
    path = path.format(id=pending.pk)
    response = client.get(path)
    assert response.status_code == 302
    language = path.split("/")[1]
    assert response.url == f"/{language}/login/?next={quote(path, safe='/')}"


@pytest.mark.parametrize(
    "path",
    ["/ru/moderation/", "/ru/moderation/{id}/", "/ru/moderation/history/", "/ru/analysis/"],
)
def test_a_resident_may_not_open_staff_pages(client, resident, pending, path):
    client.force_login(resident)
    response = client.get(path.format(id=pending.pk))
    assert response.status_code == 403
    assert pending.title not in _page(response)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/ru/analysis/", 200),
        ("/ru/moderation/history/", 200),
        ("/ru/moderation/", 403),
        ("/ru/moderation/{id}/", 403),
    ],
)
def test_an_analyst_reads_but_does_not_moderate(client, analyst, pending, path, status):
    client.force_login(analyst)
    assert client.get(path.format(id=pending.pk)).status_code == status


@pytest.mark.parametrize("who", ["resident", "analyst"])
def test_only_moderators_may_post_decisions(client, request, pending, who):
    client.force_login(request.getfixturevalue(who))
    before = _snapshot()
    response = client.post(
        f"/ru/moderation/{pending.pk}/",
        {"decision": "approve", "expected_status": "pending"},
    )
    assert response.status_code == 403
    response = client.post(
        "/ru/moderation/bulk/", {"proposals": [pending.pk], "decision": "approve"}
    )
    assert response.status_code == 403
    assert _snapshot() == before


@pytest.mark.parametrize(
    "path", ["/ru/moderation/", "/ru/moderation/{id}/", "/ru/moderation/history/", "/ru/analysis/"]
)
def test_a_moderator_opens_the_staff_pages(client, moderator, pending, path):
    client.force_login(moderator)
    response = client.get(path.format(id=pending.pk))
    assert response.status_code == 200


def test_the_moderation_queue_lists_pending_proposals_only(client, moderator, pending, published):
    client.force_login(moderator)
    page = _page(client.get("/ru/moderation/"))
    assert pending.title in page
    assert published.title not in page


# --- submitting --------------------------------------------------------------------------------


def _submission(strategy, **fields) -> dict:
    data = {
        "strategy": strategy.slug,
        "section": "",
        "title": TITLE,
        "body": BODY,
        "district": "",
        "themes": [],
    }
    data.update(fields)
    return data


def test_the_submission_form_is_shown_to_a_signed_in_resident(client, resident, strategy, section):
    client.force_login(resident)
    response = client.get("/ru/proposals/new/")
    assert response.status_code == 200
    assert _input_tags(response, "title")
    assert f"1. {section.title_ru}" in _page(response)


def test_submitting_creates_a_pending_proposal_and_goes_to_my_proposals(
    client, resident, strategy, section
):
    client.force_login(resident)
    response = client.post(
        "/ru/proposals/new/",
        _submission(
            strategy,
            section=str(section.pk),
            district="medeu",
            themes=["ecology", "transport"],
        ),
    )
    assert response.status_code == 302
    assert response.url == "/ru/me/proposals/"
    proposal = Proposal.objects.get()
    assert proposal.status == S.PENDING
    assert proposal.author == resident
    assert proposal.strategy == strategy
    assert proposal.section == section
    assert proposal.district.slug == "medeu"
    assert sorted(proposal.themes.values_list("slug", flat=True)) == ["ecology", "transport"]
    assert (proposal.title, proposal.body) == (TITLE, BODY)
    assert list(proposal.events.values_list("action", flat=True)) == ["submit"]
    mine = client.get(response.url)
    assert proposal.code in _messages(mine)
    assert proposal.title in _page(mine)


def test_submitting_without_section_district_or_themes(client, resident, strategy):
    client.force_login(resident)
    response = client.post("/ru/proposals/new/", _submission(strategy))
    assert response.status_code == 302
    proposal = Proposal.objects.get()
    assert (proposal.section, proposal.district, list(proposal.themes.all())) == (None, None, [])


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_too_short_title_is_a_400_in_the_pages_language(client, resident, strategy, language):
    client.force_login(resident)
    response = client.post(f"/{language}/proposals/new/", _submission(strategy, title="Дом"))
    assert response.status_code == 400
    assert not Proposal.objects.exists()
    assert f'<html lang="{language}">' in response.content.decode()
    [title_input] = _input_tags(response, "title")
    assert 'aria-invalid="true"' in title_input
    [body_input] = _input_tags(response, "body")
    assert "aria-invalid" not in body_input
    # The message in the catalogue of the page's language; until a catalogue has it,
    # Django shows the English text, which is then all there is to check.
    english = "Must be at least 5 characters."
    expected = _tr(language, "Must be at least %(count)d characters.", count=5)
    page = _page(response)
    assert expected in page
    if expected != english:
        assert english not in page


def test_the_kazakh_page_shows_a_kazakh_message_once_translated(client, resident, strategy):
    client.force_login(resident)
    response = client.post("/kk/proposals/new/", _submission(strategy, title="Үй"))
    assert response.status_code == 400
    assert not Proposal.objects.exists()
    [title_input] = _input_tags(response, "title")
    assert 'aria-invalid="true"' in title_input
    # Until the kk catalogue has this message, the marked field is all one can check.
    english = "Must be at least 5 characters."
    kazakh = _tr("kk", "Must be at least %(count)d characters.", count=5)
    if kazakh != english:
        assert kazakh in _page(response)
        assert english not in _page(response)


@pytest.mark.parametrize(
    ("field", "fields"),
    [
        ("title", {"title": "Дом"}),
        ("title", {"title": "Д" * 201}),
        ("title", {"title": "Заголовок \u202e наоборот"}),
        ("title", {"title": ""}),
        ("body", {"body": "Коротко"}),
        ("body", {"body": ""}),
        ("district", {"district": "nope"}),
        ("themes", {"themes": ["ecology", "nope"]}),
        ("section", {"section": "999999"}),
        ("section", {"section": "abc"}),
    ],
)
def test_nothing_is_created_on_a_400(client, resident, strategy, field, fields):
    client.force_login(resident)
    response = client.post("/ru/proposals/new/", _submission(strategy, **fields))
    assert response.status_code == 400
    assert not Proposal.objects.exists()
    assert not ProposalEvent.objects.exists()
    assert 'id="form-errors"' in response.content.decode()
    for tag in _input_tags(response, field):
        if field != "themes":
            assert 'aria-invalid="true"' in tag


def test_a_section_of_another_strategy_is_refused(client, resident, strategy):
    foreign = SectionFactory(strategy=StrategyFactory(slug="other-plan"))
    client.force_login(resident)
    response = client.post("/ru/proposals/new/", _submission(strategy, section=str(foreign.pk)))
    assert response.status_code == 400
    assert not Proposal.objects.exists()


@pytest.mark.parametrize(
    "named", [Strategy.Status.CLOSED, Strategy.Status.DRAFT, Strategy.Status.ARCHIVED, "unknown"]
)
def test_a_submission_naming_a_strategy_that_is_not_open_is_not_filed_elsewhere(
    client, resident, strategy, named
):
    slug = "no-such-plan" if named == "unknown" else "other-plan"
    if named != "unknown":
        StrategyFactory(slug=slug, status=named)
    client.force_login(resident)
    response = client.post("/ru/proposals/new/", {**_submission(strategy), "strategy": slug})
    # The resident wrote for that strategy; the open one is not where it belongs.
    assert list(Proposal.objects.values_list("strategy__slug", flat=True)) == []
    assert response.status_code in (400, 409)


def test_an_unverified_resident_submits_nothing(client, strategy):
    unverified = UserFactory(email_verified=False)
    client.force_login(unverified)
    response = client.post("/ru/proposals/new/", _submission(strategy))
    assert response.status_code == 400
    assert not Proposal.objects.exists()
    errors = re.search(r'id="form-errors".*?</div>', response.content.decode(), re.S)
    assert errors
    assert _tr("ru", "Verify your email address before you do this.") in html.unescape(
        errors.group(0)
    )


def test_no_strategy_open_shows_a_page_that_says_so(client, resident, strategy):
    Strategy.objects.filter(pk=strategy.pk).update(status=Strategy.Status.CLOSED)
    client.force_login(resident)
    response = client.post("/ru/proposals/new/", _submission(strategy))
    assert response.status_code == 409
    assert not Proposal.objects.exists()


# --- editing and withdrawing -------------------------------------------------------------------


def test_the_author_edits_a_proposal_with_changes_requested(
    client, resident, changes_requested, section
):
    client.force_login(resident)
    url = f"/ru/proposals/{changes_requested.pk}/edit/"
    form = client.get(url)
    assert form.status_code == 200
    [title_input] = _input_tags(form, "title")
    assert f'value="{changes_requested.title}"' in title_input
    assert "Уточните адрес." in _page(form)
    response = client.post(
        url,
        {
            "section": str(section.pk),
            "title": "Предложение с адресом",
            "body": BODY + " Адрес: Абая, 5.",
            "district": "almaly",
            "themes": ["safety"],
        },
    )
    assert response.status_code == 302
    assert response.url == "/ru/me/proposals/"
    changes_requested.refresh_from_db()
    assert changes_requested.status == S.PENDING
    assert changes_requested.title == "Предложение с адресом"
    assert changes_requested.section == section
    assert changes_requested.district.slug == "almaly"
    assert list(changes_requested.themes.values_list("slug", flat=True)) == ["safety"]
    assert changes_requested.events.filter(action="edit").count() == 1


def test_an_edit_with_a_too_short_title_changes_nothing(client, resident, changes_requested):
    client.force_login(resident)
    before = _snapshot()
    response = client.post(
        f"/ru/proposals/{changes_requested.pk}/edit/",
        {"section": "", "title": "Дом", "body": BODY, "district": "", "themes": []},
    )
    assert response.status_code == 400
    assert _snapshot() == before


@pytest.mark.parametrize("status", ["pending", "published"])
def test_the_author_cannot_edit_outside_changes_requested(client, request, resident, status):
    proposal = request.getfixturevalue(status)
    client.force_login(resident)
    before = _snapshot()
    url = f"/ru/proposals/{proposal.pk}/edit/"
    assert client.get(url).status_code == 302
    response = client.post(
        url, {"section": "", "title": "Новый заголовок", "body": BODY, "district": "", "themes": []}
    )
    assert response.status_code == 302
    assert response.url == "/ru/me/proposals/"
    assert _snapshot() == before


@pytest.mark.parametrize("status", ["pending", "changes_requested"])
def test_the_author_withdraws(client, request, resident, status):
    proposal = request.getfixturevalue(status)
    client.force_login(resident)
    response = client.post(f"/ru/proposals/{proposal.pk}/withdraw/")
    assert response.status_code == 302
    assert response.url == "/ru/me/proposals/"
    proposal.refresh_from_db()
    assert proposal.status == S.WITHDRAWN
    assert proposal.code in _messages(client.get(response.url))


def test_a_published_proposal_cannot_be_withdrawn(client, resident, published):
    client.force_login(resident)
    response = client.post(f"/ru/proposals/{published.pk}/withdraw/", follow=True)
    assert response.status_code == 200
    published.refresh_from_db()
    assert published.status == S.PUBLISHED
    assert _messages(response)


def test_withdrawing_is_a_post(client, resident, pending):
    client.force_login(resident)
    assert client.get(f"/ru/proposals/{pending.pk}/withdraw/").status_code == 405
    pending.refresh_from_db()
    assert pending.status == S.PENDING


@pytest.mark.parametrize("status", ["pending", "changes_requested", "published"])
def test_another_resident_can_neither_edit_nor_withdraw(client, request, other_resident, status):
    proposal = request.getfixturevalue(status)
    client.force_login(other_resident)
    before = _snapshot()
    edit = f"/ru/proposals/{proposal.pk}/edit/"
    assert client.get(edit).status_code == 404
    response = client.post(
        edit,
        {"section": "", "title": "Чужой заголовок", "body": BODY, "district": "", "themes": []},
    )
    assert response.status_code == 404
    assert client.post(f"/ru/proposals/{proposal.pk}/withdraw/").status_code == 404
    assert _snapshot() == before


def test_my_proposals_lists_only_mine(client, resident, other_resident, strategy):
    mine = _submit(resident, strategy, title="Моё предложение")
    theirs = _submit(other_resident, strategy, title="Чужое предложение")
    client.force_login(resident)
    page = _page(client.get("/ru/me/proposals/"))
    assert mine.title in page
    assert theirs.title not in page


# --- reactions ---------------------------------------------------------------------------------


def test_a_resident_sets_and_clears_a_reaction(client, other_resident, published):
    client.force_login(other_resident)
    url = f"/ru/proposals/{published.pk}/reaction/"
    response = client.post(url, {"kind": "like"})
    assert response.status_code == 302
    assert response.url == f"/ru/proposals/{published.pk}/#reactions-title"
    assert list(Reaction.objects.values_list("user", "kind")) == [(other_resident.pk, "like")]
    detail = client.get(response.url).content.decode()
    assert re.search(r'value="like"[^>]*aria-pressed="true"', detail)

    client.post(url, {"kind": "funny"})
    assert list(Reaction.objects.values_list("user", "kind")) == [(other_resident.pk, "funny")]

    response = client.post(url, {"kind": ""})
    assert response.status_code == 302
    assert not Reaction.objects.exists()


@pytest.mark.parametrize("kind", ["love", "LIKE", "like,funny"])
def test_an_unknown_reaction_changes_nothing(client, other_resident, published, kind):
    reaction_set(proposal=published, user=other_resident, kind="sympathy")
    client.force_login(other_resident)
    response = client.post(f"/ru/proposals/{published.pk}/reaction/", {"kind": kind}, follow=True)
    assert response.status_code == 200
    assert list(Reaction.objects.values_list("kind", flat=True)) == ["sympathy"]
    assert _messages(response)


def test_a_reaction_is_a_post(client, other_resident, published):
    client.force_login(other_resident)
    response = client.get(f"/ru/proposals/{published.pk}/reaction/", {"kind": "like"})
    assert response.status_code == 405
    assert not Reaction.objects.exists()


def test_an_anonymous_reaction_is_sent_to_sign_in(client, published):
    url = f"/ru/proposals/{published.pk}/reaction/"
    response = client.post(url, {"kind": "like"})
    assert response.status_code == 302
    assert response.url == f"/ru/login/?next={quote(url, safe='/')}"
    assert not Reaction.objects.exists()


def test_no_reaction_to_a_proposal_one_cannot_see(client, other_resident, pending):
    client.force_login(other_resident)
    response = client.post(f"/ru/proposals/{pending.pk}/reaction/", {"kind": "like"})
    assert response.status_code == 404
    assert not Reaction.objects.exists()


# --- moderation --------------------------------------------------------------------------------


def _decision(**fields) -> dict:
    data = {
        "decision": "approve",
        "reason": "",
        "note": "",
        "themes": [],
        "duplicate_of": "",
        "expected_status": "pending",
    }
    data.update(fields)
    return data


def test_approving_publishes_with_the_moderators_themes(client, moderator, strategy, resident):
    proposal = _submit(resident, strategy, themes=_themes("ecology"))
    client.force_login(moderator)
    response = client.post(
        f"/ru/moderation/{proposal.pk}/", _decision(themes=["transport", "safety"])
    )
    assert response.status_code == 302
    assert response.url == "/ru/moderation/"
    proposal.refresh_from_db()
    assert proposal.status == S.PUBLISHED
    assert proposal.published_at is not None
    assert sorted(proposal.themes.values_list("slug", flat=True)) == ["safety", "transport"]
    event = proposal.events.get(action="approve")
    assert event.actor == moderator
    assert proposal.code in _messages(client.get(response.url))


def test_a_rejection_needs_a_reason(client, moderator, pending):
    client.force_login(moderator)
    before = _snapshot()
    response = client.post(f"/ru/moderation/{pending.pk}/", _decision(decision="reject"))
    assert response.status_code == 400
    assert _snapshot() == before
    assert _tr("ru", "A rejection needs a reason.") in _page(response)


def test_rejecting_as_a_duplicate_stores_the_original(client, moderator, strategy, resident):
    original = _submit(resident, strategy, title="Фонтаны в парке")
    copy = _submit(resident, strategy, title="Фонтаны в парке снова")
    client.force_login(moderator)
    response = client.post(
        f"/ru/moderation/{copy.pk}/",
        _decision(decision="reject", reason="duplicate", duplicate_of=original.code.lower()),
    )
    assert response.status_code == 302
    copy.refresh_from_db()
    assert copy.status == S.REJECTED
    assert copy.duplicate_of == original
    assert copy.latest_decision.reason == "duplicate"


@pytest.mark.parametrize("duplicate_of", ["", "NOPE-000001", "self"])
def test_a_duplicate_needs_another_existing_proposal(client, moderator, pending, duplicate_of):
    client.force_login(moderator)
    before = _snapshot()
    response = client.post(
        f"/ru/moderation/{pending.pk}/",
        _decision(
            decision="reject",
            reason="duplicate",
            duplicate_of=pending.code if duplicate_of == "self" else duplicate_of,
        ),
    )
    assert response.status_code == 400
    assert _snapshot() == before
    [field] = _input_tags(response, "duplicate_of")
    assert 'aria-invalid="true"' in field


def test_asking_for_changes_needs_a_note(client, moderator, pending):
    client.force_login(moderator)
    before = _snapshot()
    response = client.post(
        f"/ru/moderation/{pending.pk}/", _decision(decision="request_changes", note="  ")
    )
    assert response.status_code == 400
    assert _snapshot() == before
    response = client.post(
        f"/ru/moderation/{pending.pk}/",
        _decision(decision="request_changes", note="Укажите адрес."),
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == S.CHANGES_REQUESTED
    assert pending.latest_decision.note == "Укажите адрес."


@pytest.mark.parametrize("decision", ["", "publish"])
def test_an_unknown_decision_is_a_400(client, moderator, pending, decision):
    client.force_login(moderator)
    before = _snapshot()
    response = client.post(f"/ru/moderation/{pending.pk}/", _decision(decision=decision))
    assert response.status_code == 400
    assert _snapshot() == before


@pytest.mark.parametrize(
    "fields",
    [
        {"decision": "reject", "reason": "spam"},
        {"decision": "approve", "themes": ["transport"]},
        {"decision": "request_changes", "note": "Уточните адрес."},
    ],
)
def test_a_decision_that_lost_a_race_changes_nothing_and_says_so(
    client, moderator, other_moderator, pending, fields
):
    client.force_login(moderator)
    form = client.get(f"/ru/moderation/{pending.pk}/")
    [expected] = _input_tags(form, "expected_status")
    assert 'value="pending"' in expected
    # Meanwhile another moderator publishes it.
    _decide(pending, other_moderator, "approve")
    before = _snapshot()
    response = client.post(
        f"/ru/moderation/{pending.pk}/",
        _decision(expected_status="pending", **fields),
        follow=True,
    )
    assert response.redirect_chain == [(f"/ru/moderation/{pending.pk}/", 302)]
    assert response.status_code == 200
    assert _snapshot() == before
    pending.refresh_from_db()
    assert pending.status == S.PUBLISHED
    assert pending.latest_decision.actor == other_moderator
    message = _messages(response)
    assert pending.code in message
    assert _tr("ru", "Published") in message


def test_the_decide_page_prefills_the_authors_themes(client, moderator, strategy, resident):
    proposal = _submit(resident, strategy, themes=_themes("ecology", "health"))
    client.force_login(moderator)
    response = client.get(f"/ru/moderation/{proposal.pk}/")
    assert response.status_code == 200
    assert _checked(response, "themes") == {"ecology", "health"}
    offered = {re.search(r'value="([^"]*)"', t).group(1) for t in _input_tags(response, "themes")}
    assert offered == set(Theme.objects.values_list("slug", flat=True))


def test_the_decide_page_finds_duplicates_in_the_same_strategy(
    client, moderator, strategy, resident, other_resident
):
    proposal = _submit(resident, strategy, title="Фонтаны в парке Горького")
    same = _published(other_resident, strategy, moderator, title="Починить фонтаны у театра")
    same_pending = _submit(other_resident, strategy, title="Ещё фонтаны на Арбате")
    unrelated = _published(other_resident, strategy, moderator, title="Велодорожки на Абая")
    elsewhere = _published(
        other_resident,
        StrategyFactory(slug="other-plan", code_prefix="OTH"),
        moderator,
        title="Фонтаны в другом городе",
    )
    client.force_login(moderator)
    response = client.get(f"/ru/moderation/{proposal.pk}/", {"dup_q": "ФОНТАНЫ"})
    assert response.status_code == 200
    found = re.search(r'<ul class="candidates">(.*?)</ul>', response.content.decode(), re.S)
    assert found
    codes = set(re.findall(r'<span class="code">([^<]+)</span>', found.group(1)))
    assert codes == {same.code, same_pending.code}
    assert unrelated.code not in codes
    assert elsewhere.code not in codes
    assert proposal.code not in codes


def test_a_duplicate_search_that_finds_nothing_says_so(client, moderator, pending):
    client.force_login(moderator)
    response = client.get(f"/ru/moderation/{pending.pk}/", {"dup_q": "несуществующее"})
    assert response.status_code == 200
    assert 'class="candidates"' not in response.content.decode()
    assert _tr("ru", "Nothing found.") in _page(response)


def test_bulk_approval_publishes_every_ticked_proposal(client, moderator, strategy, resident):
    first = _submit(resident, strategy, title="Первое предложение")
    second = _submit(resident, strategy, title="Второе предложение")
    untouched = _submit(resident, strategy, title="Третье предложение")
    client.force_login(moderator)
    response = client.post(
        "/ru/moderation/bulk/",
        {"proposals": [first.pk, second.pk], "decision": "approve"},
        follow=True,
    )
    assert response.redirect_chain == [("/ru/moderation/", 302)]
    statuses = dict(Proposal.objects.values_list("pk", "status"))
    assert statuses == {first.pk: S.PUBLISHED, second.pk: S.PUBLISHED, untouched.pk: S.PENDING}
    message = _messages(response)
    assert first.code in message
    assert second.code in message


def test_bulk_reports_a_proposal_already_decided_and_leaves_it(
    client, moderator, other_moderator, strategy, resident
):
    fresh = _submit(resident, strategy, title="Свежее предложение")
    decided = _submit(resident, strategy, title="Уже решённое предложение")
    _decide(decided, other_moderator, "request_changes", note="Добавьте подробностей.")
    client.force_login(moderator)
    response = client.post(
        "/ru/moderation/bulk/",
        {"proposals": [fresh.pk, decided.pk], "decision": "approve"},
        follow=True,
    )
    assert response.status_code == 200
    fresh.refresh_from_db()
    decided.refresh_from_db()
    assert fresh.status == S.PUBLISHED
    assert decided.status == S.CHANGES_REQUESTED
    assert decided.latest_decision.actor == other_moderator
    assert decided.events.filter(action__in=ProposalEvent.DECISIONS).count() == 1
    errors = re.findall(r'<p class="message error">(.*?)</p>', response.content.decode(), re.S)
    assert any(decided.code in html.unescape(e) for e in errors)
    assert not any(fresh.code in html.unescape(e) for e in errors)


def test_bulk_without_a_decision_changes_nothing(client, moderator, pending):
    client.force_login(moderator)
    before = _snapshot()
    response = client.post("/ru/moderation/bulk/", {"proposals": [pending.pk]}, follow=True)
    assert response.status_code == 200
    assert _snapshot() == before
    assert _messages(response)


def test_bulk_rejection_needs_a_reason(client, moderator, strategy, resident):
    first = _submit(resident, strategy, title="Первое предложение")
    second = _submit(resident, strategy, title="Второе предложение")
    client.force_login(moderator)
    before = _snapshot()
    response = client.post(
        "/ru/moderation/bulk/",
        {"proposals": [first.pk, second.pk], "decision": "reject"},
        follow=True,
    )
    assert response.status_code == 200
    assert _snapshot() == before
    assert _tr("ru", "A rejection needs a reason.") in _messages(response)


def test_the_history_lists_decisions(client, analyst, moderator, published, changes_requested):
    client.force_login(analyst)
    page = _page(client.get("/ru/moderation/history/"))
    assert published.code in page
    assert changes_requested.code in page
    assert "Уточните адрес." in page


# --- analysts ----------------------------------------------------------------------------------


def test_the_analysis_page_filters_by_status_and_counts(
    client, analyst, moderator, strategy, resident
):
    waiting = [_submit(resident, strategy, title=f"Ожидающее предложение {n}") for n in range(2)]
    shown = _published(resident, strategy, moderator, title="Опубликованное предложение")
    client.force_login(analyst)
    response = client.get("/ru/analysis/", {"status": "pending"})
    assert response.status_code == 200
    page = _page(response)
    for proposal in waiting:
        assert proposal.title in page
    assert shown.title not in page
    assert response.context["total"] == 2
    [status_chart] = [c for c in response.context["counts"] if c.slug == "status"]
    assert {bar.key: bar.value for bar in status_chart.bars}["pending"] == 2
    assert {bar.key: bar.value for bar in status_chart.bars}["published"] == 0

    everything = client.get("/ru/analysis/")
    assert everything.context["total"] == 3
    assert shown.title in _page(everything)


def test_the_analysis_pages_keep_their_filters(client, analyst, strategy, resident):
    for n in range(21):
        _submit(resident, strategy, title=f"Ожидающее предложение {n}")
    client.force_login(analyst)
    first = client.get("/ru/analysis/", {"status": "pending"})
    assert first.context["total"] == 21
    assert 'href="?status=pending&amp;page=2"' in first.content.decode()
    second = client.get("/ru/analysis/", {"status": "pending", "page": "2"})
    assert second.status_code == 200
    assert len(second.context["cards"]) == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("district", "nope"),
        ("created_after", "not-a-date"),
        ("created_before", "01.02.2024"),
        ("status", "nope"),
        ("theme", "nope"),
        ("strategy", "nope"),
        ("section", "abc"),
        ("ordering", "title"),
    ],
)
def test_a_bad_analysis_filter_is_a_400_naming_it(client, analyst, pending, name, value):
    client.force_login(analyst)
    response = client.get("/ru/analysis/", {name: value})
    assert response.status_code == 400
    errors = re.search(r'id="filter-errors".*?</div>', response.content.decode(), re.S)
    assert errors
    with translation.override("ru"):
        label = filter_label(name)
    assert label in html.unescape(errors.group(0))
    assert pending.title not in _page(response)


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("anonymous", "/ru/proposals/"),
        ("anonymous", "/kk/proposals/"),
        ("moderator", "/ru/moderation/"),
    ],
)
@pytest.mark.parametrize(
    ("name", "value"), [("district", "nope"), ("created_after", "not-a-date"), ("theme", "nope")]
)
def test_a_bad_list_filter_is_a_400_naming_it(client, request, published, who, path, name, value):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    response = client.get(path, {name: value})
    assert response.status_code == 400
    errors = re.search(r'id="filter-errors".*?</div>', response.content.decode(), re.S)
    assert errors
    with translation.override(path.split("/")[1]):
        label = filter_label(name)
    assert label in html.unescape(errors.group(0))


def test_the_public_list_ignores_a_status_filter(client, pending, published):
    response = client.get("/ru/proposals/", {"status": "pending"})
    assert response.status_code == 200
    page = _page(response)
    assert published.title in page
    assert pending.title not in page


def test_the_public_list_filters_by_district(client, strategy, resident, moderator):
    medeu = _published(
        resident,
        strategy,
        moderator,
        title="В Медеуском районе",
        district=District.objects.get(slug="medeu"),
    )
    other = _published(resident, strategy, moderator, title="Без района вообще")
    page = _page(client.get("/ru/proposals/", {"district": "medeu"}))
    assert medeu.title in page
    assert other.title not in page


# --- security ----------------------------------------------------------------------------------


def _post_forms(response) -> list[str]:
    return re.findall(
        r"<form\b[^>]*method=\"post\"[^>]*>.*?</form>", response.content.decode(), re.S | re.I
    )


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
]


@pytest.mark.parametrize(("who", "path"), FORM_PAGES)
def test_every_form_that_posts_carries_a_csrf_token(
    client, request, who, path, published, pending, changes_requested
):
    if who:
        client.force_login(request.getfixturevalue(who))
    path = path.format(published=published.pk, pending=pending.pk, changes=changes_requested.pk)
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
    for url in ["/ru/proposals/", f"/ru/proposals/{proposal.pk}/"]:
        content = client.get(url).content.decode()
        _assert_escaped(content, url)
        assert "<b>Жирный</b>" not in content, url
        assert "&lt;b&gt;Жирный&lt;/b&gt;" in content, url
    tallies = client.get(f"/ru/strategies/{strategy.slug}/tallies/").content.decode()
    _assert_escaped(tallies, "tallies", body=False)
    staff_pages = [
        (author, "/ru/me/proposals/", False),
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


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "https:evil.example", "/\\evil.example"]
)
def test_signing_in_never_leaves_the_site(client, resident, target):
    form = client.get("/ru/login/", {"next": target})
    assert form.status_code == 200
    login_form = re.search(
        r'<form method="post" novalidate class="narrow">.*?</form>', form.content.decode(), re.S
    )
    assert login_form
    assert 'name="next" value=""' in login_form.group(0)
    response = client.post(
        "/ru/login/",
        {"username": resident.email, "password": "correct horse battery", "next": target},
    )
    assert response.status_code == 302
    assert urlsplit(response.url).netloc in ("", "testserver")
    assert response.url.startswith("/")
    assert not response.url.startswith("//")
    assert "evil.example" not in response.url
    assert client.get("/ru/me/proposals/").status_code == 200


def test_signing_in_follows_a_local_next(client, resident):
    response = client.post(
        "/ru/login/",
        {
            "username": resident.email.upper(),
            "password": "correct horse battery",
            "next": "/ru/me/proposals/",
        },
    )
    assert response.status_code == 302
    assert response.url == "/ru/me/proposals/"


def test_signing_in_opens_the_site_in_the_accounts_language(client):
    kazakh = UserFactory(language="kk")
    response = client.post(
        "/ru/login/", {"username": kazakh.email, "password": "correct horse battery", "next": ""}
    )
    assert response.status_code == 302
    assert response.url == "/kk/"
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "kk"


def test_a_wrong_password_is_a_400(client, resident):
    response = client.post("/ru/login/", {"username": resident.email, "password": "wrong"})
    assert response.status_code == 400
    assert client.get("/ru/me/proposals/").status_code == 302


def test_too_many_sign_ins_are_refused_with_retry_after(client, resident, monkeypatch):
    monkeypatch.setattr(PageThrottle, "THROTTLE_RATES", {"login": "3/minute"})
    for _ in range(3):
        response = client.post("/ru/login/", {"username": resident.email, "password": "wrong"})
        assert response.status_code == 400
    response = client.post(
        "/ru/login/", {"username": resident.email, "password": "correct horse battery"}
    )
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert 'role="alert"' in response.content.decode()
    # The right password did not get through either.
    assert client.get("/ru/me/proposals/").status_code == 302


def test_password_reset_requests_share_the_sign_in_budget(
    client, resident, monkeypatch, mailoutbox
):
    monkeypatch.setattr(PageThrottle, "THROTTLE_RATES", {"login": "3/minute"})
    for _ in range(3):
        client.post("/ru/login/", {"username": resident.email, "password": "wrong"})
    response = client.post("/ru/password-reset/", {"email": resident.email})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert mailoutbox == []


# --- no personal data --------------------------------------------------------------------------


def test_author_emails_never_appear_on_public_pages(
    client, strategy, moderator, other_resident, section, django_capture_on_commit_callbacks
):
    author = UserFactory(email="aigerim.private@example.kz", display_name="Айгерим")
    with django_capture_on_commit_callbacks(execute=True):
        proposal = _published(author, strategy, moderator, section=section, title="Парк у реки")
        reaction_set(proposal=proposal, user=other_resident, kind="like")
        _submit(author, strategy, title="Ещё одно предложение")
    pages = {
        "home": "/ru/",
        "strategy": f"/ru/strategies/{strategy.slug}/",
        "list": "/ru/proposals/",
        "detail": f"/ru/proposals/{proposal.pk}/",
        "tallies": f"/ru/strategies/{strategy.slug}/tallies/",
    }
    for name, url in pages.items():
        for viewer in (None, other_resident):
            page = _page(page_client_for(viewer).get(url))
            assert author.email not in page, name
            assert other_resident.email not in page, name
            assert moderator.email not in page, name
    # The pages did show the proposal: the check above is not vacuous.
    assert "Айгерим" in _page(client.get(pages["detail"]))
    assert proposal.title in _page(client.get(pages["tallies"]))


# --- accounts ----------------------------------------------------------------------------------

LINK = re.compile(r"https?://\S+")


def test_signing_up_creates_an_unverified_account_and_mails_a_link(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/ru/signup/",
            {
                "display_name": "Новый житель",
                "email": "New.Resident@Example.kz",
                "password": STRONG,
                "district": "medeu",
                "accept_terms": "on",
            },
        )
    assert response.status_code == 302
    assert response.url == "/ru/signup/done/"
    user = User.objects.get(email="new.resident@example.kz")
    assert user.email_verified is False
    assert user.district.slug == "medeu"
    assert user.language == "ru"
    [mail] = mailoutbox
    assert mail.to == ["new.resident@example.kz"]
    [link] = LINK.findall(mail.body)
    assert link.startswith(f"{django_settings.CIVIC_SITE_URL}/ru/verify-email/")

    page = client.get(urlsplit(link).path)
    assert page.status_code == 200
    assert "Новый житель" in _page(page)
    user.refresh_from_db()
    assert user.email_verified is True


def test_signing_up_in_kazakh_mails_a_kazakh_link(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/kk/signup/",
            {
                "display_name": "Жаңа тұрғын",
                "email": "zhana@example.kz",
                "password": STRONG,
                "accept_terms": "on",
            },
        )
    assert response.status_code == 302
    assert User.objects.get(email="zhana@example.kz").language == "kk"
    [link] = LINK.findall(mailoutbox[0].body)
    assert link.startswith(f"{django_settings.CIVIC_SITE_URL}/kk/verify-email/")


@pytest.mark.parametrize(
    "fields",
    [
        {"email": "resident-taken"},
        {"password": "12345678"},
        {"email": "not-an-email"},
        {"display_name": ""},
        {"district": "nope"},
    ],
)
def test_a_refused_sign_up_creates_nothing_and_mails_nothing(
    client, resident, mailoutbox, django_capture_on_commit_callbacks, fields
):
    data = {
        "display_name": "Новый житель",
        "email": "new@example.kz",
        "password": STRONG,
        "accept_terms": "on",
    }
    data.update(fields)
    if data["email"] == "resident-taken":
        data["email"] = resident.email.upper()
    before = User.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/ru/signup/", data)
    assert response.status_code == 400
    assert User.objects.count() == before
    assert mailoutbox == []


@pytest.mark.parametrize("token", ["not-a-token", "tampered"])
def test_a_bad_verification_link_is_a_400(client, token):
    unverified = UserFactory(email_verified=False)
    if token == "tampered":
        from civic.accounts.tokens import email_token_make

        token = email_token_make(user_id=unverified.pk, email=unverified.email)[:-2] + "xx"
    response = client.get(f"/ru/verify-email/{token}/")
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    unverified.refresh_from_db()
    assert unverified.email_verified is False


def test_an_unverified_resident_can_ask_for_the_link_again(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    unverified = UserFactory(email_verified=False)
    client.force_login(unverified)
    assert client.get("/ru/verify-email/resend/").status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/ru/verify-email/resend/")
    assert response.status_code == 302
    assert response.url == "/ru/me/proposals/"
    [mail] = mailoutbox
    assert mail.to == [unverified.email]
    [link] = LINK.findall(mail.body)
    assert client.get(urlsplit(link).path).status_code == 200
    unverified.refresh_from_db()
    assert unverified.email_verified is True


def test_password_reset_mails_a_link_that_sets_a_new_password(client, resident, mailoutbox):
    response = client.post("/ru/password-reset/", {"email": resident.email})
    assert response.status_code == 302
    assert response.url == "/ru/password-reset/sent/"
    [mail] = mailoutbox
    assert mail.to == [resident.email]
    [link] = LINK.findall(mail.body)
    path = urlsplit(link).path
    assert re.fullmatch(r"/ru/password-reset/[^/]+/[^/]+/", path), link

    form = client.get(path, follow=True)
    assert form.status_code == 200
    assert _input_tags(form, "new_password1")
    set_password_url = form.redirect_chain[-1][0]
    response = client.post(set_password_url, {"new_password1": STRONG, "new_password2": STRONG})
    assert response.status_code == 302
    assert response.url == "/ru/password-reset/complete/"
    resident.refresh_from_db()
    assert resident.check_password(STRONG)
    assert not resident.check_password("correct horse battery")
    signed_in = Client().post("/ru/login/", {"username": resident.email, "password": STRONG})
    assert signed_in.status_code == 302


def test_password_reset_for_an_unknown_address_says_the_same_and_mails_nothing(client, mailoutbox):
    response = client.post("/ru/password-reset/", {"email": "nobody@example.kz"})
    assert response.status_code == 302
    assert response.url == "/ru/password-reset/sent/"
    assert mailoutbox == []


def test_a_used_password_reset_link_is_refused(client, resident, mailoutbox):
    client.post("/ru/password-reset/", {"email": resident.email})
    path = urlsplit(LINK.findall(mailoutbox[0].body)[0]).path
    form = client.get(path, follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": STRONG, "new_password2": STRONG})
    again = Client().get(path, follow=True)
    assert again.status_code == 200
    assert not _input_tags(again, "new_password1")


def test_signing_out_is_a_post(client, resident):
    client.force_login(resident)
    assert client.get("/ru/logout/").status_code == 405
    assert client.get("/ru/me/proposals/").status_code == 200
    response = client.post("/ru/logout/")
    assert response.status_code == 302
    assert client.get("/ru/me/proposals/").status_code == 302


# --- language switch ---------------------------------------------------------------------------


def test_switching_language_keeps_the_page_and_remembers_the_choice(client):
    response = client.post("/language/", {"language": "kk", "next": "/ru/proposals/"})
    assert response.status_code == 302
    assert response.url == "/kk/proposals/"
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "kk"
    # The cookie then decides where a bare path goes.
    assert client.get("/").url == "/kk/"


def test_switching_language_updates_a_signed_in_residents_language(client, resident):
    assert resident.language == "ru"
    client.force_login(resident)
    response = client.post("/language/", {"language": "en", "next": "/ru/me/proposals/"})
    assert response.status_code == 302
    assert response.url == "/en/me/proposals/"
    resident.refresh_from_db()
    assert resident.language == "en"


def test_switching_to_an_unknown_language_changes_nothing(client, resident):
    client.force_login(resident)
    response = client.post("/language/", {"language": "xx", "next": "/ru/proposals/"})
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.language == "ru"
    assert client.get("/").url == "/ru/"


def test_switching_language_does_not_leave_the_site(client):
    response = client.post("/language/", {"language": "kk", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert "evil.example" not in response.url


def test_switching_language_is_a_post(client):
    assert client.get("/language/", {"language": "kk", "next": "/ru/"}).status_code == 405
