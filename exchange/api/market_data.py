"""Market data from a market's in-memory state: the market's description, each instrument's
view and quote.

The book, the band and the day's open, high, low and volume (the day book,
``settlement.clearing.DayBook``) are read in memory, like ``getBook``. The last trade price
comes from the committed trades (``exchange.db.trade_tape.LastTrades``).
"""

from __future__ import annotations

from typing import Any

from exchange.db.trade_tape import LastTrades
from exchange.runtime import MarketRuntime
from registry_sim.model import UnitKind
from settlement.market import Market

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
    """``InstrumentView``: the instrument's display name, rules, prices and best bid and ask."""
    info = market.engine.book_info(symbol)
    bbo = market.engine.best_bid_offer(symbol)
    return {
        **_prices(market, symbol, last),
        "name": market.registry.unit_name(symbol),
        "unit_kind": unit_kind(symbol),
        "tick_fen": info.tick_fen,
        "lot_t": info.lot_t,
        "min_qty_t": info.min_qty_t,
        "max_qty_t": info.max_qty_t,
        "bid_price_fen": bbo.bid_price_fen,
        "ask_price_fen": bbo.ask_price_fen,
    }


def quote(market: Market, symbol: str, last: LastTrades) -> dict[str, Any]:
    """``Quote``: the instrument's prices, best bid and ask with quantities, the last trade.
    ``close_fen``: once the day has ended (day-end clearing), the rule's close, which is the
    reference price it set for the next day (national: the VWAP of the day's listed trades,
    else the previous close); before, the day's last trade so far."""
    prices = _prices(market, symbol, last)
    kept = last.by_symbol.get(symbol)
    traded_today = prices["open_fen"] is not None
    if market.trading_day is not None and market.day_cleared:
        close = prices["reference_price_fen"]
    else:
        close = kept[1] if traded_today and kept is not None else None
    return {
        **prices,
        "trading_day": market.trading_day,
        **market.engine.best_bid_offer(symbol)._asdict(),
        "last_ts_ns": None if kept is None else kept[2],
        "close_fen": close,
    }
