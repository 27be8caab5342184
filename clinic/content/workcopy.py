"""A throwaway working copy of the project, for tests and the edit-to-live benchmark.

Holds what checking, building and training need (content, data, config, code, the spaCy pipeline,
Rasa's training cache) and leaves out the rest (git, the virtualenv, the widget, logs, models).
Edits made in the copy never touch the editors' files.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from clinic.content.project import Project

SKIP_TOP = {
    ".git",
    ".venv",
    "widget",
    "var",
    "results",
    "logs",
    "reports",
    "models",
    ".pytest_cache",
    ".ruff_cache",
}
SKIP_ANYWHERE = {"__pycache__", "node_modules", "preview"}


def _ignore(root: Path):
    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n in SKIP_ANYWHERE or n.endswith(".pyc")}
        if Path(directory).resolve() == root:
            skipped |= {n for n in names if n in SKIP_TOP}
        if Path(directory).name == "cache" and Path(directory).parent.name == ".rasa":
            skipped |= {n for n in names if n.startswith("cache.db")}
        return skipped

    return ignore


def copy_project(dest: Path, source: Project | None = None, with_live_model: bool = False) -> Project:
    """Copy the project into `dest` (created) and return it as a Project."""
    source = source or Project.at()
    dest = Path(dest)
    shutil.copytree(source.root, dest, ignore=_ignore(source.root), symlinks=True, dirs_exist_ok=True)
    cache_db = source.root / ".rasa" / "cache" / "cache.db"
    if cache_db.exists():  # a consistent snapshot even if someone is training right now
        with sqlite3.connect(cache_db) as src, sqlite3.connect(dest / ".rasa" / "cache" / "cache.db") as dst:
            src.backup(dst)
    copy = Project.at(dest)
    copy.models_dir.mkdir(parents=True, exist_ok=True)
    if with_live_model and source.live_model.exists():
        shutil.copy2(source.live_model, copy.live_model)
    return copy
