"""The project's tracker store reads back exactly what Rasa's own SQL store reads, from the same
rows, on SQLite and PostgreSQL; SQLite runs in WAL mode, so a reader does not block the bot."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core import events as ev
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

from clinic.stack.local import ROOT
from clinic.tracker_store import ClinicSQLTrackerStore, event_type
from tests.support.postgres import throwaway_database

DOMAIN = Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture(params=["sqlite", "postgresql"])
def store_settings(request, tmp_path: Path) -> Iterator[dict]:
    if request.param == "sqlite":
        yield {"dialect": "sqlite", "db": str(tmp_path / "tracker.db")}
        return
    with throwaway_database("clinic_store") as name:
        yield {"dialect": "postgresql", "host": "127.0.0.1", "port": 5432, "db": name, "username": "postgres"}


def conversation(sender: str) -> DialogueStateTracker:
    """Two sessions with the kinds of events the bot stores: messages with parse data, answers
    with custom data, slots, a form and its end."""
    user = ev.UserUttered(
        "risks of the drip?",
        {"name": "faq", "confidence": 0.93},
        [{"entity": "route", "value": "intravenous", "start": 13, "end": 17}],
        parse_data={"response_selector": {"faq": {"response": {"intent_response_key": "faq/iv_risks"}}}},
    )
    events: list[ev.Event] = [
        ev.ActionExecuted("action_session_start"),
        ev.SessionStarted(),
        ev.ActionExecuted("action_listen"),
        user,
        ev.BotUttered("Infusing cells into a vein...", {"custom": {"kind": "source", "quotes": ["..."]}}),
        ev.ActionExecuted("action_listen"),
        ev.UserUttered("old session ends"),
        ev.ActionExecuted("action_session_start"),
        ev.SessionStarted(),
        ev.ActionExecuted("action_listen"),
        ev.UserUttered("talk to someone", {"name": "handoff"}),
        ev.ActionExecuted("handoff_form"),
        ev.ActiveLoop("handoff_form"),
        ev.SlotSet("requested_slot", "handoff_name"),
        ev.SlotSet("handoff_name", "Ann"),
        ev.ActiveLoop(None),
        ev.ActionExecuted("action_listen"),
    ]
    return DialogueStateTracker.from_events(sender, events, DOMAIN.slots)


def test_event_types_are_the_ones_rasa_resolves() -> None:
    for cls in all_subclasses(ev.Event):
        assert event_type(cls.type_name) is ev.Event.resolve_by_type(cls.type_name)
    assert event_type("no_such_event") is None


def test_reads_what_rasa_reads_from_the_same_rows(store_settings: dict) -> None:
    ours = ClinicSQLTrackerStore(domain=DOMAIN, **store_settings)
    rasas = SQLTrackerStore(domain=DOMAIN, **store_settings)
    asyncio.run(ours.save(conversation("visitor-1")))
    tracker = asyncio.run(ours.retrieve("visitor-1"))  # as Rasa does for each message: read, update, save
    tracker.update(ev.Restarted())
    tracker.update(ev.ActionExecuted("action_listen"))
    asyncio.run(ours.save(tracker))  # only the two new events are added

    for fetch in ("retrieve", "retrieve_full_tracker"):
        mine = asyncio.run(getattr(ours, fetch)("visitor-1"))
        theirs = asyncio.run(getattr(rasas, fetch)("visitor-1"))
        assert list(mine.events) == list(theirs.events)
        assert mine.current_slot_values() == theirs.current_slot_values()
    assert (
        len(asyncio.run(ours.retrieve_full_tracker("visitor-1")).events) == len(conversation("x").events) + 2
    )
    latest = asyncio.run(ours.retrieve("visitor-1"))
    assert isinstance(latest.events[0], ev.SessionStarted) and list(latest.events) == list(tracker.events)
    assert "talk to someone" in [getattr(event, "text", None) for event in latest.events]
    assert latest.get_slot("handoff_name") is None  # replayed up to and past the restart
    assert asyncio.run(ours.retrieve("nobody")) is None


def test_rasa_reads_what_it_writes(store_settings: dict) -> None:
    rasas = SQLTrackerStore(domain=DOMAIN, **store_settings)
    asyncio.run(rasas.save(conversation("visitor-2")))
    ours = ClinicSQLTrackerStore(domain=DOMAIN, **store_settings)
    assert list(asyncio.run(ours.retrieve("visitor-2")).events) == list(
        asyncio.run(rasas.retrieve("visitor-2")).events
    )


def test_sqlite_runs_in_wal_mode_and_readers_do_not_block_saves(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    store = ClinicSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
    asyncio.run(store.save(conversation("visitor-3")))
    tracker = asyncio.run(store.retrieve("visitor-3"))
    reader = sqlite3.connect(db)
    assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reader.execute("BEGIN")
    rows_seen = reader.execute("SELECT count(*) FROM events").fetchone()[0]  # a read transaction stays open
    tracker.update(ev.UserUttered("and the shot in the knee?"))
    asyncio.run(store.save(tracker))  # would raise "database is locked" in rollback-journal mode
    assert reader.execute("SELECT count(*) FROM events").fetchone()[0] == rows_seen  # a consistent snapshot
    reader.rollback()
    assert reader.execute("SELECT count(*) FROM events").fetchone()[0] == rows_seen + 1
    reader.close()
