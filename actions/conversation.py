"""What the handoff record needs from the conversation: transcript, topics, why it happened,
which form run it comes from and which client sent it."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

from clinic import faq

# handoff_pending: consent given, the request not yet confirmed to the visitor (a retry sends it).
HANDOFF_SLOTS = [
    "handoff_name",
    "handoff_contact_method",
    "handoff_contact",
    "handoff_best_time",
    "handoff_topic_note",
    "handoff_consent",
    "handoff_pending",
]
FORM_NAME = "handoff_form"
MAX_CLIENT_ID_LENGTH = 128
NO_ANSWER_RESPONSES = {"utter_out_of_scope", "utter_non_english"}
LOW_CONFIDENCE_RESPONSES = {"utter_default", "utter_clarify"}


def _timestamp(event: dict[str, Any]) -> str:
    return datetime.fromtimestamp(event.get("timestamp") or 0, tz=timezone.utc).isoformat()


def transcript(events: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Visitor and bot messages in order, as the coordinator should read them."""
    lines = []
    for event in events:
        if event.get("event") == "user" and event.get("text"):
            lines.append({"role": "visitor", "text": event["text"], "at": _timestamp(event)})
        elif event.get("event") == "bot" and event.get("text"):
            lines.append({"role": "bot", "text": event["text"], "at": _timestamp(event)})
    return lines


def topic_of(event: dict[str, Any]) -> str | None:
    """The curated topic a visitor message was answered with, if any."""
    return faq.topic_of_message(event.get("parse_data") or {})


def topics_discussed(events: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for event in events:
        if event.get("event") == "user":
            topic = topic_of(event)
            if topic and topic not in found:
                found.append(topic)
    return found


def bot_responses(events: list[dict[str, Any]]) -> list[str]:
    """Names of the responses the bot sent, in order (from the bot events' metadata)."""
    return [(e.get("metadata") or {}).get("utter_action", "") for e in events if e.get("event") == "bot"]


def handoff_reason(events: list[dict[str, Any]], personal_topics: list[str]) -> str:
    """Why the visitor is being handed off, judged from what happened just before the request."""
    before = []
    for event in events:
        if (
            event.get("event") == "user"
            and (event.get("parse_data") or {}).get("intent", {}).get("name") == "request_human"
        ):
            break
        before.append(event)
    responses = [r for r in bot_responses(before) if r][-3:]
    last_topic = next(
        (topic_of(e) for e in reversed(before) if e.get("event") == "user" and topic_of(e)), None
    )
    if responses and responses[-1] in NO_ANSWER_RESPONSES:
        return "out_of_scope"
    if sum(r in LOW_CONFIDENCE_RESPONSES for r in responses) >= 2 or (
        responses and responses[-1] in LOW_CONFIDENCE_RESPONSES
    ):
        return "low_confidence"
    if last_topic in personal_topics and responses and faq.is_answer(responses[-1]):
        return "personal_question"
    return "visitor_asked"


def current_session(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events since the last session start (a restart begins a new conversation)."""
    starts = [i for i, e in enumerate(events) if e.get("event") == "session_started"]
    return events[starts[-1] :] if starts else events


def submission_key(sender_id: str, events: list[dict[str, Any]]) -> str | None:
    """Names this form run: the conversation and the moment the form was (last) started.

    A retry after a failed submit sees the same activation, so it gets the same key and the
    store returns the record the first attempt may already have made; asking again later
    starts a new run with a new key. None when the form's start is not in the events.
    """
    started = next(
        (
            e.get("timestamp")
            for e in reversed(events)
            if e.get("event") == "active_loop" and e.get("name") == FORM_NAME
        ),
        None,
    )
    if started is None:
        return None
    return hashlib.sha256(f"{sender_id}\x1f{started!r}".encode()).hexdigest()


def client_id(events: list[dict[str, Any]]) -> str | None:
    """The keyed hash of the visitor's address that the channel puts in each message's
    metadata (``client_id``), from the latest message of this session that has one."""
    for event in reversed(current_session(events)):
        if event.get("event") != "user":
            continue
        metadata = event.get("metadata")
        value = metadata.get("client_id") if isinstance(metadata, dict) else None
        if isinstance(value, str) and 0 < len(value) <= MAX_CLIENT_ID_LENGTH:
            return value
    return None
