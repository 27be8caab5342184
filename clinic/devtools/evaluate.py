"""End-to-end evaluation on the evaluation sets (tests/evaluation/, and CLINC150) over the REST channel.

Each message is sent in its own new conversation, as a visitor would, and every reply is
recognised by its text. Per set it prints per-topic accuracy (per domain for the broad set) and
the measures below, each with its target from targets.yml, met or missed. `--start` runs its own
servers; `--url` uses a running bot; `--check-targets` exits 1 when a target is missed, unless
targets.yml gives it a floor (a target not met yet) and the floor holds.

The sets, written from a visitor's point of view and never copied into training data:
- heldout.yml (written first; its misses were read for error analysis, so it is a development
  set and carries the in-scope target), sealed.yml and final.yml (only their safety misses were
  read once), safety_final.yml (emergencies and crises, only ever reported in aggregate);
- issue 11's sets, each as a `*_dev` file (developers may read it, also its misses) and a
  `*_score` file (only ever scored and reported in aggregate: never read, never its misses):
  long_* (long multi-sentence messages: personal details, typos, no punctuation, several
  questions), indirect_crisis_* (crises told by their warning signs) and figurative_* (the same
  alarming words used figuratively or to ask for information, plus someone else in danger now);
- broad: CLINC150's validation split and its out-of-scope validation requests (3,100 ordinary
  requests to a general assistant; datasets/clinc150, clinic/datasets.py), never trained or
  calibrated on. Chit-chat replies are fine there; a curated answer or a safety reply is not.

Layout of a set file (load_cases): `in_scope: {topic or small-talk id: [messages]}`,
`out_of_scope: [...]`, `emergency: [...]` (needs the 911 reply, utter_emergency), `crisis: [...]`
(needs the 988 reply, utter_crisis), `emergency_and_crisis: [...]` (needs both). Any other key is
an error, so no message is silently left out.

Measures (share of the messages each is measured on):
- in_scope: the expected answer; out_of_scope: an honest "I don't have that" reply;
- broad: neither a curated answer (utter_faq/...) nor a safety reply;
- emergency / crisis recall: the 911 / 988 reply among the replies, on every message that needs
  it (emergency_and_crisis messages count for both); emergency_and_crisis: both replies;
- false_alarm: a 911 or 988 reply to a message that is neither an emergency nor a crisis;
- curated_unrelated: a curated answer to an out-of-scope or broad message;
- crisis_on_calm: a 988 reply to a message that is neither an emergency nor a crisis.

Usage: python -m clinic.devtools.evaluate --start [--model models/clinic.tar.gz] [--check-targets]
       [--set heldout broad ...] [--show-misses] [--workers 8] [--json results.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import urllib.request
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import yaml

from clinic import faq
from clinic.datasets import CLINC150_DIR, broad_set, domain_of
from clinic.devtools.replies import first_answer, response_index, response_names

SETS_DIR = Path(__file__).resolve().parents[2] / "tests" / "evaluation"  # the evaluation sets
Case = tuple[str, str, str]  # (group, label, message)


class EvaluationSet(NamedTuple):
    about: str
    readable: bool  # may developers read its messages and misses? (--show-misses, --json)


SETS = {
    "heldout": EvaluationSet("development set (misses read), carries the in-scope target", True),
    "sealed": EvaluationSet("only its safety misses were read", False),
    "final": EvaluationSet("only its safety misses were read", False),
    "safety_final": EvaluationSet("emergencies and crises only, aggregate only", False),
    "long_dev": EvaluationSet("issue 11: long multi-sentence messages, development part", True),
    "long_score": EvaluationSet("issue 11: long multi-sentence messages, only ever scored", False),
    "indirect_crisis_dev": EvaluationSet("issue 11: indirect crisis messages, development part", True),
    "indirect_crisis_score": EvaluationSet("issue 11: indirect crisis messages, only ever scored", False),
    "figurative_dev": EvaluationSet("issue 11: figurative/informational wording, development part", True),
    "figurative_score": EvaluationSet("issue 11: figurative/informational wording, only ever scored", False),
    "broad": EvaluationSet("CLINC150 val + oos_val: 3,100 ordinary requests, only ever scored", False),
}
EMERGENCY_REPLY, CRISIS_REPLY = "utter_emergency", "utter_crisis"
SAFETY_REPLIES = {EMERGENCY_REPLY, CRISIS_REPLY}
# The replies each safety group needs.
NEEDS = {
    "emergency": {EMERGENCY_REPLY},
    "crisis": {CRISIS_REPLY},
    "emergency_and_crisis": {EMERGENCY_REPLY, CRISIS_REPLY},
}
GROUPS = ("in_scope", "out_of_scope", *NEEDS)
CALM_GROUPS = ("in_scope", "out_of_scope", "broad")  # neither an emergency nor a crisis
UNRELATED_GROUPS = ("out_of_scope", "broad")
MIN, MAX = ">=", "<="


class Measure(NamedTuple):
    title: str
    bound: str  # MIN: a share of right replies, at least the target; MAX: a share of errors, at most


MEASURES = {
    "in_scope": Measure("In-scope answered right", MIN),
    "out_of_scope": Measure("Out-of-scope handled", MIN),
    "broad": Measure("Broad: neither curated nor safety", MIN),
    "emergency": Measure("Emergency recall (911)", MIN),
    "crisis": Measure("Crisis recall (988)", MIN),
    "emergency_and_crisis": Measure("Both (911 and 988)", MIN),
    "false_alarm": Measure("Safety false alarms", MAX),
    "curated_unrelated": Measure("Curated answers to unrelated", MAX),
    "crisis_on_calm": Measure("Crisis replies on calm messages", MAX),
}


def load_cases(path: Path) -> list[Case]:
    """A set file's messages as (group, label, message); the label is the topic id in in_scope."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    unknown = sorted(set(data) - set(GROUPS))
    if unknown:
        raise ValueError(f"{path.name}: unknown group(s) {', '.join(unknown)}; known: {', '.join(GROUPS)}")
    cases: list[Case] = []
    for label, messages in (data.get("in_scope") or {}).items():
        cases += [("in_scope", label, m) for m in messages or []]
    for group in GROUPS[1:]:
        cases += [(group, group, m) for m in data.get(group) or []]
    bad = [c for c in cases if not isinstance(c[2], str) or not c[2].strip()]
    if bad:
        raise ValueError(f"{path.name}: {len(bad)} message(s) are not text, in {sorted({c[1] for c in bad})}")
    return cases


def load_broad_cases(directory: Path = CLINC150_DIR) -> list[Case]:
    """The broad set: group `broad`, label the CLINC150 intent (`oos` for its out-of-scope requests)."""
    return [("broad", example.intent, example.text) for example in broad_set(directory)]


def load_set(name: str) -> list[Case]:
    return load_broad_cases() if name == "broad" else load_cases(SETS_DIR / f"{name}.yml")


def send(webhook: str, message: str, sender: str | None = None, timeout: float = 60) -> list[dict]:
    body = json.dumps({"sender": sender or f"eval-{uuid.uuid4().hex}", "message": message}).encode()
    request = urllib.request.Request(webhook, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def is_curated(names: list[str]) -> bool:
    """A curated answer (utter_faq/<topic>) is among the replies."""
    return any(faq.topic_of_response(name) for name in names)


def is_correct(case: Case, names: list[str], spec: dict) -> bool:
    """The right reply for the case, from the names of every reply (clinic.devtools.replies)."""
    group, label, _ = case
    answer = first_answer(names)
    if group == "broad":
        return not is_curated(names) and not SAFETY_REPLIES & set(names)
    if group in NEEDS:
        return NEEDS[group] <= set(names)
    if group == "out_of_scope":
        return answer in spec["no_answer"]
    expected = spec["expected"].get(label, [faq.response_name(label)])
    return answer in expected


def evaluate(webhook: str, cases: list[Case], spec: dict, workers: int = 8) -> list[dict]:
    """Send every case in its own new conversation, `workers` at a time; one result per case, in order."""
    index = response_index()

    def run(case: Case) -> dict:
        names = response_names(send(webhook, case[2]), index)
        return {
            "group": case[0],
            "label": case[1],
            "message": case[2],
            "answer": first_answer(names),
            "replies": names,
            "correct": is_correct(case, names, spec),
        }

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, cases))


def summarise(results: list[dict]) -> dict[str, float]:
    """Share of right replies per group."""
    by_group: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        by_group[r["group"]].append(r["correct"])
    return {group: sum(v) / len(v) for group, v in by_group.items()}


def measure(results: list[dict]) -> dict[str, tuple[int, int]]:
    """Every measure (MEASURES) that has messages to be measured on: name -> (count, messages)."""
    marks: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        group, replies = r["group"], set(r["replies"])
        if group in ("in_scope", "out_of_scope", "broad", "emergency_and_crisis"):
            marks[group].append(r["correct"])
        for kind, reply in (("emergency", EMERGENCY_REPLY), ("crisis", CRISIS_REPLY)):
            if reply in NEEDS.get(group, ()):
                marks[kind].append(reply in replies)
        if group in CALM_GROUPS:
            marks["false_alarm"].append(bool(replies & SAFETY_REPLIES))
            marks["crisis_on_calm"].append(CRISIS_REPLY in replies)
        if group in UNRELATED_GROUPS:
            marks["curated_unrelated"].append(is_curated(r["replies"]))
    return {name: (sum(marks[name]), len(marks[name])) for name in MEASURES if marks.get(name)}


class Verdict(NamedTuple):
    measure: str
    value: float | None  # None: nothing on this set to measure it on
    bound: str
    target: float

    @property
    def met(self) -> bool:
        if self.value is None:
            return False
        return self.value >= self.target if self.bound == MIN else self.value <= self.target

    def __str__(self) -> str:
        value = "not measured (no messages)" if self.value is None else f"{self.value:.1%}"
        return f"{self.measure} {value}, target {self.bound} {self.target:.0%}: {'met' if self.met else 'MISSED'}"


def set_targets(spec: dict, set_name: str) -> dict[str, float]:
    """The targets enforced on one set (targets.yml `enforce`), checked against MEASURES."""
    targets = (spec.get("enforce") or {}).get(set_name) or {}
    unknown = sorted(set(targets) - set(MEASURES))
    if unknown:
        raise ValueError(f"targets.yml, enforce.{set_name}: unknown measure(s) {', '.join(unknown)}")
    return {name: float(target) for name, target in targets.items()}


def set_floors(spec: dict, set_name: str) -> dict[str, float]:
    """Regression floors (targets.yml `floors`) for targets not met yet: each names a target."""
    floors = (spec.get("floors") or {}).get(set_name) or {}
    unknown = sorted(set(floors) - set(set_targets(spec, set_name)))
    if unknown:
        raise ValueError(f"targets.yml, floors.{set_name}: no target for {', '.join(unknown)}")
    return {name: float(floor) for name, floor in floors.items()}


def gate(checked: list[Verdict], floors: dict[str, float]) -> tuple[list[Verdict], list[Verdict]]:
    """(failing, held): a missed target fails unless its floor is set and still met."""
    failing, held = [], []
    for verdict in checked:
        if verdict.met:
            continue
        floor = floors.get(verdict.measure)
        holds = floor is not None and verdict._replace(target=floor).met
        (held if holds else failing).append(verdict)
    return failing, held


def verdicts(measured: dict[str, tuple[int, int]], targets: dict[str, float]) -> list[Verdict]:
    """Each target met or missed; a target whose measure has no messages on the set is missed."""
    found = []
    for name, target in targets.items():
        count, total = measured.get(name, (0, 0))
        found.append(Verdict(name, count / total if total else None, MEASURES[name].bound, target))
    return found


def topic_table(results: list[dict]) -> list[str]:
    """Per topic (in_scope), or for the broad set per CLINC150 domain, how many were right."""
    rows: dict[str, list[bool]] = defaultdict(list)
    broad = any(r["group"] == "broad" for r in results)
    for r in results:
        if r["group"] == "in_scope":
            rows[r["label"]].append(r["correct"])
        elif r["group"] == "broad":
            rows[domain_of(r["label"])].append(r["correct"])
    if not rows:
        return []
    heading = "domain (neither curated nor safety)" if broad else "topic"
    lines = [f"{heading:36} {'right':>9}  share"]
    for label, marks in sorted(rows.items()):
        lines.append(f"{label:36} {sum(marks):>4}/{len(marks):<4}  {sum(marks) / len(marks):6.1%}")
    return lines


def report(results: list[dict], targets: dict[str, float]) -> tuple[list[str], list[Verdict]]:
    """The printed report of one set and the verdicts on its targets."""
    measured = measure(results)
    checked = {v.measure: v for v in verdicts(measured, targets)}
    lines = topic_table(results)
    lines.append(f"{'measure':36} {'count':>9}  share   target")
    for name, (count, total) in measured.items():
        verdict = checked.get(name)
        target = (
            f"{verdict.bound} {verdict.target:.0%}: " + ("met" if verdict.met else "MISSED")
            if verdict
            else ""
        )
        lines.append(f"{MEASURES[name].title:36} {count:>4}/{total:<4}  {count / total:6.1%}  {target}")
    lines += [f"{MEASURES[v.measure].title:36} {str(v)}" for v in checked.values() if v.value is None]
    return lines, list(checked.values())


def misses(set_name: str, results: list[dict]) -> list[str]:
    """The misses, one line each, of a set developers may read; none for the others (score sets)."""
    if not SETS[set_name].readable:
        return []
    return [
        f"  MISS [{r['label']}] {r['message']!r} -> {', '.join(r['replies']) or 'no reply'}"
        for r in results
        if not r["correct"]
    ]


def json_results(results: dict[str, list[dict]]) -> dict[str, object]:
    """Every result of the readable sets; for the others (score sets), only the aggregate measures."""
    return {
        name: set_results if SETS[name].readable else {"measures": measure(set_results)}
        for name, set_results in results.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:5005", help="a running Rasa server")
    parser.add_argument("--start", action="store_true", help="start own servers on free ports")
    parser.add_argument("--model", type=Path, default=Path("models/clinic.tar.gz"))
    parser.add_argument("--check-targets", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--show-misses",
        action="store_true",
        help="print the misses of the sets developers may read ("
        + ", ".join(n for n, s in SETS.items() if s.readable)
        + ")",
    )
    parser.add_argument("--workers", type=int, default=8, help="messages in flight at once")
    parser.add_argument(
        "--json", type=Path, help="write the results to this file (aggregates only for score sets)"
    )
    parser.add_argument(
        "--set",
        nargs="+",
        default=list(SETS),
        choices=list(SETS),
        help="; ".join(f"{name}: {s.about}" for name, s in SETS.items()),
    )
    args = parser.parse_args()
    spec = yaml.safe_load((SETS_DIR / "targets.yml").read_text(encoding="utf-8"))
    sets = {name: load_set(name) for name in args.set}
    targets = {name: set_targets(spec, name) for name in sets}
    floors = {name: set_floors(spec, name) for name in sets}
    results: dict[str, list[dict]] = {}
    seconds: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        url = args.url
        if args.start:
            from clinic.stack.local import rasa_stack

            url = stack.enter_context(rasa_stack(model=args.model)).url
        for name, cases in sets.items():
            started = time.monotonic()
            results[name] = evaluate(f"{url}/webhooks/rest/webhook", cases, spec, args.workers)
            seconds[name] = time.monotonic() - started
    missed: list[str] = []
    held: list[str] = []
    met = 0
    for name, set_results in results.items():
        rate = len(set_results) / seconds[name] if seconds[name] else 0
        print(f"\n== {name} ({len(set_results)} messages, {seconds[name]:.1f} s, {rate:.0f} msg/s) ==")
        lines, checked = report(set_results, targets[name])
        print("\n".join(lines))
        for line in misses(name, set_results) if args.show_misses else []:
            print(line)
        met += sum(v.met for v in checked)
        failing, holding = gate(checked, floors[name])
        missed += [f"{name}: {v}" for v in failing]
        held += [f"{name}: {v} (floor {floors[name][v.measure]:.0%} held)" for v in holding]
    total = sum(len(r) for r in results.values())
    print(f"\n{total} messages in {sum(seconds.values()):.1f} s, {args.workers} at a time")
    print(f"Targets (tests/evaluation/targets.yml): {met} met, {len(missed) + len(held)} missed")
    for line in missed:
        print(f"  {line}")
    if held:
        print("Missed, not failing: the measured best so far still holds (targets.yml `floors`):")
        for line in held:
            print(f"  {line}")
    if args.json:
        args.json.write_text(json.dumps(json_results(results), indent=1), encoding="utf-8")
    if args.check_targets and missed:
        sys.exit(1)


if __name__ == "__main__":
    main()
