"""The action server dies at the worst moments (issue 9, finding 5), over a real stack: Rasa,
the action server, the handoff store and an SMTP server. Whatever the moment, the visitor can
carry on, and each request ends up created, stored and notified exactly once.

Rasa calls the action server through a small relay in this test, so the real action server
process can be killed at an exact point: when an action is requested (before it runs), or
right after it answered (its work committed, the answer never delivered to Rasa).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text

from clinic.devtools.evaluate import send
from clinic.handoff.crypto import generate_key
from clinic.handoff.outbox import deliver_due
from clinic.handoff.requests import HandoffStore
from clinic.settings import load_settings
from clinic.stack.local import (
    ROOT,
    action_env,
    free_port,
    log_tail,
    start_action_server,
    start_rasa_server,
    wait_until_up,
    write_endpoints,
)

pytestmark = pytest.mark.slow  # Rasa and action servers, killed and restarted

FORM = ["I'd like to talk to someone", "Ann Example", "email", "ann@example.org", "skip", "skip"]
REFERENCE = re.compile(r"reference is ([A-Z0-9]{3}-[A-Z0-9]{4})")


@dataclass
class ActionServer:
    """The real action server (a process we can kill and restart) behind a relay Rasa calls."""

    workdir: Path
    port: int = field(default_factory=free_port)
    kill_at: tuple[str, str] | None = None  # (action name, "before" | "after")
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    process: Any = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        self.process = start_action_server(self.port, self.workdir / f"actions-{self.starts}.log", self.token)
        wait_until_up(f"http://127.0.0.1:{self.port}/health", 120, self.process)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(20)

    def relay(self, body: bytes, authorization: str) -> tuple[int, bytes] | None:
        """Forward one call (with Rasa's token header); None when the server was killed and the
        caller gets no answer."""
        action = json.loads(body).get("next_action")
        if self.kill_at == (action, "before"):
            self.kill_at = None
            self.kill()
            return None
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/webhook",
            body,
            {"Content-Type": "application/json", "Authorization": authorization},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answer = (response.status, response.read())
        except urllib.error.HTTPError as error:
            answer = (error.code, error.read())
        except OSError:  # the server is down: so is the answer
            return None
        if self.kill_at == (action, "after"):
            self.kill_at = None
            self.kill()
            return None
        return answer


def relay_handler(server: ActionServer) -> type[BaseHTTPRequestHandler]:
    class Relay(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answer = server.relay(body, self.headers.get("Authorization", ""))
            if answer is None:  # like a killed process: the connection just closes
                self.close_connection = True
                return
            self.send_response(answer[0])
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer[1])))
            self.end_headers()
            self.wfile.write(answer[1])

        def log_message(self, *args: Any) -> None:
            pass

    return Relay


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope.content.decode("utf-8", "replace"))
        return "250 OK"


@dataclass
class Stack:
    webhook: str
    actions: ActionServer
    store: HandoffStore
    mailbox: Mailbox

    def say(self, sender: str, message: str) -> str:
        return " ".join(r.get("text", "") for r in send(self.webhook, message, sender))

    def counts(self, sender: str) -> tuple[int, int, int]:
        """Requests created (audit), stored (rows) and notified (emails) for one conversation."""
        deliver_due(self.store, settings=load_settings())
        with self.store.engine.connect() as connection:
            references = [
                row[0]
                for row in connection.execute(
                    text("SELECT reference FROM handoffs WHERE conversation_id = :c"), {"c": sender}
                )
            ]
        created = sum(a.action == "created" for ref in references for a in self.store.get(ref).audit)
        notified = sum(ref in message for ref in references for message in self.mailbox.messages)
        return created, len(references), notified


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    workdir = Path(tempfile.mkdtemp(prefix="faults-"))
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    values = {
        "HANDOFF_DATABASE_URL": f"sqlite:///{workdir / 'handoffs.db'}",
        "HANDOFF_ENCRYPTION_KEY": generate_key(),
        "CLINIC_ENV": "test",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_STARTTLS": "false",
        "SMTP_FROM": "bot@clinic.example",
        "COORDINATOR_EMAIL": "coordinators@clinic.example",
    }
    environment = patch.dict(os.environ, values)
    environment.start()
    actions = ActionServer(workdir)
    relay = ThreadingHTTPServer(("127.0.0.1", 0), relay_handler(actions))
    threading.Thread(target=relay.serve_forever, daemon=True).start()
    rasa_port = free_port()
    endpoints = write_endpoints(workdir, None)
    rasa = start_rasa_server(
        ROOT / "models" / "clinic.tar.gz",
        rasa_port,
        endpoints,
        workdir / "rasa.log",
        action_env(relay.server_port, actions.token),
    )
    store = HandoffStore.from_settings(load_settings())
    try:
        actions.start()
        wait_until_up(f"http://127.0.0.1:{rasa_port}/", 180, rasa)
        yield Stack(f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook", actions, store, mailbox)
    except Exception as error:
        raise RuntimeError(f"{error}\n{log_tail(workdir / 'rasa.log')}") from error
    finally:
        store.close()
        rasa.terminate()
        rasa.wait(20)
        if actions.process is not None and actions.process.poll() is None:
            actions.kill()
        relay.shutdown()
        smtp.stop()
        environment.stop()


def fill_form(stack: Stack, sender: str) -> None:
    for message in FORM:
        stack.say(sender, message)


@pytest.mark.parametrize("moment", ["before", "after"], ids=["before-it-ran", "after-it-committed"])
def test_killed_during_the_final_submit_the_visitors_yes_sends_it_once(stack: Stack, moment: str) -> None:
    sender = f"submit-{moment}-{uuid.uuid4().hex[:8]}"
    fill_form(stack, sender)
    stack.actions.kill_at = ("action_submit_handoff", moment)
    assert "reference is" not in stack.say(sender, "/affirm"), "the confirmation was lost with the server"
    assert stack.counts(sender)[1] == (1 if moment == "after" else 0)

    stack.actions.start()  # restarted, e.g. by the process manager
    reply = stack.say(sender, "yes")  # the channel said: something went wrong, please try again
    assert REFERENCE.search(reply), reply
    assert stack.counts(sender) == (1, 1, 1), "created, stored and notified exactly once"
    assert "reference is" not in stack.say(sender, "yes"), "a later yes sends nothing more"
    assert stack.counts(sender) == (1, 1, 1)


def test_a_retry_the_bot_did_not_understand_is_offered_not_guessed(stack: Stack) -> None:
    sender = f"submit-offer-{uuid.uuid4().hex[:8]}"
    fill_form(stack, sender)
    stack.actions.kill_at = ("action_submit_handoff", "after")
    stack.say(sender, "/affirm")
    stack.actions.start()
    assert "Shall I send your request" in stack.say(sender, "try again")
    reply = stack.say(sender, "/affirm")
    assert REFERENCE.search(reply), reply
    assert stack.counts(sender) == (1, 1, 1)


def test_killed_mid_form_the_next_message_after_the_restart_continues_it(stack: Stack) -> None:
    sender = f"mid-form-{uuid.uuid4().hex[:8]}"
    for message in FORM[:3]:
        stack.say(sender, message)
    stack.actions.kill_at = ("validate_handoff_form", "before")
    stack.say(sender, "ann@example.org")  # lost with the server
    stack.actions.start()
    assert "best time" in stack.say(sender, "ann@example.org")
    for message in FORM[4:]:
        stack.say(sender, message)
    reply = stack.say(sender, "/affirm")
    assert REFERENCE.search(reply), reply
    reference = REFERENCE.search(reply).group(1)
    assert stack.store.get(reference).name == "Ann Example"
    assert stack.counts(sender) == (1, 1, 1)
