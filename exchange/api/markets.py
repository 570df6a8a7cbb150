"""Markets and their market data: ``createMarket``, ``listMarkets``, ``getMarket``,
``listInstruments``, ``getQuote``, ``getBars``.

A market is created from a ``MarketSpec`` (a shipped rule set, per-market overrides, the listed
instruments and their first reference prices); only an exchange-wide operator key (market
``*``) may create one. ``create_market`` is the hook a scenario uses too. What the reads answer
is ``exchange.api.market_data``'s.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Query, Request

from exchange import bars as bar_math
from exchange.api.auth import CurrentPrincipal, require_exchange_operator
from exchange.api.common import (
    PROBLEMS,
    MarketId,
    SymbolPath,
    accepted,
    hub_of,
    listed_symbol,
    not_a_trading_day,
)
from exchange.api.errors import ApiError
from exchange.api.market_data import describe, instrument_view, quote
from exchange.api.market_models import Bars, Instruments, Markets, MarketView, NewMarket, Quote
from exchange.db.trade_tape import last_trades, recent_ticks
from exchange.runtime import MarketRuntime
from exchange.sessions import opening
from matching.instruments import RuleDataError, instrument_from_rules
from registry_sim.rules import RuleSet, RuleSetError, load_rules
from registry_sim.rulesets import available_rulesets
from settlement.market import Market
from settlement.spec import MarketSpec

if TYPE_CHECKING:
    from exchange.api.app import Hub

router = APIRouter(prefix="/v1", responses=PROBLEMS)

TsNs = Annotated[int | None, Query(ge=0, le=2**63 - 1)]
BARS_LIMIT, BARS_LIMIT_MAX = 200, 1000

# Overrides come as JSON; a rule set is TOML data. Dates arrive as ISO text.
MAX_OVERRIDE_DEPTH = 8
MAX_OVERRIDE_VALUES = 1000
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# ---------------------------------------------------------------------- creating a market


def _invalid_rules(rule_set: str, path: str, reason: str) -> ApiError:
    return ApiError(
        422,
        "INVALID_RULES",
        f"rule set {rule_set!r} with these overrides: {path}: {reason}",
        rule_set=rule_set,
        path=path,
        reason=reason,
    )


def rule_data(value: Any, rule_set: str, path: str = "overrides", depth: int = 0) -> Any:
    """JSON overrides as rule set data: ISO date text becomes a date (as in TOML); a number
    that is not whole is refused here, since no rule takes one and the journal stores none."""
    if depth > MAX_OVERRIDE_DEPTH:
        raise _invalid_rules(rule_set, path, f"nested deeper than {MAX_OVERRIDE_DEPTH}")
    if isinstance(value, Mapping):
        return {k: rule_data(v, rule_set, f"{path}.{k}", depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [rule_data(v, rule_set, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
    if isinstance(value, str) and ISO_DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise _invalid_rules(rule_set, path, f"not a date: {value!r}") from None
    if value is None or isinstance(value, bool | int | str):
        return value
    raise _invalid_rules(rule_set, path, f"expected a whole number, text or true/false: {value!r}")


def _count_values(value: Any) -> int:
    if isinstance(value, Mapping):
        return 1 + sum(_count_values(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(_count_values(v) for v in value)
    return 1


def _data_error(error: RuleDataError) -> tuple[str, str]:
    """(path, reason) of matching's rule data error, whose message is ``path: reason``."""
    path, _, reason = str(error).partition(": ")
    return path, reason


def check_spec(spec: MarketSpec) -> RuleSet:
    """The spec's rule set, validated with its overrides and instruments, or the problem:
    ``UNKNOWN_RULE_SET``, ``INVALID_RULES`` (the field path and the reason), or
    ``INVALID_REQUEST`` for a reference price off the tick."""
    name = spec.rules
    if name not in available_rulesets():
        raise ApiError(
            422,
            "UNKNOWN_RULE_SET",
            f"no rule set {name!r} ships with carbonx",
            rule_set=name,
            available=available_rulesets(),
        )
    try:
        rules = load_rules(name, spec.overrides)
        instrument = instrument_from_rules("check", rules.trading)
    except RuleSetError as error:
        raise _invalid_rules(name, error.path, error.reason) from None
    except RuleDataError as error:
        raise _invalid_rules(name, *_data_error(error)) from None
    try:
        ZoneInfo(rules.calendar.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        reason = f"unknown time zone {rules.calendar.timezone!r}"
        raise _invalid_rules(name, "timezone", reason) from None
    for i, (symbol, price_fen) in enumerate(spec.instruments):
        if price_fen % instrument.tick_fen:
            loc = ["body", "instruments", i, "reference_price_fen"]
            msg = f"{symbol}: {price_fen} is not a whole number of ticks of {instrument.tick_fen}"
            errors = [{"loc": loc, "msg": msg, "type": "off_tick"}]
            raise ApiError(422, "INVALID_REQUEST", msg, errors=errors)
    try:
        Market(spec, rules)  # everything else a market needs from its rules
    except (ValueError, TypeError, KeyError) as error:
        raise _invalid_rules(name, "", str(error)) from None
    return rules


async def create_market(
    hub: Hub, spec: MarketSpec, open_day: dt.date | None = None
) -> MarketRuntime:
    """Create a market from its spec, host it and, given ``open_day``, open that trading day
    and its continuous session: ``createMarket``'s work, and the hook for scenarios."""
    check_spec(spec)
    runtime = await hub.create(spec)
    if open_day is not None:
        for ack in await runtime.submit_many(opening(open_day)):
            accepted(ack)
    return runtime


# ---------------------------------------------------------------------- routes


@router.post("/markets", operation_id="createMarket", status_code=201, response_model=MarketView)
async def create(request: Request, body: NewMarket, who: CurrentPrincipal) -> dict[str, Any]:
    """Create a market from a shipped rule set with overrides (exchange-wide operator keys
    only); given ``open_day``, that trading day and its continuous session open at once."""
    require_exchange_operator(who)
    overrides = rule_data(body.overrides, body.rule_set)
    if _count_values(overrides) > MAX_OVERRIDE_VALUES:
        reason = f"more than {MAX_OVERRIDE_VALUES} values"
        raise _invalid_rules(body.rule_set, "overrides", reason)
    listed = tuple((i.symbol, i.reference_price_fen) for i in body.instruments)
    spec = MarketSpec(body.market_id, body.rule_set, listed, overrides)
    rules = check_spec(spec)
    if body.open_day is not None and not rules.calendar.is_trading_day(body.open_day):
        raise not_a_trading_day(body.open_day)  # as openDay answers it
    runtime = await create_market(hub_of(request), spec, body.open_day)
    return describe(runtime)


@router.get("/markets", operation_id="listMarkets", response_model=Markets)
async def list_markets(request: Request, who: CurrentPrincipal) -> dict[str, Any]:
    """The markets this process hosts that the key may read: all for an exchange-wide key,
    otherwise the key's own."""
    hosted = hub_of(request).markets
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
