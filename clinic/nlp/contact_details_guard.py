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
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from clinic.contact import EMAIL, PHONE, is_phone_number
from clinic.nlp.intent_override import override_intent

INFORM = "inform"
LEAD_IN = re.compile(r"^(my (e-?mail|address|phone|number|cell) is |it'?s |call me (at|on) )", re.I)
MAX_PHONE_CHARS = 20


def is_contact_detail(text: str) -> bool:
    """The whole message is one email address or one phone number (after "my email is")."""
    text = LEAD_IN.sub("", text.strip()).rstrip(".!")
    if EMAIL.fullmatch(text):
        return True
    return len(text) <= MAX_PHONE_CHARS and PHONE.fullmatch(text) is not None and is_phone_number(text)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ContactDetailsGuard(GraphComponent, IntentClassifier):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ContactDetailsGuard:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if is_contact_detail(message.get(TEXT) or ""):
                override_intent(message, INFORM, 1.0, keep_ranking=False)
        return messages
