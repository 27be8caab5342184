"""The coordinators' inbox for tests: its settings over a temporary store, and the app served by
Werkzeug's threaded server on a free port (real HTTP for the browser tests)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from clinic.settings import Settings, load_settings
from clinic.stack.local import free_port


def inbox_settings(tmp_path: Path, key: str) -> Settings:
    """Test settings: a SQLite store in `tmp_path`, the given encryption key, a fresh cookie key."""
    return load_settings(
        {
            "CLINIC_ENV": "test",
            "HANDOFF_ENCRYPTION_KEY": key,
            "HANDOFF_DATABASE_URL": f"sqlite:///{tmp_path / 'inbox.db'}",
            "INBOX_SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
        },
        var_dir=tmp_path / "var",
    )


@contextmanager
def served(app: Any) -> Iterator[str]:
    """The app on 127.0.0.1, until the block ends; yields its base URL."""
    port = free_port()
    http = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        http.shutdown()
        thread.join(5)
