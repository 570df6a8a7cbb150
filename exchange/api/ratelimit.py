"""A token bucket per API key, in memory (one process, one set of buckets).

Each key may make ``per_s`` requests a second on average and ``burst`` at once: its bucket holds
up to ``burst`` tokens, refills at ``per_s`` a second and every request takes one. A request
that finds less than one token is answered 429 ``RATE_LIMITED`` with ``Retry-After`` (whole
seconds, at least 1) and the limit's numbers. Buckets are made only for known keys (the check
runs after the key is found), so their number is bounded by the keys table.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from exchange.api.errors import ApiError


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


@dataclass(slots=True)
class RateLimiter:
    per_s: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def check(self, key: str) -> None:
        """Take a token from ``key``'s bucket or raise the 429 problem."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        else:
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.per_s)
            bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return
        retry_after = max(1, math.ceil((1.0 - bucket.tokens) / self.per_s))
        raise ApiError(
            429,
            "RATE_LIMITED",
            f"more than {self.per_s:g} requests a second (burst {self.burst}) with this key",
            headers={"Retry-After": str(retry_after)},
            limit_per_s=self.per_s,
            burst=self.burst,
            retry_after_s=retry_after,
        )

    def until_token_s(self, key: str) -> float:
        """Seconds until ``key``'s bucket holds a token again (0 when it holds one)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0.0
        tokens = bucket.tokens + (self.clock() - bucket.at) * self.per_s
        return max(0.0, (1.0 - tokens) / self.per_s)

    def forget(self, key: str) -> None:
        self._buckets.pop(key, None)
