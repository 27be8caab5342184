"""The handoff form: collect the minimum a care coordinator needs, checking each answer.

Slots are filled from free text (domain.yml), except when the message is a question, an
emergency or a cancel: then the form pauses, the rules answer, and the form resumes.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.conversation import current_session, topics_discussed
from actions.topics import topic_title
from clinic.contact import check_contact, check_name, contact_method, optional_text
from clinic.settings import load_clinic

METHOD_LABEL = {"email": "email", "phone": "phone"}


class ValidateHandoffForm(FormValidationAction):
    def name(self) -> str:
        return "validate_handoff_form"

    def validate_handoff_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        name, problem = check_name(str(value or ""))
        if problem:
            dispatcher.utter_message(text=problem)
        return {"handoff_name": name}

    def validate_handoff_contact_method(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "")
        method = contact_method(text)
        if method is None:
            dispatcher.utter_message(text="Please choose email or phone.")
            return {"handoff_contact_method": None}
        slots: dict[str, Any] = {"handoff_contact_method": method}
        contact, _ = check_contact(method, text)  # they may have typed the address itself
        if contact:
            slots["handoff_contact"] = contact
        return slots

    def validate_handoff_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        method = tracker.get_slot("handoff_contact_method") or contact_method(str(value or "")) or "email"
        contact, problem = check_contact(method, str(value or ""))
        if problem:
            dispatcher.utter_message(text=problem)
        return {"handoff_contact": contact}

    def validate_handoff_best_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"handoff_best_time": optional_text(str(value or ""), 120)}

    def validate_handoff_topic_note(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "")
        if text.strip() == "/use_topics":
            titles = [topic_title(domain, t) or t for t in topics_discussed(current_session(tracker.events))]
            return {"handoff_topic_note": "Questions about: " + ", ".join(titles)}
        return {"handoff_topic_note": optional_text(text)}

    def validate_handoff_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Yes or no, nothing else: anything but an explicit yes is not consent. A yes also
        marks the request as pending until the visitor has been told it is in (a retry then
        sends it, if the submit that follows does not complete)."""
        if value is True:
            return {"handoff_consent": True, "handoff_pending": True}
        return {"handoff_consent": value if isinstance(value, bool) else None}


class ActionAskHandoffContact(Action):
    """Ask for the address or the number, depending on the method chosen."""

    def name(self) -> str:
        return "action_ask_handoff_contact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("handoff_contact_method") == "phone":
            dispatcher.utter_message(text="What phone number should we call? Please include the area code.")
        else:
            dispatcher.utter_message(text="What email address should we write to?")
        return []


class ActionAskHandoffTopicNote(Action):
    """Offer the topics of this conversation as what they'd like to discuss."""

    def name(self) -> str:
        return "action_ask_handoff_topic_note"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        titles = [topic_title(domain, t) or t for t in topics_discussed(current_session(tracker.events))]
        buttons = [{"title": "Skip", "payload": "skip"}]
        text = (
            "What would you like to talk about? A few words are enough. Please don't include medical details."
        )
        if titles:
            text += " Or use the topics we covered: " + ", ".join(titles) + "."
            buttons.insert(0, {"title": "Use these topics", "payload": "/use_topics"})
        dispatcher.utter_message(text=text, buttons=buttons)
        return []


class ActionAskHandoffConsent(Action):
    """Show what we collected, link the privacy notice, and ask for explicit consent."""

    def name(self) -> str:
        return "action_ask_handoff_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        clinic = load_clinic()
        method = tracker.get_slot("handoff_contact_method") or "email"
        summary = (
            f"Here is what I have: {tracker.get_slot('handoff_name')}, by {METHOD_LABEL.get(method, method)} "
            f"at {tracker.get_slot('handoff_contact')}"
        )
        best_time = tracker.get_slot("handoff_best_time")
        summary += f", best time: {best_time}." if best_time else "."
        dispatcher.utter_message(
            text=(
                f"{summary} Do you agree that {clinic.name} may store these details and contact you about "
                f"your question? Privacy notice: {clinic.privacy_url}"
            ),
            buttons=[
                {"title": "Yes, I agree", "payload": "/affirm"},
                {"title": "Edit name", "payload": '/correct_handoff{"handoff_field": "handoff_name"}'},
                {"title": "Edit contact", "payload": '/correct_handoff{"handoff_field": "handoff_contact"}'},
                {
                    "title": "Edit best time",
                    "payload": '/correct_handoff{"handoff_field": "handoff_best_time"}',
                },
                {"title": "No", "payload": "/deny"},
            ],
        )
        return []


class ActionCorrectHandoff(Action):
    """Clear the detail the visitor wants to change (the contact by default); the form asks again."""

    def name(self) -> str:
        return "action_correct_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        field = next(tracker.get_latest_entity_values("handoff_field"), None)
        if field not in {"handoff_name", "handoff_contact", "handoff_best_time", "handoff_topic_note"}:
            field = "handoff_contact"
        reset = [SlotSet(field, None), SlotSet("handoff_consent", None)]
        if field == "handoff_contact":
            reset.append(SlotSet("handoff_contact_method", None))
        dispatcher.utter_message(text="Sure, let's fix that.")
        return reset
