"""Sign-in, sign-out and the rule that nothing is shown to anyone not signed in.

The guard runs before every request (including unknown URLs and the JSON endpoint),
so a new view cannot accidentally be left public. Each cookie carries the account's
session token as well as its name, and the guard checks both against the database: signing
out, a password change or deactivation replaces the token and so ends every session of the
account, including a cookie someone copied.

Sign-in attempts are counted in the handoff database (shared by every inbox process, kept
across restarts) per username at one address, and more loosely per username from anywhere.
The attempt is counted before the password is checked, so simultaneous guesses cannot slip
past the limit; a successful sign-in gives its attempt back. Keying on username and address
together means failures from one proxy cannot lock every coordinator behind it out.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any
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

from clinic.handoff.inbox.forms import ActionForm, SignInForm
from clinic.handoff.limits import counter_key

if TYPE_CHECKING:  # pragma: no cover - import only for type checkers
    from clinic.handoff.requests import HandoffStore

bp = Blueprint("auth", __name__)

PUBLIC_ENDPOINTS = {"auth.sign_in", "static"}
MAX_FAILURES = 5  # per username at one address
MAX_FAILURES_PER_USERNAME = 20  # per username from any address: slows a distributed guess
FAILURE_WINDOW = timedelta(minutes=15)


class SignInThrottle:
    """Sign-in attempt counters in the handoff database (see the module docstring)."""

    def __init__(
        self,
        store: HandoffStore,
        max_failures: int = MAX_FAILURES,
        max_per_username: int = MAX_FAILURES_PER_USERNAME,
        window: timedelta = FAILURE_WINDOW,
    ) -> None:
        self.store = store
        self.max_failures = max_failures
        self.max_per_username = max_per_username
        self.window = window

    @staticmethod
    def _keys(username: str, address: str) -> tuple[str, str]:
        name = username.strip().lower()
        return counter_key("signin-pair", name, address), counter_key("signin-user", name)

    def reserve(self, username: str, address: str) -> bool:
        """Count this attempt; False (and no password check) once a limit is reached."""
        pair, user = self._keys(username, address)
        return bool(
            self.store.reserve_attempts(
                [(pair, self.max_failures), (user, self.max_per_username)], self.window
            )
        )

    def succeeded(self, username: str, address: str) -> None:
        """The right password: forget this address's failures, give the attempt back."""
        pair, user = self._keys(username, address)
        self.store.clear_attempts([pair])
        self.store.refund_attempts([user])


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
    if username and _store().session_valid(username, session.get("session_token")):
        g.user = username
        return None
    if username:  # signed out elsewhere, password changed, account deactivated or deleted
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
        address = request.remote_addr or ""
        throttle: SignInThrottle = current_app.extensions["handoff_signin_throttle"]
        if not throttle.reserve(username, address):
            flash("Too many failed sign-in attempts. Please wait 15 minutes and try again.", "error")
            status = 429
        elif _store().authenticate(username, form.password.data):
            throttle.succeeded(username, address)
            session.clear()  # new session on sign-in: no fixation
            session.permanent = True
            session["user"] = username
            session["session_token"] = _store().session_token(username)
            current_app.logger.info("coordinator %s signed in", username)
            return redirect(_safe_next(request.args.get("next")))
        else:
            flash("Incorrect username or password.", "error")
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("sign_in.html", form=form), status


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Any:
    form = ActionForm()
    if form.validate_on_submit():
        if g.user:
            _store().end_sessions(g.user)  # every device, and any copy of the cookie
            current_app.logger.info("coordinator %s signed out (all sessions ended)", g.user)
        session.clear()
        flash("You are signed out.", "info")
    return redirect(url_for("auth.sign_in"))
