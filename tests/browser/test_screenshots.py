"""Every page in ru, kk and en at phone and desktop widths: readable without sideways
scrolling, every field labelled, nothing blocked by the Content-Security-Policy.

The screenshots land in artifacts/screenshots/ (git-ignored), kept by CI as artifacts.
"""

import pytest

from proposals.demo import DEMO_PASSWORD, demo_load
from proposals.models import Proposal
from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WIDTHS = {"phone": (360, 740), "desktop": (1280, 900)}

# Inputs with no label, no aria-label and no aria-labelledby; hidden ones do not count.
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length)
    && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
  .map(e => e.name || e.id)"""


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
        "analyst@demo.civic.kz": [("analysis", "/analysis/?status=published&theme=transport")],
    }


def test_every_page_in_every_language_at_phone_and_desktop_width(visitor):
    demo_load()
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
                    assert scroll <= width, f"{where}: {scroll}px wide"
                    assert person.page.evaluate(UNLABELLED) == [], where
                    folder = SCREENSHOTS / language / width_name
                    folder.mkdir(parents=True, exist_ok=True)
                    person.page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
                    checked += 1
    assert checked == 2 * 3 * sum(len(paths) for paths in pages.values())
