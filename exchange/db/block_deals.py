"""Reads of a market's block deals (大宗协议成交, ``market_block_deals``: one per deal, written
with the command that made it): an account's deals or all of them (``listBlockDeals``), and
the daily bulletin (``getDailyBulletin``): per instrument the listed trades' open, high, low,
close, volume and turnover, and the block deals' volume and turnover apart, as the exchange's
bulletin gives them (no block price)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.db import tables as t

DEALS_LIMIT = 500  # deals one listing answers at most


async def block_deals(
    engine: AsyncEngine,
    market_id: str,
    account_id: str | None = None,
    trading_day: str | None = None,
    limit: int = DEALS_LIMIT,
) -> list[dict[str, Any]]:
    """The market's block deals, most recent first: ``account_id``'s (either side) or all, of
    ``trading_day`` (ISO date) or every day (``BlockDeal``)."""
    c = t.market_block_deals.c
    query = select(
        c.deal_id,
        c.seq,
        c.ts_ns,
        c.trading_day,
        c.symbol,
        c.price_fen,
        c.qty_t,
        c.buy_account_id,
        c.sell_account_id,
        c.buy_fee_fen,
        c.sell_fee_fen,
        c.quote_id,
        c.negotiation_id,
    ).where(c.market_id == market_id)
    if account_id is not None:
        query = query.where(or_(c.buy_account_id == account_id, c.sell_account_id == account_id))
    if trading_day is not None:
        query = query.where(c.trading_day == trading_day)
    query = query.order_by(c.deal_id.desc()).limit(limit)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [row._asdict() for row in rows]


async def block_tape(
    engine: AsyncEngine, market_id: str, symbol: str | None, limit: int
) -> list[dict[str, Any]]:
    """The block deals as the public tape shows them (``Trade``, ``mode`` block, no
    accounts), most recent first, each with its journal ``seq`` to merge by."""
    c = t.market_block_deals.c
    query = select(c.deal_id, c.seq, c.ts_ns, c.symbol, c.price_fen, c.qty_t).where(
        c.market_id == market_id
    )
    if symbol is not None:
        query = query.where(c.symbol == symbol)
    query = query.order_by(c.deal_id.desc()).limit(limit)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        {
            "trade_id": row.deal_id,
            "seq": row.seq,
            "ts_ns": row.ts_ns,
            "symbol": row.symbol,
            "price_fen": row.price_fen,
            "qty_t": row.qty_t,
            "aggressor": None,
            "mode": "block",
        }
        for row in rows
    ]


# ---------------------------------------------------------------------- the bulletin


async def last_cleared_day(engine: AsyncEngine, market_id: str) -> str | None:
    """The last trading day day-end clearing made closes for, or None before the first."""
    c = t.market_closes.c
    query = select(func.max(c.trading_day)).where(c.market_id == market_id)
    async with engine.connect() as conn:
        found: str | None = (await conn.execute(query)).scalar()
    return found


async def daily_bulletin(
    engine: AsyncEngine,
    market_id: str,
    trading_day: str,
    start_ns: int,
    end_ns: int,
    symbols: Sequence[str],
) -> dict[str, Any]:
    """The bulletin of ``trading_day`` (``DailyBulletin`` but its ``market_id``): the listed
    trades in market time ``[start_ns, end_ns)`` (the day's local date), its block deals and
    its closes, for ``symbols`` and any other symbol that traded."""
    tr, bd, cl = t.market_trades.c, t.market_block_deals.c, t.market_closes.c
    turnover = func.sum(tr.price_fen * tr.qty_t)
    listed_query = (
        select(
            tr.symbol,
            func.min(tr.trade_id).label("first"),
            func.max(tr.price_fen).label("high"),
            func.min(tr.price_fen).label("low"),
            func.sum(tr.qty_t).label("volume"),
            turnover.label("turnover"),
        )
        .where(tr.market_id == market_id, tr.ts_ns >= start_ns, tr.ts_ns < end_ns)
        .group_by(tr.symbol)
    )
    block_query = (
        select(
            bd.symbol,
            func.sum(bd.qty_t).label("volume"),
            func.sum(bd.price_fen * bd.qty_t).label("turnover"),
        )
        .where(bd.market_id == market_id, bd.trading_day == trading_day)
        .group_by(bd.symbol)
    )
    closes_query = select(cl.symbol, cl.close_fen, cl.method).where(
        cl.market_id == market_id, cl.trading_day == trading_day
    )
    async with engine.connect() as conn:
        listed = {row.symbol: row for row in (await conn.execute(listed_query)).all()}
        block = {row.symbol: row for row in (await conn.execute(block_query)).all()}
        closes = {row.symbol: row for row in (await conn.execute(closes_query)).all()}
        opens: dict[str, int] = {}
        if listed:
            firsts = [row.first for row in listed.values()]
            query = select(tr.symbol, tr.price_fen).where(
                tr.market_id == market_id, tr.trade_id.in_(firsts)
            )
            opens = {row.symbol: row.price_fen for row in (await conn.execute(query)).all()}
    every = list(symbols) + sorted((listed.keys() | block.keys()) - set(symbols))
    lines = []
    for symbol in every:
        day, deals, close = listed.get(symbol), block.get(symbol), closes.get(symbol)
        listed_t = 0 if day is None else int(day.volume)
        listed_fen = 0 if day is None else int(day.turnover)
        block_t = 0 if deals is None else int(deals.volume)
        block_fen = 0 if deals is None else int(deals.turnover)
        lines.append(
            {
                "symbol": symbol,
                "open_fen": opens.get(symbol),
                "high_fen": None if day is None else day.high,
                "low_fen": None if day is None else day.low,
                "close_fen": None if close is None else close.close_fen,
                "close_method": None if close is None else close.method,
                "listed_volume_t": listed_t,
                "listed_turnover_fen": listed_fen,
                "block_volume_t": block_t,
                "block_turnover_fen": block_fen,
                "volume_t": listed_t + block_t,
                "turnover_fen": listed_fen + block_fen,
            }
        )
    totals = {
        name: sum(line[name] for line in lines)
        for name in (
            "listed_volume_t",
            "listed_turnover_fen",
            "block_volume_t",
            "block_turnover_fen",
            "volume_t",
            "turnover_fen",
        )
    }
    return {
        "trading_day": trading_day,
        "cleared": bool(closes),
        "symbols": lines,
        "totals": totals,
    }
