"""Live chat in the visitor's widget (docs/live-chat.md, "The widget"; docs/reply-contract.md).

Real Chromium, real Rasa with its HTTP API on. The tests play the inbox's part the way the inbox
does it: events appended to the visitor's conversation through Rasa's API, with the side effects
executed, so Rasa itself sends each `bot` event to the visitor's socket.io room (its text, then its
custom payload). The widget must show who wrote what, the live chat's state in a banner (also
after a reload and in another tab), a coordinator's text and name as text only, the rating
question as one row of named buttons, and pass axe-core while a coordinator is in the chat.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from playwright.sync_api import Browser, Locator, expect

from clinic.devtools.browser import PHONE
from clinic.handoff.crypto import generate_key
from clinic.stack.local import RasaStack, widget_stack
from tests.widget.conftest import REPLY_TIMEOUT, Chat, new_context
from tests.widget.test_widget_a11y import AXE, run_axe

pytestmark = pytest.mark.slow  # a browser and a Rasa server

API_TOKEN = secrets.token_urlsafe(24)
COORDINATOR_BORDER = "rgb(67, 56, 202)"  # .coordinator .bubble's left border (widget.css)


@pytest.fixture(scope="module")
def live_chat_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaStack]:
    """The widget's stack with Rasa's HTTP API enabled (the inbox's way in).

    Module-scoped, not session-scoped: `widget_stack` sets CLINIC_ALLOWED_ORIGINS in this process's
    environment for as long as it runs, and a Rasa restarted later by conftest's `stack` (the
    reconnect test) would take this stack's origin and refuse its own widget."""
    handoff_dir: Path = tmp_path_factory.mktemp("live-chat-handoffs")
    env = {
        "CLINIC_ENV": "development",
        "HANDOFF_DATABASE_URL": f"sqlite:///{handoff_dir / 'handoffs.db'}",
        "HANDOFF_ENCRYPTION_KEY": os.environ.get("HANDOFF_ENCRYPTION_KEY") or generate_key(),
    }
    with widget_stack(extra_env=env, api_token=API_TOKEN) as running:
        yield running


@pytest.fixture
def stack(live_chat_stack: RasaStack) -> RasaStack:
    """This module's `chat` fixture (conftest) talks to the stack with the API, and a failing
    test gets its server logs (conftest's report hook looks for `stack`)."""
    return live_chat_stack


# ------------------------------------------------------------------ the inbox's part, through the API


def api(stack: RasaStack, method: str, path: str, body: Any = None, **query: str) -> Any:
    url = f"{stack.url}{path}?{urlencode({**query, 'token': API_TOKEN})}"
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200, response.status
        return json.loads(response.read() or b"null")


def append(stack: RasaStack, conversation: str, *events: dict[str, Any]) -> None:
    """POST /conversations/{id}/tracker/events, as the inbox does (docs/live-chat.md)."""
    api(
        stack,
        "POST",
        f"/conversations/{quote(conversation, safe='')}/tracker/events",
        list(events),
        output_channel="latest",
        execute_side_effects="true",
    )


def bot(text: str, data: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A `bot` event; `data` is its custom payload (the reply contract's `data` object)."""
    event: dict[str, Any] = {"event": "bot", "text": text, "data": dict(fields)}
    if data is not None:
        event["data"]["custom"] = {"data": data}
    return event


def slot(value: str | None) -> dict[str, Any]:
    return {"event": "slot", "name": "live_chat", "value": value}


def join(stack: RasaStack, conversation: str, name: str = "Casey") -> None:
    joined = {"kind": "live_chat", "state": "joined", "coordinator": name}
    append(
        stack,
        conversation,
        {"event": "pause"},
        slot("joined"),
        bot(f"{name} (care coordinator) joined the chat.", joined),
    )


def say(stack: RasaStack, conversation: str, text: str, name: str = "Casey") -> None:
    event = bot(text, {"kind": "coordinator", "name": name})
    event["metadata"] = {"live_chat": {"role": "coordinator", "username": "casey", "name": name}}
    append(stack, conversation, event)


def leave(stack: RasaStack, conversation: str, name: str = "Casey") -> None:
    text = f"{name} left the chat. You're talking to the clinic assistant again."
    append(
        stack,
        conversation,
        {"event": "resume"},
        slot(None),
        bot(text, {"kind": "live_chat", "state": "ended"}),
    )


# ------------------------------------------------------------------ the visitor's side


def start(chat: Chat) -> str:
    """A visitor whose conversation exists in Rasa, with the socket in its room: its id."""
    chat.goto().open()
    chat.ask_and_wait("hello", "What would you like to know")
    conversation = chat.session_id()
    assert conversation
    return conversation


def banner(chat: Chat) -> Locator:
    return chat.panel.get_by_role("status", name="Live chat")


def coordinator_messages(chat: Chat) -> Locator:
    return chat.log.locator(".msg.coordinator")


def status_line(chat: Chat, text: str) -> Locator:
    return chat.log.locator(".msg.event").filter(has_text=text)


def saved_history(chat: Chat) -> list[dict[str, Any]]:
    key = f"clinic-chat:{chat.stack.rasa_url}:history:{chat.session_id()}"
    return chat.storage()[key]


def expect_joined(chat: Chat, name: str = "Casey") -> None:
    expect(banner(chat)).to_have_text(f"{name[0]}{name} (care coordinator) is in the chat")
    expect(chat.panel.locator(".subtitle")).to_have_text("Chatting with a care coordinator")


def expect_assistant_only(chat: Chat) -> None:
    expect(banner(chat)).to_have_count(0)
    expect(chat.panel.locator(".subtitle")).to_have_text("Information, not medical advice")


# ------------------------------------------------------------------ tests


def test_a_coordinator_joins_writes_and_leaves_in_every_tab_and_across_reloads(chat: Chat) -> None:
    conversation = start(chat)
    other = Chat(chat.page.context.new_page(), chat.stack).goto().open()  # a second tab, also in the room
    expect_assistant_only(chat)

    join(chat.stack, conversation)
    for tab in (chat, other):
        expect(status_line(tab, "Casey (care coordinator) joined the chat.")).to_have_count(
            1, timeout=REPLY_TIMEOUT
        )
        expect_joined(tab)
    # A status line is not a message from anybody.
    expect(chat.bot_message("joined the chat")).to_have_count(0)

    say(chat.stack, conversation, "Hi, I'm Casey. How can I help?")
    say(chat.stack, conversation, "Take your time.")  # a second one nobody asked for
    for tab in (chat, other):
        expect(coordinator_messages(tab)).to_have_count(2, timeout=REPLY_TIMEOUT)
    tab_texts = [tab.log.inner_text() for tab in (chat, other)]
    assert tab_texts[0] == tab_texts[1], "both tabs show the same conversation"
    first = coordinator_messages(chat).first
    expect(first.locator(".sender")).to_have_text("CCasey, care coordinator")  # initial + name
    expect(first.locator(".sender")).to_have_attribute("aria-hidden", "true")
    expect(first.locator(".bubble")).to_have_text("Casey (care coordinator): Hi, I'm Casey. How can I help?")
    expect(first.locator(".bubble .sr-only")).to_have_text("Casey (care coordinator): ")
    style = first.locator(".bubble").evaluate("el => getComputedStyle(el).borderLeftColor")
    assert style == COORDINATOR_BORDER
    plain = chat.bot_message("What would you like to know").locator(".bubble")
    expect(plain.locator(".sr-only")).to_have_text("Assistant: ")
    assert plain.evaluate("el => getComputedStyle(el).borderLeftColor") != COORDINATOR_BORDER
    # Recorded once (by one tab), not once per open tab.
    texts = [item.get("text") for item in saved_history(chat)]
    assert texts.count("Take your time.") == 1, texts

    # The visitor writes from the other tab; the next coordinator message is still recorded once.
    other.ask("Thank you")
    expect(chat.user_messages.filter(has_text="Thank you")).to_have_count(1, timeout=REPLY_TIMEOUT)
    say(chat.stack, conversation, "You're welcome.")
    for tab in (chat, other):
        expect(coordinator_messages(tab).filter(has_text="You're welcome.")).to_have_count(
            1, timeout=REPLY_TIMEOUT
        )

    # A reload restores the live state from the saved history.
    chat.page.reload()
    chat.open()
    expect_joined(chat)
    expect(coordinator_messages(chat)).to_have_count(3)
    expect(coordinator_messages(chat).first.locator(".bubble")).to_have_css(
        "border-left-color", COORDINATOR_BORDER
    )

    leave(chat.stack, conversation)
    text = "Casey left the chat. You're talking to the clinic assistant again."
    for tab in (chat, other):
        expect(status_line(tab, text)).to_have_count(1, timeout=REPLY_TIMEOUT)
        expect_assistant_only(tab)
    chat.page.reload()
    chat.open()
    expect_assistant_only(chat)
    expect(coordinator_messages(chat)).to_have_count(3)  # the messages stay, with who wrote them
    assert other.errors == []


def test_waiting_in_line_while_the_assistant_answers_and_start_over_clears_it(chat: Chat) -> None:
    conversation = start(chat)
    # What action_start_live_chat sends (docs/live-chat.md, step 2).
    waiting = {"kind": "live_chat", "state": "waiting", "position": 2}
    append(chat.stack, conversation, bot("Waiting for a coordinator. You're number 2 in line.", waiting))
    expect(banner(chat)).to_have_text(
        "Waiting for a coordinator · You're number 2 in line", timeout=REPLY_TIMEOUT
    )
    expect(status_line(chat, "You're number 2 in line.")).to_have_count(1)
    expect(chat.panel.locator(".subtitle")).to_have_text("Information, not medical advice")

    chat.ask_and_wait("what are the risks of the iv drip", "through a vein")  # still answered
    expect(banner(chat)).to_contain_text("number 2 in line")

    other = Chat(chat.page.context.new_page(), chat.stack).goto().open()
    expect(banner(other)).to_have_text("Waiting for a coordinator · You're number 2 in line")

    chat.panel.get_by_role("button", name="Start over").click()
    expect_assistant_only(chat)
    expect(chat.log.locator(".msg.notice")).to_have_count(1, timeout=REPLY_TIMEOUT)  # the new conversation
    expect_assistant_only(other)
    chat.page.reload()
    chat.open()
    expect_assistant_only(chat)
    assert other.errors == []


def test_html_in_a_coordinators_text_and_name_is_shown_as_text(chat: Chat) -> None:
    conversation = start(chat)
    name = '<img src=x onerror="alert(1)">'
    text = "<script>alert(2)</script><img src=x onerror=alert(3)> see https://evil.example/x"
    join(chat.stack, conversation, name)
    say(chat.stack, conversation, text, name)
    message = coordinator_messages(chat).last
    expect(message).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(message.locator(".bubble")).to_have_text(f"{name} (care coordinator): {text}")
    expect(message.locator(".sender-name")).to_have_text(f"{name}, care coordinator")
    expect(banner(chat)).to_have_text(f"<{name} (care coordinator) is in the chat")
    widget = chat.page.locator("#clinic-chat-widget")
    expect(widget.locator("img, script, a[href*='evil']")).to_have_count(0)
    assert (
        chat.page.evaluate("() => document.querySelectorAll('img[src=x], body > script:not([src])').length")
        == 0
    )

    # A long name, or one with direction overrides, is cut and cleaned (the bubble keeps its text).
    long_name = "Alexandria-Catherine Montgomery-Worthington the Third"
    say(chat.stack, conversation, "Still here.", "\u202eCasey\u202c\n" + long_name)
    last = coordinator_messages(chat).last
    expect(last).to_contain_text("Still here.", timeout=REPLY_TIMEOUT)
    shown = last.locator(".sender-name").inner_text().removesuffix(", care coordinator")
    assert shown.startswith("Casey Alexandria") and shown.endswith("…") and len(shown) == 40, shown
    assert not re.search("[\u202a-\u202e\n]", shown)

    chat.page.reload()
    chat.open()
    expect(coordinator_messages(chat).first.locator(".bubble")).to_have_text(
        f"{name} (care coordinator): {text}"
    )
    expect(widget.locator("img, script")).to_have_count(0)


def test_axe_finds_no_violations_during_a_live_chat_and_the_rating_fits_a_phone(
    browser: Browser, stack: RasaStack
) -> None:
    assert AXE.is_file(), "axe-core is missing: run `make widget` (npm ci in widget/)"
    # bypass_csp: the demo's Content-Security-Policy would block the injected axe script.
    context = new_context(browser, bypass_csp=True)
    try:
        chat = Chat(context.new_page(), stack)
        conversation = start(chat)
        join(stack, conversation)
        say(stack, conversation, "Hi, I'm Casey. How can I help?")
        expect(coordinator_messages(chat)).to_have_count(1, timeout=REPLY_TIMEOUT)
        expect_joined(chat)
        assert run_axe(chat) == [], "a coordinator in the chat"

        leave(stack, conversation)
        expect_assistant_only(chat)
        # The rating question (utter_ask_chat_rating), as the socket.io channel sends buttons.
        buttons = [{"title": str(n), "payload": f'/rate_chat{{"chat_rating": "{n}"}}'} for n in range(1, 6)]
        append(stack, conversation, bot("How helpful was this chat?", buttons=buttons))
        rating = chat.log.get_by_role("group", name="Suggested replies").last
        for n in range(1, 6):
            expect(rating.get_by_role("button", name=f"{n} of 5", exact=True)).to_be_visible(
                timeout=REPLY_TIMEOUT
            )
        assert run_axe(chat) == [], "after the chat, the rating question"

        chat.page.set_viewport_size(PHONE)
        boxes = [rating.get_by_role("button", name=f"{n} of 5").bounding_box() for n in range(1, 6)]
        assert all(box and box["width"] >= 24 and box["height"] >= 24 for box in boxes), boxes
        assert len({round(box["y"]) for box in boxes if box}) == 1, f"one row: {boxes}"
        assert boxes[-1] and boxes[-1]["x"] + boxes[-1]["width"] <= PHONE["width"], boxes
        assert chat.errors == []
    finally:
        context.close()


def test_the_real_rating_question_after_a_close(chat: Chat) -> None:
    """The close as the inbox ends it (resume, then the intent live_chat_closed): the model's own
    rating question, its 1-to-5 buttons, then the optional comment with Skip."""
    domain = api(chat.stack, "GET", "/domain")
    if "utter_ask_chat_rating" not in (domain.get("responses") or {}):
        pytest.skip("the trained model has no rating question yet (make train)")
    conversation = start(chat)
    join(chat.stack, conversation)
    leave(chat.stack, conversation)
    expect_assistant_only(chat)
    api(
        chat.stack,
        "POST",
        f"/conversations/{quote(conversation, safe='')}/trigger_intent",
        {"name": "live_chat_closed"},
        output_channel="latest",
    )
    expect(chat.bot_message("How helpful was this chat?")).to_be_visible(timeout=REPLY_TIMEOUT)
    chat.log.get_by_role("button", name="4 of 5", exact=True).click()
    expect(chat.user_messages.last).to_have_text("You: 4")
    expect(chat.reply_button("Skip")).to_be_visible(timeout=REPLY_TIMEOUT)
