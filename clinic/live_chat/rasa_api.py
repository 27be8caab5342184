"""The inbox's calls to Rasa's HTTP API for live chat: join, message, leave, lost, trigger, transcript.

The inbox reaches the visitor only through Rasa's own authenticated API (``--enable-api``, token
as the ``token`` query parameter, as ``clinic/content/publish/rasa_api.py`` does), never through
the visitor-facing channels, and only after the view has checked the coordinator may act. The
events are exactly those of docs/live-chat.md's table; appending them with
``execute_side_effects=true`` sends each ``bot`` event to the visitor's room and records it in
the conversation store, the single record of the chat. Errors never carry message text, so they
can be logged and shown as they are.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

DEFAULT_URL = "http://127.0.0.1:5005"
LIVE_CHAT_SLOT = "live_chat"
UTC = timezone.utc  # noqa: UP017 - Python 3.10 has no datetime.UTC


class RasaApiError(RuntimeError):
    """Rasa could not be reached, refused the token, or did not do what was asked."""


def joined_text(name: str) -> str:
    return f"{name} (care coordinator) joined the chat."


def left_text(name: str) -> str:
    return f"{name} left the chat. You're talking to the clinic assistant again."


def lost_text(name: str) -> str:
    return f"{name} lost the connection. You're back in line; I can answer questions meanwhile."


def _bot(text: str, custom: Mapping[str, Any], metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
    # `custom: {data: ...}` as in domain.yml's responses: Rasa's socket.io output sends `data`.
    # `at` (= the event's time) lets a widget that was offline ask for what it missed (replay.py).
    now = time.time()
    data = {**custom, "at": now}
    event: dict[str, Any] = {
        "event": "bot",
        "text": text,
        "timestamp": now,
        "data": {"custom": {"data": data}},
    }
    if metadata is not None:
        event["metadata"] = dict(metadata)
    return event


# After a resume, as Rasa's prediction loop would have logged it: the messages of a paused
# conversation have no listen after them, and the rules match only after one (docs/live-chat.md).
LISTEN = {"event": "action", "name": "action_listen"}


def join_events(name: str) -> list[dict[str, Any]]:
    return [
        {"event": "pause"},
        {"event": "slot", "name": LIVE_CHAT_SLOT, "value": "joined"},
        _bot(joined_text(name), {"kind": "live_chat", "state": "joined", "coordinator": name}),
    ]


def message_events(username: str, name: str, text: str) -> list[dict[str, Any]]:
    return [
        _bot(
            text,
            {"kind": "coordinator", "name": name},
            {"live_chat": {"role": "coordinator", "username": username, "name": name}},
        )
    ]


def leave_events(name: str) -> list[dict[str, Any]]:
    return [
        {"event": "resume"},
        LISTEN,
        {"event": "slot", "name": LIVE_CHAT_SLOT, "value": None},
        _bot(left_text(name), {"kind": "live_chat", "state": "ended"}),
    ]


def lost_events(name: str, position: int) -> list[dict[str, Any]]:
    return [
        {"event": "resume"},
        LISTEN,
        {"event": "slot", "name": LIVE_CHAT_SLOT, "value": "waiting"},
        _bot(lost_text(name), {"kind": "live_chat", "state": "waiting", "position": position}),
    ]


def _read_token(environ: Mapping[str, str]) -> str:
    token = (environ.get("RASA_API_TOKEN") or "").strip()
    if token:
        return token
    path = (environ.get("RASA_API_TOKEN_FILE") or "").strip()
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError:
            return ""
    return ""


class RasaApi:
    """One Rasa server's API. ``timeout`` is short: a coordinator is waiting on the page."""

    def __init__(self, url: str = DEFAULT_URL, token: str = "", timeout: float = 10) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RasaApi:
        """RASA_URL (default http://127.0.0.1:5005) and RASA_API_TOKEN or RASA_API_TOKEN_FILE."""
        environ = os.environ if environ is None else environ
        return cls((environ.get("RASA_URL") or DEFAULT_URL).strip(), _read_token(environ))

    # ----------------------------------------------------------------- HTTP

    def _call(self, method: str, path: str, query: Mapping[str, str], body: Any = None) -> Any:
        if not self.token:
            raise RasaApiError("RASA_API_TOKEN is not set: the inbox cannot reach the assistant's API")
        params = urllib.parse.urlencode({**query, "token": self.token})
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(
            f"{self.url}{path}?{params}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                raise RasaApiError(
                    f"the assistant refused the API token (HTTP {exc.code}); RASA_API_TOKEN must be the "
                    "token Rasa was started with"
                ) from None
            raise RasaApiError(f"the assistant answered HTTP {exc.code} to {method} {_shape(path)}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RasaApiError(
                f"cannot reach the assistant at {self.url} ({type(reason).__name__})"
            ) from None
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise RasaApiError(f"the assistant's answer to {method} {_shape(path)} was not JSON") from None

    def _append(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        path = f"/conversations/{urllib.parse.quote(conversation_id, safe='')}/tracker/events"
        self._call("POST", path, {"output_channel": "latest", "execute_side_effects": "true"}, events)

    # ----------------------------------------------------------------- live chat

    def join(self, conversation_id: str, name: str) -> None:
        """Pause the assistant and tell the visitor who joined."""
        self._append(conversation_id, join_events(name))

    def say(self, conversation_id: str, username: str, name: str, text: str) -> None:
        """The coordinator's message, stored as a bot event with who wrote it."""
        self._append(conversation_id, message_events(username, name, text))

    def leave(self, conversation_id: str, name: str) -> None:
        """Hand back or close: the assistant answers again."""
        self._append(conversation_id, leave_events(name))

    def lost(self, conversation_id: str, name: str, position: int) -> None:
        """The coordinator's page went silent: the visitor is back in line."""
        self._append(conversation_id, lost_events(name, position))

    def trigger(self, conversation_id: str, intent: str) -> None:
        """Run the assistant's reaction (``live_chat_closed``, ``live_chat_timeout``)."""
        path = f"/conversations/{urllib.parse.quote(conversation_id, safe='')}/trigger_intent"
        self._call("POST", path, {"output_channel": "latest"}, {"name": intent})

    def transcript(self, conversation_id: str) -> list[dict[str, str]]:
        """The conversation so far: [{"role": visitor|bot|coordinator|notice, "text", "at", "name"?}]."""
        path = f"/conversations/{urllib.parse.quote(conversation_id, safe='')}/tracker"
        tracker = self._call("GET", path, {}) or {}
        return transcript_from_events(tracker.get("events") or [])


def transcript_from_events(events: list[Mapping[str, Any]]) -> list[dict[str, str]]:
    """User and bot texts with their times and authors (live-chat status lines as notices)."""
    lines = []
    for event in events:
        line = message_line(event)
        if line is not None:
            lines.append(line)
    return lines


# What the visitor saw on the buttons whose payloads the conversation store keeps ("/start_live_chat").
BUTTON_TITLES = {
    "start_live_chat": "Chat with a coordinator now",
    "request_callback": "Ask for a call back",
    "request_human": "Talk to a care coordinator",
    "affirm": "Yes",
    "deny": "No",
}


def pressed(text: str) -> str:
    """A button's payload as the button the visitor pressed; typed text unchanged."""
    if not text.startswith("/"):
        return text
    intent = re.split(r"[{@]", text[1:], maxsplit=1)[0]
    rating = re.search(r'"chat_rating"\s*:\s*"?(\d)', text)
    if intent == "rate_chat" and rating:
        return f"[Rated the chat {rating.group(1)} of 5]"
    return f"[Pressed: {BUTTON_TITLES.get(intent, intent.replace('_', ' '))}]"


def message_line(event: Mapping[str, Any]) -> dict[str, str] | None:
    """One tracker or broker event as a transcript line, or None when it is not a message."""
    kind = event.get("event")
    text = event.get("text")
    if kind not in ("user", "bot") or not isinstance(text, str) or not text.strip():
        return None
    at = _iso(event.get("timestamp"))
    if kind == "user":
        return {"role": "visitor", "text": pressed(text), "at": at}
    writer = (
        ((event.get("metadata") or {}).get("live_chat") or {})
        if isinstance(event.get("metadata"), Mapping)
        else {}
    )
    if isinstance(writer, Mapping) and writer.get("role") == "coordinator":
        return {"role": "coordinator", "text": text, "at": at, "name": str(writer.get("name") or "")}
    custom = ((event.get("data") or {}).get("custom") or {}) if isinstance(event.get("data"), Mapping) else {}
    if isinstance(custom, Mapping) and isinstance(custom.get("data"), Mapping):
        custom = custom["data"]
    if isinstance(custom, Mapping) and custom.get("kind") == "live_chat":
        return {"role": "notice", "text": text, "at": at}
    return {"role": "bot", "text": text, "at": at}


def _iso(timestamp: Any) -> str:
    try:
        return datetime.fromtimestamp(float(timestamp), UTC).isoformat()
    except (TypeError, ValueError, OverflowError, OSError):
        return ""


def _shape(path: str) -> str:
    """The path without the conversation id (errors end up in logs)."""
    parts = path.split("/")
    if len(parts) > 2 and parts[1] == "conversations":
        parts[2] = "{id}"
    return "/".join(parts)
