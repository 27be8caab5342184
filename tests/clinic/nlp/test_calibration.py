"""Thresholds are chosen on held-out scores for a stated operating point."""

from __future__ import annotations

import numpy as np

from clinic.nlp.calibration import describe, out_of_fold, threshold_for_false_alarms, threshold_for_recall


def test_threshold_for_recall_keeps_that_share_of_positives() -> None:
    scores = np.arange(100, dtype=float)  # 0..99
    threshold = threshold_for_recall(scores, 0.9)
    assert threshold == 10.0 and np.mean(scores >= threshold) == 0.9
    assert threshold_for_recall(scores, 1.0) == 0.0


def test_threshold_for_false_alarms_lets_at_most_that_share_through() -> None:
    scores = np.arange(1000, dtype=float)
    threshold = threshold_for_false_alarms(scores, 0.01)
    assert np.mean(scores >= threshold) <= 0.01
    assert np.mean(scores >= threshold - 1.0) > 0.01  # and it is the lowest such threshold


def test_out_of_fold_scores_each_message_with_a_model_that_did_not_see_it() -> None:
    features = np.arange(40, dtype=float)[:, None]
    labels = np.r_[np.zeros(20), np.ones(20)]
    seen: list[set[float]] = []

    def fit(rows: np.ndarray, y: np.ndarray):
        seen.append(set(rows[:, 0]))
        return lambda held: np.array([float(v in seen[-1]) for v in held[:, 0]])

    scores = out_of_fold(fit, features, labels)
    assert len(seen) == 5 and not scores.any()  # every score came from a model without it


def test_describe_reports_recall_and_false_alarms_at_the_threshold() -> None:
    point = describe("crisis", "rule", 0.5, np.array([0.2, 0.6, 0.9, 0.7]), np.array([0.1, 0.6]))
    assert (point.recall, point.false_alarms) == (0.75, 0.5)
    assert "threshold 0.500" in str(point) and "recall 75.0%" in str(point)
