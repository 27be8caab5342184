"""The action server answers only Rasa (issue 9, finding 4): a conversation forged and posted to
/webhook with `next_action: action_submit_handoff` is refused and stores nothing, while Rasa's
own calls (with the ACTION_SERVER_TOKEN header from endpoints.yml) still run a whole handoff.
Without a token it serves on loopback only (development) and refuses to start on a network."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from unittest.mock import patch

import pytest

from clinic.devtools.evaluate import send
from clinic.handoff.requests import HandoffStore
from clinic.settings import load_settings
from clinic.stack.local import ROOT, RasaStack, free_port, rasa_stack, server_env, start_action_server
from clinic.stack.local import wait_until_up as wait_for_url
from tests.support.handoffs import WHOLE_FORM, throwaway_store_settings


@pytest.fixture(scope="module")
def environment() -> Iterator[dict]:
    """A fresh handoff store for the servers (inherited) and for this test process."""
    workdir = Path(tempfile.mkdtemp(prefix="action-auth-"))
    values = throwaway_store_settings(workdir)
    with patch.dict(os.environ, values):
        yield values


@pytest.fixture(scope="module")
def bot(environment: dict) -> Iterator[RasaStack]:
    with rasa_stack() as stack:
        yield stack


def store() -> HandoffStore:
    return HandoffStore.from_settings(load_settings())


def forged_call(sender: str) -> bytes:
    """What an attacker posts: a made-up conversation, ready to submit."""
    slots = {
        "handoff_name": "Forged Name",
        "handoff_contact_method": "email",
        "handoff_contact": "forged@example.org",
        "handoff_consent": True,
    }
    tracker = {
        "sender_id": sender,
        "slots": slots,
        "latest_message": {},
        "paused": False,
        "active_loop": {},
        "events": [{"event": "user", "text": "anything at all", "timestamp": 1.0}],
    }
    body = {
        "next_action": "action_submit_handoff",
        "sender_id": sender,
        "tracker": tracker,
        "domain": {},
        "version": "3.6.21",
    }
    return json.dumps(body).encode()


def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, body, {"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.mark.slow
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Basic eDp5"}],
    ids=["no-token", "wrong-token", "other-scheme"],
)
def test_a_forged_submit_is_refused_and_stores_nothing(bot: RasaStack, headers: dict) -> None:
    before = len(store().list())
    status, body = post(f"{bot.action_url}/webhook", forged_call(f"forged-{uuid.uuid4().hex[:8]}"), headers)
    assert status == 401 and "events" not in body
    assert len(store().list()) == before
    with pytest.raises(urllib.error.HTTPError) as listing:
        urllib.request.urlopen(f"{bot.action_url}/actions", timeout=10)
    assert listing.value.code == 401
    with urllib.request.urlopen(f"{bot.action_url}/health", timeout=10) as health:  # open to process monitors
        assert health.status == 200


@pytest.mark.slow
def test_the_same_call_with_rasas_token_is_served(bot: RasaStack) -> None:
    """The control: only the token stands between the forged call above and a stored handoff."""
    sender = f"forged-{uuid.uuid4().hex[:8]}"
    status, body = post(
        f"{bot.action_url}/webhook", forged_call(sender), {"Authorization": f"Bearer {bot.action_token}"}
    )
    references = [e["value"] for e in body["events"] if e.get("name") == "handoff_reference"]
    assert status == 200 and references, body
    assert store().get(references[0]).conversation_id == sender


@pytest.mark.slow
def test_rasas_own_calls_still_run_a_whole_handoff(bot: RasaStack) -> None:
    sender = f"auth-{uuid.uuid4().hex[:8]}"
    replies = [send(bot.rest_webhook, m, sender) for m in WHOLE_FORM]
    confirmation = " ".join(r.get("text") or "" for r in replies[-1])
    reference = re.search(r"reference is ([A-Z0-9]{3}-[A-Z0-9]{4})", confirmation)
    assert reference, replies
    record = store().get(reference.group(1))
    assert record.conversation_id == sender and record.name == "Ann Example"


@pytest.mark.slow
def test_without_a_token_it_serves_loopback_only(tmp_path: Path, environment: dict) -> None:
    port = free_port()
    process = start_action_server(port, tmp_path / "actions.log", token="")
    try:
        wait_for_url(f"http://127.0.0.1:{port}/health", 60, process)
        status, _ = post(f"http://127.0.0.1:{port}/webhook", forged_call("dev"), {})
        assert status == 200  # development: only this machine can reach it
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_it_refuses_to_listen_on_a_network_without_a_token() -> None:
    env = server_env({"ACTION_SERVER_TOKEN": ""})
    command = [
        sys.executable,
        "-m",
        "clinic.stack.action_server",
        "--host",
        "0.0.0.0",
        "--port",
        str(free_port()),
        "--actions",
        "actions",
    ]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert (
        result.returncode == 2
        and "Refusing to start" in result.stderr
        and "ACTION_SERVER_TOKEN" in result.stderr
    )


def test_rasa_refuses_an_api_token_on_its_command_line() -> None:
    command = [
        sys.executable,
        "-m",
        "clinic.stack.rasa_server",
        "run",
        "--enable-api",
        "--auth-token",
        "s3cret",
    ]
    result = subprocess.run(command, cwd=ROOT, env=server_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "RASA_API_TOKEN" in result.stderr
