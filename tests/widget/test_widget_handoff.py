"""Asking for a care coordinator through the widget: the handoff form, end to end.

The form is the lead's (actions/handoff_form.py, actions/handoff_submit.py). Contract: the bot
asks in turn for the name, how to contact (Email / Phone buttons), the address or number, the
best time (Skip), what to discuss (Skip) and consent (Yes, I agree / No), then sends a text with
the reference and a custom {kind: "handoff_confirmed", reference, expected_contact}.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from clinic.handoff.requests import HandoffStore
from tests.widget.conftest import REPLY_TIMEOUT, Chat

pytestmark = pytest.mark.slow  # a browser and a Rasa server

NAME = "Maria López-Example"
EMAIL = "maria.lopez@example.org"


def test_handoff_through_the_widget(chat: Chat) -> None:
    chat.goto().open()
    chat.ask_and_wait("what are the risks of the iv drip", "through a vein")

    chat.ask_and_wait("I'd like to talk to a care coordinator", "name")
    chat.ask_and_wait(NAME, "How would you like us to reach you")

    email = chat.reply_button("Email")
    expect(chat.reply_button("Phone")).to_be_visible()
    email.click()
    expect(chat.user_messages.last).to_have_text("You: Email")
    expect(chat.bot_message("email address")).to_be_visible(timeout=REPLY_TIMEOUT)

    chat.ask_and_wait(EMAIL, "best time")
    chat.reply_button("Skip").click()
    expect(chat.bot_message("What would you like to talk about")).to_be_visible(timeout=REPLY_TIMEOUT)
    chat.reply_button("Skip").click()

    consent = chat.bot_message("Do you agree")
    expect(consent).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(consent).to_contain_text(NAME)
    expect(consent).to_contain_text(EMAIL)
    expect(chat.reply_button("No")).to_be_visible()
    # The privacy notice is a link on the clinic's own site.
    privacy = consent.get_by_role("link", name="/privacy")
    expect(privacy).to_have_attribute("href", chat.stack.page("privacy"))
    chat.reply_button("Yes, I agree").click()

    card = chat.log.locator(".msg.handoff .card")
    expect(card).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(card).to_contain_text("Request received")
    reference = card.locator(".reference").inner_text().strip()
    assert reference
    expect(chat.bot_message(reference)).to_be_visible()  # the text message names it too
    expect(card).to_contain_text("A care coordinator will contact you")

    record = HandoffStore.from_settings().get(reference)
    assert record.name == NAME
    assert record.contact_method == "email"
    assert record.contact_value == EMAIL
    assert record.conversation_id == chat.session_id()
    assert "iv_risks" in record.topics

    # The confirmation survives a reload, like the rest of the conversation.
    chat.page.reload()
    chat.open()
    expect(chat.log.locator(".msg.handoff .reference")).to_have_text(reference)
