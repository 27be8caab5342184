"""HandoffStore on SQLite and PostgreSQL: creation, idempotency, workflow, encryption, purge."""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime

import pytest
from sqlalchemy import text

from clinic.handoff.crypto import DecryptionError, generate_key
from clinic.handoff.models import REFERENCE_ALPHABET
from clinic.handoff.requests import (
    AccountError,
    HandoffNotFound,
    HandoffStore,
    InvalidHandoff,
    InvalidTransition,
    StoreUnavailable,
)
from tests.clinic.handoff.conftest import (
    HOURS,
    TOPIC_NOTE,
    UTC,
    VISITOR_EMAIL,
    VISITOR_NAME,
    VISITOR_PHONE,
    VISITOR_PHONE_E164,
    VISITOR_SECRET_TEXT,
    FakeClock,
    free_port,
    make_new_handoff,
)

REFERENCE_RE = re.compile(rf"^[{REFERENCE_ALPHABET}]{{3}}-[{REFERENCE_ALPHABET}]{{4}}$")


def _raw_rows(store: HandoffStore, table: str) -> list[tuple]:
    with store.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(f"SELECT * FROM {table}"))]


def test_create_stores_the_request_and_returns_a_receipt(store: HandoffStore) -> None:
    receipt = store.create(make_new_handoff(contact_method="phone", contact_value=VISITOR_PHONE))

    assert receipt.created is True
    assert REFERENCE_RE.match(receipt.reference), receipt.reference
    assert not set("01ILOU") & set(receipt.reference)
    # Clock: Monday 10:00 Eastern -> contact by 17:00 Eastern today.
    assert receipt.expected_contact_text == "by 5 PM Eastern time today"
    assert receipt.expected_contact == datetime(2024, 3, 4, 22, 0, tzinfo=UTC)

    detail = store.get(receipt.reference)
    assert detail.name == VISITOR_NAME
    assert detail.contact_method == "phone"
    assert detail.contact_value == VISITOR_PHONE_E164
    assert detail.best_time == "weekday mornings"
    assert detail.topic_note == TOPIC_NOTE
    assert detail.topics == ["prp", "knee"]
    assert detail.transcript[0]["role"] == "visitor"
    assert VISITOR_SECRET_TEXT in detail.transcript[0]["text"]
    assert detail.status == "new"
    assert detail.created_at == datetime(2024, 3, 4, 15, 0, tzinfo=UTC)
    assert [event.action for event in detail.audit] == ["created"]


def test_create_queues_one_notification_per_channel_without_personal_data(store: HandoffStore) -> None:
    receipt = store.create(make_new_handoff())

    rows = _raw_rows(store, "handoff_outbox")
    assert len(rows) == 2
    with store.session() as session:
        from clinic.handoff.models import OutboxMessage

        outbox = session.query(OutboxMessage).order_by(OutboxMessage.kind).all()
        assert [row.kind for row in outbox] == ["email", "webhook"]
        for row in outbox:
            payload = json.loads(row.payload)
            assert payload["reference"] == receipt.reference
            assert payload["url"] == f"http://inbox.test/handoffs/{receipt.reference}"
            assert row.delivered_at is None and row.attempts == 0
            for secret in (VISITOR_NAME, VISITOR_EMAIL, VISITOR_SECRET_TEXT, TOPIC_NOTE, "prp"):
                assert secret not in row.payload


def test_submitting_twice_returns_the_existing_request(store: HandoffStore) -> None:
    new = make_new_handoff()
    first = store.create(new)
    second = store.create(make_new_handoff(conversation_id=new.conversation_id, name="Someone Else"))

    assert second.created is False
    assert second.reference == first.reference
    assert second.expected_contact == first.expected_contact
    assert len(store.list()) == 1
    assert store.get(first.reference).name == VISITOR_NAME  # not overwritten
    assert len(_raw_rows(store, "handoff_outbox")) == 2  # no second notification
    assert [e.action for e in store.get(first.reference).audit] == ["created", "duplicate_request"]

    # A claimed request is still open: still the same one.
    store.claim(first.reference, "casey")
    assert store.create(new).reference == first.reference

    # Once resolved, the same conversation may ask again and gets a new request.
    store.resolve(first.reference, "casey")
    third = store.create(new)
    assert third.created is True
    assert third.reference != first.reference
    assert len(store.list()) == 2


def test_simultaneous_submissions_create_one_record(store: HandoffStore) -> None:
    new = make_new_handoff()
    barrier = threading.Barrier(6)
    receipts = []
    errors = []

    def submit() -> None:
        barrier.wait()
        try:
            receipts.append(store.create(new))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert len({receipt.reference for receipt in receipts}) == 1
    assert sum(receipt.created for receipt in receipts) == 1
    assert len(store.list()) == 1


def test_claim_note_resolve_with_audit_trail(store: HandoffStore, clock: FakeClock) -> None:
    reference = store.create(make_new_handoff()).reference

    with pytest.raises(InvalidTransition, match="must be claimed before it can be resolved"):
        store.resolve(reference, "casey")

    clock.advance(minutes=5)
    claimed = store.claim(reference, "casey")
    assert claimed.status == "claimed"
    assert claimed.claimed_by == "casey"
    assert claimed.claimed_at == clock.now

    with pytest.raises(InvalidTransition, match="already claimed by casey"):
        store.claim(reference, "robin")

    clock.advance(minutes=5)
    noted = store.add_note(reference, "casey", "Left a voicemail.")
    assert [(n.author, n.text, n.created_at) for n in noted.notes] == [
        ("casey", "Left a voicemail.", clock.now)
    ]
    with pytest.raises(ValueError, match="empty"):
        store.add_note(reference, "casey", "   ")

    clock.advance(minutes=5)
    resolved = store.resolve(reference, "casey")
    assert resolved.status == "resolved"
    assert resolved.resolved_by == "casey"
    assert resolved.resolved_at == clock.now

    with pytest.raises(InvalidTransition, match="already resolved"):
        store.resolve(reference, "casey")
    with pytest.raises(InvalidTransition, match="already resolved"):
        store.claim(reference, "casey")

    audit = store.get(reference, viewer="robin").audit
    assert [(a.actor, a.action) for a in audit] == [
        ("bot", "created"),
        ("casey", "claimed"),
        ("casey", "note_added"),
        ("casey", "resolved"),
        ("robin", "viewed"),
    ]
    assert [a.at for a in audit] == sorted(a.at for a in audit)
    assert VISITOR_NAME not in " ".join(a.detail or "" for a in audit)


def test_unknown_reference_and_lenient_reference_input(store: HandoffStore) -> None:
    reference = store.create(make_new_handoff()).reference
    assert store.get(reference.lower().replace("-", " ")).reference == reference
    with pytest.raises(HandoffNotFound):
        store.get("ZZZ-ZZZZ")
    with pytest.raises(HandoffNotFound):
        store.claim("ZZZ-ZZZZ", "casey")


def test_list_filters_by_status_newest_first(store: HandoffStore, clock: FakeClock) -> None:
    refs = []
    for _ in range(3):
        refs.append(store.create(make_new_handoff()).reference)
        clock.advance(minutes=1)
    store.claim(refs[1], "casey")

    assert [h.reference for h in store.list()] == refs[::-1]
    assert [h.reference for h in store.list("all")] == refs[::-1]
    assert [h.reference for h in store.list("new")] == [refs[2], refs[0]]
    claimed = store.list("claimed")
    assert [(h.reference, h.claimed_by) for h in claimed] == [(refs[1], "casey")]
    assert claimed[0].name is None and claimed[0].contact_value is None  # no contact unless asked
    assert store.list("claimed", include_contact=True)[0].contact_value == VISITOR_EMAIL
    assert store.counts() == {"new": 2, "claimed": 1, "resolved": 0, "all": 3}
    with pytest.raises(ValueError):
        store.list("open")


def test_personal_data_is_encrypted_at_rest(store: HandoffStore, database_url: str, key: str) -> None:
    reference = store.create(make_new_handoff(contact_method="phone", contact_value=VISITOR_PHONE)).reference
    store.create(make_new_handoff())  # an email one too
    store.add_note(reference, "casey", "Visitor mentioned a private diagnosis")

    raw = repr(_raw_rows(store, "handoffs")) + repr(_raw_rows(store, "handoff_notes"))
    raw += repr(_raw_rows(store, "handoff_audit_events")) + repr(_raw_rows(store, "handoff_outbox"))
    assert reference in raw  # the reference is not secret; the query did return the rows
    for plaintext in (
        VISITOR_NAME,
        "Quixote",
        VISITOR_EMAIL,
        VISITOR_PHONE_E164,
        "2125550187",
        VISITOR_SECRET_TEXT,
        "cartilage",
        TOPIC_NOTE,
        "weekday mornings",
        "private diagnosis",
        "knee",
    ):
        assert plaintext not in raw, plaintext

    # The right key reads it back; another key cannot.
    same_key = HandoffStore(database_url, key, office_hours=HOURS, inbox_base_url="http://inbox.test")
    try:
        assert same_key.get(reference).contact_value == VISITOR_PHONE_E164
    finally:
        same_key.close()
    other = HandoffStore(database_url, generate_key(), office_hours=HOURS, inbox_base_url="http://inbox.test")
    try:
        with pytest.raises(DecryptionError, match="HANDOFF_ENCRYPTION_KEY"):
            other.get(reference)
        # Listing needs no decryption, so the queue still works for the wrong key...
        assert len(other.list()) == 2
    finally:
        other.close()


def test_key_rotation_reads_old_records(store: HandoffStore, database_url: str, key: str) -> None:
    reference = store.create(make_new_handoff()).reference
    rotated = HandoffStore(
        database_url, f"{generate_key()},{key}", office_hours=HOURS, inbox_base_url="http://inbox.test"
    )
    try:
        assert rotated.get(reference).name == VISITOR_NAME
    finally:
        rotated.close()


def test_purge_deletes_only_old_resolved_requests(store: HandoffStore, clock: FakeClock) -> None:
    old = store.create(make_new_handoff()).reference
    recent = store.create(make_new_handoff()).reference
    still_open = store.create(make_new_handoff()).reference
    store.claim(old, "casey")
    store.add_note(old, "casey", "done")
    store.resolve(old, "casey")
    clock.advance(days=80)
    store.claim(recent, "casey")
    store.resolve(recent, "casey")
    clock.advance(days=15)  # old: resolved 95 days ago; recent: 15 days ago; open: 95 days old

    assert store.purge_resolved(90) == 1
    assert {h.reference for h in store.list()} == {recent, still_open}
    with pytest.raises(HandoffNotFound):
        store.get(old)
    # Children of the purged handoff are gone too: 2 remaining handoffs x 2 channels.
    assert len(_raw_rows(store, "handoff_outbox")) == 4
    assert len(_raw_rows(store, "handoff_notes")) == 0
    handoff_ids = {row[0] for row in _raw_rows(store, "handoffs")}
    assert {row[1] for row in _raw_rows(store, "handoff_audit_events")} <= handoff_ids

    assert store.purge_resolved(90) == 0
    assert store.purge_resolved(10) == 1
    assert [h.reference for h in store.list()] == [still_open]


def test_invalid_submissions_are_rejected(store: HandoffStore) -> None:
    with pytest.raises(InvalidHandoff, match="email"):
        store.create(make_new_handoff(contact_value="not-an-email"))
    with pytest.raises(InvalidHandoff, match="phone"):
        store.create(make_new_handoff(contact_method="phone", contact_value="12"))
    with pytest.raises(InvalidHandoff, match="contact_method"):
        store.create(make_new_handoff(contact_method="fax"))
    with pytest.raises(InvalidHandoff, match="reason"):
        store.create(make_new_handoff(reason="bored"))
    with pytest.raises(InvalidHandoff, match="timezone-aware"):
        store.create(make_new_handoff(consent_at=datetime(2024, 3, 4, 10, 0)))
    with pytest.raises(InvalidHandoff, match="role"):
        store.create(
            make_new_handoff(transcript=[{"role": "admin", "text": "x", "at": "2024-03-04T10:00:00Z"}])
        )
    with pytest.raises(InvalidHandoff, match="name"):
        store.create(make_new_handoff(name="  "))
    assert store.list() == []


def test_coordinator_accounts(store: HandoffStore) -> None:
    store.create_coordinator("casey", "correct horse battery")
    assert store.authenticate("casey", "correct horse battery") is True
    assert store.authenticate("casey", "wrong password here") is False
    assert store.authenticate("nobody", "correct horse battery") is False
    with pytest.raises(AccountError, match="already exists"):
        store.create_coordinator("casey", "another long password")
    with pytest.raises(AccountError, match="at least 12"):
        store.create_coordinator("robin", "short")

    (row,) = [r for r in _raw_rows(store, "coordinators")]
    assert "correct horse battery" not in repr(row)
    assert str(row[2]).startswith(("scrypt:", "pbkdf2:"))

    store.set_active("casey", False)
    assert store.authenticate("casey", "correct horse battery") is False
    assert store.is_active_coordinator("casey") is False


@pytest.mark.slow
def test_store_unavailable_when_database_unreachable(key: str) -> None:
    unreachable = HandoffStore(
        f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/nothing",
        key,
        office_hours=HOURS,
        inbox_base_url="http://inbox.test",
    )
    try:
        with pytest.raises(StoreUnavailable):
            unreachable.create(make_new_handoff())
        with pytest.raises(StoreUnavailable):
            unreachable.list()
    finally:
        unreachable.close()


def test_store_unavailable_for_an_unusable_sqlite_path(key: str) -> None:
    broken = HandoffStore(
        "sqlite:////proc/no-such-dir/handoffs.db", key, office_hours=HOURS, inbox_base_url="http://inbox.test"
    )
    try:
        with pytest.raises(StoreUnavailable):
            broken.create(make_new_handoff())
    finally:
        broken.close()


def test_failed_write_leaves_no_partial_record(store: HandoffStore) -> None:
    """Handoff, audit event and outbox rows share one transaction: all or nothing."""
    store.create(make_new_handoff())
    with store.engine.begin() as connection:
        connection.execute(text("DROP TABLE handoff_outbox"))

    with pytest.raises(StoreUnavailable):
        store.create(make_new_handoff())

    assert len(_raw_rows(store, "handoffs")) == 1
    assert len(_raw_rows(store, "handoff_audit_events")) == 1


def test_simultaneous_claims_have_one_winner(store: HandoffStore) -> None:
    reference = store.create(make_new_handoff()).reference
    users = [f"coordinator{i}" for i in range(5)]
    barrier = threading.Barrier(len(users))
    outcomes: dict[str, str] = {}

    def claim(user: str) -> None:
        barrier.wait()
        try:
            store.claim(reference, user)
            outcomes[user] = "won"
        except InvalidTransition:
            outcomes[user] = "lost"

    threads = [threading.Thread(target=claim, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    winners = [user for user, outcome in outcomes.items() if outcome == "won"]
    assert len(outcomes) == len(users) and len(winners) == 1
    detail = store.get(reference)
    assert detail.claimed_by == winners[0]
    assert [(a.actor, a.action) for a in detail.audit] == [("bot", "created"), (winners[0], "claimed")]


def test_only_the_claimer_resolves_and_an_administrator_can_reassign(store: HandoffStore) -> None:
    reference = store.create(make_new_handoff()).reference
    store.claim(reference, "casey")
    with pytest.raises(InvalidTransition, match="claimed by casey: only casey can mark it as resolved"):
        store.resolve(reference, "robin")
    assert store.get(reference).status == "claimed"

    with pytest.raises(AccountError, match="no active coordinator"):
        store.reassign(reference, "robin", "cli:admin")
    store.create_coordinator("robin", "correct horse battery staple")
    assert store.reassign(reference, "robin", "cli:admin").claimed_by == "robin"
    with pytest.raises(InvalidTransition, match="only robin"):
        store.resolve(reference, "casey")
    assert store.resolve(reference, "robin").resolved_by == "robin"
    audit = [(a.actor, a.action, a.detail) for a in store.get(reference).audit]
    assert ("cli:admin", "reassigned", "claimed by casey -> robin") in audit
    with pytest.raises(InvalidTransition, match="nothing to reassign"):
        store.reassign(reference, "robin", "cli:admin")


def test_the_record_keeps_the_topic_titles_the_visitor_saw(store: HandoffStore) -> None:
    titles = {"prp": "Platelet-rich plasma (PRP)", "not_discussed": "Dropped: not one of the topics"}
    detail = store.get(store.create(make_new_handoff(topic_titles=titles)).reference)
    assert detail.topic_titles == {"prp": "Platelet-rich plasma (PRP)"}
    assert detail.topics_seen == ["Platelet-rich plasma (PRP)", "knee"], "no title: the id, readable"
    with pytest.raises(InvalidHandoff, match="topic_titles"):
        store.create(make_new_handoff(topic_titles=["prp"]))
