"""``python -m clinic.handoff.cli``: accounts, list (table and --json), purge, worker."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from clinic.handoff.cli import main
from clinic.handoff.crypto import generate_key
from clinic.handoff.requests import HandoffStore
from clinic.settings import load_settings
from tests.clinic.handoff.conftest import (
    VISITOR_EMAIL,
    VISITOR_NAME,
    VISITOR_SECRET_TEXT,
    free_port,
    make_new_handoff,
)

PROJECT_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "CLINIC_ENV": "test",
        "HANDOFF_ENCRYPTION_KEY": generate_key(),
        "HANDOFF_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
    }


@pytest.fixture
def cli_store(env: dict[str, str], tmp_path: Path) -> Iterator[HandoffStore]:
    store = HandoffStore.from_settings(load_settings(env, var_dir=tmp_path))
    yield store
    store.close()


def run(env: dict[str, str], *argv: str, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), environ=env, stdin=io.StringIO(stdin), stdout=out)
    return code, out.getvalue()


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """`python -m clinic.handoff.cli ARGS` as a coordinator would run it, in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "clinic.handoff.cli", *args],
        check=False,
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_create_user_from_stdin(env: dict[str, str], cli_store: HandoffStore) -> None:
    code, output = run(env, "create-user", "casey", "--password-stdin", stdin="a long enough password\n")
    assert code == 0 and "Created coordinator casey" in output
    assert cli_store.authenticate("casey", "a long enough password")

    code, _ = run(env, "create-user", "casey", "--password-stdin", stdin="a long enough password\n")
    assert code == 2  # already exists
    code, _ = run(env, "create-user", "robin", "--password-stdin", stdin="short\n")
    assert code == 2
    assert not cli_store.authenticate("robin", "short")


def test_list_table_and_json(env: dict[str, str], cli_store: HandoffStore) -> None:
    first = cli_store.create(make_new_handoff(reason="out_of_scope")).reference
    second = cli_store.create(make_new_handoff()).reference
    cli_store.claim(first, "casey")

    code, table = run(env, "list")
    assert code == 0
    lines = table.strip().splitlines()
    assert lines[0].split() == ["REFERENCE", "CREATED", "STATUS", "REASON", "CLAIMED", "BY"]
    assert lines[1].startswith(second) and "new" in lines[1] and "visitor_asked" in lines[1]
    assert lines[2].startswith(first) and "claimed" in lines[2] and "casey" in lines[2]
    assert VISITOR_NAME not in table and VISITOR_EMAIL not in table

    code, output = run(env, "list", "--json")
    assert code == 0
    rows = json.loads(output)
    assert [row["reference"] for row in rows] == [second, first]
    assert set(rows[0]) == {"reference", "created_at", "status", "reason", "claimed_by"}
    assert rows[1] == {**rows[1], "status": "claimed", "reason": "out_of_scope", "claimed_by": "casey"}
    assert VISITOR_EMAIL not in output

    code, output = run(env, "list", "--status", "claimed", "--json")
    assert [row["reference"] for row in json.loads(output)] == [first]


def test_list_show_contact_is_explicit_and_audited(env: dict[str, str], cli_store: HandoffStore) -> None:
    reference = cli_store.create(make_new_handoff()).reference
    code, output = run(env, "list", "--json", "--show-contact")
    assert code == 0
    (row,) = json.loads(output)
    assert (row["name"], row["contact_method"], row["contact_value"]) == (
        VISITOR_NAME,
        "email",
        VISITOR_EMAIL,
    )
    assert VISITOR_SECRET_TEXT not in output  # never the conversation itself
    assert [e.action for e in cli_store.get(reference).audit][-1] == "contact_shown"


def test_purge_uses_retention_from_settings(env: dict[str, str], cli_store: HandoffStore) -> None:
    reference = cli_store.create(make_new_handoff()).reference
    cli_store.claim(reference, "casey")
    cli_store.resolve(reference, "casey")
    code, output = run(env, "purge")
    assert code == 0 and "Deleted 0 resolved handoff(s) older than 90 days" in output
    code, output = run(env, "purge", "--days", "0")
    assert code == 0 and "Deleted 1" in output
    assert cli_store.list() == []


def test_missing_key_in_production_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run({"CLINIC_ENV": "production"}, "list")
    assert code == 2
    assert "HANDOFF_ENCRYPTION_KEY is not set" in capsys.readouterr().err


@pytest.mark.slow
def test_module_entry_point_runs_the_worker_once(env: dict[str, str], cli_store: HandoffStore) -> None:
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    port = free_port()
    http = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    worker_env = {
        **env,
        "HANDOFF_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
        "HANDOFF_WEBHOOK_SECRET": "cli-secret",
    }
    try:
        webhook_store = HandoffStore.from_settings(load_settings(worker_env))
        reference = webhook_store.create(make_new_handoff()).reference
        webhook_store.close()
        process_env = {
            key: value for key, value in os.environ.items() if not key.startswith(("SMTP_", "HANDOFF_"))
        }
        process_env.update(worker_env)
        result = run_cli(process_env, "worker", "--once")
        assert result.returncode == 0, result.stderr
        assert "Delivered 1, failed 0." in result.stdout
        assert len(received) == 1 and json.loads(received[0])["reference"] == reference

        listed = run_cli(process_env, "list", "--json")
        assert listed.returncode == 0, listed.stderr
        assert [row["reference"] for row in json.loads(listed.stdout)] == [reference]
    finally:
        http.shutdown()
        http.server_close()


def test_reassign_a_claimed_request(env: dict[str, str], cli_store: HandoffStore) -> None:
    reference = cli_store.create(make_new_handoff()).reference
    cli_store.claim(reference, "casey")
    run(env, "create-user", "robin", "--password-stdin", stdin="correct horse battery staple\n")
    code, out = run(env, "reassign", reference, "robin")
    assert (code, out) == (0, f"{reference} is now claimed by robin.\n")
    assert cli_store.get(reference).claimed_by == "robin"
    assert run(env, "reassign", "ZZZ-ZZZZ", "robin")[0] == 2
