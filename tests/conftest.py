"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from clinic.devtools.browser import launch_chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """A headless Debian Chromium per test module (widget, inbox and preview tests). Not per
    session: Playwright's sync API keeps an event loop running while it is open, and the tests
    that call `asyncio.run` would fail after it."""
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()
