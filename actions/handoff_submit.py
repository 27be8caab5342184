"""Write the handoff record, then (and only then) tell the visitor it is done.

If the store cannot be written, the visitor is told honestly and given the clinic's phone and
email: the bot never claims a handoff that did not happen.
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

from actions.conversation import HANDOFF_SLOTS, current_session, handoff_reason, topics_discussed, transcript
from actions.topics import personal_topics
from handoff import HandoffStore, NewHandoff, Receipt, load_clinic

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
        topics=topics_discussed(events),
        transcript=transcript(events),
    )


def confirmation(receipt: Receipt, method: str) -> dict[str, Any]:
    return {
        "text": (
            f"Thank you. Your request is in. Your reference is {receipt.reference}. "
            f"A care coordinator will contact you by {method} {receipt.expected_contact_text}."
        ),
        "custom": {"data": {"kind": "handoff_confirmed", "reference": receipt.reference,
                            "expected_contact": receipt.expected_contact_text}},  # fmt: skip
    }


class ActionSubmitHandoff(Action):
    def name(self) -> str:
        return "action_submit_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        clear = [SlotSet(slot, None) for slot in HANDOFF_SLOTS]
        if tracker.get_slot("handoff_consent") is not True:
            dispatcher.utter_message(response="utter_handoff_no_consent", **self._clinic_contact())
            return clear
        try:
            handoff = new_handoff(tracker, domain)
            receipt = await asyncio.get_running_loop().run_in_executor(None, store().create, handoff)
        except Exception as error:  # never claim a handoff that did not happen
            logger.error("Handoff could not be stored: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_handoff_failed", **self._clinic_contact())
            return clear
        message = confirmation(receipt, tracker.get_slot("handoff_contact_method") or "email")
        dispatcher.utter_message(text=message["text"])
        dispatcher.utter_message(custom=message["custom"])
        return clear + [SlotSet("handoff_reference", receipt.reference)]

    @staticmethod
    def _clinic_contact() -> dict[str, str]:
        clinic = load_clinic()
        return {"clinic_phone": clinic.phone, "clinic_email": clinic.email}
