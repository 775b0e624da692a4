"""The filter form in real headless Chromium: the order menu shows its longest label whole
on a desktop.

Screenshots land in artifacts/screenshots/ as `walkthrough-<what>-<language>.png`.
"""

import pytest

from civic.accounts.services import role_grant
from tests.browser.conftest import SCREENSHOTS
from tests.factories import StrategyFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PASSWORD = "correct horse battery"

# How much narrower the select is than the widest option's text in its own font (<= 0: fits).
# The select's padding and arrow take about 2.5rem besides the text.
SHORTFALL = """() => {
  const select = document.querySelector('#f-ordering');
  const style = getComputedStyle(select);
  const context = document.createElement('canvas').getContext('2d');
  context.font = style.font;
  const widest = Math.max(...[...select.options].map(o => context.measureText(o.text).width));
  return widest + 2.5 * parseFloat(style.fontSize) - select.clientWidth;
}"""


def _sign_in(visitor, language: str, email: str) -> None:
    visitor.go(f"/{language}/login/")
    visitor.page.fill("#id_username", email)
    visitor.page.fill("#id_password", PASSWORD)
    visitor.page.click("main form button[type=submit]")
    visitor.page.wait_for_load_state()


@pytest.mark.parametrize("language", ["ru", "kk", "en"])
def test_the_order_fits_on_a_desktop(visitor, language):
    StrategyFactory(slug="almaty-2050", code_prefix="ALM")
    admin = UserFactory(email="admin@example.org", display_name="Администратор Портала")
    role_grant(user=admin, role="admin")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    desktop = visitor(width=1280, height=900)
    _sign_in(desktop, language, admin.email)
    desktop.go(f"/{language}/proposals/?ordering=-reactions")
    page = desktop.page
    page.screenshot(path=SCREENSHOTS / f"walkthrough-order-1280-{language}.png", full_page=True)
    assert page.evaluate(SHORTFALL) <= 0


# The header on a 360 x 740 phone, signed in as an administrator (every staff link).
PHONE = {"width": 360, "height": 740}


@pytest.mark.parametrize("language", ["ru", "kk", "en"])
def test_the_staff_header_folds_on_a_phone(visitor, language):
    StrategyFactory(slug="almaty-2050", code_prefix="ALM")
    admin = UserFactory(email="admin@example.org", display_name="Администратор Портала")
    role_grant(user=admin, role="admin")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    phone = visitor(**PHONE)
    _sign_in(phone, language, admin.email)
    phone.go(f"/{language}/proposals/")
    page = phone.page
    header = page.locator("header.site")
    links = page.locator("header nav #site-links")
    page.screenshot(path=SCREENSHOTS / f"walkthrough-header-360-{language}.png")
    # Folded: at most a sixth of the screen, and who is signed in still shows.
    assert header.bounding_box()["height"] <= PHONE["height"] / 6
    assert "Администратор Портала" in header.inner_text()
    assert not links.is_visible()
    sign_out = page.locator("header nav .who form button")
    assert not sign_out.is_visible()

    # One tap opens the same links (each once), and one of them leads on.
    toggle = page.locator("header nav button[aria-controls=site-links]")
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert links.is_visible()
    assert sign_out.is_visible()
    reports = page.locator(f"header nav a[href='/{language}/analysis/reports/']")
    assert reports.count() == 1
    page.screenshot(path=SCREENSHOTS / f"walkthrough-header-open-360-{language}.png")
    reports.click()
    page.wait_for_url(f"**/{language}/analysis/reports/")


@pytest.mark.parametrize("javascript", [True, False])
def test_the_staff_header_stays_open_on_a_desktop_and_without_a_script(
    chromium, live_server, javascript
):
    admin = UserFactory(email="admin@example.org", display_name="Администратор Портала")
    role_grant(user=admin, role="admin")
    viewport = {"width": 1280, "height": 900} if javascript else PHONE
    context = chromium.new_context(
        viewport=viewport, base_url=live_server.url, java_script_enabled=javascript
    )
    try:
        page = context.new_page()
        page.goto("/en/login/")
        page.fill("#id_username", admin.email)
        page.fill("#id_password", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("header nav #site-links").is_visible()
        assert page.locator("header nav a[href$='/analysis/reports/']").is_visible()
        assert not page.locator("header nav button[aria-controls=site-links]").is_visible()
    finally:
        context.close()
