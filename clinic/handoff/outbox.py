"""The notification outbox: rows written with the handoff, delivered by the worker.

The request store writes the outbox rows (``enqueue``) in the same transaction as the handoff,
so a notification is queued if and only if the request was saved; ``deliver_due`` sends the rows
that are due with the senders (clinic/handoff/senders.py: email, webhook). A failure never drops
a row; it records the error and schedules a retry with capped exponential backoff.

Several workers may run (an administrator starts a second one, or two hosts share the
database): each row is claimed with a conditional UPDATE before it is sent, so only one
worker sends it, on SQLite and PostgreSQL alike. A claim lapses after ``CLAIM_LEASE`` so a
row whose worker died is sent later by another.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import or_
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from clinic.handoff.errors import StoreUnavailable
from clinic.handoff.models import UTC, OutboxMessage
from clinic.handoff.senders import DeliveryError, Sender, senders_from_settings
from clinic.settings import Settings, load_settings

log = logging.getLogger(__name__)

EVENT_CREATED = "handoff.created"
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
# Longer than any send can take (SMTP and webhook timeouts are 15 s and 10 s).
CLAIM_LEASE = timedelta(minutes=5)


class SessionSource(Protocol):
    """Anything that opens database sessions (the handoff store does)."""

    def session(self) -> Session: ...


def handoff_url(inbox_base_url: str, reference: str) -> str:
    return f"{inbox_base_url.rstrip('/')}/handoffs/{reference}"


def build_notification(
    reference: str, reason: str, created_at: datetime, inbox_base_url: str
) -> dict[str, Any]:
    """The whole notification. Deliberately has no field for personal data."""
    return {
        "event": EVENT_CREATED,
        "reference": reference,
        "reason": reason,
        "created_at": created_at.astimezone(UTC).isoformat(),
        "url": handoff_url(inbox_base_url, reference),
    }


def enqueue(
    session: Session, handoff_id: int, notification: Mapping[str, Any], channels: Iterable[str], now: datetime
) -> None:
    """One outbox row per channel, in the caller's transaction: queued if and only if it commits."""
    payload = json.dumps(notification)
    for kind in channels:
        session.add(
            OutboxMessage(
                handoff_id=handoff_id, kind=kind, payload=payload, created_at=now, next_attempt_at=now
            )
        )


def backoff_delay(attempts: int, base: timedelta = BACKOFF_BASE, cap: timedelta = BACKOFF_CAP) -> timedelta:
    """30 s, 1 min, 2 min, 4 min ... capped at one hour: fast recovery, no hammering."""
    exponent = max(attempts - 1, 0)
    if exponent > 30:  # avoid huge integers; the cap applies long before
        return cap
    return min(base * (2**exponent), cap)


@dataclass(frozen=True)
class DeliveryReport:
    delivered: int
    failed: int


def deliver_due(
    target: SessionSource | Session,
    now: datetime | None = None,
    *,
    senders: Mapping[str, Sender] | None = None,
    settings: Settings | None = None,
    limit: int = 100,
    worker_id: str | None = None,
) -> DeliveryReport:
    """Send every outbox row that is due at ``now``; reschedule the ones that fail.

    ``target`` is the handoff store (anything with ``session()``) or an open Session (rows are
    committed one by one). Senders default to the channels configured in ``settings`` (or the environment).
    Each row is claimed before it is sent, so concurrent workers never send the same row.
    Database failures raise StoreUnavailable.
    """
    now = now or datetime.now(UTC)
    if senders is None:
        senders = senders_from_settings(settings or load_settings())
    worker = worker_id or default_worker_id()
    own_session = not isinstance(target, Session)
    session: Session = target.session() if own_session else target  # type: ignore[union-attr]
    delivered = failed = 0
    try:
        due_ids = [
            row_id
            for (row_id,) in session.query(OutboxMessage.id)
            .filter(*_due(now))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        ]
        session.commit()
        for row_id in due_ids:
            if not _claim(session, row_id, worker, now):  # another worker has it, or it is gone
                continue
            row = (
                session.query(OutboxMessage)
                .filter(OutboxMessage.id == row_id)
                .populate_existing()
                .one_or_none()
            )
            if row is None:  # purged meanwhile
                continue
            if _send(row, senders, now):
                delivered += 1
            else:
                failed += 1
            session.commit()
    except SQLAlchemyError as exc:
        session.rollback()
        raise StoreUnavailable(f"handoff database unavailable: {type(exc).__name__}") from exc
    finally:
        if own_session:
            session.close()
    return DeliveryReport(delivered=delivered, failed=failed)


def default_worker_id() -> str:
    """Host, process and a random part: unique per ``deliver_due`` caller, never reused."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def _due(now: datetime) -> tuple[Any, ...]:
    unclaimed = or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now)
    return (OutboxMessage.delivered_at.is_(None), OutboxMessage.next_attempt_at <= now, unclaimed)


def _claim(session: Session, row_id: int, worker: str, now: datetime) -> bool:
    """Take the row for this worker (committed at once, so other workers see it)."""
    claimed = (
        session.query(OutboxMessage)
        .filter(OutboxMessage.id == row_id, *_due(now))
        .update(
            {OutboxMessage.claimed_by: worker[:64], OutboxMessage.claimed_until: now + CLAIM_LEASE},
            synchronize_session=False,
        )
    )
    session.commit()
    return claimed == 1


def _send(row: OutboxMessage, senders: Mapping[str, Sender], now: datetime) -> bool:
    """Send one claimed row and record the outcome on it (the caller commits)."""
    payload = dict(json.loads(row.payload), notification_id=row.id)
    sender = senders.get(row.kind)
    row.attempts = (row.attempts or 0) + 1
    row.claimed_by = row.claimed_until = None
    try:
        if sender is None:
            raise DeliveryError(f"{row.kind} notifications are not configured")
        sender.send(payload)
    except Exception as exc:  # noqa: BLE001 - any failure means "retry later"
        row.last_error = str(exc)[:500]
        row.next_attempt_at = now + backoff_delay(row.attempts)
        log.warning(
            "%s notification for %s failed (attempt %d), retrying at %s: %s",
            row.kind,
            payload.get("reference"),
            row.attempts,
            row.next_attempt_at.isoformat(),
            row.last_error,
        )
        return False
    row.delivered_at = now
    row.last_error = None
    log.info("%s notification for %s delivered", row.kind, payload.get("reference"))
    return True
