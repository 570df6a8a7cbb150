"""Making a class market is all or nothing, across a crash.

``createClassMarket`` writes in several steps (the market's journal, its setup commands, the
class's row, the seats' keys), and a kill between two of them used to leave a half-made class:
a market no one was given keys to, whose id could not be used again. Now the class's id is
marked in ``class_creations`` before anything else is written (under the host's creation lock,
after it has checked the id is free, so a mark never names a market that existed before), and
the mark goes once the class is whole. At start-up, before any market is recovered, every
marked id's rows are removed (``exchange.db.market_removal``) with its mark: nobody was ever
told the class existed, and its id is free again.

Kill points (``exchange.faults``) let the crash tests kill the process at the bad moments:
``class-market-created`` (the market's journal exists, nothing else) and ``class-made`` (all
written but the mark's removal).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.db import tables as t
from exchange.db.market_removal import remove_market

log = logging.getLogger("carbonx.classroom")


async def begin(engine: AsyncEngine, market_id: str) -> bool:
    """Mark the class as being made; False if it is already (another process makes it)."""
    now = dt.datetime.now(dt.UTC).isoformat()
    try:
        async with engine.begin() as conn:
            row = {"market_id": market_id, "started_at": now}
            await conn.execute(insert(t.class_creations).values(**row))
    except IntegrityError:
        return False
    return True


async def finish(engine: AsyncEngine, market_id: str) -> None:
    """The class is whole: take its mark away."""
    c = t.class_creations.c
    async with engine.begin() as conn:
        await conn.execute(delete(t.class_creations).where(c.market_id == market_id))


async def remove_half_made(engine: AsyncEngine, hosted: Collection[str] = ()) -> list[str]:
    """At start-up, before the markets are recovered: remove every class a kill left half
    made, with its mark, one transaction each; only those among ``hosted`` when it names some
    (a process that hosts some markets of a shared database leaves the others' alone). The
    ids removed."""
    c = t.class_creations.c
    async with engine.connect() as conn:
        marked = list(await conn.scalars(select(c.market_id).order_by(c.market_id)))
    removed = [m for m in marked if not hosted or m in hosted]
    for market_id in removed:
        async with engine.begin() as conn:
            rows = await remove_market(conn, market_id)
        log.warning(
            "class %s was half made when the process died: %d rows removed, its id is free",
            market_id,
            rows,
        )
    return removed
