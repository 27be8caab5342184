"""`make run` as a kept process manager (issue 9, findings 1, 4 and 9): every service under
supervisord, listening on loopback only, with no secret on any command line; a Rasa killed with
SIGKILL is back within seconds and the same conversation carries on; Ctrl-C stops everything.

One real stack (clinic/stack/supervise.py in a temporary directory, free ports) for the module."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from clinic.devtools.evaluate import send
from clinic.stack.services import ACTIONS_PYTHON, APP_PYTHON, RASA_PYTHON
from clinic.stack.supervised import SupervisedStack, supervised_stack

SERVICES = {"actions", "rasa", "widget", "inbox", "worker", "privacy"}
RESTART_WITHIN = 5.0  # seconds until supervisord has started a new Rasa process
ANSWERING_WITHIN = 90.0  # seconds until the new Rasa answers again (it loads the model first)


@pytest.fixture(scope="module")
def stack() -> Iterator[SupervisedStack]:
    with supervised_stack() as running:
        yield running


def texts(replies: list[dict]) -> str:
    return " ".join(r.get("text") or "" for r in replies)


def listening_addresses(port: int) -> set[str]:
    """The local addresses of the sockets listening on `port` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state != "0A" or int(hex_port, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)
            # The kernel prints each 32-bit word in host (little-endian) order.
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(socket.inet_ntop(family, raw))
    return found


def command_lines() -> dict[int, str]:
    lines = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                lines[int(entry.name)] = (
                    (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                )
            except OSError:
                continue
    return lines


def tracker(stack: SupervisedStack, sender: str) -> dict:
    token = stack.secret("rasa-api-token")
    with urllib.request.urlopen(
        f"{stack.rasa_url}/conversations/{sender}/tracker?token={token}", timeout=30
    ) as r:
        return json.loads(r.read())


@pytest.mark.slow
def test_every_service_runs_under_supervisord(stack: SupervisedStack) -> None:
    infos = {p["name"]: p for p in stack.all_info()}
    assert set(infos) == SERVICES
    assert all(p["statename"] == "RUNNING" for p in infos.values()), infos
    var, logs = stack.settings.var_dir, stack.settings.log_dir
    assert (var / "supervisor.sock").exists() and (var / "supervisord.pid").exists()
    assert {f"{name}.log" for name in SERVICES} <= {p.name for p in logs.iterdir()}


@pytest.mark.slow
def test_every_port_is_bound_to_loopback_only(stack: SupervisedStack) -> None:
    s = stack.settings
    ports = {"rasa": s.rasa_port, "actions": s.action_port, "widget": s.widget_port, "inbox": s.inbox_port}
    bound = {name: listening_addresses(port) for name, port in ports.items()}
    assert bound == {name: {"127.0.0.1"} for name in ports}, bound


@pytest.mark.slow
def test_no_token_is_visible_in_any_command_line(stack: SupervisedStack) -> None:
    api_token, action_token = stack.secret("rasa-api-token"), stack.secret("action-server-token")
    rasa = command_lines()[stack.pid("rasa")]
    assert "clinic.stack.rasa_server" in rasa and "--auth-token" not in rasa
    leaks = {pid: line for pid, line in command_lines().items() if api_token in line or action_token in line}
    assert leaks == {}
    # ... and yet Rasa's API is on, with that token (what `make publish` uses)
    with urllib.request.urlopen(f"{stack.rasa_url}/status?token={api_token}", timeout=10) as response:
        assert response.status == 200
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{stack.rasa_url}/status?token=wrong", timeout=10)
    assert refused.value.code == 401


@pytest.mark.slow
def test_each_service_runs_on_its_python(stack: SupervisedStack) -> None:
    """Rasa and the action server on .venv (Python 3.10, all Rasa 3.6 runs on); supervisord, its
    launcher and every other service on .venv-app (docs/python-versions.md)."""

    def binary(pid: int) -> Path:  # what the process really runs: the venv's python links to it
        return Path(f"/proc/{pid}/exe").resolve()

    on_rasa_python = {"rasa": RASA_PYTHON, "actions": ACTIONS_PYTHON}
    expected = {name: Path(on_rasa_python.get(name, APP_PYTHON)).resolve() for name in SERVICES}
    assert {name: binary(stack.pid(name)) for name in SERVICES} == expected
    supervisord = int((stack.settings.var_dir / "supervisord.pid").read_text())
    assert binary(supervisord) == binary(stack.launcher.pid) == Path(APP_PYTHON).resolve()
    assert Path(RASA_PYTHON).resolve() != Path(APP_PYTHON).resolve()


def wait_for(condition, timeout: float, step: float = 0.05) -> float:
    """Seconds until `condition()` is true; fails after `timeout`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"not within {timeout}s"
        time.sleep(step)
    return time.monotonic() - started


@pytest.mark.slow
def test_a_killed_rasa_is_restarted_and_the_conversation_carries_on(stack: SupervisedStack) -> None:
    sender = f"crash-{uuid.uuid4().hex[:8]}"
    assert "What name should" in texts(send(stack.rest_webhook, "I'd like to talk to someone", sender))
    assert "How would you like us to reach you" in texts(send(stack.rest_webhook, "Ann Example", sender))

    old_pid = stack.pid("rasa")
    os.kill(old_pid, signal.SIGKILL)
    restarted = wait_for(lambda: stack.pid("rasa") not in (0, old_pid), RESTART_WITHIN)
    answering = restarted + wait_for(stack.rasa_answers, ANSWERING_WITHIN, step=0.2)
    print(
        f"\nRasa killed with SIGKILL: new process after {restarted:.2f} s, model loaded and "
        f"answering after {answering:.1f} s"
    )

    # The same conversation: the form remembers it asked how to reach the visitor.
    assert "email address" in texts(send(stack.rest_webhook, "email", sender))
    users = [e["text"] for e in tracker(stack, sender)["events"] if e["event"] == "user"]
    assert len(users) == 3 and users[0] == "I'd like to talk to someone", users
    assert stack.info("actions")["statename"] == "RUNNING"


@pytest.mark.slow
def test_ctrl_c_stops_every_service(stack: SupervisedStack) -> None:
    pids = [p["pid"] for p in stack.all_info()]
    started = time.monotonic()
    assert stack.stop(timeout=60) == 0
    print(f"\nCtrl-C: everything stopped in {time.monotonic() - started:.1f} s")
    alive = [pid for pid in pids if Path(f"/proc/{pid}").exists()]
    assert alive == []
    assert not stack.rasa_answers()


@pytest.mark.slow
def test_the_rasa_launcher_adds_the_token_and_loopback_and_refuses_secrets_in_argv() -> None:
    from clinic.stack.rasa_server import has_secret_option, rasa_argv

    argv = rasa_argv(["run", "--model", "m.tar.gz"], "s3cret", "127.0.0.1")
    assert argv == [
        "rasa",
        "run",
        "--model",
        "m.tar.gz",
        "--enable-api",
        "--auth-token",
        "s3cret",
        "--interface",
        "127.0.0.1",
    ]
    assert rasa_argv(["run", "--interface", "10.0.0.5"], "", "127.0.0.1") == [
        "rasa",
        "run",
        "--interface",
        "10.0.0.5",
    ]
    for leaking in (["--auth-token", "x"], ["--auth=x"], ["-tx"], ["-t", "x"], ["--jwt-secret", "x"]):
        assert has_secret_option(["run", *leaking]), leaking
    assert not has_secret_option(
        ["run", "--model", "models/clinic.tar.gz", "--cors", "http://localhost:8000"]
    )
