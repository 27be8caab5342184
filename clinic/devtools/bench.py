"""Compare the project's config with Rasa's default config (the one `rasa init` writes), both
trained on the same project data and served with the same endpoints.

A third config, the cheapest Rasa runs (clinic/devtools/rasa_minimal_config.yml), shows the ceiling: its
ratio to the default is about the best any config can reach, because the rest is Rasa's own work.

For each: training time (Rasa's cache off), held-out accuracy (tests/evaluation), Rasa server
peak memory (VmHWM), and throughput / p50 / p95 latency over the REST channel with 20 visitors
sending messages back to back, each in their own conversation. Prints both and the ratios,
behind the project's SQLite tracker store and behind Rasa's in-memory one (`rasa init`'s default).

Usage: python -m clinic.devtools.bench [--visitors 20] [--per-visitor 25] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from clinic.devtools.evaluate import evaluate, load_cases, summarise
from clinic.devtools.load import run_load
from clinic.stack.local import ROOT, rasa_stack, server_env

CONFIGS = {
    "project": ROOT / "config.yml",
    "rasa default": ROOT / "clinic" / "devtools" / "rasa_init_config.yml",
    "rasa minimal": ROOT / "clinic" / "devtools" / "rasa_minimal_config.yml",
}
# The project's embedded default (SQLite) and Rasa's own default (in memory, as `rasa init` has).
TRACKER_STORES = {"sqlite": None, "memory": "memory"}
TARGETS = {
    "throughput": (">=", 3.0),
    "p95 latency": ("<=", 0.3),
    "peak memory": ("<=", 0.6),
    "training time": ("<=", 0.3),
}


def train(config: Path, out: Path) -> float:
    """Train from scratch (no training cache) and return the wall time in seconds."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-train-"))
    config_copy = workdir / "config.yml"  # Rasa writes its auto-filled defaults into the file
    shutil.copy(config, config_copy)
    env = {**server_env(), "RASA_MAX_CACHE_SIZE": "0", "RASA_CACHE_DIRECTORY": str(workdir / "cache")}
    started = time.perf_counter()
    subprocess.run(
        [
            str(Path(sys.executable).parent / "rasa"),
            "train",
            "--config",
            str(config_copy),
            "--out",
            str(out.parent),
            "--fixed-model-name",
            out.stem.replace(".tar", ""),
            "--force",
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(
    name: str, model: Path, training: float, store: str, args: argparse.Namespace
) -> dict[str, float]:
    """Accuracy, load and peak memory for one trained model behind one kind of tracker store."""
    spec = yaml.safe_load((ROOT / "tests/evaluation/targets.yml").read_text())
    cases = load_cases(ROOT / "tests/evaluation/heldout.yml")
    with rasa_stack(model=model, tracker_store=TRACKER_STORES[store]) as stack:
        print(f"[{name}, {store} tracker store] accuracy and load...", flush=True)
        results = evaluate(stack.rest_webhook, cases, spec)
        scores = summarise(results)
        messages = [message for _, _, message in cases]
        load = run_load(stack.rest_webhook, messages, args.visitors, args.per_visitor)
        memory = peak_memory_mb(stack.processes[1].pid)
    return {
        "training time": training,
        "peak memory": memory,
        "throughput": load.throughput,
        "p50 latency": load.p50,
        "p95 latency": load.p95,
        "errors": load.errors,
        "held-out accuracy": sum(r["correct"] for r in results) / len(results),
        "in-scope accuracy": scores["in_scope"],
        "out-of-scope handled": scores["out_of_scope"],
        "emergency recall": scores["emergency"],
        "crisis recall": scores["crisis"],
    }


UNITS = {
    "training time": "s",
    "peak memory": "MB",
    "throughput": "msg/s",
    "p50 latency": "ms",
    "p95 latency": "ms",
}


def ratio(results: dict[str, dict[str, float]], name: str, key: str) -> float:
    default = results["rasa default"][key]
    return results[name][key] / default if default else float("nan")


def verdict(key: str, value: float) -> str:
    if key not in TARGETS:
        return ""
    sign, bound = TARGETS[key]
    ok = value >= bound if sign == ">=" else value <= bound
    return f"{sign} {bound}x {'OK' if ok else 'MISSED'}"


def report(results: dict[str, dict[str, float]]) -> None:
    """The project against the default, with the targets; the minimal config's ratio beside it."""
    project, default, minimal = results["project"], results["rasa default"], results["rasa minimal"]
    print(
        f"\n{'measure':22} {'project':>12} {'rasa default':>14} {'ratio':>8}  {'target':18} "
        f"{'rasa minimal':>14} {'ratio':>7}"
    )
    for key in project:
        if key.endswith(("accuracy", "handled", "recall")):
            ok = "OK" if project[key] >= default[key] else "MISSED"
            print(
                f"{key:22} {project[key]:>11.1%} {default[key]:>13.1%} {'':>8}  {'>= default ' + ok:18} "
                f"{minimal[key]:>13.1%}"
            )
            continue
        unit = UNITS.get(key, "")
        mine, floor = ratio(results, "project", key), ratio(results, "rasa minimal", key)
        print(
            f"{key:22} {project[key]:>9.1f} {unit:<2} {default[key]:>11.1f} {unit:<2} {mine:>7.2f}x  "
            f"{verdict(key, mine):18} {minimal[key]:>11.1f} {unit:<2} {floor:>6.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=20)
    parser.add_argument("--per-visitor", type=int, default=25)
    parser.add_argument("--stores", nargs="+", default=list(TRACKER_STORES), choices=list(TRACKER_STORES))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    print(f"{os.cpu_count()} CPU cores; {args.visitors} visitors x {args.per_visitor} messages each")
    trained = {}
    for name, config in CONFIGS.items():
        print(f"[{name}] training...", flush=True)
        model = workdir / f"{name.replace(' ', '_')}.tar.gz"
        trained[name] = (model, train(config, model))
    results = {}
    for store in args.stores:
        results[store] = {
            name: measure(name, model, seconds, store, args) for name, (model, seconds) in trained.items()
        }
        print(f"\n== {store} tracker store ==")
        report(results[store])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
