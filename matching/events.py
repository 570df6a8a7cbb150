"""Events the engine emits, each with a per-market sequence number ``seq``.

Within one command, events come in this order: the command's own event (accepted, amended,
state change, or the rejection), then trades and self-trade cancellations in the order they
happen, then the fate of the incoming order's remainder, then one ``BookLevelChanged`` per price
level whose total quantity or order count changed, ordered by symbol, side (buy first) and price
from best to worst.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from matching.codes import RejectCode
from matching.types import (
    AccountId,
    CancelReason,
    OrderId,
    OrderType,
    Side,
    StpMode,
    Symbol,
    TradeId,
    TradingState,
)


class OrderAccepted(NamedTuple):
    seq: int
    ts_ns: int
    order_id: OrderId
    account_id: AccountId
    symbol: Symbol
    side: Side
    order_type: OrderType
    price_fen: int | None
    qty_t: int
    stp: StpMode


class CommandRejected(NamedTuple):
    """A refusal: nothing changed. ``details`` holds the numbers behind ``code``."""

    seq: int
    ts_ns: int
    command: str
    code: RejectCode
    details: Mapping[str, int | str | None]
    order_id: OrderId | None = None
    account_id: AccountId | None = None
    symbol: Symbol | None = None


class TradeExecuted(NamedTuple):
    """A fill at the resting (maker) order's price. ``*_leaves_t`` is each order's open qty after."""

    seq: int
    ts_ns: int
    trade_id: TradeId
    symbol: Symbol
    price_fen: int
    qty_t: int
    aggressor: Side
    buy_order_id: OrderId
    sell_order_id: OrderId
    buy_account_id: AccountId
    sell_account_id: AccountId
    buy_leaves_t: int
    sell_leaves_t: int


class OrderCancelled(NamedTuple):
    """The order's whole open quantity ``qty_t`` left the book; the order is finished."""

    seq: int
    ts_ns: int
    order_id: OrderId
    account_id: AccountId
    symbol: Symbol
    side: Side
    qty_t: int
    reason: CancelReason


class OrderReduced(NamedTuple):
    """Self-trade prevention (decrement) took ``qty_t`` off an order that stays open."""

    seq: int
    ts_ns: int
    order_id: OrderId
    account_id: AccountId
    symbol: Symbol
    side: Side
    qty_t: int
    leaves_t: int
    reason: CancelReason


class OrderAmended(NamedTuple):
    """The order now has ``price_fen`` and total quantity ``qty_t`` (filled + ``leaves_t``)."""

    seq: int
    ts_ns: int
    order_id: OrderId
    account_id: AccountId
    symbol: Symbol
    side: Side
    price_fen: int
    qty_t: int
    leaves_t: int
    priority_kept: bool


class BookLevelChanged(NamedTuple):
    """An L2 delta: the level's new total. ``qty_t == 0`` means the level is gone."""

    seq: int
    ts_ns: int
    symbol: Symbol
    side: Side
    price_fen: int
    qty_t: int
    order_count: int


class TradingStateChanged(NamedTuple):
    seq: int
    ts_ns: int
    symbol: Symbol
    state: TradingState
    previous: TradingState


class ReferencePriceSet(NamedTuple):
    seq: int
    ts_ns: int
    symbol: Symbol
    price_fen: int
    band_lower_fen: int
    band_upper_fen: int


Event = (
    OrderAccepted
    | CommandRejected
    | TradeExecuted
    | OrderCancelled
    | OrderReduced
    | OrderAmended
    | BookLevelChanged
    | TradingStateChanged
    | ReferencePriceSet
)
