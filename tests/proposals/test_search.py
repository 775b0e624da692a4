"""Full-text search: word forms in ru, kk and en, ranking, highlights, and what it never
shows. Runs on both engines: PostgreSQL's tsvector and SQLite's FTS5."""

from io import StringIO

import pytest
from django.core.management import call_command

from proposals.models import Proposal
from proposals.search.analysis import kazakh_stem, stems
from proposals.search.selectors import highlight
from proposals.services import proposal_edit, proposal_moderate, proposal_submit
from tests.conftest import client_for
from tests.factories import ProposalFactory, SectionFactory, StrategyFactory

pytestmark = pytest.mark.django_db


def _codes(api, q: str, **more) -> list[str]:
    response = api.get("/api/v1/proposals/", {"q": q, **more})
    assert response.status_code == 200, response.json()
    return [row["code"] for row in response.json()["results"]]


@pytest.fixture
def texts(strategy):
    def make(code: str, title: str, body: str, **kwargs) -> Proposal:
        return ProposalFactory(strategy=strategy, code=code, title=title, body=body, **kwargs)

    return make


@pytest.mark.parametrize(
    ("text", "query"),
    [
        # Russian: plural and case forms meet their singular.
        ("Пустить ночной автобус до Алатау каждые двадцать минут.", "автобусы"),
        ("Не хватает автобусов на маршруте в микрорайон Шугыла.", "автобус"),
        ("Починить дорогу к школе номер сорок, там ямы.", "дорогам"),
        # Kazakh: endings piled on the stem come off (жол-дар-ды → жол).
        ("Ауылға апаратын жол өте нашар, жөндеу керек.", "жолдарды"),
        ("Жолдарды жөндеу керек, әсіресе көктемде.", "жол"),
        ("Мектептерде ауыз су жоқ, балалар шөлдейді.", "мектеп"),
        # Typed on a Russian keyboard (к for қ, о for ө): still found.
        ("Жаңа көліктер сатып алу керек, ескілері бұзылған.", "колик"),
        # English: Snowball stems.
        ("The roads near the bazaar flood every spring, fix the drains.", "road"),
        ("Plant trees along the irrigation ditches in the yards.", "planting"),
        # ё and е are one letter to search.
        ("Посадить ёлки у входа в парк имени Горького.", "елки"),
    ],
)
def test_a_word_finds_its_other_forms(api, texts, text, query):
    texts("ALT-000001", "Предложение для поиска", text)
    texts("ALT-000002", "Другое предложение", "Совсем о другом: освещение во дворах и лавочки.")
    assert _codes(api, query) == ["ALT-000001"]


def test_every_word_must_be_there_in_some_form(api, texts):
    texts("ALT-000001", "Автобусы до Алатау", "Пустить ночные рейсы каждые двадцать минут.")
    texts("ALT-000002", "Автобусы до Шугылы", "Добавить остановку у рынка и навес.")
    assert _codes(api, "автобус ночной") == ["ALT-000001"]
    assert sorted(_codes(api, "автобусов")) == ["ALT-000001", "ALT-000002"]
    assert _codes(api, "автобус трамвай") == []


def test_a_query_without_words_finds_nothing(api, texts):
    texts("ALT-000001", "Автобусы до Алатау", "Пустить ночные рейсы каждые двадцать минут.")
    assert _codes(api, "!!! - ?") == []


def test_the_best_match_comes_first_by_default(api, texts):
    # A match in the title outweighs one in the body; the newest would be first by date.
    in_title = texts("ALT-000001", "Велодорожки в центре", "Сделать сеть по всему городу.")
    texts("ALT-000002", "Озеленение дворов", "И ещё нужны велодорожки вдоль арыков.")
    texts("ALT-000003", "Освещение в парках", "Повесить фонари на аллеях парка.")
    assert in_title.created_at < Proposal.objects.get(code="ALT-000002").created_at
    assert _codes(api, "велодорожка") == ["ALT-000001", "ALT-000002"]
    assert _codes(api, "велодорожка", ordering="relevance") == ["ALT-000001", "ALT-000002"]
    # Any other order is still allowed with q.
    assert _codes(api, "велодорожка", ordering="-created_at") == ["ALT-000002", "ALT-000001"]


def test_relevance_needs_q(api):
    response = api.get("/api/v1/proposals/", {"ordering": "relevance"})
    assert response.status_code == 400
    assert "ordering" in response.json()


def test_each_result_carries_its_highlight(api, texts):
    texts(
        "ALT-000001",
        "Автобусы до Алатау",
        "Жители просят пустить ночной автобус; сейчас последний уходит в десять.",
    )
    row = api.get("/api/v1/proposals/", {"q": "автобусов"}).json()["results"][0]
    assert row["highlight"] == (
        "«Автобусы» до Алатау — Жители просят пустить ночной «автобус»; сейчас последний"
        " уходит в десять."
    )
    # Without q, no highlight.
    assert "highlight" not in api.get("/api/v1/proposals/").json()["results"][0]


def test_highlight_is_plain_text_and_cut_around_the_match():
    body = " ".join(["слово"] * 40 + ["<b>трамвай</b>"] + ["конец"] * 40)
    marked = highlight(title="Без совпадения", body=body, q="трамваи")
    assert marked.startswith("…слово") and marked.endswith("конец…")
    assert "<b>«трамвай»</b>" in marked
    assert "Без совпадения" not in marked


@pytest.mark.parametrize(
    "status",
    [
        Proposal.Status.PENDING,
        Proposal.Status.REJECTED,
        Proposal.Status.CHANGES_REQUESTED,
        Proposal.Status.WITHDRAWN,
    ],
)
def test_search_never_reveals_what_the_public_may_not_see(api, texts, moderator, status):
    texts("ALT-000001", "Секретный тоннель", "Прорыть тоннель под проспектом Абая.", status=status)
    texts("ALT-000002", "Открытый тоннель", "Пешеходный тоннель у цирка.")
    for query in ("тоннель", "секретный", "проспект"):
        response = api.get("/api/v1/proposals/", {"q": query})
        assert "Секретный" not in response.content.decode()
        assert "Абая" not in response.content.decode()
    assert _codes(api, "тоннели") == ["ALT-000002"]
    # Asking for rejected ones shows only those rejected in public.
    assert _codes(api, "тоннели", status="rejected") == []
    # Staff find every status.
    assert sorted(_codes(client_for(moderator), "тоннели")) == ["ALT-000001", "ALT-000002"]


def test_the_index_follows_the_text_through_services(api, strategy, resident, moderator):
    proposal = proposal_submit(
        author=resident,
        strategy=strategy,
        title="Светофор у школы",
        body="Поставить светофор на перекрёстке у школы номер девять.",
    )
    proposal_moderate(
        proposal=proposal, moderator=moderator, decision="request_changes", note="Уточните адрес."
    )
    proposal_edit(
        proposal=Proposal.objects.get(pk=proposal.pk),
        actor=resident,
        title="Светофор у гимназии",
        body="Поставить светофор на перекрёстке у гимназии номер девять.",
    )
    proposal_moderate(
        proposal=Proposal.objects.get(pk=proposal.pk), moderator=moderator, decision="approve"
    )
    assert _codes(api, "гимназия") == [proposal.code]
    assert _codes(api, "школа") == []


def test_search_spans_strategies_unless_one_is_chosen(api, texts):
    other = StrategyFactory(slug="other-city")
    texts("ALT-000001", "Арыки в центре", "Почистить арыки на улице Толе би.")
    ProposalFactory(
        strategy=other, code="OTH-000001", title="Арыки", body="Почистить арыки в Алатау."
    )
    assert sorted(_codes(api, "арык")) == ["ALT-000001", "OTH-000001"]
    assert _codes(api, "арык", strategy="other-city") == ["OTH-000001"]


def test_kazakh_stems():
    assert kazakh_stem("жолдарды") == kazakh_stem("жолға") == kazakh_stem("жол") == "жол"
    assert kazakh_stem("көлігі") == kazakh_stem("көлік") == "колик"
    assert "автобус" in stems("автобусы") & stems("автобусов")
    assert stems("2050") == {"2050"}


def test_the_strategys_own_text_is_searchable_in_any_language(api, strategy):
    SectionFactory(
        strategy=strategy,
        code="2",
        position=1,
        title_ru="Транспорт",
        body_ru="Реконструкция дорог и развитие общественного транспорта.",
        title_kk="Көлік",
        body_kk="Жолдарды қайта жаңарту және қоғамдық көлікті дамыту.",
        title_en="Transport",
        body_en="Rebuilding roads and developing public transport.",
    )
    SectionFactory(
        strategy=strategy,
        code="3",
        position=2,
        title_ru="Экология",
        body_ru="Озеленение и чистый воздух.",
        title_kk="Экология",
        body_kk="Көгалдандыру және таза ауа.",
    )
    url = f"/api/v1/strategies/{strategy.slug}/sections/"
    found = api.get(url, {"q": "жол"}, HTTP_ACCEPT_LANGUAGE="kk").json()
    assert [row["code"] for row in found] == ["2"]
    assert list(found[0]) == ["id", "code", "title", "language", "highlight"]
    assert found[0]["language"] == "kk"
    assert found[0]["highlight"] == "«Жолдарды» қайта жаңарту және қоғамдық көлікті дамыту."
    # A Russian word form, shown in the reader's language where it is there.
    found = api.get(url, {"q": "дороги"}, HTTP_ACCEPT_LANGUAGE="ru").json()
    assert [row["code"] for row in found] == ["2"]
    assert "«дорог»" in found[0]["highlight"]
    assert api.get(url, {"q": "метро"}).json() == []
    assert api.get(url).status_code == 400
    draft = StrategyFactory(slug="draft-city", status="draft")
    assert api.get(f"/api/v1/strategies/{draft.slug}/sections/", {"q": "жол"}).status_code == 404


def test_rebuild_search_writes_the_index_again(api, texts):
    proposal = texts("ALT-000001", "Арыки в центре", "Почистить арыки на улице Толе би.")
    # A change that went around the services (a restore, a bulk load): not indexed yet.
    Proposal.objects.filter(pk=proposal.pk).update(title="Фонтаны в центре")
    assert _codes(api, "фонтан") == []
    call_command("rebuild_search", stdout=StringIO())
    assert _codes(api, "фонтаны") == ["ALT-000001"]
    assert _codes(api, "арыки") == ["ALT-000001"]  # still in the body


def test_results_stay_right_after_other_searches_and_new_rows(api, texts):
    # On SQLite each search ranks its matches into a table of the connection: a later
    # search must neither lose an earlier one's rows nor serve stale ones.
    texts("ALT-000001", "Арыки в центре", "Почистить арыки на улице Толе би.")
    assert _codes(api, "арык") == ["ALT-000001"]
    for n in range(12):
        _codes(api, f"слово{n}")
    texts("ALT-000002", "Арыки в Алатау", "Почистить арыки в микрорайоне.")
    assert sorted(_codes(api, "арык")) == ["ALT-000001", "ALT-000002"]
