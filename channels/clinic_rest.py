"""Rasa's REST channel with request checks, so malformed requests get a clear 4xx, not a 500.

Rasa 3.6's RestInput assumes a JSON object body; an empty body, a JSON list or a non-string
message raises inside Rasa and becomes a 500. This subclass checks the request first, limits
the body size, and trims overlong messages before they reach NLU.
"""
from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

MAX_BODY_BYTES = 64 * 1024
MAX_MESSAGE_CHARS = 5000


def request_problem(body: bytes) -> str | None:
    """Why a webhook request cannot be processed, or None when it can."""
    if len(body) > MAX_BODY_BYTES:
        return "The request is too large."
    try:
        payload = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        return "The request body must be JSON."
    if not isinstance(payload, dict):
        return 'The request body must be a JSON object like {"sender": "...", "message": "..."}.'
    if not isinstance(payload.get("message"), str):
        return 'The request needs a "message" text.'
    if "sender" in payload and not isinstance(payload["sender"], (str, int)):
        return 'The "sender" must be a text.'
    return None


class ClinicRestInput(RestInput):
    """Same URL and replies as Rasa's REST channel (/webhooks/rest/webhook)."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def _extract_message(self, req: Request) -> str | None:
        return (req.json.get("message") or "")[:MAX_MESSAGE_CHARS]

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def check_request(request: Request) -> HTTPResponse | None:
            if request.method == "POST" and request.path.endswith("/webhook"):
                problem = request_problem(request.body)
                if problem:
                    status = 413 if "too large" in problem else 400
                    return response.json({"error": problem}, status=status)
            return None

        return blueprint
