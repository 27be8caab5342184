"""One light classifier that picks the answer, so confidence is checked where the answer is chosen.

Rasa's usual FAQ set-up classifies the intent (`faq`) with DIET and then picks the answer with a
separate ResponseSelector; the FallbackClassifier only sees the intent's confidence, so a shaky
answer can slip through. Here a single logistic regression is trained on answer labels
(`faq/iv_risks`, `greet`, `out_of_scope`, ...). The message's intent confidence *is* the chosen
answer's confidence, the ranking holds answers (so ambiguity between two answers triggers the
FallbackClassifier), and the output also fills `response_selector` in the format Rasa's
`utter_faq` action reads. It trains in about a second and needs no TensorFlow.

A long message (several sentences: age, history, worries, then the question) is answered by a
second head on the question's embedding alone (clinic/nlp/segments.py picks the part that asks):
the n-gram features of the whole message would weigh the preamble as much as the question.

Persisted as plain numpy arrays + JSON (no pickle).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.linear_model import LogisticRegression

from clinic.nlp.encoder_featurizer import meaning_of

ARRAYS_FILE = "weights.npz"
LONG_SEGMENTS = 3  # from this many sentences on, the question head answers
META_FILE = "meta.json"


def answer_label(message: Message) -> str | None:
    """`faq/iv_risks` for retrieval intents, the plain intent otherwise."""
    return message.get(INTENT_RESPONSE_KEY) or message.get(INTENT)


def features(message: Message) -> scipy.sparse.csr_matrix:
    """All sentence-level features the featurizers produced, side by side."""
    _, sparse = message.get_sparse_features(TEXT)
    _, dense = message.get_dense_features(TEXT)
    parts = [scipy.sparse.csr_matrix(f.features) for f in (sparse, dense) if f is not None]
    return scipy.sparse.hstack(parts).tocsr()


def linear_scores(message: Message, coef: np.ndarray) -> np.ndarray:
    """`features(message) @ coef.T`, column block by column block: Rasa's `get_*_features` would
    deep-copy and stack every feature matrix first, which cost more than the whole classifier."""
    sentence = [f for f in message.features if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE]
    scores = np.zeros(coef.shape[0])
    offset = 0
    for block in [f for f in sentence if f.is_sparse()] + [f for f in sentence if f.is_dense()]:
        if block.is_sparse():
            row = block.features.tocsr()  # one row: only its non-zero columns count
            scores += coef[:, offset + row.indices] @ row.data
        else:
            row = np.asarray(block.features).reshape(1, -1)
            scores += coef[:, offset : offset + row.shape[1]] @ row[0]
        offset += row.shape[1]
    return scores


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TopicClassifier(GraphComponent, IntentClassifier):
    """Logistic regression over answer labels; fills intent, ranking and response_selector."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"C": 10.0, "max_iter": 2000, "ranking_length": 10, "random_state": 42}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: tuple[np.ndarray, np.ndarray, list[str]] | None = None,
        responses: dict[str, list[dict]] | None = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._model = model  # (coef, intercept, labels)
        self._question_head: tuple[np.ndarray, np.ndarray] | None = None  # for long messages
        self._responses = responses or {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TopicClassifier:
        return cls(config, model_storage, resource)

    # ---- training -------------------------------------------------------------------------
    def _logistic_regression(self) -> LogisticRegression:
        """The same model for both heads: the whole message's features, and the question's alone."""
        return LogisticRegression(
            C=self._config["C"],
            max_iter=self._config["max_iter"],
            class_weight="balanced",
            random_state=self._config["random_state"],
        )

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(TEXT) and answer_label(e)]
        if not examples:
            return self._resource
        matrix = scipy.sparse.vstack([features(e) for e in examples])
        labels = [answer_label(e) for e in examples]
        classifier = self._logistic_regression()
        classifier.fit(matrix, labels)
        self._model = (classifier.coef_, classifier.intercept_, [str(c) for c in classifier.classes_])
        meanings = [meaning_of(e) for e in examples]
        if all(meanings):
            question = self._logistic_regression().fit(np.stack([m.question for m in meanings]), labels)
            self._question_head = (question.coef_, question.intercept_)
        self._responses = {k: v for k, v in training_data.responses.items()}
        self._persist()
        return self._resource

    def _persist(self) -> None:
        assert self._model is not None
        coef, intercept, labels = self._model
        with self._storage.write_to(self._resource) as directory:
            heads = {"coef": coef, "intercept": intercept}
            if self._question_head is not None:
                heads |= {
                    "question_coef": self._question_head[0],
                    "question_intercept": self._question_head[1],
                }
            np.savez(directory / ARRAYS_FILE, **heads)
            meta = {"labels": labels, "responses": self._responses}
            (directory / META_FILE).write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TopicClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                arrays = np.load(directory / ARRAYS_FILE, allow_pickle=False)
                meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            return cls.create(config, model_storage, resource, execution_context)
        model = (arrays["coef"], arrays["intercept"], meta["labels"])
        classifier = cls(config, model_storage, resource, model, meta["responses"])
        if "question_coef" in arrays:
            classifier._question_head = (arrays["question_coef"], arrays["question_intercept"])
        return classifier

    # ---- inference ------------------------------------------------------------------------
    def _probabilities(self, message: Message) -> np.ndarray:
        coef, intercept, _ = self._model  # type: ignore[misc]
        meaning = meaning_of(message)
        if self._question_head is not None and meaning and len(meaning.segments) >= LONG_SEGMENTS:
            coef, intercept = self._question_head
            scores = coef @ meaning.question + intercept
        else:
            scores = linear_scores(message, coef) + intercept
        if coef.shape[0] == 1:  # binary logistic regression
            positive = 1.0 / (1.0 + np.exp(-scores[0]))
            return np.array([1.0 - positive, positive])
        scores = np.exp(scores - scores.max())
        return scores / scores.sum()

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None:
            return messages
        labels = self._model[2]
        for message in messages:
            if not (message.get(TEXT) or "").strip():
                self._set_no_prediction(message)
                continue
            probabilities = self._probabilities(message)
            order = np.argsort(-probabilities)[: self._config["ranking_length"]]
            ranking = [self._ranking_entry(labels[i], float(probabilities[i])) for i in order]
            message.set(INTENT, {k: ranking[0][k] for k in ("name", "confidence")}, add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
            self._set_response_selector(message, ranking)
        return messages

    @staticmethod
    def _set_no_prediction(message: Message) -> None:
        """An empty message: zero confidence, so the FallbackClassifier answers it kindly."""
        message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
        message.set("intent_ranking", [], add_to_output=True)

    @staticmethod
    def _ranking_entry(label: str, confidence: float) -> dict[str, Any]:
        base = label.split("/")[0]
        return {"name": base, "confidence": confidence, INTENT_RESPONSE_KEY: label}

    def _set_response_selector(self, message: Message, ranking: list[dict[str, Any]]) -> None:
        """Fill `response_selector` for the top retrieval intent, as Rasa's utter_<intent> expects."""
        top = ranking[0]
        if "/" not in top[INTENT_RESPONSE_KEY]:
            return
        retrieval_intent = top["name"]
        same_intent = [r for r in ranking if r["name"] == retrieval_intent]
        utter_action = f"utter_{top[INTENT_RESPONSE_KEY]}"
        prediction = {
            "response": {
                "responses": self._responses.get(utter_action, []),
                "confidence": top["confidence"],
                INTENT_RESPONSE_KEY: top[INTENT_RESPONSE_KEY],
                "utter_action": utter_action,
            },
            "ranking": [
                {"confidence": r["confidence"], INTENT_RESPONSE_KEY: r[INTENT_RESPONSE_KEY]}
                for r in same_intent
            ],
        }
        selector = {"all_retrieval_intents": [retrieval_intent], retrieval_intent: prediction}
        message.set("response_selector", selector, add_to_output=True)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
