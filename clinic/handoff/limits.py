"""Fixed-window counters in the handoff database: sign-in attempts and new handoffs.

Why in the database: several inbox or action-server processes must see the same counts, and
a restart must not give an attacker a fresh allowance. Why a conditional UPDATE: "check, then
count" as two steps lets forty simultaneous requests all pass the check before any of them is
counted. ``reserve`` counts first (``count = count + 1 WHERE count < limit``), so the database
decides, on SQLite (one writer at a time) and PostgreSQL (the row lock) alike.

Keys are hashed: a counter never stores a username or an address in clear.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from clinic.handoff.models import RateCounter


def counter_key(kind: str, *parts: str) -> str:
    """'signin-pair:3f2a...': the kind in clear (for operators), the parts hashed."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"{kind}:{digest}"


def reserve(session: Session, key: str, limit: int, window: timedelta, now: datetime) -> bool:
    """Count one attempt if fewer than ``limit`` were counted in the current window.

    Runs inside the caller's transaction: if the caller rolls back, nothing was counted.
    """
    _ensure_row(session, key, now + window)
    table = RateCounter.__table__
    # A window that has ended starts again from zero.
    session.execute(
        table.update()
        .where(table.c.key == key, table.c.expires_at <= now)
        .values(count=0, expires_at=now + window)
    )
    counted = session.execute(
        table.update().where(table.c.key == key, table.c.count < limit).values(count=table.c.count + 1)
    )
    return counted.rowcount == 1


def refund(session: Session, key: str) -> None:
    """Give back one reserved attempt (it turned out to be a successful sign-in)."""
    table = RateCounter.__table__
    session.execute(
        table.update().where(table.c.key == key, table.c.count > 0).values(count=table.c.count - 1)
    )


def clear(session: Session, key: str) -> None:
    session.execute(RateCounter.__table__.delete().where(RateCounter.__table__.c.key == key))


def purge_expired(session: Session, now: datetime) -> int:
    """Delete counters whose window has ended (they would start from zero anyway)."""
    table = RateCounter.__table__
    return session.execute(table.delete().where(table.c.expires_at <= now)).rowcount or 0


def _ensure_row(session: Session, key: str, expires_at: datetime) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(RateCounter.__table__).values(key=key, count=0, expires_at=expires_at)
    session.execute(statement.on_conflict_do_nothing(index_elements=["key"]))
