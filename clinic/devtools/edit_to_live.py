"""How long from an editor saving a topic file to visitors getting the new answer: `make bench-edit`.

Starts its own Rasa stack (with the HTTP API on), works in a temporary copy of the project, and
measures two edits, each from the moment the file is saved until the running bot serves the
change over REST:
  (a) a text-only change to an answer,
  (b) one new example question.
Each goes through `python -m clinic.content.publish` exactly as `make publish` runs it. The
repository's own files are never edited (checked at the end).

Usage: python -m clinic.devtools.edit_to_live [--runs N]
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from clinic.content.project import REPO_ROOT, Project
from clinic.content.topics import read_topic
from clinic.content.workcopy import copy_project
from clinic.devtools.editing import add_example, set_answer
from clinic.stack.api import send, status
from clinic.stack.local import TRACKER_STORE_TYPE, rasa_stack

TEXT_TOPIC = "iv_risks"
TEXT_QUESTION = "is the iv dangerous"
EXAMPLE_TOPIC = "osteoarthritis"
NEW_EXAMPLES = [
    "could a marrow shot regrow my knee cartilage",
    "could a marrow shot regrow the cartilage in my hip",
]
POLL_SECONDS = 0.2
SERVE_TIMEOUT = 60


@dataclass
class Measurement:
    name: str
    total: float  # file saved -> change served over REST
    publish: float  # the publish command, start to end
    steps: dict[str, float]  # publish's own timings: check, build, train, swap
    served: bool


def repo_untouched(started: float) -> bool:
    """None of the benchmark's edits or models reached the repository (others may edit it meanwhile)."""
    project = Project.at()
    markers = ["Ask your own doctor what this means for you", *NEW_EXAMPLES]
    edited = [p for p in project.topic_files() if any(m in p.read_text(encoding="utf-8") for m in markers)]
    published = [p for p in project.models_dir.glob("clinic-*.tar.gz") if p.stat().st_mtime >= started]
    for path in edited + published:
        print(f"  changed by the benchmark: {path}")
    return not edited and not published


def publish(copy: Project, url: str, token: str) -> tuple[float, dict[str, float]]:
    env = dict(os.environ, RASA_API_TOKEN=token, RASA_TELEMETRY_ENABLED="false")
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "clinic.content.publish", "--root", str(copy.root), "--url", url],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - start
    if result.returncode != 0:
        raise RuntimeError(f"publish failed:\n{result.stdout}\n{result.stderr}")
    steps = {
        name: float(value)
        for name, value in re.findall(r"(\w+) ([\d.]+) s", result.stdout.split("Timings:")[1])
    }
    return seconds, steps


def wait_until_served(stack, question: str, served) -> bool:
    deadline = time.monotonic() + SERVE_TIMEOUT
    sender = f"bench-{uuid.uuid4().hex[:8]}"
    while time.monotonic() < deadline:
        if served(send(stack, sender, question)):
            return True
        time.sleep(POLL_SECONDS)
    return False


def topic_of(replies: list[dict]) -> str | None:
    for reply in replies:
        data = (reply.get("custom") or {}).get("data") or {}
        if data.get("kind") == "source":
            return data.get("topic")
    return None


def measure_text_change(copy: Project, stack, token: str, run: int) -> Measurement:
    path = copy.topics_dir / f"{TEXT_TOPIC}.yml"
    marker = f"Ask your own doctor what this means for you{'.' if run == 0 else ', please.'}"
    base = read_topic(path).answer.split(" Ask your own doctor")[0]
    saved = time.monotonic()
    set_answer(path, f"{base} {marker}")
    seconds, steps = publish(copy, stack.url, token)
    served = wait_until_served(
        stack, TEXT_QUESTION, lambda replies: any(marker in r.get("text", "") for r in replies)
    )
    return Measurement(f"{TEXT_TOPIC}, run {run + 1}", time.monotonic() - saved, seconds, steps, served)


def measure_new_example(copy: Project, stack, token: str, run: int) -> Measurement:
    question = NEW_EXAMPLES[run % len(NEW_EXAMPLES)] + ("" if run < len(NEW_EXAMPLES) else f" {run}")
    before = topic_of(send(stack, f"before-{uuid.uuid4().hex[:6]}", question))
    saved = time.monotonic()
    add_example(copy.topics_dir / f"{EXAMPLE_TOPIC}.yml", question)
    seconds, steps = publish(copy, stack.url, token)
    served = wait_until_served(stack, question, lambda replies: topic_of(replies) == EXAMPLE_TOPIC)
    name = f'"{question}" added to {EXAMPLE_TOPIC} (before: answered by {before or "no topic"})'
    return Measurement(name, time.monotonic() - saved, seconds, steps, served)


def describe(title: str, results: list[Measurement]) -> str:
    lines = [title]
    for m in results:
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in m.steps.items())
        lines.append(
            f"    {m.name}: edit-to-live {m.total:.1f} s; publish command {m.publish:.1f} s ({parts})"
            f"{'' if m.served else '; NOT SERVED within ' + str(SERVE_TIMEOUT) + ' s'}"
        )
    if len(results) > 1:
        lines.append(f"    median edit-to-live {statistics.median(m.total for m in results):.1f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="measure each edit N times (median)")
    args = parser.parse_args(argv)
    began = time.time()
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="edit-to-live-") as temp:
        copy = copy_project(Path(temp) / "project", with_live_model=True)
        tracker = {"type": TRACKER_STORE_TYPE, "dialect": "sqlite", "db": str(Path(temp) / "tracker.db")}
        started = time.monotonic()
        with rasa_stack(model=copy.live_model, tracker_store=tracker, api_token=token) as stack:
            print(
                f"Rasa stack up in {time.monotonic() - started:.1f} s at {stack.url}, running "
                f"{status(stack, token)['model_file']}; working copy {copy.root}; {os.cpu_count()} CPUs",
                flush=True,
            )
            text = [measure_text_change(copy, stack, token, run) for run in range(args.runs)]
            print(describe("(a) text-only change to an answer", text), flush=True)
            example = [measure_new_example(copy, stack, token, run) for run in range(args.runs)]
            print(describe("(b) one new example question", example), flush=True)
    unchanged = repo_untouched(began)
    print(f"Repository files left unchanged: {'yes' if unchanged else 'NO'}")
    return 0 if unchanged and all(m.served for m in text + example) else 1


if __name__ == "__main__":
    sys.exit(main())
