"""Read-only answers to queries: best bid/offer, L2 depth, L3 queues, order status."""

from __future__ import annotations

from typing import NamedTuple

from matching.types import (
    AccountId,
    CancelReason,
    OrderId,
    OrderStatus,
    OrderType,
    Side,
    StpMode,
    Symbol,
    TradingState,
)


class BestBidOffer(NamedTuple):
    bid_price_fen: int | None
    bid_qty_t: int
    ask_price_fen: int | None
    ask_qty_t: int


class LevelView(NamedTuple):
    price_fen: int
    qty_t: int
    order_count: int


class Depth(NamedTuple):
    """L2: the best ``n`` levels of each side, best first."""

    bids: tuple[LevelView, ...]
    asks: tuple[LevelView, ...]


class QueueEntry(NamedTuple):
    """L3: one order in a level's queue. ``priority`` is the sequence number of its place."""

    order_id: OrderId
    account_id: AccountId
    leaves_t: int
    priority: int


class OrderView(NamedTuple):
    order_id: OrderId
    account_id: AccountId
    symbol: Symbol
    side: Side
    order_type: OrderType
    price_fen: int | None
    stp: StpMode
    submitted_t: int
    filled_t: int
    leaves_t: int
    cancelled_t: int
    status: OrderStatus
    cancel_reason: CancelReason | None
    priority: int


class BookInfo(NamedTuple):
    symbol: Symbol
    state: TradingState
    reference_price_fen: int
    band_lower_fen: int
    band_upper_fen: int
    tick_fen: int
    lot_t: int
    min_qty_t: int
    max_qty_t: int | None
