"""The safety model: one sentence in danger is enough, both kinds give both, patterns are a net."""

from __future__ import annotations

import numpy as np
import pytest

from clinic.nlp.safety_model import LONG_WORDS, Head, SafetyData, SafetyModel, is_long
from clinic.nlp.safety_patterns import CRISIS, EMERGENCY


def cluster(rng: np.random.Generator, centre: np.ndarray, count: int) -> np.ndarray:
    rows = centre + rng.normal(0, 0.05, (count, centre.size))
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def model() -> tuple[SafetyModel, dict[str, np.ndarray]]:
    rng = np.random.default_rng(3)
    axes = {name: np.eye(8)[i] for i, name in enumerate(["crisis", "emergency", "calm", "broad"])}
    data = SafetyData(
        only={CRISIS: cluster(rng, axes["crisis"], 60), EMERGENCY: cluster(rng, axes["emergency"], 60)},
        both=cluster(rng, axes["crisis"] + axes["emergency"], 30),
        negatives=np.vstack([cluster(rng, axes["calm"], 200), cluster(rng, axes["broad"], 200)]),
        long_calm=[np.arange(i, i + 4) for i in range(0, 200, 4)],  # calm rows, four segments each
        broad_calibration=cluster(rng, axes["broad"], 100),
    )
    trained = SafetyModel.train(data, C=10.0, recall={CRISIS: 0.95, EMERGENCY: 0.95}, veto_recall=0.99)
    return trained, axes


def test_each_kind_is_found_and_calm_messages_are_not(model) -> None:
    trained, axes = model
    assert trained.assess(axes["crisis"][None], frozenset(), words=8) == {CRISIS}
    assert trained.assess(axes["emergency"][None], frozenset(), words=8) == {EMERGENCY}
    assert trained.assess(axes["calm"][None], frozenset(), words=8) == frozenset()
    both = (axes["crisis"] + axes["emergency"]) / np.sqrt(2)
    assert trained.assess(both[None], frozenset(), words=8) == {CRISIS, EMERGENCY}


def test_one_segment_in_danger_is_not_averaged_away(model) -> None:
    trained, axes = model
    segments = np.vstack([axes["calm"], axes["calm"], axes["crisis"], axes["broad"]])
    assert trained.assess(segments, frozenset(), words=8) == {CRISIS}


def test_a_pattern_match_counts_unless_the_model_is_sure_it_is_calm(model) -> None:
    trained, axes = model
    head = trained.heads[CRISIS]
    mixes = [(w * axes["crisis"] + (1 - w) * axes["calm"]) for w in np.linspace(0, 1, 201)]
    unsure = [
        m / np.linalg.norm(m)
        for m in mixes
        if head.veto <= head.score(m[None] / np.linalg.norm(m)) < head.threshold
    ]
    assert unsure, "some mix of crisis and calm lies between the veto and the threshold"
    between = unsure[len(unsure) // 2]
    assert CRISIS not in trained.assess(between[None], frozenset(), words=8)
    assert trained.assess(between[None], frozenset({CRISIS}), words=8) == {CRISIS}
    assert trained.assess(axes["broad"][None], frozenset({CRISIS}), words=8) == frozenset()  # vetoed


def test_operating_points_are_kept_and_survive_saving(model) -> None:
    trained, axes = model
    head = trained.heads[CRISIS]
    assert head.point.recall >= 0.95 and head.veto <= head.threshold <= head.long_threshold
    arrays, meta = trained.to_arrays()
    loaded = SafetyModel.from_arrays(arrays, meta)
    probe = np.vstack([axes["crisis"], axes["calm"]])
    for kind in (CRISIS, EMERGENCY):
        assert loaded.heads[kind].scores(probe) == pytest.approx(trained.heads[kind].scores(probe), abs=1e-5)
    assert trained.assess(np.zeros((0, 8)), frozenset(), words=0) == frozenset()  # an empty message


def test_the_matched_wording_confirms_its_own_kind_only(model) -> None:
    trained, axes = model
    calm = axes["calm"][None]
    assert trained.assess(calm, frozenset({EMERGENCY}), matched=axes["emergency"][None], words=8) == {
        EMERGENCY
    }
    # the corrected wording looks like a crisis, but the pattern named an emergency: no 988
    assert trained.assess(calm, frozenset({EMERGENCY}), matched=axes["crisis"][None], words=8) == frozenset()


def test_only_long_messages_get_the_long_threshold() -> None:
    """Three short fragments are one thought; three long sentences are a calm preamble's chances."""
    danger = np.eye(8)[0]
    head = Head(danger[None].astype(np.float32), np.ones(1, np.float32), 0.0, 1.0, 0.5, 0.4, None, 0.9)
    model = SafetyModel({CRISIS: head})
    near = np.cos(0.4) * danger + np.sin(0.4) * np.eye(8)[1]  # scores exp(-|near - danger|^2), about 0.85
    assert head.threshold < head.score(near[None]) < head.long_threshold
    fragments = np.vstack([near, np.eye(8)[2], np.eye(8)[3]])
    assert is_long(len(fragments), LONG_WORDS - 1) is False
    assert model.assess(fragments, frozenset(), words=LONG_WORDS - 1) == {CRISIS}
    assert model.assess(fragments, frozenset(), words=LONG_WORDS) == frozenset()
    assert model.assess(near[None], frozenset(), words=LONG_WORDS * 3) == {CRISIS}  # one segment: not long
