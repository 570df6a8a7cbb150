"""A market's data: the book (``getBook``), the quotes of one of its levels (``listLevelQuotes``,
for point-select), the trade tape (``listTrades``), its instruments (``listInstruments``),
quotes (``getQuote``) and bars (``getBars``), for any key of the market.

The book, quotes and instruments are read from the market's memory (``exchange.api.market_data``
shapes them) once what they show is durable (``MarketRuntime.read``), the trade tape and bars from
the journal's trades (``exchange.db.trade_tape``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from exchange import bars as bar_math
from exchange.api.common import PROBLEMS, TRADES_LIMIT, listed_symbol
from exchange.api.deps import (
    CurrentPrincipal,
    HubDep,
    Limit,
    MarketId,
    Runtime,
    SymbolPath,
    SymbolQuery,
)
from exchange.api.errors import ApiError
from exchange.api.market_data import instrument_view, quote
from exchange.api.market_models import Bars, DailyBulletin, Instruments, Quote
from exchange.api.models import Book, LevelQuotes, Trades
from exchange.db.block_deals import daily_bulletin, last_cleared_day
from exchange.db.trade_tape import day_closes, last_trades, recent_ticks, trade_tape
from matching.types import Side
from settlement.market import Market

router = APIRouter(prefix="/v1/markets/{market_id}", tags=["market data"], responses=PROBLEMS)

BOOK_LEVELS = 5
TsNs = Annotated[int | None, Query(ge=0, le=2**63 - 1)]
BARS_LIMIT, BARS_LIMIT_MAX = 200, 1000


@router.get("/book/{symbol}", operation_id="getBook", response_model=Book)
async def get_book(
    market_id: MarketId,
    symbol: str,
    who: CurrentPrincipal,
    runtime: Runtime,
    depth: Annotated[int, Query(ge=1, le=200)] = BOOK_LEVELS,
) -> dict[str, Any]:
    """L2: the best ``depth`` price levels a side (5 unless asked), best first, with the
    instrument's state, reference price and band."""

    def book(market: Market) -> dict[str, Any]:
        listed_symbol(market, symbol)
        info = market.engine.book_info(symbol)
        levels = market.engine.depth(symbol, depth)
        return {
            "symbol": symbol,
            "state": info.state,
            "reference_price_fen": info.reference_price_fen,
            "band_lower_fen": info.band_lower_fen,
            "band_upper_fen": info.band_upper_fen,
            "tick_fen": info.tick_fen,
            "lot_t": info.lot_t,
            "bids": [level._asdict() for level in levels.bids],
            "asks": [level._asdict() for level in levels.asks],
        }

    return await runtime.read(book)


@router.get("/book/{symbol}/quotes", operation_id="listLevelQuotes", response_model=LevelQuotes)
async def list_level_quotes(
    market_id: MarketId,
    symbol: str,
    who: CurrentPrincipal,
    runtime: Runtime,
    side: Annotated[Literal["buy", "sell"], Query()],
    price_fen: Annotated[int, Query(ge=1, le=2**63 - 1)],
) -> dict[str, Any]:
    """The quotes resting at one price level (L3, without their accounts), in time priority,
    with the level's rank and the rule set's point-select rules: what a taker chooses from
    (``takeQuote``). ``own`` marks the caller's own quotes."""
    mine = who.account_id

    def level(market: Market) -> dict[str, Any]:
        listed_symbol(market, symbol)
        rules = market.instruments[symbol].book_rules
        quotes_side = Side(side)
        engine = market.engine
        return {
            "symbol": symbol,
            "side": quotes_side,
            "price_fen": price_fen,
            "level": engine.level_rank(symbol, quotes_side, price_fen),
            "matching": rules.matching.value,
            "take_levels": rules.take_levels if rules.takes else 0,
            "strict_price_priority": rules.strict_price_priority,
            "quotes": [
                {"order_id": q.order_id, "qty_t": q.leaves_t, "own": q.account_id == mine}
                for q in engine.queue(symbol, quotes_side, price_fen)
            ],
        }

    return await runtime.read(level)


@router.get("/trades", operation_id="listTrades", response_model=Trades)
async def list_trades(
    market_id: MarketId,
    who: CurrentPrincipal,
    runtime: Runtime,  # an unknown market is a 404
    hub: HubDep,
    symbol: SymbolQuery = None,
    limit: Limit = TRADES_LIMIT,
) -> dict[str, Any]:
    """The public trade tape, most recent first (from the journal: it survives restarts):
    listed trades (``mode`` listed) and block deals (``mode`` block, no aggressor)."""
    return {"trades": await trade_tape(hub.engine, market_id, symbol, limit)}


@router.get("/instruments", operation_id="listInstruments", response_model=Instruments)
async def list_instruments(
    market_id: MarketId, who: CurrentPrincipal, runtime: Runtime, hub: HubDep
) -> dict[str, Any]:
    """Every listed instrument: its rules (tick, lot, order limits, today's band), state,
    last price, today's open/high/low/volume and best bid and ask."""
    last = await last_trades(hub.engine, runtime)
    return await runtime.read(
        lambda market: {
            "instruments": [instrument_view(market, s, last) for s in market.instruments]
        }
    )


@router.get("/quotes/{symbol}", operation_id="getQuote", response_model=Quote)
async def get_quote(
    market_id: MarketId, symbol: SymbolPath, who: CurrentPrincipal, runtime: Runtime, hub: HubDep
) -> dict[str, Any]:
    """Best bid and ask with their quantities, the last trade, today's OHLC and volume."""
    listed_symbol(runtime.market, symbol)
    last = await last_trades(hub.engine, runtime)
    return await runtime.read(lambda market: quote(market, symbol, last))


@router.get("/bars/{symbol}", operation_id="getBars", response_model=Bars)
async def get_bars(
    market_id: MarketId,
    symbol: SymbolPath,
    who: CurrentPrincipal,
    runtime: Runtime,
    hub: HubDep,
    interval: Literal["1m", "5m", "15m", "1h", "1d"],
    limit: Annotated[int, Query(ge=1, le=BARS_LIMIT_MAX)] = BARS_LIMIT,
    start_ns: TsNs = None,
    end_ns: TsNs = None,
) -> dict[str, Any]:
    """OHLCV bars of the trades in market time ``[start_ns, end_ns)``: the latest ``limit``
    bars, oldest first. Bars follow the market's local clock (``1d``: local midnight). A
    ``1d`` bar of a day that has ended closes at the rule's close (the VWAP of the day's listed
    trades, or the quiet day's rule), the close that sets the next day's band; other bars and
    today's close at their last trade."""
    market = runtime.market
    listed_symbol(market, symbol)
    if start_ns is not None and end_ns is not None and start_ns >= end_ns:
        msg = "start_ns must be before end_ns"
        errors = [{"loc": ["query", "end_ns"], "msg": msg, "type": "value_error"}]
        raise ApiError(422, "INVALID_REQUEST", msg, errors=errors)
    timezone = market.rules.calendar.timezone
    zone = ZoneInfo(timezone)
    ticks = await recent_ticks(
        hub.engine, market_id, symbol, interval, zone, limit, start_ns, end_ns
    )
    made = bar_math.bars(ticks, interval, zone)
    if interval == "1d":  # a cleared day's bar closes at the rule's close, not the last trade
        days = [bar_math.bar_day(bar, zone).isoformat() for bar in made]
        closes = await day_closes(hub.engine, market_id, symbol, days)
        made = [
            dataclasses.replace(bar, close_fen=closes[day]) if day in closes else bar
            for bar, day in zip(made, days, strict=True)
        ]
    found = [dataclasses.asdict(bar) for bar in made]
    return {"symbol": symbol, "interval": interval, "timezone": timezone, "bars": found}


@router.get("/bulletin", operation_id="getDailyBulletin", response_model=DailyBulletin)
async def get_daily_bulletin(
    market_id: MarketId,
    who: CurrentPrincipal,
    runtime: Runtime,
    hub: HubDep,
    day: Annotated[dt.date | None, Query()] = None,
) -> dict[str, Any]:
    """The exchange's daily statistics (每日成交信息) of ``day`` (default: the last cleared
    trading day): per instrument the listed trades' open, high, low and close (the rule's,
    once the day is cleared), volume and turnover; the block deals' volume and turnover apart
    (no block price); both together; and the totals."""
    if day is None:
        last = await last_cleared_day(hub.engine, market_id)
        if last is None:
            raise ApiError(404, "NO_CLEARED_DAY", "no trading day has been cleared yet")
        day = dt.date.fromisoformat(last)
    # Market time is int64 ns since 1970: a day outside it traded nothing (an empty range).
    calendar = runtime.market.rules.calendar
    start_ns, end_ns = (
        min(max(calendar.ts_ns(d, dt.time()), 0), 2**63 - 1)
        for d in (day, min(day, dt.date.max - dt.timedelta(days=1)) + dt.timedelta(days=1))
    )
    symbols = list(runtime.market.instruments)
    found = await daily_bulletin(hub.engine, market_id, day.isoformat(), start_ns, end_ns, symbols)
    return {"market_id": market_id, **found}
