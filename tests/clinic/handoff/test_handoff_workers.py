"""Two notification workers on one SQLite database (an administrator started a second one):
every notification still goes out exactly once, with a stable key to recognise a repeat."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text

from clinic.handoff.crypto import generate_key
from clinic.handoff.requests import HandoffStore
from clinic.settings import load_settings
from tests.clinic.handoff.conftest import free_port, make_new_handoff

PROJECT_ROOT = Path(__file__).resolve().parents[3]
HANDOFFS = 12


class SlowMailbox:
    """An SMTP server that takes a moment per message, as real ones do: two workers that
    both send the same row are then caught in the act."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        await asyncio.sleep(0.15)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


class Receiver(BaseHTTPRequestHandler):
    calls: list[dict[str, str]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(0.1)
        Receiver.calls.append(dict(self.headers))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receivers() -> Iterator[tuple[SlowMailbox, int, int]]:
    mailbox = SlowMailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    Receiver.calls = []
    webhook = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=webhook.serve_forever, daemon=True)
    thread.start()
    yield mailbox, smtp.port, webhook.server_port
    webhook.shutdown()
    smtp.stop()


@pytest.mark.slow
def test_two_workers_on_sqlite_send_each_notification_once(tmp_path: Path, receivers: tuple) -> None:
    mailbox, smtp_port, webhook_port = receivers
    env = {
        **os.environ,
        "CLINIC_ENV": "test",
        "HANDOFF_ENCRYPTION_KEY": generate_key(),
        "HANDOFF_DATABASE_URL": f"sqlite:///{tmp_path / 'handoffs.db'}",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_STARTTLS": "false",
        "SMTP_FROM": "bot@clinic.example",
        "COORDINATOR_EMAIL": "team@clinic.example",
        "HANDOFF_WEBHOOK_URL": f"http://127.0.0.1:{webhook_port}/hook",
        "HANDOFF_WEBHOOK_SECRET": "s3cret",
    }
    store = HandoffStore.from_settings(load_settings(env, var_dir=tmp_path))
    references = {store.create(make_new_handoff()).reference for _ in range(HANDOFFS)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "clinic.handoff.cli", "worker", "--interval", "1"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / f"worker{i}.log").open("w"),
        )
        for i in range(2)
    ]
    try:
        deadline = time.monotonic() + 90
        while (
            len(mailbox.messages) < HANDOFFS or len(Receiver.calls) < HANDOFFS
        ) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(3)  # a few more rounds of both workers: nothing more may go out
        assert all(worker.poll() is None for worker in workers), "both workers kept running"
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(20)

    ids = [message["Message-ID"] for message in mailbox.messages]
    assert len(mailbox.messages) == HANDOFFS, f"{len(mailbox.messages)} emails for {HANDOFFS} handoffs"
    assert len(set(ids)) == HANDOFFS and all(i.endswith("@clinic.example>") for i in ids)
    assert {message["Subject"].rsplit(" ", 1)[1] for message in mailbox.messages} == references
    keys = [call["Idempotency-Key"] for call in Receiver.calls]
    assert len(keys) == HANDOFFS and len(set(keys)) == HANDOFFS, (
        f"{len(keys)} webhooks for {HANDOFFS} handoffs"
    )
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT attempts, delivered_at, claimed_by FROM handoff_outbox")).all()
    assert len(rows) == 2 * HANDOFFS and all(r[0] == 1 and r[1] is not None and r[2] is None for r in rows)
    store.close()


def test_a_repeated_notification_carries_the_same_message_id_and_key() -> None:
    """If a worker dies between sending and recording, the next attempt is recognisable."""
    from clinic.handoff.senders import build_email, notification_key

    payload = {
        "reference": "HX7-K3P9",
        "reason": "visitor_asked",
        "url": "http://inbox/h",
        "notification_id": 41,
    }
    first = build_email(
        payload, clinic_name="Clinic", sender="Bot <bot@clinic.example>", recipients=("a@b.example",)
    )
    again = build_email(
        payload, clinic_name="Clinic", sender="Bot <bot@clinic.example>", recipients=("a@b.example",)
    )
    assert first["Message-ID"] == again["Message-ID"] == "<handoff-HX7-K3P9-n41@clinic.example>"
    assert notification_key(payload) != notification_key({**payload, "notification_id": 42})
