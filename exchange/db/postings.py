"""Reads of a market's postings (the journal's ``market_postings``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.db import tables as t
from settlement.cash import CNY


async def marked_cash_postings(engine: AsyncEngine, market_id: str, mark: str) -> list[Any]:
    """(seq, amount, from_account, to_account, ref) of the market's deposits and withdrawals
    whose ref carries ``mark`` (``exchange.api.cash``: those made under a request id)."""
    p = t.market_postings.c
    query = select(p.seq, p.amount, p.from_account, p.to_account, p.ref).where(
        p.market_id == market_id,
        p.asset == CNY,
        p.ref.contains(mark, autoescape=True),
        or_(p.ref.startswith("deposit:"), p.ref.startswith("withdraw:")),
    )
    async with engine.connect() as conn:
        return list((await conn.execute(query)).all())
