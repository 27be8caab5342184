"""The live chat store on SQLite and PostgreSQL: availability, the line, joins, close, rating,
time-outs, presence and retention (docs/live-chat.md)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from clinic.handoff.errors import InvalidTransition
from clinic.handoff.requests import HandoffStore
from clinic.live_chat.store import ChatTaken, LiveChatStore, NotYourChat
from tests.clinic.handoff.conftest import HOURS, UTC, FakeClock
from tests.clinic.live_chat.conftest import CASEY, PASSWORD, ROBIN, make_live_store

TRANSCRIPT = [
    {"role": "visitor", "text": "Can a person help with my knee?", "at": "2024-03-04T15:00:00+00:00"},
    {
        "role": "notice",
        "text": "Casey (care coordinator) joined the chat.",
        "at": "2024-03-04T15:01:00+00:00",
    },
    {"role": "coordinator", "name": "Casey", "text": "Hello, I'm Casey.", "at": "2024-03-04T15:01:10+00:00"},
]


def _coordinators(handoff_store: HandoffStore, *names: str) -> None:
    for name in names:
        handoff_store.create_coordinator(name, PASSWORD)


def _ask(store: LiveChatStore, conversation: str = "conv-1") -> str:
    return store.request(
        conversation, "visitor_asked", ["prp", "knee"], {"prp": "Platelet-rich plasma"}
    ).reference


# ----------------------------------------------------------------- available now


def test_available_now_needs_an_available_present_coordinator_in_office_hours(
    live_store: LiveChatStore, handoff_store: HandoffStore, clock: FakeClock
) -> None:
    assert live_store.available_now() is False  # nobody at all
    _coordinators(handoff_store, CASEY)
    assert live_store.available_now() is False  # signed up, never available
    live_store.set_available(CASEY, True)
    assert live_store.available_now() is True
    clock.advance(seconds=61)  # the page stopped checking in
    assert live_store.available_now() is False
    live_store.heartbeat(CASEY)
    assert live_store.available_now() is True
    live_store.set_available(CASEY, False)
    assert live_store.available_now() is False
    live_store.set_available(CASEY, True)
    handoff_store.set_active(CASEY, False)
    assert live_store.available_now() is False
    handoff_store.set_active(CASEY, True)
    assert live_store.available_now() is True
    # Monday 4 March 2024 18:00 in New York: closed, even with Casey there.
    evening = datetime(2024, 3, 4, 23, 0, tzinfo=UTC)
    live_store.heartbeat(CASEY, now=evening)
    assert live_store.available_now(evening) is False
    saturday = datetime(2024, 3, 9, 15, 0, tzinfo=UTC)
    live_store.heartbeat(CASEY, now=saturday)
    assert live_store.available_now(saturday) is False


# ----------------------------------------------------------------- the line


def test_request_is_idempotent_and_positions_follow_the_order_of_asking(
    live_store: LiveChatStore, clock: FakeClock
) -> None:
    first = live_store.request("conv-a", "visitor_asked", ["prp"], {"prp": "PRP", "other": "x"})
    clock.advance(seconds=5)
    second = live_store.request("conv-b", "out_of_scope", [], {})
    again = live_store.request("conv-a", "visitor_asked", ["prp"], {})
    assert (first.position, first.created) == (1, True)
    assert (second.position, second.created) == (2, True)
    assert again.reference == first.reference and again.created is False and again.position == 1
    assert live_store.position("conv-b") == 2
    assert live_store.cancel("conv-a") is True
    assert live_store.cancel("conv-a") is False
    assert live_store.position("conv-a") is None
    assert live_store.position("conv-b") == 1
    queue = live_store.queue()
    assert [chat.reference for chat in queue] == [second.reference]
    assert queue[0].position == 1 and queue[0].reason == "out_of_scope"
    # A new request after a cancel is a new chat, at the back of the line.
    third = live_store.request("conv-a", "visitor_asked", [], {})
    assert third.created is True and third.reference != first.reference and third.position == 2
    with pytest.raises(ValueError):
        live_store.request("conv-c", "because", [], {})


def test_simultaneous_requests_for_one_conversation_make_one_chat(live_store: LiveChatStore) -> None:
    tickets, barrier = [], threading.Barrier(4)

    def ask() -> None:
        barrier.wait()
        tickets.append(live_store.request("conv-same", "visitor_asked", [], {}))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({ticket.reference for ticket in tickets}) == 1
    assert sum(ticket.created for ticket in tickets) == 1


# ----------------------------------------------------------------- join, hand back, close


def test_one_coordinator_wins_a_join_and_the_other_is_told_who(
    live_store: LiveChatStore, handoff_store: HandoffStore
) -> None:
    _coordinators(handoff_store, CASEY, ROBIN)
    live_store.set_display_name(ROBIN, "Robin M.")
    reference = _ask(live_store)
    results: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def join(user: str) -> None:
        barrier.wait()
        try:
            results[user] = live_store.join(reference, user)
        except ChatTaken as exc:
            results[user] = exc

    threads = [threading.Thread(target=join, args=(user,)) for user in (CASEY, ROBIN)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [user for user, result in results.items() if not isinstance(result, ChatTaken)]
    losers = [result for result in results.values() if isinstance(result, ChatTaken)]
    assert len(winners) == 1 and len(losers) == 1
    chat = live_store.get(reference)
    assert chat.status == "joined" and chat.coordinator == winners[0]
    assert losers[0].holder == ("Casey" if winners[0] == CASEY else "Robin M.")
    loser = ROBIN if winners[0] == CASEY else CASEY
    with pytest.raises(NotYourChat):
        live_store.require_joined(reference, loser)
    with pytest.raises(NotYourChat):
        live_store.hand_back(reference, loser)
    with pytest.raises(NotYourChat):
        live_store.close_chat(reference, loser, TRANSCRIPT)
    assert live_store.require_joined(reference, winners[0]).reference == reference


def test_close_makes_a_resolved_live_chat_record_with_transcript_times_and_note(
    live_store: LiveChatStore, handoff_store: HandoffStore, clock: FakeClock
) -> None:
    _coordinators(handoff_store, CASEY)
    reference = _ask(live_store, "conv-record")
    requested = clock.now
    clock.advance(seconds=40)
    joined = live_store.join(reference, CASEY)
    assert joined.coordinator_name == "Casey" and joined.joined_at == requested + timedelta(seconds=40)
    clock.advance(minutes=5)
    live_store.hand_back(reference, CASEY)
    assert live_store.get(reference).status == "handed_back"
    assert live_store.open_chat("conv-record") is not None
    clock.advance(minutes=1)
    closed = live_store.close_chat(reference, CASEY, TRANSCRIPT, note="  Booked a consultation.  ")
    assert closed.status == "closed" and closed.handoff_reference
    assert live_store.open_chat("conv-record") is None

    record = handoff_store.get(closed.handoff_reference)
    assert record.kind == "live_chat" and record.status == "resolved"
    assert record.conversation_id == "conv-record"
    assert record.name == "" and record.contact_value == ""
    assert record.transcript[2] == TRANSCRIPT[2]
    assert record.claimed_by == CASEY and record.resolved_by == CASEY
    assert record.created_at == requested and record.claimed_at == requested + timedelta(seconds=40)
    assert record.resolved_at == clock.now
    assert [note.text for note in record.notes] == ["Booked a consultation."]
    actions = [event.action for event in record.audit]
    assert actions[:4] == ["live_requested", "live_joined", "live_handed_back", "live_closed"]
    assert "resolved" in actions
    facts = live_store.facts_for_handoff(closed.handoff_reference)
    assert facts is not None and facts.waited == timedelta(seconds=40) and facts.coordinator == CASEY
    # Ended: no more moves.
    with pytest.raises(InvalidTransition):
        live_store.join(reference, CASEY)


def test_record_text_is_encrypted_at_rest(live_store: LiveChatStore, handoff_store: HandoffStore) -> None:
    _coordinators(handoff_store, CASEY)
    reference = _ask(live_store, "conv-secret")
    live_store.join(reference, CASEY)
    closed = live_store.close_chat(reference, CASEY, TRANSCRIPT, note="secret note words")
    with live_store.engine.connect() as connection:
        rows = connection.execute(text("SELECT transcript, topics FROM handoffs")).all()
        chats = connection.execute(text("SELECT topics, topic_titles FROM live_chats")).all()
    dump = repr(rows) + repr(chats)
    assert "knee" not in dump and "Platelet" not in dump and "prp" not in dump
    assert closed.handoff_reference


# ----------------------------------------------------------------- rating


def test_rating_goes_on_the_latest_closed_chat_once_within_a_day(
    live_store: LiveChatStore, handoff_store: HandoffStore, clock: FakeClock
) -> None:
    _coordinators(handoff_store, CASEY)
    assert live_store.rate("conv-r", 5, None) is False  # nothing closed yet
    reference = _ask(live_store, "conv-r")
    live_store.join(reference, CASEY)
    closed = live_store.close_chat(reference, CASEY, TRANSCRIPT)
    assert live_store.rate("conv-r", 0, None) is False
    assert live_store.rate("conv-r", 6, None) is False
    assert live_store.rate("conv-r", 4, "  " + "very kind " * 200 + " ") is True
    assert live_store.rate("conv-r", 1, None) is False  # already rated
    facts = live_store.facts_for_handoff(closed.handoff_reference)
    assert facts is not None and facts.rating == 4
    assert facts.rating_comment is not None and len(facts.rating_comment) == 1000
    assert facts.rating_comment.startswith("very kind")
    assert "rated" in [event.action for event in handoff_store.get(closed.handoff_reference).audit]

    other = _ask(live_store, "conv-s")
    live_store.join(other, CASEY)
    live_store.close_chat(other, CASEY, TRANSCRIPT)
    clock.advance(hours=25)
    assert live_store.rate("conv-s", 5, None) is False  # too late
    summary = live_store.rating_summary()
    assert summary.count == 1 and summary.average == 4.0


# ----------------------------------------------------------------- the watchdog's moves


def test_waiting_chats_time_out_after_the_wait_limit_once(
    database_url: str, key: str, clock: FakeClock
) -> None:
    first = make_live_store(database_url, key, clock)
    second = make_live_store(database_url, key, clock)  # another inbox process
    try:
        reference = _ask(first, "conv-t")
        clock.advance(minutes=2, seconds=59)
        assert first.time_out_waiting() == []
        clock.advance(seconds=2)
        moved = first.time_out_waiting() + second.time_out_waiting()
        assert [(m.reference, m.conversation_id) for m in moved] == [(reference, "conv-t")]
        assert first.get(reference).status == "timed_out"
        assert first.position("conv-t") is None
        # The visitor can ask again later: a new chat.
        assert first.request("conv-t", "visitor_asked", [], {}).created is True
    finally:
        first.close()
        second.close()


def test_a_joined_chat_returns_to_the_line_when_its_coordinators_page_goes_silent(
    live_store: LiveChatStore, handoff_store: HandoffStore, clock: FakeClock
) -> None:
    _coordinators(handoff_store, CASEY)
    early = _ask(live_store, "conv-early")
    clock.advance(seconds=1)
    _ask(live_store, "conv-late")
    live_store.join(early, CASEY)
    clock.advance(seconds=45)
    live_store.heartbeat(CASEY, early)  # the chat page checks in
    clock.advance(seconds=45)
    assert live_store.return_stale() == []
    clock.advance(seconds=20)  # 65 s since the last check-in
    moved = live_store.return_stale()
    assert len(moved) == 1 and moved[0].coordinator_name == "Casey" and moved[0].position == 1
    chat = live_store.get(early)
    assert chat.status == "waiting" and chat.position == 1  # back at its first place
    assert live_store.return_stale() == []
    # Its wait limit starts again from now.
    clock.advance(minutes=2)
    assert [m.reference for m in live_store.time_out_waiting()] != [early]


# ----------------------------------------------------------------- retention


def test_purge_removes_old_closed_and_timed_out_chats_with_their_records(
    live_store: LiveChatStore, handoff_store: HandoffStore, clock: FakeClock
) -> None:
    _coordinators(handoff_store, CASEY)
    closed_ref = _ask(live_store, "conv-old")
    live_store.join(closed_ref, CASEY)
    record = live_store.close_chat(closed_ref, CASEY, TRANSCRIPT).handoff_reference
    live_store.rate("conv-old", 3, "ok")
    timed = _ask(live_store, "conv-timed")
    clock.advance(minutes=4)
    live_store.time_out_waiting()
    waiting = _ask(live_store, "conv-waiting")
    clock.advance(days=91)
    assert handoff_store.purge_resolved(90) == 1
    with live_store.engine.connect() as connection:
        left = {row[0] for row in connection.execute(text("SELECT reference FROM live_chats"))}
        audits = connection.execute(text("SELECT count(*) FROM live_chat_audit_events")).scalar()
    assert left == {waiting}  # the open chat stays; the closed and the timed-out one are gone
    assert audits == 1  # the waiting chat's "requested"
    assert timed not in left and record
    assert live_store.rating_summary().count == 0


def test_a_database_made_before_live_chat_is_brought_up_to_date(
    database_url: str, key: str, clock: FakeClock
) -> None:
    from sqlalchemy import MetaData, Table, create_engine

    from clinic.handoff.models import Base

    added = {("handoffs", "kind"), ("coordinators", "display_name"), ("coordinators", "available")}
    added.add(("coordinators", "seen_at"))
    old = MetaData()
    for table in Base.metadata.sorted_tables:
        if not table.name.startswith("live_chat"):
            columns = [column.copy() for column in table.columns if (table.name, column.name) not in added]
            Table(table.name, old, *columns)
    engine = create_engine(database_url)
    old.create_all(engine)
    engine.dispose()
    handoffs = HandoffStore(
        database_url, key, office_hours=HOURS, inbox_base_url="http://inbox.test", clock=clock
    )
    store = make_live_store(database_url, key, clock)
    try:
        handoffs.create_coordinator(CASEY, PASSWORD)
        store.set_available(CASEY, True)
        assert store.available_now() is True
        reference = _ask(store, "conv-upgrade")
        store.join(reference, CASEY)
        record = store.close_chat(reference, CASEY, TRANSCRIPT).handoff_reference
        assert handoffs.get(record).kind == "live_chat"
    finally:
        handoffs.close()
        store.close()
