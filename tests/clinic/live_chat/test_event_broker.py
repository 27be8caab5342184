"""The sealed event brokers: only what live chat needs is published, and never in clear.

Real SQLite and a real RabbitMQ (127.0.0.1:5672, guest/guest, as in CI); a unique queue per test.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import aio_pika
import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from clinic.handoff.crypto import build_cipher, generate_key
from clinic.live_chat.event_broker import SealedPikaEventBroker, SealedSQLEventBroker
from clinic.live_chat.sealed_events import open_sealed
from clinic.tracker_store import ClinicSQLTrackerStore

SECRET = "my knee hurts since the fall in March"


@pytest.fixture()
def key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    value = generate_key()
    monkeypatch.setenv("HANDOFF_ENCRYPTION_KEY", value)
    return value


def user(text: str, intent: str = "faq") -> dict[str, Any]:
    parse = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    return {"sender_id": "c1", **UserUttered(text, parse_data=parse).as_dict()}


def stored_rows(path: Path) -> list[tuple[str, str]]:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(sa.text("SELECT sender_id, data FROM events ORDER BY id"))
        ]


def test_sql_broker_publishes_only_live_chat_events_and_seals_them(key: str, tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    broker = SealedSQLEventBroker(dialect="sqlite", db=str(path))
    broker.publish(user(SECRET))
    broker.publish({"sender_id": "c1", **ActionExecuted("action_listen").as_dict()})
    broker.publish({"sender_id": "c1", **SlotSet("route", "intravenous").as_dict()})
    broker.publish({"sender_id": "c1", **SlotSet("live_chat", "joined").as_dict()})
    broker.publish({"sender_id": "c1", "event": "pause", "timestamp": 1.0})

    rows = stored_rows(path)
    assert [sender for sender, _ in rows] == ["c1", "c1", "c1"]
    assert all(SECRET not in data and "intravenous" not in data for _, data in rows)
    opened = [open_sealed(data, build_cipher(key)) for _, data in rows]
    assert opened[0]["text"] == SECRET and opened[0]["intent"] == "faq"
    assert "parse_data" not in opened[0]
    assert opened[1]["value"] == "joined"
    assert [event["event"] for event in opened] == ["user", "slot", "pause"]
    assert open_sealed(rows[0][1], build_cipher(generate_key())) is None  # another key: not opened


def test_tracker_store_publishes_each_new_event_once(key: str, tmp_path: Path) -> None:
    domain = Domain.from_yaml("version: '3.1'\nintents: [faq]\n")
    broker = SealedSQLEventBroker(dialect="sqlite", db=str(tmp_path / "events.db"))
    store = ClinicSQLTrackerStore(
        domain, dialect="sqlite", db=str(tmp_path / "tracker.db"), event_broker=broker
    )
    parse = {"text": "hello", "intent": {"name": "faq", "confidence": 0.9}}
    tracker = DialogueStateTracker.from_events("c1", [UserUttered("hello", parse_data=parse)])
    tracker.update(BotUttered("Hi there"))
    asyncio.run(store.save(tracker))
    tracker.update(UserUttered("second message", parse_data={"intent": {"name": "faq"}}))
    asyncio.run(store.save(tracker))

    cipher = build_cipher(key)
    texts = [open_sealed(data, cipher)["text"] for _, data in stored_rows(tmp_path / "events.db")]
    assert texts == ["hello", "Hi there", "second message"]
    restored = asyncio.run(store.retrieve("c1"))
    assert [e.text for e in restored.events if isinstance(e, (UserUttered, BotUttered))] == texts


def test_pika_broker_sends_sealed_bodies_to_rabbitmq(key: str) -> None:
    queue = f"clinic_live_chat_test_{uuid.uuid4().hex[:8]}"

    async def publish() -> None:
        config = EndpointConfig(
            url="127.0.0.1",
            username="guest",
            password="guest",
            port=5672,
            queues=[queue],
            exchange_name=f"{queue}_exchange",
        )
        broker = await SealedPikaEventBroker.from_endpoint_config(config)
        broker.publish(user(SECRET, intent="crisis"))
        broker.publish({"sender_id": "c1", **ActionExecuted("action_listen").as_dict()})
        await asyncio.sleep(0.5)
        await broker.close()

    async def drain() -> list[bytes]:
        connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
        async with connection:
            channel = await connection.channel()
            bodies = []
            queue_ = await channel.get_queue(queue)
            while (message := await queue_.get(no_ack=True, fail=False)) is not None:
                bodies.append(message.body)
            await queue_.delete(if_unused=False, if_empty=False)
            await channel.exchange_delete(f"{queue}_exchange")
            return bodies

    asyncio.run(publish())
    bodies = asyncio.run(drain())
    assert len(bodies) == 1
    assert SECRET.encode() not in bodies[0]
    event = open_sealed(bodies[0], build_cipher(key))
    assert event == {**event, "event": "user", "text": SECRET, "intent": "crisis", "sender_id": "c1"}
    assert json.dumps(event)
