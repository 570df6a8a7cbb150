"""Bearer API keys and roles.

A key is ``cx_`` + 32 random bytes (URL-safe base64); the database keeps only its sha256, so a
stolen table lets no one in. Each key belongs to one market and has a role: ``operator`` may do
everything, ``participant`` acts on its own trading account only, ``observer`` reads public
market data. A missing or unknown key is a 401; a known key asking beyond its role, or for
another participant's account, a 403.

An exchange-wide key has the market ``*`` (``EXCHANGE_WIDE``): it acts in every market with
its role, as if it were that market's key, and an exchange-wide operator key alone may create
markets (``createMarket``). Participant keys always belong to one market.

A key's id (``key_id``) is the first 12 hex digits of its hash: it names the key for
``revokeKey`` without revealing it, and needs no column of its own. Every authenticated request
takes a token from its key's bucket (``exchange.api.ratelimit``).

Keys found are cached in memory (``KeyCache``, one per database engine, by the key's hash: the
key itself is never kept), so an authenticated request costs no database round trip after its
key's first. ``revoke_key`` drops the revoked keys from this process's cache before it returns,
so a revoked key is refused at once here; another process serving the same database forgets
its cached copy within ``KEY_CACHE_TTL_S``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.api.errors import ApiError
from exchange.db import tables as t

KEY_PREFIX = "cx_"
KEY_BYTES = 32
KEY_ID_LENGTH = 12
EXCHANGE_WIDE = "*"  # the market of a key valid in every market
KEY_CACHE_TTL_S = 30.0  # how long another process may still accept a key revoked elsewhere
KEY_CACHE_MAX_KEYS = 100_000  # beyond this the cache starts over (keys are few in practice)


class Role(StrEnum):
    OPERATOR = "operator"
    PARTICIPANT = "participant"
    OBSERVER = "observer"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: the key's market, role and (for a participant) account."""

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


async def create_key(
    engine: AsyncEngine, market_id: str, role: Role, account_id: str | None = None
) -> str:
    """Mint a key, store its hash and return the key itself (shown once, never stored)."""
    if (role is Role.PARTICIPANT) != (account_id is not None):
        raise ValueError("a participant key names its account, and only a participant key does")
    if role is Role.PARTICIPANT and market_id == EXCHANGE_WIDE:
        raise ValueError("a participant key belongs to one market")
    key = new_key()
    created_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    async with engine.begin() as conn:
        await conn.execute(
            insert(t.api_keys).values(
                key_hash=key_hash(key),
                market_id=market_id,
                account_id=account_id,
                role=role.value,
                created_at=created_at,
                revoked=False,
            )
        )
    return key


@dataclass(slots=True)
class KeyCache:
    """Valid keys found in the database, by hash, each until its expiry (monotonic seconds).

    ``generation`` moves on every revocation: a lookup that began before one does not store
    what it read, which might be the key just revoked."""

    ttl_s: float = KEY_CACHE_TTL_S
    max_keys: int = KEY_CACHE_MAX_KEYS
    clock: Callable[[], float] = time.monotonic
    generation: int = 0
    _found: dict[str, tuple[Principal, float]] = field(default_factory=dict)

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

    def revoke(self, market_id: str, key_id: str) -> None:
        """Forget the market's cached keys whose hash starts with ``key_id``."""
        self.generation += 1
        prefix = key_id.lower()
        for hashed in [h for h in self._found if h.startswith(prefix)]:
            if self._found[hashed][0].market_id == market_id:
                del self._found[hashed]


_caches: weakref.WeakKeyDictionary[AsyncEngine, KeyCache] = weakref.WeakKeyDictionary()


def key_cache(engine: AsyncEngine) -> KeyCache:
    """The cache of the keys found through ``engine`` (one per database this process uses)."""
    cache = _caches.get(engine)
    if cache is None:
        cache = _caches[engine] = KeyCache()
    return cache


async def find_key(engine: AsyncEngine, key: str) -> Principal | None:
    """The owner of a valid key; None for an unknown or revoked one. Cached (``KeyCache``)."""
    hashed = key_hash(key)
    cache = key_cache(engine)
    cached = cache.get(hashed)
    if cached is not None:
        return cached
    generation = cache.generation
    k = t.api_keys.c
    query = select(k.market_id, k.role, k.account_id).where(
        k.key_hash == hashed, k.revoked.is_(False)
    )
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        return None
    wide = row.market_id == EXCHANGE_WIDE
    found = Principal(row.market_id, Role(row.role), row.account_id, hashed[:KEY_ID_LENGTH], wide)
    cache.put(hashed, found, generation)
    return found


async def revoke_key(engine: AsyncEngine, market_id: str, key_id: str) -> bool:
    """Revoke the market's key(s) whose hash starts with ``key_id``; False when none is known.
    Revoking a revoked key again is not an error. This process's cache forgets them at once."""
    k = t.api_keys.c
    query = (
        update(t.api_keys)
        .where(k.market_id == market_id, k.key_hash.startswith(key_id.lower(), autoescape=True))
        .values(revoked=True)
    )
    cache = key_cache(engine)
    cache.revoke(market_id, key_id)  # a lookup racing the update stores nothing
    try:
        async with engine.begin() as conn:
            result = await conn.execute(query)
    finally:
        cache.revoke(market_id, key_id)
    return result.rowcount > 0


_bearer = HTTPBearer(auto_error=False)


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, "UNAUTHENTICATED", detail, headers={"WWW-Authenticate": "Bearer"})


async def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The key's owner, for the market named in the path."""
    if credentials is None:
        raise _unauthorized("an API key is required: Authorization: Bearer <key>")
    engine: AsyncEngine = request.app.state.hub.engine
    found = await find_key(engine, credentials.credentials)
    if found is None:
        raise _unauthorized("unknown or revoked API key")
    market_id = request.path_params.get("market_id")
    if found.exchange_wide and market_id is not None:
        found = dataclasses.replace(found, market_id=market_id)
    elif market_id is not None and market_id != found.market_id:
        raise ApiError(403, "FORBIDDEN", "the key belongs to another market")
    request.app.state.limiter.check(found.key_id)
    return found


CurrentPrincipal = Annotated[Principal, Depends(principal)]


def require(who: Principal, *roles: Role) -> None:
    if who.role not in roles:
        raise ApiError(
            403, "FORBIDDEN", f"a {who.role.value} key may not do this", role=who.role.value
        )


def require_exchange_operator(who: Principal) -> None:
    """Only an exchange-wide (``*``) operator key passes: what acts beyond one market."""
    if not (who.exchange_wide and who.role is Role.OPERATOR):
        raise ApiError(
            403,
            "FORBIDDEN",
            "only an exchange-wide operator key (market '*') may do this",
            role=who.role.value,
        )


def trading_account(who: Principal) -> str:
    """The account a participant key trades for."""
    require(who, Role.PARTICIPANT)
    assert who.account_id is not None  # the table's check constraint
    return who.account_id


def may_see_account(who: Principal, account_id: str) -> None:
    """Operators see every account, participants their own, observers none."""
    if who.role is Role.OPERATOR:
        return
    if who.role is Role.PARTICIPANT and who.account_id == account_id:
        return
    raise ApiError(403, "FORBIDDEN", "not your account", account_id=account_id)
