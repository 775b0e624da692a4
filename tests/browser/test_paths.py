"""Each audience's main path, walked in real headless Chromium on a live server."""

import re

import pytest
from django.core import mail
from django.utils import translation

from frontend import labels
from proposals.demo import DEMO_PASSWORD, demo_load
from proposals.models import Proposal

# serialized_rollback: the flush after each test would take the themes, districts and
# role groups that migrations create with it.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TITLE = "Жетісу ауданында велосипед жолдарын салу"
BODY = (
    "Жетісу ауданындағы негізгі көшелерде бөлек велосипед жолдары жоқ. "
    "Балалар мен жасөспірімдер мектепке велосипедпен баруға қорқады. "
    "Райымбек даңғылы мен Бөкейханов көшесінің бойында қауіпсіз жол салуды ұсынамын."
)


def _label(mapping: dict, code: str, language: str) -> str:
    with translation.override(language):
        return str(mapping[code])


def _number(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def _sign_in(visitor, language: str, email: str, password: str = DEMO_PASSWORD) -> None:
    visitor.go(f"/{language}/login/")
    visitor.page.fill("#id_username", email)
    visitor.page.fill("#id_password", password)
    visitor.page.click("main form button[type=submit]")
    visitor.page.wait_for_load_state()


def _published_count(visitor) -> int:
    visitor.go("/ru/strategies/almaty-2050/tallies/")
    return _number(visitor.page.locator(".headline div").nth(1).locator("dd").inner_text())


def test_every_audience_walks_its_main_path(visitor):
    demo_load()
    public = visitor()
    published_before = _published_count(public)

    # A resident signs up in Kazakh, on a phone, and confirms the address from the email.
    resident = visitor(width=360, height=780)
    page = resident.page
    resident.go("/kk/signup/")
    page.fill("#id_display_name", "Әлия")
    page.fill("#id_email", "aliya@example.kz")
    page.fill("#id_password", "Zhetisu-velo-2050")
    page.select_option("#id_district", "zhetysu")
    page.check("#id_accept_terms")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/kk/signup/done/")
    [message] = [m for m in mail.outbox if "aliya@example.kz" in m.to]
    link = re.search(r"https?://\S+/kk/verify-email/\S+/", message.body).group(0)
    resident.go(link[link.index("/kk/") :])
    assert "Әлия" in page.locator("main").inner_text()

    # ...signs in, opens the strategy, and proposes on a section in Kazakh.
    _sign_in(resident, "kk", "aliya@example.kz", "Zhetisu-velo-2050")
    assert page.url.endswith("/kk/")
    assert "Әлия" in page.locator("header").inner_text()
    resident.go("/kk/strategies/almaty-2050/")
    page.locator("a.button.small").first.click()
    page.wait_for_url("**/kk/proposals/new/**")
    assert page.input_value("#id_section") != ""
    page.fill("#id_title", TITLE)
    # The limits are shown as one types (the page's only script).
    assert page.locator("#id_title_counter").inner_text().strip() != ""
    page.fill("#id_body", BODY)
    page.check("input[name=themes][value=transport]")
    page.click("main form.proposal-form button[type=submit]")
    page.wait_for_url("**/kk/me/proposals/")
    card = page.locator("article.card", has_text=TITLE)
    pending = _label(labels.STATUS, "pending", "kk")
    assert pending != "Pending"  # the page really is in Kazakh
    assert pending in card.inner_text()
    proposal = Proposal.objects.get(title=TITLE)
    assert (proposal.status, proposal.language) == ("pending", "kk")

    # A pending proposal is not public.
    assert public.go(f"/ru/proposals/{proposal.pk}/").status == 404
    public.problems.clear()  # the 404 itself is logged by the browser

    # A moderator finds it in the queue and approves it with one more theme.
    moderator = visitor()
    _sign_in(moderator, "ru", "moderator@demo.civic.kz")
    moderator.go("/ru/moderation/?q=велосипед")
    moderator.page.locator("article.card", has_text=TITLE).get_by_role("link").first.click()
    moderator.page.wait_for_url(f"**/ru/moderation/{proposal.pk}/")
    assert moderator.page.is_checked("input[name=themes][value=transport]")
    moderator.page.check("input[name=themes][value=urban_planning]")
    moderator.page.check("input[name=decision][value=approve]")
    moderator.page.click("#decision-form .actions button[type=submit]")
    moderator.page.wait_for_url("**/ru/moderation/")
    assert proposal.code in moderator.page.locator(".messages").inner_text()
    proposal.refresh_from_db()
    assert proposal.status == "published"
    assert sorted(proposal.themes.values_list("slug", flat=True)) == [
        "transport",
        "urban_planning",
    ]

    # The public sees it, and the tally moved.
    response = public.go(f"/proposals/{proposal.pk}/")
    assert response.url.endswith(f"/ru/proposals/{proposal.pk}/")
    assert TITLE in public.page.locator("h1").inner_text()
    assert _published_count(public) == published_before + 1

    # The resident reacts to it.
    resident.go(f"/kk/proposals/{proposal.pk}/")
    page.click("button[name=kind][value=like]")
    page.wait_for_load_state()
    assert page.get_attribute("button[name=kind][value=like]", "aria-pressed") == "true"

    # An analyst filters down to it: Kazakh proposals about transport with the word.
    analyst = visitor()
    _sign_in(analyst, "en", "analyst@demo.civic.kz")
    analyst.go("/en/analysis/")
    analyst.page.select_option("#f-language", "kk")
    analyst.page.check("fieldset.themes input[value=transport]")
    analyst.page.fill("#f-q", "Бөкейханов")
    analyst.page.click("form.filters button[type=submit]")
    analyst.page.wait_for_load_state()
    assert "language=kk" in analyst.page.url
    cards = analyst.page.locator("article.card")
    assert cards.count() == 1
    assert TITLE in cards.first.inner_text()
    assert "1 proposal matches" in analyst.page.locator("main").inner_text()


def test_a_resident_without_javascript_can_still_submit(chromium, live_server):
    demo_load()
    context = chromium.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    page.goto("/ru/login/")
    page.fill("#id_username", "aigerim.s@demo.civic.kz")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/kk/")
    page.goto("/ru/proposals/new/?strategy=almaty-2050")
    page.fill("#id_title", "Больше скамеек в сквере")
    page.fill(
        "#id_body", "Поставить скамейки вдоль аллей сквера, чтобы пожилым было где отдохнуть."
    )
    page.click("main form.proposal-form button[type=submit]")
    page.wait_for_url("**/ru/me/proposals/")
    assert Proposal.objects.filter(title="Больше скамеек в сквере", status="pending").exists()
    context.close()


def test_a_resident_told_of_a_similar_proposal_reacts_to_it_instead(visitor):
    """Before submitting, an English-speaking resident on a phone is shown the published
    proposal nearly the same as theirs, and reacts to it instead of filing a copy."""
    demo_load()
    published = (
        Proposal.objects.filter(status="published", language="en", fingerprint__isnull=False)
        .order_by("id")
        .first()
    )
    count = Proposal.objects.count()
    resident = visitor(width=360, height=780)
    page = resident.page
    _sign_in(resident, "en", "aigerim.s@demo.civic.kz")
    resident.go("/en/proposals/new/?strategy=almaty-2050")
    page.fill("#id_title", published.title)
    # The same text, retyped with a few changes, as a campaign's next sender would.
    page.fill("#id_body", published.body.replace(".", "!", 1).lower() + " Thank you.")
    page.click("main form.proposal-form button[type=submit]")
    page.wait_for_load_state()
    similar = page.locator("section.similar")
    assert similar.is_visible()
    # Announced and focused, as form errors are: nothing was filed, and this says why.
    assert page.evaluate("document.activeElement.id") == "similar"
    assert published.code in similar.inner_text()
    assert Proposal.objects.count() == count  # nothing filed yet

    similar.get_by_role("link", name=re.compile(published.code)).click()
    page.wait_for_url(f"**/en/proposals/{published.pk}/")
    page.click("button[name=kind][value=like]")
    page.wait_for_load_state()
    assert page.get_attribute("button[name=kind][value=like]", "aria-pressed") == "true"
    assert Proposal.objects.count() == count

    # Had they wanted to file it anyway, the form still says so and takes it.
    resident.go("/en/proposals/new/?strategy=almaty-2050")
    page.fill("#id_title", published.title)
    page.fill("#id_body", published.body)
    page.click("main form.proposal-form button[type=submit]")
    page.wait_for_load_state()
    page.click("main form.proposal-form button[type=submit]")
    page.wait_for_url("**/en/me/proposals/")
    assert Proposal.objects.count() == count + 1
