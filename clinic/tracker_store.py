"""Rasa's SQL tracker store without two costs that every message paid in Rasa 3.6.

Every message reads the conversation back and saves it again, so these costs are on each reply:
- Reading: Rasa turns each stored event back into an object by walking the whole tree of event
  classes again for every event (`Event.resolve_by_type` calls `all_subclasses`). A profile of
  the bot under load put 10% of the server's time there. Here the table of event types is built
  once.
- Saving on SQLite: in SQLite's default journal mode each commit waits for the disk twice and
  blocks readers. Write-ahead logging (WAL) with `synchronous=NORMAL` waits at checkpoints only,
  and lets the privacy job and the gaps report read while the bot writes. A power cut can lose
  the last replies, never corrupt the file; handoff requests live in their own store.

- Streaming to an event broker (live chat, docs/live-chat.md): Rasa reads the whole conversation
  back before each save to find the events that are new. The save already knows them (the events
  after the stored ones), so they are published from there, after the commit.

Same tables, same rows and same queries as `SQLTrackerStore`, so Rasa's tools, the privacy job
and the gaps report read it unchanged. Use it in endpoints.yml:
`type: clinic.tracker_store.ClinicSQLTrackerStore`.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from rasa.shared.utils.common import all_subclasses

SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=5000")

_EVENT_TYPES: dict[str, type[Event]] = {}


def event_type(type_name: str) -> type[Event] | None:
    """The event class for a stored type name, as `Event.resolve_by_type` finds it (first match)."""
    if not _EVENT_TYPES:
        for cls in reversed(all_subclasses(Event)):
            _EVENT_TYPES[cls.type_name] = cls
    return _EVENT_TYPES.get(type_name)


def deserialise_event(data: dict[str, Any]) -> Event | None:
    """One stored event as an object; unknown types go through Rasa's own path, which warns."""
    cls = event_type(data.get("event") or "")
    return cls._from_parameters(data) if cls else Event.from_parameters(data)


def _tune_sqlite(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def sqlite_engine(url: sa.engine.URL) -> sa.engine.Engine:
    """A pooled engine in WAL mode. SQLAlchemy 1.4 opens a new SQLite connection for each session
    by default; closing the last one checkpoints and deletes the WAL file on every save."""
    engine = sa.create_engine(
        url, poolclass=sa.pool.QueuePool, pool_size=2, connect_args={"check_same_thread": False}
    )
    sa.event.listen(engine, "connect", _tune_sqlite)
    return engine


class ClinicSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` with one-time event type lookup and, on SQLite, WAL mode."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            self.engine.dispose()  # Rasa's engine created the tables; the pooled one serves from here
            self.engine = sqlite_engine(self.engine.url)
            self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions)
            rows = query.with_entities(self.SQLEvent.data).all()
        events = [deserialise_event(json.loads(data)) for (data,) in rows]
        events = [event for event in events if event is not None]
        if not events or not self.domain:
            return None
        return DialogueStateTracker.from_events(sender_id, events, self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events not stored yet, then publish them (see the module docstring)."""
        with self.session_scope() as session:
            events = list(self._additional_events(session, tracker))
            for event in events:
                session.add(self._row(tracker.sender_id, event.as_dict()))
            session.commit()
        if self.event_broker is not None:
            published = [{"sender_id": tracker.sender_id, **event.as_dict()} for event in events]
            publish_many = getattr(self.event_broker, "publish_many", None)  # the sealed SQL broker's
            if publish_many is not None:
                publish_many(published)
            else:
                for event in published:
                    self.event_broker.publish(event)

    def _row(self, sender_id: str, data: dict[str, Any]) -> Any:
        """One event's row, with the columns `SQLTrackerStore.save` fills."""
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=data.get("event"),
            timestamp=data.get("timestamp"),
            intent_name=((data.get("parse_data") or {}).get("intent") or {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"),
            data=json.dumps(data),
        )
