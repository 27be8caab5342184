"""Two calibrated decisions on the sentence encoder's vectors: "about our article?" and "danger?".

Each decision is a logistic regression over the encoder's vectors, trained on the project's NLU
data plus broad ordinary messages (CLINC150's train split, `../shared/data/clinc150`), and each
has its own threshold, chosen by `make calibrate` (clinic_nlp/calibrate.py) on out-of-fold
probabilities for a stated operating point and written to config/calibration.yml. Nothing here
is a hand-picked number.

- scope: article question (a curated answer may be given) vs anything else. Below threshold,
  a curated answer becomes the honest "I don't have that information".
- emergency and crisis: two independent decisions, so a message can be both. Danger is scored
  sentence by sentence (the highest sentence counts), so a crisis buried in a long message
  still counts and a calm preamble does not dilute it.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
CLINC_DIR = ROOT.parent / "shared" / "data" / "clinc150"
CALIBRATION_FILE = ROOT / "config" / "calibration.yml"
BUILD_DIR = ROOT / "build"
NEGATIVES_FILE = ROOT / "data" / "safety_negatives.yml"
DECISIONS = ("scope", "emergency", "crisis")
SAFETY_INTENTS = {"emergency", "crisis"}


@dataclass
class LabelledTexts:
    """Texts with the answer label they were written for (`faq/iv_risks`, `crisis`, `clinc:...`)."""

    texts: list[str]
    labels: list[str]

    def __add__(self, other: LabelledTexts) -> LabelledTexts:
        return LabelledTexts(self.texts + other.texts, self.labels + other.labels)


def clinc_split(split: str, directory: Path = CLINC_DIR) -> LabelledTexts:
    """CLINC150's `train` or `val` split with its oos part, labels prefixed `clinc:`."""
    path = directory / "clinc150_train_val.json"
    if not path.exists():
        raise FileNotFoundError(
            f"Broad negative data missing: {path}. The CLINC150 train/val splits must be at "
            "../shared/data/clinc150/ beside the repository (see README, 'Broad negative data')."
        )
    data = json.loads(path.read_text(encoding="utf-8"))
    pairs = data[split] + data[f"oos_{split}"]
    return LabelledTexts([t for t, _ in pairs], [f"clinc:{i}" for _, i in pairs])


def safety_negatives(path: Path = NEGATIVES_FILE) -> LabelledTexts:
    """Figures of speech and informational questions that use danger words: never an alarm."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    texts = [t for group in raw["no_alarm"].values() for t in group]
    return LabelledTexts(texts, ["no_alarm"] * len(texts))


def targets(labels: Iterable[str], decision: str) -> np.ndarray:
    """1 where the label is a positive for the decision."""
    if decision == "scope":
        return np.array([label.startswith("faq/") for label in labels], dtype=int)
    return np.array([label == decision for label in labels], dtype=int)


# Sample weights for the danger decisions: the project's own messages (article questions,
# chit-chat, the no-alarm examples) are the hard negatives, so each counts as much as
# PROJECT_WEIGHT broad messages; a danger example counts DANGER_WEIGHT times. (The scope
# decision uses balanced class weights.) The thresholds are calibrated afterwards either way.
PROJECT_WEIGHT = 5.0
DANGER_WEIGHT = 10.0


def sample_weights(labels: list[str], y: np.ndarray, decision: str) -> np.ndarray:
    if decision == "scope":
        return np.where(y == 1, len(y) / (2.0 * max(y.sum(), 1)), len(y) / (2.0 * max((1 - y).sum(), 1)))
    broad = np.array([label.startswith("clinc:") for label in labels])
    return np.where(broad, 1.0, PROJECT_WEIGHT) * np.where(y == 1, DANGER_WEIGHT, 1.0)


def fit(vectors: np.ndarray, y: np.ndarray, c: float, weights: np.ndarray) -> tuple[np.ndarray, float]:
    model = LogisticRegression(C=c, max_iter=3000)
    model.fit(vectors, y, sample_weight=weights)
    return model.coef_[0].astype(np.float32), float(model.intercept_[0])


def probability(vectors: np.ndarray, weights: tuple[np.ndarray, float]) -> np.ndarray:
    coef, intercept = weights
    return 1.0 / (1.0 + np.exp(-(vectors @ coef + intercept)))


@dataclass
class Decisions:
    """The three trained decisions and their calibrated thresholds."""

    weights: dict[str, tuple[np.ndarray, float]]
    thresholds: dict[str, float]

    def scope(self, focus: np.ndarray) -> float:
        return float(probability(focus.reshape(1, -1), self.weights["scope"])[0])

    def danger(self, vectors: np.ndarray) -> dict[str, float]:
        """The highest probability over the message's segments, per kind of danger."""
        if len(vectors) == 0:
            return {"emergency": 0.0, "crisis": 0.0}
        return {k: float(probability(vectors, self.weights[k]).max()) for k in SAFETY_INTENTS}

    def alarms(self, vectors: np.ndarray) -> dict[str, bool]:
        """Each kind of danger against its threshold: a single sentence's, or the stricter
        per-segment one when the message has several segments (each is a chance of a false alarm)."""
        scores = self.danger(vectors)
        suffix = "_per_segment" if len(vectors) > 1 else ""
        return {k: scores[k] >= self.thresholds[k + suffix] for k in scores}

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {}
        for name, (coef, intercept) in self.weights.items():
            arrays[f"{name}_coef"] = coef
            arrays[f"{name}_intercept"] = np.array([intercept])
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Any, thresholds: dict[str, float]) -> Decisions:
        weights = {n: (arrays[f"{n}_coef"], float(arrays[f"{n}_intercept"][0])) for n in DECISIONS}
        return cls(weights, thresholds)


def load_calibration(path: Path = CALIBRATION_FILE) -> dict[str, Any]:
    """config/calibration.yml: the regularisation and thresholds `make calibrate` chose."""
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `make calibrate`.")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def train_decisions(vectors: np.ndarray, labels: list[str], calibration: dict[str, Any]) -> Decisions:
    """Fit each decision on all the data, with the calibrated regularisation and thresholds."""
    weights = {}
    thresholds = {}
    for name in DECISIONS:
        settings = calibration["decisions"][name]
        y = targets(labels, name)
        weights[name] = fit(vectors, y, settings["C"], sample_weights(labels, y, name))
        thresholds[name] = float(settings["threshold"])
        if "threshold_per_segment" in settings:
            thresholds[f"{name}_per_segment"] = float(settings["threshold_per_segment"])
    return Decisions(weights, thresholds)
