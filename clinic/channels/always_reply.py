"""The visitor always gets a reply, and a failure never puts their words in the log.

When the action server is down, Rasa logs the failed action, drops its events and answers with
nothing at all (REST ``200 []``); when something raises, Rasa's REST channel answers ``[]`` and
logs the visitor's message text at ERROR level. Either way the visitor is left waiting. Both
channels therefore process each message through `process`, which

* catches any exception, and also `SystemExit`: Rasa's SQL tracker store calls ``sys.exit``
  on any ``ValueError`` while it talks to the database, and no single message may stop the
  assistant for everyone;
* logs the failure with its type and the code locations only: no exception message, no text,
  since both can carry what the visitor wrote;
* tells the caller whether processing failed, so the channel can send the honest apology
  `apology_text` ("something went wrong on our side ... call us at <clinic phone>") when it
  failed (even after some replies went out: the conversation may not have been saved) or when
  nothing at all was said, instead of silence.

The clinic's phone number comes from the clinic settings (`clinic.settings.load_clinic`, as the
actions read it), once when the channel is created.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOOutput

from clinic.channels.log_privacy import processing
from clinic.nlp.prefetch import prefetch

logger = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong on our side. Please try again in a moment"


def apology_text() -> str:
    """The honest reply when processing failed, with the clinic's phone number when configured."""
    try:
        from clinic.settings import load_clinic

        phone = load_clinic().phone
    except Exception as error:  # a broken clinic configuration must not take the channel down
        logger.error(
            "No clinic phone number for the error reply (%s): check the clinic settings.",
            type(error).__name__,
        )
        return f"{APOLOGY}."
    return f"{APOLOGY}, or call us at {phone}."


def log_failure(channel: str, error: BaseException) -> None:
    """The failure's type and where it happened; never its message, which may quote the visitor."""
    where = "".join(traceback.format_tb(error.__traceback__)).rstrip()
    logger.error("The %s channel could not process a message (%s):\n%s", channel, type(error).__name__, where)


async def process(
    on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage, channel: str
) -> bool:
    """Hands the message to Rasa; False when that failed (already logged, without the text)."""
    with processing(message.text):
        try:
            await prefetch(message.text)
            await on_new_message(message)
        except (Exception, SystemExit) as error:  # noqa: BLE001 (see the module docstring)
            log_failure(channel, error)
            return False
    return True


class CountingSocketIOOutput(SocketIOOutput):
    """Rasa's socket.io output channel, counting what it sends (every send goes through here)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent = 0

    async def _send_message(self, socket_id: str, response: Any) -> None:
        await super()._send_message(socket_id, response)
        self.sent += 1

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        await super().send_custom_json(recipient_id, json_message, **kwargs)
        self.sent += 1
