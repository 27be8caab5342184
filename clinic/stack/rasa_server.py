"""Start Rasa with its HTTP API token kept off the command line, and on loopback by default.

`rasa run --auth-token <token>` puts the token in the process's command line, which every user
of the machine can read (`ps -eo args`, /proc/<pid>/cmdline). This launcher reads the token from
RASA_API_TOKEN, or from the file named by RASA_API_TOKEN_FILE, and hands it to Rasa's own
command-line entry point inside this Python process: `sys.argv` is a copy, the command line the
kernel shows stays as typed. With a token, the API is enabled (`make publish` needs it); without
one it stays off. A token on the command line is refused, so it cannot come back by accident.

Without `--interface`, Rasa listens on $CLINIC_BIND_HOST, else 127.0.0.1 (Rasa's own default is
0.0.0.0).

Usage: RASA_API_TOKEN=... python -m clinic.stack.rasa_server run --model ... [other `rasa` options]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

SECRET_OPTIONS = ("--auth", "--jwt-secret", "--jwt-private-key", "-t")  # "--auth" also catches abbreviations
TOKEN_ON_COMMAND_LINE = (
    "Refusing to start: pass Rasa's API token in RASA_API_TOKEN (or a file named by "
    "RASA_API_TOKEN_FILE), not on the command line, where `ps` shows it to every user."
)


def api_token(environ: Mapping[str, str]) -> str:
    """RASA_API_TOKEN, else the content of the file RASA_API_TOKEN_FILE names, else ""."""
    token = environ.get("RASA_API_TOKEN", "").strip()
    path = environ.get("RASA_API_TOKEN_FILE", "").strip()
    if not token and path:
        token = Path(path).read_text(encoding="utf-8").strip()
    return token


def has_secret_option(args: list[str]) -> bool:
    """True if the arguments carry a secret (`--auth-token X`, `--auth=X`, `-tX`, JWT keys)."""
    return any(arg.startswith(SECRET_OPTIONS) for arg in args)


def rasa_argv(args: list[str], token: str, default_host: str) -> list[str]:
    """The argument list Rasa's CLI parses: the given one, plus the token and interface."""
    argv = ["rasa", *args]
    if args[:1] == ["run"] and token:
        argv += ["--enable-api", "--auth-token", token]
    if args[:1] == ["run"] and not any(
        a in ("-i", "--interface") or a.startswith("--interface=") for a in args
    ):
        argv += ["--interface", default_host]
    return argv


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if has_secret_option(args):
        sys.exit(TOKEN_ON_COMMAND_LINE)
    token = api_token(os.environ)
    os.environ.pop("RASA_API_TOKEN", None)  # nothing Rasa starts needs it
    sys.argv = rasa_argv(args, token, os.environ.get("CLINIC_BIND_HOST", "127.0.0.1"))
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
