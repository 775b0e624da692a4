"""Search on the proposal list page: word forms, marked matches, the strategy's text."""

import pytest

from tests.factories import ProposalFactory, SectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def found(strategy):
    ProposalFactory(
        strategy=strategy,
        title="Ночные автобусы до Алатау",
        body="Пустить ночной автобус <script>alert(1)</script> каждые двадцать минут.",
    )
    ProposalFactory(strategy=strategy, title="Фонари во дворах", body="Повесить фонари у домов.")
    ProposalFactory(
        strategy=strategy,
        title="Автобус на ожидании",
        body="Скрытое предложение про автобус ждёт модерации.",
        status="pending",
    )
    SectionFactory(
        strategy=strategy,
        code="4",
        title_ru="Транспорт",
        body_ru="Обновить парк автобусов и выделить полосы.",
    )
    return strategy


@pytest.mark.parametrize("language", ["ru", "kk", "en"])
def test_a_search_marks_what_matched_and_orders_by_it(client, found, language):
    response = client.get(f"/{language}/proposals/", {"q": "автобусы", "strategy": found.slug})
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('class="card"') == 1
    assert "<mark>автобусы</mark>" in page  # the title, in its own case
    assert "<mark>автобус</mark>" in page  # the body's other form
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "Скрытое предложение" not in page  # pending: never shown, not even its text
    assert 'value="relevance" selected' in page
    # The strategy's own text, with its section linked.
    assert f'href="/{language}/strategies/{found.slug}/#section-4"' in page
    assert "парк <mark>автобусов</mark>" in page


def test_without_words_there_is_no_relevance_to_order_by(client, found):
    page = client.get("/ru/proposals/", {"ordering": "relevance"}).content.decode()
    assert 'value="relevance"' not in page
    assert page.count('class="card"') == 2
