"""Rasa component: the calibrated scope and danger decisions (clinic_nlp/meaning.py) in the pipeline.

Runs after the TopicClassifier. A curated answer whose question is not about the article (the
scope decision below its calibrated threshold) becomes `out_of_scope`, so the visitor gets the
honest "I don't have that information". The danger probabilities go on the message under
`DANGER_KEY` for the SafetyDetector, which decides last, with the patterns as a safety net.

Trained by `rasa train` on the project's NLU data, data/safety_negatives.yml and CLINC150's train
split (../shared/data/clinc150; training fails with a clear message when it is missing), with the
C and thresholds from config/calibration.yml. Persisted as numpy arrays (no pickle).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic_nlp.calibrate import ENCODE_TOKENS
from clinic_nlp.encoder_featurizer import SEGMENTS_KEY
from clinic_nlp.meaning import (
    BUILD_DIR,
    Decisions,
    LabelledTexts,
    clinc_split,
    load_calibration,
    safety_negatives,
    train_decisions,
)
from clinic_nlp.safety_detector import DANGER_KEY  # {"emergency": bool, "crisis": bool, "scores"}
from clinic_nlp.sentence_encoder import encode_corpus
from clinic_nlp.topic_classifier import answer_label

ARRAYS_FILE = "decisions.npz"
META_FILE = "thresholds.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class CalibratedDecisions(GraphComponent, IntentClassifier):
    """Out-of-scope override for curated answers; danger decisions for the SafetyDetector."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"calibration": "config/calibration.yml", "clinc": None}

    def __init__(self, config: dict[str, Any], storage: ModelStorage, resource: Resource,
                 decisions: Decisions | None = None) -> None:  # fmt: skip
        self._config = {**self.get_default_config(), **config}
        self._storage = storage
        self._resource = resource
        self._decisions = decisions

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> CalibratedDecisions:  # fmt: skip
        return cls(config, model_storage, resource)

    # ---- training -------------------------------------------------------------------------
    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(TEXT) and answer_label(e)]
        project = LabelledTexts([e.get(TEXT) for e in examples], [answer_label(e) for e in examples])
        clinc_dir = Path(self._config["clinc"]) if self._config["clinc"] else None
        broad = clinc_split("train", clinc_dir) if clinc_dir else clinc_split("train")
        corpus = project + safety_negatives() + broad
        vectors = encode_corpus(corpus.texts, ENCODE_TOKENS, BUILD_DIR)
        calibration = load_calibration(Path(self._config["calibration"]))
        self._decisions = train_decisions(vectors, corpus.labels, calibration)
        with self._storage.write_to(self._resource) as directory:
            np.savez(directory / ARRAYS_FILE, **self._decisions.to_arrays())
            (directory / META_FILE).write_text(json.dumps(self._decisions.thresholds), encoding="utf-8")
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> CalibratedDecisions:  # fmt: skip
        try:
            with model_storage.read_from(resource) as directory:
                arrays = dict(np.load(directory / ARRAYS_FILE, allow_pickle=False))
                thresholds = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            return cls.create(config, model_storage, resource, execution_context)
        return cls(config, model_storage, resource, Decisions.from_arrays(arrays, thresholds))

    # ---- inference ------------------------------------------------------------------------
    def process(self, messages: list[Message]) -> list[Message]:
        if self._decisions is None:
            return messages
        for message in messages:
            encoded = message.get(SEGMENTS_KEY)
            if not encoded or not encoded["parts"]:
                continue
            self._mark_danger(message, encoded)
            self._check_scope(message, encoded)
        return messages

    def _mark_danger(self, message: Message, encoded: dict[str, Any]) -> None:
        scores = self._decisions.danger(encoded["vectors"])  # type: ignore[union-attr]
        danger = self._decisions.alarms(encoded["vectors"])  # type: ignore[union-attr]
        message.set(DANGER_KEY, {**danger, "scores": scores})

    def _check_scope(self, message: Message, encoded: dict[str, Any]) -> None:
        """A curated answer needs the question to be about the article; else out_of_scope."""
        intent = message.get(INTENT) or {}
        if intent.get("name") != "faq":
            return
        in_scope = self._decisions.scope(encoded["focus"])  # type: ignore[union-attr]
        if in_scope >= self._decisions.thresholds["scope"]:  # type: ignore[union-attr]
            return
        # The best answer that is not curated takes over (a request for a person, chit-chat...);
        # when there is none, out_of_scope with full confidence. Curated runners-up are dropped,
        # so no "did you mean" buttons offer answers the question is not about.
        others = [r for r in message.get("intent_ranking") or [] if r["name"] != "faq"]
        top = others[0] if others else {"name": "out_of_scope", "confidence": 1.0}
        message.set(INTENT, {"name": top["name"], "confidence": top["confidence"]}, add_to_output=True)
        message.set("intent_ranking", others or [top], add_to_output=True)
        message.set("response_selector", {}, add_to_output=True)
