"""The scaled set-up: conversations kept in PostgreSQL and locked in Redis, with endpoints.scaled.yml
AS SHIPPED (its values from the environment, as `make run-scaled` sets them), against the real
servers on this machine. Never skipped: CI has both.

Issue 9, finding 10: the file quoted its "${VAR}" values, which Rasa does not expand, so the scaled
set-up did not start; the old test wrote endpoints of its own and never noticed."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import psycopg2
import pytest
import redis
from rasa.core.lock_store import LockStore
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import read_endpoint_config

from clinic.devtools.evaluate import send
from clinic.stack.local import ROOT, rasa_stack
from tests.support.postgres import PG, throwaway_database

REDIS_DB = 7


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
    }


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tracker_db: str) -> dict[str, str]:
    values = {
        **scaled_env(tracker_db),
        "ACTION_SERVER_URL": "http://127.0.0.1:5055/webhook",
        "ACTION_SERVER_TOKEN": "t0ken",
        "TRACKER_SQLITE_FILE": "/tmp/unused.db",
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
    assert all(any("through a vein (IV)" in r.get("text", "") for r in replies[s][1]) for s in senders)
    with psycopg2.connect(dbname=tracker_db, **PG) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT sender_id, count(*) FROM events WHERE type_name = 'user' GROUP BY sender_id")
        counts = dict(cursor.fetchall())
    assert {s: counts.get(s) for s in senders} == {s: 2 for s in senders}
    assert client.info("stats")["total_commands_processed"] > commands_before + len(senders) * 2
