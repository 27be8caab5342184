"""`make help` is the default goal and lists every command, so it cannot go stale: each .PHONY
target in make's own database has a description in the help, grouped in sections by audience."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELP_LINE = re.compile(r"^  make (\S+)\s+(\S.*)$")
SECTIONS = [
    "Everyone",
    "Content editors",
    "Care coordinators and administrators",
    "Website chat widget",
    "Developers",
]


def make(*args: str) -> subprocess.CompletedProcess[str]:
    # A clean environment for make: run under `make test-fast`, the outer make's MAKEFLAGS and
    # MAKELEVEL would add "Entering directory" lines and flags of its own.
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    return subprocess.run(["make", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def phony_targets() -> set[str]:
    """The .PHONY targets in make's database (`make -qp` evaluates the Makefile, runs nothing)."""
    database = make("-qp").stdout
    assert "\n# Files\n" in database, "make -qp printed no database"
    targets: set[str] = set()
    for line in database.splitlines():
        if line.startswith(".PHONY:"):
            targets.update(line.removeprefix(".PHONY:").split())
    return targets


def help_sections() -> dict[str, list[str]]:
    """`make help`'s output: section title -> the targets listed under it, in order."""
    result = make("help")
    assert result.returncode == 0, result.stderr
    sections: dict[str, list[str]] = {}
    current = None
    for line in result.stdout.splitlines():
        listed = HELP_LINE.match(line)
        if listed:
            assert current is not None, f"{line!r} comes before any section"
            sections[current].append(listed.group(1))
        elif line and not line.startswith(" ") and not line.startswith("Settings "):
            current = line.split(" (")[0]
            sections[current] = []
    return sections


def test_every_phony_target_is_listed_in_help_and_nothing_else() -> None:
    phony = phony_targets()
    assert {"help", "run", "test", "test-fast", "check-content", "inbox", "widget"} <= phony
    listed = [target for targets in help_sections().values() for target in targets]
    assert sorted(phony - set(listed)) == [], "add a `## description` after these targets' prerequisites"
    assert sorted(set(listed) - phony) == [], "listed in `make help` but not declared .PHONY"
    assert len(listed) == len(set(listed)), "a target is listed twice"


def test_help_is_grouped_by_audience() -> None:
    sections = help_sections()
    assert list(sections) == SECTIONS
    assert sections["Everyone"][:3] == ["help", "run", "test"]
    assert {"check-content", "preview", "publish", "gaps"} <= set(sections["Content editors"])
    assert {"inbox", "handoff-worker", "coordinator", "purge-handoffs"} <= set(
        sections["Care coordinators and administrators"]
    )
    assert {"install", "train", "lint", "test-fast", "test-python", "test-stories", "evaluate"} <= set(
        sections["Developers"]
    )


def test_help_is_the_default_goal() -> None:
    """A bare `make` prints the list (read from make's database: a wrong default goal would start
    installing instead)."""
    assert re.search(r"^\.DEFAULT_GOAL := help$", make("-qp").stdout, flags=re.M)


def test_one_makefile() -> None:
    """Everything is in the one Makefile: no included make files, no default-goal workarounds."""
    assert not (ROOT / "mk").exists()
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert not re.search(r"^-?include\b", text, flags=re.M)
    assert ".DEFAULT_GOAL" not in text
