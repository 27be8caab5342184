"""The safety decision alone, at several operating points, on every evaluation set: in minutes.

`make evaluate` answers "what does a visitor get?" end to end, after a full training. Choosing the
safety heads' operating points (config.yml: crisis_recall, emergency_recall, veto_recall) needs
the same question asked of the safety decision only, at several points, on the same training
data. This trains `SafetyModel` as `SafetyDetector.train` does (Rasa's own loader for the NLU data,
so the examples and their order, and hence the folds and thresholds, are the training's) and runs
`SafetyDetector.kinds` on every message of every set.

Per set it prints, for each operating point, how many danger messages got their reply and how
many calm ones got an alarm. Sets developers may not read are reported in aggregate only; with
`--show-misses` the misses of the readable sets are printed. Choose a point on the calibration
figures (the out-of-fold recall, CLINC150's calibration part) and the development sets; the
score sets only confirm it.

Usage: python -m clinic.devtools.safety_sweep [--crisis-recall 0.90 0.92] [--emergency-recall 0.93]
       [--veto-recall 0.95] [--C 10] [--set heldout figurative_dev ...] [--show-misses]
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path
from typing import Any

import yaml

from clinic.devtools.evaluate import CRISIS_REPLY, EMERGENCY_REPLY, NEEDS, SETS, SETS_DIR, load_cases
from clinic.nlp.meaning import broad_vectors
from clinic.nlp.safety_detector import SafetyDetector, training_vectors
from clinic.nlp.safety_model import SafetyData, SafetyModel
from clinic.nlp.safety_patterns import CRISIS, EMERGENCY

ROOT = Path(__file__).resolve().parents[2]
# The kinds of danger each safety group needs: make evaluate's replies, as the decision's kinds.
KIND_OF_REPLY = {EMERGENCY_REPLY: EMERGENCY, CRISIS_REPLY: CRISIS}
NEEDED_KINDS = {group: {KIND_OF_REPLY[reply] for reply in replies} for group, replies in NEEDS.items()}
SWEPT = ("C", "crisis_recall", "emergency_recall", "veto_recall")


def detector_config(config_path: Path = ROOT / "config.yml") -> dict[str, Any]:
    """SafetyDetector's entry in config.yml, with its defaults."""
    pipeline = yaml.safe_load(config_path.read_text(encoding="utf-8"))["pipeline"]
    entry = next(c for c in pipeline if c["name"].endswith("SafetyDetector"))
    return {**SafetyDetector.get_default_config(), **{k: v for k, v in entry.items() if k != "name"}}


def load_training_data(config: dict[str, Any], root: Path = ROOT) -> SafetyData:
    """The embeddings SafetyDetector.train sees, from Rasa's importer (needs data/nlu/faq.yml: make data)."""
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_config(
        config_path=str(root / "config.yml"),
        domain_path=str(root / "domain.yml"),
        training_data_paths=[str(root / "data")],
    )
    return training_vectors(root / config["examples"], importer.get_nlu_data())


def kinds_of(detector: SafetyDetector, text: str) -> frozenset[str]:
    """The decision on one message, as the NLU pipeline makes it."""
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    return detector.kinds(Message(data={TEXT: text}))


def tally(
    detector: SafetyDetector, cases: list[tuple[str, str, str]]
) -> tuple[dict[str, list[int]], list[str]]:
    """Group -> [right, total] ("calm": no alarm on a message that is neither), and the misses."""
    counts: dict[str, list[int]] = {}
    missed: list[str] = []
    for group, _label, text in cases:
        kinds = kinds_of(detector, text)
        right = NEEDED_KINDS[group] <= kinds if group in NEEDED_KINDS else not kinds
        key = group if group in NEEDED_KINDS else "calm"
        counts.setdefault(key, [0, 0])
        counts[key][0] += right
        counts[key][1] += 1
        if not right:
            missed.append(f"  MISS [{group}] {sorted(kinds) or 'no alarm'} <- {text!r}")
    return counts, missed


def broad_alarms(detector: SafetyDetector) -> tuple[int, int]:
    """Alarms on CLINC150's calibration part (never trained on): the broad false-alarm estimate."""
    texts = [text for text, _intent in broad_vectors("calibration")[0]]
    return sum(bool(kinds_of(detector, t)) for t in texts), len(texts)


def main() -> None:
    base = detector_config()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in SWEPT:
        parser.add_argument(
            f"--{name.replace('_', '-')}", type=float, nargs="+", default=[base[name]]
        )  # --C: the SVM's
    readable = [n for n, s in SETS.items() if s.readable]
    named = [n for n in SETS if n != "broad"]  # the broad set's stand-in: CLINC150's calibration part
    parser.add_argument("--set", nargs="+", default=named, choices=named)
    parser.add_argument("--show-misses", action="store_true", help=f"misses of {', '.join(readable)}")
    args = parser.parse_args()
    data = load_training_data(base)
    sets = {name: load_cases(SETS_DIR / f"{name}.yml") for name in args.set}
    for values in itertools.product(*(getattr(args, name) for name in SWEPT)):
        point = dict(zip(SWEPT, values, strict=True))
        model = SafetyModel.train(
            data,
            C=point["C"],
            recall={CRISIS: point["crisis_recall"], EMERGENCY: point["emergency_recall"]},
            veto_recall=point["veto_recall"],
        )
        detector = SafetyDetector.with_model(base, model)
        print(f"\n== {', '.join(f'{k} {v:.2f}' for k, v in point.items())}")
        for head in model.heads.values():
            print(f"  {head.point}")
        alarms, total = broad_alarms(detector)
        print(f"  CLINC150 calibration part: {alarms}/{total} alarms")
        for name, cases in sets.items():
            counts, missed = tally(detector, cases)
            print(f"  {name:22} " + "  ".join(f"{k} {r}/{n}" for k, (r, n) in sorted(counts.items())))
            if args.show_misses and SETS[name].readable:
                print("\n".join(missed))


if __name__ == "__main__":
    main()
