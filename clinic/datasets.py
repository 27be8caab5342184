"""External public data sets kept in `datasets/` (each with its licence): loading and splitting.

CLINC150 (Larson et al., EMNLP 2019; CC BY 3.0; `datasets/clinc150/`) is the broad set of ordinary
requests to a general assistant. Its splits here:

- `train` (15,000, 100 per intent) and `oos_train` (100): for training and calibrating. Split
  `train` with `training_and_calibration` so that a model is fitted on one part and its
  thresholds chosen on the other;
- `val` (3,000, 20 per intent) and `oos_val` (100): the broad evaluation set (`broad_set`), never
  trained or calibrated on.

The test split is deliberately absent: the project's independent evaluation keeps it. Do not look
for it or train on it.

Every CLINC150 request is outside the clinic's article. The `small_talk` and `meta` domains
(greetings, thanks, "are you a bot", goodbye...) are chit-chat the assistant may answer as
chit-chat; the other domains and `oos` should get neither a curated answer nor a safety reply.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import NamedTuple

DATASETS_DIR = Path(__file__).resolve().parents[1] / "datasets"
CLINC150_DIR = DATASETS_DIR / "clinc150"
CLINC150_SPLITS = ("train", "val", "oos_train", "oos_val")
OOS = "oos"  # CLINC150's intent (and here its domain) for requests that fit none of its 150 intents
CHIT_CHAT_DOMAINS = ("small_talk", "meta")


class Example(NamedTuple):
    text: str
    intent: str  # one of CLINC150's 150 intents, or "oos"


@cache
def _clinc150_file(directory: Path) -> dict[str, list[list[str]]]:
    return json.loads((directory / "clinc150_train_val.json").read_text(encoding="utf-8"))


def clinc150(split: str, directory: Path = CLINC150_DIR) -> list[Example]:
    """One split of CLINC150: `train`, `val`, `oos_train` or `oos_val`, in the file's order."""
    if split not in CLINC150_SPLITS:
        raise ValueError(f"unknown CLINC150 split {split!r}; there are {', '.join(CLINC150_SPLITS)}")
    return [Example(text, intent) for text, intent in _clinc150_file(directory)[split]]


@cache
def clinc150_domains(directory: Path = CLINC150_DIR) -> dict[str, tuple[str, ...]]:
    """CLINC150's ten domains -> their intents (15 each)."""
    domains = json.loads((directory / "domains.json").read_text(encoding="utf-8"))
    return {domain: tuple(intents) for domain, intents in domains.items()}


def domain_of(intent: str, directory: Path = CLINC150_DIR) -> str:
    """The domain of a CLINC150 intent; `oos` for out-of-scope requests."""
    if intent == OOS:
        return OOS
    for domain, intents in clinc150_domains(directory).items():
        if intent in intents:
            return domain
    raise KeyError(f"{intent!r} is not a CLINC150 intent")


def is_chit_chat(intent: str, directory: Path = CLINC150_DIR) -> bool:
    """True for small-talk and meta requests, which the assistant may answer as chit-chat."""
    return domain_of(intent, directory) in CHIT_CHAT_DOMAINS


def broad_set(directory: Path = CLINC150_DIR) -> list[Example]:
    """The broad evaluation set: `val` then `oos_val` (3,100 requests). Never train or calibrate on it."""
    return clinc150("val", directory) + clinc150("oos_val", directory)


def training_and_calibration(
    examples: list[Example], calibration_share: float = 0.2, seed: int = 11
) -> tuple[list[Example], list[Example]]:
    """Split examples into a training part and a calibration part, stratified by intent.

    Each intent's examples are shuffled with a generator seeded by `seed` and the intent's name,
    and round(share x count) of them go to calibration (at least one when an intent has two or
    more). The same examples and seed always give the same split, whatever the other intents;
    each part keeps the input's order.
    """
    if not 0 < calibration_share < 1:
        raise ValueError("calibration_share must be between 0 and 1")
    positions: dict[str, list[int]] = defaultdict(list)
    for position, example in enumerate(examples):
        positions[example.intent].append(position)
    calibration: set[int] = set()
    for intent, found in positions.items():
        count = round(calibration_share * len(found))
        if len(found) >= 2:
            count = min(max(count, 1), len(found) - 1)
        shuffled = sorted(found)
        random.Random(f"{seed}:{intent}").shuffle(shuffled)
        calibration.update(shuffled[:count])
    training = [e for p, e in enumerate(examples) if p not in calibration]
    return training, [e for p, e in enumerate(examples) if p in calibration]


@cache
def clinc150_parts() -> tuple[tuple[Example, ...], tuple[Example, ...]]:
    """CLINC150's `train` + `oos_train`, split into the part decisions train on and the part their
    thresholds are chosen on (never the broad evaluation set)."""
    training, calibration = training_and_calibration(clinc150("train") + clinc150("oos_train"))
    return tuple(training), tuple(calibration)


def fingerprint(directory: Path = CLINC150_DIR) -> str:
    """Changes when the data set does, so Rasa retrains what was trained on it."""
    return hashlib.sha256((directory / "clinc150_train_val.json").read_bytes()).hexdigest()
