"""``python -m clinic.handoff.inbox [--host H] [--port P]``: serve the coordinators' inbox.

Uses Werkzeug's threaded server, which suits a handful of coordinators on a private
network (each open live-chat page holds one thread for its event stream). Put an HTTPS reverse proxy in front of it for anything beyond localhost.
"""

from __future__ import annotations

import argparse
import logging
import sys

from werkzeug.serving import run_simple

from clinic.handoff.inbox.app import create_app, start_background
from clinic.settings import ConfigurationError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m clinic.handoff.inbox", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8001, help="port to listen on (default 8001)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app = create_app()
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    start_background(app)  # live chat: the broker feed and the watchdog (docs/live-chat.md)
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False, use_debugger=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
