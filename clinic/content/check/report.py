"""A problem `make check-content` found, and how it is printed.

Every problem is one line an editor can act on:
    content/topics/iv_risks.yml:12: ERROR: <what is wrong>. Fix: <what to do, in plain English>
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ERROR = "ERROR"
WARNING = "WARNING"


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    level: str
    message: str
    fix: str

    @property
    def is_error(self) -> bool:
        return self.level == ERROR

    def format(self, shown_path: str | None = None) -> str:
        message = self.message.rstrip(". ")
        fix = self.fix.strip()
        return f"{shown_path or self.path}:{self.line}: {self.level}: {message}. Fix: {fix}"


def error(path: Path, line: int, message: str, fix: str) -> Problem:
    return Problem(Path(path), line, ERROR, message, fix)


def warning(path: Path, line: int, message: str, fix: str) -> Problem:
    return Problem(Path(path), line, WARNING, message, fix)


def sort_key(problem: Problem) -> tuple:
    return (str(problem.path), problem.line, problem.level != ERROR, problem.message)


def summary(problems: list[Problem], checked: str) -> str:
    errors = sum(p.is_error for p in problems)
    warnings = len(problems) - errors
    counts = f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    if errors:
        return f"check-content: FAILED with {counts} ({checked}). Fix the errors, then run it again."
    return f"check-content: OK, {counts} ({checked})."
