"""The inbox's feed: Rasa's sealed broker events -> the coordinators' pages (docs/live-chat.md).

A daemon thread in the inbox process reads the events Rasa's broker publishes
(``clinic/live_chat/event_broker.py``), from either

- the SQL table Rasa's SQLEventBroker writes (``events``: id, sender_id, data), on the embedded
  default (``EVENT_BROKER_URL``, default ``sqlite:///<var>/events.db``), deleting each row once
  read so that visitors' (sealed) words do not pile up; or
- RabbitMQ (``EVENT_BROKER_AMQP_URL``, queue ``EVENT_BROKER_QUEUE``, default ``clinic_live_chat``,
  declared durable like Rasa's broker does), acknowledging each message once handled.

It opens each event (``sealed_events.open_sealed``), drops those of conversations without an open
live chat, flags a chat whose visitor got the safety reply, and publishes the rest on the
in-process ``Hub`` the event streams read. A broker that is down is retried with backoff; logs
name the error type only, never an event's content.

Either source has one consumer: with several inbox processes, only the one that read an event
pushes it live (the others' pages see it on reload, from Rasa's conversation store).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.fernet import MultiFernet
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from clinic.handoff.crypto import build_cipher
from clinic.live_chat.hub import Hub
from clinic.live_chat.rasa_api import message_line
from clinic.live_chat.sealed_events import is_safety_event, open_sealed
from clinic.live_chat.store import LiveChatStore
from clinic.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "clinic_live_chat"
BATCH = 200
MAX_BACKOFF = 30.0


class Feed:
    """Turns one sealed event into a message on the hub (or nothing)."""

    def __init__(self, store: LiveChatStore, hub: Hub, cipher: MultiFernet) -> None:
        self.store = store
        self.hub = hub
        self.cipher = cipher

    def handle(self, sealed: str | bytes) -> dict[str, Any] | None:
        """Publish the event if its conversation has an open live chat; returns the message."""
        event = open_sealed(sealed, self.cipher)
        if event is None or not isinstance(event.get("sender_id"), str):
            return None
        conversation_id = event["sender_id"]
        chat = self.store.open_chat(conversation_id)
        if chat is None:
            return None
        alert = is_safety_event(event)
        if alert:
            self.store.mark_alert(conversation_id)
        message = {
            "type": "event",
            "reference": chat.reference,
            "conversation_id": conversation_id,
            "event": event.get("event"),
            "status": chat.status,
            "line": message_line(event),
            "alert": alert,
        }
        if event.get("event") == "slot":
            message["value"] = event.get("value")
        self.hub.publish(message)
        return message


class _Backoff:
    def __init__(self) -> None:
        self.delay = 1.0

    def reset(self) -> None:
        self.delay = 1.0

    def wait(self, stop: threading.Event) -> None:
        stop.wait(self.delay)
        self.delay = min(self.delay * 2, MAX_BACKOFF)


class SqlEventTail:
    """Rasa's SQL broker table: read the oldest rows, delete what has been handled.

    Rows are read oldest first and deleted by id after handling (never "everything up to id N":
    on PostgreSQL a row with a lower id can commit after a higher one)."""

    def __init__(self, url: str) -> None:
        options: dict[str, Any] = {"future": True, "hide_parameters": True}
        if url.startswith("sqlite"):
            options["connect_args"] = {"timeout": 15, "check_same_thread": False}
        self.engine: Engine = create_engine(url, **options)

    def read(self, limit: int = BATCH) -> list[tuple[int, str]]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, data FROM events ORDER BY id LIMIT :limit"), {"limit": limit}
            ).all()
        return [(int(row[0]), row[1]) for row in rows]

    def delete(self, ids: list[int]) -> None:
        if not ids:
            return
        with self.engine.begin() as connection:
            for start in range(0, len(ids), BATCH):
                batch = ids[start : start + BATCH]
                marks = ", ".join(f":id{i}" for i in range(len(batch)))
                connection.execute(
                    text(f"DELETE FROM events WHERE id IN ({marks})"),  # noqa: S608 - only bind marks
                    {f"id{i}": value for i, value in enumerate(batch)},
                )

    def close(self) -> None:
        self.engine.dispose()


def run_sql(feed: Feed, tail: SqlEventTail, stop: threading.Event, interval: float = 0.25) -> None:
    """Tail the table until ``stop`` is set; survives the table or database being missing."""
    backoff = _Backoff()
    while not stop.is_set():
        try:
            rows = tail.read()
            for _, data in rows:
                feed.handle(data)
            tail.delete([row_id for row_id, _ in rows])
            backoff.reset()
            if len(rows) < BATCH:
                stop.wait(interval)
        except Exception as exc:  # noqa: BLE001 - the feed must outlive any one failure
            log.warning("live chat feed (SQL): %s; retrying in %.0f s", type(exc).__name__, backoff.delay)
            backoff.wait(stop)


def run_amqp(feed: Feed, url: str, queue: str, stop: threading.Event) -> None:
    """Consume the RabbitMQ queue until ``stop`` is set; reconnects with backoff."""
    import pika  # only the scaled set-up needs it
    from pika.exceptions import AMQPError

    backoff = _Backoff()
    while not stop.is_set():
        connection = None
        try:
            connection = pika.BlockingConnection(pika.URLParameters(url))
            channel = connection.channel()
            channel.queue_declare(queue=queue, durable=True)
            channel.basic_qos(prefetch_count=100)
            log.info("live chat feed: consuming RabbitMQ queue %s", queue)
            backoff.reset()
            for method, _properties, body in channel.consume(queue, inactivity_timeout=0.5):
                if stop.is_set():
                    break
                if method is None:
                    continue
                try:
                    feed.handle(body)
                except (SQLAlchemyError, RuntimeError) as exc:
                    # The store is down: keep the event for later and back off.
                    channel.basic_nack(method.delivery_tag, requeue=True)
                    raise exc
                channel.basic_ack(method.delivery_tag)
            channel.cancel()
        except (AMQPError, OSError, SQLAlchemyError, RuntimeError) as exc:
            log.warning(
                "live chat feed (RabbitMQ): %s; retrying in %.0f s", type(exc).__name__, backoff.delay
            )
            backoff.wait(stop)
        finally:
            if connection is not None and connection.is_open:
                try:
                    connection.close()
                except Exception:  # noqa: BLE001 - closing a broken connection
                    pass


def source_from_env(environ: Mapping[str, str], settings: Settings) -> tuple[str, str]:
    """("amqp", url) when EVENT_BROKER_AMQP_URL is set, else ("sql", url)."""
    amqp = (environ.get("EVENT_BROKER_AMQP_URL") or "").strip()
    if amqp:
        return "amqp", amqp
    url = (environ.get("EVENT_BROKER_URL") or "").strip()
    if not url:
        path = (environ.get("EVENT_BROKER_SQLITE_FILE") or "").strip() or str(settings.var_dir / "events.db")
        url = f"sqlite:///{path}"
    return "sql", url


def start_feed(
    store: LiveChatStore,
    hub: Hub,
    settings: Settings,
    environ: Mapping[str, str] | None = None,
    stop: threading.Event | None = None,
) -> tuple[threading.Thread, threading.Event]:
    """Start the feed as a daemon thread; returns it and the event that stops it."""
    environ = os.environ if environ is None else environ
    stop = stop or threading.Event()
    feed = Feed(store, hub, build_cipher(settings.encryption_key))
    kind, url = source_from_env(environ, settings)
    target: Callable[[], None]
    if kind == "amqp":
        queue = (environ.get("EVENT_BROKER_QUEUE") or DEFAULT_QUEUE).strip()
        target = lambda: run_amqp(feed, url, queue, stop)  # noqa: E731
    else:
        tail = SqlEventTail(url)
        target = lambda: run_sql(feed, tail, stop)  # noqa: E731
    thread = threading.Thread(target=target, name=f"live-chat-feed-{kind}", daemon=True)
    thread.start()
    log.info("live chat feed started (%s)", kind)
    time.sleep(0)  # let it start before the server does
    return thread, stop
