"""Real headless Chromium, driven by Playwright, against pages served by a live server.

Chromium comes from the system (Debian's `chromium`; `.ci/run` installs it), never
downloaded by Playwright. Without it these tests skip and say why, unless
CIVIC_REQUIRE_BROWSER is set (CI sets it): then a missing browser is a failure.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = os.environ.get("CIVIC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

# The flags Chromium needs on a machine with no network and no screen, run as root.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(autouse=True)
def _form_fill_time_of_a_fast_typist(settings):
    # Playwright fills a form in milliseconds, faster than the production minimum (3 s).
    # Above zero the check is on: each form must carry the page's signed stamp and an
    # empty honeypot through a real browser, as a person's does.
    settings.CIVIC_FORM_MIN_SECONDS = 0.01


@pytest.fixture
def chromium():
    """A browser per test, not per session: Playwright's sync API runs what follows its
    start in another greenlet, where Django opens new connection objects. Kept to the
    test's own body, the database set-up and flush around it stay on the connections
    that carry the serialized migration data (themes, districts, roles)."""
    if not Path(CHROMIUM).exists():
        reason = f"needs Chromium at {CHROMIUM} (apt-get install chromium, as .ci/run does)"
        if os.environ.get("CIVIC_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls
    # (reading the outbox's link, checking rows) are ordinary blocking calls beside it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # The connections this greenlet opened would otherwise keep the test database busy.
        connections.close_all()


class Visitor:
    """One person in their own browser context (cookies, language), with checks that
    hold on every page: no Content-Security-Policy violation, no failed request."""

    def __init__(self, browser, base_url: str, *, width: int = 1280, height: int = 900):
        self.context = browser.new_context(
            viewport={"width": width, "height": height}, base_url=base_url, locale="en-US"
        )
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on(
            "console",
            lambda message: self.problems.append(message.text) if message.type == "error" else None,
        )
        self.page.on("pageerror", lambda error: self.problems.append(str(error)))
        self.page.on(
            "requestfailed", lambda request: self.problems.append(f"failed: {request.url}")
        )
        self.base_url = base_url

    def go(self, path: str):
        response = self.page.goto(path)
        assert response is not None
        return response

    def close(self) -> None:
        self.context.close()
        assert self.problems == [], self.problems


@pytest.fixture
def visitor(chromium, live_server):
    visitors: list[Visitor] = []

    def make(**kwargs) -> Visitor:
        visitor = Visitor(chromium, live_server.url, **kwargs)
        visitors.append(visitor)
        return visitor

    yield make
    for visitor in visitors:
        visitor.close()
