"""The order operations under ``/v1``: place, cancel, amend, read and list orders, the kill
switch, an account's fills, and the lookup by client order id.

Commands and replies are ``exchange.api.orders``', shared with the WebSocket. REST trades only
with a participant key (its own account); listings and the kill switch take an operator's
``?account_id=`` too.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy import func, or_, select

from exchange.api import orders
from exchange.api.auth import require, trading_account
from exchange.api.common import PROBLEMS, TRADES_LIMIT, created, known_account, open_trading_day
from exchange.api.deps import (
    AccountQuery,
    CurrentPrincipal,
    Limit,
    MarketId,
    SymbolQuery,
)
from exchange.api.errors import ApiError
from exchange.api.hub import hub_of
from exchange.api.models import (
    ClientOrder,
    Fills,
    NewOrder,
    Order,
    OrderAmended,
    OrderAmendment,
    OrderCancelled,
    OrderPlaced,
    Orders,
    OrdersCancelled,
)
from exchange.db import tables as t
from exchange.keys import Role
from matching.types import OrderStatus
from registry_sim.model import AccountId

router = APIRouter(prefix="/v1/markets/{market_id}", tags=["orders"], responses=PROBLEMS)
# Order entry is the busiest path: its routes take the ``Request`` (which costs FastAPI nothing)
# and find the hub from it, rather than through a dependency (some 20 microseconds each).

OrderId = Annotated[int, Path(ge=1, le=2**63 - 1)]  # the journal's BIGINT
ClientOrderIdPath = Annotated[str, Path(pattern=r"^[\x21-\x7e]{1,64}$")]
# What ``getOrderByClientId`` tells of an order beyond its ids (``_finished_order``'s keys).
ORDER_STATE = (
    "symbol",
    "side",
    "order_type",
    "price_fen",
    "stp",
    "submitted_t",
    "filled_t",
    "leaves_t",
    "cancelled_t",
    "status",
    "cancel_reason",
)


@router.post(
    "/orders",
    operation_id="placeOrder",
    **created(OrderPlaced, "client order id"),
)
async def place_order(
    request: Request,
    response: Response,
    market_id: MarketId,
    body: NewOrder,
    who: CurrentPrincipal,
) -> dict[str, Any]:
    account = AccountId(trading_account(who))
    runtime = hub_of(request).runtime(market_id)
    reply = orders.placed(await runtime.submit(orders.place_command(account, body)))
    if reply["repeated"]:
        response.status_code = 200
    return reply


@router.delete(
    "/orders/{order_id}",
    operation_id="cancelOrder",
    response_model=OrderCancelled,
)
async def cancel_order(
    request: Request, market_id: MarketId, order_id: OrderId, who: CurrentPrincipal
) -> dict[str, Any]:
    account = AccountId(trading_account(who))
    runtime = hub_of(request).runtime(market_id)
    return orders.cancelled(await runtime.submit(orders.cancel_command(account, order_id)))


@router.get("/orders/{order_id}", operation_id="getOrder", response_model=Order)
async def get_order(
    request: Request, market_id: MarketId, order_id: OrderId, who: CurrentPrincipal
) -> dict[str, Any]:
    require(who, Role.PARTICIPANT, Role.OPERATOR)
    view = hub_of(request).runtime(market_id).market.engine.order(order_id)
    if view is None or (who.role is Role.PARTICIPANT and view.account_id != who.account_id):
        raise ApiError(404, "UNKNOWN_ORDER", f"no order {order_id}", order_id=order_id)
    return view._asdict()


@router.patch(
    "/orders/{order_id}",
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
    account = AccountId(trading_account(who))
    runtime = hub_of(request).runtime(market_id)
    return orders.amended(await runtime.submit(orders.amend_command(account, order_id, body)))


@router.get("/orders", operation_id="listOrders", response_model=Orders)
async def list_orders(
    request: Request,
    market_id: MarketId,
    who: CurrentPrincipal,
    account_id: AccountQuery = None,
) -> dict[str, Any]:
    """The account's open orders, oldest first: a participant's own, or (operators) the
    ``account_id`` named."""
    account = orders.named_account(who, account_id, orders.REST_ACCOUNT_LOC)
    market = hub_of(request).runtime(market_id).market
    known_account(market, account)
    views = [view._asdict() for view in market.engine.open_orders(account)]
    return {"account_id": account, "orders": views}


@router.delete("/orders", operation_id="cancelAllOrders", response_model=OrdersCancelled)
async def cancel_all_orders(
    request: Request,
    market_id: MarketId,
    who: CurrentPrincipal,
    symbol: SymbolQuery = None,
    account_id: AccountQuery = None,
) -> dict[str, Any]:
    """Kill switch: cancel every open order of the account (of one instrument with
    ``?symbol=``): a participant's own, or (operators) the ``account_id`` named."""
    account = orders.named_account(who, account_id, orders.REST_ACCOUNT_LOC)
    runtime = hub_of(request).runtime(market_id)
    known_account(runtime.market, account)
    return orders.all_cancelled(await runtime.submit(orders.cancel_all_command(account, symbol)))


@router.get("/fills", operation_id="listFills", response_model=Fills)
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
    account = orders.named_account(who, account_id, orders.REST_ACCOUNT_LOC)
    known_account(hub_of(request).runtime(market_id).market, account)
    c = t.market_trades.c
    query = select(t.market_trades).where(
        c.market_id == market_id, or_(c.buy_account_id == account, c.sell_account_id == account)
    )
    if symbol is not None:
        query = query.where(c.symbol == symbol)
    query = query.order_by(c.trade_id.desc()).limit(limit)
    async with hub_of(request).engine.connect() as conn:
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


@router.get(
    "/orders/by-client-id/{client_order_id}",
    operation_id="getOrderByClientId",
    response_model=ClientOrder,
)
async def get_order_by_client_id(
    request: Request,
    market_id: MarketId,
    client_order_id: ClientOrderIdPath,
    who: CurrentPrincipal,
    trading_day: Annotated[dt.date | None, Query()] = None,
    account_id: AccountQuery = None,
) -> dict[str, Any]:
    """The order a client order id named on ``trading_day`` (default: the market's), for the
    key's own account, or (operators) the ``account_id`` named. A client that lost an answer
    asks here whether its order went in. Orders of past days are read from the journal."""
    account = orders.named_account(who, account_id, orders.REST_ACCOUNT_LOC)
    market = hub_of(request).runtime(market_id).market
    known_account(market, account)
    day = (trading_day or open_trading_day(market)).isoformat()
    o = t.market_orders.c
    query = select(t.market_orders).where(
        o.market_id == market_id,
        o.account_id == account,
        o.client_order_id == client_order_id,
        o.trading_day == day,
    )
    async with hub_of(request).engine.connect() as conn:
        row = (await conn.execute(query)).first()
        if row is None:
            raise ApiError(
                404,
                "UNKNOWN_ORDER",
                f"no order {client_order_id!r} on {day}",
                client_order_id=client_order_id,
                trading_day=day,
            )
        placed = {
            "order_id": row.order_id,
            "account_id": account,
            "client_order_id": client_order_id,
            "trading_day": day,
        }
        view = market.engine.order(row.order_id)
        if view is not None:  # still known to the book: its live state
            live = view._asdict()
            return {**placed, **{name: live[name] for name in ORDER_STATE}}
        return {**placed, **await _finished_order(conn, market_id, row)}


async def _finished_order(conn: Any, market_id: str, row: Any) -> dict[str, Any]:
    """A past day's order as its trades and updates in the journal leave it."""
    tr = t.market_trades.c
    filled_query = select(func.coalesce(func.sum(tr.qty_t), 0)).where(
        tr.market_id == market_id,
        or_(tr.buy_order_id == row.order_id, tr.sell_order_id == row.order_id),
    )
    filled = int((await conn.execute(filled_query)).scalar_one())
    u = t.market_order_updates.c
    updates_query = (
        select(u.kind, u.qty_t, u.price_fen, u.reason)
        .where(u.market_id == market_id, u.order_id == row.order_id)
        .order_by(u.event_seq)
    )
    submitted, price, cancelled, reason = row.qty_t, row.price_fen, 0, None
    for update in (await conn.execute(updates_query)).all():
        if update.kind == "amended":
            submitted, price = update.qty_t, update.price_fen
        else:  # cancelled, reduced
            cancelled += update.qty_t
            reason = update.reason
    leaves = max(0, submitted - filled - cancelled)
    if leaves:
        status = OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.NEW
    else:
        status = OrderStatus.CANCELLED if cancelled else OrderStatus.FILLED
    return {
        "symbol": row.symbol,
        "side": row.side,
        "order_type": row.order_type,
        "price_fen": price,
        "stp": row.stp,
        "submitted_t": submitted,
        "filled_t": filled,
        "leaves_t": leaves,
        "cancelled_t": cancelled,
        "status": status,
        "cancel_reason": reason,
    }
