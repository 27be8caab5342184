"""Fixtures for the live chat tests: stores on SQLite and PostgreSQL (the handoff tests'
fixtures), a recording stand-in for Rasa's HTTP API, and the inbox app wired to both."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from clinic.handoff.requests import HandoffStore
from clinic.live_chat.hub import Hub
from clinic.live_chat.rasa_api import RasaApi
from clinic.live_chat.store import LiveChatStore
from clinic.settings import LiveChatSettings
from tests.clinic.handoff import conftest as handoff_fixtures
from tests.clinic.handoff.conftest import HOURS, FakeClock
from tests.support.inbox import inbox_settings

# The handoff tests' fixtures: every store test runs on SQLite and on PostgreSQL.
clock = handoff_fixtures.clock
database_url = handoff_fixtures.database_url
key = handoff_fixtures.key
postgres_url = handoff_fixtures.postgres_url

TOKEN = "test-api-token"
CASEY = "casey"
ROBIN = "robin"
PASSWORD = "correct horse battery staple"


def make_live_store(database_url: str, key: str, clock: FakeClock, **settings: Any) -> LiveChatStore:
    return LiveChatStore(
        database_url, key, office_hours=HOURS, live_chat=LiveChatSettings(**settings), clock=clock
    )


@pytest.fixture
def live_store(database_url: str, key: str, clock: FakeClock) -> Iterator[LiveChatStore]:
    store = make_live_store(database_url, key, clock)
    yield store
    store.close()


@pytest.fixture
def handoff_store(database_url: str, key: str, clock: FakeClock) -> Iterator[HandoffStore]:
    store = HandoffStore(
        database_url, key, office_hours=HOURS, inbox_base_url="http://inbox.test", clock=clock
    )
    yield store
    store.close()


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any


@dataclass
class FakeRasa:
    """A stand-in for Rasa's HTTP API that records what it is sent (no model needed)."""

    url: str
    requests: list[Recorded] = field(default_factory=list)
    tracker_events: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200

    def posted(self, suffix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path.endswith(suffix)]


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasa]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    fake = FakeRasa(url=f"http://127.0.0.1:{server.server_address[1]}")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, payload: Any) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            fake.requests.append(
                Recorded(self.command, parts.path, parse_qs(parts.query), json.loads(raw) if raw else None)
            )
            body = json.dumps(payload if fake.status == 200 else {"message": "no"}).encode()
            self.send_response(fake.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._answer({"sender_id": "x", "events": fake.tracker_events})

        def do_POST(self) -> None:  # noqa: N802
            self._answer({"sender_id": "x", "events": []})

        def log_message(self, *args: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def inbox_app(
    tmp_path: Path, key: str, fake_rasa: FakeRasa
) -> Iterator[tuple[Any, HandoffStore, LiveChatStore, Hub]]:
    """The inbox over a temporary SQLite database with two coordinators, talking to the fake Rasa.
    The office hours are always open (the real clock is used)."""
    from clinic.handoff.inbox import create_app

    settings = inbox_settings(tmp_path, key)
    store = HandoffStore.from_settings(settings)
    live = LiveChatStore.from_settings(settings)
    for name in (CASEY, ROBIN):
        store.create_coordinator(name, PASSWORD)
    hub = Hub()
    app = create_app(
        settings, store=store, live_store=live, rasa=RasaApi(fake_rasa.url, TOKEN, timeout=5), hub=hub
    )
    app.config["TESTING"] = True
    yield app, store, live, hub
    store.close()
    live.close()
