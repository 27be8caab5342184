"""The events Rasa's broker passes to the inbox, sealed: visitors' words never rest in clear.

The broker (clinic/live_chat/event_broker.py, in Rasa's process) publishes only what live chat
needs, each event sealed with the handoff encryption key; the inbox's feed (clinic/live_chat/feed.py)
opens them. Both sides import this module, so the format has one definition.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import InvalidToken, MultiFernet

from clinic.handoff.crypto import build_cipher

# The live chat state slot (domain.yml); other slots stay out of the broker.
LIVE_CHAT_SLOT = "live_chat"
SAFETY_INTENTS = frozenset({"emergency", "crisis", "emergency_and_crisis"})
SAFETY_UTTERANCES = frozenset({"utter_emergency", "utter_crisis"})


def summary(event: dict[str, Any]) -> dict[str, Any] | None:
    """The part of a Rasa event the inbox needs, or None for an event it does not need."""
    kind = event.get("event")
    base = {"sender_id": event.get("sender_id"), "event": kind, "timestamp": event.get("timestamp")}
    if kind == "user":
        intent = (event.get("parse_data") or {}).get("intent") or {}
        return {**base, "text": event.get("text") or "", "intent": intent.get("name")}
    if kind == "bot":
        custom = (event.get("data") or {}).get("custom")
        said = {**base, "text": event.get("text") or "", "metadata": event.get("metadata") or {}}
        return {**said, "custom": custom} if isinstance(custom, dict) else said
    if kind in ("pause", "resume"):
        return base
    if kind == "slot" and event.get("name") == LIVE_CHAT_SLOT:
        return {**base, "name": LIVE_CHAT_SLOT, "value": event.get("value")}
    return None


def is_safety_event(summary_: dict[str, Any]) -> bool:
    """A safety reply went out (the inbox raises an alert on that chat)."""
    if summary_.get("event") == "user":
        return summary_.get("intent") in SAFETY_INTENTS
    if summary_.get("event") == "bot":
        return (summary_.get("metadata") or {}).get("utter_action") in SAFETY_UTTERANCES
    return False


def seal(summary_: dict[str, Any], cipher: MultiFernet) -> str:
    return cipher.encrypt(json.dumps(summary_, ensure_ascii=False).encode("utf-8")).decode("ascii")


def open_sealed(token: str | bytes, cipher: MultiFernet) -> dict[str, Any] | None:
    """The event, or None when it cannot be opened (another key, damaged): skipped, not fatal."""
    raw = token.encode("ascii") if isinstance(token, str) else token
    try:
        value = json.loads(cipher.decrypt(raw))
    except (InvalidToken, ValueError):
        return None
    return value if isinstance(value, dict) else None


def cipher_from_keys(keys: str) -> MultiFernet:
    return build_cipher(keys)
