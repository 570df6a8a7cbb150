"""The markets' and market data's request bodies and replies (``exchange.api.routes.markets``,
``exchange.api.routes.market_data``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import Field, field_validator

from exchange.api.models import Body, Fen, Reply, UnitName
from matching.types import TradingState
from registry_sim.model import UnitKind


class InstrumentListing(Body):
    """An instrument to list: a registry unit code and its first reference price."""

    symbol: Annotated[
        str, Field(pattern=r"^(CEA\d{4}|(CCER|PHCER):[A-Za-z0-9][A-Za-z0-9_.-]{0,62}:\d{4})$")
    ]
    reference_price_fen: Fen


class NewMarket(Body):
    market_id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    rule_set: Annotated[str, Field(min_length=1, max_length=64)]
    overrides: dict[str, Any] = Field(default_factory=dict)  # deep-merged into the rule set
    instruments: list[InstrumentListing] = Field(min_length=1, max_length=100)
    open_day: Annotated[dt.date | None, Field(strict=False)] = None  # open it, trade at once

    @field_validator("instruments")
    @classmethod
    def _distinct(cls, instruments: list[InstrumentListing]) -> list[InstrumentListing]:
        symbols = [i.symbol for i in instruments]
        if len(set(symbols)) != len(symbols):
            raise ValueError("each symbol is listed once")
        return instruments


class MarketView(Reply):
    market_id: str
    rule_set: str
    title: str
    currency: str
    timezone: str
    overrides: dict[str, Any]
    trading_day: dt.date | None
    session: TradingState
    day_closed: bool
    instruments: list[str]
    last_seq: int


class MarketRules(Reply):
    market_id: str
    rule_set: str
    overrides: dict[str, Any]  # what the market changed, as getMarket shows it
    rules: dict[str, Any]  # the rule set with the overrides applied: every value in force


class Markets(Reply):
    markets: list[MarketView]


class InstrumentView(Reply):
    symbol: str
    name: UnitName
    unit_kind: UnitKind | None
    state: TradingState
    reference_price_fen: int
    band_lower_fen: int
    band_upper_fen: int
    tick_fen: int
    lot_t: int
    min_qty_t: int
    max_qty_t: int | None
    last_price_fen: int | None  # the last trade's, any day
    open_fen: int | None  # today's, None before today's first trade
    high_fen: int | None
    low_fen: int | None
    volume_t: int
    turnover_fen: int
    bid_price_fen: int | None
    ask_price_fen: int | None


class Instruments(Reply):
    instruments: list[InstrumentView]


class Quote(Reply):
    symbol: str
    trading_day: dt.date | None
    state: TradingState
    reference_price_fen: int
    band_lower_fen: int
    band_upper_fen: int
    bid_price_fen: int | None
    bid_qty_t: int
    ask_price_fen: int | None
    ask_qty_t: int
    last_price_fen: int | None
    last_ts_ns: int | None
    open_fen: int | None  # today's
    high_fen: int | None
    low_fen: int | None
    close_fen: int | None  # the day's last trade so far; once the day has ended, the rule's close
    volume_t: int
    turnover_fen: int


class BarView(Reply):
    start_ns: int
    end_ns: int
    open_fen: int
    high_fen: int
    low_fen: int
    close_fen: int
    volume_t: int
    turnover_fen: int
    trade_count: int


class Bars(Reply):
    symbol: str
    interval: str
    timezone: str
    bars: list[BarView]  # oldest first


class BulletinSymbol(Reply):
    """One instrument's day: listed prices, volume and turnover; block volume and turnover
    apart (the bulletin gives no block price); and both together."""

    symbol: str
    open_fen: int | None  # listed trades only
    high_fen: int | None
    low_fen: int | None
    close_fen: int | None  # the rule's close, once the day is cleared
    close_method: str | None  # vwap, open, previous
    listed_volume_t: int
    listed_turnover_fen: int
    block_volume_t: int
    block_turnover_fen: int
    volume_t: int
    turnover_fen: int


class BulletinTotals(Reply):
    listed_volume_t: int
    listed_turnover_fen: int
    block_volume_t: int
    block_turnover_fen: int
    volume_t: int
    turnover_fen: int


class DailyBulletin(Reply):
    """The exchange's daily statistics (每日成交信息) of one trading day."""

    market_id: str
    trading_day: str
    cleared: bool  # the day's close is made (day-end clearing)
    symbols: list[BulletinSymbol]
    totals: BulletinTotals
