"""Live chat with a care coordinator, the visitor's side (docs/live-chat.md).

The actions decide between live chat and a call back, put the visitor in line, turn a wait that
ran out into the call-back form (prefilled), and keep the rating given after a chat. The inbox
does the rest (joins, messages, hand back, close) through Rasa's HTTP API. A store that cannot be
reached never leaves the visitor stuck: they get the call-back form, which has its own honest
failure reply.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.conversation import current_session, handoff_reason, topics_discussed
from actions.handoff_submit import clinic_contact
from actions.topics import personal_topics, topic_title
from clinic.live_chat.store import LiveChatStore

logger = logging.getLogger(__name__)
T = TypeVar("T")

SKIP_WORDS = {"skip", "no", "no thanks", "no thank you", "nope", "none", "nothing", "never mind", "n/a"}
MAX_COMMENT_CHARS = 1000
# Said after an interruption (a safety reply, an answer): a thank-you there would be out of place.
INTERRUPTING_INTENTS = {"emergency", "crisis", "emergency_and_crisis", "faq", "request_human"}


@lru_cache(maxsize=1)
def store() -> LiveChatStore:
    """One store (and connection pool) per action-server process."""
    return LiveChatStore.from_settings()


async def in_thread(call: Callable[..., T], *args: Any) -> T:
    """The store is synchronous (SQLAlchemy): keep it off the action server's event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, call, *args)


def waiting_text(position: int) -> str:
    place = "You're next in line." if position <= 1 else f"You're number {position} in line."
    return (
        f"Waiting for a coordinator. {place} You can keep asking me questions about the article "
        "while you wait."
    )


def live_payload(state: str, **fields: Any) -> dict[str, Any]:
    """The widget's live state (the kind `live_chat` of clinic/reply_contract.schema.json)."""
    return {"data": {"kind": "live_chat", "state": state, **fields, "at": time.time()}}


class ActionCheckCoordinators(Action):
    """Live chat is offered only when a coordinator is really there to answer now."""

    def name(self) -> str:
        return "action_check_coordinators"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            available = await in_thread(store().available_now)
        except Exception as error:  # noqa: BLE001 (an unreachable store means: call back)
            logger.error("Live chat availability unknown (%s): offering a call back", type(error).__name__)
            available = False
        return [SlotSet("live_chat_available", available)]


class ActionStartLiveChat(Action):
    """Put the visitor in line (once: asking again tells them their place)."""

    def name(self) -> str:
        return "action_start_live_chat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = current_session(tracker.events)
        topics = topics_discussed(events)
        titles = {topic: title for topic in topics if (title := topic_title(domain, topic))}
        reason = handoff_reason(events, personal_topics(domain))
        try:
            ticket = await in_thread(store().request, tracker.sender_id, reason, topics, titles)
        except Exception as error:  # noqa: BLE001
            logger.error("Could not join the live chat queue (%s)", type(error).__name__)
            dispatcher.utter_message(response="utter_live_chat_unavailable", **clinic_contact())
            return [SlotSet("live_chat", None), SlotSet("live_chat_available", False)]
        dispatcher.utter_message(text=waiting_text(ticket.position))
        dispatcher.utter_message(custom=live_payload("waiting", position=ticket.position))
        return [SlotSet("live_chat", "waiting")]


class ActionLeaveLiveChatQueue(Action):
    """Choosing a call back instead: leave the line, so no coordinator joins an empty chat."""

    def name(self) -> str:
        return "action_leave_live_chat_queue"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("live_chat") != "waiting":
            return []
        try:
            await in_thread(store().cancel, tracker.sender_id)
        except Exception as error:  # noqa: BLE001
            logger.error("Could not leave the live chat queue (%s)", type(error).__name__)
        dispatcher.utter_message(custom=live_payload("ended"))
        return [SlotSet("live_chat", None)]


class ActionLiveChatTimeout(Action):
    """Nobody joined in time (the inbox marked the chat timed out): offer the call-back form,
    with the topics the visitor asked about already filled in as what they want to discuss."""

    def name(self) -> str:
        return "action_live_chat_timeout"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_live_chat_timeout")
        dispatcher.utter_message(custom=live_payload("ended"))
        slots: list[EventType] = [SlotSet("live_chat", None)]
        titles = [topic_title(domain, t) or t for t in topics_discussed(current_session(tracker.events))]
        if titles and not tracker.get_slot("handoff_topic_note"):
            slots.append(SlotSet("handoff_topic_note", "Questions about: " + ", ".join(titles)))
        return slots


def rating_value(value: Any) -> int | None:
    try:
        rating = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return rating if 1 <= rating <= 5 else None


class ValidateChatRatingForm(FormValidationAction):
    def name(self) -> str:
        return "validate_chat_rating_form"

    def validate_chat_rating_comment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Any text is the comment; a skip is an empty comment (the slot must be set to end the form)."""
        text = " ".join(str(value or "").split())
        if text.lower().strip(".!") in SKIP_WORDS:
            text = ""
        return {"chat_rating_comment": text[:MAX_COMMENT_CHARS]}


class ActionSaveChatRating(Action):
    """Keep the rating (and comment) on the chat's record, then forget them in the conversation."""

    def name(self) -> str:
        return "action_save_chat_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        rating = rating_value(tracker.get_slot("chat_rating"))
        comment = tracker.get_slot("chat_rating_comment") or None
        saved = False
        if rating is not None:
            try:
                saved = await in_thread(store().rate, tracker.sender_id, rating, comment)
            except Exception as error:  # noqa: BLE001 (a lost rating is not worth an error reply)
                logger.error("Could not save a chat rating (%s)", type(error).__name__)
        interrupted = (tracker.latest_message.get("intent") or {}).get("name") in INTERRUPTING_INTENTS
        if saved and not interrupted:
            dispatcher.utter_message(response="utter_chat_rating_thanks")
        return [SlotSet("chat_rating", None), SlotSet("chat_rating_comment", None)]
