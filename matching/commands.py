"""Commands the engine accepts: one immutable class per command.

Ids and timestamps come in with the command (the sequencer assigns them), so the engine never
reads a clock or draws an id. Commands and events are ``Record``s (slotted classes with
``Final`` fields) rather than frozen dataclasses because they are built once per command on the
hot path; see docs/adr/0001-records-for-commands-and-events.md.
"""

from __future__ import annotations

from typing import Final

from matching.record import Record
from matching.types import AccountId, OrderId, OrderType, Side, StpMode, Symbol, TradingState


class NewOrder(Record):
    """Place an order. ``price_fen`` is required for LIMIT, IOC and FOK, absent for MARKET."""

    __match_args__ = (
        "ts_ns",
        "order_id",
        "account_id",
        "symbol",
        "side",
        "order_type",
        "qty_t",
        "price_fen",
        "stp",
    )
    __slots__ = __match_args__

    ts_ns: Final[int]
    order_id: Final[OrderId]
    account_id: Final[AccountId]
    symbol: Final[Symbol]
    side: Final[Side]
    order_type: Final[OrderType]
    qty_t: Final[int]
    price_fen: Final[int | None]
    stp: Final[StpMode]

    def __init__(
        self,
        ts_ns: int,
        order_id: OrderId,
        account_id: AccountId,
        symbol: Symbol,
        side: Side,
        order_type: OrderType,
        qty_t: int,
        price_fen: int | None = None,
        stp: StpMode = StpMode.CANCEL_NEWEST,
    ) -> None:
        self.ts_ns = ts_ns
        self.order_id = order_id
        self.account_id = account_id
        self.symbol = symbol
        self.side = side
        self.order_type = order_type
        self.qty_t = qty_t
        self.price_fen = price_fen
        self.stp = stp


class CancelOrder(Record):
    """Cancel the open quantity of a resting order (撤单)."""

    __match_args__ = ("ts_ns", "order_id", "account_id")
    __slots__ = __match_args__

    ts_ns: Final[int]
    order_id: Final[OrderId]
    account_id: Final[AccountId]

    def __init__(self, ts_ns: int, order_id: OrderId, account_id: AccountId) -> None:
        self.ts_ns = ts_ns
        self.order_id = order_id
        self.account_id = account_id


class AmendOrder(Record):
    """Change a resting order's price and/or total quantity (filled + open), atomically.

    ``None`` leaves a field as it is. Reducing the quantity at the same price keeps the order's
    place in the queue; a price change or a quantity increase sends it to the back, and a new
    price that crosses the book trades at once."""

    __match_args__ = ("ts_ns", "order_id", "account_id", "price_fen", "qty_t")
    __slots__ = __match_args__

    ts_ns: Final[int]
    order_id: Final[OrderId]
    account_id: Final[AccountId]
    price_fen: Final[int | None]
    qty_t: Final[int | None]

    def __init__(
        self,
        ts_ns: int,
        order_id: OrderId,
        account_id: AccountId,
        price_fen: int | None = None,
        qty_t: int | None = None,
    ) -> None:
        self.ts_ns = ts_ns
        self.order_id = order_id
        self.account_id = account_id
        self.price_fen = price_fen
        self.qty_t = qty_t


class CancelAccountOrders(Record):
    """Kill switch: cancel every open order of an account, in one instrument or in all."""

    __match_args__ = ("ts_ns", "account_id", "symbol")
    __slots__ = __match_args__

    ts_ns: Final[int]
    account_id: Final[AccountId]
    symbol: Final[Symbol | None]

    def __init__(self, ts_ns: int, account_id: AccountId, symbol: Symbol | None = None) -> None:
        self.ts_ns = ts_ns
        self.account_id = account_id
        self.symbol = symbol


class SetTradingState(Record):
    """Move an instrument to another trading state.

    Moving to CLOSED expires every resting order (all orders are day orders). Moving to HALTED
    with ``cancel_resting`` cancels every resting order of the instrument."""

    __match_args__ = ("ts_ns", "symbol", "state", "cancel_resting")
    __slots__ = __match_args__

    ts_ns: Final[int]
    symbol: Final[Symbol]
    state: Final[TradingState]
    cancel_resting: Final[bool]

    def __init__(
        self, ts_ns: int, symbol: Symbol, state: TradingState, cancel_resting: bool = False
    ) -> None:
        self.ts_ns = ts_ns
        self.symbol = symbol
        self.state = state
        self.cancel_resting = cancel_resting


class SetReferencePrice(Record):
    """Set the reference price (previous close) the price band is computed from.

    Allowed only while the instrument is CLOSED or PRE_OPEN, when no order rests."""

    __match_args__ = ("ts_ns", "symbol", "price_fen")
    __slots__ = __match_args__

    ts_ns: Final[int]
    symbol: Final[Symbol]
    price_fen: Final[int]

    def __init__(self, ts_ns: int, symbol: Symbol, price_fen: int) -> None:
        self.ts_ns = ts_ns
        self.symbol = symbol
        self.price_fen = price_fen


class TakeQuote(Record):
    """Take a resting quote (摘牌, point-select): ``qty_t`` of order ``quote_id`` at its price.

    The taker's own order, ``order_id``, is of the counter side and meets that quote only: it
    fills in full (FOK at the quote's price) or the take is refused. Whether the quote may be
    taken (among the best ``take_levels`` levels, first in priority, in part) is the book
    mode's rule (``matching.instruments.ModeRules``)."""

    __match_args__ = ("ts_ns", "order_id", "account_id", "quote_id", "qty_t")
    __slots__ = __match_args__

    ts_ns: Final[int]
    order_id: Final[OrderId]
    account_id: Final[AccountId]
    quote_id: Final[OrderId]
    qty_t: Final[int]

    def __init__(
        self, ts_ns: int, order_id: OrderId, account_id: AccountId, quote_id: OrderId, qty_t: int
    ) -> None:
        self.ts_ns = ts_ns
        self.order_id = order_id
        self.account_id = account_id
        self.quote_id = quote_id
        self.qty_t = qty_t


Command = (
    NewOrder
    | CancelOrder
    | AmendOrder
    | CancelAccountOrders
    | SetTradingState
    | SetReferencePrice
    | TakeQuote
)
