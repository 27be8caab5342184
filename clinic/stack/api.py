"""A Rasa stack with the HTTP API on (the token in RASA_API_TOKEN, as `make run` passes it: see
clinic/stack/rasa_server.py), as `make publish` needs, and small clients for its API."""
from __future__ import annotations

import contextlib
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from clinic.devtools.evaluate import send as send_message
from clinic.stack.local import ROOT, RasaStack, rasa_stack


@contextlib.contextmanager
def api_stack(
    token: str,
    model: Path = ROOT / "models" / "clinic.tar.gz",
    tracker_store: dict | None = None,
) -> Iterator[RasaStack]:
    with rasa_stack(model=Path(model), tracker_store=tracker_store, api_token=token) as stack:
        yield stack


def send(stack: RasaStack, sender: str, message: str, timeout: float = 30) -> list[dict]:
    """One visitor message over the REST channel; the bot's replies."""
    return send_message(stack.rest_webhook, message, sender, timeout)


def status(stack: RasaStack, token: str) -> dict:
    with urllib.request.urlopen(f"{stack.url}/status?token={token}", timeout=10) as response:
        return json.loads(response.read())


def parse(stack: RasaStack, token: str, text: str) -> dict:
    body = json.dumps({"text": text}).encode()
    request = urllib.request.Request(f"{stack.url}/model/parse?token={token}", data=body,
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())
