"""The running Rasa server's HTTP API, as far as publishing needs it.

Rasa must run with `--enable-api --auth-token $RASA_API_TOKEN` (scripts/run_all.sh does this when
RASA_API_TOKEN is set). The token travels as the `token` query parameter, as Rasa expects.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_URL = "http://localhost:5005"


class RasaApiError(Exception):
    """The server is unreachable, refused the token, or failed to do what was asked."""


def _call(
    method: str, url: str, token: str, path: str, body: dict | None = None, timeout: float = 30
) -> tuple[int, bytes]:
    query = urllib.parse.urlencode({"token": token})
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{url.rstrip('/')}{path}?{query}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:500]
        if exc.code in (401, 403):
            raise RasaApiError(
                f"the bot at {url} refused the API token (HTTP {exc.code}); "
                "RASA_API_TOKEN must be the token the bot was started with"
            ) from exc
        if exc.code == 404 and path == "/status":
            raise RasaApiError(
                f"the bot at {url} does not accept API calls: it was started without the API "
                "enabled; restart it with `RASA_API_TOKEN=<token> make run`"
            ) from exc
        raise RasaApiError(f"the bot at {url} answered HTTP {exc.code} to {method} {path}: {detail}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RasaApiError(
            f"cannot reach the bot at {url} ({reason}); is it running? "
            "Start it with `RASA_API_TOKEN=<token> make run`"
        ) from exc


def status(url: str, token: str) -> dict:
    """GET /status: the model the server runs (`model_file`, `model_id`)."""
    _, body = _call("GET", url, token, "/status", timeout=10)
    return json.loads(body or b"{}")


def load_model(url: str, token: str, model_file: str, timeout: float = 300) -> None:
    """PUT /model: the server loads the model and swaps to it; conversations carry on."""
    code, _ = _call("PUT", url, token, "/model", {"model_file": model_file}, timeout=timeout)
    if code not in (200, 204):
        raise RasaApiError(f"the bot at {url} answered HTTP {code} to PUT /model")
