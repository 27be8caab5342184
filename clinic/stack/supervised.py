"""The whole assistant exactly as `make run` starts it (clinic/stack/supervise.py: supervisord and
every service), in a temporary directory on free local ports, for the process-manager test and
`make soak`. Nothing is mocked: real supervisord, real servers, real HTTP."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from clinic.handoff.crypto import generate_key
from clinic.stack.local import ROOT, free_port, log_tail
from clinic.stack.services import APP_PYTHON, StackSettings
from clinic.stack.supervise import control, rasa_ready

# Settings of the developer's shell that would leak into the stack under test.
CLEARED = (
    "ACTION_SERVER_TOKEN",
    "ACTION_SERVER_URL",
    "RASA_API_TOKEN",
    "RASA_API_TOKEN_FILE",
    "CLINIC_BIND_HOST",
    "TRACKER_DATABASE_URL",
    "CLINIC_ALLOWED_ORIGINS",
    "RASA_URL",
    "HANDOFF_WEBHOOK_URL",
    "SMTP_HOST",
)


@dataclass
class SupervisedStack:
    settings: StackSettings
    env: dict[str, str]
    launcher: (
        subprocess.Popen
    )  # python -m clinic.stack.supervise, on .venv-app's Python as `make run` starts it

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.rasa_port}"

    @property
    def rest_webhook(self) -> str:
        return f"{self.rasa_url}/webhooks/rest/webhook"

    def secret(self, name: str) -> str:
        """A token the launcher generated and kept in var/ (rasa-api-token, action-server-token)."""
        return (self.settings.var_dir / name).read_text(encoding="ascii").strip()

    def info(self, service: str) -> dict:
        return control(self.settings).supervisor.getProcessInfo(service)

    def all_info(self) -> list[dict]:
        return control(self.settings).supervisor.getAllProcessInfo()

    def pid(self, service: str) -> int:
        return int(self.info(service)["pid"])

    def rasa_answers(self) -> bool:
        """Rasa is up with its model loaded."""
        return rasa_ready(self.rasa_url, self.secret("rasa-api-token"))

    def wait_until_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.launcher.poll() is not None:
                raise RuntimeError(
                    f"clinic.stack.supervise exited with code {self.launcher.returncode}\n{self.logs()}"
                )
            with contextlib.suppress(OSError):
                running = all(p["statename"] == "RUNNING" for p in self.all_info())
                if running and self.rasa_answers():
                    return
            time.sleep(0.5)
        raise TimeoutError(f"the stack did not come up within {timeout:.0f}s\n{self.logs()}")

    def stop(self, timeout: float = 60) -> int:
        """Ctrl-C, as a developer stops `make run`; returns the launcher's exit code."""
        if self.launcher.poll() is None:
            self.launcher.send_signal(signal.SIGINT)
        try:
            return self.launcher.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.launcher.kill()
            raise

    def logs(self) -> str:
        return "".join(log_tail(path) for path in sorted(self.settings.log_dir.glob("*.log")))


def stack_env(run_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update(
        CLINIC_RUN_DIR=str(run_dir),
        CLINIC_ENV="development",
        RASA_PORT=str(free_port()),
        ACTION_SERVER_PORT=str(free_port()),
        WIDGET_PORT=str(free_port()),
        INBOX_PORT=str(free_port()),
        HANDOFF_DATABASE_URL=f"sqlite:///{run_dir / 'handoffs.db'}",
        HANDOFF_ENCRYPTION_KEY=generate_key(),
        INBOX_SECRET_KEY=os.urandom(24).hex(),
        RASA_TELEMETRY_ENABLED="false",
    )
    env.update(extra or {})
    return env


@contextlib.contextmanager
def supervised_stack(
    extra_env: dict[str, str] | None = None, timeout: float = 240
) -> Iterator[SupervisedStack]:
    """Every service under supervisord, all RUNNING and Rasa answering, for the `with` block."""
    run_dir = Path(tempfile.mkdtemp(prefix="supervised-"))
    env = stack_env(run_dir, extra_env)
    settings = StackSettings.from_env(env)
    launcher = subprocess.Popen(
        [APP_PYTHON, "-m", "clinic.stack.supervise"],
        cwd=ROOT,
        env=env,
        stdout=(run_dir / "launcher.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    stack = SupervisedStack(settings, env, launcher)
    try:
        stack.wait_until_up(timeout)
        yield stack
    finally:
        if launcher.poll() is None:
            stack.stop()
        shutil.rmtree(run_dir, ignore_errors=True)
