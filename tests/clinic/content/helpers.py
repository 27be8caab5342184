"""Small helpers for the content-tool tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from clinic.content.project import REPO_ROOT


def run_module(
    module: str, *args: str, env: dict | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """`python -m <module> <args>` as `make` runs it; output captured as text."""
    full_env = dict(os.environ)
    full_env.update(RASA_TELEMETRY_ENABLED="false", SQLALCHEMY_SILENCE_UBER_WARNING="1")
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def line_number(path: Path, needle: str) -> int:
    """1-based number of the first line of `path` containing `needle`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")
