"""Start the action server and a Rasa server on free local ports, for evaluation, benchmarks
and end-to-end tests, and stop them afterwards. Real servers, real HTTP: nothing is mocked."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# The tracker store class the project runs (endpoints.yml), so tests and benchmarks use it too.
TRACKER_STORE_TYPE = yaml.safe_load((ROOT / "endpoints.yml").read_text())["tracker_store"]["type"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, timeout: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server for {url} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not come up within {timeout:.0f}s")


def server_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="3",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONPATH=str(ROOT),
    )
    return env


@dataclass
class RasaStack:
    """A running action server + Rasa server; `url` is Rasa's base URL."""

    url: str
    action_url: str
    workdir: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def rest_webhook(self) -> str:
        return f"{self.url}/webhooks/rest/webhook"

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def write_endpoints(
    workdir: Path, action_port: int, tracker_store: dict | str | None, lock_store: dict | None = None
) -> Path:
    endpoints: dict = {"action_endpoint": {"url": f"http://127.0.0.1:{action_port}/webhook"}}
    if lock_store:
        endpoints["lock_store"] = lock_store
    if tracker_store is None:
        tracker_store = {"type": TRACKER_STORE_TYPE, "dialect": "sqlite", "db": str(workdir / "tracker.db")}
    if tracker_store != "memory":  # "memory": Rasa's in-memory tracker store (no tracker_store key)
        endpoints["tracker_store"] = tracker_store
    path = workdir / "endpoints.yml"
    path.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    return path


def start_action_server(port: int, log: Path) -> subprocess.Popen:
    command = [str(BIN / "rasa"), "run", "actions", "--port", str(port), "--actions", "actions"]
    return subprocess.Popen(command, cwd=ROOT, env=server_env(), stdout=log.open("w"), stderr=subprocess.STDOUT)


def start_rasa_server(model: Path, port: int, endpoints: Path, log: Path, extra: list[str]) -> subprocess.Popen:
    command = [
        str(BIN / "rasa"), "run", "--model", str(model), "--port", str(port),
        "--interface", "127.0.0.1", "--endpoints", str(endpoints),
        "--credentials", str(ROOT / "credentials.yml"), *extra,
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=server_env(), stdout=log.open("w"), stderr=subprocess.STDOUT)


def log_tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return ""
    tail = "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return f"--- last lines of {path.name}:\n{tail}\n"


@contextlib.contextmanager
def rasa_stack(
    model: Path = ROOT / "models" / "clinic.tar.gz",
    tracker_store: dict | str | None = None,
    lock_store: dict | None = None,
    extra_args: list[str] | None = None,
    timeout: float = 180,
) -> Iterator[RasaStack]:
    """Both servers, up and answering, for the duration of the `with` block."""
    workdir = Path(tempfile.mkdtemp(prefix="rasa-stack-"))
    action_port, rasa_port = free_port(), free_port()
    stack = RasaStack(f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{action_port}", workdir)
    try:
        actions = start_action_server(action_port, workdir / "actions.log")
        stack.processes.append(actions)
        endpoints = write_endpoints(workdir, action_port, tracker_store, lock_store)
        rasa = start_rasa_server(model, rasa_port, endpoints, workdir / "rasa.log", extra_args or [])
        stack.processes.append(rasa)
        try:
            wait_until_up(f"{stack.action_url}/health", timeout, actions)
            wait_until_up(f"{stack.url}/", timeout, rasa)  # "/" answers without the API token
        except (RuntimeError, TimeoutError) as error:
            logs = "".join(log_tail(workdir / name) for name in ("actions.log", "rasa.log"))
            raise RuntimeError(f"{error}\n{logs}") from error
        yield stack
    finally:
        stack.stop()
