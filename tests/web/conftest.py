"""Browser tests: the app served by a real HTTP server thread (werkzeug, 127.0.0.1, a free port) on the
test database, driven by Playwright through Debian's Chromium (/usr/bin/chromium, never a downloaded one).

One browser per session; one context (cookie jar) per person. Every page is watched: a request to
anywhere but this server, a script error or a console error fails the test that caused it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
VIEWPORT = {"width": 1366, "height": 768}


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    """The app on a real HTTP server in this process; yields its base URL."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in the test output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, launched once for the whole session."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


class People:
    """Browser sessions of demo users, each logged in through /login, with every page watched."""

    def __init__(self, browser, base_url: str) -> None:
        self.browser, self.base_url = browser, base_url
        self.contexts: list = []
        self.outside: list[str] = []
        self.errors: list[str] = []

    def _watch(self, page) -> None:
        host = urlsplit(self.base_url).netloc
        refused_pages: set[str] = set()  # pages answered 4xx on purpose (a refused form, a forbidden case)

        def on_request(request) -> None:
            parts = urlsplit(request.url)
            if parts.scheme not in ("data", "blob", "about") and parts.netloc != host:
                self.outside.append(request.url)

        def on_response(response) -> None:
            if response.request.resource_type == "document" and 400 <= response.status < 500:
                refused_pages.add(response.url)

        def on_console(msg) -> None:
            expected = msg.text.startswith("Failed to load resource") and msg.location.get("url") in refused_pages
            if msg.type == "error" and not expected:
                self.errors.append(f"console: {msg.text} at {msg.location.get('url')}")

        page.on("request", on_request)
        page.on("response", on_response)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("console", on_console)
        page.on("dialog", lambda dialog: dialog.accept())  # the confirmations of actions

    def login(self, username: str, password: str = "demo123"):
        """A new browser session logged in as `username`; returns its page (on the start page)."""
        context = self.browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        context.on("page", self._watch)  # every tab, the first one and those a link opens
        page = context.new_page()
        page.goto(f"{self.base_url}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("[data-testid=login-submit]")
        page.wait_for_load_state()
        return page

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def people(as_user, browser, live_server) -> Iterator[People]:
    """Browser sessions on a freshly seeded database; at the end: nothing fetched from elsewhere, no script error."""
    crowd = People(browser, live_server)
    yield crowd
    crowd.close()
    assert crowd.outside == [], f"requests outside the platform: {crowd.outside}"
    assert crowd.errors == [], f"script errors: {crowd.errors}"


def screenshot(page, name: str) -> Path:
    """A full-page screenshot at 1366x768 under tests/artifacts/ (looked at by people, kept out of git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
