"""Visitors' messages from Rasa's SQL tracker store, each with what the bot did in reply.

Rasa's SQLTrackerStore writes one row per event in the `events` table (sender_id, type_name,
timestamp, intent_name, action_name, data = the event as JSON). A visitor's message is a `user`
event; the `action` and `bot` events after it, up to the next message, are the bot's reply.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa

from clinic import faq

EVENTS = sa.table(
    "events",
    sa.column("id"),
    sa.column("sender_id"),
    sa.column("type_name"),
    sa.column("timestamp"),
    sa.column("intent_name"),
    sa.column("action_name"),
    sa.column("data"),
)
REPLY_MARGIN_SECONDS = 300  # replies to a message sent just before --until are still read

# What the bot's reply says about the message.
FALLBACK, CLARIFICATION, OUT_OF_SCOPE, NOT_ENGLISH = (
    "fallback",
    "clarification",
    "out of scope",
    "not English",
)
SAFETY = {"emergency", "crisis", "utter_emergency", "utter_crisis"}


@dataclass
class Turn:
    """One visitor message and the bot's reply to it."""

    sender: str
    timestamp: float
    text: str
    intent: str
    parse: dict
    actions: list[str] = field(default_factory=list)  # actions run, e.g. the retrieval action, action_clarify
    responses: list[str] = field(default_factory=list)  # responses sent, e.g. a topic's answer

    @property
    def is_button(self) -> bool:
        """A button click (`/choose_topic{...}`) rather than words a visitor typed."""
        return self.text.startswith("/")

    @property
    def reply_kind(self) -> str | None:
        """fallback / clarification / out of scope / not English, or None for a real answer."""
        said = set(self.actions) | set(self.responses)
        if SAFETY & (said | {self.intent}):
            return None  # emergencies and crises are not content gaps
        if "utter_clarify" in said:
            return CLARIFICATION
        if said & {"utter_default", "action_default_fallback"} or self.intent == "nlu_fallback":
            return FALLBACK
        if "action_clarify" in said:
            return CLARIFICATION
        if "utter_out_of_scope" in said:
            return OUT_OF_SCOPE
        if "utter_non_english" in said:
            return NOT_ENGLISH
        return None

    @property
    def topic(self) -> str | None:
        """The curated topic answered, from the reply or else the parse data (clinic.faq)."""
        return faq.topic_of_turn(self.responses, self.actions, self.parse)


def read_turns(engine: sa.engine.Engine, since: float | None, until: float | None) -> Iterator[Turn]:
    """Every visitor message sent in [since, until), with the bot's reply, conversation by conversation."""
    query = sa.select(EVENTS).where(EVENTS.c.type_name.in_(["user", "bot", "action"]))
    if since is not None:
        query = query.where(EVENTS.c.timestamp >= since)
    if until is not None:
        query = query.where(EVENTS.c.timestamp < until + REPLY_MARGIN_SECONDS)
    query = query.order_by(EVENTS.c.sender_id, EVENTS.c.id)
    current: Turn | None = None
    with engine.connect() as connection:
        rows = connection.execution_options(stream_results=True).execute(query)
        for row in rows:
            if current is not None and row.sender_id != current.sender:
                yield current
                current = None
            try:
                event = json.loads(row.data or "{}")
            except ValueError:
                continue
            if row.type_name == "user":
                if current is not None:
                    yield current
                    current = None
                if until is None or (row.timestamp or 0) < until:
                    parse = event.get("parse_data") or {}
                    current = Turn(
                        row.sender_id,
                        row.timestamp or 0.0,
                        event.get("text") or "",
                        row.intent_name or (parse.get("intent") or {}).get("name") or "",
                        parse,
                    )
            elif current is not None and row.type_name == "action":
                name = row.action_name or event.get("name") or ""
                if name and name != "action_listen":
                    current.actions.append(name)
            elif current is not None and row.type_name == "bot":
                response = (event.get("metadata") or {}).get("utter_action")
                if response:
                    current.responses.append(response)
    if current is not None:
        yield current
