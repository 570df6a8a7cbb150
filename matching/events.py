"""Events the engine emits, each with a per-market sequence number ``seq``.

Within one command, events come in this order: the command's own event (accepted, amended,
state change, or the rejection), then trades and self-trade cancellations in the order they
happen, then the fate of the incoming order's remainder, then one ``BookLevelChanged`` per price
level whose total quantity or order count changed, ordered by symbol, side (buy first) and price
from best to worst.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from matching.codes import RejectCode
from matching.record import Record
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


class OrderAccepted(Record):
    __match_args__ = (
        "seq",
        "ts_ns",
        "order_id",
        "account_id",
        "symbol",
        "side",
        "order_type",
        "price_fen",
        "qty_t",
        "stp",
    )
    __slots__ = __match_args__

    seq: Final[int]
    ts_ns: Final[int]
    order_id: Final[OrderId]
    account_id: Final[AccountId]
    symbol: Final[Symbol]
    side: Final[Side]
    order_type: Final[OrderType]
    price_fen: Final[int | None]
    qty_t: Final[int]
    stp: Final[StpMode]

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        order_id: OrderId,
        account_id: AccountId,
        symbol: Symbol,
        side: Side,
        order_type: OrderType,
        price_fen: int | None,
        qty_t: int,
        stp: StpMode,
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.order_id = order_id
        self.account_id = account_id
        self.symbol = symbol
        self.side = side
        self.order_type = order_type
        self.price_fen = price_fen
        self.qty_t = qty_t
        self.stp = stp


class CommandRejected(Record):
    """A refusal: nothing changed. ``details`` holds the numbers behind ``code``."""

    __match_args__ = (
        "seq",
        "ts_ns",
        "command",
        "code",
        "details",
        "order_id",
        "account_id",
        "symbol",
    )
    __slots__ = __match_args__

    seq: Final[int]
    ts_ns: Final[int]
    command: Final[str]
    code: Final[RejectCode]
    details: Final[Mapping[str, int | str | None]]
    order_id: Final[OrderId | None]
    account_id: Final[AccountId | None]
    symbol: Final[Symbol | None]

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command: str,
        code: RejectCode,
        details: Mapping[str, int | str | None],
        order_id: OrderId | None = None,
        account_id: AccountId | None = None,
        symbol: Symbol | None = None,
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command = command
        self.code = code
        self.details = details
        self.order_id = order_id
        self.account_id = account_id
        self.symbol = symbol


class TradeExecuted(Record):
    """A fill at the resting (maker) order's price; ``*_leaves_t``: each order's open qty after."""

    __match_args__ = (
        "seq",
        "ts_ns",
        "trade_id",
        "symbol",
        "price_fen",
        "qty_t",
        "aggressor",
        "buy_order_id",
        "sell_order_id",
        "buy_account_id",
        "sell_account_id",
        "buy_leaves_t",
        "sell_leaves_t",
    )
    __slots__ = __match_args__

    seq: Final[int]
    ts_ns: Final[int]
    trade_id: Final[TradeId]
    symbol: Final[Symbol]
    price_fen: Final[int]
    qty_t: Final[int]
    aggressor: Final[Side]
    buy_order_id: Final[OrderId]
    sell_order_id: Final[OrderId]
    buy_account_id: Final[AccountId]
    sell_account_id: Final[AccountId]
    buy_leaves_t: Final[int]
    sell_leaves_t: Final[int]

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        trade_id: TradeId,
        symbol: Symbol,
        price_fen: int,
        qty_t: int,
        aggressor: Side,
        buy_order_id: OrderId,
        sell_order_id: OrderId,
        buy_account_id: AccountId,
        sell_account_id: AccountId,
        buy_leaves_t: int,
        sell_leaves_t: int,
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.trade_id = trade_id
        self.symbol = symbol
        self.price_fen = price_fen
        self.qty_t = qty_t
        self.aggressor = aggressor
        self.buy_order_id = buy_order_id
        self.sell_order_id = sell_order_id
        self.buy_account_id = buy_account_id
        self.sell_account_id = sell_account_id
        self.buy_leaves_t = buy_leaves_t
        self.sell_leaves_t = sell_leaves_t


class OrderCancelled(Record):
    """The order's whole open quantity ``qty_t`` left the book; the order is finished."""

    __match_args__ = ("seq", "ts_ns", "order_id", "account_id", "symbol", "side", "qty_t", "reason")
    __slots__ = __match_args__

    seq: Final[int]
    ts_ns: Final[int]
    order_id: Final[OrderId]
    account_id: Final[AccountId]
    symbol: Final[Symbol]
    side: Final[Side]
    qty_t: Final[int]
    reason: Final[CancelReason]

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        order_id: OrderId,
        account_id: AccountId,
        symbol: Symbol,
        side: Side,
        qty_t: int,
        reason: CancelReason,
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.order_id = order_id
        self.account_id = account_id
        self.symbol = symbol
        self.side = side
        self.qty_t = qty_t
        self.reason = reason


class OrderReduced(Record):
    """Self-trade prevention (decrement) took ``qty_t`` off an order that stays open."""

    __match_args__ = (
        "seq",
        "ts_ns",
        "order_id",
        "account_id",
        "symbol",
        "side",
        "qty_t",
        "leaves_t",
        "reason",
    )
    __slots__ = __match_args__

    seq: Final[int]
    ts_ns: Final[int]
    order_id: Final[OrderId]
    account_id: Final[AccountId]
    symbol: Final[Symbol]
    side: Final[Side]
    qty_t: Final[int]
    leaves_t: Final[int]
    reason: Final[CancelReason]

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        order_id: OrderId,
        account_id: AccountId,
        symbol: Symbol,
        side: Side,
        qty_t: int,
        leaves_t: int,
        reason: CancelReason,
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.order_id = order_id
        self.account_id = account_id
        self.symbol = symbol
        self.side = side
        self.qty_t = qty_t
        self.leaves_t = leaves_t
        self.reason = reason


class OrderAmended(Record):
    """The order now has ``price_fen`` and total quantity ``qty_t`` (filled + ``leaves_t``)."""

    __match_args__ = (
        "seq",
        "ts_ns",
        "order_id",
        "account_id",
        "symbol",
        "side",
        "price_fen",
        "qty_t",
        "leaves_t",
        "priority_kept",
    )
    __slots__ = __match_args__

    seq: Final[int]
    ts_ns: Final[int]
    order_id: Final[OrderId]
    account_id: Final[AccountId]
    symbol: Final[Symbol]
    side: Final[Side]
    price_fen: Final[int]
    qty_t: Final[int]
    leaves_t: Final[int]
    priority_kept: Final[bool]

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        order_id: OrderId,
        account_id: AccountId,
        symbol: Symbol,
        side: Side,
        price_fen: int,
        qty_t: int,
        leaves_t: int,
        priority_kept: bool,
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.order_id = order_id
        self.account_id = account_id
        self.symbol = symbol
        self.side = side
        self.price_fen = price_fen
        self.qty_t = qty_t
        self.leaves_t = leaves_t
        self.priority_kept = priority_kept


class BookLevelChanged(Record):
    """An L2 delta: the level's new total. ``qty_t == 0`` means the level is gone."""

    __match_args__ = ("seq", "ts_ns", "symbol", "side", "price_fen", "qty_t", "order_count")
    __slots__ = __match_args__

    seq: Final[int]
    ts_ns: Final[int]
    symbol: Final[Symbol]
    side: Final[Side]
    price_fen: Final[int]
    qty_t: Final[int]
    order_count: Final[int]

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        symbol: Symbol,
        side: Side,
        price_fen: int,
        qty_t: int,
        order_count: int,
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.symbol = symbol
        self.side = side
        self.price_fen = price_fen
        self.qty_t = qty_t
        self.order_count = order_count


class TradingStateChanged(Record):
    __match_args__ = ("seq", "ts_ns", "symbol", "state", "previous")
    __slots__ = __match_args__

    seq: Final[int]
    ts_ns: Final[int]
    symbol: Final[Symbol]
    state: Final[TradingState]
    previous: Final[TradingState]

    def __init__(
        self, seq: int, ts_ns: int, symbol: Symbol, state: TradingState, previous: TradingState
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.symbol = symbol
        self.state = state
        self.previous = previous


class ReferencePriceSet(Record):
    __match_args__ = ("seq", "ts_ns", "symbol", "price_fen", "band_lower_fen", "band_upper_fen")
    __slots__ = __match_args__

    seq: Final[int]
    ts_ns: Final[int]
    symbol: Final[Symbol]
    price_fen: Final[int]
    band_lower_fen: Final[int]
    band_upper_fen: Final[int]

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        symbol: Symbol,
        price_fen: int,
        band_lower_fen: int,
        band_upper_fen: int,
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.symbol = symbol
        self.price_fen = price_fen
        self.band_lower_fen = band_lower_fen
        self.band_upper_fen = band_upper_fen


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
