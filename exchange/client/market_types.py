"""What the market, market-data, clock and session operations answer (``listMarkets``,
``getQuote``, ``getBars``, ``getClock``, ``openDay``, ...), as TypedDicts like ``types``.

Enumerations (trading state, clock mode) are their string values.
"""

from __future__ import annotations

from typing import Any, TypedDict


class InstrumentListing(TypedDict):
    """An instrument to list (``createMarket``): a unit code and its first reference price."""

    symbol: str
    reference_price_fen: int


class MarketView(TypedDict):
    market_id: str
    rule_set: str
    title: str
    currency: str
    timezone: str
    overrides: dict[str, Any]
    trading_day: str | None
    session: str
    day_closed: bool
    instruments: list[str]
    last_seq: int


class MarketRules(TypedDict):
    market_id: str
    rule_set: str
    overrides: dict[str, Any]
    rules: dict[str, Any]  # the rule set with the overrides applied (dates as ISO text)


class Markets(TypedDict):
    markets: list[MarketView]


class InstrumentView(TypedDict):
    symbol: str
    name: dict[str, str]  # language → display name
    unit_kind: str | None
    state: str
    reference_price_fen: int
    band_lower_fen: int
    band_upper_fen: int
    tick_fen: int
    lot_t: int
    min_qty_t: int
    max_qty_t: int | None
    last_price_fen: int | None
    open_fen: int | None
    high_fen: int | None
    low_fen: int | None
    volume_t: int
    turnover_fen: int
    bid_price_fen: int | None
    ask_price_fen: int | None


class Instruments(TypedDict):
    instruments: list[InstrumentView]


class Quote(TypedDict):
    symbol: str
    trading_day: str | None
    state: str
    reference_price_fen: int
    band_lower_fen: int
    band_upper_fen: int
    bid_price_fen: int | None
    bid_qty_t: int
    ask_price_fen: int | None
    ask_qty_t: int
    last_price_fen: int | None
    last_ts_ns: int | None
    open_fen: int | None
    high_fen: int | None
    low_fen: int | None
    close_fen: int | None
    volume_t: int
    turnover_fen: int


class BarView(TypedDict):
    start_ns: int
    end_ns: int
    open_fen: int
    high_fen: int
    low_fen: int
    close_fen: int
    volume_t: int
    turnover_fen: int
    trade_count: int


class Bars(TypedDict):
    symbol: str
    interval: str
    timezone: str
    bars: list[BarView]


class ClockEventView(TypedDict):
    action: str
    ts_ns: int
    at: str
    trading_day: str


class ClockView(TypedDict):
    market_id: str
    running: bool
    mode: str | None
    speed: float | None
    paused: bool
    now_ns: int
    now: str
    timezone: str
    trading_day: str | None
    session: str
    day_closed: bool
    day_cleared: bool
    next_event: ClockEventView | None


class ClockAdvanced(TypedDict):
    applied: list[ClockEventView]
    clock: ClockView


class SessionStepped(TypedDict):
    seq: int
    clock: ClockView


class BulletinSymbol(TypedDict):
    symbol: str
    open_fen: int | None  # listed trades only
    high_fen: int | None
    low_fen: int | None
    close_fen: int | None  # the rule's close, once the day is cleared
    close_method: str | None
    listed_volume_t: int
    listed_turnover_fen: int
    block_volume_t: int
    block_turnover_fen: int
    volume_t: int
    turnover_fen: int


class BulletinTotals(TypedDict):
    listed_volume_t: int
    listed_turnover_fen: int
    block_volume_t: int
    block_turnover_fen: int
    volume_t: int
    turnover_fen: int


class DailyBulletin(TypedDict):
    market_id: str
    trading_day: str
    cleared: bool
    symbols: list[BulletinSymbol]
    totals: BulletinTotals
