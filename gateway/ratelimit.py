"""Per-API-key rate limits: a token bucket per key, in the gateway process.

Each key may make ``rate_limit_per_second`` requests a second on average, and up to
``rate_limit_burst`` at once; past that a request is answered ``429 Too Many Requests`` with
``Retry-After`` (whole seconds until one request is allowed again). The buckets live in memory:
with several replicas each one limits on its own (the limit per key is then at most the
replicas times the setting). A limit of 0 turns it off.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["RateLimiter"]


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
