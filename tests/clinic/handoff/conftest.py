"""Shared fixtures for the handoff tests.

The store fixture runs every test twice: on SQLite and on PostgreSQL. The PostgreSQL
database is created with a unique name on 127.0.0.1:5432 for this test session and
dropped afterwards; if PostgreSQL is not reachable the tests fail (they never skip).
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from sqlalchemy import create_engine

from clinic.handoff.crypto import generate_key
from clinic.handoff.models import Base
from clinic.handoff.office_hours import OfficeHours
from clinic.handoff.requests import HandoffStore, NewHandoff
from tests.support.inbox import inbox_settings

UTC = timezone.utc  # noqa: UP017 - Python 3.10 has no datetime.UTC
PG_DSN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}

VISITOR_NAME = "Ann Quixote-Example"
VISITOR_EMAIL = "ann.quixote@example.org"
VISITOR_PHONE = "(212) 555-0187"
VISITOR_PHONE_E164 = "+12125550187"
VISITOR_SECRET_TEXT = "my left knee cartilage tear from skiing"
TOPIC_NOTE = "whether PRP helps knee arthritis"

HOURS = OfficeHours(
    time_zone="America/New_York",
    open=time(9, 0),
    close=time(17, 0),
    days=frozenset(range(5)),
    time_zone_label="Eastern",
)


class FakeClock:
    """A controllable 'now' for the store (purge and office-hour tests)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_new_handoff(**overrides: Any) -> NewHandoff:
    values: dict[str, Any] = {
        "conversation_id": f"conv-{uuid.uuid4().hex[:12]}",
        "name": VISITOR_NAME,
        "contact_method": "email",
        "contact_value": VISITOR_EMAIL,
        "best_time": "weekday mornings",
        "topic_note": TOPIC_NOTE,
        "consent_text": "I agree that the clinic may contact me about my question.",
        "consent_at": datetime(2024, 3, 4, 15, 0, tzinfo=UTC),
        "reason": "visitor_asked",
        "topics": ["prp", "knee"],
        "transcript": [
            {
                "role": "visitor",
                "text": f"Can you help with {VISITOR_SECRET_TEXT}?",
                "at": "2024-03-04T14:58:00Z",
            },
            {
                "role": "bot",
                "text": "A care coordinator can talk this through with you.",
                "at": "2024-03-04T14:58:02+00:00",
            },
        ],
    }
    values.update(overrides)
    return NewHandoff(**values)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, uniquely named PostgreSQL database for this test session."""
    name = f"handoff_test_{uuid.uuid4().hex[:16]}"
    admin = psycopg2.connect(**PG_DSN)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'handoffs.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    # Leave the shared session database empty for the next test.
    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture
def key() -> str:
    return generate_key()


@pytest.fixture
def clock() -> FakeClock:
    # Monday 4 March 2024, 10:00 in New York (EST, UTC-5).
    return FakeClock(datetime(2024, 3, 4, 15, 0, tzinfo=UTC))


def make_store(database_url: str, key: str, clock: FakeClock, **options: Any) -> HandoffStore:
    """A store as the tests use it: the test office hours and clock, both notification channels."""
    options = {
        "office_hours": HOURS,
        "inbox_base_url": "http://inbox.test",
        "channels": ("email", "webhook"),
        **options,
    }
    return HandoffStore(database_url, key, clock=clock, **options)


@pytest.fixture
def store(database_url: str, key: str, clock: FakeClock) -> Iterator[HandoffStore]:
    handoff_store = make_store(database_url, key, clock)
    yield handoff_store
    handoff_store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path, key: str, clock: FakeClock) -> Iterator[HandoffStore]:
    handoff_store = make_store(f"sqlite:///{tmp_path / 'handoffs.db'}", key, clock)
    yield handoff_store
    handoff_store.close()


COORDINATOR = "casey"
COORDINATOR_PASSWORD = "correct horse battery staple"


@pytest.fixture
def inbox(tmp_path: Path, key: str) -> Iterator[tuple[Any, HandoffStore]]:
    """The inbox Flask app over a temporary SQLite store with one coordinator account."""
    from clinic.handoff.inbox import create_app

    settings = inbox_settings(tmp_path, key)
    handoff_store = HandoffStore.from_settings(settings)
    handoff_store.create_coordinator(COORDINATOR, COORDINATOR_PASSWORD)
    app = create_app(settings, store=handoff_store)
    yield app, handoff_store
    handoff_store.close()
