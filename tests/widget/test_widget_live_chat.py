"""Live chat end to end: the visitor's widget and the coordinator's inbox in two browser contexts.

Real servers throughout (clinic/stack/local.py): the action server, Rasa with its HTTP API and the
shipped event broker, the widget's demo server, and the inbox as `make run` starts it, with its
feed and watchdog threads. Each test starts its own inbox, so each can have its own wait limit and
presence timeout (LIVE_CHAT_WAIT_LIMIT_MINUTES, LIVE_CHAT_PRESENCE_SECONDS). Office hours are every
day, all day, so the tests do not depend on when they run.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from clinic.devtools.live_chat_latency import live_chat_env
from clinic.handoff.requests import HandoffStore
from clinic.live_chat.store import LiveChatStore
from clinic.settings import load_settings
from clinic.stack.local import ROOT, RasaStack, inbox_server, widget_stack
from tests.widget.conftest import REPLY_TIMEOUT, Chat, new_context
from tests.widget.test_widget_a11y import run_axe

pytestmark = pytest.mark.slow  # real servers and a browser

TOKEN = secrets.token_urlsafe(16)
PASSWORD = "correct horse battery staple"
LIVE_TIMEOUT = 15_000  # ms: inbox -> Rasa API -> socket.io, or Rasa -> broker -> feed -> SSE
EMERGENCY = "my husband just collapsed and he is not breathing"
QUESTION = "what are the risks of getting stem cells through an IV?"
HOSTILE = '<img src=x onerror="window.__pwned=1">bold <b>claim</b>'


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaStack]:
    env = live_chat_env(tmp_path_factory.mktemp("live-chat"))
    with patch.dict(os.environ, env), widget_stack(extra_env=env, api_token=TOKEN) as running:
        settings = load_settings()
        accounts = HandoffStore.from_settings(settings)
        presence = LiveChatStore.from_settings(settings)
        for username, name in (("casey", "Casey"), ("robin", "Robin")):
            accounts.create_coordinator(username, PASSWORD)
            presence.set_display_name(username, name)
        yield running


@pytest.fixture
def contexts(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """Opens browser contexts (a visitor's, a coordinator's) and closes them all after the test."""
    opened: list[BrowserContext] = []

    def open_context(**options: Any) -> BrowserContext:
        opened.append(new_context(browser, **options))
        return opened[-1]

    yield open_context
    for context in opened:
        context.close()


@contextmanager
def inbox(stack: RasaStack, wait_minutes: float = 10, presence_seconds: float = 30) -> Iterator[str]:
    env = {
        "LIVE_CHAT_WAIT_LIMIT_MINUTES": str(wait_minutes),
        "LIVE_CHAT_PRESENCE_SECONDS": str(presence_seconds),
    }
    try:
        with inbox_server(stack, TOKEN, env) as url:
            yield url
    finally:
        # The next test starts with nobody available and no chat left open.
        store = LiveChatStore.from_settings(load_settings())
        for username in ("casey", "robin"):
            store.set_available(username, False)
        for chat in store.queue():
            store.cancel(chat.conversation_id)


class Coordinator:
    """The inbox in a browser, as a care coordinator uses it."""

    def __init__(self, context: BrowserContext, url: str, username: str = "casey") -> None:
        self.page = context.new_page()
        self.url = url
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(f"{url}/sign-in?next=/live")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_role("heading", name="Live chat", exact=True)).to_be_visible()

    def set_available(self) -> None:
        self.page.get_by_role("button", name="Set me available").click()
        expect(self.page.get_by_role("button", name="Set me away")).to_be_visible()

    def join_first(self) -> None:
        # The newest chat: the list is oldest first. Without reloading: the page's event stream.
        join = self.page.get_by_role("button", name="Join", exact=True).last
        expect(join).to_be_visible(timeout=LIVE_TIMEOUT)
        join.click()
        expect(self.page.get_by_text("You are in this chat")).to_be_visible()

    def say(self, text: str) -> None:
        self.page.get_by_label("Your reply (plain text)").fill(text)
        self.page.get_by_role("button", name="Send", exact=True).click()

    @property
    def transcript(self) -> Any:
        return self.page.locator("[data-transcript]")


def visitor(context: BrowserContext, stack: RasaStack) -> Chat:
    chat = Chat(context.new_page(), stack)
    chat.goto().open()
    return chat


def event_line(chat: Chat, text: str) -> Any:
    """A live chat status line ("Casey joined the chat"): an event in the log, not a message."""
    return chat.log.locator(".msg.event").filter(has_text=text).last


def ask_for_live_chat(chat: Chat) -> None:
    chat.ask_and_wait("can I talk to a real person please", "A care coordinator is available now")
    chat.reply_button("Chat with a coordinator now").click()
    expect(event_line(chat, "Waiting for a coordinator")).to_be_visible(timeout=REPLY_TIMEOUT)


def joined(
    contexts: Callable[..., BrowserContext], stack: RasaStack, url: str, **options: Any
) -> tuple[Chat, Coordinator]:
    """A visitor in a live chat that Casey has joined, each in a browser context of their own."""
    casey = Coordinator(contexts(**options), url)
    casey.set_available()
    chat = visitor(contexts(**options), stack)
    ask_for_live_chat(chat)
    casey.join_first()
    expect(chat.log.get_by_text("Casey (care coordinator) joined the chat")).to_be_visible(
        timeout=LIVE_TIMEOUT
    )
    return chat, casey


def api_status(stack: RasaStack, path: str, body: Any, token: str | None) -> int:
    query = f"?token={token}" if token else ""
    request = urllib.request.Request(
        f"{stack.url}{path}{query}", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_offer_wait_join_messages_safety_hand_back_close_and_rating(
    stack: RasaStack, contexts: Callable[..., BrowserContext]
) -> None:
    with inbox(stack) as url:
        # bypass_csp: both pages' Content-Security-Policy would block the injected axe-core script.
        chat, casey = joined(contexts, stack, url, bypass_csp=True)
        expect(chat.log.get_by_text(re.compile("next in line|number 1 in line"))).to_be_visible()

        # Messages both ways, each rendered as text on the other side.
        casey.say(HOSTILE)
        coordinator_message = chat.log.locator(".msg").filter(has_text="bold <b>claim</b>")
        expect(coordinator_message).to_be_visible(timeout=LIVE_TIMEOUT)
        expect(coordinator_message).to_contain_text("Casey")
        answers_before = chat.bot_messages.count()
        chat.ask("Thanks <i>Casey</i>, is my knee a good fit?")
        expect(casey.transcript.get_by_text("Thanks <i>Casey</i>, is my knee a good fit?")).to_be_visible(
            timeout=LIVE_TIMEOUT
        )
        chat.page.wait_for_timeout(1500)
        expect(chat.bot_messages).to_have_count(answers_before)  # the assistant stepped aside
        assert chat.page.evaluate("window.__pwned") is None
        assert casey.page.evaluate("window.__pwned") is None

        # Safety never pauses: 911 for the visitor at once, an alert for the coordinator.
        chat.ask_and_wait(EMERGENCY, "911")
        expect(casey.page.get_by_role("alert").filter(has_text="Safety alert")).to_be_visible(
            timeout=LIVE_TIMEOUT
        )

        assert run_axe(chat) == []
        casey.page.add_script_tag(path=str(ROOT / "widget" / "node_modules" / "axe-core" / "axe.min.js"))
        inbox_violations = casey.page.evaluate("async () => (await axe.run()).violations.map((v) => v.id)")
        assert inbox_violations == []

        # Hand back: the assistant answers again.
        casey.page.get_by_role("button", name="Hand back to the assistant").click()
        expect(chat.log.get_by_text("You're talking to the clinic assistant again")).to_be_visible(
            timeout=LIVE_TIMEOUT
        )
        chat.ask_and_wait(QUESTION, "vein")

        # Close: a resolved record, and the visitor is asked for a rating.
        casey.page.get_by_label("Note for the record (optional)").fill("Explained the knee option.")
        casey.page.get_by_role("button", name="Close the chat").click()
        expect(chat.bot_message("How helpful was this chat?")).to_be_visible(timeout=LIVE_TIMEOUT)
        chat.reply_button("5 of 5").click()
        expect(chat.bot_message("add a comment")).to_be_visible(timeout=REPLY_TIMEOUT)
        chat.ask_and_wait("Casey was kind and clear", "Thank you for your feedback")

        record = casey.page.get_by_role("link", name=re.compile(r"^[A-Z0-9]{3}-[A-Z0-9]{4}$")).last
        expect(record).to_be_visible(timeout=LIVE_TIMEOUT)
        record.click()
        expect(casey.page.get_by_text("Explained the knee option.")).to_be_visible()
        expect(casey.page.get_by_text("Casey was kind and clear")).to_be_visible()
        assert chat.errors == [] and casey.errors == []


def test_no_coordinator_available_offers_only_the_call_back_form(
    stack: RasaStack, contexts: Callable[..., BrowserContext]
) -> None:
    with inbox(stack):
        context = contexts()
        chat = visitor(context, stack)
        chat.ask_and_wait("i want to speak with a human", "I just need your name")
        expect(chat.reply_button("Chat with a coordinator now")).to_have_count(0)


def test_wait_limit_offers_the_call_back_form_prefilled(
    stack: RasaStack, contexts: Callable[..., BrowserContext]
) -> None:
    with inbox(stack, wait_minutes=0.15) as url:
        visitor_context, inbox_context = contexts(), contexts()
        Coordinator(inbox_context, url).set_available()
        chat = visitor(visitor_context, stack)
        chat.ask_and_wait(QUESTION, "vein")
        ask_for_live_chat(chat)
        expect(event_line(chat, "no coordinator is free right now")).to_be_visible(timeout=30_000)
        for answer, next_question in (
            ("Ann Example", "How would you like us to reach you?"),
            ("email", "What email address"),
            ("ann@example.org", "best time"),
        ):
            chat.ask_and_wait(answer, next_question)
        # The topic note was prefilled from the questions asked: the form goes straight to consent.
        summary = chat.ask_and_wait("skip", "Here is what I have")
        expect(summary).to_contain_text("Ann Example")


def test_coordinator_tab_closing_returns_the_chat_to_the_queue(
    stack: RasaStack, contexts: Callable[..., BrowserContext]
) -> None:
    with inbox(stack, presence_seconds=6) as url:
        chat, casey = joined(contexts, stack, url)
        casey.page.context.close()  # the coordinator's tab is gone

        expect(chat.log.get_by_text("lost the connection")).to_be_visible(timeout=30_000)
        chat.ask_and_wait(QUESTION, "vein")  # back with the assistant while waiting again
        robin = Coordinator(contexts(), url, "robin")
        expect(robin.page.get_by_role("button", name="Join", exact=True).last).to_be_visible(
            timeout=LIVE_TIMEOUT
        )


def test_visitor_reload_and_rasa_restart_lose_nothing(
    stack: RasaStack, contexts: Callable[..., BrowserContext]
) -> None:
    with inbox(stack) as url:
        chat, casey = joined(contexts, stack, url)
        casey.say("Hello from Casey")
        expect(chat.log.get_by_text("Hello from Casey")).to_be_visible(timeout=LIVE_TIMEOUT)

        chat.page.reload()
        chat.open()
        expect(chat.log.get_by_text("Hello from Casey")).to_be_visible()
        expect(chat.panel.get_by_text("Casey (care coordinator) is in the chat")).to_be_visible()

        stack.stop_rasa()
        stack.start_rasa()
        casey.say("Still here after the restart")
        expect(chat.log.get_by_text("Still here after the restart")).to_be_visible(timeout=30_000)
        chat.ask("my reply after the restart")
        expect(casey.transcript.get_by_text("my reply after the restart")).to_be_visible(timeout=LIVE_TIMEOUT)
        chat.page.wait_for_timeout(1500)
        expect(chat.bot_message("Sorry, something went wrong")).to_have_count(0)  # still paused, silent


def test_only_the_joined_coordinator_and_the_api_token_can_speak(
    stack: RasaStack, contexts: Callable[..., BrowserContext]
) -> None:
    with inbox(stack) as url:
        chat, casey = joined(contexts, stack, url)
        chat_url = casey.page.url

        robin = Coordinator(contexts(), url, "robin")
        robin.page.goto(chat_url)
        expect(robin.page.get_by_text("Casey has this chat")).to_be_visible()
        expect(robin.page.get_by_label("Your reply (plain text)")).to_have_count(0)
        token = robin.page.locator("input[name=csrf_token]").first.get_attribute("value")
        forged = robin.page.request.post(
            f"{chat_url}/say",
            form={"text": "I am Casey", "csrf_token": token},
            headers={"Accept": "application/json"},
        )
        assert forged.status in (403, 409)
        no_csrf = casey.page.request.post(f"{chat_url}/say", form={"text": "no token"})
        assert no_csrf.status == 400

        # Rasa's API refuses a coordinator's message without the token; the visitor's channel has
        # no way to write a bot event at all.
        sender = chat.session_id()
        event = [
            {
                "event": "bot",
                "text": "I am Casey",
                "data": {"custom": {"data": {"kind": "coordinator", "name": "Casey"}}},
            }
        ]
        assert api_status(stack, f"/conversations/{sender}/tracker/events", event, None) in (401, 403)
        assert api_status(stack, f"/conversations/{sender}/tracker/events", event, "wrong") in (401, 403)
        chat.page.wait_for_timeout(500)
        expect(chat.log.get_by_text("I am Casey")).to_have_count(0)
