"""The in-process cache of API keys (``exchange.api.auth.KeyCache``): a key found once is served
from memory, by its hash; a revocation in this process refuses it at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import delete, insert

from exchange.db import tables as t
from exchange.db.engine import create_engine
from exchange.db.journal_store import prepare_database
from exchange.db.keys import (
    create_key,
    find_key,
    in_memory,
    is_revoked,
    revoke_account_keys,
    revoke_key,
)
from exchange.keys import (
    UNKNOWN_KEY_TTL_S,
    KeyCache,
    Principal,
    Role,
    key_cache,
    key_hash,
    key_id_of,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_and_a_revocation_forgets_only_its_market() -> None:
    clock = FakeClock()
    cache = KeyCache(ttl_s=30.0, clock=clock)
    demo = Principal("demo", Role.PARTICIPANT, "P001", "abc")
    other = Principal("other", Role.OBSERVER, None, "abd")
    cache.put("abc123", demo, cache.generation)
    cache.put("abc999", other, cache.generation)
    assert cache.get("abc123") == demo
    cache.revoke("demo", "abc")
    assert cache.get("abc123") is None
    assert cache.get("abc999") == other  # same prefix, another market: kept
    clock.now += 30.0
    assert cache.get("abc999") is None  # expired


def test_a_lookup_that_began_before_a_revocation_stores_nothing() -> None:
    cache = KeyCache()
    began = cache.generation
    cache.revoke("demo", "abc")
    cache.put("abc123", Principal("demo", Role.OPERATOR, None, "abc"), began)
    assert cache.get("abc123") is None


def test_a_full_cache_starts_over() -> None:
    cache = KeyCache(max_keys=2)
    for n in range(3):
        cache.put(f"h{n}", Principal("demo", Role.OBSERVER, None, f"h{n}"), cache.generation)
    assert [cache.get(f"h{n}") is not None for n in range(3)] == [False, False, True]


def test_find_key_serves_a_found_key_from_memory_until_revoked(tmp_path: Path) -> None:
    async def scenario() -> None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"
        await prepare_database(url)
        engine = create_engine(url)
        try:
            key = await create_key(engine, "demo", Role.PARTICIPANT, "P001")
            found = await find_key(engine, key)
            assert found == Principal("demo", Role.PARTICIPANT, "P001", key_id_of(key))
            # The row gone, the key is still known here: the cache answered, not the table.
            async with engine.begin() as conn:
                await conn.execute(delete(t.api_keys))
            assert await find_key(engine, key) == found
            assert key not in repr(key_cache(engine))  # kept by hash only
            assert key_hash(key) in repr(key_cache(engine))
            # Revoking it (even with its row gone) refuses it at once in this process.
            assert await revoke_key(engine, "demo", key_id_of(key)) is False
            assert await find_key(engine, key) is None
            unknown = await find_key(engine, "cx_not-a-key")
            assert unknown is None
        finally:
            await engine.dispose()

    asyncio.run(scenario())


def test_a_committed_revocation_is_told_to_the_listeners(tmp_path: Path) -> None:
    async def scenario() -> None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"
        await prepare_database(url)
        engine = create_engine(url)
        told: list[tuple[str, str]] = []
        key_cache(engine).listeners.append(lambda market, prefix: told.append((market, prefix)))
        try:
            key = await create_key(engine, "demo", Role.PARTICIPANT, "P001")
            seats = [await create_key(engine, "demo", Role.PARTICIPANT, a) for a in ("S1", "S2")]
            assert await revoke_key(engine, "demo", key_id_of(key).upper()) is True
            assert told == [("demo", key_id_of(key))]
            assert await revoke_key(engine, "demo", "0123456789ab") is False
            assert len(told) == 1  # nothing revoked, no one told
            assert await revoke_account_keys(engine, "demo", ["S1", "S2"]) == 2
            assert sorted(told[1:]) == sorted(("demo", key_hash(s)) for s in seats)
        finally:
            await engine.dispose()

    asyncio.run(scenario())


def test_a_key_not_found_is_remembered_for_a_while() -> None:
    clock = FakeClock()
    cache = KeyCache(clock=clock, unknown_ttl_s=10.0, max_keys=2)
    assert not cache.is_unknown("h1")
    cache.put_unknown("h1")
    assert cache.is_unknown("h1")
    clock.now += 10.0
    assert not cache.is_unknown("h1")  # expired
    cache.put_unknown("h1")
    cache.forget_unknown("h1")
    assert not cache.is_unknown("h1")
    for n in range(3):  # full: starts over
        cache.put_unknown(f"h{n}")
    assert [cache.is_unknown(f"h{n}") for n in range(3)] == [False, False, True]


def test_find_key_answers_an_unknown_key_from_memory(tmp_path: Path) -> None:
    async def scenario() -> None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"
        await prepare_database(url)
        engine = create_engine(url)
        clock = FakeClock()
        key_cache(engine).clock = clock
        try:
            guess = "cx_a-guess"
            assert not in_memory(engine, guess)
            assert await find_key(engine, guess) is None
            assert in_memory(engine, guess)
            # The row appears behind the cache's back: still unknown here until it expires.
            async with engine.begin() as conn:
                await conn.execute(
                    insert(t.api_keys).values(
                        key_hash=key_hash(guess),
                        market_id="demo",
                        account_id=None,
                        role="observer",
                        created_at="2026-01-01T00:00:00+00:00",
                        revoked=False,
                    )
                )
            assert await find_key(engine, guess) is None
            clock.now += UNKNOWN_KEY_TTL_S
            assert not in_memory(engine, guess)
            found = await find_key(engine, guess)
            assert found is not None
            assert found.role is Role.OBSERVER
            minted = await create_key(engine, "demo", Role.OBSERVER)
            assert not key_cache(engine).is_unknown(key_hash(minted))
            assert await find_key(engine, minted) is not None
            # A revoked key: found missing, and told apart from a guess, from memory.
            assert await revoke_key(engine, "demo", key_id_of(minted))
            assert await find_key(engine, minted) is None
            async with engine.begin() as conn:
                await conn.execute(delete(t.api_keys))
            assert await is_revoked(engine, minted) is True  # the row is gone: memory answered
            assert await is_revoked(engine, "cx_another-guess") is False
            assert await find_key(engine, "cx_another-guess") is None
            assert key_cache(engine).unknown_revoked(key_hash("cx_another-guess")) is False
        finally:
            await engine.dispose()

    asyncio.run(scenario())
