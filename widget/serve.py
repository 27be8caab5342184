#!/usr/bin/env python3
"""Serve the chat widget's demo site (standard library only).

    python widget/serve.py [--host 127.0.0.1] [--port 8000] [--rasa-url http://localhost:5005]

    /             widget/demo/index.html  (the clinic's blog article, with the widget)
    /about.html   widget/demo/about.html  (a second page: the conversation continues)
    /privacy      widget/demo/privacy.html (the privacy notice the bot links to)
    /widget/...   widget/dist/            (the built widget: `make widget`)

The demo pages embed ``<script src="/widget/widget.js" data-server="http://localhost:5005">``;
the server rewrites that Rasa URL to ``--rasa-url`` (or the RASA_URL environment variable), so
tests can point the pages at a Rasa on another port. Pages are sent with a strict
Content-Security-Policy: the widget needs no inline script, no eval and no inline styles.
"""

from __future__ import annotations

import argparse
import http.server
import mimetypes
import os
import posixpath
import sys
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEMO_DIR = HERE / "demo"
DIST_DIR = HERE / "dist"
DEFAULT_RASA_URL = "http://localhost:5005"
PLACEHOLDER = f'data-server="{DEFAULT_RASA_URL}"'

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".map": "application/json",
}


def websocket_origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}"


def content_security_policy(rasa_url: str) -> str:
    rasa = urllib.parse.urlsplit(rasa_url)
    rasa_origin = f"{rasa.scheme}://{rasa.netloc}"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src 'self' {rasa_origin} {websocket_origin(rasa_url)}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        ]
    )


class DemoHandler(http.server.BaseHTTPRequestHandler):
    server_version = "ClinicWidgetDemo/1.0"
    rasa_url = DEFAULT_RASA_URL
    quiet = False

    def resolve(self, url_path: str) -> tuple[Path | None, Path | None]:
        """(file, root) for a URL path, or (None, None); never outside the two folders."""
        path = posixpath.normpath(urllib.parse.unquote(url_path))
        if path in ("/", "."):
            path = "/index.html"
        if path.startswith("/widget/"):
            root, relative = DIST_DIR, path[len("/widget/") :]
        else:
            root, relative = DEMO_DIR, path.lstrip("/")
        if not relative or relative.startswith("..") or "\x00" in relative:
            return None, None
        candidate = (root / relative).resolve()
        if root == DEMO_DIR and not candidate.suffix and candidate.with_suffix(".html").is_file():
            candidate = candidate.with_suffix(".html")  # /privacy -> privacy.html
        if root.resolve() not in candidate.parents or not candidate.is_file():
            return None, root
        return candidate, root

    def do_HEAD(self) -> None:  # noqa: N802 (http.server naming)
        self.respond(head=True)

    def do_GET(self) -> None:  # noqa: N802
        self.respond(head=False)

    def respond(self, head: bool) -> None:
        url_path = urllib.parse.urlsplit(self.path).path
        file, root = self.resolve(url_path)
        if file is None:
            if root == DIST_DIR:
                self.send_text(404, "widget/dist is not built yet: run `make widget`.\n", head)
            else:
                self.send_text(404, "Not found.\n", head)
            return
        body = file.read_bytes()
        content_type = (
            TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        )
        if file.suffix == ".html":
            body = body.replace(PLACEHOLDER.encode(), f'data-server="{self.rasa_url}"'.encode())
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "strict-origin-when-cross-origin")
        if file.suffix == ".html":
            self.send_header("Content-Security-Policy", content_security_policy(self.rasa_url))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def send_text(self, status: int, text: str, head: bool) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        if not self.quiet:
            super().log_message(format, *args)


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--rasa-url",
        default=os.environ.get("RASA_URL", DEFAULT_RASA_URL),
        help="Rasa server the demo pages connect to (default: $RASA_URL or %(default)s)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    args = parser.parse_args(argv)

    rasa = urllib.parse.urlsplit(args.rasa_url)
    if rasa.scheme not in ("http", "https") or not rasa.netloc or '"' in args.rasa_url:
        parser.error(f"--rasa-url must be an http(s) URL, not {args.rasa_url!r}")

    handler = type("Handler", (DemoHandler,), {"rasa_url": args.rasa_url.rstrip("/"), "quiet": args.quiet})
    httpd = http.server.ThreadingHTTPServer((args.host, args.port), handler)
    httpd.daemon_threads = True
    if not (DIST_DIR / "widget.js").is_file():
        print("warning: widget/dist/widget.js is missing; run `make widget`", file=sys.stderr)
    print(f"Widget demo on http://{args.host}:{httpd.server_address[1]}/ (Rasa: {args.rasa_url})", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
