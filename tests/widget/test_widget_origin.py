"""Rasa's socket.io endpoint accepts only the configured web origins."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from clinic.stack.local import RasaStack

pytestmark = pytest.mark.slow  # a Rasa server and the demo server


def handshake(stack: RasaStack, origin: str | None) -> tuple[int, list[str]]:
    request = urllib.request.Request(f"{stack.rasa_url}/socket.io/?EIO=4&transport=polling")
    if origin:
        request.add_header("Origin", origin)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get_all("Access-Control-Allow-Origin") or []
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_all("Access-Control-Allow-Origin") or []


def test_configured_origin_is_accepted_with_one_cors_header(stack: RasaStack) -> None:
    status, allow = handshake(stack, stack.origin)
    assert status == 200
    assert allow == [stack.origin]  # exactly one header: two would break the polling transport


def test_other_origins_are_refused(stack: RasaStack) -> None:
    for origin in ("https://evil.example", "http://localhost:8000", "null"):
        status, _ = handshake(stack, origin)
        assert status == 400, origin


def test_widget_on_another_site_cannot_connect(chat, stack: RasaStack) -> None:  # noqa: ANN001
    # The same demo page, served from "localhost" instead of "127.0.0.1": another origin.
    chat.page.goto(stack.page().replace("127.0.0.1", "localhost"))
    chat.launcher.click()
    chat.ask("hello")
    status = chat.status
    status.wait_for()
    assert "can't reach" in status.inner_text() or "offline" in status.inner_text()
    chat.page.wait_for_timeout(1500)
    assert chat.bot_messages.count() == 0
