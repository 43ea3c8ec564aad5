"""Database engines for the gateway (API keys and the relay outbox).

SQLAlchemy Core only, so the same tables run on SQLite (default, one file in the data directory)
and PostgreSQL. On SQLite every connection is put in WAL mode with ``synchronous=FULL``: a commit
returns only after the write-ahead log has been fsync'd, which is what lets the gateway answer
``202 Accepted`` only for records that survive a crash or power loss.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

__all__ = ["DatabaseProbe", "create_gateway_engine"]


def _sqlite_pragmas(busy_timeout: float) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        assert isinstance(dbapi_connection, sqlite3.Connection)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        finally:
            cursor.close()

    return on_connect


def create_gateway_engine(url: str, *, busy_timeout: float = 30.0) -> Engine:
    """An engine for ``url``; SQLite files are created (with their directory) in WAL mode.

    ``busy_timeout``: how long a SQLite statement waits for another process's lock before it
    fails (the request then gets 503 ``database_unavailable``, rule ``locked``).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    database = parsed.database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy_timeout})
    event.listen(engine, "connect", _sqlite_pragmas(busy_timeout))
    # Many rows in one INSERT ... VALUES (...), (...) instead of one sqlite3_step each: the
    # driver lets go of the GIL for every step, and in a busy gateway each step then waits
    # for it again (1,000 rows with 3 other threads running Python: ~5 s instead of ~0.3 s),
    # while the write lock is held. SQLAlchemy does this for INSERTs with RETURNING only,
    # unless the dialect opts in.
    engine.dialect.use_insertmanyvalues_wo_returning = True
    if sqlite3.sqlite_version_info < (3, 32):
        engine.dialect.insertmanyvalues_max_parameters = 999  # the older limit of variables
    return engine


class DatabaseProbe:
    """A readiness check of one database: it answers, it is writable, it is intact.

    Each call makes a real write (one row of a ``gateway_health`` table, committed: a
    locked, read-only or full database fails it) and, at most every ``integrity_seconds``,
    an integrity check (SQLite ``PRAGMA quick_check``; it reads the whole file, so its answer
    is kept in between). A SQLite file that was deleted under the running gateway fails too.
    ``damaged`` holds the last integrity failure (None: intact as far as known); the write
    routes refuse to store into a damaged outbox (503) rather than pile records onto it.
    """

    def __init__(self, engine: Engine, *, integrity_seconds: float = 300.0) -> None:
        self.engine = engine
        self.integrity_seconds = integrity_seconds
        self.damaged: str | None = None
        self._checked_at: float | None = None
        url = engine.url
        database = url.database
        self._sqlite_file = (
            Path(database)
            if url.get_backend_name() == "sqlite" and database and database != ":memory:"
            else None
        )

    def __call__(self) -> str:
        if self._sqlite_file is not None:
            return self._check_sqlite(self._sqlite_file)
        return self._check_server()

    def _check_sqlite(self, path: Path) -> str:
        if not path.exists():
            raise RuntimeError(f"the database file {path} is gone")
        db = sqlite3.connect(path, timeout=2.0, isolation_level=None)
        try:
            now = time.monotonic()
            if self._checked_at is None or now - self._checked_at >= self.integrity_seconds:
                try:
                    rows = [str(r[0]) for r in db.execute("PRAGMA quick_check").fetchall()]
                except sqlite3.DatabaseError as exc:  # too damaged to check at all
                    rows = [str(exc)]
                self._checked_at = now
                self.damaged = None if rows == ["ok"] else "; ".join(rows[:3])
            if self.damaged is not None:
                raise RuntimeError(f"the database file is damaged: {self.damaged}")
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(_PROBE_TABLE)
                db.execute(_PROBE_WRITE, (time.time(),))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        finally:
            db.close()
        return "writable, intact"

    def recheck(self) -> None:
        """Run the integrity check now (after a query reported a damaged file); never raises."""
        self._checked_at = None
        try:
            self()
        except Exception:  # the reason is in ``damaged`` (or the next readiness check)
            return

    def _check_server(self) -> str:
        with self.engine.begin() as conn:
            conn.exec_driver_sql(_PROBE_TABLE)
            conn.exec_driver_sql(_PROBE_WRITE.replace("?", "%s"), (time.time(),))
        return "writable"


_PROBE_TABLE = (
    "CREATE TABLE IF NOT EXISTS gateway_health (id INTEGER PRIMARY KEY, checked_at FLOAT)"
)
_PROBE_WRITE = (
    "INSERT INTO gateway_health (id, checked_at) VALUES (1, ?) "
    "ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at"
)
