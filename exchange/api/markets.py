"""Markets and their market data: ``createMarket``, ``listMarkets``, ``getMarket``,
``listInstruments``, ``getQuote``, ``getBars``.

A market is created from a ``MarketSpec`` (a shipped rule set, per-market overrides, the listed
instruments and their first reference prices); only an exchange-wide operator key (market
``*``) may create one. The spec is checked by ``exchange.api.market_specs`` and the market
created by ``Hub.create`` (``exchange.api.hub``), which a class's market goes through too. What
the reads answer is ``exchange.api.market_data``'s.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request

from exchange import bars as bar_math
from exchange.api.auth import CurrentPrincipal, require_exchange_operator
from exchange.api.common import PROBLEMS, MarketId, SymbolPath, listed_symbol
from exchange.api.errors import ApiError
from exchange.api.hub import hub_of
from exchange.api.market_data import describe, instrument_view, quote
from exchange.api.market_models import Bars, Instruments, Markets, MarketView, NewMarket, Quote
from exchange.api.market_specs import (
    MAX_OVERRIDE_VALUES,
    check_spec,
    count_values,
    invalid_rules,
    not_a_trading_day,
    rule_data,
)
from exchange.db.trade_tape import last_trades, recent_ticks
from settlement.spec import MarketSpec

router = APIRouter(prefix="/v1", responses=PROBLEMS)

TsNs = Annotated[int | None, Query(ge=0, le=2**63 - 1)]
BARS_LIMIT, BARS_LIMIT_MAX = 200, 1000

# ---------------------------------------------------------------------- routes


@router.post("/markets", operation_id="createMarket", status_code=201, response_model=MarketView)
async def create(request: Request, body: NewMarket, who: CurrentPrincipal) -> dict[str, Any]:
    """Create a market from a shipped rule set with overrides (exchange-wide operator keys
    only); given ``open_day``, that trading day and its continuous session open at once."""
    require_exchange_operator(who)
    overrides = rule_data(body.overrides, body.rule_set)
    if count_values(overrides) > MAX_OVERRIDE_VALUES:
        reason = f"more than {MAX_OVERRIDE_VALUES} values"
        raise invalid_rules(body.rule_set, "overrides", reason)
    listed = tuple((i.symbol, i.reference_price_fen) for i in body.instruments)
    spec = MarketSpec(body.market_id, body.rule_set, listed, overrides)
    rules = check_spec(spec)
    if body.open_day is not None and not rules.calendar.is_trading_day(body.open_day):
        raise not_a_trading_day(body.open_day)  # as openDay answers it
    runtime = await hub_of(request).create(spec, body.open_day)
    return describe(runtime)


@router.get("/markets", operation_id="listMarkets", response_model=Markets)
async def list_markets(request: Request, who: CurrentPrincipal) -> dict[str, Any]:
    """The markets this process hosts that the key may read: all for an exchange-wide key,
    otherwise the key's own."""
    hosted = hub_of(request).runtimes()
    ids = sorted(hosted) if who.exchange_wide else [m for m in [who.market_id] if m in hosted]
    return {"markets": [describe(hosted[m]) for m in ids]}


@router.get("/markets/{market_id}", operation_id="getMarket", response_model=MarketView)
async def get_market(
    request: Request, market_id: MarketId, who: CurrentPrincipal
) -> dict[str, Any]:
    """The market: its rule set, trading day, session and instruments."""
    return describe(hub_of(request).runtime(market_id))


@router.get(
    "/markets/{market_id}/instruments", operation_id="listInstruments", response_model=Instruments
)
async def list_instruments(
    request: Request, market_id: MarketId, who: CurrentPrincipal
) -> dict[str, Any]:
    """Every listed instrument: its rules (tick, lot, order limits, today's band), state,
    last price, today's open/high/low/volume and best bid and ask."""
    hub = hub_of(request)
    runtime = hub.runtime(market_id)
    last = await last_trades(hub.engine, runtime)
    market = runtime.market
    return {"instruments": [instrument_view(market, s, last) for s in market.instruments]}


@router.get("/markets/{market_id}/quotes/{symbol}", operation_id="getQuote", response_model=Quote)
async def get_quote(
    request: Request, market_id: MarketId, symbol: SymbolPath, who: CurrentPrincipal
) -> dict[str, Any]:
    """Best bid and ask with their quantities, the last trade, today's OHLC and volume."""
    hub = hub_of(request)
    runtime = hub.runtime(market_id)
    listed_symbol(runtime.market, symbol)
    return quote(runtime.market, symbol, await last_trades(hub.engine, runtime))


@router.get("/markets/{market_id}/bars/{symbol}", operation_id="getBars", response_model=Bars)
async def get_bars(
    request: Request,
    market_id: MarketId,
    symbol: SymbolPath,
    who: CurrentPrincipal,
    interval: Literal["1m", "5m", "15m", "1h", "1d"],
    limit: Annotated[int, Query(ge=1, le=BARS_LIMIT_MAX)] = BARS_LIMIT,
    start_ns: TsNs = None,
    end_ns: TsNs = None,
) -> dict[str, Any]:
    """OHLCV bars of the trades in market time ``[start_ns, end_ns)``: the latest ``limit``
    bars, oldest first. Bars follow the market's local clock (``1d``: local midnight)."""
    hub = hub_of(request)
    market = hub.runtime(market_id).market
    listed_symbol(market, symbol)
    if start_ns is not None and end_ns is not None and start_ns >= end_ns:
        msg = "start_ns must be before end_ns"
        errors = [{"loc": ["query", "end_ns"], "msg": msg, "type": "value_error"}]
        raise ApiError(422, "INVALID_REQUEST", msg, errors=errors)
    timezone = market.rules.calendar.timezone
    ticks = await recent_ticks(
        hub.engine, market_id, symbol, interval, ZoneInfo(timezone), limit, start_ns, end_ns
    )
    found = [dataclasses.asdict(bar) for bar in bar_math.bars(ticks, interval, ZoneInfo(timezone))]
    return {"symbol": symbol, "interval": interval, "timezone": timezone, "bars": found}
