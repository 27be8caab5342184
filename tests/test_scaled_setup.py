"""The scaled set-up: conversations kept in PostgreSQL and locked in Redis (endpoints.scaled.yml),
against the real servers on this machine. Never skipped: CI has both."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import psycopg2
import pytest
import redis
import yaml

from tests.evaluation.evaluate import send
from tests.support.rasa_servers import ROOT, TRACKER_STORE_TYPE, rasa_stack

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS_DB = 7


@pytest.fixture(scope="module")
def tracker_db() -> Iterator[str]:
    name = f"clinic_tracker_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(dbname="postgres", **PG)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    yield name
    admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()


def test_scaled_endpoints_file_uses_postgresql_and_redis() -> None:
    endpoints = yaml.safe_load((ROOT / "endpoints.scaled.yml").read_text())
    assert endpoints["tracker_store"]["dialect"] == "postgresql"
    assert endpoints["lock_store"]["type"] == "redis"


def test_conversations_are_kept_in_postgresql_and_locked_in_redis(tracker_db: str) -> None:
    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    commands_before = client.info("stats")["total_commands_processed"]
    tracker_store = {"type": TRACKER_STORE_TYPE, "dialect": "postgresql", "url": "127.0.0.1", "port": 5432,
                     "db": tracker_db, "username": "postgres"}  # fmt: skip
    lock_store = {"type": "redis", "url": "127.0.0.1", "port": 6379, "db": REDIS_DB, "key_prefix": "test"}
    senders = [f"scaled-{i}-{uuid.uuid4().hex[:6]}" for i in range(4)]
    replies: dict = {}
    with rasa_stack(tracker_store=tracker_store, lock_store=lock_store) as stack:

        def talk(sender: str) -> None:
            replies[sender] = [send(stack.rest_webhook, m, sender) for m in ("hi", "is the iv safe?")]

        threads = [threading.Thread(target=talk, args=(s,)) for s in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert all(any("through a vein (IV)" in r.get("text", "") for r in replies[s][1]) for s in senders)
    with psycopg2.connect(dbname=tracker_db, **PG) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT sender_id, count(*) FROM events WHERE type_name = 'user' GROUP BY sender_id")
        counts = dict(cursor.fetchall())
    assert {s: counts.get(s) for s in senders} == {s: 2 for s in senders}
    assert client.info("stats")["total_commands_processed"] > commands_before + len(senders) * 2
