"""Rasa's socket.io channel, accepting connections only from the clinic's own web origins.

Rasa's ``SocketIOInput`` builds its socket.io server with ``cors_allowed_origins=[]``, which
switches the Engine.IO origin check off: any web page could open a WebSocket to the bot in
a visitor's browser. This channel behaves exactly like ``socketio`` (same events, same
credentials keys, same ``input_channel`` name in the trackers) but rejects every socket.io
request, polling or WebSocket, whose ``Origin`` header is not in the allow-list.

The allow-list comes from the environment variable ``CLINIC_ALLOWED_ORIGINS``
(space- or comma-separated, e.g. ``"https://clinic.example https://www.clinic.example"``),
or from an ``allowed_origins`` key in credentials.yml; the default is the local demo site
``http://localhost:8000 http://127.0.0.1:8000``. ``*`` allows every origin (development only).

Requests without an ``Origin`` header (server-side clients, health checks) are not web pages
and are let through; browsers always send ``Origin`` on WebSocket and cross-origin requests.

CORS response headers for the polling transport are left to Rasa's ``--cors`` option, as for
the REST channel, so they are never sent twice. Use in credentials.yml::

    channels.clinic_socketio.ClinicSocketIOInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

logger = logging.getLogger(__name__)

ENV_VAR = "CLINIC_ALLOWED_ORIGINS"
DEFAULT_ORIGINS = "http://localhost:8000 http://127.0.0.1:8000"


def parse_origins(value: str | list[str] | None) -> list[str]:
    """Origins from a space/comma separated string (or a list), normalised: no trailing '/'."""
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).replace(",", " ").split()
    return [str(item).strip().rstrip("/") for item in items if str(item).strip()]


def allowed_origins(configured: str | list[str] | None = None) -> list[str]:
    """The allow-list: the environment variable wins, then credentials.yml, then the default."""
    from_env = os.environ.get(ENV_VAR)
    if from_env is not None and from_env.strip():
        return parse_origins(from_env)
    if configured:
        return parse_origins(configured)
    return parse_origins(DEFAULT_ORIGINS)


class ClinicSocketIOInput(SocketIOInput):
    """``socketio`` with an Origin allow-list (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = dict(credentials or {})
        configured = credentials.pop("allowed_origins", None)
        channel = super().from_credentials(credentials)
        assert isinstance(channel, ClinicSocketIOInput)
        channel.allowed_origins = allowed_origins(configured)
        return channel

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allowed_origins: list[str] = allowed_origins()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        socketio_webhook = super().blueprint(on_new_message)
        assert self.sio is not None
        origins = "*" if "*" in self.allowed_origins else list(self.allowed_origins)
        # Engine.IO checks the Origin of every request (handshake, polling, WebSocket upgrade)
        # against this list and answers 400 to anything else.
        self.sio.eio.cors_allowed_origins = origins
        # ...but leaves the CORS response headers to Sanic-CORS (`rasa run --cors`), which
        # adds them to every response already: two Access-Control-Allow-Origin headers
        # would make browsers reject the polling transport.
        self.sio.eio._cors_headers = lambda environ: []  # type: ignore[method-assign]
        logger.info("socket.io accepts connections from: %s", origins)
        return socketio_webhook
