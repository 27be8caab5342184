"""Thresholds chosen on messages a model did not see, for a stated operating point.

A probability from a classifier trained on a few hundred examples means little by itself; what
matters is how the decision behaves on messages it was not trained on. So each decision scores
its training messages out of fold (each fold's model scores the messages it left out) and scores
a calibration part of CLINC150 it never trained on, then picks its threshold for its operating
point: "keep 99% of crisis messages", "let at most 1% of ordinary requests through". The
figures at the chosen threshold are kept with the model and printed at training.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.model_selection import StratifiedKFold

Fit = Callable[[np.ndarray, np.ndarray], Callable[[np.ndarray], np.ndarray]]


@dataclass(frozen=True)
class OperatingPoint:
    """What a threshold was chosen for, and what it gives on held-out messages."""

    decision: str
    rule: str
    threshold: float
    recall: float  # share of positive messages at or above the threshold (out of fold)
    false_alarms: float  # share of negative messages at or above it (out of fold + calibration)

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return (
            f"{self.decision}: threshold {self.threshold:.3f} ({self.rule}); held out: "
            f"recall {self.recall:.1%}, false alarms {self.false_alarms:.2%}"
        )


def out_of_fold(fit: Fit, features: np.ndarray, labels: np.ndarray, folds: int = 5) -> np.ndarray:
    """Each message's score from the model trained without its fold."""
    scores = np.zeros(len(labels), dtype=np.float64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=13)
    for train, held in splitter.split(features, labels):
        scores[held] = fit(features[train], labels[train])(features[held])
    return scores


def threshold_for_recall(positive_scores: np.ndarray, recall: float) -> float:
    """The highest threshold that keeps at least `recall` of the positives."""
    ordered = np.sort(positive_scores)
    keep = int(np.ceil(recall * len(ordered)))
    return float(ordered[len(ordered) - keep]) if keep else float("inf")


def threshold_for_false_alarms(negative_scores: np.ndarray, rate: float) -> float:
    """The lowest threshold that lets at most `rate` of the negatives through."""
    ordered = np.sort(negative_scores)[::-1]
    allowed = int(np.floor(rate * len(ordered)))
    return float(np.nextafter(ordered[allowed], np.inf)) if allowed < len(ordered) else 0.0


def describe(
    decision: str, rule: str, threshold: float, positives: np.ndarray, negatives: np.ndarray
) -> OperatingPoint:
    return OperatingPoint(
        decision=decision,
        rule=rule,
        threshold=float(threshold),
        recall=float(np.mean(positives >= threshold)) if len(positives) else float("nan"),
        false_alarms=float(np.mean(negatives >= threshold)) if len(negatives) else float("nan"),
    )
