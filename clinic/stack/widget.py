"""Real servers for the widget's browser tests (and clinic/devtools/screenshots.py).

An action server, a Rasa server and the widget's demo server (widget/serve.py) on free local
ports. Unlike ``clinic.stack.local.rasa_stack`` this one can stop and restart Rasa on
the same port, to test what the widget does when the connection drops.

Rasa is started with the project's credentials.yml, the socket.io channel of which must be
``clinic.channels.socketio.ClinicSocketIOInput`` (origin allow-list, working session rooms).
Until credentials.yml says so, a copy with that one key renamed is used and a warning is
printed; every other setting comes from the project's file. ``CLINIC_ALLOWED_ORIGINS`` is set
to the demo server's origin and ``--cors`` to the same origin, as in production.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.request
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from clinic.stack.local import (
    ROOT,
    action_env,
    free_port,
    server_env,
    start_action_server,
    start_rasa_server,
    wait_until_up,
    write_endpoints,
)
from clinic.stack.services import widget_command

CLINIC_CHANNEL = "clinic.channels.socketio.ClinicSocketIOInput"
WIDGET_DIR = ROOT / "widget"
MODEL = ROOT / "models" / "clinic.tar.gz"


def widget_credentials(workdir: Path) -> Path:
    """The project's credentials.yml, with the clinic socket.io channel (see module docstring)."""
    source = ROOT / "credentials.yml"
    credentials = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    if CLINIC_CHANNEL in credentials:
        return source
    if "socketio" not in credentials:
        raise RuntimeError("credentials.yml has no socket.io channel: the widget cannot connect")
    warnings.warn(
        f"credentials.yml still uses Rasa's `socketio` channel; testing with `{CLINIC_CHANNEL}` "
        "(same settings). Rasa's own channel never delivers bot messages with python-socketio 5.10+.",
        stacklevel=2,
    )
    renamed = {(CLINIC_CHANNEL if key == "socketio" else key): value for key, value in credentials.items()}
    path = workdir / "credentials.yml"
    path.write_text(yaml.safe_dump(renamed), encoding="utf-8")
    return path


def build_widget() -> None:
    """Build widget/dist/widget.js if it is missing or older than its sources."""
    bundle = WIDGET_DIR / "dist" / "widget.js"
    sources = [*WIDGET_DIR.joinpath("src").iterdir(), WIDGET_DIR / "build.mjs", WIDGET_DIR / "package.json"]
    if bundle.is_file() and bundle.stat().st_mtime >= max(path.stat().st_mtime for path in sources):
        return
    if shutil.which("make") is None:
        raise RuntimeError("widget/dist/widget.js is missing or stale: run `make widget`")
    subprocess.run(["make", "--no-print-directory", "widget"], cwd=ROOT, check=True)


@dataclass
class WidgetStack:
    workdir: Path
    rasa_port: int = field(default_factory=free_port)
    action_port: int = field(default_factory=free_port)
    widget_port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    credentials: Path | None = None
    endpoints: Path | None = None
    rasa_starts: int = 0
    action_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def origin(self) -> str:
        """The demo site's origin: the only one Rasa accepts."""
        return f"http://127.0.0.1:{self.widget_port}"

    def page(self, name: str = "") -> str:
        return f"{self.origin}/{name}"

    # -------------------------------------------------------------------- processes

    def start(self, timeout: float = 180) -> None:
        self.credentials = widget_credentials(self.workdir)
        self.endpoints = write_endpoints(self.workdir, None)
        actions = start_action_server(self.action_port, self.workdir / "actions.log", self.action_token)
        self.processes["actions"] = actions
        self.start_rasa(wait=False)
        widget = subprocess.Popen(
            [*widget_command(self.widget_port, self.rasa_url), "--quiet"],
            cwd=ROOT, env=server_env(), stdout=(self.workdir / "widget.log").open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.processes["widget"] = widget
        wait_until_up(f"{self.origin}/", 30, widget)
        wait_until_up(f"http://127.0.0.1:{self.action_port}/health", timeout, actions)
        self.wait_for_rasa(timeout)

    def start_rasa(self, wait: bool = True, timeout: float = 180) -> None:
        assert self.endpoints is not None and self.credentials is not None
        self.rasa_starts += 1
        log = self.workdir / f"rasa-{self.rasa_starts}.log"
        env = action_env(self.action_port, self.action_token)
        self.processes["rasa"] = start_rasa_server(MODEL, self.rasa_port, self.endpoints, log, env,
                                                   credentials=self.credentials, cors=[self.origin])  # fmt: skip
        if wait:
            self.wait_for_rasa(timeout)

    def wait_for_rasa(self, timeout: float = 180) -> None:
        wait_until_up(self.rasa_url, timeout, self.processes["rasa"])

    def stop_rasa(self) -> None:
        process = self.processes.pop("rasa", None)
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        # The port is free again once connections are refused.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.rasa_url, timeout=1)
            except OSError:
                return
            time.sleep(0.2)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()

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


@contextmanager
def widget_stack(extra_env: dict[str, str] | None = None) -> Iterator[WidgetStack]:
    """All three servers, up, for the duration of the `with` block.

    The servers inherit this process's environment, plus ``CLINIC_ALLOWED_ORIGINS`` (the demo
    server's origin) and ``extra_env``; both are also set here, so the test process sees the
    same settings (for example ``HANDOFF_DATABASE_URL`` to read the handoff store).
    """
    workdir = Path(tempfile.mkdtemp(prefix="widget-stack-"))
    build_widget()
    stack = WidgetStack(workdir)
    env = {"CLINIC_ALLOWED_ORIGINS": stack.origin, **(extra_env or {})}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(workdir, ignore_errors=True)
