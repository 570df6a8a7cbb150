"""The REST endpoints under ``/v1`` (and ``/healthz``), each with a stable operation id.

Reads come from the market's in-memory state, in the event loop the sequencer runs in: a read
sees every command applied so far, including any whose batch is still being committed (the
command's own caller is answered only once it is durable).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any
from uuid import uuid4

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy import or_, select

from exchange.api.auth import (
    CurrentPrincipal,
    Principal,
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
    CashMoved,
    CashMovement,
    ComplianceStatus,
    EmissionsReport,
    Fills,
    HaltRequest,
    Health,
    KeyIssued,
    KeyRevoked,
    NewKey,
    NewOrder,
    NewParticipant,
    NewParticipantReply,
    Order,
    OrderAmended,
    OrderAmendment,
    OrderCancelled,
    OrderPlaced,
    Orders,
    OrdersCancelled,
    ResumeRequest,
    SurrenderRequest,
    Trades,
    TradingStates,
)
from exchange.db import tables as t
from exchange.runtime import Ack, MarketRuntime
from matching.events import OrderCancelled as OrderCancelledEvent
from matching.types import OrderType, Side
from registry_sim.model import Account, AccountId, AccountKind, HoldingState, UnitCode
from registry_sim.ops import IssueAllowances, OpenAccount, RecordEmissions, Surrender
from settlement.cash import CNY, CashState
from settlement.commands import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    Deposit,
    Halt,
    MarketCommand,
    PlaceOrder,
    RegistryCommand,
    Resume,
    Withdraw,
)
from settlement.market import TRADING_KINDS, Market

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
AccountPath = Annotated[str, Path(max_length=128)]
YearPath = Annotated[int, Path(ge=2000, le=2100)]
AccountQuery = Annotated[str | None, Query(max_length=128)]
SymbolQuery = Annotated[str | None, Query(min_length=1, max_length=128)]
Limit = Annotated[int, Query(ge=1, le=500)]
TRADES_LIMIT = 100


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
    return {
        "order_id": outcome.order_id,
        "seq": ack.seq,
        "status": "accepted",
        "repeated": outcome.repeated,
        "fills": _fills(ack),
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


def _fills(ack: Ack) -> list[dict[str, int]]:
    return [
        {"trade_id": f.trade.trade_id, "price_fen": f.trade.price_fen, "qty_t": f.trade.qty_t}
        for f in ack.outcome.fills
    ]


def _known_account(market: Market, account_id: str) -> AccountId:
    account = AccountId(account_id)
    if market.registry.account(account) is None:
        raise ApiError(404, "UNKNOWN_ACCOUNT", f"no account {account_id!r}", account_id=account_id)
    return account


def _whose(who: Principal, account_id: str | None) -> str:
    """The account a listing is about: a participant's own (naming another is a 403), the one
    an operator names (required); observers see no account."""
    require(who, Role.PARTICIPANT, Role.OPERATOR)
    if who.role is Role.PARTICIPANT:
        assert who.account_id is not None
        if account_id is not None and account_id != who.account_id:
            raise ApiError(403, "FORBIDDEN", "not your account", account_id=account_id)
        return who.account_id
    if account_id is None:
        errors = [{"loc": ["query", "account_id"], "msg": "required", "type": "missing"}]
        raise ApiError(
            422, "INVALID_REQUEST", "an operator names the account: ?account_id=", errors=errors
        )
    return account_id


def _cash(market: Market, account: AccountId) -> dict[str, int]:
    return {
        "available_fen": market.balance(account, CNY, CashState.AVAILABLE),
        "held_fen": market.balance(account, CNY, CashState.HELD),
        "withdrawable_fen": market.withdrawable_fen(account),
    }


def _compliance(market: Market, account: AccountId, year: int) -> dict[str, Any]:
    return dataclasses.asdict(market.registry.compliance_status(account, year))


@v1.patch(
    "/markets/{market_id}/orders/{order_id}",
    operation_id="amendOrder",
    response_model=OrderAmended,
)
async def amend_order(
    request: Request,
    market_id: MarketId,
    order_id: OrderId,
    body: OrderAmendment,
    who: CurrentPrincipal,
) -> dict[str, Any]:
    """Change an own resting order's price and/or total quantity (``qty_t`` is the new order
    quantity, filled quantity included). A new price may trade at once: ``fills``."""
    account_id = AccountId(trading_account(who))
    runtime = _runtime(request, market_id)
    command = AmendOrder(0, account_id, order_id, body.price_fen, body.qty_t)
    ack = _accepted(await runtime.submit(command))
    return {"order_id": order_id, "seq": ack.seq, "status": "amended", "fills": _fills(ack)}


@v1.get("/markets/{market_id}/orders", operation_id="listOrders", response_model=Orders)
async def list_orders(
    request: Request,
    market_id: MarketId,
    who: CurrentPrincipal,
    account_id: AccountQuery = None,
) -> dict[str, Any]:
    """The account's open orders, oldest first: a participant's own, or (operators) the
    ``account_id`` named."""
    account = _whose(who, account_id)
    market = _runtime(request, market_id).market
    _known_account(market, account)
    orders = [view._asdict() for view in market.engine.open_orders(account)]
    return {"account_id": account, "orders": orders}


@v1.delete(
    "/markets/{market_id}/orders", operation_id="cancelAllOrders", response_model=OrdersCancelled
)
async def cancel_all_orders(
    request: Request,
    market_id: MarketId,
    who: CurrentPrincipal,
    symbol: SymbolQuery = None,
    account_id: AccountQuery = None,
) -> dict[str, Any]:
    """Kill switch: cancel every open order of the account (of one instrument with
    ``?symbol=``): a participant's own, or (operators) the ``account_id`` named."""
    account = _whose(who, account_id)
    runtime = _runtime(request, market_id)
    _known_account(runtime.market, account)
    ack = _accepted(await runtime.submit(CancelAll(0, AccountId(account), symbol)))
    cancelled = sum(1 for e in ack.outcome.events if type(e) is OrderCancelledEvent)
    return {"account_id": account, "seq": ack.seq, "cancelled": cancelled}


@v1.get("/markets/{market_id}/trades", operation_id="listTrades", response_model=Trades)
async def list_trades(
    request: Request,
    market_id: MarketId,
    who: CurrentPrincipal,
    symbol: SymbolQuery = None,
    limit: Limit = TRADES_LIMIT,
) -> dict[str, Any]:
    """The public trade tape, most recent first (from the journal: it survives restarts)."""
    _runtime(request, market_id)
    c = t.market_trades.c
    query = select(c.trade_id, c.ts_ns, c.symbol, c.price_fen, c.qty_t, c.aggressor).where(
        c.market_id == market_id
    )
    if symbol is not None:
        query = query.where(c.symbol == symbol)
    query = query.order_by(c.trade_id.desc()).limit(limit)
    async with request.app.state.hub.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return {"trades": [row._asdict() for row in rows]}


@v1.get("/markets/{market_id}/fills", operation_id="listFills", response_model=Fills)
async def list_fills(
    request: Request,
    market_id: MarketId,
    who: CurrentPrincipal,
    account_id: AccountQuery = None,
    symbol: SymbolQuery = None,
    limit: Limit = TRADES_LIMIT,
) -> dict[str, Any]:
    """The account's own trades, most recent first: a participant's own, or (operators) the
    ``account_id`` named."""
    account = _whose(who, account_id)
    _known_account(_runtime(request, market_id).market, account)
    c = t.market_trades.c
    query = select(t.market_trades).where(
        c.market_id == market_id, or_(c.buy_account_id == account, c.sell_account_id == account)
    )
    if symbol is not None:
        query = query.where(c.symbol == symbol)
    query = query.order_by(c.trade_id.desc()).limit(limit)
    async with request.app.state.hub.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    fills: list[dict[str, Any]] = []
    for row in rows:
        for side, order_id, owner, fee in (
            ("buy", row.buy_order_id, row.buy_account_id, row.buy_fee_fen),
            ("sell", row.sell_order_id, row.sell_account_id, row.sell_fee_fen),
        ):
            if owner == account:
                fills.append(
                    {
                        "trade_id": row.trade_id,
                        "ts_ns": row.ts_ns,
                        "symbol": row.symbol,
                        "side": side,
                        "order_id": order_id,
                        "price_fen": row.price_fen,
                        "qty_t": row.qty_t,
                        "fee_fen": fee,
                    }
                )
    return {"account_id": account, "fills": fills[:limit]}


def _states(market: Market, ack: Ack, symbol: str | None) -> dict[str, Any]:
    symbols = sorted(market.instruments) if symbol is None else [symbol]
    books = [{"symbol": s, "state": market.engine.book_info(s).state} for s in symbols]
    return {"seq": ack.seq, "books": books}


@v1.post("/markets/{market_id}/halt", operation_id="haltTrading", response_model=TradingStates)
async def halt(
    request: Request, market_id: MarketId, body: HaltRequest, who: CurrentPrincipal
) -> dict[str, Any]:
    """Halt one instrument or all (operators only); ``cancel_resting`` also cancels the
    resting orders."""
    require(who, Role.OPERATOR)
    runtime = _runtime(request, market_id)
    ack = _accepted(await runtime.submit(Halt(0, body.symbol, body.cancel_resting)))
    return _states(runtime.market, ack, body.symbol)


@v1.post("/markets/{market_id}/resume", operation_id="resumeTrading", response_model=TradingStates)
async def resume(
    request: Request, market_id: MarketId, body: ResumeRequest, who: CurrentPrincipal
) -> dict[str, Any]:
    """Resume halted instruments (operators only) in the session the market is in."""
    require(who, Role.OPERATOR)
    runtime = _runtime(request, market_id)
    ack = _accepted(await runtime.submit(Resume(0, body.symbol)))
    return _states(runtime.market, ack, body.symbol)


async def _move_cash(
    request: Request,
    market_id: str,
    account_id: str,
    body: CashMovement,
    who: Principal,
    command: type[Deposit] | type[Withdraw],
) -> dict[str, Any]:
    require(who, Role.OPERATOR)
    runtime = _runtime(request, market_id)
    account = _known_account(runtime.market, account_id)
    ack = _accepted(await runtime.submit(command(0, account, body.amount_fen, body.ref)))
    return {
        "account_id": account_id,
        "seq": ack.seq,
        "amount_fen": body.amount_fen,
        "ref": body.ref,
        "cash": _cash(runtime.market, account),
    }


@v1.post(
    "/markets/{market_id}/accounts/{account_id}/deposits",
    operation_id="deposit",
    status_code=201,
    response_model=CashMoved,
)
async def deposit(
    request: Request,
    market_id: MarketId,
    account_id: AccountPath,
    body: CashMovement,
    who: CurrentPrincipal,
) -> dict[str, Any]:
    """Bring cash into a trading account (operators only)."""
    return await _move_cash(request, market_id, account_id, body, who, Deposit)


@v1.post(
    "/markets/{market_id}/accounts/{account_id}/withdrawals",
    operation_id="withdraw",
    status_code=201,
    response_model=CashMoved,
)
async def withdraw(
    request: Request,
    market_id: MarketId,
    account_id: AccountPath,
    body: CashMovement,
    who: CurrentPrincipal,
) -> dict[str, Any]:
    """Pay cash out of a trading account (operators only), up to what is withdrawable."""
    return await _move_cash(request, market_id, account_id, body, who, Withdraw)


@v1.get(
    "/markets/{market_id}/accounts/{account_id}/compliance/{year}",
    operation_id="getComplianceStatus",
    response_model=ComplianceStatus,
)
async def get_compliance_status(
    request: Request,
    market_id: MarketId,
    account_id: AccountPath,
    year: YearPath,
    who: CurrentPrincipal,
) -> dict[str, Any]:
    """The account's compliance position for ``year`` (its own, or any for operators)."""
    may_see_account(who, account_id)
    market = _runtime(request, market_id).market
    return _compliance(market, _known_account(market, account_id), year)


@v1.post(
    "/markets/{market_id}/accounts/{account_id}/emissions",
    operation_id="recordEmissions",
    status_code=201,
    response_model=ComplianceStatus,
)
async def record_emissions(
    request: Request,
    market_id: MarketId,
    account_id: AccountPath,
    body: EmissionsReport,
    who: CurrentPrincipal,
) -> dict[str, Any]:
    """Record a covered entity's verified emissions for a year (operators only): its
    obligation."""
    require(who, Role.OPERATOR)
    runtime = _runtime(request, market_id)
    account = _known_account(runtime.market, account_id)
    op = RecordEmissions(f"emissions:{uuid4().hex}", account, body.year, body.verified_t)
    _accepted(await runtime.submit(RegistryCommand(0, op)))
    return _compliance(runtime.market, account, body.year)


@v1.post(
    "/markets/{market_id}/accounts/{account_id}/surrenders",
    operation_id="surrender",
    status_code=201,
    response_model=ComplianceStatus,
)
async def surrender(
    request: Request,
    market_id: MarketId,
    account_id: AccountPath,
    body: SurrenderRequest,
    who: CurrentPrincipal,
) -> dict[str, Any]:
    """Surrender own units for a compliance year, dated the market's trading day; they stay
    pending until the assessment."""
    if trading_account(who) != account_id:
        raise ApiError(403, "FORBIDDEN", "not your account", account_id=account_id)
    runtime = _runtime(request, market_id)
    account = _known_account(runtime.market, account_id)
    on = runtime.market.trading_day
    if on is None:
        raise ApiError(409, "NO_TRADING_DAY", "no trading day is open: nothing can be dated")
    items = tuple((UnitCode(item.unit), item.qty_t) for item in body.items)
    op = Surrender(f"surrender:{uuid4().hex}", account, body.year, items, on)
    _accepted(await runtime.submit(RegistryCommand(0, op)))
    return _compliance(runtime.market, account, body.year)
