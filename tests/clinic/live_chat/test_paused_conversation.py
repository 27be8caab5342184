"""While a coordinator is in the chat (the conversation paused through Rasa's API), the assistant
says nothing, not even its "something went wrong" apology, but safety never pauses; every message
stays in the conversation store and reaches the inbox through the sealed event broker.

A real Rasa server with the trained model, its HTTP API and the shipped event broker (REST channel;
the widget's socket.io path is covered by the browser tests)."""

from __future__ import annotations

import json
import os
import secrets
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import sqlalchemy as sa

from clinic.devtools.evaluate import send
from clinic.handoff.crypto import build_cipher, generate_key
from clinic.live_chat.sealed_events import open_sealed
from clinic.stack.local import RasaStack, events_db, rasa_stack

pytestmark = pytest.mark.slow  # a Rasa server with the trained model

KEY = generate_key()
TOKEN = secrets.token_urlsafe(16)
EMERGENCY = "my dad is slurring his words and one side of his face is drooping"
QUESTION = "what are the risks of getting stem cells in the vein?"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaStack]:
    handoffs = tmp_path_factory.mktemp("handoffs") / "handoffs.db"
    env = {
        "HANDOFF_ENCRYPTION_KEY": KEY,
        "HANDOFF_DATABASE_URL": f"sqlite:///{handoffs}",
        "CLINIC_ENV": "development",
    }
    with patch.dict(os.environ, env), rasa_stack(api_token=TOKEN) as running:
        yield running


def api(stack: RasaStack, path: str, body: Any = None) -> Any:
    query = "&".join(["output_channel=latest", "execute_side_effects=true", f"token={TOKEN}"])
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{stack.url}{path}?{query}",
        data,
        {"Content-Type": "application/json"},
        method="POST" if data else "GET",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def texts(replies: list[dict]) -> str:
    return " ".join(reply.get("text", "") for reply in replies)


def sealed_events(stack: RasaStack, sender: str) -> list[dict]:
    engine = sa.create_engine(f"sqlite:///{events_db(stack.workdir)}")
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}
        )
        return [open_sealed(data, build_cipher(KEY)) for (data,) in rows]


def test_paused_conversation_is_silent_but_safety_is_not(stack: RasaStack) -> None:
    sender = f"live-{uuid.uuid4().hex}"
    webhook = stack.rest_webhook
    assert send(webhook, QUESTION, sender)  # an ordinary answer before the coordinator joins

    coordinator = {"kind": "coordinator", "name": "Casey"}
    api(
        stack,
        f"/conversations/{sender}/tracker/events",
        [
            {"event": "pause"},
            {
                "event": "bot",
                "text": "Hi, I'm Casey.",
                "data": {"custom": {"data": coordinator}},
                "metadata": {"live_chat": {"role": "coordinator", "username": "casey", "name": "Casey"}},
            },
        ],
    )
    assert send(webhook, QUESTION, sender) == []  # no answer, and no apology either
    emergency = send(webhook, EMERGENCY, sender)
    assert "911" in texts(emergency)
    assert "Sorry, something went wrong" not in texts(emergency)

    tracker = api(stack, f"/conversations/{sender}/tracker")
    said = [(e["event"], e.get("text")) for e in tracker["events"] if e["event"] in ("user", "bot")]
    assert ("bot", "Hi, I'm Casey.") in said
    assert said.index(("user", QUESTION), 2) < said.index(("user", EMERGENCY))

    published = sealed_events(stack, sender)
    assert {"user", "bot", "pause"} <= {event["event"] for event in published}
    assert any(event.get("intent") in ("emergency", "emergency_and_crisis") for event in published)
    assert any((event.get("metadata") or {}).get("utter_action") == "utter_emergency" for event in published)

    # A hand back, as the inbox appends it (clinic/live_chat/rasa_api.py)
    api(
        stack,
        f"/conversations/{sender}/tracker/events",
        [{"event": "resume"}, {"event": "action", "name": "action_listen"}],
    )
    assert "vein" in texts(send(webhook, QUESTION, sender)).lower()


def test_paused_conversation_logs_without_visitor_text(stack: RasaStack) -> None:
    log = Path(stack.workdir, "rasa.log").read_text(encoding="utf-8", errors="replace")
    assert EMERGENCY not in log and QUESTION not in log
