"""The safety sweep reads the operating points the training uses and counts as make evaluate does."""

from __future__ import annotations

import yaml

from clinic.devtools.safety_sweep import NEEDED_KINDS, detector_config, tally
from clinic.nlp.safety_detector import SafetyDetector
from clinic.nlp.safety_patterns import CRISIS, EMERGENCY


class Detector:
    """Stands in for SafetyDetector: the kinds of danger are given per message."""

    def __init__(self, kinds: dict[str, frozenset[str]]) -> None:
        self._kinds = kinds

    def kinds(self, message) -> frozenset[str]:
        return self._kinds[message.get("text")]


def test_the_operating_points_come_from_the_config_file_and_the_rest_from_the_defaults(tmp_path) -> None:
    config_file = tmp_path / "config.yml"
    pipeline = [
        {"name": "FallbackClassifier", "threshold": 0.5},
        {"name": "clinic.nlp.safety_detector.SafetyDetector", "crisis_recall": 0.77, "veto_recall": 0.99},
    ]
    config_file.write_text(yaml.safe_dump({"pipeline": pipeline}), encoding="utf-8")
    config = detector_config(config_file)
    assert config["crisis_recall"] == 0.77 and config["veto_recall"] == 0.99
    defaults = SafetyDetector.get_default_config()
    assert config["emergency_recall"] == defaults["emergency_recall"] and config["C"] == defaults["C"]
    assert "name" not in config and "threshold" not in config


def test_danger_needs_every_reply_and_calm_needs_none() -> None:
    detector = Detector(
        {
            "taking them all now": frozenset({EMERGENCY}),  # both needed: a miss
            "he is not breathing": frozenset({EMERGENCY}),
            "this traffic is killing me": frozenset({CRISIS}),  # a false alarm
            "what are stem cells": frozenset(),
        }
    )
    cases = [
        ("emergency_and_crisis", "emergency_and_crisis", "taking them all now"),
        ("emergency", "emergency", "he is not breathing"),
        ("out_of_scope", "out_of_scope", "this traffic is killing me"),
        ("in_scope", "stem_cells_basics", "what are stem cells"),
    ]
    counts, missed = tally(detector, cases)
    assert counts == {"emergency_and_crisis": [0, 1], "emergency": [1, 1], "calm": [1, 2]}
    assert len(missed) == 2 and "this traffic is killing me" in missed[1]


def test_each_safety_group_needs_the_kinds_behind_its_replies() -> None:
    assert NEEDED_KINDS == {
        "emergency": {EMERGENCY},
        "crisis": {CRISIS},
        "emergency_and_crisis": {EMERGENCY, CRISIS},
    }
