"""A class market's state and the announcements, in the database (issue 7).

A class market is an ordinary market (its journal holds every account, allocation, order and
compliance operation) plus what no market command records: which scenario and seed made it,
its seats, where the instructor has taken the compliance cycle (the phase) and the abatement
the seats declared (``ClassState``). That lives in ``class_markets``, one row per class, its
variable part as JSON, written through on each change. Announcements are rows of
``announcements``, newest first when listed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

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


# ---------------------------------------------------------------------- announcements


async def add_announcement(
    engine: AsyncEngine, market_id: str, ts_ns: int, text: str, level: str
) -> dict[str, Any]:
    created_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    values = {
        "market_id": market_id,
        "ts_ns": ts_ns,
        "text": text,
        "level": level,
        "created_at": created_at,
    }
    async with engine.begin() as conn:
        result = await conn.execute(insert(t.announcements).values(**values))
        (announcement_id,) = result.inserted_primary_key or (None,)
    assert announcement_id is not None
    return {"id": int(announcement_id), **values}


async def list_announcements(
    engine: AsyncEngine, market_id: str, limit: int
) -> list[dict[str, Any]]:
    """The market's announcements, newest first."""
    a = t.announcements.c
    query = (
        select(a.id, a.market_id, a.ts_ns, a.text, a.level, a.created_at)
        .where(a.market_id == market_id)
        .order_by(a.id.desc())
        .limit(limit)
    )
    async with engine.connect() as conn:
        return [dict(row._mapping) for row in await conn.execute(query)]
