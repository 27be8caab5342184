"""Rasa featurizer: the sentence encoder's vectors for a message, its sentences and its question.

Adds the question's vector as a dense sentence feature (the answer classifier uses it beside the
word counts) and keeps the vectors of every segment on the message under `SEGMENTS_KEY`, so the
scope and safety decisions read them without encoding anything again.
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
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic_nlp.segments import segment
from clinic_nlp.sentence_encoder import load_encoder

SEGMENTS_KEY = "clinic_segments"  # {"parts": [...], "question": str, "vectors": (n, 384), "focus": (384,)}
FEATURE_TYPE_SENTENCE = "sentence"


def encode_message(text: str, config: dict[str, Any]) -> dict[str, Any]:
    """The segments of `text` and their vectors, computed in one batch."""
    pieces = segment(text, config["max_segments"])
    encoder = load_encoder()
    parts = list(pieces.parts)
    if not parts:
        empty = np.zeros((0, 384), dtype=np.float32)
        return {"parts": [], "question": "", "vectors": empty, "focus": np.zeros(384, np.float32)}
    keys = [(p, config["segment_tokens"]) for p in parts] + [(pieces.question, config["question_tokens"])]
    vectors = encoder.encode_pairs(keys)
    return {"parts": parts, "question": pieces.question, "vectors": vectors[:-1], "focus": vectors[-1]}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Dense sentence feature = the encoder's vector of the message's question."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # Token caps keep the worst message at the channels' length limit within the NLU bound
        # (benchmarks/worst_case_nlu.py): the encoder's cost is about 0.3 ms per word piece on one
        # core beside a fixed cost per batch, so at most 2 segments of 16 word pieces + the
        # question's 24 (56 in all, one batch). The patterns still read the whole message.
        return {**DenseFeaturizer.get_default_config(), "max_segments": 2, "segment_tokens": 16,
                "question_tokens": 24, "weight": 1.0}  # fmt: skip

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, {**self.get_default_config(), **config})
        load_encoder()  # fail at load time, not on the first visitor, if the weights are missing

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        pass

    def _featurize(self, message: Message) -> None:
        text = message.get(TEXT)
        if not text or not text.strip():
            return
        encoded = encode_message(text, self._config)
        message.set(SEGMENTS_KEY, encoded)
        vector = (encoded["focus"] * self._config["weight"]).reshape(1, -1)
        message.add_features(Features(vector, FEATURE_TYPE_SENTENCE, TEXT, self._identifier))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._featurize(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        examples = [m for m in training_data.training_examples if m.get(TEXT)]
        encoder = load_encoder()
        for start in range(0, len(examples), 500):  # batched: the model's weights are read once per batch
            chunk = examples[start : start + 500]
            for tokens in (self._config["segment_tokens"], self._config["question_tokens"]):
                encoder.encode([m.get(TEXT) for m in chunk], tokens)
            for message in chunk:
                self._featurize(message)
        return training_data
