"""End-to-end evaluation on the held-out set (tests/evaluation/heldout.yml) over the REST channel.

Each message is sent in its own new conversation, as a visitor would, and the reply is
recognised by its text. Prints per-topic accuracy, out-of-scope handling and emergency/crisis
recall. `--start` runs its own servers; `--url` uses a running bot; `--check-targets` exits 1
when a target in targets.yml is missed.

Three sets, each written by a different author from the article alone, never copied into
training data: heldout.yml (written first; its misses were read for error analysis, so it is a
development set and carries the issue's targets), sealed.yml (only its safety misses were read)
and final.yml (only ever reported in aggregate: the honest figure).

Issue 11 added visitor-style sets (README_issue11_sets.md): long multi-sentence messages,
indirect crises, figurative or informational wording; each a *_dev file (may be read) and a
*_score file (only ever scored, in aggregate). And the broad set: CLINC150's validation split
(../shared/data/clinc150, 3,000 requests + 100 out-of-scope), where every reply but a curated
answer or a safety reply is right (its small-talk and meta requests are chit-chat the bot may
answer as chit-chat). Per set it reports, beside accuracy per group: the false-alarm rate (a
911 or 988 reply to a message that is neither an emergency nor a crisis), the rate of curated
answers to unrelated messages, and the crisis replies given to calm messages.

Usage: python -m tests.evaluation.evaluate --start [--model models/clinic.tar.gz] [--check-targets]
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

from tests.evaluation.replies import first_answer, response_index, response_names

HERE = Path(__file__).resolve().parent
Case = tuple[str, str, str]  # (group, label, message)
SETS = {
    "heldout": "development set (misses read), carries the issue's targets",
    "sealed": "only its safety misses were read",
    "final": "only its safety misses were read",
    "safety_final": "emergencies and crises only, aggregate only: the honest safety figure",
    "long_dev": "issue 11: long multi-sentence messages, development half (may be read)",
    "long_score": "issue 11: long multi-sentence messages, only ever scored",
    "indirect_crisis_dev": "issue 11: indirect crisis messages, development half (may be read)",
    "indirect_crisis_score": "issue 11: indirect crisis messages, only ever scored",
    "figurative_dev": "issue 11: figurative/informational wording, development half (may be read)",
    "figurative_score": "issue 11: figurative/informational wording, only ever scored",
    "broad": "CLINC150 validation split (../shared/data/clinc150): ordinary unrelated requests",
}
SAFETY_GROUPS = ("emergency", "crisis", "emergency_and_crisis")
SAFETY_REPLIES = {"utter_emergency", "utter_crisis"}


def load_cases(path: Path) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases: list[Case] = []
    for label, messages in (data.get("in_scope") or {}).items():
        cases += [("in_scope", label, m) for m in messages]
    cases += [("out_of_scope", "out_of_scope", m) for m in data.get("out_of_scope") or []]
    cases += [(kind, kind, m) for kind in SAFETY_GROUPS for m in data.get(kind) or []]
    return cases


def load_broad_cases() -> list[Case]:
    """CLINC150 validation: group `broad`, label the CLINC intent (or `oos`)."""
    from clinic_nlp.meaning import clinc_split

    split = clinc_split("val")
    return [("broad", label.removeprefix("clinc:"), text) for text, label in zip(split.texts, split.labels, strict=True)]


def load_set(name: str) -> list[Case]:
    return load_broad_cases() if name == "broad" else load_cases(HERE / f"{name}.yml")


def send(webhook: str, message: str, sender: str | None = None, timeout: float = 60) -> list[dict]:
    body = json.dumps({"sender": sender or f"eval-{uuid.uuid4().hex}", "message": message}).encode()
    request = urllib.request.Request(webhook, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def is_curated(answer: str | None) -> bool:
    return bool(answer) and answer.startswith("utter_faq/")  # type: ignore[union-attr]


def is_correct(case: Case, answer: str | None, spec: dict, names: list[str] | None = None) -> bool:
    """Right reply for the case. Safety cases need their alarm among the replies (a message that
    is both an emergency and a crisis needs both); the broad set needs neither a curated answer
    nor an alarm."""
    group, label, _ = case
    replies = set(names if names is not None else [answer])
    if group == "broad":
        return not is_curated(answer) and not replies & SAFETY_REPLIES
    if group == "out_of_scope":
        return answer in spec["no_answer"]
    if group == "emergency_and_crisis":
        return SAFETY_REPLIES <= replies
    if group in ("emergency", "crisis"):
        return f"utter_{group}" in replies
    expected = spec["expected"].get(label, [f"utter_faq/{label}"])
    return answer in expected


def evaluate(webhook: str, cases: list[Case], spec: dict, workers: int = 4) -> list[dict]:
    index = response_index()

    def run(case: Case) -> dict:
        names = response_names(send(webhook, case[2]), index)
        answer = first_answer(names)
        return {"group": case[0], "label": case[1], "message": case[2], "answer": answer,
                "replies": names, "correct": is_correct(case, answer, spec, names)}  # fmt: skip

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, cases))


def summarise(results: list[dict]) -> dict[str, float]:
    by_group: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        by_group[r["group"]].append(r["correct"])
    return {group: sum(v) / len(v) for group, v in by_group.items()}


def rates(results: list[dict]) -> dict[str, tuple[float, int]]:
    """Error rates that are maximums (share, count of messages they are measured on):
    - false_alarm: a 911 or 988 reply to a message that is neither an emergency nor a crisis;
    - curated_unrelated: a curated answer to an out-of-scope or broad-set message;
    - crisis_on_calm: a 988 reply to a message that is not a crisis."""
    calm = [r for r in results if r["group"] not in SAFETY_GROUPS]
    unrelated = [r for r in results if r["group"] in ("out_of_scope", "broad")]
    not_crisis = [r for r in results if r["group"] not in ("crisis", "emergency_and_crisis")]
    found = {
        "false_alarm": [bool(set(r["replies"]) & SAFETY_REPLIES) for r in calm],
        "curated_unrelated": [is_curated(r["answer"]) for r in unrelated],
        "crisis_on_calm": ["utter_crisis" in r["replies"] for r in not_crisis],
    }
    return {name: (sum(v) / len(v), len(v)) for name, v in found.items() if v}


def print_report(results: list[dict], show_misses: bool) -> None:
    per_label: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        if r["group"] == "in_scope":
            per_label[r["label"]].append(r["correct"])
    print(f"{'topic':22} {'right':>7}  accuracy")
    for label, marks in sorted(per_label.items()):
        print(f"{label:22} {sum(marks):>3}/{len(marks):<3}  {sum(marks) / len(marks):6.1%}")
    names = {"in_scope": "In-scope answers right", "out_of_scope": "Out-of-scope handled",
             "emergency": "Emergency recall", "crisis": "Crisis recall",
             "emergency_and_crisis": "Both (911 and 988)",
             "broad": "Broad: no curated/alarm"}  # fmt: skip
    for group, share in summarise(results).items():
        count = sum(1 for r in results if r["group"] == group)
        print(f"{names[group]:26} {share:6.1%}  (n={count})")
    labels = {"false_alarm": "Safety false alarms", "curated_unrelated": "Curated to unrelated",
              "crisis_on_calm": "988 to a non-crisis"}  # fmt: skip
    for name, (share, count) in rates(results).items():
        print(f"{labels[name]:26} {share:6.1%}  (n={count})")
    if show_misses:
        for r in results:
            if not r["correct"]:
                print(f"  MISS [{r['label']}] {r['message']!r} -> {r['answer']}")


def missed_targets(results: list[dict], spec: dict, set_name: str, key: str = "enforce") -> list[str]:
    """Targets missed on this set: those `enforce` lists (fail `--check-targets`), or with
    key="issue", all of issue 11's targets for the set (reported, enforced once met)."""
    scores = summarise(results)
    enforced = spec[key].get(set_name, [])
    minimums = {**spec["targets"], **(spec.get("issue_targets") or {})} if key == "issue" else spec["targets"]
    missed = [f"{g}: {scores.get(g, 0):.1%} < {t:.0%}" for g, t in minimums.items()
              if g in enforced and g in scores and scores[g] < t]  # fmt: skip
    measured = rates(results)
    missed += [f"{name}: {measured[name][0]:.1%} > {limit:.0%}"
               for name, limit in (spec.get("maximums") or {}).items()
               if name in enforced and name in measured and measured[name][0] > limit]  # fmt: skip
    return missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:5005", help="a running Rasa server")
    parser.add_argument("--start", action="store_true", help="start own servers on free ports")
    parser.add_argument("--model", type=Path, default=Path("models/clinic.tar.gz"))
    parser.add_argument("--check-targets", action="store_true")
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--json", type=Path, help="write every result to this file")
    parser.add_argument(
        "--set", nargs="+", default=list(SETS), choices=list(SETS),
        help="; ".join(f"{name}: {about}" for name, about in SETS.items()),
    )
    args = parser.parse_args()
    spec = yaml.safe_load((HERE / "targets.yml").read_text(encoding="utf-8"))
    sets = {name: load_set(name) for name in args.set}
    with contextlib.ExitStack() as stack:
        url = args.url
        if args.start:
            from tests.support.rasa_servers import rasa_stack

            url = stack.enter_context(rasa_stack(model=args.model)).url
        results = {name: evaluate(f"{url}/webhooks/rest/webhook", cases, spec) for name, cases in sets.items()}
    missed = []
    for name, set_results in results.items():
        print(f"\n== {name}.yml ==")
        print_report(set_results, args.show_misses and (name == "heldout" or name.endswith("_dev")))
        missed += [f"{name} {m}" for m in missed_targets(set_results, spec, name)]
        pending = [m for m in missed_targets(set_results, spec, name, "issue")
                   if m not in missed_targets(set_results, spec, name)]  # fmt: skip
        if pending:
            print("Issue 11 targets not met yet (reported, not enforced): " + "; ".join(pending))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    if args.check_targets and missed:
        print("Targets missed: " + "; ".join(missed))
        sys.exit(1)


if __name__ == "__main__":
    main()
