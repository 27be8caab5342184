"""Build what the bot runs from the content: training data, the spaCy pipeline, the model.

The one build path: `make train` (and `make data`) run this module, and `make publish`
(clinic/content/publish/) calls the same functions before it swaps the new model in.
Training uses Rasa's training cache (.rasa/cache in the project folder), so a change to an
answer's text retrains only what depends on it.

Usage: python -m clinic.content.build [--model clinic] [--data-only] [--root DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from clinic.content.compile import write as write_training_data
from clinic.content.project import Project
from clinic.content.topics import load_topics
from clinic.stack.services import RASA_PYTHON

MODEL_PREFIX = "clinic-"
# Rasa and spaCy are in .venv (Python 3.10), whichever Python runs this (`make publish`: .venv-app).
RASA_BIN = Path(RASA_PYTHON).parent


class BuildFailed(Exception):
    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


def tool_env(project: Project) -> dict[str, str]:
    env = dict(os.environ)
    env.update(RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2", SQLALCHEMY_SILENCE_UBER_WARNING="1")
    return env


def _run(command: list[str], project: Project, what: str) -> None:
    result = subprocess.run(command, cwd=project.root, env=tool_env(project), capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildFailed(f"{what} failed (exit code {result.returncode})", explanation(result))


def explanation(result: subprocess.CompletedProcess) -> str:
    """What the editor needs from a failed tool's output: the lines that name an error (Rasa prints
    its own explanation, e.g. "InvalidConfigException: ...", among dozens of library warnings),
    else its last lines."""
    lines = (result.stdout + "\n" + result.stderr).strip().splitlines()
    errors = [line for line in lines if "Exception" in line or "Error" in line]
    return "\n".join(errors[-10:] or lines[-40:])


def build_data(project: Project) -> int:
    """data/nlu/faq.yml from the topic files (what `make data` does); the number of topics."""
    topics = load_topics(project.topics_dir)
    write_training_data(topics, project.faq_data)
    return len(topics)


def spacy_is_stale(project: Project) -> bool:
    """True when content/terms.yml (or the builder) changed since the spaCy pipeline was built."""
    meta = project.spacy_dir / "meta.json"
    if not meta.exists():
        return True
    inputs = [project.terms, project.root / "clinic" / "nlp" / "build_spacy.py"]
    return any(p.exists() and p.stat().st_mtime > meta.stat().st_mtime for p in inputs)


def build_spacy(project: Project) -> None:
    _run(
        [
            RASA_PYTHON,
            "-m",
            "clinic.nlp.build_spacy",
            "--terms",
            str(project.terms),
            "--out",
            str(project.spacy_dir),
        ],
        project,
        "Building the spaCy pipeline",
    )


def new_model_name(now: datetime | None = None) -> str:
    return MODEL_PREFIX + (now or datetime.now()).strftime("%Y%m%d-%H%M%S")


def train(project: Project, name: str) -> Path:
    """`rasa train` into models/<name>.tar.gz, reusing Rasa's training cache."""
    project.models_dir.mkdir(parents=True, exist_ok=True)
    model = project.models_dir / f"{name}.tar.gz"
    existed = model.exists()  # `make train` trains over the live model: a failure must not delete it
    try:
        _run(
            [
                str(RASA_BIN / "rasa"),
                "train",
                "--quiet",
                "--fixed-model-name",
                name,
                "--out",
                str(project.models_dir),
                "--config",
                "config.yml",
                "--domain",
                "domain.yml",
                "--data",
                "data",
            ],
            project,
            "Training",
        )
    except BuildFailed:
        if not existed:
            model.unlink(missing_ok=True)
        raise
    if not model.exists():
        raise BuildFailed(f"Training finished but {model} is missing")
    return model


def make_live_copy(project: Project, model: Path) -> None:
    """models/clinic.tar.gz becomes a copy of `model` (what `make run` starts with next time)."""
    temporary = project.live_model.with_name(f".{project.live_model.name}.publishing")
    shutil.copy2(model, temporary)
    os.replace(temporary, project.live_model)
    stamp = project.models_dir / ".trained"  # the Makefile's "model is up to date" stamp
    stamp.touch()


def prune(project: Project, keep: int, current: Path) -> list[Path]:
    """Delete all but the newest `keep` published models (never `current`)."""
    models = sorted(project.models_dir.glob(f"{MODEL_PREFIX}*.tar.gz"), key=lambda p: p.name, reverse=True)
    removed = [p for p in models[keep:] if p.resolve() != current.resolve()]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        default="clinic",
        help="train models/<MODEL>.tar.gz (default: clinic, what `make run` starts)",
    )
    parser.add_argument("--data-only", action="store_true", help="only write data/nlu/faq.yml (`make data`)")
    parser.add_argument("--root", type=Path, default=None, help="project folder (default: this repository)")
    args = parser.parse_args(argv)
    project = Project.at(args.root)
    topics = build_data(project)
    print(f"{topics} topics written to {project.relative(project.faq_data)}", flush=True)
    if args.data_only:
        return 0
    try:
        if spacy_is_stale(project):
            print("content/terms.yml changed: rebuilding the spaCy pipeline...", flush=True)
            build_spacy(project)
        print(
            f"Training models/{args.model}.tar.gz (parts that did not change come from Rasa's cache)...",
            flush=True,
        )
        model = train(project, args.model)
    except BuildFailed as exc:
        print(f"{exc.output}\n{exc}", file=sys.stderr)
        return 1
    print(f"Model saved: {project.relative(model)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
