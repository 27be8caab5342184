"""Application factory for the coordinators' inbox.

Security posture, because the pages show health-related personal data:
- session cookie HttpOnly, SameSite=Lax, Secure whenever the inbox URL is https;
- CSRF tokens on every POST (Flask-WTF);
- a strict Content-Security-Policy: no scripts at all, styles from our own origin; the live-chat
  pages alone may run the inbox's own script (``static/live.js``) and open an event stream to
  the inbox itself (``script-src 'self'; connect-src 'self'``);
- no caching of pages and no Referer leaking the reference to other sites;
- request bodies are never logged.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from clinic.handoff.inbox import auth, live, views
from clinic.handoff.inbox.auth import SignInThrottle
from clinic.handoff.models import REASON_WORDS
from clinic.handoff.requests import HandoffStore
from clinic.live_chat.feed import start_feed
from clinic.live_chat.hub import Hub
from clinic.live_chat.rasa_api import RasaApi
from clinic.live_chat.store import LiveChatStore
from clinic.live_chat.watchdog import start_watchdog
from clinic.settings import Settings, load_settings

log = logging.getLogger(__name__)

SESSION_LIFETIME = timedelta(hours=8)
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# The live-chat pages: the same, plus the inbox's own script and its event streams.
LIVE_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "default-src 'none';", "default-src 'none'; script-src 'self'; connect-src 'self';"
)
ACTION_WORDS = {
    "created": "Request received",
    "duplicate_request": "Visitor submitted again",
    "viewed": "Opened",
    "claimed": "Claimed",
    "note_added": "Note added",
    "resolved": "Resolved",
    "reassigned": "Reassigned",
    "contact_shown": "Contact details shown",
    "rated": "Visitor rated the chat",
    "live_requested": "Live chat requested",
    "live_requeued": "Visitor asked again: back in line",
    "live_joined": "Joined the live chat",
    "live_handed_back": "Handed back to the assistant",
    "live_returned_to_queue": "Coordinator's page gone: back in line",
    "live_join_failed": "Join not sent (assistant unreachable)",
    "live_safety_alert": "Safety reply sent to the visitor",
    "live_viewed": "Opened the live chat",
    "live_closed": "Live chat closed",
}


def create_app(
    settings: Settings | None = None,
    *,
    store: HandoffStore | None = None,
    live_store: LiveChatStore | None = None,
    rasa: RasaApi | None = None,
    hub: Hub | None = None,
) -> Flask:
    """Build the inbox app; the stores default to ones made from ``settings``, the Rasa client
    to one from the environment (RASA_URL, RASA_API_TOKEN). No thread is started here: see
    ``start_background``."""
    settings = settings or load_settings()
    store = store or HandoffStore.from_settings(settings)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.require_inbox_secret_key(),
        SESSION_COOKIE_NAME="clinic_inbox_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.inbox_base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        WTF_CSRF_TIME_LIMIT=int(SESSION_LIFETIME.total_seconds()),
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    if not settings.is_development and not app.config["SESSION_COOKIE_SECURE"]:
        log.warning("INBOX_BASE_URL is not https: sign-in cookies will travel unencrypted")
    app.extensions["handoff_store"] = store
    app.extensions["handoff_settings"] = settings
    app.extensions["handoff_signin_throttle"] = SignInThrottle(store)
    app.extensions["live_chat_store"] = live_store or LiveChatStore.from_settings(settings)
    app.extensions["live_chat_rasa"] = rasa or RasaApi.from_env()
    app.extensions["live_chat_hub"] = hub or Hub()
    CSRFProtect(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(live.bp)
    _register_template_helpers(app, settings)
    _register_error_handlers(app)

    @app.after_request
    def security_headers(response: Any) -> Any:
        live_page = request.blueprint == "live"
        response.headers["Content-Security-Policy"] = (
            LIVE_CONTENT_SECURITY_POLICY if live_page else CONTENT_SECURITY_POLICY
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        if not response.headers.get("Cache-Control"):
            response.headers["Cache-Control"] = "no-store"
        return response

    return app


def start_background(app: Flask, environ: Mapping[str, str] | None = None) -> None:
    """Start live chat's feed and watchdog threads (daemons) for this inbox process.

    The feed reads Rasa's sealed broker events: RabbitMQ when EVENT_BROKER_AMQP_URL is set
    (queue EVENT_BROKER_QUEUE, default clinic_live_chat), else the SQL table at EVENT_BROKER_URL
    (default sqlite:///<var>/events.db). LIVE_CHAT_BACKGROUND=0 starts neither."""
    environ = os.environ if environ is None else environ
    if (environ.get("LIVE_CHAT_BACKGROUND") or "1").strip() == "0":
        log.info("live chat feed and watchdog not started (LIVE_CHAT_BACKGROUND=0)")
        return
    live_store = app.extensions["live_chat_store"]
    hub = app.extensions["live_chat_hub"]
    start_feed(live_store, hub, app.extensions["handoff_settings"], environ)
    start_watchdog(live_store, app.extensions["live_chat_rasa"], hub)


def _register_template_helpers(app: Flask, settings: Settings) -> None:
    tz = settings.office_hours.tz

    @app.template_filter("localtime")
    def localtime(value: datetime | None) -> str:
        if value is None:
            return ""
        local = value.astimezone(tz)
        hour = local.hour % 12 or 12
        suffix = "AM" if local.hour < 12 else "PM"
        return f"{local:%a %d %b %Y}, {hour}:{local:%M} {suffix} {local.tzname()}"

    @app.template_filter("isotime")
    def isotime(value: datetime | None) -> str:
        return value.isoformat() if value else ""

    @app.template_filter("transcript_time")
    def transcript_time(value: str) -> str:
        try:
            parsed = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
        except (TypeError, ValueError):
            return value or ""
        if parsed.tzinfo is None:
            return parsed.strftime("%H:%M")
        return localtime(parsed)

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {
            "clinic_name": settings.clinic.name,
            "reason_words": REASON_WORDS,
            "action_words": ACTION_WORDS,
        }


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Any:
        return (
            render_template(
                "error.html",
                title="Form expired",
                message="This form was out of date or incomplete. Go back, reload the page and try again.",
            ),
            400,
        )

    @app.errorhandler(400)
    def bad_request(error: Any) -> Any:
        return render_template(
            "error.html", title="Bad request", message="That request was not understood."
        ), 400

    @app.errorhandler(404)
    def not_found(error: Any) -> Any:
        return render_template(
            "error.html", title="Not found", message="There is no such page or request."
        ), 404
