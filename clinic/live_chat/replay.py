"""What a widget missed of a live chat while it was offline, sent again when it reconnects.

A coordinator's message reaches the visitor through the socket.io room of their conversation. A
widget that is not connected at that moment (a phone that slept, Rasa restarting, a flaky network)
is not in the room, and the message, although in the conversation store, would never reach it.
Every live chat payload carries `at`, its time on the server; on reconnecting, the widget sends the
latest `at` it has (`live_since`), and the channel sends it the live chat's messages said after
that: the coordinator's words and the status lines, in order, as they were first sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rasa.shared.core.events import BotUttered

LIVE_KINDS = ("coordinator", "live_chat")
MAX_REPLAYED = 50  # a reconnect never floods the widget


def live_payload(event: BotUttered) -> dict[str, Any] | None:
    """The `custom` payload of a live chat message, or None for any other message."""
    custom = (event.data or {}).get("custom")
    data = custom.get("data") if isinstance(custom, dict) else None
    return data if isinstance(data, dict) and data.get("kind") in LIVE_KINDS else None


def missed(events: Iterable[Any], since: float) -> list[tuple[str, dict[str, Any]]]:
    """(text, payload) of each live chat message said after `since`, oldest first."""
    found = []
    for event in events:
        payload = live_payload(event) if isinstance(event, BotUttered) else None
        at = payload.get("at") if payload else None
        if isinstance(at, (int, float)) and at > since and event.text:
            found.append((event.text, payload))
    return found[-MAX_REPLAYED:]


def since_of(data: Any) -> float | None:
    """The widget's `live_since`, when it sent a usable one."""
    value = data.get("live_since") if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:  # NaN
        return None
    return float(value)
