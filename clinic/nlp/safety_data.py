"""The safety decision's own training examples (data/safety/): who is in danger, and who is not.

Each file is one label, its top-level keys are sub-categories (warning signs, kinds of figure of
speech), each a list of messages: crisis.yml (988), emergency.yml (911), both.yml (911 and 988),
no_alarm.yml (alarming words, no danger now) and informational_risk.yml (questions the article
answers, by topic id). Written for training only, without reading the evaluation sets.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

LABELS = ("crisis", "emergency", "both", "no_alarm", "informational_risk")


def load_examples(folder: Path) -> dict[str, list[str]]:
    """Label -> messages, for every label file in `folder`."""
    examples: dict[str, list[str]] = {}
    for label in LABELS:
        groups = yaml.safe_load((folder / f"{label}.yml").read_text(encoding="utf-8")) or {}
        examples[label] = [m for messages in groups.values() for m in messages]
    return examples


def fingerprint(folder: Path) -> str:
    """Changes whenever an example does, so Rasa retrains the safety decision."""
    digest = hashlib.sha256()
    for label in LABELS:
        digest.update((folder / f"{label}.yml").read_bytes())
    return digest.hexdigest()
