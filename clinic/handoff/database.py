"""The handoff database: the engine, the tables (created or brought up to date on first use) and
the unit of work every store method runs in.

Database failures surface as ``StoreUnavailable``, so the bot can tell the visitor honestly
that the request was not saved and give the clinic's phone number instead. SQLAlchemy hides
the parameters of failed statements: errors end up in logs, personal data must not.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from clinic.handoff.crypto import KeyMaterial, attach_cipher, build_cipher
from clinic.handoff.errors import StoreUnavailable
from clinic.handoff.models import normalise_reference, utcnow
from clinic.handoff.schema import upgrade
from clinic.settings import ensure_var_dir

log = logging.getLogger(__name__)


def find_by_reference(session: Session, model: Any, reference: str, not_found: type[Exception]) -> Any:
    """The row of `model` (a handoff, a live chat) with the reference as people type it, or
    `not_found` raised."""
    row = session.query(model).filter(model.reference == normalise_reference(reference or "")).one_or_none()
    if row is None:
        raise not_found(f"no {model.__tablename__[:-1].replace('_', ' ')} with reference {reference!r}")
    return row


class Database:
    """One handoff database (SQLite or PostgreSQL) with its encryption key; the base of the store."""

    def __init__(
        self, database_url: str, key: KeyMaterial, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._clock = clock
        self._cipher = build_cipher(key)
        self._url = make_url(database_url)
        self.engine = self._create_engine()
        attach_cipher(self.engine, self._cipher)
        self._sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False, future=True)
        self._schema_ready = False
        self._schema_lock = threading.Lock()

    def _create_engine(self) -> Engine:
        url = self._url
        # hide_parameters: database errors end up in logs; their SQL parameters must not.
        options: dict[str, Any] = {"future": True, "hide_parameters": True}
        if url.get_backend_name() == "sqlite":
            if (url.database or "") in ("", ":memory:"):
                options["poolclass"] = StaticPool
                options["connect_args"] = {"check_same_thread": False}
            else:
                options["connect_args"] = {"timeout": 15, "check_same_thread": False}
            engine = create_engine(url, **options)
            event.listen(engine, "connect", _sqlite_on_connect)
            return engine
        if url.get_backend_name() == "postgresql":
            options["connect_args"] = {"connect_timeout": 5}
        return create_engine(url, pool_pre_ping=True, **options)

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._schema_lock:
            if self._schema_ready:
                return
            try:
                if self._url.get_backend_name() == "sqlite" and self._url.database not in (
                    None,
                    "",
                    ":memory:",
                ):
                    parent = Path(self._url.database).resolve().parent
                    if not parent.exists():
                        ensure_var_dir(parent)
                upgrade(self.engine)
            except (SQLAlchemyError, OSError) as exc:
                raise StoreUnavailable(f"handoff database unavailable: {type(exc).__name__}") from exc
            self._schema_ready = True

    def session(self) -> Session:
        """A new ORM session (tables created on first use). The caller closes it."""
        self._ensure_schema()
        return self._sessionmaker()

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """One unit of work; database failures become StoreUnavailable."""
        session = self.session()
        try:
            yield session
            session.commit()
        except IntegrityError:
            session.rollback()
            raise
        except (SQLAlchemyError, OSError) as exc:
            session.rollback()
            log.error("handoff database error: %s", type(exc).__name__)
            raise StoreUnavailable(f"handoff database unavailable: {type(exc).__name__}") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def close(self) -> None:
        """Release pooled connections (needed before dropping a test database)."""
        self.engine.dispose()


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        try:
            # WAL lets the inbox read while the bot writes; not available everywhere.
            cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as exc:
            log.debug("SQLite WAL mode not available: %s", exc)
    finally:
        cursor.close()
