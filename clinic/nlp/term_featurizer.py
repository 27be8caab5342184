"""Sentence features saying which clinic terms a message names (route, cell source, condition).

They let the classifier learn that naming the IV route points to one answer and naming the
joint to another, and they carry every synonym in content/terms.yml ("drip", "shot in the knee")
even when no training example uses that word. The vocabulary is read from the spaCy entity
ruler, so there is nothing to train or persist.
"""

from __future__ import annotations

from typing import Any

import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic.nlp.spacy_terms import term_spans
from clinic.nlp.weighted_features import PositiveWeight


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False, model_from="SpacyNLP"
)
class TermFeaturizer(PositiveWeight, SparseFeaturizer, GraphComponent):
    """One sparse sentence feature per (entity type, canonical value) in the term list."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [SpacyNLP]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**SparseFeaturizer.get_default_config(), "weight": 1.0}

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self._vocabulary: dict[tuple[str, str], int] | None = None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TermFeaturizer:
        return cls(config, execution_context.node_name)

    def _vocab(self, model: SpacyModel) -> dict[tuple[str, str], int]:
        if self._vocabulary is None:
            ruler = model.model.get_pipe("entity_ruler")
            keys = sorted({(p["label"], p.get("id") or p["pattern"]) for p in ruler.patterns})
            self._vocabulary = {key: index for index, key in enumerate(keys)}
        return self._vocabulary

    def _featurize(self, message: Message, vocab: dict[tuple[str, str], int]) -> None:
        row = scipy.sparse.lil_matrix((1, len(vocab)))
        for label, value, _, _ in term_spans(message):
            if (label, value) in vocab:
                row[0, vocab[(label, value)]] = float(self._config["weight"])
        self.add_features_to_message(None, row.tocoo(), TEXT, message)

    def process(self, messages: list[Message], model: SpacyModel) -> list[Message]:
        vocab = self._vocab(model)
        for message in messages:
            self._featurize(message, vocab)
        return messages

    def process_training_data(self, training_data: TrainingData, model: SpacyModel) -> TrainingData:
        self.process([m for m in training_data.training_examples if m.get(TEXT)], model)
        return training_data
