"""Contact details typed into the handoff form do not stay in the conversation store, on SQLite
and on PostgreSQL; old conversations are purged; Rasa can still read what is left."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from clinic.contact import mask_contact_details
from clinic.devtools.evaluate import send
from clinic.handoff.crypto import generate_key
from clinic.privacy.cli import run_once
from clinic.privacy.tracker_redaction import last_event_id, purge, redact
from clinic.settings import load_settings
from clinic.stack.local import TRACKER_STORE_TYPE, rasa_stack
from tests.support.postgres import throwaway_database

FORM = [
    "I'd like to talk to someone",
    "Zelda Quibble",
    "email",
    "zelda.q@example.org",
    "weekday mornings",
    "skip",
    "/affirm",
    "also my cell is 212-555-0187",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker(request, tmp_path: Path) -> Iterator[tuple]:
    if request.param == "sqlite":
        yield (
            {"type": TRACKER_STORE_TYPE, "dialect": "sqlite", "db": str(tmp_path / "tracker.db")},
            f"sqlite:///{tmp_path / 'tracker.db'}",
        )
        return
    with throwaway_database("clinic_privacy") as name:
        yield (
            {
                "type": TRACKER_STORE_TYPE,
                "dialect": "postgresql",
                "url": "127.0.0.1",
                "port": 5432,
                "db": name,
                "username": "postgres",
            },
            f"postgresql://postgres@127.0.0.1:5432/{name}",
        )


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


@pytest.mark.slow
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


def handoff_name(reference: str) -> str:
    from clinic.handoff.requests import HandoffStore

    store = HandoffStore.from_settings()
    try:
        return store.get(reference).name
    finally:
        store.close()


def reference_in(replies: list[dict]) -> str:
    return next(r["custom"]["data"]["reference"] for r in replies if "custom" in r)


@pytest.mark.slow
def test_only_finished_or_abandoned_forms_are_redacted(tracker, tmp_path: Path, monkeypatch) -> None:
    """The privacy job runs every minute, also while visitors are half-way through the form."""
    store_config, url = tracker
    monkeypatch.setenv("HANDOFF_DATABASE_URL", f"sqlite:///{tmp_path / 'handoffs.db'}")
    monkeypatch.setenv("HANDOFF_ENCRYPTION_KEY", generate_key())
    monkeypatch.setenv("CLINIC_ENV", "test")
    zelda, ann, cora = (f"{who}-{uuid.uuid4().hex[:8]}" for who in ("zelda", "ann", "cora"))
    with rasa_stack(tracker_store=store_config) as stack:
        for message in FORM[:4]:  # name and email given, best time not yet
            send(stack.rest_webhook, message, zelda)
        summary, resume = run_once(url, 30, 0)
        assert "Zelda Quibble" in stored_text(url) and "zelda.q@example.org" in stored_text(url), summary
        assert resume < last_event_id(url), "the job comes back to the form in progress"
        replies = [send(stack.rest_webhook, message, zelda) for message in FORM[4:7]]
        assert handoff_name(reference_in(replies[-1])) == "Zelda Quibble"
        run_once(url, 30, resume)
        assert "Zelda Quibble" not in stored_text(url) and "zelda.q@example.org" not in stored_text(url)

        # Cancelled: redacted, and a new form in the same conversation starts empty.
        for message in ["I'd like to talk to someone", "Ann Quill", "stop"]:
            send(stack.rest_webhook, message, ann)
        redact(url)
        assert "Ann Quill" not in stored_text(url)
        replies = [
            send(stack.rest_webhook, message, ann)
            for message in [
                "can someone call me",
                "Bea Second",
                "email",
                "bea@example.org",
                "skip",
                "skip",
                "/affirm",
            ]
        ]
        assert handoff_name(reference_in(replies[-1])) == "Bea Second"
        redact(url)
        assert "Bea Second" not in stored_text(url) and "bea@example.org" not in stored_text(url)

        # Abandoned: untouched while the visitor could still come back, redacted after that.
        for message in ["I'd like to talk to someone", "Cora Idle"]:
            send(stack.rest_webhook, message, cora)
        assert redact(url) == 0 and "Cora Idle" in stored_text(url)
        assert redact(url, now=time.time() + 61 * 60, idle=timedelta(minutes=60)) > 0
        assert "Cora Idle" not in stored_text(url)


def test_abandoned_forms_wait_at_least_as_long_as_a_session() -> None:
    """Until Rasa's session expires, a returning visitor continues the same form."""
    domain = yaml.safe_load((Path(__file__).parents[3] / "domain.yml").read_text())
    session_minutes = domain["session_config"]["session_expiration_time"]
    assert load_settings(secrets=False).abandoned_form_after >= timedelta(minutes=session_minutes)
