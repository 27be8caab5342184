"""Every service runs on the Python it is meant for, and the ones on .venv-app work there.

Rasa 3.6 runs only on Python 3.8-3.10, so Rasa and the action server run on .venv (3.10); the
inbox, the notification worker, the privacy job, the widget's demo server, supervisord and the
content tools run on .venv-app, a supported Python (docs/python-versions.md). For that, nothing
they import, even lazily inside a function, may need what only .venv has (Rasa, rasa_sdk,
TensorFlow, spaCy, Sanic), and their tests must pass on .venv-app's Python too: the suite runs on
.venv as always, and this module runs those tests again on .venv-app.
"""

from __future__ import annotations

import ast
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from clinic.stack.services import (
    ACTIONS_PYTHON,
    APP_PYTHON,
    RASA_PYTHON,
    ROOT,
    StackSettings,
    missing_programs,
    services,
)
from clinic.stack.supervise import SUPERVISORD
from tests.clinic.test_import_graph import imports_of, project_modules

RASA_ONLY = {"rasa", "rasa_sdk", "tensorflow", "spacy", "sanic"}  # installed in .venv only
CONTENT_TOOLS = [
    "clinic.content.check",
    "clinic.content.preview",
    "clinic.content.gaps",
    "clinic.content.publish",
]
LAUNCHER = "clinic.stack.supervise"  # `make run`: writes supervisord's configuration, starts it
# The tests of what runs on .venv-app, run there too. Left out: the tests of the action server
# (tests/clinic/handoff/test_handoff_action_faults.py), which runs on .venv; contact_details_guard,
# a Rasa NLU component; the model swap while visitors chat (95 s; the publish tool's part of it,
# checks and training through .venv's rasa, is in the other publish tests); the PostgreSQL runs of
# the privacy job's tests with a Rasa stack (the job's SQL is the same as on SQLite, and the
# handoff tests run psycopg2 on this Python). ~2 minutes on 2 busy cores.
APP_TESTS = [
    "tests/clinic/handoff",
    "--ignore=tests/clinic/handoff/test_handoff_action_faults.py",
    "tests/clinic/privacy",
    "--deselect=tests/clinic/privacy/test_tracker_privacy.py::test_form_answers_are_redacted_and_old_conversations_purged[postgresql]",
    "--deselect=tests/clinic/privacy/test_tracker_privacy.py::test_only_finished_or_abandoned_forms_are_redacted[postgresql]",
    "tests/clinic/content",
    "--deselect=tests/clinic/content/test_publish.py::test_publish_swaps_the_model_while_visitors_chat",
    "tests/clinic/test_contact.py",
    "--deselect=tests/clinic/test_contact.py::test_the_guard_recognises_a_message_that_is_only_contact_data",
    "tests/clinic/test_faq.py",
]
# Prints the top-level packages of everything the entries imported (in a fresh interpreter).
IMPORT_ENTRIES = """
import importlib, importlib.util, json, sys
for entry in sys.argv[1:]:
    if entry.endswith(".py"):  # a script, e.g. widget/serve.py: run as a module, not as __main__
        spec = importlib.util.spec_from_file_location("entry", entry)
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    else:
        importlib.import_module(entry)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def app_services() -> dict[str, list[str]]:
    return {s.name: s.command for s in services(StackSettings()) if s.command[0] == APP_PYTHON}


def entry_of(command: list[str]) -> str:
    """The module a command line runs (`-m package` runs package.__main__), or its script."""
    if command[1] != "-m":
        return command[1]
    module = command[2]
    is_package = (ROOT / module.replace(".", "/") / "__main__.py").is_file()
    return f"{module}.__main__" if is_package else module


def app_entries() -> list[str]:
    return [*(entry_of(command) for command in app_services().values()), LAUNCHER, *CONTENT_TOOLS]


def run(python: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([python, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_rasa_and_the_action_server_run_on_3_10_and_the_other_services_on_3_11_or_newer() -> None:
    by_python = {s.name: s.command[0] for s in services(StackSettings())}
    on_rasa_python = {"rasa": RASA_PYTHON, "actions": ACTIONS_PYTHON}
    assert by_python == {
        name: on_rasa_python.get(name, APP_PYTHON)
        for name in ("actions", "rasa", "widget", "inbox", "worker", "privacy")
    }
    assert ACTIONS_PYTHON == RASA_PYTHON  # rasa-sdk on 3.11+: see docs/python-versions.md
    assert SUPERVISORD.parent == Path(APP_PYTHON).parent
    version = "import sys; print(*sys.version_info[:2])"
    rasa_version = tuple(map(int, run(RASA_PYTHON, "-c", version).stdout.split()))
    app_version = tuple(map(int, run(APP_PYTHON, "-c", version).stdout.split()))
    assert rasa_version == (3, 10) and app_version >= (3, 11), (rasa_version, app_version)


def test_a_missing_environment_is_named_before_anything_starts() -> None:
    """`make run` in a checkout where .venv-app was never built says so (clinic/stack/supervise.py)."""
    missing = str(ROOT / "no-such-venv" / "bin" / "python")
    assert missing_programs([[RASA_PYTHON, "-m", "x"], [missing, "-m", "y"], [missing]]) == [missing]


def test_no_entry_point_on_the_app_python_imports_rasa() -> None:
    """Each entry module alone in a fresh interpreter, on .venv-app (where Rasa is not installed,
    so any such import fails) and on .venv (where it is, so an import in a try block shows)."""
    jobs = [(python, entry) for python in (APP_PYTHON, RASA_PYTHON) for entry in app_entries()]

    def imported(job: tuple[str, str]) -> tuple[str, str, object]:
        python, entry = job
        result = run(python, "-c", IMPORT_ENTRIES, entry)
        if result.returncode != 0:
            return python, entry, result.stderr[-800:]
        return python, entry, sorted(set(json.loads(result.stdout)) & RASA_ONLY)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(imported, jobs))
    assert (
        "clinic.handoff.inbox.__main__" in app_entries()
        and str(ROOT / "widget" / "serve.py") in app_entries()
    )
    assert [r for r in results if r[2] != []] == []


def imported_names(path: Path) -> set[str]:
    """The top-level package of every import in a file, also inside functions and TYPE_CHECKING."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def reachable(modules: dict[str, Path], start: list[str]) -> set[str]:
    """The project modules `start` can import, with their parent packages (imported first)."""
    reached, todo = set(), list(start)
    while todo:
        name = todo.pop()
        if name in reached or name not in modules:
            continue
        reached.add(name)
        todo += imports_of(modules[name], modules)
        todo += [name.rsplit(".", i)[0] for i in range(1, name.count(".") + 1)]
    return reached


def test_everything_the_app_services_can_import_even_lazily_is_installed_in_the_app_environment() -> None:
    modules = project_modules()
    entries = app_entries()
    reached = reachable(modules, [e for e in entries if not e.endswith(".py")])
    assert "clinic.handoff.outbox" in reached and "clinic.content.build" in reached
    assert not {name for name in reached if name.startswith(("actions", "clinic.nlp"))}
    paths = [modules[name] for name in reached] + [Path(e) for e in entries if e.endswith(".py")]
    names = sorted(set().union(*map(imported_names, paths)) - {"clinic", "__future__"})
    assert set(names) & RASA_ONLY == set()
    check = (
        "import importlib.util, sys; print(*[n for n in sys.argv[1:] if importlib.util.find_spec(n) is None])"
    )
    result = run(APP_PYTHON, "-c", check, *names)
    assert (result.returncode, result.stdout.split()) == (0, []), result.stderr


@pytest.mark.slow
def test_the_tests_of_the_app_services_pass_on_the_app_python() -> None:
    """Those tests again, on .venv-app (its output is shown when one fails)."""
    result = run(APP_PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", *APP_TESTS, timeout=540)
    summary = result.stdout.strip().splitlines()[-1:] or [""]
    print(f"\nOn {APP_PYTHON}: {summary[0]}")
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
