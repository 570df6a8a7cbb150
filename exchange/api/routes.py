"""The ``/v1`` router and its market operations (and ``/healthz``), each with a stable
operation id: participants and keys, the book, balances, the trade tape, halts, deposits and
withdrawals. ``v1`` also carries the order operations (``exchange.api.order_routes``); the
registry, markets and clock have routers of their own.

Reads come from the market's in-memory state, in the event loop the sequencer runs in: a read
sees every command applied so far, including any whose batch is still being committed (the
command's own caller is answered only once it is durable).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy import select

from exchange.api import order_routes
from exchange.api.auth import CurrentPrincipal, may_see_account
from exchange.api.cash import CashCommand, move_cash
from exchange.api.common import (
    PROBLEMS,
    TRADES_LIMIT,
    AccountPath,
    Limit,
    MarketId,
    SymbolQuery,
    cash_view,
    created,
    known_account,
    listed_symbol,
    operator_runtime,
    runtime_of,
)
from exchange.api.errors import ApiError, accepted, refusal
from exchange.api.hub import hub_of
from exchange.api.models import (
    Balances,
    Book,
    CashMoved,
    CashMovement,
    HaltRequest,
    Health,
    KeyIssued,
    KeyRevoked,
    NewKey,
    NewParticipant,
    NewParticipantReply,
    ResumeRequest,
    Trades,
    TradingStates,
)
from exchange.db import tables as t
from exchange.db.keys import create_key, revoke_key
from exchange.keys import Principal, Role, key_id_of
from exchange.runtime import Ack
from registry_sim.model import Account, AccountId, AccountKind, HoldingState
from registry_sim.ops import IssueAllowances, OpenAccount
from settlement.commands import (
    Deposit,
    Halt,
    MarketCommand,
    RegistryCommand,
    Resume,
    Withdraw,
)
from settlement.market import TRADING_KINDS, Market

BOOK_LEVELS = 5

health = APIRouter()
router = APIRouter(prefix="/v1", responses=PROBLEMS)

KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")]  # the first 12 hex digits of its hash


@health.get("/healthz", operation_id="health", response_model=Health)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.post(
    "/markets/{market_id}/participants",
    operation_id="createParticipant",
    status_code=201,
    response_model=NewParticipantReply,
)
async def create_participant(
    request: Request, market_id: MarketId, body: NewParticipant, who: CurrentPrincipal
) -> dict[str, Any]:
    runtime = operator_runtime(request, market_id, who)
    account_id = AccountId(body.account_id)
    exists = ApiError(409, "ACCOUNT_EXISTS", "the account is open already", account_id=account_id)
    if runtime.market.registry.account(account_id) is not None:
        raise exists
    account = Account(account_id, AccountKind(body.kind), body.name, province=body.province)
    opened = accepted(
        await runtime.submit(RegistryCommand(0, OpenAccount(f"open:{account_id}", account)))
    )
    if opened.outcome.repeated:  # a concurrent request opened it first
        raise exists
    funding: list[MarketCommand] = []
    if body.cash_fen:
        funding.append(Deposit(0, account_id, body.cash_fen, f"initial:{account_id}"))
    for grant in body.allowances:
        op_id = f"issue:{account_id}:{grant.vintage}:{len(funding)}"
        funding.append(
            RegistryCommand(0, IssueAllowances(op_id, account_id, grant.vintage, grant.qty_t))
        )
    for ack in await runtime.submit_many(funding):
        accepted(ack)
    key = await create_key(hub_of(request).engine, market_id, Role.PARTICIPANT, account_id)
    return {"account_id": account_id, "api_key": key}


@router.post(
    "/markets/{market_id}/keys", operation_id="issueKey", status_code=201, response_model=KeyIssued
)
async def issue_key(
    request: Request, market_id: MarketId, body: NewKey, who: CurrentPrincipal
) -> dict[str, Any]:
    """Mint a key for the market (operators only). A participant key names an open trading
    account; the key is shown once, its ``key_id`` names it for ``revokeKey``."""
    market = operator_runtime(request, market_id, who).market
    if body.account_id is not None:
        account = market.registry.account(AccountId(body.account_id))
        if account is None:
            raise refusal("UNKNOWN_ACCOUNT", {"account_id": body.account_id})
        if account.kind not in TRADING_KINDS:
            details = {"account_id": body.account_id, "kind": account.kind.value}
            raise refusal("NOT_A_TRADING_ACCOUNT", details)
    engine = hub_of(request).engine
    key = await create_key(engine, market_id, Role(body.role), body.account_id)
    return {
        "key_id": key_id_of(key),
        "api_key": key,
        "role": body.role,
        "account_id": body.account_id,
    }


@router.delete(
    "/markets/{market_id}/keys/{key_id}", operation_id="revokeKey", response_model=KeyRevoked
)
async def revoke(
    request: Request, market_id: MarketId, key_id: KeyId, who: CurrentPrincipal
) -> dict[str, Any]:
    """Revoke one of the market's keys (operators only): from now on it is answered 401."""
    operator_runtime(request, market_id, who)  # an unknown market is a 404
    if not await revoke_key(hub_of(request).engine, market_id, key_id):
        raise ApiError(404, "UNKNOWN_KEY", f"no key {key_id!r} in this market", key_id=key_id)
    request.app.state.limiter.forget(key_id)
    return {"key_id": key_id, "revoked": True}


@router.get("/markets/{market_id}/book/{symbol}", operation_id="getBook", response_model=Book)
async def get_book(
    request: Request,
    market_id: MarketId,
    symbol: str,
    who: CurrentPrincipal,
    depth: Annotated[int, Query(ge=1, le=200)] = BOOK_LEVELS,
) -> dict[str, Any]:
    """L2: the best ``depth`` price levels a side (5 unless asked), best first, with the
    instrument's state, reference price and band."""
    market = runtime_of(request, market_id).market
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


@router.get(
    "/markets/{market_id}/accounts/{account_id}/balances",
    operation_id="getBalances",
    response_model=Balances,
)
async def get_balances(
    request: Request, market_id: MarketId, account_id: str, who: CurrentPrincipal
) -> dict[str, Any]:
    may_see_account(who, account_id)
    market = runtime_of(request, market_id).market
    account = known_account(market, account_id)
    holdings = [
        {
            "unit": unit,
            **{f"{state.value}_t": by_state.get(state, 0) for state in HoldingState},
            "sellable_t": market.sellable_t(account, unit),
        }
        for unit, by_state in sorted(market.registry.holdings(account).items())
    ]
    return {
        "account_id": account_id,
        "cash": cash_view(market, account),
        "holdings": holdings,
    }


@router.get("/markets/{market_id}/trades", operation_id="listTrades", response_model=Trades)
async def list_trades(
    request: Request,
    market_id: MarketId,
    who: CurrentPrincipal,
    symbol: SymbolQuery = None,
    limit: Limit = TRADES_LIMIT,
) -> dict[str, Any]:
    """The public trade tape, most recent first (from the journal: it survives restarts)."""
    runtime_of(request, market_id)
    c = t.market_trades.c
    query = select(c.trade_id, c.ts_ns, c.symbol, c.price_fen, c.qty_t, c.aggressor).where(
        c.market_id == market_id
    )
    if symbol is not None:
        query = query.where(c.symbol == symbol)
    query = query.order_by(c.trade_id.desc()).limit(limit)
    async with hub_of(request).engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return {"trades": [row._asdict() for row in rows]}


def _states(market: Market, ack: Ack, symbol: str | None) -> dict[str, Any]:
    symbols = sorted(market.instruments) if symbol is None else [symbol]
    books = [{"symbol": s, "state": market.engine.book_info(s).state} for s in symbols]
    return {"seq": ack.seq, "books": books}


@router.post("/markets/{market_id}/halt", operation_id="haltTrading", response_model=TradingStates)
async def halt(
    request: Request, market_id: MarketId, body: HaltRequest, who: CurrentPrincipal
) -> dict[str, Any]:
    """Halt one instrument or all (operators only); ``cancel_resting`` also cancels the
    resting orders."""
    runtime = operator_runtime(request, market_id, who)
    ack = accepted(await runtime.submit(Halt(0, body.symbol, body.cancel_resting)))
    return _states(runtime.market, ack, body.symbol)


@router.post(
    "/markets/{market_id}/resume", operation_id="resumeTrading", response_model=TradingStates
)
async def resume(
    request: Request, market_id: MarketId, body: ResumeRequest, who: CurrentPrincipal
) -> dict[str, Any]:
    """Resume halted instruments (operators only) in the session the market is in."""
    runtime = operator_runtime(request, market_id, who)
    ack = accepted(await runtime.submit(Resume(0, body.symbol)))
    return _states(runtime.market, ack, body.symbol)


async def _move_cash(
    request: Request,
    response: Response,
    market_id: str,
    account_id: str,
    body: CashMovement,
    who: Principal,
    command: CashCommand,
) -> dict[str, Any]:
    runtime = operator_runtime(request, market_id, who)
    account = known_account(runtime.market, account_id)
    reply, repeated = await move_cash(request, runtime, account, body, command)
    if repeated:  # once per request id: a retry answers the first reply
        response.status_code = 200
    return reply


@router.post(
    "/markets/{market_id}/accounts/{account_id}/deposits",
    operation_id="deposit",
    **created(CashMoved, "request_id"),
)
async def deposit(
    request: Request,
    response: Response,
    market_id: MarketId,
    account_id: AccountPath,
    body: CashMovement,
    who: CurrentPrincipal,
) -> dict[str, Any]:
    """Bring cash into a trading account (operators only)."""
    return await _move_cash(request, response, market_id, account_id, body, who, Deposit)


@router.post(
    "/markets/{market_id}/accounts/{account_id}/withdrawals",
    operation_id="withdraw",
    **created(CashMoved, "request_id"),
)
async def withdraw(
    request: Request,
    response: Response,
    market_id: MarketId,
    account_id: AccountPath,
    body: CashMovement,
    who: CurrentPrincipal,
) -> dict[str, Any]:
    """Pay cash out of a trading account (operators only), up to what is withdrawable."""
    return await _move_cash(request, response, market_id, account_id, body, who, Withdraw)


# What the app includes: the order operations, then these. Each leaf router carries the
# ``/v1`` prefix itself, so a route's own path (the access log's) is the full template. Routes
# are matched in order, one pattern after another: order entry, the busiest, comes first.
v1 = APIRouter()
v1.include_router(order_routes.router)
v1.include_router(router)
