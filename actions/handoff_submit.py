"""Write the handoff record, then (and only then) tell the visitor it is done.

If the store cannot be written, the visitor is told honestly and given the clinic's phone and
email: the bot never claims a handoff that did not happen.

A submit may not complete: the action server can die before or after the record is committed,
and then Rasa keeps none of this action's events. The slots (with the consent and
``handoff_pending``) are still set, so the visitor's "yes" sends it again (data/rules/handoff_rules.yml),
and the submission key (conversation + form run) makes the store return the record the first
attempt may have made instead of a second one.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import (
    HANDOFF_SLOTS,
    client_id,
    current_session,
    handoff_reason,
    submission_key,
    topics_discussed,
    transcript,
)
from actions.topics import personal_topics, topic_title
from clinic.handoff.requests import HandoffStore, NewHandoff, Receipt, TooManyRequests
from clinic.settings import load_clinic

logger = logging.getLogger(__name__)
CONSENT_TEXT = (
    "I agree that the clinic may store my name and contact details and contact me about my question. "
    "(Privacy notice: {privacy_url})"
)


@lru_cache(maxsize=1)
def store() -> HandoffStore:
    """One store (and connection pool) per action-server process."""
    return HandoffStore.from_settings()


def new_handoff(tracker: Tracker, domain: dict[str, Any]) -> NewHandoff:
    events = current_session(tracker.events)
    topics = topics_discussed(events)
    return NewHandoff(
        conversation_id=tracker.sender_id,
        name=tracker.get_slot("handoff_name"),
        contact_method=tracker.get_slot("handoff_contact_method"),
        contact_value=tracker.get_slot("handoff_contact"),
        best_time=tracker.get_slot("handoff_best_time") or None,
        topic_note=tracker.get_slot("handoff_topic_note") or None,
        consent_text=CONSENT_TEXT.format(privacy_url=load_clinic().privacy_url),
        consent_at=datetime.now(timezone.utc),
        reason=handoff_reason(events, personal_topics(domain)),
        topics=topics,
        topic_titles={topic: title for topic in topics if (title := topic_title(domain, topic))},  # as shown
        transcript=transcript(events),
        submission_key=submission_key(tracker.sender_id, tracker.events),
        client_id=client_id(tracker.events),
    )


def confirmation(receipt: Receipt, method: str) -> dict[str, Any]:
    """The text, and the widget's confirmation card (the kind `handoff_confirmed` of the reply
    contract, clinic/reply_contract.schema.json)."""
    return {
        "text": (
            f"Thank you. Your request is in. Your reference is {receipt.reference}. "
            f"A care coordinator will contact you by {method} {receipt.expected_contact_text}."
        ),
        "custom": {
            "data": {
                "kind": "handoff_confirmed",
                "reference": receipt.reference,
                "expected_contact": receipt.expected_contact_text,
            }
        },
    }


def clinic_contact() -> dict[str, str]:
    clinic = load_clinic()
    return {"clinic_phone": clinic.phone, "clinic_email": clinic.email}


def confirm(dispatcher: CollectingDispatcher, receipt: Receipt, tracker: Tracker) -> list[EventType]:
    message = confirmation(receipt, tracker.get_slot("handoff_contact_method") or "email")
    dispatcher.utter_message(text=message["text"])
    dispatcher.utter_message(custom=message["custom"])
    return [SlotSet("handoff_reference", receipt.reference)]


def cleared() -> list[EventType]:
    """Forget the form's answers (they are in the encrypted record, or were not wanted)."""
    return [SlotSet(slot, None) for slot in HANDOFF_SLOTS]


class ActionSubmitHandoff(Action):
    def name(self) -> str:
        return "action_submit_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if tracker.get_slot("handoff_consent") is not True:
            dispatcher.utter_message(response="utter_handoff_no_consent", **clinic_contact())
            return cleared()
        try:
            handoff = new_handoff(tracker, domain)
            receipt = await asyncio.get_running_loop().run_in_executor(None, store().create, handoff)
        except TooManyRequests:
            dispatcher.utter_message(response="utter_handoff_rate_limited", **clinic_contact())
            return cleared()
        except Exception as error:  # never claim a handoff that did not happen
            logger.error("Handoff could not be stored: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_handoff_failed", **clinic_contact())
            return cleared()
        return cleared() + confirm(dispatcher, receipt, tracker)


class ActionClearHandoff(Action):
    """After the form is cancelled: drop the answers given so far, so nothing lingers and a
    later form starts empty."""

    def name(self) -> str:
        return "action_clear_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return cleared()


class ActionAbandonHandoff(Action):
    """The visitor does not want a submit that failed sent again. Tell the truth: if the
    first attempt did reach the database before the failure, the request exists."""

    def name(self) -> str:
        return "action_abandon_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        key = submission_key(tracker.sender_id, tracker.events)
        receipt = None
        try:
            if key is not None:
                receipt = await asyncio.get_running_loop().run_in_executor(None, store().find_submission, key)
        except Exception as error:  # the store is down: nothing new is sent either way
            logger.error("Could not look up the earlier submission: %s", type(error).__name__)
        if receipt is None:
            dispatcher.utter_message(response="utter_handoff_not_sent", **clinic_contact())
            return cleared()
        dispatcher.utter_message(
            text="Your request had already reached us before the error, so it stands. "
            "If you no longer need a call, just tell the coordinator."
        )
        return cleared() + confirm(dispatcher, receipt, tracker)
