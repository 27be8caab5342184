"""Is this message about our article at all? If not, it gets the honest "I don't have that".

The answer classifier always picks its closest answer, even for "who invented the internet". This
decision, after it, checks the question's meaning against a logistic regression trained on the
article's questions (positives) against the project's out-of-scope examples and the training part
of CLINC150's ordinary requests (negatives). Its threshold lets at most `broad_rate` of CLINC150's
calibration part (never trained on) through, and the in-scope recall at that threshold, out of
fold, is logged at training. A curated answer below the threshold becomes `out_of_scope`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.linear_model import LogisticRegression

from clinic import datasets, faq
from clinic.nlp.calibration import describe, out_of_fold, threshold_for_false_alarms
from clinic.nlp.encoder_featurizer import meaning_of
from clinic.nlp.intent_override import override_intent
from clinic.nlp.meaning import broad_vectors, read_meaning, reading_fingerprint
from clinic.nlp.sentence_encoder import shared_encoder

OUT_OF_SCOPE = "out_of_scope"
MODEL_FILE = "scope.json"
logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class ScopeDecision(GraphComponent, IntentClassifier):
    """Turns a curated answer into `out_of_scope` when the question is not about the article."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"C": 10.0, "broad_rate": 0.01, "out_of_scope_weight": 3.0}

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        return datasets.fingerprint() + reading_fingerprint()

    def __init__(
        self, config: dict[str, Any], storage: ModelStorage, resource: Resource, model: dict | None = None
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = storage
        self._resource = resource
        self._model = model  # coef, intercept, threshold, point

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ScopeDecision:
        return cls(config, model_storage, resource)

    # ---- training -------------------------------------------------------------------------
    def _fit(self, features: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> LogisticRegression:
        model = LogisticRegression(C=self._config["C"], max_iter=5000, class_weight="balanced")
        return model.fit(features, labels, sample_weight=weights)

    def train(self, training_data: TrainingData) -> Resource:
        project = [m for m in training_data.intent_examples if m.get(TEXT)]
        article = [m for m in project if faq.topic_of_key(m.get(INTENT_RESPONSE_KEY)) is not None]
        unrelated = [m for m in project if m.get(INTENT) == OUT_OF_SCOPE]
        broad_examples, broad = broad_vectors("training")
        broad = broad[[not datasets.is_chit_chat(intent) for _, intent in broad_examples]]
        own = np.stack([self._question(m) for m in article + unrelated])
        features = np.vstack([own, broad])
        labels = np.r_[np.ones(len(article)), np.zeros(len(unrelated) + len(broad))]
        weights = np.r_[
            np.ones(len(article)),
            np.full(len(unrelated), self._config["out_of_scope_weight"]),
            np.ones(len(broad)),
        ]

        def fit(rows: np.ndarray, y: np.ndarray):
            model = self._fit(rows, y, np.ones(len(y)))
            return lambda x: model.predict_proba(x)[:, 1]

        held_out = out_of_fold(fit, features, labels)
        model = self._fit(features, labels, weights)
        cal_examples, calibration = broad_vectors("calibration")
        calibration = calibration[[not datasets.is_chit_chat(intent) for _, intent in cal_examples]]
        cal_scores = model.predict_proba(calibration)[:, 1]
        threshold = threshold_for_false_alarms(cal_scores, self._config["broad_rate"])
        point = describe(
            "about the article",
            f"at most {self._config['broad_rate']:.0%} of ordinary requests (CLINC150 calibration part) pass",
            threshold,
            held_out[labels == 1],
            cal_scores,
        )
        logger.info("Scope decision, %s", point)
        self._model = {
            "coef": model.coef_[0].tolist(),
            "intercept": float(model.intercept_[0]),
            "threshold": threshold,
            "point": point.as_dict(),
        }
        with self._storage.write_to(self._resource) as directory:
            (directory / MODEL_FILE).write_text(json.dumps(self._model), encoding="utf-8")
        return self._resource

    @staticmethod
    def _question(message: Message) -> np.ndarray:
        meaning = meaning_of(message) or read_meaning(message.get(TEXT) or "", shared_encoder())
        return meaning.question

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ScopeDecision:
        try:
            with model_storage.read_from(resource) as directory:
                model = json.loads((directory / MODEL_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            return cls(config, model_storage, resource)
        model["coef"] = np.asarray(model["coef"], dtype=np.float32)
        return cls(config, model_storage, resource, model)

    # ---- inference ------------------------------------------------------------------------
    def article_probability(self, message: Message) -> float:
        assert self._model is not None
        logit = float(self._question(message) @ self._model["coef"] + self._model["intercept"])
        return 1.0 / (1.0 + np.exp(-logit))

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None:
            return messages
        for message in messages:
            intent = message.get(INTENT) or {}
            if intent.get("name") != faq.RETRIEVAL_INTENT:
                continue
            probability = self.article_probability(message)
            if probability >= self._model["threshold"]:
                continue
            override_intent(message, OUT_OF_SCOPE, 1.0 - probability)
        return messages
