"""The README stays short and points to the guides, and no document points at something that is
not there: every relative link (and its #anchor), every repository path in backticks and every
`python -m` module in README.md and docs/*.md exists. A moved file or a renamed heading fails
here instead of sending a reader nowhere."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
GUIDES = ["docs/editors.md", "docs/coordinators.md", "docs/widget.md", "docs/operations.md"]
DOCUMENTS = [README, *sorted((ROOT / "docs").glob("*.md"))]
# Made by the commands, not in git: a fresh clone does not have them yet.
GENERATED = (
    "build/",
    "var/",
    "logs/",
    "models/",
    "results/",
    "widget/dist",
    "widget/node_modules",
    "data/nlu/faq.yml",
)
# Files the guides ask the reader to create.
EXAMPLES = {"content/topics/infection_signs.yml"}
LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE = re.compile(r"`([^`\n]+)`")
MODULE = re.compile(r"python -m ([a-z_][\w.]*)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(document: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", document.read_text(encoding="utf-8"), flags=re.S)
    return {slug(line.lstrip("#")) for line in text.splitlines() if re.match(r"#{1,6} ", line)}


def names(document: Path) -> str:
    return f"{document.relative_to(ROOT)}"


def test_readme_is_short_and_links_every_guide() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    for guide in GUIDES:
        assert f"]({guide})" in text, f"the README does not link {guide}"
        assert (ROOT / guide).is_file()


@pytest.mark.parametrize("document", DOCUMENTS, ids=names)
def test_relative_links_and_anchors_exist(document: Path) -> None:
    broken = []
    for target in LINK.findall(document.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(target)
    assert broken == []


def repository_paths(text: str) -> set[str]:
    """Backticked words that name a file (with an extension) or a folder (with a trailing slash)
    by its path from the repository's root: `clinic/contact.py`, `content/topics/`."""
    found = set()
    for code in CODE.findall(text):
        for word in code.split():
            word = re.sub(r":\d+.*$", "", word.rstrip(".,;:)"))  # file:line in a message
            if re.fullmatch(r"[a-z_][\w.-]*/[\w./-]*(\.\w+|/)", word) and "://" not in word:
                found.add(word)
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=names)
def test_repository_paths_exist(document: Path) -> None:
    paths = repository_paths(document.read_text(encoding="utf-8"))
    missing = sorted(p for p in paths - EXAMPLES if not p.startswith(GENERATED) and not (ROOT / p).exists())
    assert missing == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=names)
def test_python_modules_exist(document: Path) -> None:
    """`python -m <module>` commands name a module that exists (ours or an installed one)."""
    missing = []
    for module in sorted(set(MODULE.findall(document.read_text(encoding="utf-8")))):
        try:
            found = importlib.util.find_spec(module)
        except ModuleNotFoundError:
            found = None
        if found is None:
            missing.append(module)
    assert missing == []
