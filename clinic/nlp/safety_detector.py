"""Catch emergencies and crises before anything else: on meaning, with the reviewed patterns as a net.

The last step of the NLU pipeline. It checks every segment of the message with the safety model
(clinic/nlp/safety_model.py) and the whole message with the reviewed patterns of
content/safety.yml (clinic/nlp/safety_patterns.py), and on danger sets the intent to `emergency`
(911), `crisis` (988) or `emergency_and_crisis` (both) with full confidence, whatever the answer
classifier thought. The classifier itself never picks these intents: it is not trained on them.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic import datasets
from clinic.nlp import safety_data
from clinic.nlp.encoder_featurizer import meaning_of
from clinic.nlp.intent_override import override_intent
from clinic.nlp.meaning import (
    broad_vectors,
    encode_corpus,
    read_meaning,
    reading_fingerprint,
    segment_rows,
    within_share,
)
from clinic.nlp.safety_model import SafetyData, SafetyModel, is_long, word_count
from clinic.nlp.safety_patterns import CRISIS, EMERGENCY, SafetyRules, load_rules
from clinic.nlp.sentence_encoder import shared_encoder

BOTH = "emergency_and_crisis"
ARRAYS_FILE = "safety.npz"
META_FILE = "safety.json"
logger = logging.getLogger(__name__)


def intent_for(kinds: frozenset[str]) -> str | None:
    if kinds >= {EMERGENCY, CRISIS}:
        return BOTH
    return next(iter(kinds), None)


def training_vectors(examples_folder: Path, training_data: TrainingData) -> SafetyData:
    """The safety decision's training embeddings: danger from data/safety/, and as negatives every
    other training example, the no-alarm examples and CLINC150's training part."""
    encoder = shared_encoder()
    examples = safety_data.load_examples(examples_folder)
    ordinary = [m.get(TEXT) for m in training_data.intent_examples if m.get(TEXT)]
    calm = ordinary + examples["no_alarm"] + examples["informational_risk"]
    calm_rows, calm_groups = segment_rows(calm, encoder)
    return SafetyData(
        only={kind: encode_corpus(examples[kind], encoder) for kind in (CRISIS, EMERGENCY)},
        both=encode_corpus(examples["both"], encoder),
        negatives=np.vstack([calm_rows, broad_vectors("training")[1]]),
        long_calm=[
            rows for rows, text in zip(calm_groups, calm, strict=True) if is_long(len(rows), word_count(text))
        ],
        broad_calibration=broad_vectors("calibration")[1],
    )


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SafetyDetector(GraphComponent, IntentClassifier):
    """Overrides the intent with `emergency`, `crisis` or `emergency_and_crisis` on danger."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "patterns": "content/safety.yml",
            "examples": "data/safety",
            "C": 10.0,
            # Operating points: the share of crisis / emergency training messages each head keeps
            # out of fold; below its threshold, a pattern match still counts unless the model
            # scores the message under all but `veto_recall` of real ones.
            "crisis_recall": 0.90,
            "emergency_recall": 0.90,
            "veto_recall": 0.995,
        }

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        config = {**cls.get_default_config(), **config}
        return (
            safety_data.fingerprint(Path(config["examples"])) + datasets.fingerprint() + reading_fingerprint()
        )

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        rules: SafetyRules,
        model: SafetyModel | None = None,
    ) -> None:
        self._config = config
        self._storage = model_storage
        self._resource = resource
        self._rules = rules
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyDetector:
        config = {**cls.get_default_config(), **config}
        return cls(config, model_storage, resource, load_rules(config["patterns"]))

    # ---- training -------------------------------------------------------------------------
    def train(self, training_data: TrainingData) -> Resource:
        self._model = SafetyModel.train(
            self._training_vectors(training_data),
            C=self._config["C"],
            recall={CRISIS: self._config["crisis_recall"], EMERGENCY: self._config["emergency_recall"]},
            veto_recall=self._config["veto_recall"],
        )
        for head in self._model.heads.values():
            logger.info("Safety decision, %s", head.point)
        arrays, meta = self._model.to_arrays()
        with self._storage.write_to(self._resource) as directory:
            np.savez(directory / ARRAYS_FILE, **arrays)
            (directory / META_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")
        return self._resource

    def _training_vectors(self, training_data: TrainingData) -> SafetyData:
        return training_vectors(Path(self._config["examples"]), training_data)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SafetyDetector:
        detector = cls.create(config, model_storage, resource, execution_context)
        try:
            with model_storage.read_from(resource) as directory:
                arrays = dict(np.load(directory / ARRAYS_FILE, allow_pickle=False))
                meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            return detector  # untrained: the patterns alone
        detector._model = SafetyModel.from_arrays(arrays, meta)
        return detector

    @classmethod
    def with_model(cls, config: dict[str, Any], model: SafetyModel) -> SafetyDetector:
        """A detector around an already trained model, outside a Rasa graph (clinic.devtools.safety_sweep)."""
        config = {**cls.get_default_config(), **config}
        return cls(config, None, None, load_rules(config["patterns"]), model)  # type: ignore[arg-type]

    # ---- inference ------------------------------------------------------------------------
    def kinds(self, message: Message) -> frozenset[str]:
        text = message.get(TEXT) or ""
        pattern_kinds = self._rules.matches(text)
        if self._model is None:
            return pattern_kinds
        meaning = meaning_of(message) or read_meaning(text, shared_encoder())
        # The model also reads the wording a pattern matched, typos corrected: an encoder knows
        # "suicidal", not "sucidal" (within the message's share of word pieces, as its segments).
        matched = None
        if pattern_kinds:
            encoder = shared_encoder()
            matched = encoder.encode(
                within_share([self._rules.cleaned(text)], len(meaning.segments), encoder)
            )
        return self._model.assess(meaning.vectors, pattern_kinds, matched, words=word_count(text))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            kind = intent_for(self.kinds(message))
            if kind is None:
                continue
            override_intent(message, kind, 1.0)
        return messages
