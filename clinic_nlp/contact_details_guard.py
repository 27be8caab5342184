"""A message that is just an email address or a phone number is contact data, not a command.

Without this, a character n-gram classifier can read "ann.quixote@example.org" as "quit" and
cancel the handoff form. The guard runs after the classifier and before the fallback, and
marks such a message as `inform` with full confidence, so the form takes it as the answer.
"""
from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

INFORM = "inform"
EMAIL_ONLY = re.compile(r"^(my (e-?mail|address) is |it'?s )?[^\s@<>()]+@[^\s@<>()]+\.[A-Za-z]{2,}[.!]?$", re.I)
PHONE_ONLY = re.compile(r"^(my (phone|number|cell) is |it'?s |call me (at|on) )?\+?[\d\s().-]{7,20}[.!]?$", re.I)


def is_contact_detail(text: str) -> bool:
    text = text.strip()
    if PHONE_ONLY.match(text):
        return sum(c.isdigit() for c in text) >= 7
    return bool(EMAIL_ONLY.match(text))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ContactDetailsGuard(GraphComponent, IntentClassifier):
    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> ContactDetailsGuard:  # fmt: skip
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if is_contact_detail(message.get(TEXT) or ""):
                top = {"name": INFORM, "confidence": 1.0}
                message.set(INTENT, top, add_to_output=True)
                message.set("intent_ranking", [top], add_to_output=True)
                message.set("response_selector", {}, add_to_output=True)
        return messages
