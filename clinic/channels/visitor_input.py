"""What a visitor may send, checked in one place for every channel (REST and socket.io).

Everything a visitor controls (the conversation id, the message text, the metadata) goes into
Rasa's tracker store, and Rasa's SQL tracker store turns any `ValueError` raised while it talks
to the database into `sys.exit`: one odd character used to stop the whole assistant. So each
value is checked or cleaned here before Rasa sees it:

* Conversation ids (REST ``sender``, socket.io ``session_id``): 1-64 ASCII letters, digits,
  ``_``, ``-``, ``.`` or ``:``. That covers every id the project and Rasa make (uuid4 hex, Rasa's
  ``default``, prefixed ids like ``eval-<uuid>``, ``channel:123``) and nothing that can upset a
  database or a log: no NUL (PostgreSQL refuses it), no lone surrogates (they cannot be encoded
  as UTF-8), no other non-ASCII, no whitespace or control characters, no ``/`` (the id is part of
  the URLs of Rasa's HTTP API) and no ``@`` (an email address is personal data, not an id).
  A bad id is refused (REST answers 400), never repaired: two different ids must not become one.
* Message text: at most `MAX_MESSAGE_CHARS` characters. The limit is chosen by measurement so
  that the NLU pipeline handles any accepted message within 50 ms (``python -m
  clinic.devtools.worst_case_nlu``); the widget enforces the same limit. A longer message is refused
  with a kind explanation (REST 413), never cut short: silently dropping a visitor's words is
  worse than asking them to split the message. Lone surrogates (half of an emoji, left by a
  client that cut a string in the middle) become U+FFFD and NUL characters are dropped, so the
  rest of the message is kept and nothing in it can break the database.
* Metadata: a JSON object (or nothing) of at most `MAX_METADATA_BYTES` bytes and
  `MAX_METADATA_DEPTH` levels, its strings cleaned like the text.

Client identity for rate limiting: every accepted message carries ``metadata["client_id"]``, the
first 16 hex digits of HMAC-SHA256 over the client's network address (REST: the TCP peer,
``request.ip``; socket.io: the peer of the connecting request, remembered per socket at
connect), or, behind a reverse proxy the operator has declared (Sanic's ``SANIC_PROXIES_COUNT``
or ``SANIC_REAL_IP_HEADER`` / ``SANIC_FORWARDED_SECRET``), the client address the proxy forwards.
Forwarded headers are ignored unless a proxy is declared, so a visitor cannot choose their id. The key is ``CLINIC_CLIENT_ID_SECRET``, or a random key per process when that is unset
(ids then change on every restart). The raw address is never stored, and a ``client_id`` the
visitor sends is always overwritten, so it cannot be forged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

MAX_MESSAGE_CHARS = 1000
MAX_METADATA_BYTES = 2048
MAX_METADATA_DEPTH = 8
SENDER_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
CLIENT_ID_ENV = "CLINIC_CLIENT_ID_SECRET"
CLIENT_ID_KEY = "client_id"

LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
REPLACEMENT_CHARACTER = "\ufffd"

TOO_LONG = (
    f"Sorry, your message is too long for me: please keep it under {MAX_MESSAGE_CHARS:,} characters, "
    "or send it in a few shorter messages."
)
NOT_TEXT = "Sorry, I can only read text messages. Please type your question."
BAD_SENDER = 'The "sender" must be 1 to 64 letters, digits, "_", "-", "." or ":" (for example a UUID).'
BAD_METADATA = (
    f'The "metadata" must be a JSON object of at most {MAX_METADATA_BYTES:,} bytes '
    f"and {MAX_METADATA_DEPTH} levels."
)


class InputProblem(ValueError):
    """A visitor's input that cannot be processed; `message` is safe to show to them."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class VisitorMessage:
    """A checked message, ready for Rasa."""

    text: str
    sender_id: str | None
    metadata: dict[str, Any] = field(default_factory=dict)


def is_valid_sender_id(value: object) -> bool:
    """The one rule for conversation ids on every channel (see the module docstring)."""
    return isinstance(value, str) and SENDER_ID.fullmatch(value) is not None


def sender_id(value: object) -> str | None:
    """The conversation id from a request: None when absent; whole numbers are accepted as text."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not is_valid_sender_id(value):
        raise InputProblem(BAD_SENDER)
    return value  # type: ignore[return-value]


def clean_text(text: str) -> str:
    """Valid Unicode without NUL: lone surrogates become U+FFFD, NUL characters are dropped."""
    return LONE_SURROGATE.sub(REPLACEMENT_CHARACTER, text).replace("\x00", "")


def message_text(value: object) -> str:
    """The message text, checked for type and length, then cleaned."""
    if not isinstance(value, str):
        raise InputProblem(NOT_TEXT)
    if len(value) > MAX_MESSAGE_CHARS:
        raise InputProblem(TOO_LONG, status=413)
    return clean_text(value)


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a JSON value, stopping once past `limit` (no deep recursion)."""
    level, current = 0, [value]
    while current and level <= limit:
        level += 1
        nested: list[Any] = []
        for item in current:
            if isinstance(item, dict):
                nested.extend(item.values())
            elif isinstance(item, list):
                nested.extend(item)
        current = nested
    return level


def _clean_json(value: Any) -> Any:
    """The same JSON value with every string (keys too) cleaned like message text."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): _clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_json(v) for v in value]
    return value


def metadata(value: object) -> dict[str, Any]:
    """Metadata as a bounded, clean JSON object; None means no metadata."""
    if value is None:
        return {}
    if not isinstance(value, dict) or _depth(value, MAX_METADATA_DEPTH) > MAX_METADATA_DEPTH:
        raise InputProblem(BAD_METADATA)
    try:
        size = len(json.dumps(value, ensure_ascii=True, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise InputProblem(BAD_METADATA) from error
    if size > MAX_METADATA_BYTES:
        raise InputProblem(BAD_METADATA)
    cleaned: dict[str, Any] = _clean_json(value)
    return cleaned


_process_key = secrets.token_bytes(32)


def client_id(address: str | None) -> str:
    """A keyed hash of the client's network address (see the module docstring)."""
    key = os.environ.get(CLIENT_ID_ENV, "").encode() or _process_key
    digest = hmac.new(key, (address or "unknown").encode("utf-8", "replace"), hashlib.sha256)
    return digest.hexdigest()[:16]


def client_address(request: Any) -> str | None:
    """The visitor's address: what a declared reverse proxy forwards (Sanic fills
    `remote_addr` only when the operator configured one), else the TCP peer."""
    return getattr(request, "remote_addr", "") or getattr(request, "ip", None)


def with_client_id(values: dict[str, Any], address: str | None) -> dict[str, Any]:
    """`values` with ``client_id`` set from the address, whatever the visitor sent."""
    return {**values, CLIENT_ID_KEY: client_id(address)}
