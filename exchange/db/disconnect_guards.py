"""The guards of cancel on disconnect in the database (``market_disconnect_guards``): which
sessions were armed for an account and never ended (``exchange.disconnects``). They are
written by the journal writer, in the batches of the commands around them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.db import tables as t
from exchange.db.journal_store import reading_engine

ARMED, ENDED = "armed", "ended"


async def armed_not_ended(
    url: str | AsyncEngine, market_id: str, *, connect_args: Mapping[str, Any] | None = None
) -> list[tuple[str, str]]:
    """(session id, account id) of every guard of ``market_id`` armed and not ended, sorted."""
    g = t.market_disconnect_guards
    ended = g.alias("ended")
    query = (
        select(g.c.session_id, g.c.account_id)
        .outerjoin(
            ended,
            and_(
                ended.c.market_id == g.c.market_id,
                ended.c.session_id == g.c.session_id,
                ended.c.account_id == g.c.account_id,
                ended.c.event == ENDED,
            ),
        )
        .where(g.c.market_id == market_id, g.c.event == ARMED, ended.c.session_id.is_(None))
        .order_by(g.c.session_id, g.c.account_id)
    )
    async with reading_engine(url, connect_args) as engine, engine.connect() as conn:
        return [(session, account) for session, account in await conn.execute(query)]
