"""Redact and purge the conversation store. `make run` runs `loop` beside the bot.

Usage:
  python -m clinic_privacy.cli redact [--db URL]
  python -m clinic_privacy.cli purge [--db URL] [--days N]
  python -m clinic_privacy.cli loop [--db URL] [--days N] [--interval SECONDS]
The database is TRACKER_DATABASE_URL (default: the embedded SQLite store, var/tracker.db);
the retention period is CONVERSATION_RETENTION_DAYS (default 30).
"""
from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path

from sqlalchemy.exc import OperationalError, ProgrammingError

from clinic_privacy.tracker_redaction import last_event_id, purge, redact

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = f"sqlite:///{ROOT / 'var' / 'tracker.db'}"
logger = logging.getLogger("clinic_privacy")


def run_once(database_url: str, days: int, after_id: int) -> tuple[str, int]:
    """Redact the conversations that changed since event `after_id`, purge old ones; returns a
    summary and the event id to start from next time (so the job does not re-read the store)."""
    try:
        next_id = last_event_id(database_url)
        redacted = redact(database_url, after_id)
        return f"redacted {redacted} events, purged {purge(database_url, days)} conversations", next_id
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
    if args.command == "redact":
        print(f"redacted {redact(args.db)} events")
    elif args.command == "purge":
        print(f"purged {purge(args.db, args.days)} conversations older than {args.days} days")
    else:
        after_id = 0
        while True:
            summary, after_id = run_once(args.db, args.days, after_id)
            logger.info(summary)
            time.sleep(args.interval)


if __name__ == "__main__":
    main()
