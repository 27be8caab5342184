"""Answer exactly the topic a visitor picked from the "did you mean" buttons."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.topics import response_name, topic_title


class ActionAnswerChosenTopic(Action):
    """A button click is not re-guessed by NLU: the chosen topic's curated answer is sent."""

    def name(self) -> str:
        return "action_answer_chosen_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        topic = next(tracker.get_latest_entity_values("topic"), None)
        if topic and topic_title(domain, topic):
            dispatcher.utter_message(response=response_name(topic))
        else:
            dispatcher.utter_message(response="utter_default")
        return []
