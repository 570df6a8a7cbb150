"""Reads of a market's trade tape (the journal's ``market_trades``): the public tape
(``listTrades``), an account's fills (``listFills``), the last trade per instrument (kept by a
runtime listener and seeded once from the tape), the trades behind bars (bucketed by
``exchange.bars`` in the market's time zone) and the trades of a symbol's last minute (the
WebSocket's first ``bars`` message).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange import bars as bar_math
from exchange.db import tables as t
from exchange.db.block_deals import block_tape
from exchange.runtime import Ack, MarketRuntime

TRADE_PAGE = 5000  # trades read per query while collecting bars, newest first


async def trade_tape(
    engine: AsyncEngine, market_id: str, symbol: str | None, limit: int
) -> list[dict[str, Any]]:
    """The public trade tape, most recent first (``Trades``): every symbol's, or one's. The
    listed trades (``mode`` listed) and the block deals (``mode`` block, ``trade_id`` the
    deal's id, no aggressor) in journal order."""
    c = t.market_trades.c
    query = select(c.trade_id, c.seq, c.ts_ns, c.symbol, c.price_fen, c.qty_t, c.aggressor).where(
        c.market_id == market_id
    )
    if symbol is not None:
        query = query.where(c.symbol == symbol)
    query = query.order_by(c.trade_id.desc()).limit(limit)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    listed = [{**row._asdict(), "mode": "listed"} for row in rows]
    # A command makes listed trades or a block deal, never both: the seq orders them.
    merged = sorted(
        [*listed, *await block_tape(engine, market_id, symbol, limit)],
        key=lambda trade: (trade["seq"], trade["trade_id"]),
        reverse=True,
    )
    return [{k: v for k, v in trade.items() if k != "seq"} for trade in merged[:limit]]


async def account_fills(
    engine: AsyncEngine, market_id: str, account: str, symbol: str | None, limit: int
) -> list[dict[str, Any]]:
    """The account's own side of its trades, most recent first, at most ``limit`` (``Fills``);
    a trade with itself is two fills."""
    c = t.market_trades.c
    query = select(t.market_trades).where(
        c.market_id == market_id, or_(c.buy_account_id == account, c.sell_account_id == account)
    )
    if symbol is not None:
        query = query.where(c.symbol == symbol)
    query = query.order_by(c.trade_id.desc()).limit(limit)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    fills: list[dict[str, Any]] = []
    for row in rows:
        for side, order_id, owner, fee in (
            ("buy", row.buy_order_id, row.buy_account_id, row.buy_fee_fen),
            ("sell", row.sell_order_id, row.sell_account_id, row.sell_fee_fen),
        ):
            if owner == account:
                fills.append(
                    {
                        "trade_id": row.trade_id,
                        "ts_ns": row.ts_ns,
                        "symbol": row.symbol,
                        "side": side,
                        "order_id": order_id,
                        "price_fen": row.price_fen,
                        "qty_t": row.qty_t,
                        "fee_fen": fee,
                    }
                )
    return fills[:limit]


async def last_minute_trades(
    engine: AsyncEngine,
    market_id: str,
    symbol: str,
    up_to_seq: int,
    minute_start: Callable[[int], int],
) -> list[tuple[int, int, int, int, int]]:
    """(trade id, ts_ns, price, qty, seq) of the trades of the minute of the symbol's last trade
    at or below ``up_to_seq``, oldest first (``minute_start``: the start of a minute)."""
    c = t.market_trades.c
    mine = (c.market_id == market_id, c.symbol == symbol, c.seq <= up_to_seq)
    last = select(c.ts_ns).where(*mine).order_by(c.trade_id.desc()).limit(1)
    async with engine.connect() as conn:
        last_ts = (await conn.execute(last)).scalar()
        if last_ts is None:
            return []
        query = (
            select(c.trade_id, c.ts_ns, c.price_fen, c.qty_t, c.seq)
            .where(*mine, c.ts_ns >= minute_start(last_ts))
            .order_by(c.trade_id)
        )
        rows = (await conn.execute(query)).all()
    return [(r.trade_id, r.ts_ns, r.price_fen, r.qty_t, r.seq) for r in rows]


# ---------------------------------------------------------------------- the last trade


class LastTrades:
    """Each instrument's last committed trade (trade id, price, market time), kept by a
    runtime listener; ``seed`` reads the tape once for what traded before it listened."""

    def __init__(self) -> None:
        self.by_symbol: dict[str, tuple[int, int, int]] = {}
        self.ready: asyncio.Future[None] | None = None

    def keep(self, symbol: str, trade_id: int, price_fen: int, ts_ns: int) -> None:
        known = self.by_symbol.get(symbol)
        if known is None or trade_id > known[0]:
            self.by_symbol[symbol] = (trade_id, price_fen, ts_ns)

    def listen(self, acks: Sequence[Ack]) -> None:
        for ack in acks:
            for fill in ack.outcome.fills:
                trade = fill.trade
                self.keep(trade.symbol, trade.trade_id, trade.price_fen, trade.ts_ns)

    async def seed(self, engine: AsyncEngine, market_id: str, symbols: Sequence[str]) -> None:
        c = t.market_trades.c
        async with engine.connect() as conn:
            for symbol in symbols:
                query = (
                    select(c.trade_id, c.price_fen, c.ts_ns)
                    .where(c.market_id == market_id, c.symbol == symbol)
                    .order_by(c.trade_id.desc())
                    .limit(1)
                )
                row = (await conn.execute(query)).first()
                if row is not None:
                    self.keep(symbol, row.trade_id, row.price_fen, row.ts_ns)


_last_trades: weakref.WeakKeyDictionary[MarketRuntime, LastTrades] = weakref.WeakKeyDictionary()


async def last_trades(engine: AsyncEngine, runtime: MarketRuntime) -> LastTrades:
    """The runtime's ``LastTrades``, made on first use: it listens before it reads the tape,
    so no trade falls between the two."""
    kept = _last_trades.get(runtime)
    if kept is None:
        kept = _last_trades[runtime] = LastTrades()
        runtime.listeners.append(kept.listen)
        symbols = list(runtime.market.instruments)
        kept.ready = asyncio.ensure_future(kept.seed(engine, runtime.market_id, symbols))
    assert kept.ready is not None
    try:
        await asyncio.shield(kept.ready)
    except Exception:
        if _last_trades.get(runtime) is kept:  # the next request tries again
            del _last_trades[runtime]
            runtime.listeners.remove(kept.listen)
        raise
    return kept


async def recent_ticks(
    engine: AsyncEngine,
    market_id: str,
    symbol: str,
    interval: str,
    zone: ZoneInfo,
    limit: int,
    start_ns: int | None,
    end_ns: int | None,
) -> list[bar_math.Tick]:
    """The trades of the latest ``limit`` bars in ``[start_ns, end_ns)``, oldest first: read
    newest first, a page at a time, until a trade falls into one bar too many."""
    c = t.market_trades.c
    base = select(c.trade_id, c.ts_ns, c.price_fen, c.qty_t).where(
        c.market_id == market_id, c.symbol == symbol
    )
    if start_ns is not None:
        base = base.where(c.ts_ns >= start_ns)
    if end_ns is not None:
        base = base.where(c.ts_ns < end_ns)
    newest_first: list[bar_math.Tick] = []
    current: tuple[int, int] | None = None
    seen = 0
    before: int | None = None
    async with engine.connect() as conn:
        while True:
            query = base if before is None else base.where(c.trade_id < before)
            page = (await conn.execute(query.order_by(c.trade_id.desc()).limit(TRADE_PAGE))).all()
            for row in page:
                if current is None or not current[0] <= row.ts_ns < current[1]:
                    if seen == limit:
                        return newest_first[::-1]
                    current = bar_math.bucket(row.ts_ns, interval, zone)
                    seen += 1
                newest_first.append(bar_math.Tick(row.ts_ns, row.price_fen, row.qty_t))
            if len(page) < TRADE_PAGE:
                return newest_first[::-1]
            before = page[-1].trade_id


async def day_closes(
    engine: AsyncEngine, market_id: str, symbol: str, days: Sequence[str]
) -> dict[str, int]:
    """The closes day-end clearing made for ``symbol`` on ``days`` (ISO dates): by day, only
    the days already cleared."""
    if not days:
        return {}
    c = t.market_closes.c
    query = select(c.trading_day, c.close_fen).where(
        c.market_id == market_id, c.symbol == symbol, c.trading_day.in_(list(days))
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return {row.trading_day: row.close_fen for row in rows}
