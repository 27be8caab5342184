"""The sentence encoder as a Rasa featurizer: meaning, not only n-grams.

Each message is split into sentence-sized segments (clinic/nlp/segments.py) and every segment is
encoded once. The message's dense sentence feature is the mean of the segments that ask, so a long
message is answered on its question, not on its preamble. The segments and their embeddings stay
on the message for the decisions after it (scope, safety), which check every segment.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic.nlp.meaning import Meaning, read_meaning, reading_fingerprint
from clinic.nlp.sentence_encoder import shared_encoder
from clinic.nlp.weighted_features import PositiveWeight

MEANING = "meaning"  # the Message attribute holding the Meaning (not part of the parse output)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(PositiveWeight, DenseFeaturizer, GraphComponent):
    """A 384-dimensional dense sentence feature from all-MiniLM-L6-v2 (ONNX Runtime, offline)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # The embedding is unit length; `weight` puts it on the scale of the count features.
        return {**DenseFeaturizer.get_default_config(), "weight": 3.0}

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The features change with the reading code and the graph (meaning.reading_fingerprint)."""
        return reading_fingerprint()

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self._encoder = shared_encoder()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        return cls(config, execution_context.node_name)

    def _featurize(self, message: Message) -> None:
        meaning = read_meaning(message.get(TEXT) or "", self._encoder)
        message.set(MEANING, meaning)
        sentence = (meaning.question * float(self._config["weight"]))[np.newaxis, :]
        self.add_features_to_message(None, sentence, TEXT, message)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._featurize(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process([m for m in training_data.training_examples if m.get(TEXT)])
        return training_data


def meaning_of(message: Message) -> Meaning | None:
    """What the featurizer read from the message (None before it ran)."""
    return message.get(MEANING)
