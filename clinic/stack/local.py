"""Start the action server and a Rasa server on free local ports, for evaluation, benchmarks
and end-to-end tests, and stop them afterwards. Real servers, real HTTP: nothing is mocked.

The command lines are the ones `make run` uses (clinic/stack/services.py), and so is the security:
both listen on 127.0.0.1, Rasa calls the action server with a fresh ACTION_SERVER_TOKEN (the
action_endpoint section of the shipped endpoints.yml sends it), and Rasa's API token, when a test
wants the API, is passed in the environment, never on the command line."""
from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from clinic.stack.services import BASE_ENV, action_server_command, rasa_command

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_ENDPOINTS = yaml.safe_load((ROOT / "endpoints.yml").read_text())
# The tracker store class the project runs (endpoints.yml), so tests and benchmarks use it too.
TRACKER_STORE_TYPE = SHIPPED_ENDPOINTS["tracker_store"]["type"]


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


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(BASE_ENV, TF_CPP_MIN_LOG_LEVEL="3", **(extra or {}))
    return env


def action_env(action_port: int, token: str) -> dict[str, str]:
    """What Rasa needs to reach the action server (expanded in endpoints.yml's action_endpoint)."""
    return {"ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook", "ACTION_SERVER_TOKEN": token}


@dataclass
class RasaStack:
    """A running action server + Rasa server; `url` is Rasa's base URL."""

    url: str
    action_url: str
    workdir: Path
    action_token: str = ""
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


def write_endpoints(workdir: Path, tracker_store: dict | str | None, lock_store: dict | None = None) -> Path:
    """endpoints.yml for a test: the shipped action_endpoint (URL and token header from the
    environment, see `action_env`) with the given stores."""
    endpoints: dict = {"action_endpoint": SHIPPED_ENDPOINTS["action_endpoint"]}
    if lock_store:
        endpoints["lock_store"] = lock_store
    if tracker_store is None:
        tracker_store = {"type": TRACKER_STORE_TYPE, "dialect": "sqlite", "db": str(workdir / "tracker.db")}
    if tracker_store != "memory":  # "memory": Rasa's in-memory tracker store (no tracker_store key)
        endpoints["tracker_store"] = tracker_store
    path = workdir / "endpoints.yml"
    path.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    return path


def start_action_server(port: int, log: Path, token: str) -> subprocess.Popen:
    env = server_env({"ACTION_SERVER_TOKEN": token})
    return subprocess.Popen(action_server_command(port), cwd=ROOT, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT)  # fmt: skip


def start_rasa_server(
    model: Path, port: int, endpoints: Path, log: Path, env: dict[str, str],
    credentials: Path = ROOT / "credentials.yml", cors: list[str] | tuple[str, ...] = (),
    extra: list[str] | tuple[str, ...] = (),
) -> subprocess.Popen:  # fmt: skip
    """Rasa as `make run` starts it; `env` holds `action_env(...)` and, for the API, RASA_API_TOKEN."""
    command = rasa_command(model, port, endpoints, credentials, cors, extra=extra)
    return subprocess.Popen(command, cwd=ROOT, env=server_env(env), stdout=log.open("w"), stderr=subprocess.STDOUT)


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
    api_token: str | None = None,
    endpoints: Path | None = None,
    rasa_env: dict[str, str] | None = None,
) -> Iterator[RasaStack]:
    """Both servers, up and answering, for the duration of the `with` block.

    `api_token` enables Rasa's HTTP API with that token. `endpoints` uses that file (for example
    the shipped endpoints.scaled.yml) instead of one written from `tracker_store`/`lock_store`;
    `rasa_env` adds environment variables for Rasa (the ones such a file names)."""
    workdir = Path(tempfile.mkdtemp(prefix="rasa-stack-"))
    action_port, rasa_port = free_port(), free_port()
    token = secrets.token_urlsafe(24)
    stack = RasaStack(f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{action_port}", workdir, token)
    env = {**action_env(action_port, token), **(rasa_env or {})}
    if api_token:
        env["RASA_API_TOKEN"] = api_token
    try:
        actions = start_action_server(action_port, workdir / "actions.log", token)
        stack.processes.append(actions)
        endpoints = endpoints or write_endpoints(workdir, tracker_store, lock_store)
        rasa = start_rasa_server(model, rasa_port, endpoints, workdir / "rasa.log", env, extra=extra_args or [])
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
