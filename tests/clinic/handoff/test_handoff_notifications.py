"""Notification delivery against real local servers: SMTP (aiosmtpd) and an HTTP webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from clinic.handoff.crypto import generate_key
from clinic.handoff.models import OutboxMessage
from clinic.handoff.outbox import BACKOFF_CAP, backoff_delay, deliver_due
from clinic.handoff.requests import HandoffStore
from clinic.handoff.senders import SIGNATURE_HEADER, WebhookSender, senders_from_settings, verify_signature
from clinic.settings import WebhookSettings, load_settings
from tests.clinic.handoff.conftest import (
    HOURS,
    TOPIC_NOTE,
    VISITOR_EMAIL,
    VISITOR_NAME,
    VISITOR_PHONE,
    VISITOR_PHONE_E164,
    VISITOR_SECRET_TEXT,
    FakeClock,
    free_port,
    make_new_handoff,
)

SECRET = "webhook-test-secret"
PERSONAL = (
    VISITOR_NAME,
    "Quixote",
    VISITOR_EMAIL,
    VISITOR_PHONE_E164,
    VISITOR_SECRET_TEXT,
    TOPIC_NOTE,
    "prp",
    "knee",
)


def _outbox(store: HandoffStore, kind: str) -> OutboxMessage:
    with store.session() as session:
        (row,) = session.query(OutboxMessage).filter(OutboxMessage.kind == kind).all()
        return row


# ---------------------------------------------------------------- email


class _Collector:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content))
        )
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[_Collector, int]]:
    collector = _Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield collector, port
    finally:
        controller.stop()


def test_email_notification_has_reference_and_link_but_no_visitor_details(
    smtp_server: tuple[_Collector, int], tmp_path: Path, clock: FakeClock
) -> None:
    collector, port = smtp_server
    settings = load_settings(
        {
            "HANDOFF_ENCRYPTION_KEY": generate_key(),
            "HANDOFF_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_FROM": "bot@clinic.example",
            "COORDINATOR_EMAIL": "coordinators@clinic.example",
            "INBOX_BASE_URL": "https://inbox.clinic.example",
        },
        var_dir=tmp_path,
    )
    assert settings.smtp is not None and settings.smtp.starttls is False  # only on port 587
    store = HandoffStore.from_settings(settings, clock=clock)
    try:
        reference = store.create(
            make_new_handoff(contact_method="phone", contact_value=VISITOR_PHONE)
        ).reference
        report = deliver_due(store, clock.now, senders=senders_from_settings(settings))
        assert (report.delivered, report.failed) == (1, 0)

        assert len(collector.messages) == 1
        mail_from, rcpt_tos, message = collector.messages[0]
        assert mail_from == "bot@clinic.example"
        assert rcpt_tos == ["coordinators@clinic.example"]
        assert reference in message["Subject"]
        body = message.get_payload(decode=True).decode("utf-8")
        assert reference in body
        assert f"https://inbox.clinic.example/handoffs/{reference}" in body
        everything = message.as_string()
        for secret in PERSONAL:
            assert secret not in everything, secret

        row = _outbox(store, "email")
        assert row.delivered_at == clock.now and row.attempts == 1
        # Delivered rows are not sent again.
        clock.advance(hours=2)
        assert deliver_due(store, clock.now, senders=senders_from_settings(settings)).delivered == 0
        assert len(collector.messages) == 1
    finally:
        store.close()


# ---------------------------------------------------------------- webhook


class _Receiver:
    """A local webhook endpoint whose answer can be switched between 200 and 500."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.status = 200
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    webhook = _Receiver(free_port())
    webhook.start()
    try:
        yield webhook
    finally:
        webhook.stop()


@pytest.fixture
def webhook_store(tmp_path: Path, key: str, clock: FakeClock) -> Iterator[HandoffStore]:
    store = HandoffStore(
        f"sqlite:///{tmp_path / 'webhook.db'}",
        key,
        office_hours=HOURS,
        inbox_base_url="http://inbox.test",
        channels=("webhook",),
        clock=clock,
    )
    yield store
    store.close()


def test_webhook_is_signed_and_survives_outages(
    receiver: _Receiver, webhook_store: HandoffStore, clock: FakeClock
) -> None:
    senders = {
        "webhook": WebhookSender(WebhookSettings(url=f"http://127.0.0.1:{receiver.port}/hook", secret=SECRET))
    }
    reference = webhook_store.create(make_new_handoff()).reference
    start = clock.now

    # 1. The receiver is up but failing: the row stays pending with a retry scheduled.
    receiver.status = 500
    report = deliver_due(webhook_store, clock.now, senders=senders)
    assert (report.delivered, report.failed) == (0, 1)
    row = _outbox(webhook_store, "webhook")
    assert row.delivered_at is None
    assert row.attempts == 1
    assert row.next_attempt_at == start + timedelta(seconds=30)
    assert "500" in row.last_error

    # Not due yet: nothing is attempted.
    clock.advance(seconds=10)
    assert deliver_due(webhook_store, clock.now, senders=senders) == type(report)(0, 0)

    # 2. The receiver is down: still pending, backoff doubles.
    receiver.stop()
    clock.advance(seconds=25)
    report = deliver_due(webhook_store, clock.now, senders=senders)
    assert (report.delivered, report.failed) == (0, 1)
    row = _outbox(webhook_store, "webhook")
    assert row.delivered_at is None and row.attempts == 2
    assert row.next_attempt_at == clock.now + timedelta(seconds=60)
    assert "unreachable" in row.last_error

    # 3. Recovery: delivered exactly once, with a valid signature.
    receiver.status = 200
    receiver.start()
    clock.advance(seconds=61)
    report = deliver_due(webhook_store, clock.now, senders=senders)
    assert (report.delivered, report.failed) == (1, 0)
    clock.advance(hours=3)
    assert deliver_due(webhook_store, clock.now, senders=senders).delivered == 0

    assert len(receiver.requests) == 2  # one 500 answer + one success; none while down
    headers, body = receiver.requests[-1]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] == expected
    assert verify_signature(body, SECRET, headers[SIGNATURE_HEADER])
    assert not verify_signature(body + b" ", SECRET, headers[SIGNATURE_HEADER])
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["reference"] == reference
    assert payload["reason"] == "visitor_asked"
    assert payload["url"] == f"http://inbox.test/handoffs/{reference}"
    for secret in PERSONAL:
        assert secret not in body.decode(), secret

    row = _outbox(webhook_store, "webhook")
    assert row.delivered_at is not None and row.attempts == 3 and row.last_error is None


def test_rows_for_an_unconfigured_channel_are_kept(sqlite_store: HandoffStore, clock: FakeClock) -> None:
    sqlite_store.create(make_new_handoff())
    report = deliver_due(sqlite_store, clock.now, senders={})
    assert (report.delivered, report.failed) == (0, 2)
    for kind in ("email", "webhook"):
        row = _outbox(sqlite_store, kind)
        assert row.delivered_at is None and row.attempts == 1
        assert "not configured" in row.last_error
        assert row.next_attempt_at == clock.now + timedelta(seconds=30)


def test_backoff_grows_and_is_capped() -> None:
    delays = [backoff_delay(n) for n in range(1, 12)]
    assert delays[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert delays == sorted(delays)
    assert max(delays) == BACKOFF_CAP == timedelta(hours=1)
    assert backoff_delay(10_000) == BACKOFF_CAP


def test_deliver_due_accepts_a_session(sqlite_store: HandoffStore, clock: FakeClock) -> None:
    sent: list[dict[str, Any]] = []

    class Recorder:
        def send(self, payload: dict[str, Any]) -> None:
            sent.append(payload)

    reference = sqlite_store.create(make_new_handoff()).reference
    with sqlite_store.session() as session:
        report = deliver_due(session, clock.now, senders={"email": Recorder(), "webhook": Recorder()})
    assert report.delivered == 2
    assert [p["reference"] for p in sent] == [reference, reference]
    assert all(p["notification_id"] for p in sent)
