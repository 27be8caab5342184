"""Command line for the handoff back end: accounts, listing, retention, notifications.

``python -m clinic.handoff.cli --help`` lists the commands. Contact details are printed only
with ``--show-contact`` (and that access is written to each handoff's audit log),
because terminal scrollback and CI logs are not meant to hold personal data.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TextIO

from clinic.handoff.crypto import generate_key
from clinic.handoff.models import STATUSES, utcnow
from clinic.handoff.outbox import deliver_due
from clinic.handoff.requests import (
    AccountError,
    HandoffNotFound,
    HandoffStore,
    InvalidTransition,
    StoreUnavailable,
)
from clinic.handoff.senders import senders_from_settings
from clinic.settings import ConfigurationError, Settings, load_settings

log = logging.getLogger("clinic.handoff.cli")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m clinic.handoff.cli", description="Handoff back end tools."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    user = commands.add_parser("create-user", help="create a coordinator account")
    user.add_argument("username")
    user.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    password = commands.add_parser(
        "set-password", help="change a coordinator's password (ends their sessions)"
    )
    password.add_argument("username")
    password.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )

    deactivate = commands.add_parser(
        "deactivate-user", help="stop an account from signing in (ends its sessions)"
    )
    deactivate.add_argument("username")

    reassign = commands.add_parser("reassign", help="give a claimed request to another coordinator")
    reassign.add_argument("reference")
    reassign.add_argument("username", help="the coordinator who takes it over")

    listing = commands.add_parser("list", help="list handoffs, newest first")
    listing.add_argument("--status", choices=(*STATUSES, "all"), default="all")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.add_argument(
        "--show-contact",
        action="store_true",
        help="include name and contact details (recorded in the audit log)",
    )

    purge = commands.add_parser("purge", help="delete resolved handoffs past the retention period")
    purge.add_argument("--days", type=int, default=None, help="retention in days (default from settings)")

    worker = commands.add_parser("worker", help="send pending notifications (email / webhook)")
    worker.add_argument("--once", action="store_true", help="send what is due, then exit")
    worker.add_argument("--interval", type=float, default=30.0, help="seconds between rounds (default 30)")

    commands.add_parser("generate-key", help="print a new HANDOFF_ENCRYPTION_KEY")
    return parser


def _read_password(from_stdin: bool, stdin: TextIO) -> str:
    if from_stdin:
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password (at least 12 characters): ")
    second = getpass.getpass("Repeat the password: ")
    if first != second:
        raise AccountError("the passwords do not match")
    return first


def _format_time(value: datetime | None, settings: Settings) -> str:
    if value is None:
        return ""
    return value.astimezone(settings.office_hours.tz).strftime("%Y-%m-%d %H:%M %Z")


def _list(store: HandoffStore, settings: Settings, args: argparse.Namespace, out: TextIO) -> None:
    items = store.list(args.status, include_contact=args.show_contact)
    if args.show_contact:
        actor = f"cli:{getpass.getuser()}"
        for item in items:
            store.record_event(
                item.reference, actor, "contact_shown", "contact details printed by `clinic.handoff.cli list`"
            )
    if args.json:
        rows = []
        for item in items:
            row = {
                "reference": item.reference,
                "created_at": item.created_at.isoformat(),
                "status": item.status,
                "reason": item.reason,
                "claimed_by": item.claimed_by,
            }
            if args.show_contact:
                row.update(
                    name=item.name, contact_method=item.contact_method, contact_value=item.contact_value
                )
            rows.append(row)
        json.dump(rows, out, indent=2)
        out.write("\n")
        return
    if not items:
        out.write("No handoffs.\n")
        return
    header = ["REFERENCE", "CREATED", "STATUS", "REASON", "CLAIMED BY"]
    if args.show_contact:
        header += ["NAME", "CONTACT"]
    table = [header]
    for item in items:
        row = [
            item.reference,
            _format_time(item.created_at, settings),
            item.status,
            item.reason,
            item.claimed_by or "-",
        ]
        if args.show_contact:
            row += [item.name or "", f"{item.contact_method}: {item.contact_value}"]
        table.append(row)
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        out.write(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip() + "\n"
        )


def _worker(store: HandoffStore, settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    senders = senders_from_settings(settings)
    if not senders:
        log.warning("no notification channel configured (set SMTP_HOST and/or HANDOFF_WEBHOOK_URL)")
    while True:
        report = None
        try:
            report = deliver_due(store, utcnow(), senders=senders)
            if report.delivered or report.failed:
                log.info("notifications: %d delivered, %d failed", report.delivered, report.failed)
            store.purge_expired_counters()
        except StoreUnavailable as exc:
            log.error("database unavailable, will retry: %s", exc)
        except Exception:
            log.exception("notification round failed, will retry")
        if args.once:
            if report is None:
                return 1
            out.write(f"Delivered {report.delivered}, failed {report.failed}.\n")
            return 0
        time.sleep(max(args.interval, 1.0))


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """Entry point; ``environ``/``stdin``/``stdout`` are injectable for tests."""
    args = _parser().parse_args(argv)
    out = stdout or sys.stdout
    stdin = stdin or sys.stdin
    if args.command == "generate-key":
        out.write(generate_key() + "\n")
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(os.environ if environ is None else environ)
        store = HandoffStore.from_settings(settings)
        try:
            if args.command in ("create-user", "set-password"):
                password = _read_password(args.password_stdin, stdin)
                if args.command == "create-user":
                    store.create_coordinator(args.username, password)
                    out.write(f"Created coordinator {args.username}.\n")
                else:
                    store.set_password(args.username, password)
                    out.write(f"Changed the password of {args.username}.\n")
            elif args.command == "deactivate-user":
                store.set_active(args.username, False)
                out.write(f"Deactivated {args.username}.\n")
            elif args.command == "reassign":
                detail = store.reassign(args.reference, args.username, f"cli:{getpass.getuser()}")
                out.write(f"{detail.reference} is now claimed by {detail.claimed_by}.\n")
            elif args.command == "list":
                _list(store, settings, args, out)
            elif args.command == "purge":
                days = settings.retention_days if args.days is None else args.days
                count = store.purge_resolved(days)
                out.write(f"Deleted {count} resolved handoff(s) older than {days} days.\n")
            elif args.command == "worker":
                return _worker(store, settings, args, out)
        finally:
            store.close()
    except (
        ConfigurationError,
        AccountError,
        StoreUnavailable,
        ValueError,
        HandoffNotFound,
        InvalidTransition,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
