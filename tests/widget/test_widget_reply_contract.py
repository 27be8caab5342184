"""The widget's side of the reply contract (clinic/reply_contract.schema.json): it handles exactly
the kinds the schema defines, and renders each example as intended, also from the saved history.

The examples are fed to the widget's socket.io handler as Rasa sends them (the text, then the
custom `data`), on the demo site with no Rasa behind it: no model, no action server, seconds.
The bot's side is tests/clinic/test_reply_contract.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, expect

from clinic.reply_contract import examples, kinds, schema
from clinic.stack.local import ROOT, build_widget, free_port, start_widget_server, wait_until_up
from tests.widget.conftest import Chat, new_context

WIDGET_JS = ROOT / "widget" / "src" / "widget.js"
TEXT = "A reply from the bot."


# ------------------------------------------------------------------ static: the kinds widget.js knows


def compared_strings(source: str, field: str) -> list[str]:
    """The strings `payload.<field>` is compared with (=== or ==, either side; not its `typeof`)."""
    name = rf"(?<!typeof )payload\.{field}"
    after = re.findall(rf'{name}\s*===?\s*"([^"]*)"', source)
    before = re.findall(rf'"([^"]*)"\s*===?\s*{name}\b', source)
    return after + before


def test_widget_js_switches_on_exactly_the_kinds_in_the_schema() -> None:
    source = WIDGET_JS.read_text(encoding="utf-8")
    compared = compared_strings(source, "kind")
    assert sorted(compared) == sorted(kinds()), "each kind once, no kind the schema lacks"
    # Every other use of payload.kind is the `typeof` guard: a switch or a lookup table would be
    # a way of reading kinds this check does not see.
    uses = len(re.findall(r"payload\.kind\b", source))
    assert uses == len(compared) + len(re.findall(r"typeof payload\.kind\b", source))


def test_widget_js_reads_only_alert_levels_the_schema_defines() -> None:
    levels = compared_strings(WIDGET_JS.read_text(encoding="utf-8"), "level")
    assert levels and set(levels) <= set(schema()["definitions"]["alert"]["properties"]["level"]["enum"])


# ------------------------------------------------------------------ in the browser


@dataclass
class DemoSite:
    """widget/serve.py's demo pages; the Rasa URL they name has nothing listening."""

    origin: str
    rasa_url: str

    def page(self, name: str = "") -> str:
        return f"{self.origin}/{name}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    build_widget()
    port, nowhere = free_port(), f"http://127.0.0.1:{free_port()}"
    server = start_widget_server(port, nowhere, tmp_path_factory.mktemp("demo") / "widget.log")
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", 30, server)
        yield DemoSite(f"http://127.0.0.1:{port}", nowhere)
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def chat(browser: Browser, site: DemoSite) -> Iterator[Chat]:
    context = new_context(browser)
    visitor = Chat(context.new_page(), site)  # type: ignore[arg-type]  (Chat needs page() and rasa_url)
    visitor.goto().open()
    yield visitor
    assert visitor.errors == [], f"JavaScript errors on the page: {visitor.errors}"
    context.close()


def feed(chat: Chat, *events: dict[str, Any]) -> None:
    """Bot events into the widget's socket.io handler, as Rasa sends them (one burst)."""
    chat.page.evaluate(
        "(events) => events.forEach((e) => window.__clinicChatWidget.onBotEvent(e))", list(events)
    )


def expect_source(chat: Chat, data: dict[str, Any], fresh: bool) -> None:
    message = chat.bot_message(TEXT)
    summary = message.locator("details.source summary")
    expect(summary).to_contain_text("Source")
    expect(summary).to_contain_text(data["title"])
    quotes = message.locator("details.source blockquote")
    expect(quotes.first).to_be_hidden()  # collapsed until the visitor opens it
    summary.click()
    expect(quotes).to_have_count(len(data["quotes"]))
    for quote, text in zip(quotes.all(), data["quotes"], strict=True):
        expect(quote).to_have_text(f"“{text}”")


def expect_alert(chat: Chat, data: dict[str, Any], fresh: bool) -> None:
    level = data["level"]
    message = chat.bot_message(TEXT)
    expect(message).to_have_class(re.compile(rf"\balert\b.*\b{level}\b"))
    label = {"emergency": "Medical emergency", "crisis": "Help is available now"}[level]
    expect(message.locator(".label")).to_have_text(label)
    if fresh:  # announced when it arrives; not again when the history is restored
        expect(message).to_have_attribute("role", "alert")
    else:
        expect(message).not_to_have_attribute("role", "alert")


def expect_notice(chat: Chat, data: dict[str, Any], fresh: bool) -> None:
    message = chat.bot_message(TEXT)
    expect(message).to_have_class(re.compile(r"\bnotice\b"))
    expect(message.locator(".label")).to_have_text("Please note")


def expect_no_answer(chat: Chat, data: dict[str, Any], fresh: bool) -> None:
    expect(chat.bot_message(TEXT)).to_have_class("msg bot no-answer")


def expect_handoff_confirmed(chat: Chat, data: dict[str, Any], fresh: bool) -> None:
    card = chat.log.get_by_role("group", name="Request confirmation")
    expect(card).to_contain_text("Request received")
    expect(card.locator(".reference")).to_have_text(data["reference"])
    expect(card).to_contain_text(f"A care coordinator will contact you {data['expected_contact']}.")
    expect(chat.bot_message(TEXT)).to_have_class("msg bot")  # the text before it stays as it was


def expect_coordinator(chat: Chat, data: dict[str, Any], fresh: bool) -> None:
    message = chat.bot_message(TEXT)
    expect(message).to_have_class(re.compile(r"\bcoordinator\b"))
    expect(message.locator(".sender")).to_have_text(f"{data['name'][0]}{data['name']}, care coordinator")
    expect(message.locator(".bubble .sr-only")).to_have_text(f"{data['name']} (care coordinator): ")


def expect_live_chat(chat: Chat, data: dict[str, Any], fresh: bool) -> None:
    line = chat.log.locator(".msg.event")
    expect(line).to_have_text(TEXT)  # a status line, not a message
    expect(chat.bot_messages).to_have_count(0)
    banner = chat.panel.get_by_role("status", name="Live chat")
    if data["state"] == "ended":
        expect(banner).to_have_count(0)
    elif data["state"] == "joined":
        expect(banner).to_have_text(
            f"{data['coordinator'][0]}{data['coordinator']} (care coordinator) is in the chat"
        )
    else:
        expect(banner).to_have_text(f"Waiting for a coordinator · You're number {data['position']} in line")


# What the widget must show for each kind (the schema's description of the kind says the same);
# `fresh`: just received, rather than restored from the saved history.
RENDERS: dict[str, Callable[[Chat, dict[str, Any], bool], None]] = {
    "source": expect_source,
    "alert": expect_alert,
    "notice": expect_notice,
    "no_answer": expect_no_answer,
    "handoff_confirmed": expect_handoff_confirmed,
    "coordinator": expect_coordinator,
    "live_chat": expect_live_chat,
}
EXAMPLES = [(kind, data) for kind, items in examples().items() for data in items]


def test_every_kind_in_the_schema_has_a_rendering_to_check() -> None:
    assert sorted(RENDERS) == sorted(kinds())


@pytest.mark.slow
@pytest.mark.parametrize("kind, data", EXAMPLES, ids=[f"{k}-{n}" for n, (k, _) in enumerate(EXAMPLES)])
def test_each_example_renders_as_intended_and_after_a_reload(
    chat: Chat, kind: str, data: dict[str, Any]
) -> None:
    feed(chat, {"text": TEXT}, data)
    RENDERS[kind](chat, data, fresh=True)

    chat.page.reload()
    chat.open()
    RENDERS[kind](chat, data, fresh=False)


@pytest.mark.slow
def test_a_kind_outside_the_contract_changes_nothing(chat: Chat) -> None:
    feed(
        chat, {"text": TEXT}, {"kind": "banner", "level": "crisis", "reference": "HX7-K3P9", "quotes": ["x"]}
    )
    message: Locator = chat.bot_message(TEXT)
    expect(message).to_have_class("msg bot")
    expect(message.locator(".label, details")).to_have_count(0)
    expect(chat.log.locator(".msg.handoff")).to_have_count(0)
    expect(chat.bot_messages).to_have_count(1)
