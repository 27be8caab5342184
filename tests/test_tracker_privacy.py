"""Contact details typed into the handoff form do not stay in the conversation store, on SQLite
and on PostgreSQL; old conversations are purged; Rasa can still read what is left."""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy import create_engine, text

from clinic_privacy.masking import mask_contact_details
from clinic_privacy.tracker_redaction import last_event_id, purge, redact
from handoff.crypto import generate_key
from tests.evaluation.evaluate import send
from tests.support.rasa_servers import TRACKER_STORE_TYPE, rasa_stack

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
FORM = ["I'd like to talk to someone", "Zelda Quibble", "email", "zelda.q@example.org", "weekday mornings",
        "skip", "/affirm", "also my cell is 212-555-0187"]  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker(request, tmp_path: Path) -> Iterator[tuple]:
    if request.param == "sqlite":
        yield ({"type": TRACKER_STORE_TYPE, "dialect": "sqlite", "db": str(tmp_path / "tracker.db")},
               f"sqlite:///{tmp_path / 'tracker.db'}")  # fmt: skip
        return
    name = f"clinic_privacy_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(dbname="postgres", **PG)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    yield ({"type": TRACKER_STORE_TYPE, "dialect": "postgresql", "url": "127.0.0.1", "port": 5432, "db": name,
            "username": "postgres"}, f"postgresql://postgres@127.0.0.1:5432/{name}")  # fmt: skip
    admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()


def stored_text(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as connection:
        data = " ".join(row[0] for row in connection.execute(text("SELECT data FROM events")))
    engine.dispose()
    return data


def test_mask_contact_details() -> None:
    assert mask_contact_details("call 212-555-0187 or ann@example.org") == "call [phone] or [email]"
    assert mask_contact_details("or (212) 555-0187, thanks") == "or [phone], thanks"
    assert mask_contact_details("I'm 45 and had 2 shots in 2023") == "I'm 45 and had 2 shots in 2023"


def test_form_answers_are_redacted_and_old_conversations_purged(tracker, tmp_path: Path, monkeypatch) -> None:
    store_config, url = tracker
    monkeypatch.setenv("HANDOFF_DATABASE_URL", f"sqlite:///{tmp_path / 'handoffs.db'}")
    monkeypatch.setenv("HANDOFF_ENCRYPTION_KEY", generate_key())
    monkeypatch.setenv("CLINIC_ENV", "test")
    sender = f"privacy-{uuid.uuid4().hex[:8]}"
    with rasa_stack(tracker_store=store_config) as stack:
        replies = [send(stack.rest_webhook, message, sender) for message in FORM]
        assert "Your reference is" in json.dumps(replies[6])
        before = stored_text(url)
        assert "zelda.q@example.org" in before and "Zelda Quibble" in before
        assert redact(url) > 0
        after = stored_text(url)
        for secret in ("zelda.q@example.org", "Zelda Quibble", "weekday mornings", "212-555-0187"):
            assert secret not in after
        assert "[redacted]" in after and "[phone]" in after
        assert redact(url) == 0, "redacting twice changes nothing"
        mark = last_event_id(url)
        send(stack.rest_webhook, "my other number is 617-555-0199", sender)
        assert redact(url, after_id=mark) == 1, "the next run looks only at what changed, and catches it"
        assert "617-555-0199" not in stored_text(url)
        follow_up = send(stack.rest_webhook, "is the iv safe?", sender)
        assert any("through a vein (IV)" in r.get("text", "") for r in follow_up), "Rasa still reads it"
    assert purge(url, older_than_days=30) == 0
    assert purge(url, older_than_days=30, now=os.path.getmtime(__file__) + 10**9) == 1
    assert stored_text(url) == ""
