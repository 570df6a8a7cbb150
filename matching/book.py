"""The order book's mutable parts: resting orders, price levels and the two sides of a book.

Each price level is an intrusive doubly linked list of orders in time priority, so an order
leaves its level in O(1) however deep the level is. Each side keeps its levels in a
``SortedDict`` by price and caches its best level, so the touch is read in O(1) and the sorted
structure is only touched when a level appears or disappears.
"""

from __future__ import annotations

from sortedcontainers import SortedDict

from matching.instruments import Instrument
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


class Order:
    """An order the engine knows: resting, or finished (kept for status queries).

    ``submitted_t`` is the quantity ever asked for (original plus amendments upward); the
    cancelled quantity is what is neither filled nor open: ``submitted - filled - leaves``.
    ``level`` is set exactly while the order rests.
    """

    __slots__ = (
        "account_id",
        "book",
        "cancel_reason",
        "filled_t",
        "leaves_t",
        "level",
        "next",
        "order_id",
        "order_type",
        "prev",
        "price_fen",
        "priority",
        "side",
        "stp",
        "submitted_t",
    )

    def __init__(
        self,
        order_id: OrderId,
        account_id: AccountId,
        book: OrderBook,
        side: Side,
        order_type: OrderType,
        price_fen: int | None,
        qty_t: int,
        stp: StpMode,
        priority: int,
    ) -> None:
        self.order_id = order_id
        self.account_id = account_id
        self.book = book
        self.side = side
        self.order_type = order_type
        self.price_fen = price_fen
        self.leaves_t = qty_t
        self.filled_t = 0
        self.submitted_t = qty_t
        self.stp = stp
        self.priority = priority
        self.cancel_reason: CancelReason | None = None
        self.prev: Order | None = None
        self.next: Order | None = None
        self.level: PriceLevel | None = None

    @property
    def cancelled_t(self) -> int:
        return self.submitted_t - self.filled_t - self.leaves_t

    @property
    def status(self) -> OrderStatus:
        if self.cancel_reason is not None:
            return OrderStatus.CANCELLED
        if self.leaves_t == 0:
            return OrderStatus.FILLED
        return OrderStatus.PARTIALLY_FILLED if self.filled_t else OrderStatus.NEW


class PriceLevel:
    """All resting orders of one side at one price, oldest first.

    ``epoch``, ``snap_qty_t`` and ``snap_count`` remember the level as it was when the current
    command first touched it, so the engine can emit one L2 change per level per command.
    """

    __slots__ = (
        "count",
        "epoch",
        "head",
        "price_fen",
        "qty_t",
        "side",
        "snap_count",
        "snap_qty_t",
        "symbol",
        "tail",
    )

    def __init__(self, symbol: Symbol, side: Side, price_fen: int) -> None:
        self.symbol = symbol
        self.side = side
        self.price_fen = price_fen
        self.qty_t = 0
        self.count = 0
        self.head: Order | None = None
        self.tail: Order | None = None
        self.epoch = -1
        self.snap_qty_t = 0
        self.snap_count = 0

    def append(self, order: Order) -> None:
        tail = self.tail
        order.prev = tail
        order.next = None
        if tail is None:
            self.head = order
        else:
            tail.next = order
        self.tail = order
        order.level = self
        self.qty_t += order.leaves_t
        self.count += 1

    def unlink(self, order: Order) -> None:
        """Take ``order`` out of the queue; its open quantity leaves the level's total."""
        prev = order.prev
        nxt = order.next
        if prev is None:
            self.head = nxt
        else:
            prev.next = nxt
        if nxt is None:
            self.tail = prev
        else:
            nxt.prev = prev
        order.prev = order.next = None
        order.level = None
        self.qty_t -= order.leaves_t
        self.count -= 1

    def orders(self) -> list[Order]:
        out = []
        order = self.head
        while order is not None:
            out.append(order)
            order = order.next
        return out


class BookSide:
    """The bids or the asks of one book: levels by price and the cached best level."""

    __slots__ = ("best", "is_bid", "levels", "side", "symbol")

    def __init__(self, symbol: Symbol, side: Side) -> None:
        self.symbol = symbol
        self.side = side
        self.is_bid = side is Side.BUY
        self.levels: SortedDict = SortedDict()
        self.best: PriceLevel | None = None

    def level_at(self, price_fen: int) -> PriceLevel:
        """The level at ``price_fen``, created if the side has none there."""
        level: PriceLevel | None = self.levels.get(price_fen)
        if level is None:
            level = PriceLevel(self.symbol, self.side, price_fen)
            self.levels[price_fen] = level
            best = self.best
            if (
                best is None
                or (self.is_bid and price_fen > best.price_fen)
                or (not self.is_bid and price_fen < best.price_fen)
            ):
                self.best = level
        return level

    def remove(self, level: PriceLevel) -> None:
        del self.levels[level.price_fen]
        if self.best is level:
            levels = self.levels
            self.best = None if not levels else levels.peekitem(-1 if self.is_bid else 0)[1]

    def from_best(self) -> list[PriceLevel]:
        values = self.levels.values()
        return list(reversed(values)) if self.is_bid else list(values)


class OrderBook:
    """One instrument's book and its trading day: state, reference price and band."""

    __slots__ = (
        "asks",
        "band_lower_fen",
        "band_upper_fen",
        "bids",
        "crosses",
        "instrument",
        "lot_t",
        "max_qty_t",
        "min_qty_t",
        "partial_take",
        "reference_price_fen",
        "state",
        "strict_priority",
        "symbol",
        "take_levels",
        "tick_fen",
    )

    def __init__(self, instrument: Instrument, reference_price_fen: int) -> None:
        self.instrument = instrument
        self.symbol = instrument.symbol
        rules = instrument.book_rules
        self.tick_fen = instrument.tick_fen
        self.lot_t = instrument.lot_t
        self.min_qty_t = rules.min_qty_t
        self.max_qty_t = rules.max_qty_t
        self.crosses = rules.crosses  # whether a marketable order may trade (else refused)
        self.take_levels = rules.take_levels if rules.takes else 0  # 0: no point-select
        self.strict_priority = rules.strict_price_priority
        self.partial_take = rules.partial_take
        self.bids = BookSide(instrument.symbol, Side.BUY)
        self.asks = BookSide(instrument.symbol, Side.SELL)
        self.state = TradingState.CLOSED
        self.reference_price_fen = 0
        self.band_lower_fen = 0
        self.band_upper_fen = 0
        self.set_reference_price(reference_price_fen)

    def set_reference_price(self, price_fen: int) -> None:
        self.reference_price_fen = price_fen
        self.band_lower_fen, self.band_upper_fen = self.instrument.band(price_fen)

    def side(self, side: Side) -> BookSide:
        return self.bids if side is Side.BUY else self.asks

    def resting_orders(self) -> list[Order]:
        return [
            o for side in (self.bids, self.asks) for lv in side.levels.values() for o in lv.orders()
        ]
