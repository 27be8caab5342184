"""What visitors send is checked the same way on REST and socket.io, against a real Rasa server:
a bad conversation id gets a clear 400 and never stops the server (issue 9, finding 1), a message
over the length limit gets a kind answer instead of being cut (finding 3), deep JSON, bad
metadata, lone surrogates and non-text messages get clear answers and leave no visitor text in
the log (finding 9), and every message carries an unforgeable client id."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import sqlite3
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any
from unittest.mock import patch

import pytest
import socketio

from clinic.channels.visitor_input import MAX_MESSAGE_CHARS, MAX_METADATA_BYTES
from clinic.stack.local import RasaStack, rasa_stack

pytestmark = pytest.mark.slow  # every test talks to a Rasa server with the trained model

SECRET = "test-client-id-secret"
ORIGIN = "http://localhost:8000"  # in the channel's default allow-list
MARKER = "qzvisitortext"  # in texts that must never reach the server log
ROUTES_ANSWER = "two main ways to give bone-marrow stem cells"


@pytest.fixture(scope="module")
def bot() -> Iterator[RasaStack]:
    # One declared reverse proxy in front (as in production behind TLS): its X-Forwarded-For
    # names the visitor. Requests without the header are the proxy's own peer.
    with (
        patch.dict(os.environ, {"CLINIC_CLIENT_ID_SECRET": SECRET, "SANIC_PROXIES_COUNT": "1"}),
        rasa_stack() as stack,
    ):
        yield stack


def post(url: str, body: bytes) -> tuple[int, Any]:
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def post_json(bot: RasaStack, payload: dict[str, Any]) -> tuple[int, Any]:
    return post(bot.rest_webhook, json.dumps(payload).encode())


def texts(replies: list[dict]) -> str:
    return " ".join(r.get("text", "") for r in replies)


def assert_alive_and_answering(bot: RasaStack) -> None:
    assert bot.processes[1].poll() is None, "the Rasa server is still running"
    status, replies = post_json(
        bot, {"sender": f"ok-{uuid.uuid4().hex}", "message": "how is the therapy given?"}
    )
    assert status == 200 and ROUTES_ANSWER in texts(replies)


def stored_user_events(bot: RasaStack, sender: str) -> list[dict]:
    with sqlite3.connect(bot.workdir / "tracker.db") as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", (sender,)
        ).fetchall()
    return [json.loads(data) for (data,) in rows]


def expected_client_id(address: str = "127.0.0.1") -> str:
    return hmac.new(SECRET.encode(), address.encode(), hashlib.sha256).hexdigest()[:16]


# ---- REST -------------------------------------------------------------------------------------


def test_a_lone_surrogate_sender_gets_a_400_and_rasa_keeps_running(bot: RasaStack) -> None:
    status, body = post(bot.rest_webhook, b'{"sender": "\\ud800", "message": "hi"}')
    assert status == 400 and "sender" in body["error"]
    assert_alive_and_answering(bot)


@pytest.mark.parametrize(
    "sender",
    [
        "\ud800",
        "a\udfffb",
        "a\u0000b",
        "",
        "x" * 65,
        "has space",
        "ann@example.org",
        "../tracker",
        "é",
        1.5,
        True,
        [],
        {},
        10**70,
    ],
)
def test_bad_senders_get_a_clear_400(bot: RasaStack, sender: Any) -> None:
    status, body = post_json(bot, {"sender": sender, "message": "hi"})
    assert status == 400 and '"sender"' in body["error"]


@pytest.mark.parametrize(
    "sender", [12345, "default", uuid.uuid4().hex, str(uuid.uuid4()), "widget:42", "a.b_c-d", "x" * 64]
)
def test_ordinary_senders_are_accepted(bot: RasaStack, sender: Any) -> None:
    status, replies = post_json(bot, {"sender": sender, "message": "how is the therapy given?"})
    assert status == 200 and ROUTES_ANSWER in texts(replies)


def test_json_nested_a_thousand_deep_gets_a_400_not_a_500(bot: RasaStack) -> None:
    for body in (
        b"[" * 1000 + b"]" * 1000,
        b'{"message": "hi", "metadata": ' + b'{"a":' * 1000 + b"1" + b"}" * 1001,
    ):
        status, reply = post(bot.rest_webhook, body)
        assert status == 400 and reply == {"error": "The request body must be JSON."}
    assert_alive_and_answering(bot)


@pytest.mark.parametrize(
    "metadata",
    [[1, 2], "text", 5, True, {"a": "x" * MAX_METADATA_BYTES}, json.loads('{"a":' * 10 + "1" + "}" * 10)],
    ids=["list", "string", "number", "bool", "too-large", "too-deep"],
)
def test_bad_metadata_gets_a_clear_400_and_no_text_in_the_log(bot: RasaStack, metadata: Any) -> None:
    status, body = post_json(
        bot, {"sender": f"m-{uuid.uuid4().hex}", "message": f"is the iv safe {MARKER}", "metadata": metadata}
    )
    assert status == 400 and '"metadata"' in body["error"]


def test_good_metadata_is_kept_and_the_client_id_cannot_be_forged(bot: RasaStack) -> None:
    sender = f"meta-{uuid.uuid4().hex}"
    status, _ = post_json(
        bot, {"sender": sender, "message": "hi", "metadata": {"page": "/faq", "client_id": "forged"}}
    )
    assert status == 200
    (event,) = stored_user_events(bot, sender)
    assert {k: event["metadata"].get(k) for k in ("page", "client_id")} == {
        "page": "/faq",
        "client_id": expected_client_id(),
    }


def test_behind_a_declared_proxy_each_visitor_gets_their_own_client_id(bot: RasaStack) -> None:
    ids = []
    for address in ("203.0.113.7", "198.51.100.23"):
        sender = f"proxied-{uuid.uuid4().hex}"
        body = json.dumps({"sender": sender, "message": "hi"}).encode()
        request = urllib.request.Request(
            bot.rest_webhook, body, {"Content-Type": "application/json", "X-Forwarded-For": address}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200
        (event,) = stored_user_events(bot, sender)
        ids.append(event["metadata"]["client_id"])
    assert ids == [expected_client_id("203.0.113.7"), expected_client_id("198.51.100.23")]


def test_lone_surrogates_in_the_text_are_replaced_and_the_message_answered(bot: RasaStack) -> None:
    sender = f"s-{uuid.uuid4().hex}"
    body = json.dumps(
        {"sender": sender, "message": f"how is the therapy given? \ud83d {MARKER}\u0000"}
    ).encode()
    status, replies = post(bot.rest_webhook, body)
    assert status == 200 and ROUTES_ANSWER in texts(replies)
    (event,) = stored_user_events(bot, sender)
    assert event["text"] == f"how is the therapy given? \ufffd {MARKER}", (
        "replaced, NUL dropped, the rest kept"
    )


def test_a_message_over_the_limit_gets_a_kind_413_and_one_at_the_limit_an_answer(bot: RasaStack) -> None:
    sender = f"long-{uuid.uuid4().hex}"
    status, body = post_json(bot, {"sender": sender, "message": "x" + " is the iv safe?" * 100})
    assert (
        status == 413
        and f"{MAX_MESSAGE_CHARS:,} characters" in body["error"]
        and "Traceback" not in body["error"]
    )
    assert stored_user_events(bot, sender) == [], "refused whole, not cut short"
    at_limit = ("how is the therapy given? " * 100)[:MAX_MESSAGE_CHARS]
    status, replies = post_json(bot, {"sender": sender, "message": at_limit})
    assert status == 200 and texts(replies).strip()


def test_intent_shortcuts_quoting_the_visitor_are_answered(bot: RasaStack) -> None:
    sender = f"slash-{uuid.uuid4().hex}"
    shortcuts = [
        f"/{MARKER}",
        f'/greet{{"{MARKER}": 1}}',
        f"/greet{{{MARKER}",
        f"/ {MARKER}",
        f"/greet@{MARKER}",
        f"/{{{MARKER}}}",
        f"/@{MARKER}",
    ]  # the last two: Rasa logs "message.parsing.failed" with the text
    for message in shortcuts:
        status, replies = post_json(bot, {"sender": sender, "message": message})
        assert status == 200 and texts(replies).strip(), message


# ---- socket.io --------------------------------------------------------------------------------


class SocketVisitor:
    """A socket.io client (python-socketio's AsyncClient) from an allowed web origin."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.replies: asyncio.Queue[dict] = asyncio.Queue()
        self.sessions: asyncio.Queue[str] = asyncio.Queue()
        self.client.on("bot_uttered", self.replies.put_nowait)
        self.client.on("session_confirm", self.sessions.put_nowait)

    async def connect(self, bot: RasaStack) -> None:
        # Long polling: python-engineio's WebSocket transport needs a newer aiohttp than Rasa's.
        await self.client.connect(
            bot.url, headers={"Origin": ORIGIN}, transports=["polling"], wait_timeout=20
        )

    async def session(self, data: Any) -> str:
        await self.client.emit("session_request", data)
        return await asyncio.wait_for(self.sessions.get(), 20)

    async def close(self) -> None:
        """Closes the connection without waiting for the pending long poll (up to 30 s)."""
        await self.client.eio.disconnect(abort=True)

    async def say(self, data: Any) -> list[dict]:
        """Sends one user_uttered and returns every bot message it got (the ack comes last)."""
        await self.client.call("user_uttered", data, timeout=30)
        await asyncio.sleep(0)
        replies = []
        while not self.replies.empty():
            replies.append(self.replies.get_nowait())
        return replies


def on_socket(bot: RasaStack, script: Any) -> Any:
    async def run() -> Any:
        visitor = SocketVisitor()
        await visitor.connect(bot)
        try:
            return await script(visitor)
        finally:
            await visitor.close()

    return asyncio.run(run())


def test_socketio_non_text_messages_get_a_clear_reply_and_raise_nothing(bot: RasaStack) -> None:
    async def script(visitor: SocketVisitor) -> list[list[dict]]:
        session = await visitor.session({"session_id": None})
        payloads = [{"message": value, "session_id": session} for value in (42, 4.2, True, ["hi"], {"a": 1})]
        answers = [await visitor.say(data) for data in [*payloads, "hi", 42, ["x"], None]]
        answers.append(await visitor.say({"message": "how is the therapy given?", "session_id": session}))
        return answers

    *refused, normal = on_socket(bot, script)
    assert all(
        texts(r) == "Sorry, I can only read text messages. Please type your question." for r in refused
    )
    assert ROUTES_ANSWER in texts(normal), "the conversation carries on"
    log = (bot.workdir / "rasa.log").read_text(errors="replace")
    assert "has no attribute 'strip'" not in log and "Task exception was never retrieved" not in log


def test_socketio_message_over_the_limit_gets_a_reply_with_the_limit(bot: RasaStack) -> None:
    async def script(visitor: SocketVisitor) -> tuple[list[dict], list[dict], str]:
        session = await visitor.session({})
        too_long = await visitor.say(
            {"message": f"{MARKER} " + "x" * MAX_MESSAGE_CHARS, "session_id": session}
        )
        at_limit = await visitor.say(
            {"message": ("is the iv safe? " * 100)[:MAX_MESSAGE_CHARS], "session_id": session}
        )
        return too_long, at_limit, session

    too_long, at_limit, session = on_socket(bot, script)
    assert "too long" in texts(too_long) and f"{MAX_MESSAGE_CHARS:,} characters" in texts(too_long)
    assert texts(at_limit).strip()
    assert len(stored_user_events(bot, session)) == 1, "only the message at the limit was processed"


@pytest.mark.parametrize(
    "proposed", ["\ud800", "a\u0000b", "x" * 65, "has space", "ann@example.org", 42, ["x"]]
)
def test_socketio_bad_session_ids_get_a_fresh_one(bot: RasaStack, proposed: Any) -> None:
    async def script(visitor: SocketVisitor) -> tuple[str, list[dict]]:
        session = await visitor.session({"session_id": proposed})
        return session, await visitor.say({"message": "how is the therapy given?", "session_id": session})

    session, replies = on_socket(bot, script)
    assert session != proposed and len(session) == 32 and int(session, 16) >= 0
    assert ROUTES_ANSWER in texts(replies)
    assert_alive_and_answering(bot)


def test_socketio_messages_carry_the_client_id_and_bad_metadata_is_refused(bot: RasaStack) -> None:
    async def script(visitor: SocketVisitor) -> tuple[str, list[list[dict]]]:
        session = await visitor.session({"session_id": f"sock-{uuid.uuid4().hex}"})
        answers = [
            await visitor.say(
                {"message": "hi", "session_id": session, "metadata": {"client_id": "forged", "x": 1}}
            ),
            await visitor.say({"message": f"hi {MARKER}", "session_id": session, "metadata": "{not json"}),
            await visitor.say({"message": f"hi {MARKER}", "session_id": session, "metadata": [1]}),
            await visitor.say({"message": "hi", "session_id": "not-my-session"}),
        ]
        return session, answers

    session, (accepted, *refused, not_joined) = on_socket(bot, script)
    assert texts(accepted).strip()
    assert all('"metadata" must be a JSON object' in texts(r) for r in refused)
    assert "reload the page" in texts(not_joined)
    (event,) = stored_user_events(bot, session)
    assert {k: event["metadata"].get(k) for k in ("client_id", "x")} == {
        "client_id": expected_client_id(),
        "x": 1,
    }


# ---- last: the log ----------------------------------------------------------------------------


def test_no_visitor_text_reached_the_server_log(bot: RasaStack) -> None:
    assert_alive_and_answering(bot)
    log = (bot.workdir / "rasa.log").read_text(errors="replace")
    assert MARKER not in log
    assert '"user_text": "[visitor text]"' in log, "Rasa did log the text of an intent shortcut, redacted"
    assert "Traceback" not in log
