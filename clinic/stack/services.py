"""Every service of the assistant and the exact command line that starts it, in one place.

Each command starts with the Python it runs on (docs/python-versions.md): Rasa 3.6 runs only on
Python 3.8-3.10, so Rasa and the action server (rasa_sdk 3.6) run on RASA_PYTHON (.venv); every
other service runs on APP_PYTHON (.venv-app, Python 3.11 or newer). `make install` builds both.

`make run` (clinic/stack/supervise.py, which writes supervisord's configuration from this) and the
test stacks (clinic/stack/local.py) start the servers with these
commands, so what the tests exercise is what runs in production.

Settings come from the environment (defaults in brackets):
  CLINIC_BIND_HOST     [127.0.0.1] the interface every server listens on. Loopback by default:
                       set it (e.g. 0.0.0.0) only behind a firewall / TLS proxy, and set the
                       secrets (ACTION_SERVER_TOKEN, RASA_API_TOKEN) first.
  RASA_PORT [5005], ACTION_SERVER_PORT [5055], WIDGET_PORT [8000], INBOX_PORT [8001]
  RASA_MODEL           [models/clinic.tar.gz]
  CLINIC_ALLOWED_ORIGINS  [the demo page's two origins] web pages allowed to talk to Rasa
  ACTION_SERVER_URL    [http://127.0.0.1:<ACTION_SERVER_PORT>/webhook] where Rasa finds actions
  HANDOFF_WORKER_INTERVAL [30] seconds between the notification worker's rounds
  TRACKER_SQLITE_FILE  [var/tracker.db] the conversation store of endpoints.yml
  EVENT_BROKER_SQLITE_FILE [var/events.db] endpoints.yml's event broker, which the inbox reads
                       (EVENT_BROKER_URL; EVENT_BROKER_AMQP_URL for RabbitMQ: docs/live-chat.md)
  RASA_URL             [http://localhost:<RASA_PORT>] where the inbox finds Rasa's API (live chat)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = str(ROOT / ".venv" / "bin" / "python")  # Python 3.10: Rasa and its NLU components
APP_PYTHON = str(ROOT / ".venv-app" / "bin" / "python")  # Python 3.11+: everything that needs no Rasa
ACTIONS_PYTHON = RASA_PYTHON  # rasa_sdk: see docs/python-versions.md for why it stays on 3.10
LOOPBACK = "127.0.0.1"

# Environment every service gets: quiet libraries (the project is importable: `make install`).
BASE_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
}


@dataclass(frozen=True)
class Service:
    """One long-running process: its name (also its log file's) and command line."""

    name: str
    command: list[str]


@dataclass(frozen=True)
class StackSettings:
    """Where and how the services run. `run_dir` (default: the project) holds var/ (the SQLite
    stores, tokens, supervisord's socket) and logs/. The services run in the project directory:
    the model names its spaCy pipeline by a path relative to it."""

    run_dir: Path = ROOT
    host: str = LOOPBACK
    rasa_port: int = 5005
    action_port: int = 5055
    widget_port: int = 8000
    inbox_port: int = 8001
    endpoints: Path = ROOT / "endpoints.yml"
    credentials: Path = ROOT / "credentials.yml"
    model: Path = ROOT / "models" / "clinic.tar.gz"
    origins: tuple[str, ...] = field(default=())
    worker_interval: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, scaled: bool = False) -> StackSettings:
        env = os.environ if environ is None else environ
        widget_port = int(env.get("WIDGET_PORT", "8000"))
        default_origins = f"http://localhost:{widget_port} http://127.0.0.1:{widget_port}"
        return cls(
            run_dir=Path(env.get("CLINIC_RUN_DIR", str(ROOT))).resolve(),
            host=env.get("CLINIC_BIND_HOST", LOOPBACK),
            rasa_port=int(env.get("RASA_PORT", "5005")),
            action_port=int(env.get("ACTION_SERVER_PORT", "5055")),
            widget_port=widget_port,
            inbox_port=int(env.get("INBOX_PORT", "8001")),
            endpoints=ROOT / ("endpoints.scaled.yml" if scaled else "endpoints.yml"),
            model=Path(env.get("RASA_MODEL", str(ROOT / "models" / "clinic.tar.gz"))).resolve(),
            origins=tuple((env.get("CLINIC_ALLOWED_ORIGINS") or default_origins).split()),
            worker_interval=float(env.get("HANDOFF_WORKER_INTERVAL", "30")),
        )

    @property
    def var_dir(self) -> Path:
        return self.run_dir / "var"

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "logs"

    @property
    def rasa_url(self) -> str:
        return f"http://localhost:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{LOOPBACK}:{self.action_port}/webhook"


def action_server_command(port: int, host: str = LOOPBACK) -> list[str]:
    """The action server (clinic/stack/action_server.py: rasa_sdk's server, with a bind address
    and token check that `rasa run actions` lacks)."""
    return [
        ACTIONS_PYTHON,
        "-m",
        "clinic.stack.action_server",
        "--host",
        host,
        "--port",
        str(port),
        "--actions",
        "actions",
    ]


def rasa_command(
    model: Path,
    port: int,
    endpoints: Path,
    credentials: Path,
    cors: list[str] | tuple[str, ...],
    host: str = LOOPBACK,
    extra: list[str] | tuple[str, ...] = (),
) -> list[str]:
    """Rasa, through clinic/stack/rasa_server.py, which adds the API token from the environment
    (never on the command line, where `ps` shows it)."""
    return [
        RASA_PYTHON,
        "-m",
        "clinic.stack.rasa_server",
        "run",
        "--model",
        str(model),
        "--port",
        str(port),
        "--interface",
        host,
        "--endpoints",
        str(endpoints),
        "--credentials",
        str(credentials),
        *(["--cors", *cors] if cors else []),
        *extra,
    ]


def widget_command(port: int, rasa_url: str, host: str = LOOPBACK) -> list[str]:
    return [
        APP_PYTHON,
        str(ROOT / "widget" / "serve.py"),
        "--host",
        host,
        "--port",
        str(port),
        "--rasa-url",
        rasa_url,
    ]


def inbox_command(port: int, host: str = LOOPBACK) -> list[str]:
    """The coordinators' inbox (Werkzeug's threaded server; it also runs the live chat feed)."""
    return [APP_PYTHON, "-m", "clinic.handoff.inbox", "--host", host, "--port", str(port)]


def services(settings: StackSettings) -> list[Service]:
    """Everything `make run` starts, in start order."""
    s = settings
    return [
        Service("actions", action_server_command(s.action_port, s.host)),
        Service("rasa", rasa_command(s.model, s.rasa_port, s.endpoints, s.credentials, s.origins, s.host)),
        Service("widget", widget_command(s.widget_port, os.environ.get("RASA_URL", s.rasa_url), s.host)),
        Service("inbox", inbox_command(s.inbox_port, s.host)),
        Service(
            "worker",
            [APP_PYTHON, "-m", "clinic.handoff.cli", "worker", "--interval", f"{s.worker_interval:g}"],
        ),
        Service("privacy", [APP_PYTHON, "-m", "clinic.privacy.cli", "loop"]),
    ]


def missing_programs(commands: list[list[str]]) -> list[str]:
    """The programs (interpreters) these command lines start that are not there: before `make
    install`, or in a checkout whose .venv-app was never built. A launcher says so, rather than
    supervisord failing to start a service over and over."""
    return sorted({command[0] for command in commands if not Path(command[0]).is_file()})


def service_env(settings: StackSettings, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment the services share: the caller's, plus what the commands above rely on."""
    env = dict(os.environ if environ is None else environ)
    env.update(BASE_ENV)
    env.setdefault("CLINIC_ENV", "development")
    env["CLINIC_ALLOWED_ORIGINS"] = " ".join(settings.origins)  # the same list for REST and socket.io
    env.setdefault("ACTION_SERVER_URL", settings.action_url)
    env.setdefault("CLINIC_BIND_HOST", settings.host)
    env.setdefault("TRACKER_SQLITE_FILE", str(settings.var_dir / "tracker.db"))  # endpoints.yml's store
    env.setdefault("TRACKER_DATABASE_URL", f"sqlite:///{env['TRACKER_SQLITE_FILE']}")  # the privacy job's
    env.setdefault("EVENT_BROKER_SQLITE_FILE", str(settings.var_dir / "events.db"))  # endpoints.yml's broker
    if not env.get("EVENT_BROKER_AMQP_URL"):  # the scaled set-up's broker is RabbitMQ
        env.setdefault("EVENT_BROKER_URL", f"sqlite:///{env['EVENT_BROKER_SQLITE_FILE']}")  # the inbox's feed
    env.setdefault("RASA_URL", settings.rasa_url)
    return env
