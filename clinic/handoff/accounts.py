"""Coordinator accounts, their sessions, and the attempt counters the inbox signs in with.

Part of ``HandoffStore`` (a mixin, so callers keep one object for everything), kept apart
because it is a different job from storing visitors' requests. Passwords are hashed with
Werkzeug; a session token per account lets the inbox end every session of the account at
once (sign-out, password change, deactivation).
"""

from __future__ import annotations

import functools
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from clinic.handoff import limits as counters
from clinic.handoff.errors import AccountError
from clinic.handoff.models import Coordinator

_USERNAME_RE = re.compile(r"^[A-Za-z0-9._@-]{2,64}$")
MIN_PASSWORD_LENGTH = 12


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A real hash to check against when the username does not exist, so a wrong
    username takes as long as a wrong password (no account enumeration by timing)."""
    return generate_password_hash(secrets.token_urlsafe(16))


def _username(value: str) -> str:
    value = (value or "").strip()
    if not _USERNAME_RE.match(value):
        raise AccountError("username must be 2-64 letters, digits or . _ @ -")
    return value


class _LimitReached(Exception):
    """Internal: rolls back the reservations already made in ``reserve_attempts``."""


class AccountsMixin:
    """Accounts, sessions and attempt counters; needs ``_transaction`` and ``_clock``."""

    _clock: Callable[[], datetime]
    _transaction: Callable[[], AbstractContextManager[Session]]

    def create_coordinator(self, username: str, password: str) -> None:
        username = _username(username)
        if len(password or "") < MIN_PASSWORD_LENGTH:
            raise AccountError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
        try:
            with self._transaction() as session:
                session.add(
                    Coordinator(
                        username=username,
                        password_hash=generate_password_hash(password),
                        created_at=self._clock(),
                        active=True,
                    )
                )
        except IntegrityError as exc:
            raise AccountError(f"a coordinator named {username!r} already exists") from exc

    @staticmethod
    def _account(session: Session, username: str) -> Coordinator:
        account = session.query(Coordinator).filter(Coordinator.username == username).one_or_none()
        if account is None:
            raise AccountError(f"no coordinator named {username!r}")
        return account

    def set_password(self, username: str, password: str) -> None:
        """Change the password and end every session of the account (a stolen cookie too)."""
        if len(password or "") < MIN_PASSWORD_LENGTH:
            raise AccountError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
        with self._transaction() as session:
            account = self._account(session, username)
            account.password_hash = generate_password_hash(password)
            account.session_token = None

    def set_active(self, username: str, active: bool) -> None:
        """(De)activate an account; either way its current sessions end."""
        with self._transaction() as session:
            account = self._account(session, username)
            account.active = active
            account.session_token = None

    def session_token(self, username: str) -> str:
        """The value a new sign-in cookie carries: the account's current session token,
        made on the first sign-in after the last revocation. Signing in on a second device
        does not end the first one's session."""
        with self._transaction() as session:
            session.query(Coordinator).filter(
                Coordinator.username == username, Coordinator.session_token.is_(None)
            ).update({Coordinator.session_token: secrets.token_urlsafe(32)}, synchronize_session=False)
            token = session.query(Coordinator.session_token).filter(Coordinator.username == username).scalar()
        if token is None:
            raise AccountError(f"no coordinator named {username!r}")
        return str(token)

    def end_sessions(self, username: str) -> None:
        """Sign the account out everywhere: every cookie issued so far stops working."""
        with self._transaction() as session:
            self._account(session, username).session_token = None

    def session_valid(self, username: str, token: str | None) -> bool:
        """True for a cookie of an active account whose sessions have not been ended since."""
        if not username or not token:
            return False
        with self._transaction() as session:
            row = (
                session.query(Coordinator.active, Coordinator.session_token)
                .filter(Coordinator.username == username)
                .one_or_none()
            )
        if row is None or not row.active or row.session_token is None:
            return False
        return hmac.compare_digest(str(row.session_token), str(token))

    # ----------------------------------------------------------------- attempt counters

    def reserve_attempts(self, limits: Sequence[tuple[str, int]], window: timedelta) -> bool:
        """Count one attempt against every (key, limit), all or none: False (and nothing
        counted) as soon as one is at its limit. See ``clinic.handoff.limits``."""
        try:
            with self._transaction() as session:
                for key, limit in limits:
                    if not counters.reserve(session, key, limit, window, self._clock()):
                        raise _LimitReached
        except _LimitReached:
            return False
        return True

    def refund_attempts(self, keys: Sequence[str]) -> None:
        with self._transaction() as session:
            for key in keys:
                counters.refund(session, key)

    def clear_attempts(self, keys: Sequence[str]) -> None:
        with self._transaction() as session:
            for key in keys:
                counters.clear(session, key)

    def purge_expired_counters(self) -> int:
        """Delete rate counters whose window has ended (housekeeping, run by the worker)."""
        with self._transaction() as session:
            return counters.purge_expired(session, self._clock())

    def authenticate(self, username: str, password: str) -> bool:
        """True only for an active account with this exact password."""
        with self._transaction() as session:
            account = (
                session.query(Coordinator)
                .filter(Coordinator.username == (username or "").strip())
                .one_or_none()
            )
        if account is None:
            check_password_hash(_dummy_hash(), password or "")
            return False
        return bool(check_password_hash(account.password_hash, password or "")) and bool(account.active)

    def is_active_coordinator(self, username: str) -> bool:
        with self._transaction() as session:
            active = session.query(Coordinator.active).filter(Coordinator.username == username).scalar()
        return bool(active)
