"""API keys in the database (``api_keys``): minting, finding and revoking them.

Only a key's sha256 is stored (``exchange.keys``). ``find_key`` serves what it found, or found
missing, from this process's ``KeyCache`` (``in_memory``: whether it will); ``revoke_key`` and
``revoke_account_keys`` drop the revoked keys from it before they return, so a revoked key is
refused at once here, and tell its listeners once the revocation is committed (the gateway
closes the keys' WebSockets); ``is_revoked`` tells a revoked key from one never minted.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.db import tables as t
from exchange.keys import (
    EXCHANGE_WIDE,
    KEY_ID_LENGTH,
    Principal,
    Role,
    key_cache,
    key_hash,
    new_key,
)


async def create_key(
    engine: AsyncEngine, market_id: str, role: Role, account_id: str | None = None
) -> str:
    """Mint a key, store its hash and return the key itself (shown once, never stored)."""
    if role is Role.PARTICIPANT and account_id is None:
        raise ValueError("a participant key names its account")
    if account_id is not None and role not in (Role.PARTICIPANT, Role.VERIFIER):
        raise ValueError("only a participant or a verifier key names an account")
    if role in (Role.PARTICIPANT, Role.VERIFIER) and market_id == EXCHANGE_WIDE:
        raise ValueError("a participant or verifier key belongs to one market")
    key = new_key()
    key_cache(engine).forget_unknown(key_hash(key))  # never asked for: forgotten all the same
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


def in_memory(engine: AsyncEngine, key: str) -> bool:
    """Whether ``find_key`` answers ``key`` from memory, without a database lookup."""
    hashed = key_hash(key)
    cache = key_cache(engine)
    return cache.get(hashed) is not None or cache.is_unknown(hashed)


async def find_key(engine: AsyncEngine, key: str) -> Principal | None:
    """The owner of a valid key; None for an unknown or revoked one. Cached (``KeyCache``),
    the keys not found too."""
    hashed = key_hash(key)
    cache = key_cache(engine)
    cached = cache.get(hashed)
    if cached is not None:
        return cached
    if cache.is_unknown(hashed):
        return None
    generation = cache.generation
    k = t.api_keys.c
    query = select(k.market_id, k.role, k.account_id, k.revoked).where(k.key_hash == hashed)
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    if row is None or row.revoked:
        cache.put_unknown(hashed, revoked=row is not None)
        return None
    wide = row.market_id == EXCHANGE_WIDE
    found = Principal(row.market_id, Role(row.role), row.account_id, hashed[:KEY_ID_LENGTH], wide)
    cache.put(hashed, found, generation)
    return found


async def key_by_id(engine: AsyncEngine, market_id: str, key_id: str) -> Principal | None:
    """The market's live key whose id is ``key_id`` (None: no such key, or revoked)."""
    k = t.api_keys.c
    query = select(k.key_hash, k.market_id, k.role, k.account_id).where(
        k.market_id == market_id,
        k.key_hash.startswith(key_id.lower(), autoescape=True),
        k.revoked.is_(False),
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    if len(rows) != 1:
        return None
    row = rows[0]
    return Principal(row.market_id, Role(row.role), row.account_id, row.key_hash[:KEY_ID_LENGTH])


async def is_revoked(engine: AsyncEngine, key: str) -> bool:
    """Whether ``key`` was minted here and revoked since (``find_key`` answers None for it as
    for a key never minted): a login can then say which it is. From memory when ``find_key``
    found it missing lately."""
    hashed = key_hash(key)
    cache = key_cache(engine)
    known = cache.unknown_revoked(hashed)
    if known is not None:
        return known
    k = t.api_keys.c
    query = select(k.revoked).where(k.key_hash == hashed)
    async with engine.connect() as conn:
        return bool((await conn.execute(query)).scalar())


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
    if result.rowcount > 0:
        cache.revoked(market_id, key_id)
    return result.rowcount > 0


async def revoke_account_keys(engine: AsyncEngine, market_id: str, account_ids: list[str]) -> int:
    """Revoke every participant key of these accounts of the market; how many were live. This
    process's key cache forgets them at once, as ``revoke_key`` has it."""
    k = t.api_keys.c
    live = (
        k.market_id == market_id,
        k.account_id.in_(account_ids),
        k.role == "participant",
        k.revoked.is_(False),
    )
    cache = key_cache(engine)
    async with engine.begin() as conn:
        hashes = (await conn.execute(select(k.key_hash).where(*live))).scalars().all()
        for hashed in hashes:  # a lookup racing the update stores nothing
            cache.revoke(market_id, hashed)
        result = await conn.execute(update(t.api_keys).where(*live).values(revoked=True))
    for hashed in hashes:
        cache.revoke(market_id, hashed)
        cache.revoked(market_id, hashed)
    return int(result.rowcount)
