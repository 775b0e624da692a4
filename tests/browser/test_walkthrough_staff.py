"""Issue 12 in a real browser: the printable report summary on a phone, and the decision
page's fields following the chosen decision."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from django.utils import translation

from civic.accounts.services import role_grant
from proposals.charts import bars
from proposals.models import Proposal
from proposals.reports import writers
from tests.factories import ProposalFactory, StrategyFactory, UserFactory

PASSWORD = "correct horse battery"


def _summary_file(tmp_path, language: str):
    report = SimpleNamespace(pk=12, language=language)
    strategy = SimpleNamespace(title="Стратегия развития города Алматы до 2050 года")
    title = "Больше деревьев во дворах микрорайонов Алмагуль и Орбита вдоль арыков"
    context = {
        "report": report,
        "strategy": strategy,
        "total": 1234,
        "generated_at": datetime(2026, 11, 29, 12, 0, tzinfo=UTC),
        "filters": [
            ("Темы", "Транспорт, Экология и охрана окружающей среды"),
            ("Статус", "Опубликовано"),
        ],
        "charts": [
            {
                "slug": "by_section",
                "title": "По разделам",
                "bars": bars([("", "1.2. Зелёный город и общественные пространства", 120)]),
            }
        ],
        "days": [(date(2026, 11, 1), 1000)],
        "top_by_theme": [
            {"theme": "Транспорт", "proposals": [("ALA2050-000001", title, 12345, 23456)]}
        ],
        "reaction_names": ["Нравится"],
    }
    path = tmp_path / "summary.html"
    with translation.override(language):
        writers.write_html(path, context)
    return path


@pytest.mark.parametrize("language", ["ru", "kk", "en"])
def test_report_summary_does_not_scroll_sideways_at_360(chromium, tmp_path, language):
    page = chromium.new_page(viewport={"width": 360, "height": 800})
    try:
        page.goto(_summary_file(tmp_path, language).as_uri())
        widths = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
    finally:
        page.close()
    assert widths[0] <= widths[1], widths


# The real decision page: only the fields that go with the chosen decision show.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("javascript", [True, False])
def test_the_decision_page_shows_the_fields_of_the_chosen_decision(
    chromium, live_server, javascript
):
    strategy = StrategyFactory(slug="almaty-2050", code_prefix="ALM")
    proposal = ProposalFactory(strategy=strategy, status=Proposal.Status.PENDING)
    moderator = UserFactory(email="moderator@example.org")
    role_grant(user=moderator, role="moderator")
    context = chromium.new_context(
        viewport={"width": 360, "height": 740},
        base_url=live_server.url,
        java_script_enabled=javascript,
    )
    try:
        page = context.new_page()
        page.goto("/en/login/")
        page.fill("#id_username", moderator.email)
        page.fill("#id_password", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"/en/moderation/{proposal.pk}/")
        reason, duplicate, public_note = (
            page.locator("#id_reason"),
            page.locator("#dup-q"),
            page.locator("#id_note_public"),
        )
        note = page.locator("#id_note")
        if not javascript:  # every field shows, and the server sorts out what applies
            assert reason.is_visible() and duplicate.is_visible() and public_note.is_visible()
            return
        assert note.is_visible()
        assert not reason.is_visible() and not duplicate.is_visible()
        page.check("input[name=decision][value=reject]")
        assert reason.is_visible() and public_note.is_visible()
        assert not duplicate.is_visible()
        page.select_option("#id_reason", "duplicate")
        assert duplicate.is_visible()
        page.check("input[name=decision][value=approve]")
        assert not reason.is_visible() and not duplicate.is_visible()
        assert not public_note.is_visible() and note.is_visible()
    finally:
        context.close()
