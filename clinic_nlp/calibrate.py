"""`make calibrate`: choose each decision's regularisation and threshold, write config/calibration.yml.

Data: the project's NLU training data (data/nlu), the no-alarm examples (data/safety_negatives.yml)
and CLINC150's train split. Never an evaluation set, and not CLINC150's validation split, which
`make evaluate` reports as the broad set. Each decision's probabilities are out of fold (5-fold,
stratified), so every threshold is chosen on messages its model did not see, for the stated
operating point:

- scope: at most SCOPE_BROAD_RATE of broad messages (CLINC150 train) pass as article questions.
- emergency / crisis: at most SAFETY_FALSE_ALARM_RATE false alarms on broad messages and at most
  SAFETY_PROJECT_FALSE_ALARM_RATE on the project's own non-danger messages (article questions,
  chit-chat, figurative and informational wording: the hard cases). The model adds alarms on meaning; the reviewed patterns keep catching the explicit
  wording, so the model's threshold is set for precision.

Usage: python -m clinic_nlp.calibrate [--folds 5]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import yaml
from rasa.shared.nlu.training_data.loading import load_data
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedKFold

from clinic_nlp.encoder_featurizer import SentenceEncoderFeaturizer
from clinic_nlp.meaning import (
    BUILD_DIR,
    CALIBRATION_FILE,
    DECISIONS,
    LabelledTexts,
    clinc_split,
    fit,
    probability,
    safety_negatives,
    sample_weights,
    targets,
)
from clinic_nlp.sentence_encoder import encode_corpus
from clinic_nlp.topic_classifier import answer_label

SCOPE_BROAD_RATE = 0.01
SAFETY_FALSE_ALARM_RATE = 0.005  # on broad messages
SAFETY_PROJECT_FALSE_ALARM_RATE = 0.02  # on the project's own non-danger messages (the hard ones)
C_GRID = (4.0, 16.0, 64.0)
ENCODE_TOKENS = 24  # as the featurizer encodes a question (training texts are short)
MAX_SEGMENTS = SentenceEncoderFeaturizer.get_default_config()["max_segments"]


def project_examples(path: str = "data/nlu") -> LabelledTexts:
    """The NLU training examples with their answer labels (`faq/<topic>`, `greet`, `crisis`...)."""
    data = load_data(path)
    examples = [m for m in data.intent_examples if m.get("text") and answer_label(m)]
    return LabelledTexts([m.get("text") for m in examples], [answer_label(m) for m in examples])


def training_corpus() -> LabelledTexts:
    return project_examples() + safety_negatives() + clinc_split("train")


def out_of_fold(vectors: np.ndarray, y: np.ndarray, c: float, weights: np.ndarray, folds: int) -> np.ndarray:
    scores = np.zeros(len(y))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=42)
    for train, test in splitter.split(vectors, y):
        scores[test] = probability(vectors[test], fit(vectors[train], y[train], c, weights[train]))
    return scores


def danger_threshold(scores: np.ndarray, y: np.ndarray, broad: np.ndarray, divide: int = 1) -> float:
    """No more false alarms than the rates (divided by `divide`), on broad and on project messages."""
    return max(float(np.quantile(scores[(y == 0) & broad], 1.0 - SAFETY_FALSE_ALARM_RATE / divide)),
               float(np.quantile(scores[(y == 0) & ~broad], 1.0 - SAFETY_PROJECT_FALSE_ALARM_RATE / divide)))  # fmt: skip


def choose_threshold(name: str, scores: np.ndarray, y: np.ndarray, broad: np.ndarray) -> dict:
    """The threshold for the decision's operating point, with the out-of-fold figures it gives.
    Danger decisions also get `threshold_per_segment` for messages of several segments: a message
    of n segments has n chances of a false alarm, so each segment gets the rate / MAX_SEGMENTS."""
    positives = scores[y == 1]
    extra = {}
    if name == "scope":
        threshold = float(np.quantile(scores[(y == 0) & broad], 1.0 - SCOPE_BROAD_RATE))
    else:
        threshold = danger_threshold(scores, y, broad)
        per_segment = danger_threshold(scores, y, broad, MAX_SEGMENTS)
        extra = {"threshold_per_segment": round(per_segment, 4),
                 "out_of_fold_recall_per_segment": round(float((positives >= per_segment).mean()), 4)}  # fmt: skip
    return {
        **extra,
        "threshold": round(threshold, 4),
        "out_of_fold_recall": round(float((positives >= threshold).mean()), 4),
        "out_of_fold_false_rate_broad": round(float((scores[(y == 0) & broad] >= threshold).mean()), 4),
        "out_of_fold_false_rate_project": round(float((scores[(y == 0) & ~broad] >= threshold).mean()), 4),
    }


def calibrate(folds: int) -> dict:
    corpus = training_corpus()
    started = time.time()
    vectors = encode_corpus(corpus.texts, ENCODE_TOKENS, BUILD_DIR)
    print(f"encoded {len(corpus.texts)} texts in {time.time() - started:.0f} s")
    broad = np.array([label.startswith("clinc:") for label in corpus.labels])
    decisions = {}
    for name in DECISIONS:
        y = targets(corpus.labels, name)
        weights = sample_weights(corpus.labels, y, name)
        by_c = {c: out_of_fold(vectors, y, c, weights, folds) for c in C_GRID}
        best_c = max(C_GRID, key=lambda c: average_precision_score(y, by_c[c]))
        decisions[name] = {"C": best_c, **choose_threshold(name, by_c[best_c], y, broad)}
        print(name, decisions[name])
    return decisions


HEADER = """\
# Written by `make calibrate` (clinic_nlp/calibrate.py): do not edit by hand.
# Each decision's C and threshold were chosen on out-of-fold probabilities over the NLU training
# data, data/safety_negatives.yml and CLINC150's train split, for these operating points:
#   scope:     at most {scope:.1%} of broad messages (CLINC150 train) pass as article questions;
#   emergency, crisis: at most {safety:.1%} false alarms on broad messages and at most {project:.0%} on the
#              project's own non-danger messages (the patterns in data/safety.yml stay as the net).
# The out_of_fold_* figures are what the threshold gave on those held-out folds.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    decisions = calibrate(args.folds)
    header = HEADER.format(scope=SCOPE_BROAD_RATE, safety=SAFETY_FALSE_ALARM_RATE,
                           project=SAFETY_PROJECT_FALSE_ALARM_RATE)
    body = yaml.safe_dump({"decisions": decisions}, sort_keys=False)
    CALIBRATION_FILE.write_text(header + body, encoding="utf-8")
    print(f"wrote {CALIBRATION_FILE}")


if __name__ == "__main__":
    main()
