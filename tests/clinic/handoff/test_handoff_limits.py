"""New requests: a retried submission gets its record back, and rate limits per conversation
and per client address hold across processes and under concurrency (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from clinic.handoff.errors import TooManyRequests
from clinic.handoff.limits import counter_key
from clinic.handoff.models import Base
from clinic.handoff.requests import HandoffStore
from clinic.settings import HandoffLimits, load_settings
from tests.clinic.handoff.conftest import FakeClock, make_new_handoff, make_store

LIMITS = HandoffLimits(window=timedelta(hours=1), per_conversation=2, per_client=3)


def open_store(database_url: str, key: str, clock: FakeClock) -> HandoffStore:
    """Another process's view of the same database: its own engine and connection pool."""
    return make_store(database_url, key, clock, limits=LIMITS)


def outbox_rows(store: HandoffStore) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(text("SELECT COUNT(*) FROM handoff_outbox")).scalar())


def test_a_retried_submission_returns_its_record_even_after_it_was_resolved(store: HandoffStore) -> None:
    submission = make_new_handoff(submission_key="k" * 64)
    first = store.create(submission)
    store.claim(first.reference, "casey")
    store.resolve(first.reference, "casey")

    retry = store.create(submission)  # e.g. the action server died after committing the first
    assert (retry.reference, retry.created) == (first.reference, False)
    assert len(store.list()) == 1 and outbox_rows(store) == 2, "no second record, no second notification"
    assert store.find_submission("k" * 64).reference == first.reference
    assert store.find_submission("x" * 64) is None

    # A new form run in the same conversation is a new submission.
    again = store.create(
        make_new_handoff(conversation_id=submission.conversation_id, submission_key="n" * 64)
    )
    assert again.created and again.reference != first.reference


def test_limits_per_conversation_and_per_client_are_shared_by_processes(
    database_url: str, key: str, clock: FakeClock
) -> None:
    one, two = open_store(database_url, key, clock), open_store(database_url, key, clock)
    try:
        conversation = make_new_handoff().conversation_id
        for store in (one, two):  # two requests in one conversation, each resolved in between
            receipt = store.create(make_new_handoff(conversation_id=conversation))
            store.claim(receipt.reference, "casey")
            store.resolve(receipt.reference, "casey")
        with pytest.raises(TooManyRequests):
            one.create(make_new_handoff(conversation_id=conversation))

        client = hashlib.sha256(b"203.0.113.9").hexdigest()
        for store in (one, two, one):
            assert store.create(make_new_handoff(client_id=client)).created
        with pytest.raises(TooManyRequests):
            two.create(make_new_handoff(client_id=client))
        assert one.create(make_new_handoff(client_id="another-client-hash")).created
        assert one.create(make_new_handoff()).created, "no client id: only the conversation limit applies"
        assert len(one.list()) == 7 and outbox_rows(one) == 14, "a refused request leaves nothing behind"

        clock.advance(hours=1, seconds=1)
        assert two.create(make_new_handoff(client_id=client)).created, "a new window starts from zero"
        assert one.create(make_new_handoff(conversation_id=conversation)).created
    finally:
        one.close()
        two.close()


def test_simultaneous_requests_from_one_client_stop_at_the_limit(
    database_url: str, key: str, clock: FakeClock
) -> None:
    stores = [open_store(database_url, key, clock) for _ in range(3)]
    barrier = threading.Barrier(12)
    created, refused, errors = [], [], []

    def submit(store: HandoffStore) -> None:
        barrier.wait()
        try:
            created.append(store.create(make_new_handoff(client_id="one-client")))
        except TooManyRequests:
            refused.append(1)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(stores[i % 3],)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert errors == []
        assert (len(created), len(refused)) == (LIMITS.per_client, 12 - LIMITS.per_client)
        assert len(stores[0].list()) == LIMITS.per_client
    finally:
        for store in stores:
            store.close()


def test_counters_hold_no_address_and_expired_ones_are_purged(store: HandoffStore, clock: FakeClock) -> None:
    store.create(make_new_handoff(client_id="203.0.113.9"))
    with store.engine.connect() as connection:
        keys = [row[0] for row in connection.execute(text("SELECT key FROM rate_counters"))]
    assert len(keys) == 2 and not any("203.0.113.9" in k or "conv-" in k for k in keys)
    assert store.purge_expired_counters() == 0
    clock.advance(days=1)
    assert store.purge_expired_counters() == 2


def test_limits_come_from_the_clinic_configuration(tmp_path: Path) -> None:
    config = tmp_path / "clinic.yml"
    config.write_text(
        'clinic: {phone: "+1-555-0100", email: "care@clinic.example"}\n'
        "handoff: {limits: {window_minutes: 30, per_conversation: 1, per_client: 4}}\n"
        "privacy: {abandoned_form_minutes: 90}\n"
    )
    public = load_settings({}, config_path=config, secrets=False)
    assert public.limits == HandoffLimits(window=timedelta(minutes=30), per_conversation=1, per_client=4)
    assert public.abandoned_form_after == timedelta(minutes=90)
    shipped = load_settings({}, secrets=False)
    assert shipped.limits.per_client >= 1 and shipped.limits.per_conversation >= 1


def test_a_database_from_the_previous_version_is_upgraded_in_place(
    database_url: str, key: str, clock: FakeClock
) -> None:
    engine = create_engine(database_url)
    Base.metadata.create_all(engine)
    with engine.begin() as connection:  # back to the tables as the previous version made them
        for statement in (
            "DROP INDEX uq_handoffs_submission_key",
            "ALTER TABLE handoffs DROP COLUMN submission_key",
            "ALTER TABLE coordinators DROP COLUMN session_token",
            "DROP TABLE rate_counters",
            "ALTER TABLE handoff_outbox DROP COLUMN claimed_by",
            "ALTER TABLE handoff_outbox DROP COLUMN claimed_until",
        ):
            connection.exec_driver_sql(statement)
    engine.dispose()
    store = open_store(database_url, key, clock)
    try:
        store.create_coordinator("casey", "correct horse battery staple")
        assert store.session_token("casey")
        reference = store.create(make_new_handoff(submission_key="s" * 64)).reference
        assert store.find_submission("s" * 64).reference == reference
        assert store.create(make_new_handoff(submission_key="s" * 64)).reference == reference
    finally:
        store.close()


def test_sign_in_attempts_are_reserved_atomically_across_processes(
    database_url: str, key: str, clock: FakeClock
) -> None:
    """The inbox's throttle (clinic/handoff/inbox/auth.py) on both databases: of 40 simultaneous
    attempts from several processes, exactly the limit get through."""
    stores = [open_store(database_url, key, clock) for _ in range(4)]
    barrier = threading.Barrier(40)
    granted: list[bool] = []
    limits = [
        (counter_key("signin-pair", "casey", "192.0.2.1"), 5),
        (counter_key("signin-user", "casey"), 20),
    ]

    def attempt(store: HandoffStore) -> None:
        barrier.wait()
        granted.append(store.reserve_attempts(limits, timedelta(minutes=15)))

    threads = [threading.Thread(target=attempt, args=(stores[i % 4],)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert (granted.count(True), granted.count(False)) == (5, 35)
        assert stores[1].reserve_attempts(
            [(counter_key("signin-pair", "robin", "192.0.2.1"), 5)], timedelta(minutes=15)
        )
    finally:
        for store in stores:
            store.close()
