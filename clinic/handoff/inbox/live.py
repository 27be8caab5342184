"""Live chat in the inbox (docs/live-chat.md): availability, the live queue, the chat page.

Every route is behind the sign-in guard (``auth.require_sign_in`` runs before every request) and
every POST carries a CSRF token (Flask-WTF; ``fetch`` sends it in the ``X-CSRFToken`` header
as well as in the form). What is sent to the visitor goes through Rasa's API only after the
store has confirmed that the signed-in coordinator is the one in that chat. The pages work with
plain form posts; ``static/live.js`` adds live updates over server-sent events (``/stream``).
Visitors' words are rendered by Jinja's autoescaping or by ``textContent``, never as HTML.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from clinic.handoff.errors import InvalidTransition, StoreUnavailable
from clinic.handoff.inbox.forms import (
    ActionForm,
    AvailabilityForm,
    CloseChatForm,
    DisplayNameForm,
    LiveMessageForm,
)
from clinic.handoff.models import REASON_WORDS
from clinic.live_chat.hub import Hub
from clinic.live_chat.rasa_api import RasaApi, RasaApiError
from clinic.live_chat.store import (
    ChatTaken,
    LiveChatNotFound,
    LiveChatStore,
    LiveChatView,
    NotYourChat,
)

bp = Blueprint("live", __name__)
T = TypeVar("T")

HEARTBEAT_SECONDS = 15.0
STREAM_SECONDS = 300.0  # a stream ends after this; the browser reconnects (and is checked again)
STATE_POLL_SECONDS = 3.0
RASA_DOWN = (
    "The assistant could not be reached just now, so nothing was sent to the visitor. "
    "Please try again in a moment."
)


def _store() -> LiveChatStore:
    return current_app.extensions["live_chat_store"]


def _hub() -> Hub:
    return current_app.extensions["live_chat_hub"]


def _rasa() -> RasaApi:
    return current_app.extensions["live_chat_rasa"]


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _done(reference: str | None, message: str, category: str = "info", status: int = 200) -> Any:
    """A fetch() gets JSON; a plain form post gets a flash message and a redirect."""
    if _wants_json():
        key = "message" if category == "info" else "error"
        return jsonify({key: message}), status
    flash(message, category)
    if reference is None:
        return redirect(url_for("live.index"))
    return redirect(url_for("live.chat", reference=reference))


def _chat_json(chat: LiveChatView) -> dict[str, Any]:
    return {
        "reference": chat.reference,
        "status": chat.status,
        "reason": REASON_WORDS.get(chat.reason, chat.reason),
        "topics": chat.topics_seen,
        "requested_at": chat.requested_at.isoformat(),
        "queued_at": chat.queued_at.isoformat(),
        "coordinator": chat.coordinator_name or chat.coordinator,
        "mine": chat.coordinator == g.user if chat.status == "joined" else False,
        "alert": chat.alert_at is not None,
        "position": chat.position,
        "url": url_for("live.chat", reference=chat.reference),
    }


# ----------------------------------------------------------------- the Live chat page


@bp.route("/live")
def index() -> Any:
    store = _store()
    store.heartbeat(g.user)
    return render_template(
        "live.html",
        presence=store.presence(g.user),
        chats=store.queue(),
        rating=store.rating_summary(),
        availability_form=AvailabilityForm(),
        name_form=DisplayNameForm(),
    )


@bp.route("/live/availability", methods=["POST"])
def availability() -> Any:
    form = AvailabilityForm()
    if not form.validate_on_submit():
        abort(400)
    available = form.available.data == "1"
    _store().set_available(g.user, available)
    current_app.logger.info("coordinator %s set themselves %s", g.user, "available" if available else "away")
    _hub().publish({"type": "queue"})
    words = "You are available for live chat." if available else "You are away: no new live chats."
    return _done(None, words)


@bp.route("/live/name", methods=["POST"])
def display_name() -> Any:
    form = DisplayNameForm()
    if not form.validate_on_submit():
        return _done(None, "A name can be at most 40 characters.", "error", 400)
    presence = _store().set_display_name(g.user, form.name.data or "")
    return _done(None, f"Visitors will see you as {presence.name}.")


@bp.route("/api/live/queue")
def api_queue() -> Any:
    """The live queue as JSON (no visitor text): what the page's script renders."""
    return jsonify([_chat_json(chat) for chat in _store().queue()])


# ----------------------------------------------------------------- one chat


def _chat_or_404(reference: str) -> LiveChatView:
    try:
        return _store().get(reference)
    except LiveChatNotFound:
        abort(404)


@bp.route("/live/chats/<reference>")
def chat(reference: str) -> Any:
    chat = _chat_or_404(reference)
    store = _store()
    store.record_view(chat.reference, g.user)
    store.heartbeat(g.user, chat.reference)
    transcript: list[dict[str, str]] = []
    transcript_error = None
    if chat.is_open:
        try:
            transcript = _rasa().transcript(chat.conversation_id)
        except RasaApiError:
            transcript_error = (
                "The conversation could not be loaded from the assistant just now. Reload to try again."
            )
    return render_template(
        "live_chat.html",
        chat=chat,
        transcript=transcript,
        transcript_error=transcript_error,
        mine=chat.status == "joined" and chat.coordinator == g.user,
        message_form=LiveMessageForm(),
        close_form=CloseChatForm(),
        max_length=store.settings.max_message_length,
    )


class Refused(Exception):
    """A coordinator's action that cannot be done; `response` tells them why (see `guarded`)."""

    def __init__(self, response: Any) -> None:
        super().__init__()
        self.response = response


@bp.errorhandler(Refused)
def refused(error: Refused) -> Any:
    return error.response


def guarded(reference: str, verb: str, action: Callable[[], T]) -> T:
    """Run a coordinator's action on a chat; the store's and Rasa's refusals become the answer."""
    try:
        return action()
    except LiveChatNotFound:
        abort(404)
    except NotYourChat as exc:
        raise Refused(_done(reference, f"Not {verb}: {exc}.", "error", 403)) from exc
    except RasaApiError as exc:
        current_app.logger.error("live chat %s: not %s (%s)", reference, verb, exc)
        raise Refused(_done(reference, RASA_DOWN, "error", 502)) from exc


@bp.route("/live/chats/<reference>/join", methods=["POST"])
def join(reference: str) -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    store = _store()
    try:
        chat = store.join(reference, g.user)
    except LiveChatNotFound:
        abort(404)
    except ChatTaken as exc:
        return _done(reference, f"{exc.holder} has already joined this chat.", "error", 409)
    except InvalidTransition as exc:
        return _done(reference, f"You cannot join: {exc}.", "error", 409)
    try:
        _rasa().join(chat.conversation_id, chat.coordinator_name or g.user)
    except RasaApiError as exc:
        store.unjoin(chat.reference, g.user)
        current_app.logger.error("live chat %s: join not sent (%s)", chat.reference, exc)
        return _done(reference, RASA_DOWN, "error", 502)
    current_app.logger.info("coordinator %s joined live chat %s", g.user, chat.reference)
    _hub().publish({"type": "queue"})
    return _done(reference, "You joined the chat. The assistant is paused until you hand back or close.")


@bp.route("/live/chats/<reference>/say", methods=["POST"])
def say(reference: str) -> Any:
    form = LiveMessageForm()
    store = _store()
    if not form.validate_on_submit():
        return _done(reference, "Write a reply first (at most 2,000 characters).", "error", 400)
    text = form.text.data.strip()
    if not text or len(text) > store.settings.max_message_length:
        return _done(reference, "Write a reply first (at most 2,000 characters).", "error", 400)
    chat = guarded(reference, "sent", lambda: store.require_joined(reference, g.user))
    name = chat.coordinator_name or g.user
    guarded(reference, "sent", lambda: _rasa().say(chat.conversation_id, g.user, name, text))
    store.heartbeat(g.user, chat.reference)
    return _done(reference, "Sent.")


@bp.route("/live/chats/<reference>/hand-back", methods=["POST"])
def hand_back(reference: str) -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    store = _store()

    def hand_back_chat() -> None:
        chat = store.require_joined(reference, g.user)
        _rasa().leave(chat.conversation_id, chat.coordinator_name or g.user)
        store.hand_back(reference, g.user)

    guarded(reference, "handed back", hand_back_chat)
    _hub().publish({"type": "queue"})
    return _done(
        reference, "Handed back: the assistant answers the visitor again. Close the chat when you are done."
    )


@bp.route("/live/chats/<reference>/close", methods=["POST"])
def close(reference: str) -> Any:
    form = CloseChatForm()
    if not form.validate_on_submit():
        return _done(reference, "The note is too long (at most 5,000 characters).", "error", 400)
    store, rasa = _store(), _rasa()
    chat = guarded(reference, "closed", lambda: store.check_can_close(reference, g.user))

    def close_chat() -> Any:
        if chat.status == "joined":
            rasa.leave(chat.conversation_id, chat.coordinator_name or g.user)
        transcript = rasa.transcript(chat.conversation_id)
        return store.close_chat(reference, g.user, transcript, form.note.data)

    closed = guarded(reference, "closed", close_chat)
    _hub().publish({"type": "queue"})
    try:
        rasa.trigger(chat.conversation_id, "live_chat_closed")
    except RasaApiError as exc:
        current_app.logger.warning("live chat %s: rating question not triggered (%s)", reference, exc)
    current_app.logger.info("coordinator %s closed live chat %s", g.user, closed.reference)
    message = f"Chat closed. Its record is {closed.handoff_reference}."
    if _wants_json():
        return jsonify(
            {"message": message, "record": url_for("queue.detail", reference=closed.handoff_reference)}
        )
    flash(message, "info")
    return redirect(url_for("queue.detail", reference=closed.handoff_reference))


# ----------------------------------------------------------------- server-sent events


def _beat_seconds() -> float:
    """How often a stream refreshes its coordinator's presence: often enough that an open page
    never counts as gone (at least three beats per presence period)."""
    presence = current_app.extensions["handoff_settings"].live_chat.presence.total_seconds()
    return min(HEARTBEAT_SECONDS, presence / 3)


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _queue_snapshot(store: LiveChatStore) -> list[dict[str, Any]]:
    return [_chat_json(chat) for chat in store.queue()]


def _watch(
    event: str,
    current: Callable[[], Any],
    beat: Callable[[], None],
    relay: Callable[[dict[str, Any]], Iterator[str]] = lambda message: iter(()),
) -> Iterator[str]:
    """One event stream: `event` with `current()` at once and again whenever it changes (checked
    on every hub message and at least every STATE_POLL_SECONDS), what `relay` makes of each hub
    message, and `beat()` often enough that the coordinator stays present. It ends after
    STREAM_SECONDS; the browser reconnects (`retry`)."""
    hub, beat_every = _hub(), _beat_seconds()
    with hub.subscribe() as subscription:
        beat()
        last = current()
        yield "retry: 3000\n\n" + _sse(event, last)
        started = beaten = checked = time.monotonic()
        while time.monotonic() - started < STREAM_SECONDS:
            message = subscription.get(timeout=1.0)
            now = time.monotonic()
            if now - beaten >= beat_every:
                beat()
                beaten = now
                yield ": heartbeat\n\n"
            if message is not None:
                yield from relay(message)
            elif now - checked < STATE_POLL_SECONDS:
                continue
            checked = now
            try:
                state = current()
            except (LiveChatNotFound, StoreUnavailable):
                continue
            if state != last:
                last = state
                yield _sse(event, state)


@bp.route("/live/stream")
def queue_stream() -> Any:
    """The live queue, sent again whenever it may have changed; keeps the coordinator present."""
    store, username = _store(), g.user
    return _event_stream(_watch("queue", lambda: _queue_snapshot(store), lambda: store.heartbeat(username)))


@bp.route("/live/chats/<reference>/stream")
def chat_stream(reference: str) -> Any:
    """New messages of one chat, its state, and safety alerts; keeps the coordinator present."""
    reference = _chat_or_404(reference).reference
    store, username = _store(), g.user

    def state() -> dict[str, Any]:
        chat = store.get(reference)
        return {
            "status": chat.status,
            "coordinator": chat.coordinator_name or chat.coordinator,
            "mine": chat.status == "joined" and chat.coordinator == username,
            "alert": chat.alert_at is not None,
        }

    def relay(message: dict[str, Any]) -> Iterator[str]:
        if message.get("reference") != reference:
            return
        if message.get("line"):
            yield _sse("message", message["line"])
        if message.get("alert"):
            yield _sse("alert", {"at": time.time()})

    return _event_stream(_watch("state", state, lambda: store.heartbeat(username, reference), relay))


def _event_stream(body: Iterator[str]) -> Response:
    """A text/event-stream response; the request context stays (``g.user``, ``url_for``)."""
    return Response(
        stream_with_context(body),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
