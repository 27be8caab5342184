"""When the assistant is unsure, ask which topic was meant instead of guessing.

The FallbackClassifier marks a message `nlu_fallback` when the best answer's confidence is low
or two answers are nearly tied. If the runners-up are curated topics with some support, the
visitor gets "Did you mean ...?" buttons; otherwise an honest "I'm not sure I understood".
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.topics import topic_title
from clinic import faq

MIN_CANDIDATE_CONFIDENCE = 0.12
MAX_CHOICES = 3


def candidate_topics(tracker: Tracker) -> list[str]:
    """Curated topics from the classifier's ranking that are worth offering as choices."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    return faq.ranked_topics(ranking, MIN_CANDIDATE_CONFIDENCE)[:MAX_CHOICES]


class ActionClarify(Action):
    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        buttons = [
            {"title": topic_title(domain, t), "payload": f'/choose_topic{{"topic": "{t}"}}'}
            for t in candidate_topics(tracker)
            if topic_title(domain, t)
        ]
        if not buttons:
            dispatcher.utter_message(response="utter_default")
            return []
        buttons.append({"title": "Something else", "payload": "/out_of_scope"})
        dispatcher.utter_message(response="utter_clarify", buttons=buttons)
        return []
