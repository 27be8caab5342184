"""A Rasa stack with the HTTP API on (`--enable-api --auth-token <token>`), as `make publish` needs.

Built from tests.support.rasa_servers' parts. Its `rasa_stack(extra_args=[...])` waits for
`GET /status` without the token, which a token-protected server answers with 401, so it would
wait for its whole timeout; this waits for `/status?token=...` instead.
"""
from __future__ import annotations

import contextlib
import json
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.support.rasa_servers import (
    ROOT,
    RasaStack,
    free_port,
    start_action_server,
    start_rasa_server,
    wait_until_up,
    write_endpoints,
)


@contextlib.contextmanager
def api_stack(
    token: str,
    model: Path = ROOT / "models" / "clinic.tar.gz",
    tracker_store: dict | None = None,
    timeout: float = 180,
) -> Iterator[RasaStack]:
    workdir = Path(tempfile.mkdtemp(prefix="rasa-api-stack-"))
    action_port, rasa_port = free_port(), free_port()
    stack = RasaStack(f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{action_port}", workdir)
    try:
        actions = start_action_server(action_port, workdir / "actions.log")
        stack.processes.append(actions)
        endpoints = write_endpoints(workdir, action_port, tracker_store)
        extra = ["--enable-api", "--auth-token", token]
        rasa = start_rasa_server(Path(model), rasa_port, endpoints, workdir / "rasa.log", extra)
        stack.processes.append(rasa)
        wait_until_up(f"{stack.action_url}/health", timeout, actions)
        wait_until_up(f"{stack.url}/status?token={token}", timeout, rasa)
        yield stack
    finally:
        stack.stop()


def send(stack: RasaStack, sender: str, message: str, timeout: float = 30) -> list[dict]:
    """One visitor message over the REST channel; the bot's replies."""
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(stack.rest_webhook, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if response.status != 200:
            raise RuntimeError(f"REST webhook answered {response.status}")
        return json.loads(response.read())


def status(stack: RasaStack, token: str) -> dict:
    with urllib.request.urlopen(f"{stack.url}/status?token={token}", timeout=10) as response:
        return json.loads(response.read())


def parse(stack: RasaStack, token: str, text: str) -> dict:
    body = json.dumps({"text": text}).encode()
    request = urllib.request.Request(f"{stack.url}/model/parse?token={token}", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())
