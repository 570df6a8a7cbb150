"""Token buckets in memory (one process, one set of buckets): one per API key, and one per
client address for failed authentications.

Each key may make ``per_s`` requests a second on average and ``burst`` at once: its bucket holds
up to ``burst`` tokens, refills at ``per_s`` a second and every request takes one (``check``).
A request that finds less than one token is answered 429 ``RATE_LIMITED`` with ``Retry-After``
(whole seconds, at least 1) and the limit's numbers. Buckets are made only for known keys (the
check runs after the key is found), so their number is bounded by the keys table.

A key that is not in memory costs a database lookup (``exchange.api.auth``); those that find no
valid key are charged to the client's address (``charge``), and an address whose bucket is
empty gets 429 before any lookup (``check_available``). Addresses are not bounded by a table:
past ``max_keys`` buckets, the full ones (an address that stopped failing) are forgotten.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from exchange.api.errors import ApiError

MAX_BUCKETS = 100_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


@dataclass(slots=True)
class RateLimiter:
    per_s: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    # What is limited, for the 429's detail: "more than 200 requests a second (burst 400) ..."
    what: str = "requests a second (burst {burst}) with this key"
    max_keys: int = MAX_BUCKETS
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def check(self, key: str) -> None:
        """Take a token from ``key``'s bucket or raise the 429 problem."""
        bucket = self._refilled(key)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return
        raise self._limited(bucket)

    def check_available(self, key: str) -> None:
        """Raise the 429 problem when ``key``'s bucket holds less than a token; take none."""
        bucket = self._refilled(key)
        if bucket.tokens < 1.0:
            raise self._limited(bucket)

    def charge(self, key: str) -> None:
        """Take a token from ``key``'s bucket, below zero if it has none (what several
        requests let through at once by ``check_available`` cost, each)."""
        self._refilled(key).tokens -= 1.0

    def until_token_s(self, key: str) -> float:
        """Seconds until ``key``'s bucket holds a token again (0 when it holds one)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0.0
        tokens = bucket.tokens + (self.clock() - bucket.at) * self.per_s
        return max(0.0, (1.0 - tokens) / self.per_s)

    def forget(self, key: str) -> None:
        self._buckets.pop(key, None)

    def _refilled(self, key: str) -> _Bucket:
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        else:
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.per_s)
            bucket.at = now
        return bucket

    def _forget_full(self, now: float) -> None:
        """Forget the buckets that have refilled (a new one would be the same); all of them
        when none has."""
        full = [
            key
            for key, b in self._buckets.items()
            if b.tokens + (now - b.at) * self.per_s >= self.burst
        ]
        for key in full or list(self._buckets):
            del self._buckets[key]

    def _limited(self, bucket: _Bucket) -> ApiError:
        retry_after = max(1, math.ceil((1.0 - bucket.tokens) / self.per_s))
        return ApiError(
            429,
            "RATE_LIMITED",
            f"more than {self.per_s:g} " + self.what.format(burst=self.burst),
            headers={"Retry-After": str(retry_after)},
            limit_per_s=self.per_s,
            burst=self.burst,
            retry_after_s=retry_after,
        )
