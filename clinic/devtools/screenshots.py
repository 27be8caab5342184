#!/usr/bin/env python3
"""Screenshots of the open widget for the docs, from a real conversation with the real bot.

    .venv/bin/python -m clinic.devtools.screenshots [--out docs/screenshots]   (make widget-screenshots)

Starts the action server, Rasa and the demo server (clinic/stack/local.py: widget_stack), has a short
conversation in headless Chromium, and writes widget-desktop.png (1280x800) and
widget-phone.png (360x740).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from clinic.devtools.browser import DESKTOP, PHONE, launch_chromium
from clinic.stack.local import widget_stack

ROOT = Path(__file__).resolve().parents[2]

TIMEOUT = 20_000


def ask(page: Page, text: str, expected: str) -> None:
    field = page.get_by_role("textbox", name="Type your question")
    field.fill(text)
    field.press("Enter")
    expect(page.locator(".msg.bot:not(.greeting)").filter(has_text=expected).last).to_be_visible(
        timeout=TIMEOUT
    )


def settle(page: Page) -> None:
    page.locator(".panel").evaluate("el => Promise.all(el.getAnimations().map((a) => a.finished))")
    page.wait_for_timeout(300)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    with widget_stack() as stack, sync_playwright() as playwright:
        browser = launch_chromium(playwright)

        desktop = browser.new_context(viewport=DESKTOP, reduced_motion="reduce")
        page = desktop.new_page()
        page.goto(stack.page())
        page.get_by_role("button", name="Chat with us").click()
        ask(page, "hello", "What would you like to know")
        page.get_by_role("button", name="Why is IV risky?").click()
        expect(page.locator("details.source")).to_have_count(1, timeout=TIMEOUT)
        page.locator("details.source summary").click()
        # Show the question, the answer and its source together.
        page.locator(".msg.user").last.evaluate("el => el.scrollIntoView({ block: 'start' })")
        page.get_by_role("textbox", name="Type your question").blur()
        settle(page)
        page.screenshot(path=str(args.out / "widget-desktop.png"))
        desktop.close()

        phone = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, reduced_motion="reduce"
        )
        page = phone.new_page()
        page.goto(stack.page())
        page.get_by_role("button", name="Chat with us").click()
        ask(page, "hello", "What would you like to know")
        page.get_by_role("button", name="How is it given?").click()
        expect(page.locator("details.source")).to_have_count(1, timeout=TIMEOUT)
        page.get_by_role("textbox", name="Type your question").blur()
        settle(page)
        page.screenshot(path=str(args.out / "widget-phone.png"))
        phone.close()
        browser.close()

    for name in ("widget-desktop.png", "widget-phone.png"):
        print(args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
