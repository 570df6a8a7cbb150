"""Commands the engine accepts: one immutable class per command.

Ids and timestamps come in with the command (the sequencer assigns them), so the engine never
reads a clock or draws an id. Commands and events are ``NamedTuple``s rather than frozen
dataclasses because they are built once per command on the hot path; see
docs/adr/0001-namedtuples-for-commands-and-events.md.
"""

from __future__ import annotations

from typing import NamedTuple

from matching.types import AccountId, OrderId, OrderType, Side, StpMode, Symbol, TradingState


class NewOrder(NamedTuple):
    """Place an order. ``price_fen`` is required for LIMIT, IOC and FOK, absent for MARKET."""

    ts_ns: int
    order_id: OrderId
    account_id: AccountId
    symbol: Symbol
    side: Side
    order_type: OrderType
    qty_t: int
    price_fen: int | None = None
    stp: StpMode = StpMode.CANCEL_NEWEST


class CancelOrder(NamedTuple):
    """Cancel the open quantity of a resting order (撤单)."""

    ts_ns: int
    order_id: OrderId
    account_id: AccountId


class AmendOrder(NamedTuple):
    """Change a resting order's price and/or total quantity (filled + open), atomically.

    ``None`` leaves a field as it is. Reducing the quantity at the same price keeps the order's
    place in the queue; a price change or a quantity increase sends it to the back, and a new
    price that crosses the book trades at once.
    """

    ts_ns: int
    order_id: OrderId
    account_id: AccountId
    price_fen: int | None = None
    qty_t: int | None = None


class CancelAccountOrders(NamedTuple):
    """Kill switch: cancel every open order of an account, in one instrument or in all."""

    ts_ns: int
    account_id: AccountId
    symbol: Symbol | None = None


class SetTradingState(NamedTuple):
    """Move an instrument to another trading state.

    Moving to CLOSED expires every resting order (all orders are day orders). Moving to HALTED
    with ``cancel_resting`` cancels every resting order of the instrument.
    """

    ts_ns: int
    symbol: Symbol
    state: TradingState
    cancel_resting: bool = False


class SetReferencePrice(NamedTuple):
    """Set the reference price (previous close) the price band is computed from.

    Allowed only while the instrument is CLOSED or PRE_OPEN, when no order rests.
    """

    ts_ns: int
    symbol: Symbol
    price_fen: int


Command = NewOrder | CancelOrder | AmendOrder | CancelAccountOrders | SetTradingState | SetReferencePrice
