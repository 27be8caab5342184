"""Small clients for a running stack: a visitor's message over REST, and Rasa's HTTP API (on when
the stack was started with an API token, as `make publish` needs: see clinic/stack/rasa_server.py)."""

from __future__ import annotations

import json
import urllib.request

from clinic.devtools.evaluate import send as send_message
from clinic.stack.local import RasaStack


def send(stack: RasaStack, sender: str, message: str, timeout: float = 30) -> list[dict]:
    """One visitor message over the REST channel; the bot's replies."""
    return send_message(stack.rest_webhook, message, sender, timeout)


def status(stack: RasaStack, token: str) -> dict:
    with urllib.request.urlopen(f"{stack.url}/status?token={token}", timeout=10) as response:
        return json.loads(response.read())


def parse(stack: RasaStack, token: str, text: str) -> dict:
    body = json.dumps({"text": text}).encode()
    request = urllib.request.Request(
        f"{stack.url}/model/parse?token={token}", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())
