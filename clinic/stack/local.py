"""Start the action server and a Rasa server (and, for the widget, its demo server) on free
local ports, for evaluation, benchmarks, screenshots and end-to-end tests, and stop them
afterwards. Real servers, real HTTP: nothing is mocked. (`make run` starts the same services
under supervisord: clinic/stack/supervise.py; clinic/stack/supervised.py does that in a
temporary folder.)

The command lines are the ones `make run` uses (clinic/stack/services.py), and so is the security:
every server listens on 127.0.0.1, Rasa calls the action server with a fresh ACTION_SERVER_TOKEN
(the action_endpoint section of the shipped endpoints.yml sends it), Rasa's API token, when a
test wants the API, is passed in the environment, never on the command line, and with the widget
Rasa accepts only the demo site's origin (CLINIC_ALLOWED_ORIGINS and --cors), as in production."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from unittest.mock import patch

import yaml

from clinic.stack.services import BASE_ENV, action_server_command, inbox_command, rasa_command, widget_command

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_ENDPOINTS = yaml.safe_load((ROOT / "endpoints.yml").read_text())
# The tracker store class the project runs (endpoints.yml), so tests and benchmarks use it too.
TRACKER_STORE_TYPE = SHIPPED_ENDPOINTS["tracker_store"]["type"]
MODEL = ROOT / "models" / "clinic.tar.gz"
WIDGET_DIR = ROOT / "widget"


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


@dataclass(frozen=True)
class RasaLaunch:
    """How Rasa was started, so it can be started again on the same port (`RasaStack.start_rasa`)."""

    model: Path
    port: int
    endpoints: Path
    env: dict[str, str]
    cors: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()


@dataclass
class RasaStack:
    """A running action server + Rasa server (+ the widget's demo server); `url` is Rasa's base
    URL. `processes` are the action server, Rasa, then the demo server when there is one."""

    url: str
    action_url: str
    workdir: Path
    action_token: str = ""
    processes: list[subprocess.Popen] = field(default_factory=list)
    widget_port: int | None = None
    launch: RasaLaunch | None = None
    rasa_starts: int = 0

    @property
    def rest_webhook(self) -> str:
        return f"{self.url}/webhooks/rest/webhook"

    @property
    def rasa_url(self) -> str:
        return self.url

    @property
    def origin(self) -> str:
        """The demo site's origin: the only one Rasa accepts when the stack has the widget."""
        return f"http://127.0.0.1:{self.widget_port}"

    def page(self, name: str = "") -> str:
        return f"{self.origin}/{name}"

    def start_rasa(self, wait: bool = True, timeout: float = 180) -> None:
        """Start Rasa (again, after `stop_rasa`) on its port; its log is rasa.log, then rasa-2.log..."""
        assert self.launch is not None
        launch, self.rasa_starts = self.launch, self.rasa_starts + 1
        log = self.workdir / ("rasa.log" if self.rasa_starts == 1 else f"rasa-{self.rasa_starts}.log")
        rasa = start_rasa_server(
            launch.model, launch.port, launch.endpoints, log, launch.env, cors=launch.cors, extra=launch.extra
        )
        if len(self.processes) > 1:
            self.processes[1] = rasa
        else:
            self.processes.append(rasa)
        if wait:
            self.wait_for_rasa(timeout)

    def wait_for_rasa(self, timeout: float = 180) -> None:
        wait_until_up(f"{self.url}/", timeout, self.processes[1])  # "/" answers without the API token

    def stop_rasa(self) -> None:
        """Stop Rasa only (the widget then shows it offline); the port is free when this returns."""
        rasa = self.processes[1]
        if rasa.poll() is None:
            rasa.terminate()
            try:
                rasa.wait(timeout=20)
            except subprocess.TimeoutExpired:
                rasa.kill()
                rasa.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the port is free again once connections are refused
            try:
                urllib.request.urlopen(self.url, timeout=1)
            except OSError:
                return
            time.sleep(0.2)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()

    def logs(self) -> str:
        """The servers' logs without the libraries' deprecation warnings (for failure reports)."""
        parts = []
        for path in sorted(self.workdir.glob("*.log")):
            lines, skip_next = [], False
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                if "Warning" in line or "declare_namespace" in line:
                    skip_next = True
                    continue
                if skip_next and line.startswith("  "):
                    continue
                skip_next = False
                lines.append(line)
            parts.append(f"----- {path.name} (last 60 lines)\n" + "\n".join(lines[-60:]))
        return "\n".join(parts)


def events_db(workdir: Path) -> Path:
    """The event broker's SQLite file of a test stack (the inbox's feed reads it)."""
    return workdir / "events.db"


def write_endpoints(workdir: Path, tracker_store: dict | str | None, lock_store: dict | None = None) -> Path:
    """endpoints.yml for a test: the shipped action_endpoint (URL and token header from the
    environment, see `action_env`) and event broker (its SQLite file in `workdir`: `events_db`),
    with the given stores."""
    broker = {**SHIPPED_ENDPOINTS["event_broker"], "db": str(events_db(workdir))}
    endpoints: dict = {"action_endpoint": SHIPPED_ENDPOINTS["action_endpoint"], "event_broker": broker}
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
    return subprocess.Popen(
        action_server_command(port), cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )


def start_rasa_server(
    model: Path,
    port: int,
    endpoints: Path,
    log: Path,
    env: dict[str, str],
    credentials: Path = ROOT / "credentials.yml",
    cors: list[str] | tuple[str, ...] = (),
    extra: list[str] | tuple[str, ...] = (),
) -> subprocess.Popen:
    """Rasa as `make run` starts it; `env` holds `action_env(...)` and, for the API, RASA_API_TOKEN."""
    command = rasa_command(model, port, endpoints, credentials, cors, extra=extra)
    return subprocess.Popen(
        command, cwd=ROOT, env=server_env(env), stdout=log.open("w"), stderr=subprocess.STDOUT
    )


def log_tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return ""
    tail = "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return f"--- last lines of {path.name}:\n{tail}\n"


def start_widget_server(port: int, rasa_url: str, log: Path) -> subprocess.Popen:
    """widget/serve.py: the demo pages with the built widget, talking to Rasa at `rasa_url`."""
    return subprocess.Popen(
        [*widget_command(port, rasa_url), "--quiet"],
        cwd=ROOT,
        env=server_env(),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def build_widget() -> None:
    """Build widget/dist/widget.js if it is missing or older than its sources."""
    bundle = WIDGET_DIR / "dist" / "widget.js"
    sources = [*WIDGET_DIR.joinpath("src").iterdir(), WIDGET_DIR / "build.mjs", WIDGET_DIR / "package.json"]
    if bundle.is_file() and bundle.stat().st_mtime >= max(path.stat().st_mtime for path in sources):
        return
    if shutil.which("make") is None:
        raise RuntimeError("widget/dist/widget.js is missing or stale: run `make widget`")
    subprocess.run(["make", "--no-print-directory", "widget"], cwd=ROOT, check=True)


@contextlib.contextmanager
def rasa_stack(
    model: Path = MODEL,
    tracker_store: dict | str | None = None,
    lock_store: dict | None = None,
    extra_args: list[str] | None = None,
    timeout: float = 180,
    api_token: str | None = None,
    endpoints: Path | None = None,
    rasa_env: dict[str, str] | None = None,
    widget_port: int | None = None,
) -> Iterator[RasaStack]:
    """The servers, up and answering, for the duration of the `with` block.

    `api_token` enables Rasa's HTTP API with that token. `endpoints` uses that file (for example
    the shipped endpoints.scaled.yml) instead of one written from `tracker_store`/`lock_store`;
    `rasa_env` adds environment variables for Rasa (the ones such a file names). `widget_port`
    adds the widget's demo server on that port, and Rasa then accepts only its origin (see
    `widget_stack`)."""
    workdir = Path(tempfile.mkdtemp(prefix="rasa-stack-"))
    action_port, rasa_port = free_port(), free_port()
    token = secrets.token_urlsafe(24)
    stack = RasaStack(
        f"http://127.0.0.1:{rasa_port}",
        f"http://127.0.0.1:{action_port}",
        workdir,
        token,
        widget_port=widget_port,
    )
    env = {**action_env(action_port, token), **(rasa_env or {})}
    if api_token:
        env["RASA_API_TOKEN"] = api_token
    cors = (stack.origin,) if widget_port else ()
    try:
        actions = start_action_server(action_port, workdir / "actions.log", token)
        stack.processes.append(actions)
        endpoints = endpoints or write_endpoints(workdir, tracker_store, lock_store)
        stack.launch = RasaLaunch(model, rasa_port, endpoints, env, cors, tuple(extra_args or ()))
        stack.start_rasa(wait=False)
        try:
            if widget_port:
                widget = start_widget_server(widget_port, stack.url, workdir / "widget.log")
                stack.processes.append(widget)
                wait_until_up(f"{stack.origin}/", 30, widget)
            wait_until_up(f"{stack.action_url}/health", timeout, actions)
            stack.wait_for_rasa(timeout)
        except (RuntimeError, TimeoutError) as error:
            logs = "".join(log_tail(workdir / name) for name in ("actions.log", "rasa.log", "widget.log"))
            raise RuntimeError(f"{error}\n{logs}") from error
        yield stack
    finally:
        stack.stop()


@contextlib.contextmanager
def widget_stack(
    extra_env: dict[str, str] | None = None, api_token: str | None = None
) -> Iterator[RasaStack]:
    """The servers and the widget's demo server (the widget built first), up, for the `with` block.
    `api_token` also enables Rasa's HTTP API with that token (as `rasa_stack`), for tests that play
    the inbox's part (docs/live-chat.md).

    The servers inherit this process's environment, plus ``CLINIC_ALLOWED_ORIGINS`` (the demo
    server's origin) and ``extra_env``; both are also set here, so the test process sees the
    same settings (for example ``HANDOFF_DATABASE_URL`` to read the handoff store).
    """
    build_widget()
    widget_port = free_port()
    env = {"CLINIC_ALLOWED_ORIGINS": f"http://127.0.0.1:{widget_port}", **(extra_env or {})}
    workdir = None
    try:
        with patch.dict(os.environ, env), rasa_stack(widget_port=widget_port, api_token=api_token) as stack:
            workdir = stack.workdir
            yield stack
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def inbox_server(stack: RasaStack, api_token: str, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """The coordinators' inbox as `make run` starts it, wired to `stack` (its Rasa API and its event
    broker's file), up for the `with` block; yields its base URL. Its settings (handoff database, keys,
    live chat limits) come from this process's environment plus `extra_env`."""
    port = free_port()
    env = server_env(
        {
            "RASA_URL": stack.url,
            "RASA_API_TOKEN": api_token,
            "EVENT_BROKER_URL": f"sqlite:///{events_db(stack.workdir)}",
            **(extra_env or {}),
        }
    )
    log = stack.workdir / "inbox.log"
    process = subprocess.Popen(
        inbox_command(port), cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/sign-in", 60, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
