"""Put content changes live in the running bot, without a restart: `make publish`.

1. checks the content (`make check-content`); any error stops here,
2. builds the training data, and the spaCy pipeline if content/terms.yml changed,
3. trains a new model, models/clinic-<date>-<time>.tar.gz (Rasa's training cache makes a
   text-only change quick),
4. tells the running bot to load it (Rasa's HTTP API, PUT /model): conversations carry on and
   messages being answered during the swap are answered,
5. makes models/clinic.tar.gz a copy of it, so a restart starts with the same model.

If the check or the training fails, the bot keeps running the model it has.
Needs the API token the bot was started with, in the environment variable RASA_API_TOKEN (in
development, `make run` keeps one in var/rasa-api-token and publish reads it from there).

Usage: RASA_API_TOKEN=... python -m clinic.content.publish [--url http://localhost:5005] [--root DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from clinic.content import build
from clinic.content.check import report, run_checks
from clinic.content.project import Project
from clinic.content.publish.rasa_api import DEFAULT_URL, RasaApiError, load_model, status

KEEP_MODELS = 5
NO_TOKEN = """Publishing needs the bot's API token, and RASA_API_TOKEN is not set.
The bot only accepts a new model from someone who has the token it was started with:
  start the bot:   RASA_API_TOKEN=<the token> make run
  then publish:    RASA_API_TOKEN=<the token> make publish
(Ask the developer for the token. Nothing was changed.)"""


class Clock:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.timings[name] = time.monotonic() - start

    def summary(self) -> str:
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.timings.items())


@contextlib.contextmanager
def publish_lock(project: Project) -> Iterator[bool]:
    """One publish at a time per project (two editors pressing publish together)."""
    project.models_dir.mkdir(parents=True, exist_ok=True)
    with (project.models_dir / ".publish.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def say(text: str) -> None:
    print(text, flush=True)


def development_token(root: Path) -> str:
    """The token `make run` keeps in var/rasa-api-token in development (empty when there is none)."""
    path = root / "var" / "rasa-api-token"
    return path.read_text(encoding="utf-8").strip() if path.is_file() else ""


def publish(project: Project, url: str, token: str, keep: int = KEEP_MODELS) -> int:
    """The whole publish; returns the exit code (0 live, 1 check/training/swap failed, 2 cannot start)."""
    clock = Clock()
    try:
        before = status(url, token)
    except RasaApiError as exc:
        say(f"Cannot publish: {exc}.\nNothing was changed.")
        return 2
    say(f"The bot at {url} is running {before.get('model_file', '?')}.")

    say("1/4 Checking the content...")
    with clock.step("check"):
        problems = run_checks(project)
    if any(p.is_error for p in problems):
        say(report(project, problems))
        say("Not published: fix the errors above first. The live bot is unchanged.")
        return 1
    say(
        f"    OK ({len(problems)} warning{'s' * (len(problems) != 1)}: see `make check-content`)"
        if problems
        else "    OK"
    )

    say("2/4 Building the training data...")
    with clock.step("build"):
        try:
            topics = build.build_data(project)
            rebuilt = build.spacy_is_stale(project)
            if rebuilt:
                say("    content/terms.yml changed: rebuilding the spaCy pipeline...")
                build.build_spacy(project)
        except (build.BuildFailed, OSError, ValueError) as exc:
            say(f"Not published: {exc}\n{getattr(exc, 'output', '')}\nThe live bot is unchanged.")
            return 1
    say(f"    {topics} topics{', new spaCy pipeline' if rebuilt else ''}")

    say("3/4 Training the new model (parts that did not change come from Rasa's cache)...")
    name = build.new_model_name()
    with clock.step("train"):
        try:
            model = build.train(project, name)
        except build.BuildFailed as exc:
            say(f"{exc.output}\nNot published: {exc}. The live bot is unchanged.")
            return 1
    say(f"    {project.relative(model)}")

    say(f"4/4 Loading it into the running bot at {url}...")
    with clock.step("swap"):
        try:
            load_model(url, token, str(model.resolve()))
            after = status(url, token)
        except RasaApiError as exc:
            say(
                f"Not published: {exc}.\nThe new model is saved as {project.relative(model)}, "
                "but the bot still runs the previous one."
            )
            return 1
    if after.get("model_file") not in (None, model.name):
        say(f"Not published: the bot reports running {after.get('model_file')}, not {model.name}.")
        return 1
    build.make_live_copy(project, model)
    build.prune(project, keep, model)
    total = sum(clock.timings.values())
    say(
        f"Published: the bot now answers with {model.name} ({project.relative(project.live_model)} is a copy)."
    )
    say(f"Timings: {clock.summary()}; total {total:.1f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url",
        default=os.environ.get("RASA_URL", DEFAULT_URL),
        help=f"the running bot (default $RASA_URL or {DEFAULT_URL})",
    )
    parser.add_argument("--root", type=Path, default=None, help="project folder (default: this repository)")
    parser.add_argument("--keep", type=int, default=KEEP_MODELS, help="published models to keep (default 5)")
    args = parser.parse_args(argv)
    project = Project.at(args.root)
    token = os.environ.get("RASA_API_TOKEN", "").strip() or development_token(project.root)
    if not token:
        say(NO_TOKEN)
        return 2
    with publish_lock(project) as mine:
        if not mine:
            say("Another publish is running for this project; wait for it to finish and try again.")
            return 2
        return publish(project, args.url, token, max(1, args.keep))
