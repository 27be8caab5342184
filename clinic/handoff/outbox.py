"""Tell coordinators that a new handoff is waiting: email and/or a signed webhook.

Notifications travel over channels we do not control (mail servers, chat tools), so
they carry only the reference, the reason and a link to the inbox, where a coordinator
signs in to see the details. Never the visitor's name, contact details, words or
health topics.

Delivery uses the transactional outbox: the store writes outbox rows together with the
handoff, and ``deliver_due`` sends the rows that are due. A failure never drops a row;
it records the error and schedules a retry with capped exponential backoff.

Several workers may run (an administrator starts a second one, or two hosts share the
database): each row is claimed with a conditional UPDATE before it is sent, so only one
worker sends it, on SQLite and PostgreSQL alike. A claim lapses after ``CLAIM_LEASE`` so a
row whose worker died is sent later by another. Should a notification still go out twice
(a worker killed between sending and recording it), it carries the same key both times
(``Message-ID`` for email, ``Idempotency-Key`` for webhooks) so the repeat can be recognised.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import or_
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from clinic.handoff.errors import StoreUnavailable
from clinic.handoff.models import UTC, OutboxMessage
from clinic.settings import Settings, SmtpSettings, WebhookSettings, load_settings

if TYPE_CHECKING:  # pragma: no cover - import only for type checkers
    from clinic.handoff.requests import HandoffStore

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Clinic-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT_CREATED = "handoff.created"
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
# Longer than any send can take (SMTP and webhook timeouts are 15 s and 10 s).
CLAIM_LEASE = timedelta(minutes=5)

REASON_WORDS = {
    "visitor_asked": "The visitor asked to talk to a person.",
    "out_of_scope": "The visitor asked something the assistant does not cover.",
    "low_confidence": "The assistant was not sure it understood the visitor.",
    "personal_question": "The visitor asked a question about their own situation.",
}


class DeliveryError(RuntimeError):
    """A notification could not be delivered this time (it will be retried)."""


class Sender(Protocol):
    def send(self, payload: Mapping[str, Any]) -> None: ...


def handoff_url(inbox_base_url: str, reference: str) -> str:
    return f"{inbox_base_url.rstrip('/')}/handoffs/{reference}"


def build_notification(reference: str, reason: str, created_at: datetime, inbox_base_url: str) -> dict[str, Any]:
    """The whole notification. Deliberately has no field for personal data."""
    return {
        "event": EVENT_CREATED,
        "reference": reference,
        "reason": reason,
        "created_at": created_at.astimezone(UTC).isoformat(),
        "url": handoff_url(inbox_base_url, reference),
    }


def encode_body(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(body: bytes, secret: str) -> str:
    """Value of the X-Clinic-Signature header: 'sha256=' + hex HMAC-SHA256 of the raw body."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(body: bytes, secret: str, header_value: str | None) -> bool:
    """For receivers: constant-time check of a webhook signature."""
    if not header_value:
        return False
    return hmac.compare_digest(sign(body, secret), header_value.strip())


def notification_key(payload: Mapping[str, Any]) -> str:
    """The same for every attempt at one notification, different for every notification."""
    return f"handoff-{payload['reference']}-n{payload['notification_id']}"


def message_id(payload: Mapping[str, Any], sender: str) -> str:
    """A stable Message-ID, so a mail client or a person can recognise a repeated email."""
    domain = re.sub(r"[^A-Za-z0-9.-]", "", sender.rpartition("@")[2].rstrip(">")) or "clinic.invalid"
    return f"<{notification_key(payload)}@{domain}>"


def build_email(payload: Mapping[str, Any], *, clinic_name: str, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    reference = str(payload["reference"])
    message = EmailMessage()
    if "notification_id" in payload:
        message["Message-ID"] = message_id(payload, sender)
    message["Subject"] = f"New contact request {reference}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    reason = REASON_WORDS.get(str(payload.get("reason")), str(payload.get("reason")))
    message.set_content(
        f"A visitor asked the {clinic_name} chat assistant to be contacted by a care coordinator.\n"
        "\n"
        f"Reference: {reference}\n"
        f"Why: {reason}\n"
        f"Received: {payload.get('created_at')} (UTC)\n"
        "\n"
        "Open it in the coordinators' inbox (sign-in required):\n"
        f"{payload['url']}\n"
        "\n"
        "For the visitor's privacy this message does not contain their details.\n"
        "Please do not forward the details by email.\n"
    )
    return message


class SmtpSender:
    """Sends the notification email with smtplib (STARTTLS on port 587, TLS on 465)."""

    def __init__(self, smtp: SmtpSettings, clinic_name: str, timeout: float = 15.0) -> None:
        self.smtp = smtp
        self.clinic_name = clinic_name
        self.timeout = timeout

    def send(self, payload: Mapping[str, Any]) -> None:
        if not self.smtp.recipients:
            raise DeliveryError("no recipient configured (COORDINATOR_EMAIL)")
        message = build_email(
            payload, clinic_name=self.clinic_name, sender=self.smtp.sender, recipients=self.smtp.recipients
        )
        context = ssl.create_default_context()
        try:
            if self.smtp.ssl:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.smtp.host, self.smtp.port, timeout=self.timeout, context=context
                )
            else:
                client = smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=self.timeout)
            with client:
                if self.smtp.starttls and not self.smtp.ssl:
                    client.starttls(context=context)
                if self.smtp.user:
                    client.login(self.smtp.user, self.smtp.password or "")
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP: {type(exc).__name__}: {exc}") from exc


class WebhookSender:
    """POSTs the notification as JSON with an HMAC-SHA256 signature header."""

    def __init__(self, webhook: WebhookSettings, timeout: float = 10.0) -> None:
        self.webhook = webhook
        self.timeout = timeout

    def send(self, payload: Mapping[str, Any]) -> None:
        body = encode_body(payload)
        request = urllib.request.Request(
            self.webhook.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(body, self.webhook.secret),
                IDEMPOTENCY_HEADER: notification_key(payload),
                "User-Agent": "clinic-handoff/1",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"webhook answered HTTP {exc.code}") from exc
        except (OSError, urllib.error.URLError) as exc:
            raise DeliveryError(f"webhook unreachable: {exc}") from exc
        if not 200 <= status < 300:
            raise DeliveryError(f"webhook answered HTTP {status}")


def senders_from_settings(settings: Settings) -> dict[str, Sender]:
    senders: dict[str, Sender] = {}
    if settings.smtp is not None:
        senders["email"] = SmtpSender(settings.smtp, settings.clinic.name)
    if settings.webhook is not None:
        senders["webhook"] = WebhookSender(settings.webhook)
    return senders


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
    target: HandoffStore | Session,
    now: datetime | None = None,
    *,
    senders: Mapping[str, Sender] | None = None,
    settings: Settings | None = None,
    limit: int = 100,
    worker_id: str | None = None,
) -> DeliveryReport:
    """Send every outbox row that is due at ``now``; reschedule the ones that fail.

    ``target`` is a HandoffStore or an open Session (rows are committed one by one).
    Senders default to the channels configured in ``settings`` (or the environment).
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
            row = session.query(OutboxMessage).filter(OutboxMessage.id == row_id).populate_existing().one_or_none()
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
            row.kind, payload.get("reference"), row.attempts, row.next_attempt_at.isoformat(), row.last_error,
        )
        return False
    row.delivered_at = now
    row.last_error = None
    log.info("%s notification for %s delivered", row.kind, payload.get("reference"))
    return True
