"""Market data from a market's in-memory state and its trade tape: the market's description,
each instrument's view and quote, the last trade per instrument, and the trades behind bars.

The book, the band and the day's open, high, low and volume (the day book,
``settlement.clearing.DayBook``) are read in memory, like ``getBook``. The last trade price
comes from the committed trades: a runtime listener keeps each instrument's last trade, seeded
once from the trade tape. Bars come from the trade tape (the journal's ``market_trades``),
bucketed by ``exchange.bars`` in the market's time zone.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange import bars as bar_math
from exchange.db import tables as t
from exchange.runtime import Ack, MarketRuntime
from registry_sim.model import UnitKind
from settlement.market import Market

TRADE_PAGE = 5000  # trades read per query while collecting bars, newest first


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


# ---------------------------------------------------------------------- views


def unit_kind(symbol: str) -> UnitKind | None:
    """The registry unit kind a symbol trades: ``CEA2025`` → CEA, ``CCER:P1:2024`` → CCER."""
    head = symbol.split(":", 1)[0] if ":" in symbol else symbol[:3]
    try:
        return UnitKind(head)
    except ValueError:
        return None


def describe(runtime: MarketRuntime) -> dict[str, Any]:
    """``MarketView``: the market's rule set, trading day, session and instruments."""
    market = runtime.market
    rules = market.rules
    return {
        "market_id": runtime.market_id,
        "rule_set": market.spec.rules,
        "title": rules.title,
        "currency": rules.currency,
        "timezone": rules.calendar.timezone,
        "overrides": dict(market.spec.overrides),
        "trading_day": market.trading_day,
        "session": market.session,
        "day_closed": market.day_closed,
        "instruments": list(market.instruments),
        "last_seq": runtime.last_seq,
    }


def _day(market: Market, symbol: str) -> dict[str, Any]:
    """Today's open, high, low, volume and turnover (None and 0 before the first trade)."""
    day = market.day_book.symbol_day(symbol)
    if day is None:
        return {
            "open_fen": None,
            "high_fen": None,
            "low_fen": None,
            "volume_t": 0,
            "turnover_fen": 0,
        }
    return {
        "open_fen": day.open_fen,
        "high_fen": day.high_fen,
        "low_fen": day.low_fen,
        "volume_t": day.volume_t,
        "turnover_fen": day.turnover_fen,
    }


def _prices(market: Market, symbol: str, last: LastTrades) -> dict[str, Any]:
    """What an instrument's view and its quote both say: its state, reference price and band,
    the last trade's price, and today's open, high, low and volume."""
    info = market.engine.book_info(symbol)
    lower, upper = market.engine.band(symbol)
    kept = last.by_symbol.get(symbol)
    return {
        "symbol": symbol,
        "state": info.state,
        "reference_price_fen": info.reference_price_fen,
        "band_lower_fen": lower,
        "band_upper_fen": upper,
        "last_price_fen": None if kept is None else kept[1],
        **_day(market, symbol),
    }


def instrument_view(market: Market, symbol: str, last: LastTrades) -> dict[str, Any]:
    """``InstrumentView``: the instrument's rules, prices and best bid and ask."""
    info = market.engine.book_info(symbol)
    bbo = market.engine.best_bid_offer(symbol)
    return {
        **_prices(market, symbol, last),
        "unit_kind": unit_kind(symbol),
        "tick_fen": info.tick_fen,
        "lot_t": info.lot_t,
        "min_qty_t": info.min_qty_t,
        "max_qty_t": info.max_qty_t,
        "bid_price_fen": bbo.bid_price_fen,
        "ask_price_fen": bbo.ask_price_fen,
    }


def quote(market: Market, symbol: str, last: LastTrades) -> dict[str, Any]:
    """``Quote``: the instrument's prices, best bid and ask with quantities, the last trade."""
    prices = _prices(market, symbol, last)
    kept = last.by_symbol.get(symbol)
    traded_today = prices["open_fen"] is not None
    return {
        **prices,
        "trading_day": market.trading_day,
        **market.engine.best_bid_offer(symbol)._asdict(),
        "last_ts_ns": None if kept is None else kept[2],
        "close_fen": kept[1] if traded_today and kept is not None else None,
    }


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
