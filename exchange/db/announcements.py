"""An instructor's announcements to a market (``postAnnouncement``, ``listAnnouncements``):
rows of ``announcements``, newest first when listed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.db import tables as t


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
