"""Accessibility and layout: keyboard only, axe-core, phone width, 200% zoom."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from clinic.devtools.browser import PHONE
from clinic.stack.local import ROOT, RasaStack
from tests.widget.conftest import REPLY_TIMEOUT, Chat, faq_response, new_context

pytestmark = pytest.mark.slow  # a browser and a Rasa server

AXE = ROOT / "widget" / "node_modules" / "axe-core" / "axe.min.js"


def test_keyboard_only_conversation(chat: Chat) -> None:
    chat.goto()
    # Tab through the page until the launcher has focus (it is last in the tab order).
    for _ in range(40):
        chat.page.keyboard.press("Tab")
        if chat.focused().get("label") == "Chat with us":
            break
    else:
        raise AssertionError(f"Tab never reached the launcher; focus is on {chat.focused()}")
    expect(chat.launcher).to_have_attribute("aria-expanded", "false")

    chat.page.keyboard.press("Enter")
    expect(chat.panel).to_be_visible()
    expect(chat.launcher).to_have_attribute("aria-expanded", "true")
    expect(chat.input).to_be_focused()

    chat.page.keyboard.type("hello")
    chat.page.keyboard.press("Enter")
    expect(chat.bot_message("What would you like to know")).to_be_visible(timeout=REPLY_TIMEOUT)

    # The suggested replies come right before the input in the tab order.
    chat.page.keyboard.press("Shift+Tab")
    assert chat.focused()["label"] == "Other options"
    chat.page.keyboard.press("Enter")
    expect(chat.bot_message(faq_response("alternatives")["text"][:50])).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(chat.input).to_be_focused()

    # Header controls are reachable and labelled.
    chat.panel.get_by_role("button", name="Close chat").focus()
    assert chat.focused()["tag"] == "button"

    chat.input.focus()
    chat.page.keyboard.press("Escape")
    expect(chat.panel).to_be_hidden()
    expect(chat.launcher).to_be_focused()
    expect(chat.launcher).to_have_attribute("aria-expanded", "false")

    # Enter opens again, with the conversation still there.
    chat.page.keyboard.press("Enter")
    expect(chat.input).to_be_focused()
    expect(chat.bot_message("What would you like to know")).to_be_visible()


def run_axe(chat: Chat) -> list[dict[str, Any]]:
    chat.page.add_script_tag(path=str(AXE))
    return chat.page.evaluate(
        """async () => {
            const results = await axe.run(document, { resultTypes: ["violations"] });
            return results.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })),
            }));
        }"""
    )


def test_axe_finds_no_violations(browser: Browser, stack: RasaStack) -> None:
    assert AXE.is_file(), "axe-core is missing: run `make widget` (npm ci in widget/)"
    # bypass_csp: the demo's Content-Security-Policy would block the injected axe script.
    context = new_context(browser, bypass_csp=True)
    try:
        chat = Chat(context.new_page(), stack)
        chat.goto()
        assert run_axe(chat) == [], "closed widget"

        chat.open()
        assert run_axe(chat) == [], "open, empty widget"

        chat.ask_and_wait("hello", "What would you like to know")
        chat.ask_and_wait("what are the risks of the iv drip", "through a vein")
        chat.log.locator("details.source summary").last.click()
        chat.ask_and_wait("i have chest pain right now", "911")
        assert run_axe(chat) == [], "after a conversation (notice, buttons, source, alert)"

        for dark_mode in ("light", "dark"):
            chat.page.emulate_media(color_scheme=dark_mode, reduced_motion="reduce")
            assert run_axe(chat) == [], f"{dark_mode} colour scheme"
        assert chat.errors == []
    finally:
        context.close()


def test_reduced_motion_is_honoured(browser: Browser, stack: RasaStack) -> None:
    context = new_context(browser, reduced_motion="reduce")
    try:
        chat = Chat(context.new_page(), stack).goto().open()
        durations = chat.panel.evaluate(
            "el => [getComputedStyle(el).animationName, getComputedStyle(el).animationDuration]"
        )
        assert durations[0] == "none" or durations[1] in ("0s", "1e-06s"), durations
    finally:
        context.close()


def no_horizontal_scroll(chat: Chat) -> None:
    sizes = chat.page.evaluate(
        """() => {
            const root = document.querySelector("#clinic-chat-widget").shadowRoot;
            const log = root.querySelector(".log");
            return { page: document.documentElement.scrollWidth, viewport: window.innerWidth,
                     log: log.scrollWidth, logBox: log.clientWidth };
        }"""
    )
    assert sizes["page"] <= sizes["viewport"], sizes
    assert sizes["log"] <= sizes["logBox"], sizes


def assert_panel_fits(chat: Chat, width: int, height: int) -> None:
    box = chat.panel.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= width + 0.5, box
    assert box["y"] + box["height"] <= height + 0.5, box
    for control in (
        chat.input,
        chat.panel.get_by_role("button", name="Send"),
        chat.panel.get_by_role("button", name="Close chat"),
    ):
        expect(control).to_be_in_viewport()


def test_phone_viewport(browser: Browser, stack: RasaStack) -> None:
    context = new_context(browser, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    try:
        chat = Chat(context.new_page(), stack).goto()
        no_horizontal_scroll(chat)
        chat.open()
        assert_panel_fits(chat, PHONE["width"], PHONE["height"])
        chat.ask_and_wait("hello", "What would you like to know")
        chat.ask_and_wait("what are the risks of the iv drip", "through a vein")
        chat.log.locator("details.source summary").last.click()
        long_word = "https://example.org/" + "a" * 120
        chat.ask(long_word)
        expect(chat.user_messages.last).to_contain_text(long_word)
        assert_panel_fits(chat, PHONE["width"], PHONE["height"])
        no_horizontal_scroll(chat)
        for button in chat.reply_button("How is it given?").all():
            box = button.bounding_box()
            assert box and box["height"] >= 24 and box["width"] >= 24  # WCAG 2.5.8 target size
        chat.panel.get_by_role("button", name="Close chat").click()
        expect(chat.launcher).to_be_visible()
        assert chat.errors == []
    finally:
        context.close()


def test_200_percent_zoom(browser: Browser, stack: RasaStack) -> None:
    # 1280x800 at 200% zoom is a 640x400 CSS-pixel viewport.
    context = new_context(browser, viewport={"width": 640, "height": 400}, device_scale_factor=2)
    try:
        chat = Chat(context.new_page(), stack).goto().open()
        assert_panel_fits(chat, 640, 400)
        chat.ask_and_wait("hello", "What would you like to know")
        no_horizontal_scroll(chat)
        expect(chat.input).to_be_in_viewport()
    finally:
        context.close()
