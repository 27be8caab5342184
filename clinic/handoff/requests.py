"""The request store: what the bot's form action calls, and what the inbox works on.

Design choices, and why:

- Idempotent ``create``: chat clients resend, and visitors press the button twice. A
  conversation has at most one open (new or claimed) handoff, enforced by a partial
  unique index, so even two simultaneous submissions yield one record. A submission
  carries a key (conversation + form run): if the action server died after committing,
  the visitor's retry gets the same record back, never a second one or new notifications.
- Rate limits on new records per conversation and per client address, counted in this
  database (``clinic.handoff.limits``), so every action-server process shares them.
- One transaction for the handoff, its audit event and its outbox rows: a
  notification is queued if and only if the request was saved.
- Database failures surface as ``StoreUnavailable`` (``clinic.handoff.database``) so the bot
  can tell the visitor honestly that the request was not saved and give the clinic's phone
  number instead.
- Methods return plain frozen dataclasses, never ORM objects, so callers (Flask views,
  the CLI) cannot accidentally lazy-load or write outside a transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinic.contact import InvalidContact, normalise_email, normalise_phone
from clinic.handoff import limits as counters
from clinic.handoff.accounts import AccountsMixin
from clinic.handoff.crypto import KeyMaterial
from clinic.handoff.database import Database, find_by_reference
from clinic.handoff.errors import (
    AccountError,
    HandoffNotFound,
    InvalidHandoff,
    InvalidTransition,
    StoreUnavailable,
    TooManyRequests,
)
from clinic.handoff.models import (
    CONTACT_METHODS,
    LIVE_ENDED_STATUSES,
    REASONS,
    STATUS_CLAIMED,
    STATUS_NEW,
    STATUS_RESOLVED,
    STATUSES,
    UTC,
    AuditEvent,
    Handoff,
    HandoffNote,
    LiveChat,
    LiveChatAudit,
    OutboxMessage,
    new_reference,
    utcnow,
)
from clinic.handoff.office_hours import OfficeHours, expected_contact
from clinic.handoff.outbox import build_notification, enqueue
from clinic.settings import (
    HandoffLimits,
    Settings,
    load_settings,
)

log = logging.getLogger(__name__)

BOT_ACTOR = "bot"
MAX_NOTE_LENGTH = 5000
_PURGE_BATCH = 500


@dataclass(frozen=True, kw_only=True)
class NewHandoff:
    """What the bot's contact form collected. Times must be timezone-aware.

    ``transcript`` items are ``{"role": "visitor" | "bot", "text": str, "at": ISO 8601}``.
    ``topic_titles`` maps topic ids to the titles the visitor saw (the inbox shows those).
    ``submission_key`` identifies this submission (the same on a retry); ``client_id`` is a
    keyed hash of the visitor's address from the channel, only used for the rate limit.
    """

    conversation_id: str
    name: str
    contact_method: str
    contact_value: str
    best_time: str | None = None
    topic_note: str | None = None
    consent_text: str
    consent_at: datetime
    reason: str
    topics: Sequence[str] = ()
    topic_titles: Mapping[str, str] = field(default_factory=dict)
    transcript: Sequence[Mapping[str, Any]] = ()
    submission_key: str | None = None
    client_id: str | None = None


@dataclass(frozen=True)
class Receipt:
    """What the bot tells the visitor after the request is stored."""

    reference: str
    expected_contact: datetime
    expected_contact_text: str
    created: bool


@dataclass(frozen=True)
class Note:
    author: str
    created_at: datetime
    text: str


@dataclass(frozen=True)
class Audit:
    actor: str
    action: str
    at: datetime
    detail: str | None


@dataclass(frozen=True)
class HandoffSummary:
    """One queue row. Contact fields are filled only when explicitly asked for."""

    reference: str
    created_at: datetime
    status: str
    reason: str
    claimed_by: str | None
    resolved_at: datetime | None
    name: str | None = None
    contact_method: str | None = None
    contact_value: str | None = None


@dataclass(frozen=True)
class HandoffDetail:
    """Everything about one handoff, decrypted, for a signed-in coordinator."""

    reference: str
    conversation_id: str
    created_at: datetime
    status: str
    reason: str
    name: str
    contact_method: str
    contact_value: str
    best_time: str | None
    topic_note: str | None
    consent_text: str
    consent_at: datetime
    topics: list[str]
    topic_titles: dict[str, str]
    transcript: list[dict[str, str]]
    claimed_by: str | None
    claimed_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None
    notes: list[Note] = field(default_factory=list)
    audit: list[Audit] = field(default_factory=list)
    # None: a call-back request; "live_chat": the record of a closed live chat (no contact details).
    kind: str | None = None

    @property
    def topics_seen(self) -> list[str]:
        """The topics as the visitor saw them: their titles (an older record's ids, made readable)."""
        return [self.topic_titles.get(topic) or topic.replace("_", " ") for topic in self.topics]


# --------------------------------------------------------------------------- validation


def _text(value: Any, what: str, *, max_length: int, required: bool = True) -> str | None:
    if value is None:
        if required:
            raise InvalidHandoff(f"{what} is required")
        return None
    if not isinstance(value, str):
        raise InvalidHandoff(f"{what} must be text")
    value = value.strip()
    if not value:
        if required:
            raise InvalidHandoff(f"{what} is required")
        return None
    if len(value) > max_length:
        raise InvalidHandoff(f"{what} is longer than {max_length} characters")
    return value


def _aware(value: Any, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidHandoff(f"{what} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidHandoff(f"{what} must be timezone-aware (e.g. datetime.now(UTC))")
    return value.astimezone(UTC)


def _iso(value: Any, what: str) -> str:
    if isinstance(value, datetime):
        return _aware(value, what).isoformat()
    if isinstance(value, str):
        # Python 3.10's fromisoformat does not accept a trailing "Z" (3.11 does).
        candidate = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
        try:
            datetime.fromisoformat(candidate)
        except ValueError as exc:
            raise InvalidHandoff(f"{what} must be an ISO 8601 time") from exc
        return value
    raise InvalidHandoff(f"{what} must be an ISO 8601 time")


def _transcript(items: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise InvalidHandoff("transcript must be a list of messages")
    result = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise InvalidHandoff(f"transcript[{index}] must be a mapping")
        role = item.get("role")
        if role not in ("visitor", "bot"):
            raise InvalidHandoff(f"transcript[{index}].role must be 'visitor' or 'bot'")
        text = item.get("text")
        if not isinstance(text, str):
            raise InvalidHandoff(f"transcript[{index}].text must be text")
        result.append({"role": role, "text": text, "at": _iso(item.get("at"), f"transcript[{index}].at")})
    return result


def _topics(items: Sequence[str]) -> list[str]:
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise InvalidHandoff("topics must be a list of topic ids")
    topics = []
    for item in items:
        topic = _text(item, "topic id", max_length=100)
        if topic not in topics:
            topics.append(topic)
    return topics


def _topic_titles(titles: Mapping[str, str], topics: list[str]) -> dict[str, str]:
    """The titles of the recorded topics (others are dropped), each checked like any text."""
    if not isinstance(titles, Mapping):
        raise InvalidHandoff("topic_titles must map topic ids to titles")
    found = {
        t: _text(titles[t], "topic title", max_length=200, required=False) for t in topics if t in titles
    }
    return {topic: title for topic, title in found.items() if title}


def _optional_key(value: Any, what: str, max_length: int = 64) -> str | None:
    """An opaque identifier from our own code (a hash): text of sensible length, or None."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise InvalidHandoff(f"{what} must be text of at most {max_length} characters")
    return value.strip()


def _actor(value: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 64:
        raise ValueError("user must be a non-empty name of at most 64 characters")
    return value.strip()


# --------------------------------------------------------------------------- the store


class HandoffStore(Database, AccountsMixin):
    """Visitors' requests, on the handoff database (``clinic.handoff.database``), with the
    coordinator accounts (``clinic.handoff.accounts``); new requests queue their notifications in
    the outbox (``clinic.handoff.outbox``) in the same transaction."""

    def __init__(
        self,
        database_url: str,
        key: KeyMaterial,
        *,
        office_hours: OfficeHours | None = None,
        inbox_base_url: str | None = None,
        channels: Sequence[str] = (),
        default_region: str = "US",
        clock: Callable[[], datetime] = utcnow,
        limits: HandoffLimits | None = None,
    ) -> None:
        if office_hours is None or inbox_base_url is None:
            facts = load_settings(secrets=False)
            office_hours = office_hours or facts.office_hours
            inbox_base_url = inbox_base_url or facts.inbox_base_url
        super().__init__(database_url, key, clock=clock)
        self.office_hours = office_hours
        self.inbox_base_url = inbox_base_url
        self.limits = limits or HandoffLimits()
        self.channels = tuple(channels)
        self.default_region = default_region

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> HandoffStore:
        """The store as configured by the environment (what the bot should use)."""
        settings = settings or load_settings()
        options: dict[str, Any] = {
            "office_hours": settings.office_hours,
            "inbox_base_url": settings.inbox_base_url,
            "channels": settings.notification_channels,
            "limits": settings.limits,
        }
        options.update(overrides)
        return cls(settings.database_url, settings.encryption_key, **options)

    # ----------------------------------------------------------------- creating

    def _validate(self, new: NewHandoff) -> dict[str, Any]:
        method = new.contact_method
        if method not in CONTACT_METHODS:
            raise InvalidHandoff(f"contact_method must be one of {', '.join(CONTACT_METHODS)}")
        raw_contact = _text(new.contact_value, "contact_value", max_length=254)
        assert raw_contact is not None
        try:
            contact = (
                normalise_email(raw_contact)
                if method == "email"
                else normalise_phone(raw_contact, self.default_region)
            )
        except InvalidContact as exc:
            raise InvalidHandoff(f"contact_value is {exc}") from exc
        if new.reason not in REASONS:
            raise InvalidHandoff(f"reason must be one of {', '.join(REASONS)}")
        topics = _topics(new.topics)
        return {
            "conversation_id": _text(new.conversation_id, "conversation_id", max_length=255),
            "name": _text(new.name, "name", max_length=200),
            "contact_method": method,
            "contact_value": contact,
            "best_time": _text(new.best_time, "best_time", max_length=500, required=False),
            "topic_note": _text(new.topic_note, "topic_note", max_length=2000, required=False),
            "consent_text": _text(new.consent_text, "consent_text", max_length=2000),
            "consent_at": _aware(new.consent_at, "consent_at"),
            "reason": new.reason,
            "topics": topics,
            "topic_titles": _topic_titles(new.topic_titles, topics),
            "transcript": _transcript(new.transcript),
            "submission_key": _optional_key(new.submission_key, "submission_key"),
        }

    def _receipt(self, handoff: Handoff, created: bool) -> Receipt:
        expectation = expected_contact(handoff.created_at, self.office_hours)
        return Receipt(
            reference=handoff.reference,
            expected_contact=expectation.at,
            expected_contact_text=expectation.text,
            created=created,
        )

    @staticmethod
    def _open_for(session: Session, conversation_id: str) -> Handoff | None:
        return (
            session.query(Handoff)
            .filter(
                Handoff.conversation_id == conversation_id, Handoff.status.in_((STATUS_NEW, STATUS_CLAIMED))
            )
            .one_or_none()
        )

    @staticmethod
    def _submitted(session: Session, submission_key: str | None) -> Handoff | None:
        if submission_key is None:
            return None
        return session.query(Handoff).filter(Handoff.submission_key == submission_key).one_or_none()

    def create(self, new: NewHandoff) -> Receipt:
        """Store a request (or return the one this submission or conversation already has)
        and queue notifications.

        Raises InvalidHandoff for malformed data, TooManyRequests above the rate limits and
        StoreUnavailable when nothing could be saved.
        """
        values = self._validate(new)
        client_id = _optional_key(new.client_id, "client_id", max_length=256)
        for _ in range(5):
            try:
                with self._transaction() as session:
                    existing = self._submitted(session, values["submission_key"]) or self._open_for(
                        session, values["conversation_id"]
                    )
                    if existing is not None:
                        return self._repeat(session, existing)
                    self._count_new_request(session, values["conversation_id"], client_id)
                    return self._insert(session, values)
            except IntegrityError:
                # A reference collision (astronomically rare) or a simultaneous submission
                # for the same conversation or key: try again, which finds it.
                continue
        raise StoreUnavailable("could not store the handoff after several attempts")

    def _repeat(self, session: Session, existing: Handoff) -> Receipt:
        session.add(
            AuditEvent(
                handoff=existing,
                actor=BOT_ACTOR,
                action="duplicate_request",
                at=self._clock(),
                detail="The visitor submitted the form again; the existing request was kept.",
            )
        )
        return self._receipt(existing, created=False)

    def _count_new_request(self, session: Session, conversation_id: str, client_id: str | None) -> None:
        """Reserve one new request against the limits (undone if the transaction fails)."""
        limits, now = self.limits, self._clock()
        key = counters.counter_key("handoff-conversation", conversation_id)
        if not counters.reserve(session, key, limits.per_conversation, limits.window, now):
            log.warning("handoff refused: limit per conversation reached")
            raise TooManyRequests("this conversation has reached the limit of new requests")
        if client_id is not None:
            key = counters.counter_key("handoff-client", client_id)
            if not counters.reserve(session, key, limits.per_client, limits.window, now):
                log.warning("handoff refused: limit per client address reached")
                raise TooManyRequests("this client address has reached the limit of new requests")

    def find_submission(self, submission_key: str) -> Receipt | None:
        """The request a submission created, if it reached the database (e.g. before a crash)."""
        key = _optional_key(submission_key, "submission_key")
        with self._transaction() as session:
            handoff = self._submitted(session, key)
            return None if handoff is None else self._receipt(handoff, created=False)

    def _insert(self, session: Session, values: dict[str, Any]) -> Receipt:
        now = self._clock()
        handoff = Handoff(reference=new_reference(), created_at=now, status=STATUS_NEW, **values)
        session.add(handoff)
        session.add(
            AuditEvent(
                handoff=handoff,
                actor=BOT_ACTOR,
                action="created",
                at=now,
                detail=f"reason: {values['reason']}",
            )
        )
        session.flush()
        notification = build_notification(handoff.reference, handoff.reason, now, self.inbox_base_url)
        enqueue(session, handoff.id, notification, self.channels, now)  # same transaction as the request
        log.info("handoff %s created (reason %s)", handoff.reference, handoff.reason)
        return self._receipt(handoff, created=True)

    # ----------------------------------------------------------------- reading

    def list(self, status: str | None = None, *, include_contact: bool = False) -> list[HandoffSummary]:
        """Handoffs, newest first; ``status`` None or 'all' lists every status."""
        if status not in (None, "all") and status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)} or all")
        columns = [
            Handoff.reference,
            Handoff.created_at,
            Handoff.status,
            Handoff.reason,
            Handoff.claimed_by,
            Handoff.resolved_at,
        ]
        if include_contact:
            columns += [Handoff.name, Handoff.contact_method, Handoff.contact_value]
        with self._transaction() as session:
            query = session.query(*columns)
            if status not in (None, "all"):
                query = query.filter(Handoff.status == status)
            rows = query.order_by(Handoff.created_at.desc(), Handoff.id.desc()).all()
        return [HandoffSummary(*row) for row in rows]

    def counts(self) -> dict[str, int]:
        """Number of handoffs per status (for the queue's filter labels)."""
        with self._transaction() as session:
            rows = session.query(Handoff.status, func.count(Handoff.id)).group_by(Handoff.status).all()
        counts = {status: 0 for status in STATUSES}
        counts.update({status: int(number) for status, number in rows})
        counts["all"] = sum(counts[status] for status in STATUSES)
        return counts

    def get(self, reference: str, *, viewer: str | None = None) -> HandoffDetail:
        """One handoff with notes and audit log; records a 'viewed' event for ``viewer``."""
        with self._transaction() as session:
            handoff = self._find(session, reference)
            if viewer is not None:
                session.add(
                    AuditEvent(handoff=handoff, actor=_actor(viewer), action="viewed", at=self._clock())
                )
                session.flush()
            return self._detail(handoff)

    @staticmethod
    def _find(session: Session, reference: str) -> Handoff:
        return find_by_reference(session, Handoff, reference, HandoffNotFound)

    @staticmethod
    def _detail(handoff: Handoff) -> HandoffDetail:
        return HandoffDetail(
            reference=handoff.reference,
            conversation_id=handoff.conversation_id,
            created_at=handoff.created_at,
            status=handoff.status,
            reason=handoff.reason,
            name=handoff.name,
            contact_method=handoff.contact_method,
            contact_value=handoff.contact_value,
            best_time=handoff.best_time,
            topic_note=handoff.topic_note,
            consent_text=handoff.consent_text,
            consent_at=handoff.consent_at,
            topics=list(handoff.topics or []),
            topic_titles=dict(handoff.topic_titles or {}),
            transcript=list(handoff.transcript or []),
            claimed_by=handoff.claimed_by,
            claimed_at=handoff.claimed_at,
            resolved_by=handoff.resolved_by,
            resolved_at=handoff.resolved_at,
            notes=[Note(n.author, n.created_at, n.text) for n in handoff.notes],
            audit=[Audit(a.actor, a.action, a.at, a.detail) for a in handoff.audit_events],
            kind=handoff.kind,
        )

    # ----------------------------------------------------------------- coordinator actions

    def _transition(self, reference: str, user: str, *, to: str) -> HandoffDetail:
        actor = _actor(user)
        required = STATUS_NEW if to == STATUS_CLAIMED else STATUS_CLAIMED
        with self._transaction() as session:
            handoff = self._find(session, reference)
            now = self._clock()
            changes: dict[Any, Any] = {Handoff.status: to}
            conditions = [Handoff.id == handoff.id, Handoff.status == required]
            if to == STATUS_CLAIMED:
                changes.update({Handoff.claimed_by: actor, Handoff.claimed_at: now})
            else:
                changes.update({Handoff.resolved_by: actor, Handoff.resolved_at: now})
                # Only the coordinator who took the request on can close it.
                conditions.append(Handoff.claimed_by == actor)
            # Conditional UPDATE: of two coordinators clicking at once, exactly one wins.
            updated = session.query(Handoff).filter(*conditions).update(changes, synchronize_session=False)
            if updated != 1:
                session.refresh(handoff)
                raise InvalidTransition(_transition_error(handoff, to))
            session.add(
                AuditEvent(
                    handoff_id=handoff.id, actor=actor, action=to, at=now, detail=f"status {required} -> {to}"
                )
            )
            session.flush()
            session.refresh(handoff)
            return self._detail(handoff)

    def claim(self, reference: str, user: str) -> HandoffDetail:
        """new -> claimed: ``user`` takes responsibility for contacting the visitor."""
        return self._transition(reference, user, to=STATUS_CLAIMED)

    def resolve(self, reference: str, user: str) -> HandoffDetail:
        """claimed -> resolved by the coordinator who claimed it: the visitor has been
        contacted (or could not be)."""
        return self._transition(reference, user, to=STATUS_RESOLVED)

    def reassign(self, reference: str, to_user: str, actor: str) -> HandoffDetail:
        """Hand a claimed request to another active coordinator (an administrator's job, e.g.
        when the claimer has left); audited like every other change."""
        actor_name, new_owner = _actor(actor), _actor(to_user)
        if not self.is_active_coordinator(new_owner):
            raise AccountError(f"no active coordinator named {new_owner!r}")
        with self._transaction() as session:
            handoff = self._find(session, reference)
            previous = handoff.claimed_by
            updated = (
                session.query(Handoff)
                .filter(
                    Handoff.id == handoff.id, Handoff.status == STATUS_CLAIMED, Handoff.claimed_by == previous
                )
                .update({Handoff.claimed_by: new_owner}, synchronize_session=False)
            )
            if updated != 1:
                raise InvalidTransition(
                    f"{handoff.reference} is not claimed, so there is nothing to reassign"
                )
            session.add(
                AuditEvent(
                    handoff_id=handoff.id,
                    actor=actor_name,
                    action="reassigned",
                    at=self._clock(),
                    detail=f"claimed by {previous} -> {new_owner}",
                )
            )
            session.flush()
            session.refresh(handoff)
            return self._detail(handoff)

    def add_note(self, reference: str, user: str, text: str) -> HandoffDetail:
        """Attach an encrypted coordinator note; allowed in any status."""
        actor = _actor(user)
        body = (text or "").strip()
        if not body:
            raise ValueError("a note cannot be empty")
        if len(body) > MAX_NOTE_LENGTH:
            raise ValueError(f"a note can be at most {MAX_NOTE_LENGTH} characters")
        with self._transaction() as session:
            handoff = self._find(session, reference)
            now = self._clock()
            session.add(HandoffNote(handoff_id=handoff.id, author=actor, created_at=now, text=body))
            session.add(AuditEvent(handoff_id=handoff.id, actor=actor, action="note_added", at=now))
            session.flush()
            session.refresh(handoff)
            return self._detail(handoff)

    def record_event(self, reference: str, actor: str, action: str, detail: str | None = None) -> None:
        """Add an audit event (e.g. contact details shown on the command line)."""
        with self._transaction() as session:
            handoff = self._find(session, reference)
            session.add(
                AuditEvent(
                    handoff_id=handoff.id, actor=_actor(actor), action=action, at=self._clock(), detail=detail
                )
            )

    # ----------------------------------------------------------------- retention

    def purge_resolved(self, older_than_days: int) -> int:
        """Delete handoffs resolved more than N days ago, with notes, audit and outbox rows."""
        if older_than_days < 0:
            raise ValueError("older_than_days cannot be negative")
        cutoff = self._clock() - timedelta(days=older_than_days)
        with self._transaction() as session:
            ids = [
                row_id
                for (row_id,) in session.query(Handoff.id).filter(
                    Handoff.status == STATUS_RESOLVED, Handoff.resolved_at < cutoff
                )
            ]
            for start in range(0, len(ids), _PURGE_BATCH):
                batch = ids[start : start + _PURGE_BATCH]
                for model in (OutboxMessage, HandoffNote, AuditEvent):
                    session.query(model).filter(model.handoff_id.in_(batch)).delete(synchronize_session=False)
                _delete_live_chats(session, LiveChat.handoff_id.in_(batch))
                session.query(Handoff).filter(Handoff.id.in_(batch)).delete(synchronize_session=False)
            # Live chats that ended without a record (timed out, cancelled) follow the same rule.
            _delete_live_chats(
                session,
                LiveChat.status.in_(LIVE_ENDED_STATUSES),
                LiveChat.handoff_id.is_(None),
                LiveChat.ended_at < cutoff,
            )
        if ids:
            log.info("purged %d resolved handoff(s) older than %d days", len(ids), older_than_days)
        return len(ids)


def _delete_live_chats(session: Session, *conditions: Any) -> None:
    """Live chats (docs/live-chat.md) matching ``conditions``, with their audit rows."""
    ids = [row_id for (row_id,) in session.query(LiveChat.id).filter(*conditions)]
    for start in range(0, len(ids), _PURGE_BATCH):
        batch = ids[start : start + _PURGE_BATCH]
        session.query(LiveChatAudit).filter(LiveChatAudit.live_chat_id.in_(batch)).delete(
            synchronize_session=False
        )
        session.query(LiveChat).filter(LiveChat.id.in_(batch)).delete(synchronize_session=False)


def _transition_error(handoff: Handoff, to: str) -> str:
    ref = handoff.reference
    if to == STATUS_CLAIMED:
        if handoff.status == STATUS_CLAIMED:
            return f"{ref} is already claimed by {handoff.claimed_by}"
        return f"{ref} is already resolved and cannot be claimed"
    if handoff.status == STATUS_NEW:
        return f"{ref} must be claimed before it can be resolved"
    if handoff.status == STATUS_CLAIMED:
        return f"{ref} is claimed by {handoff.claimed_by}: only {handoff.claimed_by} can mark it as resolved"
    return f"{ref} is already resolved"
