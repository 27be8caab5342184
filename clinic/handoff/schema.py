"""Create the handoff tables, and bring a database made by an older version up to date.

``create_all`` makes missing tables but never changes existing ones, so a database created
before a column was added would fail on the first query that uses it. The changes made so
far only add nullable columns and indexes, which ``upgrade`` adds in place on SQLite and
PostgreSQL alike; nothing is ever dropped or rewritten.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import Column, Table

from clinic.handoff.models import Base

log = logging.getLogger(__name__)


def upgrade(engine: Engine, attempts: int = 3) -> None:
    """Create what is missing. The bot, the inbox and the worker start together and may all
    try at once; whoever loses a race finds the work done on the next attempt."""
    for attempt in range(1, attempts + 1):
        try:
            _upgrade_once(engine)
            return
        except SQLAlchemyError:
            if attempt == attempts:
                raise
            time.sleep(0.2 * attempt)


def _upgrade_once(engine: Engine) -> None:
    """Tables, then nullable columns, then indexes."""
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        inspector = inspect(connection)
        for table in Base.metadata.sorted_tables:
            existing = {column["name"] for column in inspector.get_columns(table.name)}
            added = [column for column in table.columns if column.name not in existing]
            for column in added:
                _add_column(connection, table, column)
            indexes = {index["name"] for index in inspector.get_indexes(table.name)}
            for index in table.indexes:
                if index.name not in indexes:
                    index.create(connection)
                    log.info("handoff database: added index %s", index.name)


def _add_column(connection: Connection, table: Table, column: Column) -> None:
    if not column.nullable:
        raise RuntimeError(f"cannot add required column {table.name}.{column.name} in place")
    column_type = column.type.compile(dialect=connection.dialect)
    connection.exec_driver_sql(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {column_type}')
    log.info("handoff database: added column %s.%s", table.name, column.name)
