"""The live chats' state in the handoff database, shared by the action server and the inbox.

Why it looks like this (docs/live-chat.md has the states):

- The action server (Python 3.10) and every inbox process write the same rows, so each change is
  a conditional UPDATE ("... WHERE status = 'waiting'"): of two coordinators pressing Join, or
  two inbox watchdogs timing out the same chat, exactly one wins and the other is told.
- One open chat per conversation is enforced by a partial unique index, so a visitor pressing
  the button twice (or two action-server processes) gets one place in line.
- Every state change writes a ``LiveChatAudit`` row without personal data; at close they are
  copied to the resolved ``handoffs`` record (``kind = 'live_chat'``) the chat leaves, which then
  follows the call-back requests' encryption, retention and audit rules.
- Methods return frozen dataclasses, never ORM objects (as ``clinic.handoff.requests`` does).
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

from clinic.handoff.crypto import KeyMaterial
from clinic.handoff.database import Database, find_by_reference
from clinic.handoff.errors import HandoffNotFound, InvalidTransition, StoreUnavailable
from clinic.handoff.models import (
    KIND_LIVE_CHAT,
    LIVE_CANCELLED,
    LIVE_CLOSED,
    LIVE_ENDED_STATUSES,
    LIVE_HANDED_BACK,
    LIVE_JOINED,
    LIVE_OPEN_STATUSES,
    LIVE_TIMED_OUT,
    LIVE_WAITING,
    REASONS,
    STATUS_RESOLVED,
    AuditEvent,
    Coordinator,
    Handoff,
    HandoffNote,
    LiveChat,
    LiveChatAudit,
    new_reference,
    normalise_reference,
    utcnow,
)
from clinic.handoff.office_hours import OfficeHours
from clinic.settings import LiveChatSettings, Settings, load_settings

log = logging.getLogger(__name__)

BOT_ACTOR = "bot"
SYSTEM_ACTOR = "inbox"
MAX_COMMENT_LENGTH = 1000
MAX_NOTE_LENGTH = 5000
MAX_DISPLAY_NAME = 40
RATING_WINDOW = timedelta(hours=24)
# What the record says instead of consent to be contacted: the visitor gave no contact details.
LIVE_CHAT_CONSENT = "Live chat in the website's chat window: no contact details were collected."


class LiveChatNotFound(HandoffNotFound):
    """No live chat with that reference."""


class ChatTaken(InvalidTransition):
    """Another coordinator has this chat (``holder`` says who, for the page)."""

    def __init__(self, message: str, holder: str | None) -> None:
        super().__init__(message)
        self.holder = holder


class NotYourChat(InvalidTransition):
    """Only the coordinator who joined a chat may write into it, hand it back or close it."""


@dataclass(frozen=True)
class Ticket:
    """What the visitor is told after asking for a live chat. ``position`` is their 1-based
    place in line, or 0 when a coordinator is already in the chat."""

    reference: str
    position: int
    created: bool


@dataclass(frozen=True)
class LiveChatView:
    """One live chat as the inbox shows it (topic titles are what the visitor saw)."""

    reference: str
    conversation_id: str
    status: str
    reason: str
    topics: list[str]
    topic_titles: dict[str, str]
    requested_at: datetime
    queued_at: datetime
    joined_at: datetime | None
    ended_at: datetime | None
    coordinator: str | None
    coordinator_name: str | None
    alert_at: datetime | None
    rating: int | None
    rating_comment: str | None
    handoff_reference: str | None = None
    position: int | None = None

    @property
    def topics_seen(self) -> list[str]:
        return [self.topic_titles.get(topic) or topic.replace("_", " ") for topic in self.topics]

    @property
    def is_open(self) -> bool:
        return self.status in LIVE_OPEN_STATUSES


@dataclass(frozen=True)
class Moved:
    """A chat the watchdog moved (timed out, or back in line): what it tells Rasa."""

    reference: str
    conversation_id: str
    coordinator_name: str | None = None
    position: int | None = None


@dataclass(frozen=True)
class Presence:
    """A coordinator's live-chat settings as the Live chat page shows them."""

    username: str
    name: str
    available: bool


@dataclass(frozen=True)
class RatingSummary:
    average: float | None
    count: int


@dataclass(frozen=True)
class LiveChatFacts:
    """The live chat behind a resolved handoff record (shown instead of contact details)."""

    reference: str
    coordinator: str | None
    coordinator_name: str | None
    requested_at: datetime
    joined_at: datetime | None
    closed_at: datetime | None
    alert_at: datetime | None
    rating: int | None
    rating_comment: str | None
    rated_at: datetime | None
    waited: timedelta | None = field(default=None)


def _actor(value: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 64:
        raise ValueError("user must be a non-empty name of at most 64 characters")
    return value.strip()


def _clean_topics(topics: Sequence[str], titles: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    if isinstance(topics, (str, bytes)):
        raise ValueError("topics must be a list of topic ids")
    kept: list[str] = []
    for topic in topics or ():
        if isinstance(topic, str) and topic.strip() and len(topic) <= 100 and topic.strip() not in kept:
            kept.append(topic.strip())
    shown = {
        topic: str(titles[topic]).strip()[:200]
        for topic in kept
        if isinstance(titles, Mapping) and isinstance(titles.get(topic), str) and titles[topic].strip()
    }
    return kept, shown


class LiveChatStore(Database):
    """Live chats on the handoff database (``clinic.handoff.database``: engine, key, schema)."""

    def __init__(
        self,
        database_url: str,
        key: KeyMaterial,
        *,
        office_hours: OfficeHours | None = None,
        live_chat: LiveChatSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if office_hours is None:
            office_hours = load_settings(secrets=False).office_hours
        super().__init__(database_url, key, clock=clock)
        self.office_hours = office_hours
        self.settings = live_chat or LiveChatSettings()

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> LiveChatStore:
        """The store as configured by the environment (the action server and the inbox)."""
        settings = settings or load_settings()
        options: dict[str, Any] = {"office_hours": settings.office_hours, "live_chat": settings.live_chat}
        options.update(overrides)
        return cls(settings.database_url, settings.encryption_key, **options)

    # ----------------------------------------------------------------- helpers

    def _now(self, now: datetime | None) -> datetime:
        return now if now is not None else self._clock()

    def _office_open(self, now: datetime) -> bool:
        hours = self.office_hours
        local = now.astimezone(hours.tz)
        return (
            hours.is_open_day(local.date()) and hours.open <= local.time().replace(tzinfo=None) < hours.close
        )

    @staticmethod
    def _audit(
        session: Session, chat: LiveChat, actor: str, action: str, at: datetime, detail: str | None = None
    ) -> None:
        session.add(LiveChatAudit(live_chat_id=chat.id, actor=actor, action=action, at=at, detail=detail))

    @staticmethod
    def _open_for(session: Session, conversation_id: str) -> LiveChat | None:
        return (
            session.query(LiveChat)
            .filter(LiveChat.conversation_id == conversation_id, LiveChat.status.in_(LIVE_OPEN_STATUSES))
            .one_or_none()
        )

    @staticmethod
    def _find(session: Session, reference: str) -> LiveChat:
        return find_by_reference(session, LiveChat, reference, LiveChatNotFound)

    @staticmethod
    def _position(session: Session, chat: LiveChat) -> int:
        """1-based place among waiting chats by when they asked (ties: by id)."""
        if chat.status != LIVE_WAITING:
            return 0
        ahead = (
            session.query(func.count(LiveChat.id))
            .filter(
                LiveChat.status == LIVE_WAITING,
                (LiveChat.requested_at < chat.requested_at)
                | ((LiveChat.requested_at == chat.requested_at) & (LiveChat.id < chat.id)),
            )
            .scalar()
        )
        return int(ahead or 0) + 1

    @staticmethod
    def _view(session: Session, chat: LiveChat, position: int | None = None) -> LiveChatView:
        handoff_reference = None
        if chat.handoff_id is not None:
            handoff_reference = (
                session.query(Handoff.reference).filter(Handoff.id == chat.handoff_id).scalar()
            )
        return LiveChatView(
            reference=chat.reference,
            conversation_id=chat.conversation_id,
            status=chat.status,
            reason=chat.reason,
            topics=list(chat.topics or []),
            topic_titles=dict(chat.topic_titles or {}),
            requested_at=chat.requested_at,
            queued_at=chat.queued_at,
            joined_at=chat.joined_at,
            ended_at=chat.ended_at,
            coordinator=chat.coordinator,
            coordinator_name=chat.coordinator_name,
            alert_at=chat.alert_at,
            rating=chat.rating,
            rating_comment=chat.rating_comment,
            handoff_reference=handoff_reference,
            position=position,
        )

    def _update(
        self, session: Session, chat: LiveChat, conditions: list[Any], changes: dict[Any, Any]
    ) -> bool:
        """Conditional UPDATE of one chat; True when this call made the change."""
        updated = (
            session.query(LiveChat)
            .filter(LiveChat.id == chat.id, *conditions)
            .update(changes, synchronize_session=False)
        )
        if updated == 1:
            session.refresh(chat)
        return updated == 1

    # ----------------------------------------------------------------- the action server's side

    def available_now(self, now: datetime | None = None) -> bool:
        """True when someone can answer a chat now: an active coordinator who set themselves
        available and whose inbox page checked in within ``presence_seconds``, in office hours."""
        now = self._now(now)
        if not self._office_open(now):
            return False
        cutoff = now - self.settings.presence
        with self._transaction() as session:
            found = (
                session.query(Coordinator.id)
                .filter(
                    Coordinator.active.is_(True),
                    Coordinator.available.is_(True),
                    Coordinator.seen_at >= cutoff,
                )
                .first()
            )
        return found is not None

    def request(
        self, conversation_id: str, reason: str, topics: list[str], topic_titles: dict[str, str]
    ) -> Ticket:
        """Put the conversation in line (idempotent: its open chat is returned, created=False).

        A chat a coordinator handed back goes back in line when the visitor asks again.
        Raises ValueError for a bad reason or conversation id, StoreUnavailable when the
        database cannot be reached."""
        if not isinstance(conversation_id, str) or not conversation_id.strip() or len(conversation_id) > 255:
            raise ValueError("conversation_id must be text of at most 255 characters")
        if reason not in REASONS:
            raise ValueError(f"reason must be one of {', '.join(REASONS)}")
        kept, titles = _clean_topics(topics, topic_titles or {})
        for _ in range(5):
            try:
                with self._transaction() as session:
                    now = self._clock()
                    existing = self._open_for(session, conversation_id)
                    if existing is not None:
                        if existing.status == LIVE_HANDED_BACK and self._update(
                            session,
                            existing,
                            [LiveChat.status == LIVE_HANDED_BACK],
                            {LiveChat.status: LIVE_WAITING, LiveChat.queued_at: now},
                        ):
                            self._audit(
                                session, existing, BOT_ACTOR, "requeued", now, "handed_back -> waiting"
                            )
                        return Ticket(existing.reference, self._position(session, existing), created=False)
                    chat = LiveChat(
                        reference=new_reference(),
                        conversation_id=conversation_id,
                        status=LIVE_WAITING,
                        reason=reason,
                        topics=kept,
                        topic_titles=titles,
                        requested_at=now,
                        queued_at=now,
                    )
                    session.add(chat)
                    session.flush()
                    self._audit(session, chat, BOT_ACTOR, "requested", now, f"reason: {reason}")
                    position = self._position(session, chat)
                    log.info("live chat %s requested (reason %s)", chat.reference, reason)
                    return Ticket(chat.reference, position, created=True)
            except IntegrityError:
                continue  # a simultaneous request for this conversation (or a reference clash)
        raise StoreUnavailable("could not store the live chat request after several attempts")

    def position(self, conversation_id: str) -> int | None:
        """The visitor's place in line; 0 when a coordinator is in the chat, None without an
        open chat (or a handed-back one)."""
        with self._transaction() as session:
            chat = self._open_for(session, conversation_id)
            if chat is None or chat.status == LIVE_HANDED_BACK:
                return None
            return self._position(session, chat)

    def cancel(self, conversation_id: str) -> bool:
        """The visitor stopped waiting: waiting -> cancelled. False when not waiting."""
        with self._transaction() as session:
            chat = self._open_for(session, conversation_id)
            if chat is None:
                return False
            now = self._clock()
            if not self._update(
                session,
                chat,
                [LiveChat.status == LIVE_WAITING],
                {LiveChat.status: LIVE_CANCELLED, LiveChat.ended_at: now},
            ):
                return False
            self._audit(session, chat, BOT_ACTOR, "cancelled", now, "waiting -> cancelled")
            return True

    def rate(self, conversation_id: str, rating: int, comment: str | None) -> bool:
        """Keep the visitor's rating (1..5, optional comment) on the latest closed, unrated chat
        of the conversation closed within 24 hours. False (nothing saved) for a rating outside
        1..5 or when there is no such chat."""
        try:
            value = int(rating)
        except (TypeError, ValueError):
            return False
        if isinstance(rating, bool) or not 1 <= value <= 5:
            return False
        text = comment.strip()[:MAX_COMMENT_LENGTH] if isinstance(comment, str) else ""
        with self._transaction() as session:
            now = self._clock()
            chat = (
                session.query(LiveChat)
                .filter(
                    LiveChat.conversation_id == conversation_id,
                    LiveChat.status == LIVE_CLOSED,
                    LiveChat.rating.is_(None),
                    LiveChat.closed_at >= now - RATING_WINDOW,
                )
                .order_by(LiveChat.closed_at.desc(), LiveChat.id.desc())
                .first()
            )
            if chat is None or not self._update(
                session,
                chat,
                [LiveChat.rating.is_(None)],
                {LiveChat.rating: value, LiveChat.rating_comment: text or None, LiveChat.rated_at: now},
            ):
                return False
            detail = f"rating {value}" + (" with a comment" if text else "")
            self._audit(session, chat, BOT_ACTOR, "rated", now, detail)
            if chat.handoff_id is not None:
                session.add(
                    AuditEvent(
                        handoff_id=chat.handoff_id, actor=BOT_ACTOR, action="rated", at=now, detail=detail
                    )
                )
            return True

    # ----------------------------------------------------------------- coordinators' presence

    def presence(self, username: str) -> Presence:
        with self._transaction() as session:
            account = session.query(Coordinator).filter(Coordinator.username == username).one_or_none()
            if account is None:
                raise ValueError(f"no coordinator named {username!r}")
            return Presence(account.username, account.shown_name, bool(account.available))

    def heartbeat(self, username: str, reference: str | None = None, now: datetime | None = None) -> None:
        """An inbox page of ``username`` is open (and, with ``reference``, their chat page):
        refresh the presence the offer and the watchdog go by."""
        now = self._now(now)
        with self._transaction() as session:
            session.query(Coordinator).filter(Coordinator.username == username).update(
                {Coordinator.seen_at: now}, synchronize_session=False
            )
            if reference:
                session.query(LiveChat).filter(
                    LiveChat.reference == normalise_reference(reference),
                    LiveChat.status == LIVE_JOINED,
                    LiveChat.coordinator == username,
                ).update({LiveChat.coordinator_seen_at: now}, synchronize_session=False)

    def set_available(self, username: str, available: bool, now: datetime | None = None) -> Presence:
        """Available or away; counts as a check-in too (the toggle is on an open page)."""
        now = self._now(now)
        with self._transaction() as session:
            updated = (
                session.query(Coordinator)
                .filter(Coordinator.username == username)
                .update(
                    {Coordinator.available: bool(available), Coordinator.seen_at: now},
                    synchronize_session=False,
                )
            )
            if updated != 1:
                raise ValueError(f"no coordinator named {username!r}")
        log.info("coordinator %s is %s for live chat", username, "available" if available else "away")
        return self.presence(username)

    def set_display_name(self, username: str, name: str) -> Presence:
        """The name visitors see ("Casey (care coordinator) joined the chat"); empty resets it."""
        cleaned = " ".join((name or "").split())
        if len(cleaned) > MAX_DISPLAY_NAME:
            raise ValueError(f"a display name can be at most {MAX_DISPLAY_NAME} characters")
        with self._transaction() as session:
            session.query(Coordinator).filter(Coordinator.username == username).update(
                {Coordinator.display_name: cleaned or None}, synchronize_session=False
            )
        return self.presence(username)

    # ----------------------------------------------------------------- the inbox's queue

    def queue(self) -> list[LiveChatView]:
        """Open chats, oldest request first, with each waiting chat's place in line."""
        with self._transaction() as session:
            chats = (
                session.query(LiveChat)
                .filter(LiveChat.status.in_(LIVE_OPEN_STATUSES))
                .order_by(LiveChat.requested_at, LiveChat.id)
                .all()
            )
            result, place = [], 0
            for chat in chats:
                if chat.status == LIVE_WAITING:
                    place += 1
                result.append(self._view(session, chat, place if chat.status == LIVE_WAITING else None))
            return result

    def get(self, reference: str) -> LiveChatView:
        with self._transaction() as session:
            chat = self._find(session, reference)
            return self._view(session, chat, self._position(session, chat) or None)

    def open_chat(self, conversation_id: str) -> LiveChatView | None:
        """The conversation's open chat (the feed keeps only those conversations' events)."""
        with self._transaction() as session:
            chat = self._open_for(session, conversation_id)
            return None if chat is None else self._view(session, chat)

    def mark_alert(self, conversation_id: str, at: datetime | None = None) -> str | None:
        """A safety reply went out in an open chat: flag it. Returns the chat's reference."""
        at = self._now(at)
        with self._transaction() as session:
            chat = self._open_for(session, conversation_id)
            if chat is None:
                return None
            chat.alert_at = at
            self._audit(session, chat, SYSTEM_ACTOR, "safety_alert", at, "the safety reply was sent")
            return str(chat.reference)

    def rating_summary(self) -> RatingSummary:
        with self._transaction() as session:
            average, count = session.query(func.avg(LiveChat.rating), func.count(LiveChat.rating)).one()
        return RatingSummary(None if not count else round(float(average), 1), int(count or 0))

    def facts_for_handoff(self, handoff_reference: str) -> LiveChatFacts | None:
        """The live chat a resolved record came from (None for a call-back request)."""
        with self._transaction() as session:
            chat = (
                session.query(LiveChat)
                .join(Handoff, Handoff.id == LiveChat.handoff_id)
                .filter(Handoff.reference == normalise_reference(handoff_reference or ""))
                .one_or_none()
            )
            if chat is None:
                return None
            return LiveChatFacts(
                reference=chat.reference,
                coordinator=chat.coordinator,
                coordinator_name=chat.coordinator_name,
                requested_at=chat.requested_at,
                joined_at=chat.joined_at,
                closed_at=chat.closed_at,
                alert_at=chat.alert_at,
                rating=chat.rating,
                rating_comment=chat.rating_comment,
                rated_at=chat.rated_at,
                waited=(chat.joined_at - chat.requested_at) if chat.joined_at else None,
            )

    # ----------------------------------------------------------------- coordinators' actions

    def join(self, reference: str, username: str, now: datetime | None = None) -> LiveChatView:
        """waiting (or handed back) -> joined by ``username``. Raises ChatTaken naming who has
        it when another coordinator got there first, InvalidTransition for an ended chat."""
        actor = _actor(username)
        now = self._now(now)
        with self._transaction() as session:
            chat = self._find(session, reference)
            account = session.query(Coordinator).filter(Coordinator.username == actor).one_or_none()
            name = account.shown_name if account is not None else actor
            before = chat.status
            won = self._update(
                session,
                chat,
                [LiveChat.status.in_((LIVE_WAITING, LIVE_HANDED_BACK))],
                {
                    LiveChat.status: LIVE_JOINED,
                    LiveChat.coordinator: actor,
                    LiveChat.coordinator_name: name,
                    LiveChat.joined_at: now,
                    LiveChat.coordinator_seen_at: now,
                },
            )
            if not won:
                session.refresh(chat)
                if chat.status == LIVE_JOINED:
                    if chat.coordinator == actor:
                        return self._view(session, chat)
                    raise ChatTaken(
                        f"{chat.coordinator_name or chat.coordinator} has already joined this chat",
                        chat.coordinator_name or chat.coordinator,
                    )
                raise InvalidTransition(f"this chat has ended ({chat.status.replace('_', ' ')})")
            self._audit(session, chat, actor, "joined", now, f"{before} -> joined")
            return self._view(session, chat)

    def unjoin(self, reference: str, username: str, now: datetime | None = None) -> None:
        """Undo a join the visitor was never told about (Rasa could not be reached): back in
        line, as if the coordinator had not pressed Join."""
        actor = _actor(username)
        now = self._now(now)
        with self._transaction() as session:
            chat = self._find(session, reference)
            if self._update(
                session,
                chat,
                [LiveChat.status == LIVE_JOINED, LiveChat.coordinator == actor],
                {LiveChat.status: LIVE_WAITING},
            ):
                self._audit(
                    session, chat, actor, "join_failed", now, "joined -> waiting (assistant unreachable)"
                )

    def record_view(self, reference: str, username: str) -> None:
        """A coordinator opened the chat (and so read the visitor's words): audited."""
        actor = _actor(username)
        with self._transaction() as session:
            chat = self._find(session, reference)
            self._audit(session, chat, actor, "viewed", self._clock())

    def require_joined(self, reference: str, username: str) -> LiveChatView:
        """The chat, if ``username`` is the coordinator in it; NotYourChat otherwise. The inbox
        checks this before anything it sends to Rasa in the coordinator's name."""
        with self._transaction() as session:
            chat = self._find(session, reference)
            if chat.status != LIVE_JOINED or chat.coordinator != username:
                raise NotYourChat(_not_yours(chat, username))
            return self._view(session, chat)

    def hand_back(self, reference: str, username: str, now: datetime | None = None) -> LiveChatView:
        """joined -> handed_back: the assistant answers again; the chat stays open to be closed
        (or joined again)."""
        actor = _actor(username)
        now = self._now(now)
        with self._transaction() as session:
            chat = self._find(session, reference)
            if not self._update(
                session,
                chat,
                [LiveChat.status == LIVE_JOINED, LiveChat.coordinator == actor],
                {LiveChat.status: LIVE_HANDED_BACK, LiveChat.handed_back_at: now},
            ):
                raise NotYourChat(_not_yours(chat, actor))
            self._audit(session, chat, actor, "handed_back", now, "joined -> handed_back")
            return self._view(session, chat)

    def check_can_close(self, reference: str, username: str) -> LiveChatView:
        """The joined coordinator closes a joined chat; any coordinator a handed-back one."""
        with self._transaction() as session:
            chat = self._find(session, reference)
            if not _may_close(chat, username):
                raise NotYourChat(_not_yours(chat, username))
            return self._view(session, chat)

    def close_chat(
        self,
        reference: str,
        username: str,
        transcript: Sequence[Mapping[str, Any]],
        note: str | None = None,
        now: datetime | None = None,
    ) -> LiveChatView:
        """joined/handed_back -> closed, and the resolved handoff record (kind 'live_chat') with
        the transcript, the coordinator, the times, the note and the chat's audit trail, in one
        transaction. ``transcript`` items: {"role", "text", "at", "name"?} (rasa_api.transcript)."""
        actor = _actor(username)
        now = self._now(now)
        body = (note or "").strip()
        if len(body) > MAX_NOTE_LENGTH:
            raise ValueError(f"a note can be at most {MAX_NOTE_LENGTH} characters")
        lines = [_transcript_line(item) for item in transcript]
        with self._transaction() as session:
            chat = self._find(session, reference)
            before = chat.status
            condition = ((LiveChat.status == LIVE_JOINED) & (LiveChat.coordinator == actor)) | (
                LiveChat.status == LIVE_HANDED_BACK
            )
            if not self._update(
                session,
                chat,
                [condition],
                {LiveChat.status: LIVE_CLOSED, LiveChat.closed_at: now, LiveChat.ended_at: now},
            ):
                raise NotYourChat(_not_yours(chat, actor))
            handoff = Handoff(
                reference=new_reference(),
                conversation_id=chat.conversation_id,
                created_at=chat.requested_at,
                kind=KIND_LIVE_CHAT,
                name="",
                contact_method=KIND_LIVE_CHAT,
                contact_value="",
                consent_text=LIVE_CHAT_CONSENT,
                consent_at=chat.requested_at,
                reason=chat.reason,
                topics=list(chat.topics or []),
                topic_titles=dict(chat.topic_titles or {}),
                transcript=lines,
                status=STATUS_RESOLVED,
                claimed_by=chat.coordinator or actor,
                claimed_at=chat.joined_at or now,
                resolved_by=actor,
                resolved_at=now,
                submission_key=f"live-chat:{chat.reference}",
            )
            session.add(handoff)
            session.flush()
            self._audit(session, chat, actor, "closed", now, f"{before} -> closed")
            session.flush()
            for event in (
                session.query(LiveChatAudit)
                .filter(LiveChatAudit.live_chat_id == chat.id)
                .order_by(LiveChatAudit.id)
            ):
                session.add(
                    AuditEvent(
                        handoff_id=handoff.id,
                        actor=event.actor,
                        action=f"live_{event.action}"[:32],
                        at=event.at,
                        detail=event.detail,
                    )
                )
            session.add(
                AuditEvent(
                    handoff_id=handoff.id, actor=actor, action="resolved", at=now, detail="live chat closed"
                )
            )
            if body:
                session.add(HandoffNote(handoff_id=handoff.id, author=actor, created_at=now, text=body))
            chat.handoff_id = handoff.id
            session.flush()
            log.info("live chat %s closed as record %s", chat.reference, handoff.reference)
            return self._view(session, chat)

    # ----------------------------------------------------------------- the watchdog's jobs

    def time_out_waiting(self, now: datetime | None = None) -> list[Moved]:
        """Waiting chats past the wait limit -> timed_out (each won by one process only)."""
        now = self._now(now)
        cutoff = now - self.settings.wait_limit
        moved = []
        with self._transaction() as session:
            for chat in (
                session.query(LiveChat)
                .filter(LiveChat.status == LIVE_WAITING, LiveChat.queued_at <= cutoff)
                .all()
            ):
                if self._update(
                    session,
                    chat,
                    [LiveChat.status == LIVE_WAITING, LiveChat.queued_at <= cutoff],
                    {LiveChat.status: LIVE_TIMED_OUT, LiveChat.timed_out_at: now, LiveChat.ended_at: now},
                ):
                    self._audit(
                        session, chat, SYSTEM_ACTOR, "timed_out", now, "waiting -> timed_out (wait limit)"
                    )
                    moved.append(Moved(chat.reference, chat.conversation_id))
        return moved

    def return_stale(self, now: datetime | None = None) -> list[Moved]:
        """Joined chats whose coordinator's chat page went silent longer than presence_seconds
        -> waiting again (back in line at their first place)."""
        now = self._now(now)
        cutoff = now - self.settings.presence
        moved = []
        with self._transaction() as session:
            stale = (
                session.query(LiveChat)
                .filter(LiveChat.status == LIVE_JOINED, LiveChat.coordinator_seen_at < cutoff)
                .all()
            )
            for chat in stale:
                name = chat.coordinator_name
                if self._update(
                    session,
                    chat,
                    [LiveChat.status == LIVE_JOINED, LiveChat.coordinator_seen_at < cutoff],
                    {LiveChat.status: LIVE_WAITING, LiveChat.queued_at: now},
                ):
                    self._audit(
                        session,
                        chat,
                        SYSTEM_ACTOR,
                        "returned_to_queue",
                        now,
                        "joined -> waiting (coordinator gone)",
                    )
                    session.flush()
                    moved.append(
                        Moved(chat.reference, chat.conversation_id, name, self._position(session, chat))
                    )
        return moved

    # ----------------------------------------------------------------- retention

    def purge_ended(self, older_than_days: int) -> int:
        """Delete chats that ended (timed out, cancelled, closed) more than N days ago. Closed
        chats' records go with ``HandoffStore.purge_resolved``, which removes their chat too."""
        if older_than_days < 0:
            raise ValueError("older_than_days cannot be negative")
        cutoff = self._clock() - timedelta(days=older_than_days)
        with self._transaction() as session:
            ids = [
                row_id
                for (row_id,) in session.query(LiveChat.id).filter(
                    LiveChat.status.in_(LIVE_ENDED_STATUSES), LiveChat.ended_at < cutoff
                )
            ]
            if ids:
                session.query(LiveChatAudit).filter(LiveChatAudit.live_chat_id.in_(ids)).delete(
                    synchronize_session=False
                )
                session.query(LiveChat).filter(LiveChat.id.in_(ids)).delete(synchronize_session=False)
        return len(ids)


def _may_close(chat: LiveChat, username: str) -> bool:
    if chat.status == LIVE_HANDED_BACK:
        return True
    return chat.status == LIVE_JOINED and chat.coordinator == username


def _not_yours(chat: LiveChat, username: str) -> str:
    if chat.status == LIVE_JOINED and chat.coordinator != username:
        return f"{chat.coordinator_name or chat.coordinator} is in this chat: only they can write in it"
    if chat.status in LIVE_OPEN_STATUSES:
        return "join this chat first"
    return f"this chat has ended ({chat.status.replace('_', ' ')})"


def _transcript_line(item: Mapping[str, Any]) -> dict[str, str]:
    role = str(item.get("role") or "bot")
    line = {"role": role, "text": str(item.get("text") or ""), "at": str(item.get("at") or "")}
    if item.get("name"):
        line["name"] = str(item["name"])[: MAX_DISPLAY_NAME * 2]
    return line


__all__ = [
    "ChatTaken",
    "LiveChatFacts",
    "LiveChatNotFound",
    "LiveChatStore",
    "LiveChatView",
    "Moved",
    "NotYourChat",
    "Presence",
    "RatingSummary",
    "Ticket",
]
