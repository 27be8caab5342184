"""The feed: sealed broker events from a real SQLite events table and from real RabbitMQ reach the
hub only for conversations with an open live chat; a safety reply flags the chat."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pika
import pytest
from sqlalchemy import create_engine, text

from clinic.handoff.crypto import build_cipher, generate_key
from clinic.live_chat.feed import Feed, SqlEventTail, run_amqp, run_sql, source_from_env
from clinic.live_chat.hub import Hub
from clinic.live_chat.sealed_events import seal
from clinic.live_chat.store import LiveChatStore
from clinic.settings import load_settings

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
SECRET = "I took too many pills"


def _events(sender: str) -> list[dict[str, Any]]:
    return [
        {
            "sender_id": sender,
            "event": "user",
            "timestamp": 1709564400.0,
            "text": "hello there",
            "intent": "greet",
        },
        {"sender_id": sender, "event": "user", "timestamp": 1709564401.0, "text": SECRET, "intent": "crisis"},
        {
            "sender_id": sender,
            "event": "slot",
            "timestamp": 1709564402.0,
            "name": "live_chat",
            "value": "waiting",
        },
    ]


def _events_table(path: Path) -> str:
    """Rasa's SQLEventBroker table, as Rasa creates it."""
    url = f"sqlite:///{path}"
    engine = create_engine(url, future=True)
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE events (id INTEGER NOT NULL PRIMARY KEY, sender_id VARCHAR(255), data TEXT)")
        )
    engine.dispose()
    return url


def _insert(url: str, rows: list[tuple[str, str]]) -> None:
    engine = create_engine(url, future=True)
    with engine.begin() as connection:
        for sender, data in rows:
            connection.execute(
                text("INSERT INTO events (sender_id, data) VALUES (:s, :d)"), {"s": sender, "d": data}
            )
    engine.dispose()


def _collect(hub: Hub, count: int, action: Any, timeout: float = 15) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    with hub.subscribe() as subscription:
        action()
        deadline = time.monotonic() + timeout
        while len(received) < count and time.monotonic() < deadline:
            message = subscription.get(timeout=0.2)
            if message is not None:
                received.append(message)
    return received


def test_feed_from_the_sql_table_keeps_open_chats_events_flags_safety_and_deletes_rows(
    live_store: LiveChatStore, key: str, tmp_path: Path
) -> None:
    cipher = build_cipher(key)
    url = _events_table(tmp_path / "events.db")
    ticket = live_store.request("conv-open", "visitor_asked", [], {})
    rows = [(e["sender_id"], seal(e, cipher)) for e in _events("conv-open") + _events("conv-other")]
    rows.append(("conv-open", seal(_events("conv-open")[0], build_cipher(generate_key()))))  # another key
    rows.append(("conv-open", "not a token"))
    _insert(url, rows)

    hub, stop, tail = Hub(), threading.Event(), SqlEventTail(url)
    thread = threading.Thread(target=run_sql, args=(Feed(live_store, hub, cipher), tail, stop), daemon=True)
    received = _collect(hub, 3, thread.start)
    time.sleep(0.5)
    stop.set()
    thread.join(timeout=10)
    tail.close()

    assert [m["conversation_id"] for m in received] == ["conv-open"] * 3
    assert all(m["reference"] == ticket.reference for m in received)
    assert [m["event"] for m in received] == ["user", "user", "slot"]
    assert received[1]["line"]["text"] == SECRET and received[1]["line"]["role"] == "visitor"
    assert [m["alert"] for m in received] == [False, True, False]
    assert received[2]["value"] == "waiting" and received[2]["line"] is None
    assert live_store.get(ticket.reference).alert_at is not None
    engine = create_engine(url, future=True)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM events")).scalar() == 0  # consumed rows deleted
    engine.dispose()


def test_sql_feed_survives_a_missing_table(live_store: LiveChatStore, key: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'not-yet.db'}"
    hub, stop, tail = Hub(), threading.Event(), SqlEventTail(url)
    feed = Feed(live_store, hub, build_cipher(key))
    thread = threading.Thread(target=run_sql, args=(feed, tail, stop), daemon=True)
    thread.start()
    time.sleep(0.5)
    assert thread.is_alive()  # waiting for Rasa to create the table, not crashed
    _events_table(tmp_path / "not-yet.db")
    live_store.request("conv-late", "visitor_asked", [], {})
    received = _collect(
        hub, 1, lambda: _insert(url, [("conv-late", seal(_events("conv-late")[0], build_cipher(key)))])
    )
    stop.set()
    thread.join(timeout=10)
    assert [m["conversation_id"] for m in received] == ["conv-late"]


def test_feed_from_rabbitmq(live_store: LiveChatStore, key: str) -> None:
    cipher = build_cipher(key)
    queue = f"clinic_live_chat_test_{uuid.uuid4().hex[:12]}"
    ticket = live_store.request("conv-mq", "visitor_asked", [], {})
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    channel.queue_declare(queue=queue, durable=True)
    try:
        for event in _events("conv-other") + _events("conv-mq"):
            channel.basic_publish("", queue, seal(event, cipher).encode("ascii"))
        hub, stop = Hub(), threading.Event()
        thread = threading.Thread(
            target=run_amqp, args=(Feed(live_store, hub, cipher), AMQP_URL, queue, stop), daemon=True
        )
        received = _collect(hub, 3, thread.start)
        stop.set()
        thread.join(timeout=10)
        assert [m["conversation_id"] for m in received] == ["conv-mq"] * 3
        assert [m["alert"] for m in received] == [False, True, False]
        assert live_store.get(ticket.reference).alert_at is not None
        # Everything was acknowledged: nothing left in the queue.
        assert channel.queue_declare(queue=queue, durable=True, passive=True).method.message_count == 0
    finally:
        channel.queue_delete(queue)
        connection.close()


def test_rabbitmq_feed_retries_while_the_broker_is_down(
    live_store: LiveChatStore, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    hub, stop = Hub(), threading.Event()
    feed = Feed(live_store, hub, build_cipher(key))
    thread = threading.Thread(
        target=run_amqp, args=(feed, "amqp://guest:guest@127.0.0.1:9/%2F", "q", stop), daemon=True
    )
    thread.start()
    time.sleep(1.5)
    assert thread.is_alive()
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert any("retrying" in record.getMessage() for record in caplog.records)


def test_the_source_is_chosen_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(
        {"CLINIC_ENV": "test", "HANDOFF_ENCRYPTION_KEY": generate_key()}, var_dir=tmp_path
    )
    assert source_from_env({}, settings) == ("sql", f"sqlite:///{tmp_path / 'events.db'}")
    assert source_from_env({"EVENT_BROKER_SQLITE_FILE": "/x/e.db"}, settings) == ("sql", "sqlite:////x/e.db")
    assert source_from_env({"EVENT_BROKER_URL": "postgresql://h/db"}, settings) == (
        "sql",
        "postgresql://h/db",
    )
    assert source_from_env({"EVENT_BROKER_AMQP_URL": AMQP_URL}, settings) == ("amqp", AMQP_URL)
