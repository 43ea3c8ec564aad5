"""Database engines for the gateway (API keys and the relay outbox).

SQLAlchemy Core only, so the same tables run on SQLite (default, one file in the data directory)
and PostgreSQL. On SQLite every connection is put in WAL mode with ``synchronous=FULL``: a commit
returns only after the write-ahead log has been fsync'd, which is what lets the gateway answer
``202 Accepted`` only for records that survive a crash or power loss.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

__all__ = ["create_gateway_engine"]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    assert isinstance(dbapi_connection, sqlite3.Connection)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
    finally:
        cursor.close()


def create_gateway_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files are created (with their directory) in WAL mode."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    database = parsed.database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    # Many rows in one INSERT ... VALUES (...), (...) instead of one sqlite3_step each: the
    # driver lets go of the GIL for every step, and in a busy gateway each step then waits
    # for it again (1,000 rows with 3 other threads running Python: ~5 s instead of ~0.3 s),
    # while the write lock is held. SQLAlchemy does this for INSERTs with RETURNING only,
    # unless the dialect opts in.
    engine.dialect.use_insertmanyvalues_wo_returning = True
    if sqlite3.sqlite_version_info < (3, 32):
        engine.dialect.insertmanyvalues_max_parameters = 999  # the older limit of variables
    return engine
