"""proposals.listing.proposal_list_rows gives the list's page as ProposalSerializer does:
the same dicts and, rendered, the same bytes, for every kind of reader."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import Count
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from civic.accounts.models import User
from civic.accounts.services import role_grant
from proposals import selectors, services
from proposals.answers.services import answer_save
from proposals.comments.services import comment_create, comment_delete, comment_moderate
from proposals.listing import proposal_list_rows
from proposals.models import Proposal, Reaction
from proposals.serializers import ProposalSerializer
from strategy.models import District, Theme
from tests.conftest import client_for
from tests.factories import ProposalFactory, SectionFactory, StrategyFactory, UserFactory

Status = Proposal.Status
READERS = ("anonymous", "author", "other_resident", "moderator", "analyst", "responder", "admin")


def _keep_reaction_totals(proposals: list[Proposal]) -> None:
    """The kept totals as the reaction rows say, whether or not the services keep them yet."""
    ids = [proposal.pk for proposal in proposals]
    recount = getattr(services, "reaction_totals_recount", None)
    if recount is not None:
        recount(proposal_ids=ids)
        return
    rows = (
        Reaction.objects.filter(proposal_id__in=ids)
        .order_by()
        .values_list("proposal_id", "kind")
        .annotate(n=Count("id"))
    )
    totals = {pk: dict.fromkeys(Reaction.Kind.values, 0) for pk in ids}
    for proposal_id, kind, n in rows:
        totals[proposal_id][kind] = n
    for pk, counts in totals.items():
        Proposal.objects.filter(pk=pk).update(
            **{f"reactions_{kind}": n for kind, n in counts.items()},
            reactions_total=sum(counts.values()),
        )


def _theme(slug: str) -> Theme:
    return Theme.objects.get_or_create(slug=slug, defaults={"name_ru": slug})[0]


@pytest.fixture
def readers(resident, other_resident, moderator, analyst, admin_user) -> dict:
    responder = UserFactory(display_name="Ответственный")
    role_grant(user=responder, role="responder")
    return {
        "anonymous": AnonymousUser(),
        "author": resident,
        "other_resident": other_resident,
        "moderator": moderator,
        "analyst": analyst,
        "responder": responder,
        "admin": admin_user,
    }


@pytest.fixture
def varied(strategy, readers) -> list[Proposal]:
    """Proposals of every shape a list shows."""
    author, other = readers["author"], readers["other_resident"]
    moderator, admin = readers["moderator"], readers["admin"]
    section = SectionFactory(strategy=strategy)
    district = District.objects.create(slug="medeu-test", name_ru="Медеуский")
    parks, roads, water = _theme("zz-parks"), _theme("aa-roads"), _theme("mm-water")
    other_strategy = StrategyFactory(slug="other-test", code_prefix="OTH")
    made = []

    def proposal(**kwargs) -> Proposal:
        kwargs.setdefault("strategy", strategy)
        kwargs.setdefault("author", other)
        made.append(ProposalFactory(**kwargs))
        return made[-1]

    # Published straight into the table: no decision, nothing around it.
    proposal(author=author)
    # Approved by a moderator, with everything: section, district, themes out of order,
    # suggestions, reactions, comments of every kind, a published answer.
    rich = proposal(
        status=Status.PENDING,
        section=section,
        district=district,
        themes=[parks, roads],
        suggested_themes=[
            {"slug": "zz-parks", "score": 0.81, "words": ["деревья", "парк"]},
            {"slug": "aa-roads", "score": 0.12, "words": []},
        ],
        suggestion_version="v-test-3",
    )
    services.proposal_moderate(
        proposal=rich, moderator=moderator, decision="approve", themes=[parks, water, roads]
    )
    for kind, count in (("like", 3), ("funny", 1), ("outrage", 2)):
        for _ in range(count):
            services.reaction_set(proposal=rich, user=UserFactory(), kind=kind)
    comment_create(author=author, body="Поддерживаю полностью", proposal=rich)
    hidden = comment_create(author=other, body="Реклама тут", proposal=rich)
    comment_moderate(comment=hidden, moderator=moderator, action="hide", reason="spam")
    gone = comment_create(author=author, body="Передумал писать", proposal=rich)
    comment_delete(comment=gone, actor=author)
    answer_save(
        proposal=rich, responder=admin, outcome="accepted_in_part", text="Частично", publish=True
    )
    # Published with an answer still in draft, in another strategy, with no code and a
    # creation time on a whole second (isoformat leaves the microseconds out).
    drafted = proposal(
        strategy=other_strategy,
        code=None,
        created_at=datetime(2026, 3, 1, 9, 30, 0, tzinfo=ZoneInfo("UTC")),
        district=district,
    )
    services.reaction_set(proposal=drafted, user=UserFactory(), kind="sympathy")
    services.reaction_set(proposal=drafted, user=author, kind="indifferent")
    answer_save(
        proposal=drafted, responder=admin, outcome="not_accepted", text="Нет", publish=False
    )
    # Publicly rejected as a duplicate, the note public too.
    duplicate = proposal(status=Status.PENDING, section=section)
    services.proposal_moderate(
        proposal=duplicate,
        moderator=moderator,
        decision="reject",
        reason="duplicate",
        duplicate_of=rich,
        note="Уже предложено",
        note_public=True,
    )
    # Publicly rejected for `other`, the note kept private.
    other_public = proposal(status=Status.PENDING)
    services.proposal_moderate(
        proposal=other_public,
        moderator=moderator,
        decision="reject",
        reason="other",
        public=True,
        note="Только для автора",
    )
    # Rejected for spam: the author's and staff's only.
    spam = proposal(status=Status.PENDING, author=author, themes=[water])
    services.proposal_moderate(proposal=spam, moderator=moderator, decision="reject", reason="spam")
    # Taken down after an answer was published: a public rejection and an answer.
    taken_down = proposal()
    answer_save(proposal=taken_down, responder=admin, outcome="accepted", publish=True)
    services.proposal_moderate(
        proposal=taken_down, moderator=moderator, decision="reject", reason="off_topic"
    )
    # Asked to change: the author sees the moderator's note.
    changes = proposal(status=Status.PENDING, author=author, district=district)
    services.proposal_moderate(
        proposal=changes, moderator=moderator, decision="request_changes", note="Уточните адрес"
    )
    # Pending, with suggestions only staff see; withdrawn.
    proposal(
        status=Status.PENDING,
        author=author,
        suggested_themes=[{"slug": "mm-water", "score": 0.5, "words": ["арык"]}],
        suggestion_version="v-test-3",
    )
    proposal(status=Status.WITHDRAWN, author=author)
    _keep_reaction_totals(made)
    return made


def _request_for(user):
    request = RequestFactory().get("/api/v1/proposals/")
    request.user = user
    return request


def _serializer_page(user, ids: list[int]) -> list:
    """The page as the list's view serialises it, from the selector's instances."""
    page = [selectors.proposal_get_visible(user=user, proposal_id=pk) for pk in ids]
    assert None not in page
    context = {"request": _request_for(user), "reactions": selectors.reaction_counts_for(page)}
    return ProposalSerializer(page, many=True, context=context).data


def _visible_ids(user) -> list[int]:
    return list(
        selectors.proposal_visible_to(user)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
    )


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["Asia/Almaty", "UTC"])
@pytest.mark.parametrize("reader", READERS)
def test_rows_equal_the_serializer(readers, varied, reader, zone):
    user = readers[reader]
    ids = _visible_ids(user)
    with timezone.override(zone):
        expected = _serializer_page(user, ids)
        rows = proposal_list_rows(ids=ids, user=user)
    assert rows == expected
    renderer = JSONRenderer()
    assert renderer.render(rows) == renderer.render(expected)
    for mine, theirs in zip(rows, expected, strict=True):
        assert list(mine) == list(theirs)  # the keys in the same order


@pytest.mark.django_db
def test_the_readers_see_what_they_should(readers, varied):
    """The comparison above is only as good as the page is varied: each rule is met."""
    seen = {
        reader: proposal_list_rows(ids=_visible_ids(user), user=user)
        for reader, user in readers.items()
    }
    by_status = {reader: {row["status"] for row in rows} for reader, rows in seen.items()}
    assert Status.CHANGES_REQUESTED in by_status["author"]
    assert Status.CHANGES_REQUESTED not in by_status["other_resident"]
    assert by_status["admin"] == set(Status.values)
    assert not any("moderation" in row for row in seen["anonymous"])
    assert any(row.get("moderation") for row in seen["author"])
    assert not any("suggested_themes" in row for row in seen["author"])
    assert any(row.get("suggested_themes") for row in seen["analyst"])
    rejections = [row["rejection"] for row in seen["anonymous"] if row["rejection"]]
    assert {
        "reason": "duplicate",
        "note": "Уже предложено",
        "duplicate_of": varied[1].code,
    } in rejections
    assert {"reason": "other", "note": None, "duplicate_of": None} in rejections
    answers = [row["answer"] for row in seen["responder"] if row["answer"]]
    assert {answer["published"] for answer in answers} == {True, False}
    assert len([row for row in seen["anonymous"] if row["answer"]]) == 2
    rich = next(row for row in seen["anonymous"] if row["id"] == varied[1].pk)
    assert rich["comments_count"] == 1
    assert rich["themes"] == ["aa-roads", "mm-water", "zz-parks"]
    assert rich["reactions"] == {
        "like": 3,
        "indifferent": 0,
        "funny": 1,
        "sympathy": 0,
        "outrage": 2,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("reader", READERS)
def test_the_list_api_sends_what_the_serializer_did(readers, varied, reader):
    """The list's pages, public and publicly rejected ones alike, as DRF rendered the
    selector's page before the list went through proposal_list_rows."""
    user = readers[reader]
    client = client_for(None if reader == "anonymous" else user)
    for filters in ({}, {"status": "rejected"}):
        response = client.get("/api/v1/proposals/", {"page_size": 100, **filters})
        assert response.status_code == 200
        results = response.data["results"]
        page = list(selectors.proposal_list(user=user, filters=filters)[:100])
        assert page
        context = {"request": _request_for(user), "reactions": selectors.reaction_counts_for(page)}
        expected = ProposalSerializer(page, many=True, context=context).data
        assert JSONRenderer().render(results) == JSONRenderer().render(expected)


@pytest.mark.django_db
def test_order_of_ids_is_kept_and_missing_rows_left_out(readers, varied):
    user = readers["admin"]
    ids = [varied[3].pk, varied[0].pk, varied[1].pk]
    gone = Proposal.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000
    rows = proposal_list_rows(ids=[ids[0], gone, *ids[1:]], user=user)
    assert [row["id"] for row in rows] == ids
    assert proposal_list_rows(ids=[], user=user) == []


@pytest.mark.django_db
@pytest.mark.parametrize("reader", ["anonymous", "admin"])
def test_a_page_takes_a_fixed_number_of_queries(
    strategy, readers, reader, django_assert_max_num_queries
):
    themes = [_theme("zz-parks"), _theme("aa-roads")]
    proposals = ProposalFactory.create_batch(100, strategy=strategy, themes=themes)
    commenter = readers["author"]
    for proposal in proposals[:30]:
        comment_create(author=commenter, body="Согласен с этим", proposal=proposal)
    ids = [proposal.pk for proposal in proposals]

    def count(page: list[int]) -> int:
        # A fresh reader each time: its roles are read again, as in a new request.
        user = readers[reader]
        if user.is_authenticated:
            user = User.objects.get(pk=user.pk)
        with CaptureQueriesContext(connection) as queries:
            rows = proposal_list_rows(ids=page, user=user)
        assert len(rows) == len(page)
        return len(queries)

    # Rows, themes, comment counts; and the reader's permissions, once.
    assert count(ids[:10]) == count(ids)
    assert count(ids) <= (3 if reader == "anonymous" else 5)
