"""Sign-in, sign-out and the rule that nothing is shown to anyone not signed in.

The guard runs before every request (including unknown URLs and the JSON endpoint),
so a new view cannot accidentally be left public. Failed sign-ins are throttled per
username and per client address to slow down password guessing.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from handoff.inbox.forms import ActionForm, SignInForm

bp = Blueprint("auth", __name__)

PUBLIC_ENDPOINTS = {"auth.sign_in", "static"}
MAX_FAILURES = 5
FAILURE_WINDOW_SECONDS = 15 * 60


class SignInThrottle:
    """Counts recent failed sign-ins per key; in memory, which suits one inbox process."""

    def __init__(self, max_failures: int = MAX_FAILURES, window: float = FAILURE_WINDOW_SECONDS) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(key, now)) >= self.max_failures for key in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


def _store() -> Any:
    return current_app.extensions["handoff_store"]


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so the sign-in page cannot be used as an open redirect."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("queue.index")


@bp.before_app_request
def require_sign_in() -> Any:
    g.user = None
    username = session.get("user")
    if username and _store().is_active_coordinator(username):
        g.user = username
        return None
    if username:  # account deactivated or deleted since sign-in
        session.clear()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify(error="sign-in required"), 401
    next_path = request.full_path if request.method == "GET" and request.endpoint else None
    return redirect(url_for("auth.sign_in", next=next_path.rstrip("?") if next_path else None))


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    if g.user:
        return redirect(_safe_next(request.args.get("next")))
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        username = form.username.data.strip()
        keys = (f"user:{username.lower()}", f"addr:{request.remote_addr}")
        throttle: SignInThrottle = current_app.extensions["handoff_signin_throttle"]
        if throttle.blocked(*keys):
            flash("Too many failed sign-in attempts. Please wait 15 minutes and try again.", "error")
            status = 429
        elif _store().authenticate(username, form.password.data):
            throttle.succeeded(*keys)
            session.clear()  # new session on sign-in: no fixation
            session.permanent = True
            session["user"] = username
            current_app.logger.info("coordinator %s signed in", username)
            return redirect(_safe_next(request.args.get("next")))
        else:
            throttle.failed(*keys)
            flash("Incorrect username or password.", "error")
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("sign_in.html", form=form), status


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Any:
    form = ActionForm()
    if form.validate_on_submit():
        session.clear()
        flash("You are signed out.", "info")
    return redirect(url_for("auth.sign_in"))
