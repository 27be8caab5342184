"""A visitor always gets a reply (issue 9, finding 5, the channels' part): when the action server
is down, Rasa loses the custom action's events and has nothing to say; when the lock store is
unreachable, processing raises. Either way the channels answer with an honest apology and the
clinic's phone number, over REST and socket.io, with a real Rasa server and a real failure."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
import socketio
from rasa.core.channels.channel import UserMessage

from clinic.channels.always_reply import process
from clinic.settings import load_clinic
from clinic.stack.local import RasaStack, free_port, rasa_stack

ORIGIN = "http://localhost:8000"  # in the channel's default allow-list
MARKER = "qzvisitortext"
HANDOFF = ["I want to talk to a person", f"Ann {MARKER}", "email", "ann@example.org"]


def apology() -> str:
    phone = load_clinic().phone
    return f"Sorry, something went wrong on our side. Please try again in a moment, or call us at {phone}."


@pytest.fixture(scope="module")
def bot() -> Iterator[RasaStack]:
    """Rasa with its action server stopped (after start-up, as when it crashes)."""
    with rasa_stack() as stack:
        actions = stack.processes[0]
        actions.terminate()
        actions.wait(timeout=20)
        yield stack


def post(bot: RasaStack, sender: str, message: str) -> tuple[int, list[dict]]:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(bot.rest_webhook, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, [{"error": error.read().decode()}]


def texts(replies: list[dict]) -> list[str]:
    return [r["text"] for r in replies if r.get("text")]


@pytest.mark.slow
def test_rest_answers_every_message_of_a_handoff_while_the_action_server_is_down(bot: RasaStack) -> None:
    sender = f"down-{uuid.uuid4().hex}"
    turns = [post(bot, sender, message) for message in HANDOFF]
    assert [status for status, _ in turns] == [200] * len(HANDOFF)
    assert all(texts(replies) for _, replies in turns), "a reply to every message"
    assert any(texts(replies) == [apology()] for _, replies in turns), "the honest apology, with the phone"


async def socket_conversation(bot: RasaStack, messages: list[str]) -> list[list[dict]]:
    client = socketio.AsyncClient(reconnection=False)
    replies: asyncio.Queue[dict] = asyncio.Queue()
    sessions: asyncio.Queue[str] = asyncio.Queue()
    client.on("bot_uttered", replies.put_nowait)
    client.on("session_confirm", sessions.put_nowait)
    # Long polling: python-engineio's WebSocket transport needs a newer aiohttp than Rasa's.
    await client.connect(bot.url, headers={"Origin": ORIGIN}, transports=["polling"], wait_timeout=20)
    try:
        await client.emit("session_request", {"session_id": f"down-{uuid.uuid4().hex}"})
        session = await asyncio.wait_for(sessions.get(), 20)
        turns = []
        for message in messages:
            await client.call("user_uttered", {"message": message, "session_id": session}, timeout=30)
            await asyncio.sleep(0)
            turns.append([replies.get_nowait() for _ in range(replies.qsize())])
        return turns
    finally:
        await client.eio.disconnect(abort=True)


@pytest.mark.slow
def test_socketio_answers_every_message_of_a_handoff_while_the_action_server_is_down(bot: RasaStack) -> None:
    turns = asyncio.run(socket_conversation(bot, HANDOFF))
    assert all(texts(replies) for replies in turns), "a reply to every message"
    assert any(texts(replies) == [apology()] for replies in turns), "the honest apology, with the phone"


def test_a_message_that_makes_rasa_exit_only_fails_itself(caplog: pytest.LogCaptureFixture) -> None:
    """Rasa's SQL tracker store calls sys.exit on a ValueError: one message must not stop the server."""

    async def exits(message: UserMessage) -> None:
        raise SystemExit(1)

    with caplog.at_level(logging.ERROR):
        assert asyncio.run(process(exits, UserMessage(f"my name is {MARKER}"), "rest")) is False
    assert "SystemExit" in caplog.text and MARKER not in caplog.text


@pytest.fixture(scope="module")
def bot_without_lock_store() -> Iterator[RasaStack]:
    """Rasa whose Redis lock store is unreachable: every message raises inside Rasa."""
    lock_store = {"type": "redis", "url": "127.0.0.1", "port": free_port(), "db": 0}
    with rasa_stack(lock_store=lock_store) as stack:
        yield stack


@pytest.mark.slow
def test_when_processing_raises_both_channels_apologise_without_logging_the_text(
    bot_without_lock_store: RasaStack,
) -> None:
    bot = bot_without_lock_store
    status, replies = post(bot, f"raises-{uuid.uuid4().hex}", f"is the iv safe {MARKER}")
    assert (status, texts(replies)) == (200, [apology()])
    (socket_replies,) = asyncio.run(socket_conversation(bot, [f"is the iv safe {MARKER}"]))
    assert texts(socket_replies) == [apology()]
    log = (bot.workdir / "rasa.log").read_text(errors="replace")
    assert "The rest channel could not process a message (LockError)" in log
    assert "The socketio channel could not process a message (LockError)" in log
    assert MARKER not in log
    assert bot.processes[1].poll() is None
