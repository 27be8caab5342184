"""The safety sweep reads the operating points the training uses and counts as make evaluate does."""

from __future__ import annotations

import yaml

from clinic.devtools.safety_sweep import ROOT, detector_config, tally
from clinic.nlp.safety_patterns import CRISIS, EMERGENCY


class Detector:
    """Stands in for SafetyDetector: the kinds of danger are given per message."""

    def __init__(self, kinds: dict[str, frozenset[str]]) -> None:
        self._kinds = kinds

    def kinds(self, message) -> frozenset[str]:
        return self._kinds[message.get("text")]


def test_the_operating_points_are_config_yml_s() -> None:
    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    entry = next(c for c in pipeline if c["name"].endswith("SafetyDetector"))
    config = detector_config()
    for name in ("crisis_recall", "emergency_recall", "veto_recall"):
        assert config[name] == entry[name]
    assert config["C"] > 0  # a default the entry does not set


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
