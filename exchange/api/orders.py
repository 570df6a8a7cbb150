"""Order entry shared by the REST routes and the WebSocket: who an order is for, the market
command a validated request becomes, and the reply its durable acknowledgement becomes.

REST (``placeOrder``, ``cancelOrder``, ``amendOrder``, ``cancelAllOrders``, ``takeQuote``) and
the socket's ``place``, ``cancel``, ``amend``, ``cancel_all`` and ``take`` ops validate the
same bodies (``exchange.api.models``), refuse with the same codes (``errors.refusal``) and
answer the same fields, so a client may switch between them. Idempotency lives in the market:
a repeated ``client_order_id`` (per account and trading day) answers the original order with
``repeated: true``.
"""

from __future__ import annotations

from typing import Any

from exchange.api.auth import require
from exchange.api.common import known_account
from exchange.api.errors import ApiError, accepted
from exchange.api.models import NewOrder, OrderAmendment, TakeRequest
from exchange.keys import Principal, Role
from exchange.runtime import Ack
from matching.events import OrderAccepted, OrderCancelled, TradeExecuted
from matching.types import OrderStatus, OrderType, Side, StpMode
from registry_sim.model import AccountId
from settlement.commands import AmendOrder, CancelAll, CancelOrder, PlaceOrder, TakeQuote
from settlement.market import Market

REST_ACCOUNT_LOC = ("query", "account_id")  # REST names the account with ?account_id=
WS_ACCOUNT_LOC = ("account_id",)  # the socket, as a field of the request


def named_account(
    who: Principal, named: str | None, loc: tuple[str, ...] = WS_ACCOUNT_LOC
) -> AccountId:
    """The account an order op or listing is about: a participant's own (naming another is
    FORBIDDEN), the one an operator names (required, at ``loc``); observers see none."""
    require(who, Role.PARTICIPANT, Role.OPERATOR)
    if who.role is Role.PARTICIPANT:
        assert who.account_id is not None  # the key table's check constraint
        if named is not None and named != who.account_id:
            raise ApiError(403, "FORBIDDEN", "not your account", account_id=named)
        return AccountId(who.account_id)
    if named is None:
        hint = ": ?account_id=" if loc == REST_ACCOUNT_LOC else ""
        errors = [{"loc": list(loc), "msg": "required", "type": "missing"}]
        raise ApiError(
            422, "INVALID_REQUEST", f"an operator names the account{hint}", errors=errors
        )
    return AccountId(named)


def order_account(who: Principal, market: Market, named: str | None) -> AccountId:
    """The account a socket order op acts for: ``named_account``, and for an operator an
    open one (a participant key's account is open: keys are issued for open accounts)."""
    account = named_account(who, named)
    if who.role is Role.OPERATOR:
        known_account(market, account)
    return account


def fills(ack: Ack) -> list[dict[str, int]]:
    """The trades a command made at once (an aggressive order, an amendment that crossed)."""
    return [
        {"trade_id": f.trade.trade_id, "price_fen": f.trade.price_fen, "qty_t": f.trade.qty_t}
        for f in ack.outcome.fills
    ]


def place_command(account: AccountId, body: NewOrder) -> PlaceOrder:
    return PlaceOrder(
        0,
        account,
        body.symbol,
        Side(body.side),
        OrderType(body.order_type),
        body.qty_t,
        body.price_fen,
        StpMode(body.stp),
        client_order_id=body.client_order_id,
    )


def take_command(account: AccountId, order_id: int, body: TakeRequest) -> TakeQuote:
    return TakeQuote(0, account, order_id, body.qty_t, body.client_order_id)


def placed_status(ack: Ack, market: Market) -> tuple[OrderStatus | None, str | None]:
    """Where a placed order stands once its command is done, and why it was cancelled: an
    IOC or FOK that could not trade, or a self-trade prevention cancel, ends at once
    (``cancelled``); a marketable order may be ``filled`` or ``partially_filled``; one that
    rests untouched is ``new``. Told by the command's own events, so the answer is the one the
    journal replays; a repeated client order id answers the order as the market holds it now,
    or None once the day's end has let it go (``getOrder`` reads it from the journal)."""
    outcome = ack.outcome
    order_id = outcome.order_id
    assert order_id is not None
    if outcome.repeated:
        view = market.engine.order(order_id)
        if view is None:  # finished, and let go at the day's end; its id holds until the next
            return None, None
        reason = view.cancel_reason
        return view.status, None if reason is None else reason.value
    qty_t = filled_t = 0
    for event in outcome.events:
        if type(event) is OrderAccepted and event.order_id == order_id:
            qty_t = event.qty_t
        elif type(event) is TradeExecuted and order_id in (event.buy_order_id, event.sell_order_id):
            filled_t += event.qty_t
        elif type(event) is OrderCancelled and event.order_id == order_id:
            return OrderStatus.CANCELLED, event.reason.value
    assert qty_t > 0, outcome.events
    if filled_t == qty_t:
        return OrderStatus.FILLED, None
    return (OrderStatus.PARTIALLY_FILLED if filled_t else OrderStatus.NEW), None


def placed(ack: Ack, market: Market) -> dict[str, Any]:
    """``placeOrder``'s reply (``OrderPlaced``): the order's status once the command is done
    (``placed_status``); ``takeQuote``'s too, of the taker's order."""
    outcome = accepted(ack).outcome
    status, reason = placed_status(ack, market)
    return {
        "order_id": outcome.order_id,
        "seq": ack.seq,
        "status": None if status is None else status.value,
        "cancel_reason": reason,
        "repeated": outcome.repeated,
        "fills": fills(ack),
    }


def cancel_command(account: AccountId, order_id: int) -> CancelOrder:
    return CancelOrder(0, account, order_id)


def cancelled(ack: Ack) -> dict[str, Any]:
    """``cancelOrder``'s reply (``OrderCancelled``)."""
    command = accepted(ack).command
    assert type(command) is CancelOrder
    return {"order_id": command.order_id, "seq": ack.seq, "status": "cancelled"}


def amend_command(account: AccountId, order_id: int, body: OrderAmendment) -> AmendOrder:
    return AmendOrder(0, account, order_id, body.price_fen, body.qty_t)


def amended(ack: Ack) -> dict[str, Any]:
    """``amendOrder``'s reply (``OrderAmended``)."""
    command = accepted(ack).command
    assert type(command) is AmendOrder
    return {"order_id": command.order_id, "seq": ack.seq, "status": "amended", "fills": fills(ack)}


def cancel_all_command(account: AccountId, symbol: str | None) -> CancelAll:
    return CancelAll(0, account, symbol)


def all_cancelled(ack: Ack) -> dict[str, Any]:
    """``cancelAllOrders``'s reply (``OrdersCancelled``)."""
    command = accepted(ack).command
    assert type(command) is CancelAll
    count = sum(1 for e in ack.outcome.events if type(e) is OrderCancelled)
    return {"account_id": command.account_id, "seq": ack.seq, "cancelled": count}
