"""`make bench-live-chat`: how long a live chat message takes to reach the other side, both ways.

Real servers (clinic/stack/local.py: action server, Rasa with its API and event broker, the widget's
demo server, the inbox as `make run` starts it) and real Chromium: a visitor in the widget, a
coordinator in the inbox, in two browser contexts. The coordinator's messages are posted as the
inbox page posts them; the time runs from the post until the widget shows the text (a
MutationObserver in the page notes when). The visitor's messages run from typing Enter until the
coordinator's page shows them (Rasa -> event broker -> the inbox's feed -> server-sent events).
Prints p50, p95 and the maximum of each; `--screenshots` also writes both sides to docs/screenshots/.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import patch

import yaml
from playwright.sync_api import Browser, Page, expect, sync_playwright

from clinic.devtools.browser import DESKTOP, PHONE, launch_chromium
from clinic.handoff.crypto import generate_key
from clinic.handoff.requests import HandoffStore
from clinic.live_chat.store import LiveChatStore
from clinic.settings import load_settings
from clinic.stack.local import ROOT, RasaStack, inbox_server, widget_stack

PASSWORD = secrets.token_urlsafe(16)
TIMEOUT = 30_000  # ms
SCREENSHOTS = ROOT / "docs" / "screenshots"
EXCHANGE = [
    ("coordinator", "Hi, I'm Casey, one of the clinic's care coordinators. How can I help?"),
    ("visitor", "I'm 67 and my left knee hurts when I walk. Could the knee injection be an option for me?"),
    (
        "coordinator",
        "That's a question for our doctor. I can book you a free consultation: would mornings suit you?",
    ),
]
WATCH = """(prefix) => {
    window.__seen = {};
    const root = document.querySelector("#clinic-chat-widget").shadowRoot;
    new MutationObserver(() => {
        for (const match of root.querySelector(".log").textContent.matchAll(new RegExp(prefix + " (\\\\d+)", "g"))) {
            window.__seen[match[1]] ??= Date.now();
        }
    }).observe(root, { childList: true, subtree: true, characterData: true });
}"""


def always_open_config(folder: Path) -> Path:
    """The clinic's settings with office hours every day, all day (a coordinator is available)."""
    data = yaml.safe_load((ROOT / "content" / "clinic.yml").read_text(encoding="utf-8"))
    data["office_hours"] = {
        "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "open": "00:00",
        "close": "23:59",
    }
    path = folder / "clinic.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def live_chat_env(folder: Path) -> dict[str, str]:
    """Settings every server shares for a live chat run: a fresh handoff store and keys in
    `folder`, and office hours all day (so a coordinator can be available whenever it runs)."""
    return {
        "CLINIC_ENV": "development",
        "CLINIC_CONFIG": str(always_open_config(folder)),
        "HANDOFF_DATABASE_URL": f"sqlite:///{folder / 'handoffs.db'}",
        "HANDOFF_ENCRYPTION_KEY": generate_key(),
        "INBOX_SECRET_KEY": secrets.token_urlsafe(32),
    }


@contextmanager
def servers(folder: Path, token: str) -> Iterator[tuple[RasaStack, str]]:
    env = live_chat_env(folder)
    with patch.dict(os.environ, env), widget_stack(extra_env=env, api_token=token) as stack:
        settings = load_settings()
        HandoffStore.from_settings(settings).create_coordinator("casey", PASSWORD)
        LiveChatStore.from_settings(settings).set_display_name("casey", "Casey")
        with inbox_server(stack, token) as inbox:
            yield stack, inbox


def coordinator_page(browser: Browser, inbox: str) -> Page:
    page = browser.new_context(viewport=DESKTOP).new_page()
    page.goto(f"{inbox}/sign-in?next=/live")
    page.get_by_label("Username").fill("casey")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Set me available").click()
    return page


def visitor_page(browser: Browser, stack: RasaStack) -> Page:
    page = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    page.goto(stack.page())
    page.get_by_role("button", name="Chat with us").click()
    box = page.get_by_role("textbox", name="Type your question")
    box.fill("Can I talk to a real person about my knee?")
    box.press("Enter")
    page.get_by_role("button", name="Chat with a coordinator now").click()
    expect(page.get_by_text("Waiting for a coordinator").first).to_be_visible(timeout=TIMEOUT)
    return page


def coordinator_to_visitor(coordinator: Page, visitor: Page, runs: int) -> list[float]:
    """Milliseconds from the inbox's post to the text in the widget, per message."""
    visitor.evaluate(WATCH, "From Casey, message")
    token = coordinator.locator("input[name=csrf_token]").first.get_attribute("value")
    url = coordinator.url.split("?")[0] + "/say"
    sent = {}
    for n in range(runs):
        sent[str(n)] = time.time() * 1000
        response = coordinator.request.post(
            url,
            form={"text": f"From Casey, message {n}", "csrf_token": token},
            headers={"Accept": "application/json"},
        )
        assert response.ok, response.status
        visitor.wait_for_function("(n) => window.__seen[n] !== undefined", arg=str(n), timeout=TIMEOUT)
    seen = visitor.evaluate("() => window.__seen")
    return [seen[n] - sent[n] for n in sent]


def visitor_to_coordinator(coordinator: Page, visitor: Page, runs: int) -> list[float]:
    """Milliseconds from the visitor's Enter to the text on the coordinator's page, per message."""
    box = visitor.get_by_role("textbox", name="Type your question")
    timings = []
    for n in range(runs):
        text = f"From the visitor, message {n}"
        box.fill(text)
        started = time.time() * 1000
        box.press("Enter")
        coordinator.locator("[data-transcript]").get_by_text(text, exact=True).wait_for(timeout=TIMEOUT)
        timings.append(time.time() * 1000 - started)
    return timings


def screenshots(coordinator: Page, visitor: Page) -> None:
    """Both sides of a short live chat, for the guides (docs/screenshots/live-chat-*.png)."""
    for speaker, text in EXCHANGE:
        if speaker == "coordinator":
            coordinator.get_by_label("Your reply (plain text)").fill(text)
            coordinator.get_by_role("button", name="Send", exact=True).click()
            expect(visitor.get_by_text(text)).to_be_visible(timeout=TIMEOUT)
        else:
            box = visitor.get_by_role("textbox", name="Type your question")
            box.fill(text)
            box.press("Enter")
            expect(coordinator.locator("[data-transcript]").get_by_text(text)).to_be_visible(timeout=TIMEOUT)
    visitor.screenshot(path=str(SCREENSHOTS / "live-chat-widget.png"))
    coordinator.screenshot(path=str(SCREENSHOTS / "live-chat-inbox.png"), full_page=True)
    print(f"Screenshots written to {SCREENSHOTS}/live-chat-widget.png and live-chat-inbox.png")


def report(name: str, timings: list[float]) -> None:
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(
        f"{name}: {len(ordered)} messages, p50 {statistics.median(ordered):.0f} ms, "
        f"p95 {p95:.0f} ms, max {ordered[-1]:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="messages each way (default 40)")
    parser.add_argument("--screenshots", action="store_true", help="write both sides to docs/screenshots/")
    args = parser.parse_args()
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"live-chat-bench-{secrets.token_hex(4)}"
    folder.mkdir(parents=True)
    with servers(folder, secrets.token_urlsafe(16)) as (stack, inbox), sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        coordinator = coordinator_page(browser, inbox)
        visitor = visitor_page(browser, stack)
        coordinator.get_by_role("button", name="Join", exact=True).last.click()
        expect(visitor.get_by_text("Casey (care coordinator) joined the chat").first).to_be_visible(
            timeout=TIMEOUT
        )
        if args.screenshots:
            screenshots(coordinator, visitor)
        report("coordinator -> widget", coordinator_to_visitor(coordinator, visitor, args.runs))
        report("widget -> inbox", visitor_to_coordinator(coordinator, visitor, args.runs))
        browser.close()


if __name__ == "__main__":
    main()
