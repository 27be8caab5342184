"""Rasa's socket.io channel, accepting connections only from the clinic's own web origins.

This channel behaves like Rasa's ``socketio`` (same events, same credentials keys, same
``input_channel`` name in the trackers) with three fixes:

* Origins. Rasa builds its socket.io server with ``cors_allowed_origins=[]``, which switches
  the Engine.IO origin check off: any web page could open a WebSocket to the bot in a
  visitor's browser. Here every socket.io request, polling or WebSocket, whose ``Origin``
  header is not in the allow-list is refused (HTTP 400).
* Sessions. Rasa 3.6 calls ``sio.enter_room()`` without ``await``; with python-socketio >= 5.10
  that is a coroutine, so the socket never joins its session's room and, with
  ``session_persistence: true``, never receives a single bot message ("coroutine
  'AsyncServer.enter_room' was never awaited" in the log). ``session_request`` is
  re-registered here with the ``await``. Session ids the client proposes must look like the
  ids the server hands out (8-64 letters, digits, ``-`` or ``_``); anything else gets a new id.
* Messages. With ``session_persistence``, a message is only accepted for the session the
  socket has joined through ``session_request``, not for any ``session_id`` it names.

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
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

logger = logging.getLogger(__name__)

ENV_VAR = "CLINIC_ALLOWED_ORIGINS"
DEFAULT_ORIGINS = "http://localhost:8000 http://127.0.0.1:8000"
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


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
        sio = self.sio
        assert sio is not None
        origins = "*" if "*" in self.allowed_origins else list(self.allowed_origins)
        # Engine.IO checks the Origin of every request (handshake, polling, WebSocket upgrade)
        # against this list and answers 400 to anything else...
        sio.eio.cors_allowed_origins = origins
        # ...but leaves the CORS response headers to Sanic-CORS (`rasa run --cors`), which
        # adds them to every response already: two Access-Control-Allow-Origin headers
        # would make browsers reject the polling transport.
        sio.eio._cors_headers = lambda environ: []  # type: ignore[method-assign]
        logger.info("socket.io accepts connections from: %s", origins)

        namespace = self.namespace
        ns = namespace or "/"
        handle_message = sio.handlers[ns][self.user_message_evt]

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any) -> None:
            proposed = data.get("session_id") if isinstance(data, dict) else None
            if isinstance(proposed, str) and SESSION_ID.match(proposed):
                session_id = proposed
            else:
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)
            logger.debug("socket.io session %s joined by %s", session_id, sid)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def user_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict):
                return
            if self.session_persistence:
                session_id = data.get("session_id")
                if not isinstance(session_id, str) or session_id not in sio.rooms(sid, namespace=namespace):
                    logger.warning("socket.io message from %s for a session it has not joined: ignored", sid)
                    return
            await handle_message(sid, data)

        return socketio_webhook
