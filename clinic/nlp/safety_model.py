"""The safety decision on meaning: is this message a crisis, an emergency, both, or neither?

Two heads on the sentence embeddings, each a support-vector machine with an RBF kernel: crisis
(988) and emergency (911). Measured against logistic regression, a small neural network and
nearest neighbours on the development sets (docs/measurements.md), it kept the most crisis
messages for the fewest false alarms: danger and its figures of speech lie in many small, close
clusters that a linear model cannot separate. A message that is both gets both. Each head scores every segment of a message, so one
sentence in danger is not averaged away by calm ones, and keeps its strongest segment.

Trained on the project's crisis and emergency examples (data/nlu/safety*.yml) against everything
that must not raise an alarm: the other training examples, the no-alarm set (data/safety/, figures
of speech, informational questions, long calm messages) and the training part of CLINC150. Each
head's threshold is chosen out of fold for a stated recall (calibration.py). Below the threshold,
a match of the reviewed patterns still raises the alarm unless the model puts the message below
nearly every real one (`veto`): the patterns are the net, the model decides on meaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from sklearn.svm import SVC

from clinic.nlp.calibration import (
    OperatingPoint,
    describe,
    out_of_fold,
    threshold_for_false_alarms,
    threshold_for_recall,
)
from clinic.nlp.safety_patterns import CRISIS, EMERGENCY

KINDS = (EMERGENCY, CRISIS)
LONG_SEGMENTS = 3
# ...and at least this many words: three short fragments ("lost my streak. 92 days gone. arms are
# a mess again") are one thought, not a calm preamble with many chances to look alarming.
LONG_WORDS = 30
LONG_CALM_RATE = 0.02  # operating point: at most 2% of long calm messages (out of fold) alarm


@dataclass(frozen=True)
class SafetyData:
    """Embeddings by role: danger by kind (one row per message), negatives (one row per segment)."""

    only: dict[str, np.ndarray]  # crisis only, emergency only
    both: np.ndarray  # messages that are both
    negatives: np.ndarray
    long_calm: list[np.ndarray]  # row numbers in `negatives` of each long calm message's (is_long) segments
    broad_calibration: np.ndarray  # CLINC150's calibration part: never trained on


@dataclass(frozen=True, eq=False)
class Head:
    """A trained head: its support vectors and the two levels its score is compared with."""

    support: np.ndarray  # [n, DIMENSION]
    weights: np.ndarray  # [n] dual coefficients
    intercept: float
    gamma: float
    threshold: float
    veto: float
    point: OperatingPoint
    long_threshold: float  # for long messages (is_long): calm preambles are many chances

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """The SVM's decision value for each row (higher: more like this kind of danger)."""
        distances = (vectors**2).sum(1)[:, None] - 2 * vectors @ self.support.T + self._support_norms
        return np.exp(-self.gamma * np.maximum(distances, 0.0)) @ self.weights + self.intercept

    @cached_property
    def _support_norms(self) -> np.ndarray:
        return (self.support**2).sum(1)

    def score(self, vectors: np.ndarray) -> float:
        """The strongest segment's decision value (-inf for an empty message)."""
        return float(self.scores(vectors).max()) if len(vectors) else float("-inf")


def word_count(text: str) -> int:
    """A message's words as `is_long` counts them, at training and at run time alike."""
    return len(text.split())


def is_long(segments: int, words: int) -> bool:
    """A long message gets the stricter `long_threshold`: its calm sentences are many chances to
    look alarming, so the threshold is calibrated on long calm messages."""
    return segments >= LONG_SEGMENTS and words >= LONG_WORDS


def _svm(C: float, features: np.ndarray, labels: np.ndarray) -> SVC:  # noqa: N803 - scikit-learn's name
    # Positives weigh a quarter of their share, so the larger negative set still shapes the border.
    weight = {0: 1.0, 1: max(1.0, len(labels) / max(labels.sum(), 1) / 4)}
    return SVC(C=C, kernel="rbf", gamma="scale", class_weight=weight).fit(features, labels)


def _fit(C: float):  # noqa: N803
    def fit(features: np.ndarray, labels: np.ndarray):
        return _svm(C, features, labels).decision_function

    return fit


def train_head(kind: str, data: SafetyData, C: float, recall: float, veto_recall: float) -> Head:  # noqa: N803
    """One head: fitted on all data; threshold and veto from out-of-fold scores."""
    positives = np.vstack([data.only[kind], data.both])
    # The other kind's messages are negatives here, unless they are both.
    negatives = np.vstack([data.negatives, *(data.only[k] for k in KINDS if k != kind)])
    features = np.vstack([positives, negatives]).astype(np.float64)
    labels = np.r_[np.ones(len(positives)), np.zeros(len(negatives))]
    held_out = out_of_fold(_fit(C), features, labels)
    threshold = threshold_for_recall(held_out[labels == 1], recall)
    veto = threshold_for_recall(held_out[labels == 1], veto_recall)
    offset = len(positives)  # negatives' rows follow the positives'
    long_scores = np.array([held_out[offset + rows].max() for rows in data.long_calm])
    long_threshold = (
        max(threshold, threshold_for_false_alarms(long_scores, LONG_CALM_RATE))
        if len(long_scores)
        else threshold
    )
    model = _svm(C, features, labels)
    broad = model.decision_function(data.broad_calibration) if len(data.broad_calibration) else np.zeros(0)
    point = describe(
        kind,
        f"keep {recall:.0%} of {kind} messages out of fold",
        threshold,
        held_out[labels == 1],
        np.r_[held_out[labels == 0], broad],
    )
    gamma = 1.0 / (features.shape[1] * features.var())  # what gamma="scale" used
    return Head(
        model.support_vectors_.astype(np.float32),
        model.dual_coef_[0].astype(np.float32),
        float(model.intercept_[0]),
        float(gamma),
        threshold,
        veto,
        point,
        float(long_threshold),
    )


class SafetyModel:
    def __init__(self, heads: dict[str, Head]) -> None:
        self.heads = heads

    @classmethod
    def train(cls, data: SafetyData, C: float, recall: dict[str, float], veto_recall: float) -> SafetyModel:  # noqa: N803
        return cls({kind: train_head(kind, data, C, recall[kind], veto_recall) for kind in KINDS})

    def assess(
        self,
        segment_vectors: np.ndarray,
        pattern_kinds: frozenset[str],
        matched: np.ndarray | None = None,
        *,
        words: int,
    ) -> frozenset[str]:
        """The kinds of danger in a message, from its segments' embeddings and the pattern matches.

        `matched` is the embedding of the wording a pattern matched (typos corrected): it can
        confirm the kind that pattern names, never raise another kind. `words` is the message's
        length in words (see is_long)."""
        found = set()
        long = is_long(len(segment_vectors), words)
        for kind, head in self.heads.items():
            score = head.score(segment_vectors)
            threshold = head.long_threshold if long else head.threshold
            if kind in pattern_kinds and matched is not None:
                score = max(score, head.score(matched))
            if score >= threshold or (kind in pattern_kinds and score >= head.veto):
                found.add(kind)
        return frozenset(found)

    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict]:
        arrays = {
            f"{k}_{name}": getattr(h, name) for k, h in self.heads.items() for name in ("support", "weights")
        }
        meta = {
            k: {
                "intercept": h.intercept,
                "gamma": h.gamma,
                "threshold": h.threshold,
                "veto": h.veto,
                "long_threshold": h.long_threshold,
                "point": h.point.as_dict(),
            }
            for k, h in self.heads.items()
        }
        return arrays, meta

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict) -> SafetyModel:
        heads = {
            k: Head(
                arrays[f"{k}_support"],
                arrays[f"{k}_weights"],
                m["intercept"],
                m["gamma"],
                m["threshold"],
                m["veto"],
                OperatingPoint(**m["point"]),
                m["long_threshold"],
            )
            for k, m in meta.items()
        }
        return cls(heads)
