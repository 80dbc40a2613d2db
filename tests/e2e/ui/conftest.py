"""Browser tests of the Airflow UI: Playwright drives Debian's chromium against the e2e stack.

The stack is the e2e tier's (tests/e2e/conftest.py, one per session). Chromium is the system's
(system-packages.txt installs it): Playwright's own browser download is never used. Each test saves
a screenshot of every step under one folder, printed at the end of the session.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.ui]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A laptop screen, the smallest a user is likely to read the forms on: the trigger dialog does not fit
# in it, so what a test sees there a user sees too (a refusal's alert above the fold, for one).
VIEWPORT = {"width": 1366, "height": 768}
# A loaded machine renders slowly; every wait on the page has this deadline unless it says otherwise.
PAGE_TIMEOUT_MS = 60_000

_SCREENSHOT_FOLDERS: list[Path] = []


@pytest.fixture(scope="session")
def screenshot_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """UI_SCREENSHOTS, or a fresh temporary folder; printed when the session ends."""
    chosen = os.environ.get("UI_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("ui-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    _SCREENSHOT_FOLDERS.append(folder)
    return folder


# Package scope, not session: while sync_playwright is open its event loop stays the thread's running
# loop, so every asyncio.run() in a later tier (the triggers' tests, dag.test() running a trigger
# inline) would fail with "cannot be called from a running event loop". Closing it when this package
# ends gives the thread back.
@pytest.fixture(scope="package")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (system-packages.txt)", pytrace=False)
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
        )
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        expect.set_options(timeout=PAGE_TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser_context: Any) -> Iterator[Any]:
    page = browser_context.new_page()
    try:
        yield page
    finally:
        page.close()


@pytest.fixture
def shoot(page: Any, screenshot_folder: Path, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """shoot("step") saves the page as <test>-<n>-<step>.png in the screenshot folder."""
    test = re.sub(r"[^a-zA-Z0-9_-]+", "-", request.node.name).strip("-")
    taken: list[Path] = []

    def take(step: str) -> Path:
        path = screenshot_folder / f"{test}-{len(taken) + 1:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path)
        return path

    return take


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed browser test leaves a screenshot of the page as it was."""
    outcome = yield
    report = outcome.get_result()
    page = getattr(item, "funcargs", {}).get("page")
    if report.when == "call" and report.failed and page is not None and _SCREENSHOT_FOLDERS:
        name = re.sub(r"[^a-zA-Z0-9_-]+", "-", item.name).strip("-")
        path = _SCREENSHOT_FOLDERS[0] / f"{name}-failed.png"
        try:
            page.screenshot(path=str(path), full_page=True)
        except Exception as error:  # the browser itself may be what failed
            report.sections.append(("screenshot", f"no screenshot: {error}"))
        else:
            report.sections.append(("screenshot", str(path)))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for folder in _SCREENSHOT_FOLDERS:
        terminalreporter.write_line(f"UI screenshots: {folder}")
