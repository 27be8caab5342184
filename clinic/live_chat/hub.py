"""In-process publish/subscribe between the feed thread and the coordinators' event streams.

Each open page's stream (one Werkzeug thread) subscribes with a small bounded queue; the feed and
the views publish. A slow or vanished reader must not block the feed, so a full queue drops its
oldest message and marks the subscription ``overflowed`` (the page then reloads its state).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

MAX_PENDING = 200


class Subscription:
    """One reader's queue of messages."""

    def __init__(self, maxsize: int = MAX_PENDING) -> None:
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=maxsize)
        self.overflowed = False

    def put(self, message: dict[str, Any]) -> None:
        while True:
            try:
                self._queue.put_nowait(message)
                return
            except queue.Full:
                self.overflowed = True
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    pass

    def get(self, timeout: float) -> dict[str, Any] | None:
        """The next message, or None after ``timeout`` seconds."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None


class Hub:
    """Fan-out of messages to every current subscription (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: set[Subscription] = set()

    def publish(self, message: dict[str, Any]) -> None:
        with self._lock:
            targets = list(self._subscriptions)
        for subscription in targets:
            subscription.put(message)

    @contextmanager
    def subscribe(self) -> Iterator[Subscription]:
        subscription = Subscription()
        with self._lock:
            self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            with self._lock:
                self._subscriptions.discard(subscription)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subscriptions)
