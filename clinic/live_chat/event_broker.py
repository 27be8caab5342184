"""Rasa's event brokers, publishing only what live chat needs, sealed (docs/live-chat.md).

Rasa's own brokers publish every event of every conversation in clear: each message's text, its
NLU parse, every slot. The inbox needs far less (clinic/live_chat/sealed_events.py `summary`), and
what it needs is visitors' words, which must not rest in clear in a broker's table or queue. These
subclasses keep Rasa's brokers (connection handling, RabbitMQ's reconnects) and change only what is
published: the summary, sealed with the handoff encryption key.

endpoints.yml (embedded default)::

    event_broker:
      type: clinic.live_chat.event_broker.SealedSQLEventBroker
      db: ${EVENT_BROKER_SQLITE_FILE}

endpoints.scaled.yml (RabbitMQ)::

    event_broker:
      type: clinic.live_chat.event_broker.SealedPikaEventBroker
      url: ${RABBITMQ_HOST}
      ...
      queues: [clinic_live_chat]
"""

from __future__ import annotations

import logging
from typing import Any

import aio_pika
import sqlalchemy as sa
from cryptography.fernet import MultiFernet
from rasa.core.brokers.pika import PikaEventBroker
from rasa.core.brokers.sql import SQLEventBroker

from clinic.live_chat.sealed_events import seal, summary
from clinic.settings import load_settings
from clinic.tracker_store import sqlite_engine

logger = logging.getLogger(__name__)


def settings_cipher() -> MultiFernet:
    """The handoff store's key: the inbox, which opens these events, already holds it."""
    from clinic.handoff.crypto import build_cipher

    return build_cipher(load_settings().encryption_key)


class SealedSQLEventBroker(SQLEventBroker):
    """Rasa's SQL broker (table `events`: id, sender_id, data) with sealed data."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cipher = settings_cipher()
        if self.engine.dialect.name == "sqlite":
            # WAL: the inbox reads (and deletes what it has read) while Rasa writes.
            self.engine.dispose()
            self.engine = sqlite_engine(self.engine.url)
            self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)

    def publish(self, event: dict[str, Any]) -> None:
        self.publish_many([event])

    def publish_many(self, events: list[dict[str, Any]]) -> None:
        """A save's new events in one transaction (clinic/tracker_store.py): one commit a message."""
        rows = [
            self.SQLBrokerEvent(sender_id=event.get("sender_id"), data=seal(needed, self.cipher))
            for event in events
            if (needed := summary(event)) is not None
        ]
        if not rows:
            return
        with self.session_scope() as session:
            session.add_all(rows)
            session.commit()


class SealedPikaEventBroker(PikaEventBroker):
    """Rasa's RabbitMQ broker; each message body is one sealed event."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cipher = settings_cipher()

    def publish(self, event: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        if summary(event) is not None:
            super().publish(event, headers)

    def _message(self, event: dict[str, Any], headers: dict[str, str] | None) -> aio_pika.Message:
        body = seal(summary(event) or {}, self.cipher)
        return aio_pika.Message(
            body.encode("ascii"), headers=headers, delivery_mode=aio_pika.DeliveryMode.PERSISTENT
        )
