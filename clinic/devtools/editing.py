"""Edit a topic file the way an editor would, in a working copy (tests and the benchmark)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from clinic.content.topics import read_topic


def set_answer(path: Path, answer: str) -> None:
    """Replace the answer, keeping every other line of the file as it is."""
    doc = read_topic(path)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = doc.keys["answer"].start_mark.line
    value = doc.values["answer"]
    end = value.end_mark.line if value.end_mark.column == 0 else value.end_mark.line + 1
    body = "".join(
        f"  {line}\n" for line in textwrap.wrap(answer, 90, break_on_hyphens=False, break_long_words=False)
    )
    lines[start:end] = [f"answer: >-\n{body}"]
    path.write_text("".join(lines), encoding="utf-8")


def add_example(path: Path, example: str) -> None:
    """Add one example question after the last one."""
    doc = read_topic(path)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    last = doc.items("examples")[-1].node.end_mark.line
    if not lines[last].endswith("\n"):
        lines[last] += "\n"
    lines.insert(last + 1, f"  - {example}\n")
    path.write_text("".join(lines), encoding="utf-8")
