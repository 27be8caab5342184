"""Fixtures for the widget's browser tests: real Chromium (Playwright, sync API), real Rasa.

One set of servers for the whole session (clinic/stack/local.py: widget_stack): action server, Rasa with
the project's model and socket.io channel, and widget/serve.py serving the demo pages with the
built widget. Every test gets a fresh browser context, so a fresh localStorage: a new visitor.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from clinic.devtools.browser import DESKTOP
from clinic.handoff.crypto import generate_key
from clinic.stack.local import ROOT, RasaStack, widget_stack

REPLY_TIMEOUT = 20_000  # ms: a Rasa round trip (NLU + actions) on a slow CI machine


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def faq_response(topic: str) -> dict[str, Any]:
    """The curated answer for a topic, as built into data/nlu/faq.yml (text + source data)."""
    data = yaml.safe_load((ROOT / "data" / "nlu" / "faq.yml").read_text(encoding="utf-8"))
    response = data["responses"][f"utter_faq/{topic}"][0]
    return {"text": normalise(response["text"]), **response.get("custom", {}).get("data", {})}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaStack]:
    handoff_dir: Path = tmp_path_factory.mktemp("handoffs")
    env = {
        "CLINIC_ENV": "development",
        "HANDOFF_DATABASE_URL": f"sqlite:///{handoff_dir / 'handoffs.db'}",
        "HANDOFF_ENCRYPTION_KEY": generate_key(),
    }
    with widget_stack(extra_env=env) as running:
        yield running


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    running = item.funcargs.get("stack") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(running, RasaStack):
        report.sections.append(("server logs", running.logs()))


class Chat:
    """The demo site with the widget, as a visitor uses it."""

    def __init__(self, page: Page, stack: RasaStack) -> None:
        self.page = page
        self.stack = stack
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("dialog", self._on_dialog)

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    # -------------------------------------------------------------------- navigation

    def goto(self, name: str = "") -> Chat:
        self.page.goto(self.stack.page(name))
        expect(self.launcher).to_be_visible()
        return self

    @property
    def launcher(self) -> Locator:
        return self.page.get_by_role("button", name="Chat with us")

    @property
    def panel(self) -> Locator:
        return self.page.get_by_role("dialog", name="Clinic assistant")

    @property
    def log(self) -> Locator:
        return self.page.get_by_role("log", name="Conversation")

    @property
    def input(self) -> Locator:
        return self.page.get_by_role("textbox", name="Type your question")

    @property
    def status(self) -> Locator:
        return self.panel.get_by_role("status")

    def open(self) -> Chat:
        if self.launcher.get_attribute("aria-expanded") != "true":
            self.launcher.click()
        expect(self.panel).to_be_visible()
        # Let the opening animation finish, so sizes and positions are final.
        self.panel.evaluate("el => Promise.all(el.getAnimations().map((a) => a.finished))")
        return self

    # -------------------------------------------------------------------- messages

    @property
    def bot_messages(self) -> Locator:
        """Messages from Rasa (not the widget's own greeting)."""
        return self.log.locator(".msg.bot:not(.greeting)")

    @property
    def user_messages(self) -> Locator:
        return self.log.locator(".msg.user")

    def bot_message(self, containing: str) -> Locator:
        return self.bot_messages.filter(has_text=containing)

    def ask(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")

    def ask_and_wait(self, text: str, expected: str) -> Locator:
        """Send `text` and wait for a bot message containing `expected`."""
        before = self.bot_messages.count()
        self.ask(text)
        expect(self.bot_messages).not_to_have_count(before, timeout=REPLY_TIMEOUT)
        message = self.bot_message(expected).last
        expect(message).to_be_visible(timeout=REPLY_TIMEOUT)
        return message

    def reply_button(self, title: str) -> Locator:
        return self.log.get_by_role("button", name=title, exact=True)

    def storage(self) -> dict[str, Any]:
        """The widget's localStorage entries (session id, history)."""
        return self.page.evaluate(
            """() => Object.fromEntries(Object.keys(localStorage)
                 .filter((key) => key.startsWith("clinic-chat:"))
                 .map((key) => [key, JSON.parse(localStorage.getItem(key))]))"""
        )

    def session_id(self) -> str | None:
        entries = self.storage()
        return entries.get(f"clinic-chat:{self.stack.rasa_url}:session")

    def focused(self) -> dict[str, Any]:
        """What has the keyboard focus, looking inside the widget's shadow root."""
        return self.page.evaluate(
            """() => {
                let el = document.activeElement;
                while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
                return el ? { tag: el.tagName.toLowerCase(), id: el.id, cls: el.className || "",
                              label: el.getAttribute("aria-label") || (el.textContent || "").trim() } : {};
            }"""
        )


def new_context(browser: Browser, **options: Any) -> BrowserContext:
    options.setdefault("viewport", DESKTOP)
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = new_context(browser)
    yield ctx
    ctx.close()


@pytest.fixture
def chat(context: BrowserContext, stack: RasaStack) -> Iterator[Chat]:
    visitor = Chat(context.new_page(), stack)
    yield visitor
    assert visitor.errors == [], f"JavaScript errors on the page: {visitor.errors}"
    assert visitor.dialogs == [], f"unexpected dialogs: {visitor.dialogs}"
