"""Removing every row of one market from the database: what a half-made class leaves when the
process is killed while making it (``exchange.classroom.making``). Only for a market nobody
was ever told exists; a market that was created stays for as long as its journal does."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from exchange.db import tables as t


async def remove_market(conn: AsyncConnection, market_id: str) -> int:
    """Delete the rows of ``market_id`` from every table that has a ``market_id`` column, the
    referencing tables before those they reference, in the caller's transaction. The number
    of rows deleted."""
    removed = 0
    for table in reversed(t.metadata.sorted_tables):
        if "market_id" in table.c:
            result = await conn.execute(delete(table).where(table.c.market_id == market_id))
            removed += result.rowcount or 0
    return removed
