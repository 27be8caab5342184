"""The live chat pages in real headless Chromium: the queue updates without reloading, a join
from the rendered row, live messages shown as text, a reply sent with fetch (CSP: own script only)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from clinic.handoff.crypto import build_cipher
from clinic.live_chat.feed import Feed
from clinic.live_chat.sealed_events import seal
from tests.clinic.live_chat.conftest import CASEY, PASSWORD, FakeRasa
from tests.support.inbox import served

pytestmark = pytest.mark.slow  # a browser

HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


@pytest.fixture
def server(inbox_app: tuple[Any, ...]) -> Iterator[tuple[str, tuple[Any, ...]]]:
    with served(inbox_app[0]) as url:
        yield url, inbox_app


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_queue_join_live_message_and_reply(
    server: tuple[str, tuple[Any, ...]], page: Page, fake_rasa: FakeRasa, key: str
) -> None:
    base, (_, _, live, hub) = server
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(f"{base}/sign-in?next=/live")
    page.get_by_label("Username").fill(CASEY)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Live chat", exact=True)).to_be_visible()
    expect(page.get_by_text("No visitor is waiting.")).to_be_visible()

    reference = live.request(
        "conv-browser", "visitor_asked", ["knee"], {"knee": "Knee <b>injections</b>"}
    ).reference
    hub.publish({"type": "queue"})
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_be_visible()  # no reload
    expect(row).to_contain_text("Knee <b>injections</b>")
    expect(page).to_have_title(__import__("re").compile(r"^\(1\) Visitor waiting"))

    row.get_by_role("button", name="Join").click()
    expect(page.get_by_text("You joined the chat.")).to_be_visible()
    assert live.get(reference).status == "joined"

    feed = Feed(live, hub, build_cipher(key))
    deadline = time.monotonic() + 10
    while hub.subscribers == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    event = {
        "sender_id": "conv-browser",
        "event": "user",
        "timestamp": time.time(),
        "text": HOSTILE,
        "intent": "crisis",
    }
    feed.handle(seal(event, build_cipher(key)))
    expect(page.locator("[data-transcript] li").last).to_contain_text(HOSTILE)
    expect(page.get_by_role("alert").filter(has_text="Safety alert")).to_be_visible()

    page.get_by_label("Your reply (plain text)").fill("Please call 988 now; I am here.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Sent.", exact=True)).to_be_visible()
    said = fake_rasa.requests[-1].body[0]
    assert (
        said["text"] == "Please call 988 now; I am here."
        and said["data"]["custom"]["data"]["name"] == "Casey"
    )
    assert page.evaluate("window.__pwned") is None
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []
    assert [p for p in problems if not p.startswith("Failed to load resource")] == []  # favicon 404
