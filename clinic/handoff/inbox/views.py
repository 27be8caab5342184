"""The queue and the handoff page: what coordinators see and the buttons they press.

Every change goes through the store, which writes the audit event; views only turn
results into pages and flash messages. Visitors' words are rendered by Jinja with
autoescaping on, never marked safe.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from clinic.handoff.inbox.forms import ActionForm, NoteForm
from clinic.handoff.requests import HandoffNotFound, InvalidTransition

bp = Blueprint("queue", __name__)

FILTERS = ("new", "claimed", "resolved", "all")


def _store() -> Any:
    return current_app.extensions["handoff_store"]


def _status_filter() -> str:
    status = request.args.get("status", "new")
    if status not in FILTERS:
        abort(400)
    return status


@bp.route("/")
def home() -> Any:
    return redirect(url_for("queue.index"))


@bp.route("/handoffs")
def index() -> Any:
    status = _status_filter()
    return render_template(
        "queue.html",
        handoffs=_store().list(status),
        status=status,
        filters=FILTERS,
        counts=_store().counts(),
        rating=current_app.extensions["live_chat_store"].rating_summary(),
    )


@bp.route("/api/handoffs")
def api_index() -> Any:
    """Queue as JSON (no contact details), e.g. for a badge showing new requests."""
    status = _status_filter()
    return jsonify(
        [
            {
                "reference": item.reference,
                "created_at": item.created_at.isoformat(),
                "status": item.status,
                "reason": item.reason,
                "claimed_by": item.claimed_by,
            }
            for item in _store().list(status)
        ]
    )


@bp.route("/handoffs/<reference>")
def detail(reference: str) -> Any:
    try:
        handoff = _store().get(reference, viewer=g.user)
    except HandoffNotFound:
        abort(404)
    live_chat = None
    if handoff.kind == "live_chat":
        live_chat = current_app.extensions["live_chat_store"].facts_for_handoff(handoff.reference)
    return render_template(
        "handoff.html",
        handoff=handoff,
        live_chat=live_chat,
        note_form=NoteForm(),
        action_form=ActionForm(),
    )


def _act(reference: str, action: Any, done: str) -> Any:
    form = ActionForm()
    if form.validate_on_submit():
        try:
            action()
            flash(done, "info")
        except HandoffNotFound:
            abort(404)
        except InvalidTransition as exc:
            flash(str(exc), "error")
    return redirect(url_for("queue.detail", reference=reference))


@bp.route("/handoffs/<reference>/claim", methods=["POST"])
def claim(reference: str) -> Any:
    return _act(reference, lambda: _store().claim(reference, g.user), "You claimed this request.")


@bp.route("/handoffs/<reference>/resolve", methods=["POST"])
def resolve(reference: str) -> Any:
    return _act(reference, lambda: _store().resolve(reference, g.user), "Marked as resolved.")


@bp.route("/handoffs/<reference>/notes", methods=["POST"])
def add_note(reference: str) -> Any:
    form = NoteForm()
    if form.validate_on_submit():
        try:
            _store().add_note(reference, g.user, form.text.data)
            flash("Note added.", "info")
        except HandoffNotFound:
            abort(404)
        except ValueError as exc:
            flash(str(exc), "error")
    else:
        flash("A note cannot be empty.", "error")
    return redirect(url_for("queue.detail", reference=reference) + "#notes")
