"""Rasa's socket.io channel, accepting connections only from the clinic's own web origins.

This channel behaves like Rasa's ``socketio`` (same events, same credentials keys, same
``input_channel`` name in the trackers) with these fixes:

* Origins. Rasa builds its socket.io server with ``cors_allowed_origins=[]``, which switches
  the Engine.IO origin check off: any web page could open a WebSocket to the bot in a
  visitor's browser. Here every socket.io request, polling or WebSocket, whose ``Origin``
  header is not in the allow-list is refused (HTTP 400).
* Sessions. Rasa 3.6 calls ``sio.enter_room()`` without ``await``; with python-socketio >= 5.10
  that is a coroutine, so the socket never joins its session's room and, with
  ``session_persistence: true``, never receives a single bot message ("coroutine
  'AsyncServer.enter_room' was never awaited" in the log). ``session_request`` is
  re-registered here with the ``await``. A session id the client proposes must pass the rule
  every channel shares for conversation ids (`clinic.channels.visitor_input`); anything else gets a
  new id. A socket belongs to one session at a time: a new ``session_request`` leaves the
  previous session's room, so a client cannot pile up rooms.
* Messages. With ``session_persistence``, a message is only accepted for the session the
  socket has joined through ``session_request``, not for any ``session_id`` it names. Every
  message is checked like on REST (`clinic.channels.visitor_input`: text only, at most
  ``MAX_MESSAGE_CHARS`` characters, lone surrogates and NUL cleaned, metadata a small JSON
  object) and carries ``metadata["client_id"]``, the keyed hash of the address the socket
  connected from. A message that cannot be taken gets a ``bot_uttered`` saying why (too long,
  and what the limit is; not text); nothing a client sends raises in the server.
* Replies. A message whose processing failed or produced no bot message at all (the action
  server is down) gets the honest apology of `clinic.channels.always_reply`, never silence, and the
  failure is logged without the visitor's text. The exception: a care coordinator is in the chat
  (the conversation is paused), where silence is expected and only a safety reply is sent
  (`clinic.live_chat.paused`). A widget reconnecting during a live chat gets the coordinator's
  messages it missed (`clinic.live_chat.replay`).

The allow-list comes from the environment variable ``CLINIC_ALLOWED_ORIGINS``
(space- or comma-separated, e.g. ``"https://clinic.example https://www.clinic.example"``),
or from an ``allowed_origins`` key in credentials.yml; the default is the local demo site
``http://localhost:8000 http://127.0.0.1:8000``. ``*`` allows every origin (development only).

Requests without an ``Origin`` header (server-side clients, health checks) are not web pages
and are let through; browsers always send ``Origin`` on WebSocket and cross-origin requests.

CORS response headers for the polling transport are left to Rasa's ``--cors`` option, as for
the REST channel, so they are never sent twice. Use in credentials.yml::

    clinic.channels.socketio.ClinicSocketIOInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint
from socketio import AsyncServer

from clinic.channels import visitor_input
from clinic.channels.always_reply import CountingSocketIOOutput, apology_text, process
from clinic.channels.log_privacy import keep_visitor_text_out_of_logs
from clinic.channels.visitor_input import InputProblem, is_valid_sender_id
from clinic.live_chat import replay
from clinic.live_chat.paused import handled_while_paused

logger = logging.getLogger(__name__)

ENV_VAR = "CLINIC_ALLOWED_ORIGINS"
DEFAULT_ORIGINS = "http://localhost:8000 http://127.0.0.1:8000"
NOT_JOINED = "Sorry, this conversation is not open here any more. Please reload the page to continue."


def parse_origins(value: str | list[str] | None) -> list[str]:
    """Origins from a space/comma separated string (or a list), normalised: no trailing '/'."""
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).replace(",", " ").split()
    return [str(item).strip().rstrip("/") for item in items if str(item).strip()]


def peer_address(environ: dict[str, Any]) -> str | None:
    """The address the socket connected from. python-engineio's Sanic driver always puts
    127.0.0.1 in REMOTE_ADDR, so the Sanic request's peer (as on REST) comes first."""
    request = environ.get("sanic.request")
    return (visitor_input.client_address(request) if request else None) or environ.get("REMOTE_ADDR")


def drop_malformed_events(sio: AsyncServer) -> None:
    """python-socketio looks an event packet's first item up as the event name; when a client
    sends nothing there, or a list or an object, that lookup raises inside python-socketio (a
    traceback in the log for each such packet). Those packets are dropped before the lookup
    (this wraps python-socketio's internal `_handle_event`, as pinned in requirements.lock)."""
    handle_event = sio._handle_event

    async def checked(eio_sid: str, namespace: str | None, id: int | None, data: Any) -> None:
        if isinstance(data, list) and data and isinstance(data[0], str):
            await handle_event(eio_sid, namespace, id, data)
        else:
            logger.info("socket.io packet without an event name from %s: dropped", eio_sid)

    sio._handle_event = checked  # type: ignore[method-assign]


def payload(args: tuple[Any, ...]) -> Any:
    """An event's data. Clients may send no argument or several, and python-socketio passes them
    on as they came: the handlers take any number, so none of them can fail on a TypeError."""
    return args[0] if len(args) == 1 else (args or None)


def read_message(data: Any, metadata_key: str) -> tuple[str, dict[str, Any]]:
    """Text and metadata of a ``user_uttered`` payload, checked like a REST request."""
    if not isinstance(data, dict):
        raise InputProblem(visitor_input.NOT_TEXT)
    text = visitor_input.message_text(data.get("message") if data.get("message") is not None else "")
    raw = data.get(metadata_key)
    if isinstance(raw, str):  # Rasa's channel accepts metadata as JSON text too
        if len(raw) > visitor_input.MAX_METADATA_BYTES:
            raise InputProblem(visitor_input.BAD_METADATA)
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError) as error:
            raise InputProblem(visitor_input.BAD_METADATA) from error
    return text, visitor_input.metadata(raw)


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
        self.apology = apology_text()
        self._client_ids: dict[str, str] = {}  # socket id -> client id, while connected
        self.app: Any = None  # the Sanic app, once the server starts (see `blueprint`)
        keep_visitor_text_out_of_logs()

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

        drop_malformed_events(sio)

        @socketio_webhook.listener("before_server_start")
        async def keep_app(app: Any, _loop: Any) -> None:
            self.app = app  # Rasa loads its agent in a listener of its own, maybe after this one

        self._register_connection_handlers(sio)
        self._register_session_request(sio)
        self._register_user_message(sio, on_new_message)
        return socketio_webhook

    def _register_connection_handlers(self, sio: AsyncServer) -> None:
        """Rasa's connect (JWT check) and disconnect, plus the client id per connected socket.

        python-socketio also calls these handlers for an ordinary event a connected client names
        "connect" or "disconnect", with the client's own arguments (a forged environ, say). The
        real calls come while the socket is still connecting or already disconnecting, so a call
        for a fully connected socket is such an event, and is ignored."""
        namespace = self.namespace or "/"
        handlers = sio.handlers[namespace]
        rasa_connect, rasa_disconnect = handlers["connect"], handlers["disconnect"]

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, *args: Any) -> bool | None:
            if sio.manager.is_connected(sid, namespace) or not args or not isinstance(args[0], dict):
                return None  # a client's event named "connect"
            environ, auth = args[0], (args[1] if len(args) > 1 else None)
            accepted = await rasa_connect(sid, environ, auth if isinstance(auth, dict) else None)
            if accepted:
                self._client_ids[sid] = visitor_input.client_id(peer_address(environ))
            return bool(accepted)

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: str, *reason: Any) -> None:
            if sio.manager.is_connected(sid, namespace):
                return  # a client's event named "disconnect"
            self._client_ids.pop(sid, None)
            await rasa_disconnect(sid)

    def _register_session_request(self, sio: AsyncServer) -> None:
        namespace = self.namespace

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, *args: Any) -> None:
            data = payload(args)
            proposed = data.get("session_id") if isinstance(data, dict) else None
            session_id = proposed if is_valid_sender_id(proposed) else uuid.uuid4().hex
            if self.session_persistence:
                for room in sio.rooms(sid, namespace=namespace):
                    if room not in (sid, session_id):
                        await sio.leave_room(sid, room, namespace=namespace)
                await sio.enter_room(sid, session_id, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)
            logger.debug("socket.io session %s joined by %s", session_id, sid)
            since = replay.since_of(data)
            if since is not None and session_id == proposed:
                await self._replay_live_chat(sio, sid, session_id, since)

    async def _replay_live_chat(self, sio: AsyncServer, sid: str, session_id: str, since: float) -> None:
        """A reconnecting widget gets the live chat messages it missed (clinic/live_chat/replay.py)."""
        agent = getattr(self.app.ctx, "agent", None) if self.app else None
        if agent is None or agent.tracker_store is None:
            return
        try:
            tracker = await agent.tracker_store.retrieve(session_id)
        except Exception as error:  # noqa: BLE001 (a replay must never break the connection)
            logger.error("Live chat replay failed (%s)", type(error).__name__)
            return
        for text, payload in replay.missed(tracker.events if tracker else [], since):
            await sio.emit(self.bot_message_evt, {"text": text}, room=sid, namespace=self.namespace)
            await sio.emit(self.bot_message_evt, payload, room=sid, namespace=self.namespace)

    def _sender_id(self, sio: AsyncServer, sid: str, data: dict[str, Any]) -> str | None:
        """The conversation a message belongs to: the joined session (or the socket itself)."""
        if not self.session_persistence:
            return sid
        session_id = data.get("session_id")
        joined = is_valid_sender_id(session_id) and session_id in sio.rooms(sid, namespace=self.namespace)
        return session_id if joined else None

    def _register_user_message(
        self, sio: AsyncServer, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        namespace = self.namespace

        async def tell(sid: str, text: str) -> None:
            await sio.emit(self.bot_message_evt, {"text": text}, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def user_message(sid: str, *args: Any) -> None:
            data = payload(args)
            try:
                text, metadata = read_message(data, self.metadata_key)
            except InputProblem as problem:
                await tell(sid, problem.message)
                return
            sender = self._sender_id(sio, sid, data)
            if sender is None:
                logger.warning(
                    "socket.io message from %s for a session it has not joined: not processed", sid
                )
                await tell(sid, NOT_JOINED)
                return
            metadata[visitor_input.CLIENT_ID_KEY] = self._client_ids.get(sid) or visitor_input.client_id(None)
            output = CountingSocketIOOutput(sio, self.bot_message_evt)
            message = UserMessage(text, output, sender, input_channel=self.name(), metadata=metadata)
            processed = await process(on_new_message, message, self.name())
            agent = getattr(self.app.ctx, "agent", None) if self.app else None
            if processed and not output.sent and await handled_while_paused(agent, sender, output):
                return
            if not processed or not output.sent:
                await output.send_text_message(sender, self.apology)
