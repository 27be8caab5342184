"""The inbox's watchdog: nobody waits forever, and no chat stays with a coordinator who left.

Every few seconds, in a daemon thread of the inbox process:

- waiting chats past ``live_chat.wait_limit_minutes`` -> timed out, and Rasa is told
  (``live_chat_timeout``: the visitor is offered the call-back form, prefilled);
- joined chats whose coordinator's chat page has been silent longer than
  ``live_chat.presence_seconds`` -> back in line, and Rasa is told (the ``lost`` events).

The store's conditional updates decide which process does each move, so two inbox processes
never both tell Rasa. A Rasa call that fails is retried on the next rounds (a few times), since
the chat's row has already moved.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from clinic.live_chat.hub import Hub
from clinic.live_chat.rasa_api import RasaApi, RasaApiError
from clinic.live_chat.store import LiveChatStore

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 3.0
MAX_ATTEMPTS = 5


@dataclass
class _Pending:
    reference: str
    call: Callable[[], None]
    attempts: int = 0


class Watchdog:
    def __init__(self, store: LiveChatStore, rasa: RasaApi, hub: Hub | None = None) -> None:
        self.store = store
        self.rasa = rasa
        self.hub = hub
        self._pending: list[_Pending] = []

    def run_once(self) -> tuple[int, int]:
        """One round; returns (timed out, returned to the line)."""
        timed_out = self.store.time_out_waiting()
        returned = self.store.return_stale()
        for chat in timed_out:
            conversation = chat.conversation_id
            self._pending.append(
                _Pending(chat.reference, lambda c=conversation: self.rasa.trigger(c, "live_chat_timeout"))
            )
            log.info("live chat %s timed out (nobody joined)", chat.reference)
        for chat in returned:
            conversation, name, position = (
                chat.conversation_id,
                chat.coordinator_name or "The coordinator",
                chat.position or 1,
            )
            self._pending.append(
                _Pending(chat.reference, lambda c=conversation, n=name, p=position: self.rasa.lost(c, n, p))
            )
            log.info("live chat %s back in line (coordinator's page gone)", chat.reference)
        self._flush()
        if (timed_out or returned) and self.hub is not None:
            self.hub.publish({"type": "queue"})
        return len(timed_out), len(returned)

    def _flush(self) -> None:
        still = []
        for pending in self._pending:
            try:
                pending.call()
            except RasaApiError as exc:
                pending.attempts += 1
                if pending.attempts < MAX_ATTEMPTS:
                    still.append(pending)
                else:
                    log.error(
                        "live chat %s: could not tell the assistant (%s); giving up", pending.reference, exc
                    )
        self._pending = still

    def run(self, stop: threading.Event, interval: float = INTERVAL_SECONDS) -> None:
        while not stop.wait(interval):
            try:
                self.run_once()
            except Exception as exc:  # noqa: BLE001 - the watchdog must outlive a database hiccup
                log.warning("live chat watchdog: %s", type(exc).__name__)


def start_watchdog(
    store: LiveChatStore, rasa: RasaApi, hub: Hub | None = None, stop: threading.Event | None = None
) -> tuple[threading.Thread, threading.Event]:
    """Start the watchdog as a daemon thread; returns it and the event that stops it."""
    stop = stop or threading.Event()
    watchdog = Watchdog(store, rasa, hub)
    thread = threading.Thread(target=watchdog.run, args=(stop,), name="live-chat-watchdog", daemon=True)
    thread.start()
    return thread, stop
