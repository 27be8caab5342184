"""Database tables for handoff requests, coordinator accounts and the notification outbox.

Personal data (name, contact details, the visitor's own words, coordinators' notes)
uses the encrypted column types from ``clinic.handoff.crypto``; the columns the queue needs to
filter and sort on (status, times, reason) stay in clear so no decryption is needed to
list the queue. Audit details and outbox payloads are written by our own code and never
contain personal data.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import declarative_base, relationship
from sqlalchemy.types import TypeDecorator

from clinic.handoff.crypto import EncryptedJSON, EncryptedText

Base: Any = declarative_base()

STATUS_NEW = "new"
STATUS_CLAIMED = "claimed"
STATUS_RESOLVED = "resolved"
STATUSES = (STATUS_NEW, STATUS_CLAIMED, STATUS_RESOLVED)
OPEN_STATUSES = (STATUS_NEW, STATUS_CLAIMED)

REASONS = ("visitor_asked", "out_of_scope", "low_confidence", "personal_question")
# How the inbox and the notification email explain each reason.
REASON_WORDS = {
    "visitor_asked": "The visitor asked to talk to a person.",
    "out_of_scope": "The visitor asked something the assistant does not cover.",
    "low_confidence": "The assistant was not sure it understood the visitor.",
    "personal_question": "The visitor asked a question about their own situation.",
}
CONTACT_METHODS = ("email", "phone")
# handoffs.kind: NULL for a call-back request, KIND_LIVE_CHAT for the record a closed live chat
# leaves (it has no contact details: the visitor was in the chat).
KIND_LIVE_CHAT = "live_chat"

# live_chats.status (docs/live-chat.md). "cancelled": the visitor stopped waiting themselves.
LIVE_WAITING = "waiting"
LIVE_JOINED = "joined"
LIVE_HANDED_BACK = "handed_back"
LIVE_CLOSED = "closed"
LIVE_TIMED_OUT = "timed_out"
LIVE_CANCELLED = "cancelled"
LIVE_STATUSES = (LIVE_WAITING, LIVE_JOINED, LIVE_HANDED_BACK, LIVE_CLOSED, LIVE_TIMED_OUT, LIVE_CANCELLED)
LIVE_OPEN_STATUSES = (LIVE_WAITING, LIVE_JOINED, LIVE_HANDED_BACK)
LIVE_ENDED_STATUSES = (LIVE_CLOSED, LIVE_TIMED_OUT, LIVE_CANCELLED)
OUTBOX_KINDS = ("email", "webhook")

# Crockford-style alphabet without 0/O, 1/I/L and U: nothing to mishear on the phone.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


# datetime.UTC only exists from Python 3.11; Rasa 3.6 runs on 3.10.
UTC = timezone.utc  # noqa: UP017


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_reference() -> str:
    """A short code visitors can read out, e.g. 'HX7-K3P9' (30^7 ~ 2.2e10 values)."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(7))
    return f"{chars[:3]}-{chars[3:]}"


def normalise_reference(value: str) -> str:
    """Accept what people type ('hx7 k3p9', 'HX7K3P9') and return the stored form."""
    compact = "".join(ch for ch in value.upper() if ch.isalnum())
    if len(compact) == 7:
        return f"{compact[:3]}-{compact[3:]}"
    return value.strip().upper()


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike.

    SQLite has no time zone support, so values are stored as naive UTC everywhere and
    re-labelled as UTC when read; naive input is rejected rather than guessed.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given; use timezone-aware datetimes (UTC)")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


_OPEN_CONDITION = text("status IN ('new', 'claimed')")


class Handoff(Base):
    """One visitor's request to be contacted by a person."""

    __tablename__ = "handoffs"

    id = Column(Integer, primary_key=True)
    reference = Column(String(16), nullable=False, unique=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)

    name = Column(EncryptedText, nullable=False)
    contact_method = Column(String(10), nullable=False)
    contact_value = Column(EncryptedText, nullable=False)
    best_time = Column(EncryptedText, nullable=True)
    topic_note = Column(EncryptedText, nullable=True)
    consent_text = Column(Text, nullable=False)
    consent_at = Column(UTCDateTime, nullable=False)
    reason = Column(String(32), nullable=False)
    # Which treatments someone asked about is health information: encrypted too.
    topics = Column(EncryptedJSON, nullable=False)
    # The topics' titles as the visitor saw them ({id: title}), so the inbox shows them as they
    # were, without reading the content. Older records have none (NULL).
    topic_titles = Column(EncryptedJSON, nullable=True)
    transcript = Column(EncryptedJSON, nullable=False)

    status = Column(String(16), nullable=False, default=STATUS_NEW, index=True)
    claimed_by = Column(String(64), nullable=True)
    claimed_at = Column(UTCDateTime, nullable=True)
    resolved_by = Column(String(64), nullable=True)
    resolved_at = Column(UTCDateTime, nullable=True)
    # Hash of (conversation, form run): a retried submit finds the record it already made.
    submission_key = Column(String(64), nullable=True)
    # None: a call-back request; KIND_LIVE_CHAT: the resolved record of a closed live chat
    # (empty name and contact value, the facts of the chat in ``live_chats``).
    kind = Column(String(16), nullable=True)

    notes = relationship(
        "HandoffNote", back_populates="handoff", order_by="HandoffNote.id", cascade="all, delete-orphan"
    )
    audit_events = relationship(
        "AuditEvent", back_populates="handoff", order_by="AuditEvent.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        # At most one open request per conversation, enforced by the database itself so
        # that two simultaneous submissions cannot both create a record.
        Index(
            "uq_handoffs_open_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=_OPEN_CONDITION,
            postgresql_where=_OPEN_CONDITION,
        ),
        # One record per submission, even if the action server died after committing it.
        Index("uq_handoffs_submission_key", "submission_key", unique=True),
    )


class HandoffNote(Base):
    """A coordinator's note on a handoff (text encrypted)."""

    __tablename__ = "handoff_notes"

    id = Column(Integer, primary_key=True)
    handoff_id = Column(Integer, ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, index=True)
    author = Column(String(64), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    text = Column(EncryptedText, nullable=False)

    handoff = relationship("Handoff", back_populates="notes")


class AuditEvent(Base):
    """Who did what to a handoff, and when. ``detail`` never holds personal data."""

    __tablename__ = "handoff_audit_events"

    id = Column(Integer, primary_key=True)
    handoff_id = Column(Integer, ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, index=True)
    actor = Column(String(64), nullable=False)
    action = Column(String(32), nullable=False)
    at = Column(UTCDateTime, nullable=False, default=utcnow)
    detail = Column(String(500), nullable=True)

    handoff = relationship("Handoff", back_populates="audit_events")


class Coordinator(Base):
    """A care coordinator who can sign in to the inbox."""

    __tablename__ = "coordinators"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    active = Column(Boolean, nullable=False, default=True)
    # Random value copied into each sign-in cookie; replacing it ends every session of the
    # account (sign-out, password change, deactivation). None: no session is valid.
    session_token = Column(String(64), nullable=True)
    # Live chat: the name visitors see (None: the username, capitalised), whether they set
    # themselves available, and when one of their inbox pages last showed it was open.
    display_name = Column(String(64), nullable=True)
    available = Column(Boolean, nullable=True)
    seen_at = Column(UTCDateTime, nullable=True)

    @property
    def shown_name(self) -> str:
        return self.display_name or self.username[:1].upper() + self.username[1:]


class OutboxMessage(Base):
    """A notification waiting to be sent (or already sent) by the worker.

    Written in the same transaction as the handoff, so a notification exists if and
    only if the handoff does; the worker retries until ``delivered_at`` is set.
    """

    __tablename__ = "handoff_outbox"

    id = Column(Integer, primary_key=True)
    handoff_id = Column(Integer, ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=True, index=True)
    kind = Column(String(16), nullable=False)
    payload = Column(Text, nullable=False)  # JSON without personal data
    attempts = Column(Integer, nullable=False, default=0)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    next_attempt_at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    delivered_at = Column(UTCDateTime, nullable=True)
    last_error = Column(String(500), nullable=True)
    # A worker claims a row before sending it (conditional UPDATE), so two workers never send
    # the same notification; the claim lapses at ``claimed_until`` if that worker dies.
    claimed_by = Column(String(64), nullable=True)
    claimed_until = Column(UTCDateTime, nullable=True)


class RateCounter(Base):
    """A fixed-window counter (sign-in attempts, new handoffs per conversation or client).

    Kept in the database so every inbox and action-server process shares it and a restart
    does not reset it. ``key`` never holds personal data: usernames and hashed addresses only.
    """

    __tablename__ = "rate_counters"

    key = Column(String(200), primary_key=True)
    count = Column(Integer, nullable=False, default=0)
    expires_at = Column(UTCDateTime, nullable=False, index=True)


_LIVE_OPEN_CONDITION = text("status IN ('waiting', 'joined', 'handed_back')")


class LiveChat(Base):
    """A visitor's live chat with a care coordinator (docs/live-chat.md: states and who writes).

    Written by the action server (request, cancel, rating) and by the inbox (join, hand back,
    close, time-outs). The visitor's words are not here: Rasa's conversation store holds them
    until a close copies the transcript into the resolved ``handoffs`` record (``handoff_id``).
    """

    __tablename__ = "live_chats"

    id = Column(Integer, primary_key=True)
    reference = Column(String(16), nullable=False, unique=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    status = Column(String(16), nullable=False, default=LIVE_WAITING, index=True)
    reason = Column(String(32), nullable=False)
    topics = Column(EncryptedJSON, nullable=False)
    topic_titles = Column(EncryptedJSON, nullable=True)
    requested_at = Column(UTCDateTime, nullable=False, default=utcnow)
    # When the chat last entered the line (request, re-request, coordinator lost): the wait
    # limit counts from here, the place in line from ``requested_at``.
    queued_at = Column(UTCDateTime, nullable=False, default=utcnow)
    joined_at = Column(UTCDateTime, nullable=True)
    handed_back_at = Column(UTCDateTime, nullable=True)
    closed_at = Column(UTCDateTime, nullable=True)
    timed_out_at = Column(UTCDateTime, nullable=True)
    # When it reached an end state (closed, timed out, cancelled): retention counts from here.
    ended_at = Column(UTCDateTime, nullable=True, index=True)
    coordinator = Column(String(64), nullable=True)
    coordinator_name = Column(String(64), nullable=True)
    # Refreshed by the joined coordinator's chat page; stale means their tab is gone.
    coordinator_seen_at = Column(UTCDateTime, nullable=True)
    alert_at = Column(UTCDateTime, nullable=True)
    rating = Column(Integer, nullable=True)
    rating_comment = Column(EncryptedText, nullable=True)
    rated_at = Column(UTCDateTime, nullable=True)
    handoff_id = Column(Integer, ForeignKey("handoffs.id", ondelete="SET NULL"), nullable=True, index=True)

    audit_events = relationship(
        "LiveChatAudit", back_populates="live_chat", order_by="LiveChatAudit.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        # One open chat per conversation, enforced by the database (two clicks, two processes).
        Index(
            "uq_live_chats_open_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=_LIVE_OPEN_CONDITION,
            postgresql_where=_LIVE_OPEN_CONDITION,
        ),
    )


class LiveChatAudit(Base):
    """Who did what to a live chat, and when; copied to the handoff record at close.
    ``detail`` never holds personal data."""

    __tablename__ = "live_chat_audit_events"

    id = Column(Integer, primary_key=True)
    live_chat_id = Column(
        Integer, ForeignKey("live_chats.id", ondelete="CASCADE"), nullable=False, index=True
    )
    actor = Column(String(64), nullable=False)
    action = Column(String(32), nullable=False)
    at = Column(UTCDateTime, nullable=False, default=utcnow)
    detail = Column(String(500), nullable=True)

    live_chat = relationship("LiveChat", back_populates="audit_events")
