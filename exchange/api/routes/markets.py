"""Markets: ``createMarket``, ``listMarkets``, ``getMarket``, the rules a market runs by
(``getMarketRules``), and halting and resuming trading
(``haltTrading``, ``resumeTrading``; operators).

A market is created from a ``MarketSpec`` (a shipped rule set, per-market overrides, the listed
instruments and their first reference prices); only an exchange-wide operator key (market
``*``) may create one. The spec is checked by ``exchange.api.market_specs`` and the market
created by ``Hub.create`` (``exchange.api.hub``), which a class's market goes through too. A
market's data has its own routes (``exchange.api.routes.market_data``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from exchange.api.auth import require_exchange_operator
from exchange.api.common import PROBLEMS
from exchange.api.deps import (
    CurrentPrincipal,
    HubDep,
    MarketId,
    OperatorRuntime,
    Runtime,
)
from exchange.api.errors import accepted
from exchange.api.market_data import describe
from exchange.api.market_models import MarketRules, Markets, MarketView, NewMarket
from exchange.api.market_specs import (
    MAX_OVERRIDE_VALUES,
    check_spec,
    count_values,
    effective_rules,
    invalid_rules,
    not_a_trading_day,
    rule_data,
    rule_json,
)
from exchange.api.models import HaltRequest, ResumeRequest, TradingStates
from exchange.runtime import Ack
from settlement.commands import Halt, Resume
from settlement.market import Market
from settlement.spec import MarketSpec

router = APIRouter(prefix="/v1/markets", tags=["markets"], responses=PROBLEMS)


@router.post("", operation_id="createMarket", status_code=201, response_model=MarketView)
async def create(hub: HubDep, body: NewMarket, who: CurrentPrincipal) -> dict[str, Any]:
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
    runtime = await hub.create(spec, body.open_day)
    return describe(runtime)


@router.get("", operation_id="listMarkets", response_model=Markets)
async def list_markets(hub: HubDep, who: CurrentPrincipal) -> dict[str, Any]:
    """The markets this process hosts that the key may read: all for an exchange-wide key,
    otherwise the key's own."""
    hosted = hub.runtimes()
    ids = sorted(hosted) if who.exchange_wide else [m for m in [who.market_id] if m in hosted]
    return {"markets": [describe(hosted[m]) for m in ids]}


@router.get("/{market_id}", operation_id="getMarket", response_model=MarketView)
async def get_market(
    market_id: MarketId, who: CurrentPrincipal, runtime: Runtime
) -> dict[str, Any]:
    """The market: its rule set, trading day, session and instruments."""
    return await runtime.read(lambda _market: describe(runtime))


@router.get("/{market_id}/rules", operation_id="getMarketRules", response_model=MarketRules)
async def get_market_rules(
    market_id: MarketId, who: CurrentPrincipal, runtime: Runtime
) -> dict[str, Any]:
    """The rules the market runs by: its rule set with its overrides applied (every value,
    dates as ISO text), beside the overrides alone."""
    spec = runtime.market.spec
    return {
        "market_id": runtime.market_id,
        "rule_set": spec.rules,
        "overrides": rule_json(spec.overrides),
        "rules": effective_rules(spec),
    }


def _states(market: Market, ack: Ack, symbol: str | None) -> dict[str, Any]:
    symbols = sorted(market.instruments) if symbol is None else [symbol]
    books = [{"symbol": s, "state": market.engine.book_info(s).state} for s in symbols]
    return {"seq": ack.seq, "books": books}


@router.post("/{market_id}/halt", operation_id="haltTrading", response_model=TradingStates)
async def halt(
    market_id: MarketId, body: HaltRequest, who: CurrentPrincipal, runtime: OperatorRuntime
) -> dict[str, Any]:
    """Halt one instrument or all (operators only); ``cancel_resting`` also cancels the
    resting orders."""
    ack = accepted(await runtime.submit(Halt(0, body.symbol, body.cancel_resting)))
    return await runtime.read(lambda market: _states(market, ack, body.symbol))


@router.post("/{market_id}/resume", operation_id="resumeTrading", response_model=TradingStates)
async def resume(
    market_id: MarketId, body: ResumeRequest, who: CurrentPrincipal, runtime: OperatorRuntime
) -> dict[str, Any]:
    """Resume halted instruments (operators only) in the session the market is in."""
    ack = accepted(await runtime.submit(Resume(0, body.symbol)))
    return await runtime.read(lambda market: _states(market, ack, body.symbol))
