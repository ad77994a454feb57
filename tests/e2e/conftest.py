"""Browser fixtures: the real app served over HTTP in a thread, and Debian's Chromium driven by Playwright.

The app, its seeded database and the worker runner are the web tests' fixtures
(tests/web/conftest.py), imported here so both suites share one definition.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

# Fixtures shared with the web tests: `settings` (a per-test SQLite file), `app` (migrated, seeded
# with units, people and the bundled procedures) and `run_worker` (engine.worker.run_once).
from tests.web.conftest import app, run_worker, settings  # noqa: F401

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
#: Playwright's default wait for a locator or navigation, in milliseconds.
TIMEOUT_MS = 15_000

_CALL_REPORT = pytest.StashKey[pytest.TestReport]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[
        None, pytest.TestReport, pytest.TestReport]:
    """Keep the test body's report so the page fixture can tell whether to take a screenshot."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_REPORT] = report
    return report


def artifact_path(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:  # noqa: F811 - the imported fixture, requested by name
    """Serves the app on 127.0.0.1 at a free port (the OS picks it) from a background thread."""
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium. "
                    "Run `make setup` to install it.", pytrace=False)
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(chromium: Browser, live_server: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context per test (no shared cookies), in Vietnamese, on Đồng Tháp time.

    Depends on `live_server`, so the context (and its keep-alive connections) is closed before
    the server stops. On failure the page is saved under test-artifacts/.
    """
    context: BrowserContext = chromium.new_context(
        base_url=live_server, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    try:
        yield tab
    finally:
        report = request.node.stash.get(_CALL_REPORT, None)
        if report is not None and report.failed:
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
            tab.screenshot(path=artifact_path(f"FAILED-{name}.png"), full_page=True)
        context.close()
