"""Redact and purge personal data in Rasa's SQL tracker store (SQLite or PostgreSQL).

Rasa keeps every event of a conversation, so what a visitor typed into the handoff form (name,
email, phone, best time, topic) would stay there in plain text. The handoff record keeps those
details encrypted; here they are removed from the conversation store:
- handoff slot values are replaced by "[redacted]";
- a visitor message that filled one of those slots is replaced by "[redacted]", and so is each
  answer where the bot repeated it (the consent summary);
- emails and phone numbers in any other visitor message are masked;
- conversations idle for longer than the retention period are deleted.

Only what a finished or abandoned form left behind is redacted. Rasa rebuilds a conversation
from its stored events on every message, so redacting a form still in progress would hand the
visitor's next answer a name of "[redacted]" (or an unusable contact). A form run is over when:
- an action cleared its answers: the submit (sent, declined, refused or failed honestly), the
  clean-up after a cancel, or dropping a submit that did not go through (CLOSING_ACTIONS);
- the session ended (a new session starts without the old slots);
- nothing happened for ``idle`` (privacy.abandoned_form_minutes in content/clinic.yml), which is
  at least Rasa's session expiry, so the visitor cannot come back to that form any more.
A run still open is left exactly as it is, and ``redact_pass`` says where the next pass must
start so the conversation is looked at again until the run is over.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from clinic.contact import mask_contact_details

PERSONAL_SLOTS = {"handoff_name", "handoff_contact", "handoff_best_time", "handoff_topic_note"}
REDACTED = "[redacted]"
FORM_NAME = "handoff_form"
CLOSING_ACTIONS = {"action_submit_handoff", "action_clear_handoff", "action_abandon_handoff"}
SESSION_ENDS = {"session_started", "restart"}
DEFAULT_IDLE = timedelta(minutes=60)
_TYPES = ("user", "bot", "slot", "action", "active_loop", *sorted(SESSION_ENDS))


@dataclass(frozen=True)
class Row:
    id: int
    sender: str
    kind: str
    timestamp: float
    event: dict[str, Any]


@dataclass
class FormRuns:
    """One conversation's form runs: the answers given in finished or abandoned runs, and
    the first event of the run still in progress (None when there is none)."""

    answers: set[str] = field(default_factory=set)
    open_from: int | None = None


@dataclass(frozen=True)
class Redaction:
    changed: int
    resume_after: int | None  # next pass: start after this event id (None: nothing is pending)


def _conversations(connection: Connection, after_id: int) -> dict[str, list[Row]]:
    """The events that matter here, of every conversation with an event newer than `after_id`."""
    kinds = ", ".join(f"'{kind}'" for kind in _TYPES)
    rows = connection.execute(
        text(
            f"SELECT id, sender_id, type_name, timestamp, data FROM events WHERE type_name IN ({kinds}) "
            "AND sender_id IN (SELECT sender_id FROM events WHERE id > :after) ORDER BY id"
        ),
        {"after": after_id},
    )
    conversations: dict[str, list[Row]] = {}
    for event_id, sender, kind, timestamp, data in rows:
        conversations.setdefault(sender, []).append(
            Row(event_id, sender, kind, timestamp or 0.0, json.loads(data))
        )
    return conversations


def form_runs(rows: list[Row], now: float, idle: timedelta) -> FormRuns:
    """Walk one conversation's events and tell finished or abandoned runs from an open one."""
    runs, current, last_action = FormRuns(), set(), None

    def close() -> None:
        runs.answers.update(current)
        current.clear()
        runs.open_from = None

    for row in rows:
        name, value = row.event.get("name"), row.event.get("value")
        if row.kind == "action":
            last_action = name
        elif row.kind == "active_loop" and name == FORM_NAME and runs.open_from is None:
            runs.open_from = row.id
        elif row.kind == "slot" and name in PERSONAL_SLOTS and value not in (None, "", REDACTED):
            current.add(str(value))
            runs.open_from = runs.open_from or row.id
        elif (
            row.kind == "slot" and name in PERSONAL_SLOTS and value is None and last_action in CLOSING_ACTIONS
        ):
            close()
        elif row.kind in SESSION_ENDS:
            close()
    if rows and max(row.timestamp for row in rows) < now - idle.total_seconds():
        close()
    return runs


def _redacted(kind: str, event: dict, answers: set) -> dict:
    if kind == "slot":
        if event.get("name") in PERSONAL_SLOTS and event.get("value") not in (None, "", REDACTED):
            return {**event, "value": REDACTED}
        return event
    original = event.get("text") or ""
    if kind == "user" and original.strip() and any(original.strip() in a or a in original for a in answers):
        new_text = REDACTED  # the visitor's answer to a form question
    else:  # other messages, and the bot's summary that repeats the answers
        new_text = original
        for answer in sorted(answers, key=len, reverse=True):
            new_text = new_text.replace(answer, REDACTED)
        new_text = mask_contact_details(new_text)
    if new_text == original:
        return event
    parse = dict(event.get("parse_data") or {})
    if "text" in parse:
        parse["text"] = new_text
    return {**event, "text": new_text, "parse_data": parse}


def last_event_id(database_url: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        last = connection.execute(text("SELECT MAX(id) FROM events")).scalar()
    engine.dispose()
    return int(last or 0)


def _redact_conversation(connection: Connection, rows: list[Row], runs: FormRuns) -> int:
    changed = 0
    for row in rows:
        if row.kind not in ("user", "bot", "slot"):
            continue
        if runs.open_from is not None and row.id >= runs.open_from:
            break  # the form in progress: left exactly as it is
        updated = _redacted(row.kind, row.event, runs.answers)
        if updated is not row.event:
            connection.execute(
                text("UPDATE events SET data = :data WHERE id = :id"),
                {"data": json.dumps(updated), "id": row.id},
            )
            changed += 1
    return changed


def redact_pass(
    database_url: str, after_id: int = 0, *, now: float | None = None, idle: timedelta = DEFAULT_IDLE
) -> Redaction:
    """Redact what finished or abandoned forms left in the conversations that changed after
    event `after_id`; also say from where the next pass must look again (open forms)."""
    now = time.time() if now is None else now
    engine = create_engine(database_url)
    changed, resume_after = 0, None
    with engine.begin() as connection:
        for rows in _conversations(connection, after_id).values():
            runs = form_runs(rows, now, idle)
            changed += _redact_conversation(connection, rows, runs)
            if runs.open_from is not None:
                revisit = max(row.id for row in rows) - 1
                resume_after = revisit if resume_after is None else min(resume_after, revisit)
    engine.dispose()
    return Redaction(changed, resume_after)


def redact(
    database_url: str, after_id: int = 0, *, now: float | None = None, idle: timedelta = DEFAULT_IDLE
) -> int:
    """Redact personal data in the conversations that changed after event `after_id` (all by
    default); returns how many events changed. Redacting again changes nothing."""
    return redact_pass(database_url, after_id, now=now, idle=idle).changed


def purge(database_url: str, older_than_days: int, now: float | None = None) -> int:
    """Delete conversations whose last event is older than the retention period."""
    cutoff = (now or time.time()) - older_than_days * 86400
    engine = create_engine(database_url)
    with engine.begin() as connection:
        stale = [
            row[0]
            for row in connection.execute(
                text("SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff"),
                {"cutoff": cutoff},
            )
        ]
        for sender in stale:
            connection.execute(text("DELETE FROM events WHERE sender_id = :sender"), {"sender": sender})
    engine.dispose()
    return len(stale)
