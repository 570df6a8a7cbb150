"""The markets, market data, clock and session operations (``exchange.api.routes.markets``,
``exchange.api.routes.clock``), as ``Call`` builders for both clients."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from exchange.client.market_types import (
    Bars,
    ClockAdvanced,
    ClockView,
    DailyBulletin,
    InstrumentListing,
    Instruments,
    MarketRules,
    Markets,
    MarketView,
    Quote,
    SessionStepped,
)
from exchange.client.operation import OperationsBase, fields, operation, segment
from exchange.client.transport import Call
from exchange.client.types import BarInterval

Json = dict[str, Any]

ClockMode = Literal["realtime", "accelerated", "stepped"]


class MarketOperations(OperationsBase):
    # -- markets

    @operation("createMarket")
    def create_market(
        self,
        market_id: str,
        rule_set: str,
        instruments: list[InstrumentListing],
        *,
        overrides: dict[str, Any] | None = None,
        open_day: dt.date | None = None,
    ) -> Call[MarketView]:
        """Create and open a market (operators): ``instruments`` are
        ``{"symbol", "reference_price_fen"}``, ``overrides`` change the rule set's numbers."""
        body = fields(
            market_id=market_id,
            rule_set=rule_set,
            instruments=instruments,
            overrides=overrides,
            open_day=None if open_day is None else open_day.isoformat(),
        )
        return Call("POST", "/v1/markets", body=body)

    @operation("getSession")
    def get_session(self) -> Call[Json]:
        """Who the client's key is: its market (None for an exchange-wide key), role,
        account and key id; a revoked key is refused ``KEY_REVOKED``."""
        return Call("GET", "/v1/session")

    @operation("getPublicAddress")
    def get_public_address(self) -> Call[Json]:
        """The address trainees reach the server at, for login cards (operators): the public
        URL if set, what the server listens on and the addresses it could offer."""
        return Call("GET", "/v1/public-address")

    @operation("listMarkets")
    def list_markets(self) -> Call[Markets]:
        """The markets this process hosts (that the key may see)."""
        return Call("GET", "/v1/markets")

    @operation("getMarket")
    def get_market(self) -> Call[MarketView]:
        """The client's market: rule set, trading day, session, instruments."""
        return Call("GET", self._market())

    @operation("getMarketRules")
    def get_market_rules(self) -> Call[MarketRules]:
        """The rules the client's market runs by: its rule set with the overrides applied."""
        return Call("GET", self._market("/rules"))

    # -- market data

    @operation("listInstruments")
    def list_instruments(self) -> Call[Instruments]:
        """Every instrument with its band, tick, lot and today's prices."""
        return Call("GET", self._market("/instruments"))

    @operation("getQuote")
    def get_quote(self, symbol: str) -> Call[Quote]:
        """Best bid and ask, last price and the day's OHLCV of one instrument."""
        return Call("GET", self._market(f"/quotes/{segment(symbol)}"))

    @operation("getBars")
    def get_bars(
        self,
        symbol: str,
        interval: BarInterval,
        *,
        limit: int | None = None,
        start_ns: int | None = None,
        end_ns: int | None = None,
    ) -> Call[Bars]:
        """OHLCV bars of ``interval`` (market time, ns since the epoch)."""
        params = fields(interval=interval, limit=limit, start_ns=start_ns, end_ns=end_ns)
        return Call("GET", self._market(f"/bars/{segment(symbol)}"), params=params)

    @operation("getDailyBulletin")
    def get_daily_bulletin(self, day: dt.date | None = None) -> Call[DailyBulletin]:
        """The daily statistics of ``day`` (default: the last cleared trading day): per
        instrument listed open/high/low/close, volume and turnover, block volume and turnover
        apart, and the totals."""
        params = fields(day=None if day is None else day.isoformat())
        return Call("GET", self._market("/bulletin"), params=params)

    # -- the clock (operators)

    @operation("getClock")
    def get_clock(self) -> Call[ClockView]:
        """The market clock: mode, speed, market time and the next scheduled event."""
        return Call("GET", self._market("/clock"))

    @operation("startClock")
    def start_clock(
        self, mode: ClockMode, *, speed: float | None = None, start_ns: int | None = None
    ) -> Call[ClockView]:
        """Start the market clock in ``mode`` (``speed`` for accelerated time)."""
        body = fields(mode=mode, speed=speed, start_ns=start_ns)
        return Call("POST", self._market("/clock/start"), body=body)

    @operation("stopClock")
    def stop_clock(self) -> Call[ClockView]:
        return Call("POST", self._market("/clock/stop"))

    @operation("pauseClock")
    def pause_clock(self) -> Call[ClockView]:
        return Call("POST", self._market("/clock/pause"))

    @operation("resumeClock")
    def resume_clock(self) -> Call[ClockView]:
        return Call("POST", self._market("/clock/resume"))

    @operation("setClockSpeed")
    def set_clock_speed(self, speed: float) -> Call[ClockView]:
        """Market seconds per wall second, for an accelerated clock."""
        return Call("POST", self._market("/clock/speed"), body={"speed": speed})

    @operation("advanceClock")
    def advance_clock(self, to: int | Literal["next_event"] | None = None) -> Call[ClockAdvanced]:
        """Step a stepped clock to market time ``to`` (ns) or to its next event."""
        return Call("POST", self._market("/clock/advance"), body=fields(to=to))

    # -- the trading day (operators)

    @operation("openDay")
    def open_day(self, trading_day: dt.date | None = None) -> Call[SessionStepped]:
        """Open a trading day (default: the calendar's next)."""
        day = None if trading_day is None else trading_day.isoformat()
        return Call("POST", self._market("/session/open-day"), body=fields(trading_day=day))

    @operation("setSession")
    def set_session(self, state: Literal["continuous", "break"]) -> Call[SessionStepped]:
        """Move the open day into continuous trading or a break."""
        return Call("POST", self._market("/session"), body={"state": state})

    @operation("closeDay")
    def close_day(self) -> Call[SessionStepped]:
        return Call("POST", self._market("/session/close-day"))

    @operation("endOfDay")
    def end_of_day(self) -> Call[SessionStepped]:
        """Day-end clearing of a closed day."""
        return Call("POST", self._market("/session/end-of-day"))
