"""Throwaway databases on the local PostgreSQL server (127.0.0.1:5432, trust auth) for tests
that must run against the real thing, not SQLite."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


@contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """Create a uniquely named database, yield its name, and drop it afterwards even if a server
    under test still holds connections to it."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(dbname="postgres", **PG)
    admin.autocommit = True
    try:
        admin.cursor().execute(f"CREATE DATABASE {name}")
        yield name
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
