"""Send the notification that a new handoff is waiting: email (SMTP) and a signed webhook.

Notifications travel over channels we do not control (mail servers, chat tools), so they carry
only the reference, the reason and a link to the inbox, where a coordinator signs in to see the
details. Never the visitor's name, contact details, words or health topics.

The outbox (clinic/handoff/outbox.py) decides what is due and retries; these senders only
deliver one payload, or raise DeliveryError. Should a notification go out twice (a worker killed
between sending and recording it), it carries the same key both times (``Message-ID`` for email,
``Idempotency-Key`` for webhooks) so the repeat can be recognised.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any, Protocol

from clinic.handoff.models import REASON_WORDS
from clinic.settings import Settings, SmtpSettings, WebhookSettings

SIGNATURE_HEADER = "X-Clinic-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class DeliveryError(RuntimeError):
    """A notification could not be delivered this time (it will be retried)."""


class Sender(Protocol):
    def send(self, payload: Mapping[str, Any]) -> None: ...


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


def build_email(
    payload: Mapping[str, Any], *, clinic_name: str, sender: str, recipients: tuple[str, ...]
) -> EmailMessage:
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
