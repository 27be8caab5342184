"""The widget enforces the channels' message length limit visibly, and never cuts a visitor's
words (issue 9, finding 3): a counter near the limit, a clear message over it, nothing sent
until the visitor shortens the message, emoji counted as one character as the server counts
them. Real Chromium, real widget, real Rasa."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from clinic.channels.visitor_input import MAX_MESSAGE_CHARS
from tests.widget.conftest import REPLY_TIMEOUT, Chat

pytestmark = pytest.mark.slow  # a browser and a Rasa server


@pytest.fixture
def page(chat: Chat) -> Page:
    """The widget open on the demo page (the widget tests' shared stack)."""
    chat.goto().open()
    return chat.page


def test_a_message_over_the_limit_is_explained_kept_and_not_sent(page: Page) -> None:
    box = page.get_by_role("textbox", name="Type your question")
    counter = page.locator("#cw-counter")
    words = "is the iv safe? " * 70
    box.fill(words[: MAX_MESSAGE_CHARS - 300])
    expect(counter).to_be_hidden()
    box.fill(words[:MAX_MESSAGE_CHARS])
    expect(counter).to_have_text(f"{MAX_MESSAGE_CHARS:,} / {MAX_MESSAGE_CHARS:,} characters")
    box.fill(words[: MAX_MESSAGE_CHARS + 1])
    expect(counter).to_contain_text(f"{MAX_MESSAGE_CHARS + 1:,} / {MAX_MESSAGE_CHARS:,} characters: too long")
    expect(box).to_have_attribute("aria-invalid", "true")
    box.press("Enter")
    page.wait_for_timeout(500)
    assert page.locator(".msg.user").count() == 0, "not sent"
    assert box.input_value() == words[: MAX_MESSAGE_CHARS + 1], "kept whole for the visitor to shorten"


def test_emoji_count_as_one_character_like_on_the_server(page: Page) -> None:
    box = page.get_by_role("textbox", name="Type your question")
    box.fill("😀" * MAX_MESSAGE_CHARS)
    expect(page.locator("#cw-counter")).to_have_text(
        f"{MAX_MESSAGE_CHARS:,} / {MAX_MESSAGE_CHARS:,} characters"
    )
    expect(box).not_to_have_attribute("aria-invalid", "true")


def test_a_message_at_the_limit_is_sent_and_answered(page: Page) -> None:
    box = page.get_by_role("textbox", name="Type your question")
    box.fill(("how is the therapy given? " * 50)[:MAX_MESSAGE_CHARS])
    box.press("Enter")
    expect(page.locator(".msg.user")).to_have_count(1)
    expect(page.locator("#cw-counter")).to_be_hidden()
    answer = page.locator(".msg.bot:not(.greeting)").filter(has_text="two main ways")
    expect(answer.first).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(page.locator(".msg.bot").filter(has_text="too long")).to_have_count(0)
