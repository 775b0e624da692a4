"""Every page in ru, kk and en at phone and desktop widths: readable without sideways
scrolling, every field labelled, nothing blocked by the Content-Security-Policy.

The screenshots land in artifacts/screenshots/ (git-ignored), kept by CI as artifacts.
"""

import pytest

from civic.accounts.models import User
from proposals.demo import DEMO_PASSWORD, demo_load
from proposals.models import Proposal, Report
from proposals.reports.services import report_order
from strategy.models import Strategy
from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WIDTHS = {"phone": (360, 740), "desktop": (1280, 900)}

# Inputs with no label, no aria-label and no aria-labelledby; hidden ones do not count.
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length)
    && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
  .map(e => e.name || e.id)"""


# What sticks out past the right edge (tables scroll in their own region), to name the culprit.
WIDE = """(width) => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > width + 1)
  .filter(e => !e.closest('.table-scroll'))
  .slice(0, 5).map(e => e.tagName + '.' + e.className)"""


def _pages() -> dict[str | None, list[tuple[str, str]]]:
    published = Proposal.objects.filter(status="published").order_by("id").first()
    pending = Proposal.objects.filter(status="pending").order_by("created_at", "id").first()
    asked = Proposal.objects.filter(status="changes_requested").order_by("id").first()
    return {
        None: [
            ("home", "/"),
            ("strategy", "/strategies/almaty-2050/"),
            ("tallies", "/strategies/almaty-2050/tallies/"),
            ("proposals", "/proposals/?ordering=-reactions"),
            ("proposal", f"/proposals/{published.pk}/"),
            ("summary", "/strategies/almaty-2050/summary/"),
            ("versions", "/strategies/almaty-2050/versions/"),
            ("versions-compare", "/strategies/almaty-2050/versions/1/compare/2/"),
            ("signup", "/signup/"),
            ("login", "/login/"),
            ("password-reset", "/password-reset/"),
        ],
        asked.author.email: [
            ("submit", "/proposals/new/?strategy=almaty-2050"),
            ("my-proposals", "/me/proposals/"),
            ("edit", f"/proposals/{asked.pk}/edit/"),
        ],
        "moderator@demo.civic.kz": [
            ("moderation-queue", "/moderation/"),
            ("moderation-decide", f"/moderation/{pending.pk}/?dup_q=парк"),
            ("moderation-history", "/moderation/history/"),
        ],
        "responder@demo.civic.kz": [
            ("answers-queue", "/answers/"),
            ("answer", f"/answers/{published.pk}/"),
        ],
        "analyst@demo.civic.kz": [
            ("analysis", "/analysis/?status=published&theme=transport"),
            ("reports", "/analysis/reports/"),
            ("duplicates", "/analysis/duplicates/"),
        ],
    }


def test_every_page_in_every_language_at_phone_and_desktop_width(visitor, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    demo_load()
    # One report built and one waiting, so the reports page shows both states.
    analyst = User.objects.get(email="analyst@demo.civic.kz")
    report_order(user=analyst, strategy_slug="almaty-2050", format="csv", filters={})
    Report.objects.create(ordered_by=analyst, strategy=Strategy.objects.get(), format="xlsx")
    pages = _pages()
    checked = 0
    for width_name, (width, height) in WIDTHS.items():
        for email, paths in pages.items():
            person = visitor(width=width, height=height)
            if email:
                person.go("/ru/login/")
                person.page.fill("#id_username", email)
                person.page.fill("#id_password", DEMO_PASSWORD)
                person.page.click("main form button[type=submit]")
                person.page.wait_for_load_state()
            for language in ("ru", "kk", "en"):
                for name, path in paths:
                    response = person.go(f"/{language}{path}")
                    where = f"{language} {width_name} {name}"
                    assert response.status == 200, where
                    assert person.page.get_attribute("html", "lang") == language, where
                    scroll = person.page.evaluate("document.documentElement.scrollWidth")
                    assert scroll <= width, (where, scroll, person.page.evaluate(WIDE, width))
                    assert person.page.evaluate(UNLABELLED) == [], where
                    folder = SCREENSHOTS / language / width_name
                    folder.mkdir(parents=True, exist_ok=True)
                    person.page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
                    checked += 1
    assert checked == 2 * 3 * sum(len(paths) for paths in pages.values())
