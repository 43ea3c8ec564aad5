"""Per-API-key rate limits: a token bucket per key.

Each key may make ``rate_limit_per_second`` requests a second on average, and up to
``rate_limit_burst`` at once; past that a request is answered ``429 Too Many Requests`` with
``Retry-After`` (whole seconds until one request is allowed again). A limit of 0 turns it off.

Where the buckets live depends on the gateway database: on PostgreSQL (where several replicas
share one database) they are rows of ``gateway_rate_buckets``, each spent by one atomic
``INSERT ... ON CONFLICT DO UPDATE`` on the database's clock (:class:`SharedRateLimiter`), so
the limit holds for the key across every replica; on SQLite (one gateway per file) they live
in the process (:class:`RateLimiter`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    MetaData,
    String,
    Table,
    inspect,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

__all__ = ["RateLimiter", "SharedRateLimiter", "rate_limiter_for"]

logger = logging.getLogger("gateway.ratelimit")


class RateLimiter:
    """Token buckets by key id; :meth:`take` answers how long to wait (0: allowed now)."""

    def __init__(
        self,
        *,
        per_second: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.per_second = per_second
        self.burst = burst
        self._clock = clock
        self._max_keys = max_keys
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, at)

    @property
    def enabled(self) -> bool:
        return self.per_second > 0

    def take(self, key_id: str) -> float:
        """Spend one request of ``key_id``: 0.0 if allowed, else the seconds to wait."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(key_id, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.per_second)
            if tokens >= 1.0:
                if key_id not in self._buckets and len(self._buckets) >= self._max_keys:
                    self._forget_full(now)
                self._buckets[key_id] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key_id] = (tokens, now)
            return (1.0 - tokens) / self.per_second

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled (they hold nothing a new bucket would not)."""
        full = [
            key
            for key, (tokens, at) in self._buckets.items()
            if tokens + (now - at) * self.per_second >= self.burst
        ]
        for key in full:
            del self._buckets[key]


_METADATA = MetaData()
BUCKETS = Table(
    "gateway_rate_buckets",
    _METADATA,
    Column("key_id", String(64), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("at", Float, nullable=False),  # the database's clock, Unix seconds
    Column("allowed", Boolean, nullable=False),  # whether the last request was allowed
)

# Refill by the time since the bucket was last touched (the database's clock, the same for
# every replica), cap at the burst, spend one token if there is one; the row lock of ON
# CONFLICT DO UPDATE makes it one step across replicas.
_TAKE = text(
    """
    INSERT INTO gateway_rate_buckets AS b (key_id, tokens, at, allowed)
    VALUES (:key_id, :burst - 1, extract(epoch from clock_timestamp()), true)
    ON CONFLICT (key_id) DO UPDATE SET
      tokens = CASE
        WHEN LEAST(:burst, b.tokens + (EXCLUDED.at - b.at) * :rate) >= 1
        THEN LEAST(:burst, b.tokens + (EXCLUDED.at - b.at) * :rate) - 1
        ELSE LEAST(:burst, b.tokens + (EXCLUDED.at - b.at) * :rate)
      END,
      allowed = LEAST(:burst, b.tokens + (EXCLUDED.at - b.at) * :rate) >= 1,
      at = EXCLUDED.at
    RETURNING tokens, allowed
    """
)


class SharedRateLimiter(RateLimiter):
    """Token buckets in the gateway's PostgreSQL database, shared by its replicas."""

    def __init__(self, engine: Engine, *, per_second: float, burst: int) -> None:
        super().__init__(per_second=per_second, burst=burst)
        self._engine = engine
        if self.enabled:
            _create_table(engine)

    def take(self, key_id: str) -> float:
        """Spend one request of ``key_id`` (every replica's): 0.0 if allowed, else the seconds
        to wait."""
        if not self.enabled:
            return 0.0
        params = {"key_id": key_id, "burst": float(self.burst), "rate": self.per_second}
        with self._engine.begin() as conn:
            row = conn.execute(_TAKE, params).one()
        if bool(row.allowed):
            return 0.0
        return (1.0 - float(row.tokens)) / self.per_second


def _create_table(engine: Engine) -> None:
    """The bucket table, if missing (two replicas starting at once: one creates it)."""
    if inspect(engine).has_table(BUCKETS.name):
        return
    try:
        BUCKETS.create(engine, checkfirst=True)
    except DBAPIError:
        if not inspect(engine).has_table(BUCKETS.name):
            raise


def rate_limiter_for(engine: Engine, *, per_second: float, burst: int) -> RateLimiter:
    """The limiter for a gateway on ``engine``: shared through the database on PostgreSQL,
    in the process on SQLite."""
    if engine.dialect.name == "postgresql":
        logger.info("rate limits shared by the replicas on this database")
        return SharedRateLimiter(engine, per_second=per_second, burst=burst)
    return RateLimiter(per_second=per_second, burst=burst)
