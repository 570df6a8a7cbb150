"""The PostgreSQL journal writer when its backend is terminated in the middle of a batch's
COPY (found by the fault campaign, ``tests/faults``): the commit fails with a blip
(``is_transient``) at once, and after ``reconnect`` the batch is not stored and commits whole.
Before, asyncpg waited for ever on a COPY whose writes had been paused when the connection
died, so the market took no more commits and still said it was running."""

from __future__ import annotations

import asyncio

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import func, select

from exchange.db import journal_store as js
from exchange.db import tables as t
from tests.integration.conftest import Database

ROWS = 300_000  # a COPY long enough to be caught in the middle
MARKET = "cut"
WAIT_S = 30.0


async def copying(admin: asyncpg.Connection, pid: int) -> None:
    """Until backend ``pid`` runs a COPY."""
    for _ in range(int(WAIT_S / 0.002)):
        query = await admin.fetchval(
            "SELECT query FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", pid
        )
        if query is not None and query.startswith("COPY"):
            return
        await asyncio.sleep(0.002)
    raise AssertionError("the writer never ran its COPY")


@pytest.mark.parametrize("empty_database", ["postgresql"], indirect=True)
def test_a_connection_lost_under_a_copy_is_a_blip(database: Database) -> None:
    async def scenario() -> None:
        url, args = database.url, database.connect_args
        writer = await js.open_writer(url, connect_args=args)
        assert isinstance(writer, js.PostgresJournalWriter)
        admin = await asyncpg.connect(js._asyncpg_dsn(url))
        journal = [(MARKET, seq, seq, "place_order", "P01", "[]") for seq in range(1, ROWS + 1)]
        batch = js.Batch(MARKET, journal=journal)
        try:
            committing = asyncio.ensure_future(writer.commit(batch))
            pid = writer.connection.get_server_pid()
            await copying(admin, pid)
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
            done, _ = await asyncio.wait({committing}, timeout=WAIT_S)
            assert done, "the commit never returned after its connection was lost"
            error = committing.exception()
            assert error is not None
            assert js.is_transient(error), repr(error)

            await writer.reconnect()
            assert not await writer.holds(batch)
            await writer.commit(batch)
            assert await writer.holds(batch)
        finally:
            await admin.close()
            await writer.close()
        j = t.market_journal.c
        async with database.engine() as engine, engine.connect() as conn:
            stored = await conn.scalar(select(func.count()).where(j.market_id == MARKET))
        assert stored == ROWS

    asyncio.run(scenario())
