"""The order operations under ``/v1``: place, cancel, amend, read and list orders, take a
resting quote (point-select), the kill switch, an account's fills, and the lookup by client
order id.

Commands and replies are ``exchange.api.orders``', shared with the WebSocket. REST trades only
with a participant key (its own account); listings and the kill switch take an operator's
``?account_id=`` too.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response

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
    TakeRequest,
)
from exchange.db.order_history import client_order, day_orders, finished_order, past_order
from exchange.db.trade_tape import account_fills
from exchange.keys import Role
from registry_sim.model import AccountId
from settlement.market import Market

router = APIRouter(prefix="/v1/markets/{market_id}", tags=["orders"], responses=PROBLEMS)
# Order entry is the busiest path: its routes take the ``Request`` (which costs FastAPI nothing)
# and find the hub from it, rather than through a dependency (some 20 microseconds each).

OrderId = Annotated[int, Path(ge=1, le=2**63 - 1)]  # the journal's BIGINT
ClientOrderIdPath = Annotated[str, Path(pattern=r"^[\x21-\x7e]{1,64}$")]
# What ``getOrderByClientId`` tells of an order beyond its ids (``finished_order``'s keys).
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
    ack = await runtime.submit(orders.place_command(account, body))
    reply = orders.placed(ack, runtime.market)
    if reply["repeated"]:
        response.status_code = 200
    return reply


@router.post(
    "/orders/{order_id}/take",
    operation_id="takeQuote",
    **created(OrderPlaced, "client order id"),
)
async def take_quote(
    request: Request,
    response: Response,
    market_id: MarketId,
    order_id: OrderId,
    body: TakeRequest,
    who: CurrentPrincipal,
) -> dict[str, Any]:
    """Point-select (摘牌): take ``qty_t`` of the resting quote ``order_id`` at its price. The
    reply is ``placeOrder``'s, of the taker's own order (an ``fok`` at the quote's price): it
    fills in full, or the take is refused (``QUOTE_NOT_FOUND``, ``QUOTE_OUTSIDE_TAKE_LEVELS``,
    ``TAKE_OVER_QUOTE``, ... as docs/api-errors.md lists)."""
    account = AccountId(trading_account(who))
    runtime = hub_of(request).runtime(market_id)
    ack = await runtime.submit(orders.take_command(account, order_id, body))
    reply = orders.placed(ack, runtime.market)
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
    """The order: the market's own view while it holds the order (today's), else, for an
    order of an earlier trading day, what the journal says became of it (no ``priority``)."""
    require(who, Role.PARTICIPANT, Role.OPERATOR)
    hub = hub_of(request)
    view = await hub.runtime(market_id).read(lambda market: market.engine.order(order_id))
    found = (
        view._asdict() if view is not None else await past_order(hub.engine, market_id, order_id)
    )
    if found is None or (who.role is Role.PARTICIPANT and found["account_id"] != who.account_id):
        raise ApiError(404, "UNKNOWN_ORDER", f"no order {order_id}", order_id=order_id)
    return found


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
    status: Annotated[Literal["open", "all"], Query()] = "open",
) -> dict[str, Any]:
    """The account's open orders, oldest first: a participant's own, or (operators) the
    ``account_id`` named. ``status=all``: every order placed on the market's trading day,
    whatever became of it (filled, cancelled, expired at the close: cancelled with the reason
    ``expiry``), oldest first; none while no trading day is open."""
    account = orders.named_account(who, account_id, orders.REST_ACCOUNT_LOC)

    def open_orders(market: Market) -> tuple[str | None, dict[int, dict[str, Any]]]:
        # (order ids as plain ints: ``day_orders`` looks them up by the journal's)
        known_account(market, account)
        views = {int(view.order_id): view._asdict() for view in market.engine.open_orders(account)}
        return (None if market.trading_day is None else str(market.trading_day)), views

    day, live = await hub_of(request).runtime(market_id).read(open_orders)
    if status == "all":  # the book's open orders as it holds them, the rest from the journal
        engine = hub_of(request).engine
        found = [] if day is None else await day_orders(engine, market_id, account, day, live.get)
    else:
        found = list(live.values())
    return {"account_id": account, "orders": found}


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
    fills = await account_fills(hub_of(request).engine, market_id, account, symbol, limit)
    return {"account_id": account, "fills": fills}


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
    runtime = hub_of(request).runtime(market_id)

    def the_day(market: Market) -> str:
        known_account(market, account)
        return (trading_day or open_trading_day(market)).isoformat()

    day = await runtime.read(the_day)
    engine = hub_of(request).engine
    row = await client_order(engine, market_id, account, client_order_id, day)
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
    view = await runtime.read(lambda market: market.engine.order(row.order_id))
    if view is not None:  # still known to the book: its live state
        live = view._asdict()
        return {**placed, **{name: live[name] for name in ORDER_STATE}}
    return {**placed, **await finished_order(engine, market_id, row)}
