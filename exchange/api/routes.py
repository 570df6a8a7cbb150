"""The REST endpoints under ``/v1`` (and ``/healthz``), each with a stable operation id.

Reads come from the market's in-memory state, in the event loop the sequencer runs in: a read
sees every command applied so far, including any whose batch is still being committed (the
command's own caller is answered only once it is durable).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from exchange.api.auth import (
    CurrentPrincipal,
    Role,
    create_key,
    key_id_of,
    may_see_account,
    require,
    revoke_key,
    trading_account,
)
from exchange.api.errors import PROBLEM_JSON, ApiError, refusal
from exchange.api.models import (
    PROBLEM_SCHEMA,
    Balances,
    Book,
    Health,
    KeyIssued,
    KeyRevoked,
    NewKey,
    NewOrder,
    NewParticipant,
    NewParticipantReply,
    Order,
    OrderCancelled,
    OrderPlaced,
)
from exchange.runtime import Ack, MarketRuntime
from matching.types import OrderType, Side
from registry_sim.model import Account, AccountId, AccountKind, HoldingState
from registry_sim.ops import IssueAllowances, OpenAccount
from settlement.cash import CNY, CashState
from settlement.commands import CancelOrder, Deposit, MarketCommand, PlaceOrder, RegistryCommand
from settlement.market import TRADING_KINDS

BOOK_LEVELS = 5


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}}


# The errors any /v1 operation may answer (docs/api-errors.md lists every code).
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: _problem("UNAUTHENTICATED: no API key, or an unknown one"),
    403: _problem("FORBIDDEN: the key's market, role or account does not allow this"),
    404: _problem("UNKNOWN_MARKET, UNKNOWN_ORDER, UNKNOWN_INSTRUMENT, UNKNOWN_ACCOUNT"),
    409: _problem("Refused by the market: the code and the numbers behind it"),
    422: _problem("INVALID_REQUEST: the request does not match the schema"),
    429: _problem("RATE_LIMITED: the key's request rate is over its limit; see Retry-After"),
    503: _problem("MARKET_STOPPED: the market is not running"),
}

health = APIRouter()
v1 = APIRouter(prefix="/v1", responses=PROBLEMS)

MarketId = Annotated[str, Path(max_length=128)]
OrderId = Annotated[int, Path(ge=1, le=2**63 - 1)]  # the journal's BIGINT
KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")]  # the first 12 hex digits of its hash


def _runtime(request: Request, market_id: str) -> MarketRuntime:
    runtime: MarketRuntime = request.app.state.hub.runtime(market_id)
    return runtime


def _accepted(ack: Ack) -> Ack:
    outcome = ack.outcome
    if outcome.code is not None:
        raise refusal(outcome.code, outcome.details)
    return ack


@health.get("/healthz", operation_id="health", response_model=Health)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@v1.post(
    "/markets/{market_id}/participants",
    operation_id="createParticipant",
    status_code=201,
    response_model=NewParticipantReply,
)
async def create_participant(
    request: Request, market_id: MarketId, body: NewParticipant, who: CurrentPrincipal
) -> dict[str, Any]:
    require(who, Role.OPERATOR)
    runtime = _runtime(request, market_id)
    account_id = AccountId(body.account_id)
    if runtime.market.registry.account(account_id) is not None:
        raise ApiError(409, "ACCOUNT_EXISTS", "the account is open already", account_id=account_id)
    account = Account(account_id, AccountKind(body.kind), body.name, province=body.province)
    opened = _accepted(
        await runtime.submit(RegistryCommand(0, OpenAccount(f"open:{account_id}", account)))
    )
    if opened.outcome.repeated:  # a concurrent request opened it first
        raise ApiError(409, "ACCOUNT_EXISTS", "the account is open already", account_id=account_id)
    funding: list[MarketCommand] = []
    if body.cash_fen:
        funding.append(Deposit(0, account_id, body.cash_fen, f"initial:{account_id}"))
    for grant in body.allowances:
        op_id = f"issue:{account_id}:{grant.vintage}:{len(funding)}"
        funding.append(
            RegistryCommand(0, IssueAllowances(op_id, account_id, grant.vintage, grant.qty_t))
        )
    for ack in await runtime.submit_many(funding):
        _accepted(ack)
    key = await create_key(request.app.state.hub.engine, market_id, Role.PARTICIPANT, account_id)
    return {"account_id": account_id, "api_key": key}


@v1.post(
    "/markets/{market_id}/keys", operation_id="issueKey", status_code=201, response_model=KeyIssued
)
async def issue_key(
    request: Request, market_id: MarketId, body: NewKey, who: CurrentPrincipal
) -> dict[str, Any]:
    """Mint a key for the market (operators only). A participant key names an open trading
    account; the key is shown once, its ``key_id`` names it for ``revokeKey``."""
    require(who, Role.OPERATOR)
    market = _runtime(request, market_id).market
    if body.account_id is not None:
        account = market.registry.account(AccountId(body.account_id))
        if account is None:
            raise refusal("UNKNOWN_ACCOUNT", {"account_id": body.account_id})
        if account.kind not in TRADING_KINDS:
            details = {"account_id": body.account_id, "kind": account.kind.value}
            raise refusal("NOT_A_TRADING_ACCOUNT", details)
    engine = request.app.state.hub.engine
    key = await create_key(engine, market_id, Role(body.role), body.account_id)
    return {
        "key_id": key_id_of(key),
        "api_key": key,
        "role": body.role,
        "account_id": body.account_id,
    }


@v1.delete(
    "/markets/{market_id}/keys/{key_id}", operation_id="revokeKey", response_model=KeyRevoked
)
async def revoke(
    request: Request, market_id: MarketId, key_id: KeyId, who: CurrentPrincipal
) -> dict[str, Any]:
    """Revoke one of the market's keys (operators only): from now on it is answered 401."""
    require(who, Role.OPERATOR)
    _runtime(request, market_id)
    if not await revoke_key(request.app.state.hub.engine, market_id, key_id):
        raise ApiError(404, "UNKNOWN_KEY", f"no key {key_id!r} in this market", key_id=key_id)
    request.app.state.limiter.forget(key_id)
    return {"key_id": key_id, "revoked": True}


@v1.post(
    "/markets/{market_id}/orders",
    operation_id="placeOrder",
    status_code=201,
    response_model=OrderPlaced,
    responses={200: {"model": OrderPlaced, "description": "A repeated client order id"}},
)
async def place_order(
    request: Request,
    response: Response,
    market_id: MarketId,
    body: NewOrder,
    who: CurrentPrincipal,
) -> dict[str, Any]:
    account_id = AccountId(trading_account(who))
    runtime = _runtime(request, market_id)
    command = PlaceOrder(
        0,
        account_id,
        body.symbol,
        Side(body.side),
        OrderType(body.order_type),
        body.qty_t,
        body.price_fen,
        client_order_id=body.client_order_id,
    )
    ack = _accepted(await runtime.submit(command))
    outcome = ack.outcome
    if outcome.repeated:
        response.status_code = 200
    fills = [
        {"trade_id": f.trade.trade_id, "price_fen": f.trade.price_fen, "qty_t": f.trade.qty_t}
        for f in outcome.fills
    ]
    return {
        "order_id": outcome.order_id,
        "seq": ack.seq,
        "status": "accepted",
        "repeated": outcome.repeated,
        "fills": fills,
    }


@v1.delete(
    "/markets/{market_id}/orders/{order_id}",
    operation_id="cancelOrder",
    response_model=OrderCancelled,
)
async def cancel_order(
    request: Request, market_id: MarketId, order_id: OrderId, who: CurrentPrincipal
) -> dict[str, Any]:
    account_id = AccountId(trading_account(who))
    runtime = _runtime(request, market_id)
    ack = _accepted(await runtime.submit(CancelOrder(0, account_id, order_id)))
    return {"order_id": order_id, "seq": ack.seq, "status": "cancelled"}


@v1.get("/markets/{market_id}/orders/{order_id}", operation_id="getOrder", response_model=Order)
async def get_order(
    request: Request, market_id: MarketId, order_id: OrderId, who: CurrentPrincipal
) -> dict[str, Any]:
    require(who, Role.PARTICIPANT, Role.OPERATOR)
    view = _runtime(request, market_id).market.engine.order(order_id)
    if view is None or (who.role is Role.PARTICIPANT and view.account_id != who.account_id):
        raise ApiError(404, "UNKNOWN_ORDER", f"no order {order_id}", order_id=order_id)
    return view._asdict()


@v1.get("/markets/{market_id}/book/{symbol}", operation_id="getBook", response_model=Book)
async def get_book(
    request: Request, market_id: MarketId, symbol: str, who: CurrentPrincipal
) -> dict[str, Any]:
    market = _runtime(request, market_id).market
    if symbol not in market.instruments:
        raise ApiError(404, "UNKNOWN_INSTRUMENT", f"no instrument {symbol!r}", symbol=symbol)
    info = market.engine.book_info(symbol)
    depth = market.engine.depth(symbol, BOOK_LEVELS)
    return {
        "symbol": symbol,
        "state": info.state,
        "reference_price_fen": info.reference_price_fen,
        "band_lower_fen": info.band_lower_fen,
        "band_upper_fen": info.band_upper_fen,
        "tick_fen": info.tick_fen,
        "lot_t": info.lot_t,
        "bids": [level._asdict() for level in depth.bids],
        "asks": [level._asdict() for level in depth.asks],
    }


@v1.get(
    "/markets/{market_id}/accounts/{account_id}/balances",
    operation_id="getBalances",
    response_model=Balances,
)
async def get_balances(
    request: Request, market_id: MarketId, account_id: str, who: CurrentPrincipal
) -> dict[str, Any]:
    may_see_account(who, account_id)
    market = _runtime(request, market_id).market
    account = AccountId(account_id)
    if market.registry.account(account) is None:
        raise ApiError(404, "UNKNOWN_ACCOUNT", f"no account {account_id!r}", account_id=account_id)
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
        "cash": {
            "available_fen": market.balance(account, CNY, CashState.AVAILABLE),
            "held_fen": market.balance(account, CNY, CashState.HELD),
            "withdrawable_fen": market.withdrawable_fen(account),
        },
        "holdings": holdings,
    }
