"""API keys without I/O: their roles, their owners, their names, and the cache of keys found.

A key is ``cx_`` + 32 random bytes (URL-safe base64); the database keeps only its sha256, so a
stolen table lets no one in. Each key belongs to one market and has a role: ``operator`` may do
everything, ``participant`` acts on its own trading account only, ``observer`` reads public
market data, ``verifier`` verifies the monitoring data of the accounts an operator assigned it
(``exchange.mrv_desk``; it may name an account of its own, a class seat, which it may then never
verify). An exchange-wide key has the market ``*`` (``EXCHANGE_WIDE``): it acts in every
market with its role.

A key's id (``key_id``) is the first 12 hex digits of its hash: it names the key without
revealing it, and needs no column of its own.

Keys found are cached in memory (``KeyCache``, one per database engine, by the key's hash: the
key itself is never kept), so an authenticated request costs no database round trip after its
key's first. Revoking a key (``exchange.db.keys``) drops it from this process's cache before it
returns, and tells the cache's ``listeners`` (the gateway's open WebSockets, which close); another
process serving the same database forgets its cached copy within ``KEY_CACHE_TTL_S``.

Keys not found are remembered too, for ``UNKNOWN_KEY_TTL_S``, so a client repeating a bad key
costs no lookup each time. A key is only ever unknown before it is minted (nobody has it then)
or after it is revoked (for good), so remembering that is never wrong for a key in use;
minting one forgets it anyway.

This module imports nothing of carbonx, so that anything (the access log, the classroom, the
gateway) may name keys without importing the gateway.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

KEY_PREFIX = "cx_"
KEY_BYTES = 32
KEY_ID_LENGTH = 12
EXCHANGE_WIDE = "*"  # the market of a key valid in every market
KEY_CACHE_TTL_S = 30.0  # how long another process may still accept a key revoked elsewhere
KEY_CACHE_MAX_KEYS = 100_000  # beyond this the cache starts over (keys are few in practice)
UNKNOWN_KEY_TTL_S = 10.0  # how long a key not found is answered from memory


class Role(StrEnum):
    OPERATOR = "operator"
    PARTICIPANT = "participant"
    OBSERVER = "observer"
    VERIFIER = "verifier"  # verifies the MRV data of the accounts an operator assigns it


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: the key's market, role and (for a participant, or a verifier that has
    one) account."""

    market_id: str  # the market in the path for an exchange-wide key (``*`` without one)
    role: Role
    account_id: str | None
    key_id: str = ""
    exchange_wide: bool = False  # the key's market is ``*``


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_id_of(key: str) -> str:
    """The key's public name: the first 12 hex digits of its hash."""
    return key_hash(key)[:KEY_ID_LENGTH]


@dataclass(slots=True)
class KeyCache:
    """Valid keys found in the database, by hash, each until its expiry (monotonic seconds).

    ``generation`` moves on every revocation: a lookup that began before one does not store
    what it read, which might be the key just revoked. ``listeners`` are told of each
    revocation once it is committed (``revoked``): a market id and the revoked hashes' prefix."""

    ttl_s: float = KEY_CACHE_TTL_S
    max_keys: int = KEY_CACHE_MAX_KEYS
    clock: Callable[[], float] = time.monotonic
    generation: int = 0
    listeners: list[Callable[[str, str], None]] = field(default_factory=list)
    unknown_ttl_s: float = UNKNOWN_KEY_TTL_S
    _found: dict[str, tuple[Principal, float]] = field(default_factory=dict)
    _unknown: dict[str, tuple[float, bool]] = field(default_factory=dict)  # hash: expiry, revoked

    def get(self, hashed: str) -> Principal | None:
        entry = self._found.get(hashed)
        if entry is None:
            return None
        if entry[1] <= self.clock():
            del self._found[hashed]
            return None
        return entry[0]

    def put(self, hashed: str, found: Principal, generation: int) -> None:
        if generation != self.generation:
            return
        if len(self._found) >= self.max_keys:
            self._found.clear()
        self._found[hashed] = (found, self.clock() + self.ttl_s)

    def is_unknown(self, hashed: str) -> bool:
        """Whether a lookup of this hash found no valid key less than ``unknown_ttl_s`` ago."""
        return self.unknown_revoked(hashed) is not None

    def unknown_revoked(self, hashed: str) -> bool | None:
        """For a hash found without a valid key lately: whether its key was revoked (else never
        minted); None when no such lookup is remembered."""
        entry = self._unknown.get(hashed)
        if entry is None:
            return None
        if entry[0] <= self.clock():
            del self._unknown[hashed]
            return None
        return entry[1]

    def put_unknown(self, hashed: str, revoked: bool = False) -> None:
        if len(self._unknown) >= self.max_keys:
            self._unknown.clear()
        self._unknown[hashed] = (self.clock() + self.unknown_ttl_s, revoked)

    def forget_unknown(self, hashed: str) -> None:
        self._unknown.pop(hashed, None)

    def revoke(self, market_id: str, key_id: str) -> None:
        """Forget the market's cached keys whose hash starts with ``key_id``."""
        self.generation += 1
        prefix = key_id.lower()
        for hashed in [h for h in self._found if h.startswith(prefix)]:
            if self._found[hashed][0].market_id == market_id:
                del self._found[hashed]

    def revoked(self, market_id: str, key_id: str) -> None:
        """Tell the listeners that the market's keys whose hash starts with ``key_id`` are
        revoked (committed)."""
        for listener in list(self.listeners):
            listener(market_id, key_id.lower())


_caches: weakref.WeakKeyDictionary[AsyncEngine, KeyCache] = weakref.WeakKeyDictionary()


def key_cache(engine: AsyncEngine) -> KeyCache:
    """The cache of the keys found through ``engine`` (one per database this process uses)."""
    cache = _caches.get(engine)
    if cache is None:
        cache = _caches[engine] = KeyCache()
    return cache
