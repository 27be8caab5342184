"""Redact and purge personal data in Rasa's SQL tracker store (SQLite or PostgreSQL).

Rasa keeps every event of a conversation, so what a visitor typed into the handoff form (name,
email, phone, best time, topic) would stay there in plain text. The handoff record keeps those
details encrypted; here they are removed from the conversation store:
- handoff slot values are replaced by "[redacted]";
- a visitor message that filled one of those slots is replaced by "[redacted]", and so is each
  answer where the bot repeated it (the consent summary);
- emails and phone numbers in any other visitor message are masked;
- conversations idle for longer than the retention period are deleted.
"""
from __future__ import annotations

import json
import time

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from clinic_privacy.masking import mask_contact_details

PERSONAL_SLOTS = {"handoff_name", "handoff_contact", "handoff_best_time", "handoff_topic_note"}
REDACTED = "[redacted]"


def _events(connection: Connection, after_id: int) -> list[tuple[int, str, str, str]]:
    """Message and slot events of every conversation that has an event newer than `after_id`."""
    rows = connection.execute(text(
        "SELECT id, sender_id, type_name, data FROM events WHERE type_name IN ('user', 'bot', 'slot') "
        "AND sender_id IN (SELECT sender_id FROM events WHERE id > :after) ORDER BY id"), {"after": after_id})
    return [tuple(row) for row in rows]  # type: ignore[misc]


def _form_answers(events: list[tuple[int, str, str, str]]) -> dict[str, set]:
    """Per conversation: the values visitors gave the personal handoff slots."""
    answers: dict[str, set] = {}
    for _, sender, kind, data in events:
        if kind == "slot":
            event = json.loads(data)
            if event.get("name") in PERSONAL_SLOTS and event.get("value") not in (None, "", REDACTED):
                answers.setdefault(sender, set()).add(str(event["value"]))
    return answers


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


def redact(database_url: str, after_id: int = 0) -> int:
    """Redact personal data in the conversations that changed after event `after_id` (all by
    default); returns how many events changed. Redacting again changes nothing."""
    engine = create_engine(database_url)
    changed = 0
    with engine.begin() as connection:
        events = _events(connection, after_id)
        answers = _form_answers(events)
        for event_id, sender, kind, data in events:
            event = json.loads(data)
            updated = _redacted(kind, event, answers.get(sender, set()))
            if updated is not event:
                connection.execute(text("UPDATE events SET data = :data WHERE id = :id"),
                                   {"data": json.dumps(updated), "id": event_id})  # fmt: skip
                changed += 1
    engine.dispose()
    return changed


def purge(database_url: str, older_than_days: int, now: float | None = None) -> int:
    """Delete conversations whose last event is older than the retention period."""
    cutoff = (now or time.time()) - older_than_days * 86400
    engine = create_engine(database_url)
    with engine.begin() as connection:
        stale = [row[0] for row in connection.execute(text(
            "SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff"), {"cutoff": cutoff})]
        for sender in stale:
            connection.execute(text("DELETE FROM events WHERE sender_id = :sender"), {"sender": sender})
    engine.dispose()
    return len(stale)
