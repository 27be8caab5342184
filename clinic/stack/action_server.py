"""The action server: rasa_sdk's server, listening on loopback by default, answering only Rasa.

`rasa run actions` (rasa_sdk 3.6.2) always listens on 0.0.0.0 (only the SANIC_HOST variable
changes that) and runs any action for anyone who can reach it: a forged conversation posted
to /webhook with `next_action: action_submit_handoff` stores a handoff and notifies the
coordinators. So this launcher:

- listens on --host (default $CLINIC_BIND_HOST, else 127.0.0.1);
- with ACTION_SERVER_TOKEN set, answers /webhook and /actions only for requests carrying
  `Authorization: Bearer <token>` (compared in constant time), else 401. Rasa sends the header
  (endpoints.yml, `action_endpoint.headers`). /health stays open for process monitors;
- without a token, serves only on a loopback address (development), and refuses to start on
  any other interface.

Usage: python -m clinic.stack.action_server [--host H] [--port 5055] --actions actions
(the other options are `rasa run actions`'s).
"""

from __future__ import annotations

import argparse
import hmac
import ipaddress
import logging
import os
import sys

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import create_app, create_argument_parser, create_ssl_context
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

TOKEN_ENV = "ACTION_SERVER_TOKEN"
OPEN_PATHS = frozenset({"/health"})
logger = logging.getLogger(__name__)

NO_TOKEN_ON_NETWORK = (
    "Refusing to start: the action server would listen on {host} without authentication. Anyone "
    "who reaches it could run actions (store handoffs, send notifications). Set ACTION_SERVER_TOKEN "
    "to a long random value, here and for Rasa (endpoints.yml sends it), or listen on 127.0.0.1."
)


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, "localhost")."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def bearer_token(request: Request) -> str:
    scheme, _, value = (request.headers.get("Authorization") or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def token_is_valid(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


def require_token(app: Sanic, token: str) -> None:
    """Answer 401 to every request but /health without `Authorization: Bearer <token>`."""

    async def check(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS or token_is_valid(bearer_token(request), token):
            return None
        logger.warning("Refused a request to %s without the action server token", request.path)
        return response.json({"error": "authentication required"}, status=401)

    app.register_middleware(check, "request")


def configure_logging(args: argparse.Namespace) -> None:
    """As `rasa run actions` does (rasa_sdk.__main__.main_from_args)."""
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME),
        args.log_file,
        args.loglevel,
        args.logging_config_file,
    )
    utils.update_sanic_log_level()


def main(argv: list[str] | None = None) -> int:
    parser = create_argument_parser()
    parser.add_argument(
        "--host",
        default=os.environ.get("CLINIC_BIND_HOST", "127.0.0.1"),
        help="interface to listen on (default $CLINIC_BIND_HOST or 127.0.0.1)",
    )
    args = parser.parse_args(argv)
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token and not is_loopback(args.host):
        print(NO_TOKEN_ON_NETWORK.format(host=args.host), file=sys.stderr)
        return 2
    configure_logging(args)
    app = create_app(args.actions, cors_origins=args.cors, auto_reload=args.auto_reload)
    if token:
        require_token(app, token)
    else:
        logger.warning(
            "ACTION_SERVER_TOKEN is not set: accepting unauthenticated calls on %s only", args.host
        )
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    logger.info("Action endpoint is up and running on %s:%s", args.host, args.port)
    app.run(args.host, args.port, ssl=ssl_context, workers=utils.number_of_sanic_workers())
    return 0


if __name__ == "__main__":
    sys.exit(main())
