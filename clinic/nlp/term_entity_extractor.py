"""Entities from the project's spaCy entity ruler, with canonical values ("drip" -> intravenous).

Rasa's SpacyEntityExtractor reports the matched text; this one reports the canonical value the
term list (content/terms.yml) gives it, so "drip", "IV" and "infusion" all mean `intravenous`, and
it reuses the doc SpacyNLP already made instead of parsing the message again.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.utils.spacy_utils import SpacyNLP
from rasa.shared.nlu.constants import ENTITIES
from rasa.shared.nlu.training_data.message import Message

from clinic.nlp.spacy_terms import term_spans


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class TermEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Adds `route`, `cell_source` and `condition` entities with canonical values."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [SpacyNLP]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TermEntityExtractor:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            found = [
                {"entity": label, "value": value, "start": start, "end": end, "confidence": 1.0}
                for label, value, start, end in term_spans(message)
            ]
            entities = message.get(ENTITIES, []) + self.add_extractor_name(found)
            message.set(ENTITIES, entities, add_to_output=True)
        return messages
