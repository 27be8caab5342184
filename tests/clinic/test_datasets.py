"""The external data sets in datasets/ as clinic/datasets.py loads them: CLINC150's splits, its
domains, the broad evaluation set and the seeded training/calibration split."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from clinic import datasets
from clinic.datasets import Example, training_and_calibration

CLINC = datasets.CLINC150_DIR


def test_clinc150_has_its_four_splits_and_no_test_split() -> None:
    sizes = {split: len(datasets.clinc150(split)) for split in datasets.CLINC150_SPLITS}
    assert sizes == {"train": 15000, "val": 3000, "oos_train": 100, "oos_val": 100}
    stored = json.loads((CLINC / "clinc150_train_val.json").read_text(encoding="utf-8"))
    assert set(stored) == set(datasets.CLINC150_SPLITS)
    assert not [p.name for p in CLINC.iterdir() if "test" in p.name.lower()]
    with pytest.raises(ValueError, match="unknown CLINC150 split"):
        datasets.clinc150("test")


def test_each_intent_has_its_share_and_a_domain() -> None:
    domains = datasets.clinc150_domains()
    assert len(domains) == 10 and all(len(intents) == 15 for intents in domains.values())
    assert set(datasets.CHIT_CHAT_DOMAINS) <= set(domains)
    for split, per_intent in (("train", 100), ("val", 20)):
        counts = Counter(e.intent for e in datasets.clinc150(split))
        assert len(counts) == 150 and set(counts.values()) == {per_intent}
        assert {datasets.domain_of(intent) for intent in counts} == set(domains)
    assert {e.intent for e in datasets.clinc150("oos_val")} == {datasets.OOS}
    assert datasets.domain_of("oos") == "oos"
    assert datasets.domain_of("greeting") == "small_talk" and datasets.is_chit_chat("greeting")
    assert datasets.domain_of("transfer") == "banking" and not datasets.is_chit_chat("transfer")
    with pytest.raises(KeyError):
        datasets.domain_of("iv_risks")


def test_the_broad_set_is_val_and_oos_val() -> None:
    broad = datasets.broad_set()
    assert len(broad) == 3100
    assert broad == datasets.clinc150("val") + datasets.clinc150("oos_val")
    assert all(isinstance(e, Example) and e.text.strip() for e in broad)
    assert sum(datasets.is_chit_chat(e.intent) for e in broad) == 600  # 2 domains x 15 intents x 20
    # Never trained or calibrated on: no request of the broad set is in the training splits.
    training = {e.text for split in ("train", "oos_train") for e in datasets.clinc150(split)}
    assert len({e.text for e in broad} & training) == 3  # CLINC150 itself repeats three short requests


def test_training_and_calibration_is_stratified_disjoint_and_complete() -> None:
    train = datasets.clinc150("train")
    training, calibration = training_and_calibration(train)
    assert len(training) == 12000 and len(calibration) == 3000
    assert set(Counter(e.intent for e in calibration).values()) == {20}
    assert set(Counter(e.intent for e in training).values()) == {80}
    assert Counter(training + calibration) == Counter(train)
    # Each part keeps the input's order.
    order = {id(e): i for i, e in enumerate(train)}
    assert [order[id(e)] for e in calibration] == sorted(order[id(e)] for e in calibration)


def test_training_and_calibration_is_deterministic_per_seed_and_per_intent() -> None:
    train = datasets.clinc150("train")
    first, again = training_and_calibration(train), training_and_calibration(list(train))
    assert first == again
    other_seed = training_and_calibration(train, seed=12)
    assert other_seed[1] != first[1]
    # An intent's split does not depend on the other intents in the list.
    alone = [e for e in train if e.intent == "translate"]
    assert training_and_calibration(alone)[1] == [e for e in first[1] if e.intent == "translate"]


def test_training_and_calibration_small_groups_and_bad_shares() -> None:
    examples = [Example("a", "x"), Example("b", "x"), Example("c", "y")]
    training, calibration = training_and_calibration(examples, calibration_share=0.2)
    # "x" (2 examples) gives one to calibration; "y" (1 example) stays in training.
    assert [e.intent for e in calibration] == ["x"] and len(training) == 2
    assert Counter(e.intent for e in training) == {"x": 1, "y": 1}
    for share in (0, 1, 1.5):
        with pytest.raises(ValueError):
            training_and_calibration(examples, calibration_share=share)


def test_every_data_set_has_its_licence_and_credit() -> None:
    root = Path(datasets.DATASETS_DIR)
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "Larson" in readme and "EMNLP" in readme and "Attribution 3.0" in readme
    assert "test split is deliberately absent" in readme
    for folder in (p for p in root.iterdir() if p.is_dir()):
        assert (folder / "LICENSE").is_file(), f"{folder.name} has no LICENSE"
        assert f"`{folder.name}/`" in readme, f"datasets/README.md does not describe {folder.name}"
    assert "Attribution 3.0" in (CLINC / "LICENSE").read_text(encoding="utf-8")
