"""No import cycles in the project's code, and every handoff module imports on its own.

A cycle works until someone moves an import, and then fails at start-up with a half-initialised
module (the old handoff store and its notifications imported each other). Every import
statement counts here, also the ones inside functions or under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("clinic", "actions")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules a file imports (`from a import b` is the module a.b when there is one)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
    return {name for name in found if name in modules}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by a depth-first search (one per back edge)."""
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                found.append(stack[stack.index(target) :] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_the_project_has_no_import_cycle() -> None:
    modules = project_modules()
    graph = {name: imports_of(path, modules) - {name} for name, path in modules.items()}
    assert cycles(graph) == []


def test_the_inbox_imports_nothing_from_the_content_tools() -> None:
    modules = project_modules()
    graph = {name: imports_of(path, modules) for name, path in modules.items()}
    reached, todo = set(), [name for name in modules if name.startswith("clinic.handoff.inbox")]
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo += graph[name]
    assert sorted(name for name in reached if name.startswith("clinic.content")) == []


@pytest.mark.slow
def test_each_handoff_module_imports_alone_in_a_fresh_interpreter() -> None:
    names = [name for name in project_modules() if name.startswith("clinic.handoff")]
    names += ["clinic.settings", "clinic.contact", "clinic.faq"]

    def import_alone(name: str) -> tuple[str, int, str]:
        result = subprocess.run(
            [sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True
        )
        return name, result.returncode, result.stderr[-500:]

    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = [r for r in pool.map(import_alone, names) if r[1] != 0]
    assert failures == []
