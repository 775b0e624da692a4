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
