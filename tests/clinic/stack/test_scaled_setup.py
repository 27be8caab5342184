"""The scaled set-up: conversations kept in PostgreSQL and locked in Redis, live chat events through
RabbitMQ, with endpoints.scaled.yml
AS SHIPPED (its values from the environment, as `make run-scaled` sets them), against the real
servers on this machine. Never skipped: CI has all three.

Issue 9, finding 10: the file quoted its "${VAR}" values, which Rasa does not expand, so the scaled
set-up did not start; the old test wrote endpoints of its own and never noticed."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pika
import psycopg2
import pytest
import redis
from rasa.core.lock_store import LockStore
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import read_endpoint_config

from clinic.devtools.evaluate import send
from clinic.handoff.crypto import build_cipher
from clinic.live_chat.sealed_events import open_sealed
from clinic.settings import load_settings
from clinic.stack.local import ROOT, rasa_stack
from tests.support.postgres import PG, throwaway_database

REDIS_DB = 7
QUEUE = "clinic_live_chat"


@pytest.fixture(scope="module")
def tracker_db() -> Iterator[str]:
    with throwaway_database("clinic_tracker") as name:
        yield name


def scaled_env(tracker_db: str) -> dict[str, str]:
    """What scripts/run_all.sh --scaled exports for endpoints.scaled.yml (here: test databases)."""
    return {
        "TRACKER_DB_HOST": PG["host"],
        "TRACKER_DB_PORT": str(PG["port"]),
        "TRACKER_DB_NAME": tracker_db,
        "TRACKER_DB_USER": PG["user"],
        "TRACKER_DB_PASSWORD": "",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": "6379",
        "REDIS_DB": str(REDIS_DB),
        "RABBITMQ_HOST": "127.0.0.1",
        "RABBITMQ_PORT": "5672",
        "RABBITMQ_USER": "guest",
        "RABBITMQ_PASSWORD": "guest",
    }


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tracker_db: str) -> dict[str, str]:
    values = {
        **scaled_env(tracker_db),
        "ACTION_SERVER_URL": "http://127.0.0.1:5055/webhook",
        "ACTION_SERVER_TOKEN": "t0ken",
        "TRACKER_SQLITE_FILE": "/tmp/unused.db",
        "EVENT_BROKER_SQLITE_FILE": "/tmp/unused-events.db",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_rasa_reads_both_shipped_endpoint_files_from_the_environment(environment: dict[str, str]) -> None:
    """Rasa's own reader, as `rasa run` uses it: every ${VAR} expanded, stores created."""
    for name in ("endpoints.yml", "endpoints.scaled.yml"):
        action = read_endpoint_config(str(ROOT / name), "action_endpoint")
        assert action.url == environment["ACTION_SERVER_URL"]
        assert action.headers == {"Authorization": "Bearer t0ken"}
    tracker = read_endpoint_config(str(ROOT / "endpoints.scaled.yml"), "tracker_store")
    assert tracker.kwargs["dialect"] == "postgresql" and int(tracker.kwargs["port"]) == PG["port"]
    store = TrackerStore.create(tracker, Domain.empty())
    assert store.engine.url.database == environment["TRACKER_DB_NAME"]
    lock_store = LockStore.create(read_endpoint_config(str(ROOT / "endpoints.scaled.yml"), "lock_store"))
    assert lock_store.red.connection_pool.connection_kwargs["db"] == REDIS_DB
    broker = read_endpoint_config(str(ROOT / "endpoints.scaled.yml"), "event_broker")
    assert (broker.url, int(broker.kwargs["port"]), broker.kwargs["queues"]) == ("127.0.0.1", 5672, [QUEUE])
    embedded = read_endpoint_config(str(ROOT / "endpoints.yml"), "event_broker")
    assert embedded.kwargs["db"] == environment["EVENT_BROKER_SQLITE_FILE"]


def sealed_events_in_queue(senders: list[str], expected: int, wait: float = 10) -> list[dict]:
    """Drain the live chat queue (endpoints.scaled.yml) of what belongs to `senders`, until
    `expected` user and bot events came (Rasa publishes in the background) or `wait` passed."""
    cipher = build_cipher(load_settings().encryption_key)
    connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", 5672))
    found: list[dict] = []
    deadline = time.monotonic() + wait
    try:
        channel = connection.channel()
        while time.monotonic() < deadline:
            method, _, body = channel.basic_get(QUEUE, auto_ack=True)
            if method is None:
                if sum(e["event"] in ("user", "bot") for e in found) >= expected:
                    return found
                time.sleep(0.2)
                continue
            event = open_sealed(body, cipher)
            if event and event.get("sender_id") in senders:
                found.append(event)
        return found
    finally:
        connection.close()


@pytest.mark.slow
def test_conversations_are_kept_in_postgresql_and_locked_in_redis(tracker_db: str) -> None:
    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    commands_before = client.info("stats")["total_commands_processed"]
    senders = [f"scaled-{i}-{uuid.uuid4().hex[:6]}" for i in range(4)]
    replies: dict = {}
    with rasa_stack(endpoints=ROOT / "endpoints.scaled.yml", rasa_env=scaled_env(tracker_db)) as stack:

        def talk(sender: str) -> None:
            replies[sender] = [send(stack.rest_webhook, m, sender) for m in ("hi", "is the iv safe?")]

        threads = [threading.Thread(target=talk, args=(s,)) for s in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        published = sealed_events_in_queue(senders, expected=len(senders) * 4)
    assert all(any("through a vein (IV)" in r.get("text", "") for r in replies[s][1]) for s in senders)
    with psycopg2.connect(dbname=tracker_db, **PG) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT sender_id, count(*) FROM events WHERE type_name = 'user' GROUP BY sender_id")
        counts = dict(cursor.fetchall())
    assert {s: counts.get(s) for s in senders} == {s: 2 for s in senders}
    assert client.info("stats")["total_commands_processed"] > commands_before + len(senders) * 2
    assert {(e["sender_id"], e["text"]) for e in published if e["event"] == "user"} == {
        (s, m) for s in senders for m in ("hi", "is the iv safe?")
    }
