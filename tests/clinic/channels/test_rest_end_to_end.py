"""End to end over Rasa's REST channel, with the real action server, handoff store, SMTP server
and inbox: bad input is answered kindly, and a handoff goes from "I'd like to talk to someone"
to a record in the database, a delivered email and the handoff in the coordinators' inbox."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import tempfile
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from unittest.mock import patch

import pytest
import yaml
from aiosmtpd.controller import Controller

from clinic.channels.visitor_input import MAX_MESSAGE_CHARS
from clinic.devtools.evaluate import send
from clinic.handoff.crypto import generate_key
from clinic.handoff.inbox.app import create_app
from clinic.handoff.outbox import deliver_due
from clinic.handoff.requests import HandoffStore
from clinic.settings import load_settings
from clinic.stack.local import free_port, rasa_stack
from tests.support.handoffs import WHOLE_FORM

pytestmark = pytest.mark.slow  # a Rasa server with the trained model

PASSWORD = "correct horse battery staple"


class Mailbox:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(envelope.content.decode("utf-8", "replace"))
        return "250 OK"


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port  # type: ignore[attr-defined]
    yield box
    controller.stop()


@pytest.fixture(scope="module")
def environment(mailbox: Mailbox) -> Iterator[dict]:
    """Production-like settings for the servers: a fresh database, a real key, SMTP on."""
    workdir = Path(tempfile.mkdtemp(prefix="e2e-"))
    values = {
        "HANDOFF_DATABASE_URL": f"sqlite:///{workdir / 'handoffs.db'}",
        "HANDOFF_ENCRYPTION_KEY": generate_key(),
        "INBOX_SECRET_KEY": uuid.uuid4().hex,
        "CLINIC_ENV": "test",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(mailbox.port),  # type: ignore[attr-defined]
        "SMTP_STARTTLS": "false",
        "SMTP_FROM": "bot@clinic.example",
        "COORDINATOR_EMAIL": "coordinators@clinic.example",
    }
    with patch.dict(os.environ, values):
        yield values


@pytest.fixture(scope="module")
def bot(environment: dict):
    with rasa_stack() as stack:
        yield stack


def texts(replies: list[dict]) -> list[str]:
    return [r["text"] for r in replies if r.get("text")]


def post_raw(url: str, body: bytes, content_type: str = "application/json") -> int:
    request = urllib.request.Request(url, body, {"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        assert b"Traceback" not in error.read()
        return error.code


@pytest.mark.parametrize(
    "message",
    [
        "",
        "   ",
        ("stem cells " * 500)[:MAX_MESSAGE_CHARS],
        "😀🙏💉",
        "<script>alert('x')</script><b>is the iv safe?</b>",
        "¿Es seguro el tratamiento intravenoso?",
        "\u0000\u202e weird control chars",
        '{"json": true}',
    ],
    ids=[
        "empty",
        "blank",
        "at-length-limit",
        "emoji",
        "html-script",
        "spanish",
        "control-chars",
        "json-text",
    ],
)
def test_bad_input_gets_a_kind_reply_and_the_conversation_goes_on(bot, message: str) -> None:
    sender = f"bad-{uuid.uuid4().hex}"
    replies = send(bot.rest_webhook, message, sender)
    notice = "I'm the clinic's virtual assistant"
    assert [t for t in texts(replies) if notice not in t], "every message gets a reply of its own"
    assert all("Traceback" not in t and "Error" not in t for t in texts(replies))
    follow_up = texts(send(bot.rest_webhook, "what are the risks of the iv", sender))
    assert any("through a vein (IV)" in t for t in follow_up), "the conversation carries on"


def test_html_is_treated_as_text_not_markup(bot) -> None:
    replies = texts(send(bot.rest_webhook, "<script>alert(1)</script> is the iv dangerous?"))
    assert any("through a vein (IV)" in t for t in replies)
    assert not any("<script>" in t for t in replies)


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"sender": "x"}', "application/json"),
        (b"message=hi", "application/x-www-form-urlencoded"),
    ],
    ids=["broken-json", "no-body", "json-list", "no-message", "form-encoded"],
)
def test_malformed_requests_get_a_4xx_or_a_reply_never_a_500(bot, body: bytes, content_type: str) -> None:
    status = post_raw(bot.rest_webhook, body, content_type)
    assert status < 500


def test_emergency_in_the_middle_of_a_handoff_comes_first(bot) -> None:
    sender = f"e2e-{uuid.uuid4().hex}"
    send(bot.rest_webhook, "can someone call me back", sender)
    replies = texts(send(bot.rest_webhook, "my chest hurts and i cant breathe", sender))
    assert "call 911" in replies[0]
    assert replies[-1] == "What name should the coordinator use for you?", "then the form carries on"
    assert "stopped" in " ".join(texts(send(bot.rest_webhook, "never mind", sender)))


def conversation(bot, sender: str, messages: list[str]) -> list[list[dict]]:
    return [send(bot.rest_webhook, m, sender) for m in messages]


def test_handoff_from_request_to_record_email_and_inbox(bot, environment: dict, mailbox: Mailbox) -> None:
    sender = f"e2e-{uuid.uuid4().hex}"
    turns = conversation(
        bot,
        sender,
        [
            "is this right for me?",
            "I'd like to talk to someone",
            "Ann Example",
            "phone",
            "12345",
            "(212) 555-0187",
            "skip",
            "/use_topics",
            "/affirm",
        ],
    )
    assert "doesn't look like a phone number" in " ".join(texts(turns[4]))
    confirmation = " ".join(texts(turns[-1]))
    reference = re.search(r"reference is ([A-Z0-9]{3}-[A-Z0-9]{4})", confirmation).group(1)
    assert [r["custom"]["data"]["reference"] for r in turns[-1] if "custom" in r] == [reference]

    store = HandoffStore.from_settings(load_settings())
    record = store.get(reference)
    assert record.contact_value == "+12125550187" and record.contact_method == "phone"
    assert record.reason == "personal_question" and "right_for_me" in record.topics
    assert any(line["text"] == "is this right for me?" for line in record.transcript)

    # submitting twice in one conversation does not create two records
    again = " ".join(
        texts(
            conversation(
                bot,
                sender,
                ["can a coordinator call me", "Ann", "email", "ann@example.org", "skip", "skip", "/affirm"],
            )[-1]
        )
    )
    assert reference in again
    assert len([h for h in store.list() if h.reference == reference]) == 1 and len(store.list()) == 1

    report = deliver_due(store, settings=load_settings())
    assert report.delivered == 1 and len(mailbox.messages) == 1
    assert reference in mailbox.messages[0] and "555-0187" not in mailbox.messages[0]

    app = create_app(load_settings(), store=store)
    app.config["WTF_CSRF_ENABLED"] = False
    store.create_coordinator("coordinator", PASSWORD)
    client = app.test_client()
    client.post("/sign-in", data={"username": "coordinator", "password": PASSWORD})
    assert reference in client.get("/handoffs").get_data(as_text=True)
    page = client.get(f"/handoffs/{reference}").get_data(as_text=True)
    assert "Ann Example" in page and "Is it right for me?" in page, "topics shown by their titles"
    json.dumps(environment)  # the environment fixture stays alive for the whole test


@pytest.mark.parametrize(
    "email", ["ann.quixote@example.org", "stop.now@example.com", "never.mind@example.net"]
)
def test_an_email_address_is_never_taken_for_a_command(bot, email: str) -> None:
    sender = f"e2e-{uuid.uuid4().hex}"
    for message in ["I'd like to talk to someone", "Ann", "email"]:
        send(bot.rest_webhook, message, sender)
    replies = " ".join(texts(send(bot.rest_webhook, email, sender)))
    assert "best time" in replies and "stopped" not in replies


def say_with_metadata(webhook: str, message: str, sender: str, metadata: dict) -> list[dict]:
    body = json.dumps({"sender": sender, "message": message, "metadata": metadata}).encode()
    request = urllib.request.Request(webhook, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_one_client_cannot_flood_the_care_team(environment: dict, tmp_path: Path, monkeypatch) -> None:
    """Issue 9, finding 4: one client made 40 complete requests in 10.7 s through the bot."""
    config = yaml.safe_load((Path(__file__).parents[3] / "content" / "clinic.yml").read_text())
    config["handoff"]["limits"] = {"window_minutes": 60, "per_conversation": 2, "per_client": 2}
    (tmp_path / "clinic.yml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("CLINIC_CONFIG", str(tmp_path / "clinic.yml"))
    monkeypatch.setenv("HANDOFF_DATABASE_URL", f"sqlite:///{tmp_path / 'flood.db'}")
    form = WHOLE_FORM
    with rasa_stack() as stack:
        answers = []
        for _ in range(3):  # three visitors, as far as the bot can tell, from one client address
            sender = f"flood-{uuid.uuid4().hex}"
            for message in form:
                replies = say_with_metadata(
                    stack.rest_webhook, message, sender, {"client_id": "one-client-hash"}
                )
            answers.append(" ".join(texts(replies)))
    assert all("Your reference is" in answer for answer in answers[:2])
    assert "already sent us a request" in answers[2] and config["clinic"]["phone"] in answers[2]
    assert "reference" not in answers[2]
    store = HandoffStore.from_settings(load_settings())
    assert len(store.list()) == 2
    store.close()


def test_forwarded_headers_are_ignored_unless_a_proxy_is_declared(bot) -> None:
    """Without SANIC_PROXIES_COUNT (the default), X-Forwarded-For is the visitor's own text: it
    must not change their client id, or one client could dodge the per-client handoff limit."""
    ids = []
    for headers in ({}, {"X-Forwarded-For": "203.0.113.7"}, {"X-Forwarded-For": "198.51.100.23"}):
        sender = f"xff-{uuid.uuid4().hex}"
        body = json.dumps({"sender": sender, "message": "hi"}).encode()
        request = urllib.request.Request(
            bot.rest_webhook, body, {"Content-Type": "application/json", **headers}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200
        with sqlite3.connect(bot.workdir / "tracker.db") as db:
            (data,) = db.execute(
                "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", (sender,)
            ).fetchone()
        ids.append(json.loads(data)["metadata"]["client_id"])
    assert len(set(ids)) == 1
