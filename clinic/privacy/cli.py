"""Redact and purge the conversation store. `make run` runs `loop` beside the bot.

Usage:
  python -m clinic.privacy.cli redact [--db URL]
  python -m clinic.privacy.cli purge [--db URL] [--days N]
  python -m clinic.privacy.cli loop [--db URL] [--days N] [--interval SECONDS]
The database is TRACKER_DATABASE_URL (default: the embedded SQLite store, var/tracker.db);
the retention period is CONVERSATION_RETENTION_DAYS (default 30). A handoff form counts as
abandoned after privacy.abandoned_form_minutes in content/clinic.yml.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy.exc import OperationalError, ProgrammingError

from clinic.privacy.tracker_redaction import DEFAULT_IDLE, last_event_id, purge, redact, redact_pass
from clinic.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DB = f"sqlite:///{ROOT / 'var' / 'tracker.db'}"
logger = logging.getLogger("clinic.privacy")


def run_once(database_url: str, days: int, after_id: int, idle: timedelta = DEFAULT_IDLE) -> tuple[str, int]:
    """Redact the conversations that changed since event `after_id`, purge old ones; returns a
    summary and the event id to start from next time: the newest event, or earlier if a form
    is still in progress somewhere (it is redacted once it is finished or abandoned)."""
    try:
        next_id = last_event_id(database_url)
        result = redact_pass(database_url, after_id, idle=idle)
        if result.resume_after is not None:
            next_id = min(next_id, result.resume_after)
        return f"redacted {result.changed} events, purged {purge(database_url, days)} conversations", next_id
    except (OperationalError, ProgrammingError):  # no conversations stored yet
        return "no conversation store yet", after_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["redact", "purge", "loop"])
    parser.add_argument("--db", default=os.environ.get("TRACKER_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--days", type=int, default=int(os.environ.get("CONVERSATION_RETENTION_DAYS", "30")))
    parser.add_argument("--interval", type=float, default=60.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
    idle = load_settings(secrets=False).abandoned_form_after
    if args.command == "redact":
        print(f"redacted {redact(args.db, idle=idle)} events")
    elif args.command == "purge":
        print(f"purged {purge(args.db, args.days)} conversations older than {args.days} days")
    else:
        after_id = 0
        while True:
            summary, after_id = run_once(args.db, args.days, after_id, idle)
            logger.info(summary)
            time.sleep(args.interval)


if __name__ == "__main__":
    main()
