"""The connection drops mid-conversation: Rasa is stopped and started again on the same port."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from clinic.stack.local import RasaStack
from tests.widget.conftest import REPLY_TIMEOUT, Chat, faq_response

pytestmark = pytest.mark.slow  # a browser and a Rasa server


def test_offline_notice_queue_and_reconnect(chat: Chat, stack: RasaStack) -> None:
    chat.goto().open()
    chat.ask_and_wait("hello", "What would you like to know")
    session = chat.session_id()

    stack.stop_rasa()
    try:
        expect(chat.status).to_contain_text("can't reach the assistant", timeout=10_000)
        expect(chat.status).to_be_visible()

        # A message typed while offline is kept, marked as not sent yet.
        chat.ask("what are the risks of the iv drip")
        expect(chat.user_messages.last).to_contain_text("what are the risks of the iv drip")
        expect(chat.user_messages.last.locator(".pending-note")).to_be_visible()
        expect(chat.status).to_contain_text("will be sent as soon as the connection is back")
        chat.page.wait_for_timeout(1000)
        expect(chat.bot_messages).to_have_count(2)  # notice + greeting: nothing new
    finally:
        stack.start_rasa()

    # socket.io reconnects by itself (backoff of at most 8 s); the queued message is sent.
    iv = faq_response("iv_risks")["text"][:60]
    expect(chat.bot_message(iv)).to_be_visible(timeout=30_000)
    expect(chat.user_messages.last.locator(".pending-note")).to_have_count(0)
    expect(chat.status).to_contain_text("Back online")
    assert chat.session_id() == session  # the same conversation

    # ...and goes on.
    chat.ask_and_wait("hello", "What would you like to know")
    chat.reply_button("How is it given?").click()
    expect(chat.bot_message(faq_response("routes")["text"][:50])).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(chat.log.locator(".msg.notice")).to_have_count(1)  # still the first session
