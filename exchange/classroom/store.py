"""A class market's state in the database.

A class market is an ordinary market (its journal holds every account, allocation, order and
compliance operation) plus what no market command records: which scenario and seed made it,
its seats, where the instructor has taken the compliance cycle (the phase) and the abatement
the seats declared (``ClassState``). That lives in ``class_markets``, one row per class, its
variable part as JSON, written through on each change. (Announcements, which any market may
have, are ``exchange.db.announcements``.)
"""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.classroom.state import ClassState
from exchange.db import tables as t


async def load_classes(engine: AsyncEngine, market_ids: list[str]) -> list[ClassState]:
    """The stored classes among ``market_ids`` (at start-up), in that order."""
    c = t.class_markets.c
    async with engine.connect() as conn:
        rows = await conn.execute(select(t.class_markets).where(c.market_id.in_(market_ids)))
        found = {
            row.market_id: ClassState.from_row(
                row.market_id,
                row.scenario,
                row.source,
                row.seed,
                row.phase,
                row.compliance_year,
                row.state,
            )
            for row in rows
        }
    return [found[m] for m in market_ids if m in found]


async def add_class(engine: AsyncEngine, state: ClassState) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(t.class_markets).values(
                market_id=state.market_id,
                scenario=state.scenario,
                source=state.source,
                seed=state.seed,
                phase=state.phase.value,
                compliance_year=state.compliance_year,
                state=state.body(),
            )
        )


async def save_class(engine: AsyncEngine, state: ClassState) -> None:
    """Write the state's phase, year and body through."""
    c = t.class_markets.c
    async with engine.begin() as conn:
        await conn.execute(
            update(t.class_markets)
            .where(c.market_id == state.market_id)
            .values(
                phase=state.phase.value, compliance_year=state.compliance_year, state=state.body()
            )
        )
