"""Rasa's REST channel (same URL, same replies) hardened for visitors and careless clients.

Rasa 3.6's RestInput trusts the request: an empty body, a JSON list or a non-string message
raise inside Rasa and become a 500; JSON nested a thousand levels deep raises RecursionError; a
sender with a lone surrogate (or, on PostgreSQL, a NUL) makes the tracker store call
``sys.exit``; non-object metadata fails after the fact with the visitor's text logged at ERROR
level; and a message whose processing failed is answered with ``[]``. Here the webhook is
served by this module instead:

* The body is read once, at most `MAX_BODY_BYTES`, and checked (`read_webhook`) with the rules
  every channel shares (`clinic.channels.visitor_input`): a clear 400, or 413 for a message over the
  length limit, with ``{"error": "..."}``; never a 500, never a stack trace.
* ``metadata["client_id"]`` is set to the keyed hash of the client's address (see
  `clinic.channels.visitor_input`), overwriting whatever the client sent.
* Processing goes through `clinic.channels.always_reply.process`: a failure is logged without the
  visitor's text, and a message that got no reply at all gets the honest apology (unless a care
  coordinator is in the chat: clinic/live_chat/paused.py).

``?stream=true`` (Rasa's streaming variant, one JSON object per line) works as before, with the
same checks and the same apology.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from asyncio import Queue
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import QueueOutputChannel, RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from clinic.channels import visitor_input
from clinic.channels.always_reply import apology_text, process
from clinic.channels.log_privacy import keep_visitor_text_out_of_logs
from clinic.channels.visitor_input import InputProblem, is_valid_sender_id
from clinic.live_chat.paused import handled_while_paused

MAX_BODY_BYTES = 64 * 1024
NOT_JSON = "The request body must be JSON."
NOT_AN_OBJECT = 'The request body must be a JSON object like {"sender": "...", "message": "..."}.'
NO_MESSAGE = 'The request needs a "message" text.'
BAD_CHANNEL = 'The "input_channel" must be 1 to 64 letters, digits, "_", "-", "." or ":".'

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


@dataclass
class WebhookRequest:
    """A checked webhook request."""

    text: str
    sender_id: str | None
    input_channel: str
    metadata: dict[str, Any]


def parse_json(body: bytes) -> Any:
    """The body as JSON; too large, not JSON or nested too deeply is an `InputProblem`."""
    if len(body) > MAX_BODY_BYTES:
        raise InputProblem("The request is too large.", status=413)
    try:
        return json.loads(body or b"null")
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise InputProblem(NOT_JSON) from error


def read_webhook(body: bytes, channel_name: str = "rest") -> WebhookRequest:
    """Checks a webhook request body, raising `InputProblem` with what to fix."""
    payload = parse_json(body)
    if not isinstance(payload, dict):
        raise InputProblem(NOT_AN_OBJECT)
    if not isinstance(payload.get("message"), str):
        raise InputProblem(NO_MESSAGE)
    text = visitor_input.message_text(payload["message"])
    sender = visitor_input.sender_id(payload.get("sender"))
    input_channel = payload.get("input_channel") or channel_name
    if not is_valid_sender_id(input_channel):
        raise InputProblem(BAD_CHANNEL)
    return WebhookRequest(text, sender, input_channel, visitor_input.metadata(payload.get("metadata")))


class CountingQueueOutputChannel(QueueOutputChannel):
    """Rasa's streaming output channel, counting the messages it passes on."""

    def __init__(self, message_queue: Queue | None = None) -> None:
        super().__init__(message_queue)
        self.sent = 0

    async def _persist_message(self, message: dict[str, Any]) -> None:
        await super()._persist_message(message)
        self.sent += 1


class ClinicRestInput(RestInput):
    """Same URL and replies as Rasa's REST channel (/webhooks/rest/webhook)."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def __init__(self) -> None:
        super().__init__()
        self.apology = apology_text()
        keep_visitor_text_out_of_logs()

    def _user_message(self, checked: WebhookRequest, output: Any, request: Request) -> UserMessage:
        metadata = visitor_input.with_client_id(checked.metadata, visitor_input.client_address(request))
        return UserMessage(
            checked.text, output, checked.sender_id, input_channel=checked.input_channel, metadata=metadata
        )

    async def _reply(
        self, on_new_message: OnNewMessage, message: UserMessage, agent: Any
    ) -> list[dict[str, Any]]:
        collector = message.output_channel
        assert isinstance(collector, CollectingOutputChannel)
        processed = await process(on_new_message, message, self.name())
        if (
            processed
            and not collector.messages
            and await handled_while_paused(agent, message.sender_id, collector)
        ):
            return collector.messages  # a coordinator is in the chat: silence is expected
        if not processed or not collector.messages:
            await collector.send_text_message(message.sender_id, self.apology)
        return collector.messages

    def _stream(self, on_new_message: OnNewMessage, checked: WebhookRequest, request: Request) -> Callable:
        async def stream(resp: Any) -> None:
            queue: Queue = Queue()
            output = CountingQueueOutputChannel(queue)
            message = self._user_message(checked, output, request)

            async def run() -> None:
                processed = await process(on_new_message, message, self.name())
                agent = getattr(request.app.ctx, "agent", None)
                paused = (
                    processed
                    and not output.sent
                    and await handled_while_paused(agent, message.sender_id, output)
                )
                if not paused and (not processed or not output.sent):
                    await output.send_text_message(message.sender_id, self.apology)
                await queue.put("DONE")

            task = asyncio.ensure_future(run())
            while (item := await queue.get()) != "DONE":
                await resp.write(json.dumps(item) + "\n")
            await task

        return stream

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        module = inspect.getmodule(self)
        blueprint = Blueprint(f"custom_webhook_{type(self).__name__}", module.__name__ if module else None)

        @blueprint.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse | ResponseStream:
            try:
                checked = read_webhook(request.body, self.name())
            except InputProblem as problem:
                return response.json({"error": problem.message}, status=problem.status)
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                stream = self._stream(on_new_message, checked, request)
                return response.stream(stream, content_type="text/event-stream")
            message = self._user_message(checked, CollectingOutputChannel(), request)
            agent = getattr(request.app.ctx, "agent", None)
            return response.json(await self._reply(on_new_message, message, agent))

        return blueprint
