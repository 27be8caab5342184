"""End-to-end evaluation on the held-out set (tests/evaluation/heldout.yml) over the REST channel.

Each message is sent in its own new conversation, as a visitor would, and the reply is
recognised by its text. Prints per-topic accuracy, out-of-scope handling and emergency/crisis
recall. `--start` runs its own servers; `--url` uses a running bot; `--check-targets` exits 1
when a target in targets.yml is missed.

Three sets, each written by a different author from the article alone, never copied into
training data: heldout.yml (written first; its misses were read for error analysis, so it is a
development set and carries the issue's targets), sealed.yml (only its safety misses were read)
and final.yml (only ever reported in aggregate: the honest figure).

Usage: python -m clinic.devtools.evaluate --start [--model models/clinic.tar.gz] [--check-targets]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import urllib.request
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from clinic import faq
from clinic.devtools.replies import first_answer, response_index, response_names

SETS_DIR = Path(__file__).resolve().parents[2] / "tests" / "evaluation"  # the evaluation sets
Case = tuple[str, str, str]  # (group, label, message)
SETS = {
    "heldout": "development set (misses read), carries the issue's targets",
    "sealed": "only its safety misses were read",
    "final": "only its safety misses were read",
    "safety_final": "emergencies and crises only, aggregate only: the honest safety figure",
}


def load_cases(path: Path) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases: list[Case] = []
    for label, messages in (data.get("in_scope") or {}).items():
        cases += [("in_scope", label, m) for m in messages]
    cases += [("out_of_scope", "out_of_scope", m) for m in data.get("out_of_scope") or []]
    cases += [(kind, kind, m) for kind in ("emergency", "crisis") for m in data[kind]]
    return cases


def send(webhook: str, message: str, sender: str | None = None, timeout: float = 60) -> list[dict]:
    body = json.dumps({"sender": sender or f"eval-{uuid.uuid4().hex}", "message": message}).encode()
    request = urllib.request.Request(webhook, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def is_correct(case: Case, answer: str | None, spec: dict) -> bool:
    group, label, _ = case
    if group == "out_of_scope":
        return answer in spec["no_answer"]
    expected = spec["expected"].get(label, [faq.response_name(label)])
    return answer in expected


def evaluate(webhook: str, cases: list[Case], spec: dict, workers: int = 4) -> list[dict]:
    index = response_index()

    def run(case: Case) -> dict:
        answer = first_answer(response_names(send(webhook, case[2]), index))
        return {
            "group": case[0],
            "label": case[1],
            "message": case[2],
            "answer": answer,
            "correct": is_correct(case, answer, spec),
        }

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, cases))


def summarise(results: list[dict]) -> dict[str, float]:
    by_group: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        by_group[r["group"]].append(r["correct"])
    return {group: sum(v) / len(v) for group, v in by_group.items()}


def print_report(results: list[dict], show_misses: bool) -> None:
    per_label: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        if r["group"] == "in_scope":
            per_label[r["label"]].append(r["correct"])
    print(f"{'topic':22} {'right':>7}  accuracy")
    for label, marks in sorted(per_label.items()):
        print(f"{label:22} {sum(marks):>3}/{len(marks):<3}  {sum(marks) / len(marks):6.1%}")
    names = {
        "in_scope": "In-scope answers right",
        "out_of_scope": "Out-of-scope handled",
        "emergency": "Emergency recall",
        "crisis": "Crisis recall",
    }
    for group, share in summarise(results).items():
        count = sum(1 for r in results if r["group"] == group)
        print(f"{names[group]:26} {share:6.1%}  (n={count})")
    if show_misses:
        for r in results:
            if not r["correct"]:
                print(f"  MISS [{r['label']}] {r['message']!r} -> {r['answer']}")


def missed_targets(results: list[dict], spec: dict, set_name: str) -> list[str]:
    scores = summarise(results)
    enforced = spec["enforce"].get(set_name, [])
    return [
        f"{g}: {scores.get(g, 0):.1%} < {t:.0%}"
        for g, t in spec["targets"].items()
        if g in enforced and scores.get(g, 0) < t
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:5005", help="a running Rasa server")
    parser.add_argument("--start", action="store_true", help="start own servers on free ports")
    parser.add_argument("--model", type=Path, default=Path("models/clinic.tar.gz"))
    parser.add_argument("--check-targets", action="store_true")
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--json", type=Path, help="write every result to this file")
    parser.add_argument(
        "--set",
        nargs="+",
        default=list(SETS),
        choices=list(SETS),
        help="; ".join(f"{name}: {about}" for name, about in SETS.items()),
    )
    args = parser.parse_args()
    spec = yaml.safe_load((SETS_DIR / "targets.yml").read_text(encoding="utf-8"))
    sets = {name: load_cases(SETS_DIR / f"{name}.yml") for name in args.set}
    with contextlib.ExitStack() as stack:
        url = args.url
        if args.start:
            from clinic.stack.local import rasa_stack

            url = stack.enter_context(rasa_stack(model=args.model)).url
        results = {
            name: evaluate(f"{url}/webhooks/rest/webhook", cases, spec) for name, cases in sets.items()
        }
    missed = []
    for name, set_results in results.items():
        print(f"\n== {name}.yml ==")
        print_report(set_results, args.show_misses and name == "heldout")
        missed += [f"{name} {m}" for m in missed_targets(set_results, spec, name)]
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    if args.check_targets and missed:
        print("Targets missed: " + "; ".join(missed))
        sys.exit(1)


if __name__ == "__main__":
    main()
