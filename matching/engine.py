"""The matching engine of one market: price-time priority over every listed instrument.

One engine per market, driven by one writer. ``apply`` takes a command and returns the events
it caused; a refused command returns a single ``CommandRejected`` and changes nothing, because
every check runs before the first change. Trades happen at the resting order's price.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from itertools import islice
from typing import Final

from matching.book import BookSide, Order, OrderBook, PriceLevel
from matching.codes import RejectCode
from matching.commands import (
    AmendOrder,
    CancelAccountOrders,
    CancelOrder,
    Command,
    NewOrder,
    SetReferencePrice,
    SetTradingState,
    TakeQuote,
)
from matching.events import (
    BookLevelChanged,
    CommandRejected,
    Event,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderReduced,
    ReferencePriceSet,
    TradeExecuted,
    TradingStateChanged,
)
from matching.instruments import Instrument
from matching.lifecycle import STATE_TRANSITIONS
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
from matching.views import (
    BestBidOffer,
    BookInfo,
    Depth,
    LevelView,
    OrderView,
    QueueEntry,
)

# Module constants marked Final so that mypyc binds them once (see docs/adr/0002).
BUY: Final = Side.BUY
SELL: Final = Side.SELL
LIMIT: Final = OrderType.LIMIT
IOC: Final = OrderType.IOC
MARKET: Final = OrderType.MARKET
FOK: Final = OrderType.FOK
CONTINUOUS: Final = TradingState.CONTINUOUS
HALTED: Final = TradingState.HALTED
CANCEL_NEWEST: Final = StpMode.CANCEL_NEWEST
CANCEL_OLDEST: Final = StpMode.CANCEL_OLDEST
CANCEL_BOTH: Final = StpMode.CANCEL_BOTH
DECREMENT: Final = StpMode.DECREMENT
STP: Final = CancelReason.STP

Details = dict[str, int | str | None]


class MatchingEngine:
    """Books, orders and the event sequence of one market."""

    def __init__(
        self, instruments: Iterable[Instrument], reference_prices_fen: Mapping[str, int]
    ) -> None:
        self._books: dict[Symbol, OrderBook] = {}
        for instrument in instruments:
            if instrument.symbol in self._books:
                raise ValueError(f"instrument {instrument.symbol} listed twice")
            price = reference_prices_fen.get(instrument.symbol)
            if price is None or price <= 0 or price % instrument.tick_fen:
                raise ValueError(
                    f"{instrument.symbol}: reference price {price!r} must be positive and on "
                    f"the tick of {instrument.tick_fen} fen"
                )
            self._books[instrument.symbol] = OrderBook(instrument, price)
        self._orders: dict[OrderId, Order] = {}
        self._open_by_account: dict[AccountId, dict[OrderId, Order]] = {}
        self._seq = 0
        self._trade_seq = 0
        self._epoch = 0
        self._touched: list[PriceLevel] = []

    # ------------------------------------------------------------------ commands

    def apply(self, command: Command) -> list[Event]:
        """Apply one command; return the events it caused, in sequence order."""
        if type(command) is NewOrder:
            return self._new_order(command)
        if type(command) is CancelOrder:
            return self._cancel_order(command)
        if type(command) is AmendOrder:
            return self._amend_order(command)
        if type(command) is CancelAccountOrders:
            return self._cancel_account_orders(command)
        if type(command) is SetTradingState:
            return self._set_trading_state(command)
        if type(command) is SetReferencePrice:
            return self._set_reference_price(command)
        if type(command) is TakeQuote:
            return self._take_quote(command)
        raise TypeError(f"not a matching command: {command!r}")

    def validate_new(self, cmd: NewOrder) -> tuple[RejectCode, Details] | None:
        """The refusal ``apply(cmd)`` would answer, in the same order of checks, or None if
        the order would be accepted. Settlement asks first, so that a price outside the band
        is reported as such rather than as a shortage of funds."""
        book = self._books.get(cmd.symbol)
        if book is None:
            return RejectCode.UNKNOWN_INSTRUMENT, {"symbol": cmd.symbol}
        if cmd.order_id in self._orders:
            return RejectCode.DUPLICATE_ORDER_ID, {"order_id": cmd.order_id}
        refusal = self._check_open(book)
        if refusal is not None:
            return refusal
        refusal = self._check_qty(book, cmd.qty_t)
        if refusal is not None:
            return refusal
        if not book.crosses and cmd.order_type is not LIMIT:
            return RejectCode.ORDER_TYPE_NOT_ALLOWED, {
                "order_type": cmd.order_type.value,
                "matching": "point_select",
            }
        price = cmd.price_fen
        if cmd.order_type is MARKET:
            if price is not None:
                return RejectCode.PRICE_NOT_ALLOWED, {"price_fen": price}
            return None
        if price is None:
            return RejectCode.PRICE_REQUIRED, {"order_type": cmd.order_type.value}
        refusal = self._check_price(book, price)
        if refusal is not None or book.crosses:
            return refusal
        return self._check_cross(book, cmd.side, price)

    def validate_take(self, cmd: TakeQuote) -> tuple[RejectCode, Details] | None:
        """The refusal ``apply(cmd)`` would answer, in the same order of checks, or None if
        the take would trade."""
        if cmd.order_id in self._orders:
            return RejectCode.DUPLICATE_ORDER_ID, {"order_id": cmd.order_id}
        quote = self._orders.get(cmd.quote_id)
        if quote is None or quote.level is None:
            if not any(book.take_levels for book in self._books.values()):
                return RejectCode.POINT_SELECT_NOT_OFFERED, {"matching": "price_time"}
            return RejectCode.QUOTE_NOT_FOUND, {"order_id": cmd.quote_id}
        book = quote.book
        take_levels = book.take_levels
        if not take_levels:
            return RejectCode.POINT_SELECT_NOT_OFFERED, {"matching": "price_time"}
        refusal = self._check_open(book)
        if refusal is not None:
            return refusal
        if quote.account_id == cmd.account_id:
            return RejectCode.SELF_TAKE, {"order_id": cmd.quote_id}
        qty = cmd.qty_t
        refusal = self._check_qty(book, qty)
        if refusal is not None:
            return refusal
        leaves = quote.leaves_t
        if qty > leaves:
            return RejectCode.TAKE_OVER_QUOTE, {
                "order_id": cmd.quote_id,
                "qty_t": qty,
                "quote_qty_t": leaves,
            }
        if qty < leaves and not book.partial_take:
            return RejectCode.PARTIAL_TAKE_NOT_ALLOWED, {
                "order_id": cmd.quote_id,
                "qty_t": qty,
                "quote_qty_t": leaves,
            }
        price = quote.price_fen
        assert price is not None, "only limit orders rest"
        side = book.side(quote.side)
        level = take_level(side, price)
        if level > take_levels:
            return RejectCode.QUOTE_OUTSIDE_TAKE_LEVELS, {
                "order_id": cmd.quote_id,
                "price_fen": price,
                "level": level,
                "take_levels": take_levels,
            }
        best = side.best
        assert best is not None
        first = best.head
        assert first is not None
        if book.strict_priority and first is not quote:
            return RejectCode.QUOTE_NOT_FIRST, {
                "order_id": cmd.quote_id,
                "first_order_id": first.order_id,
                "price_fen": best.price_fen,
            }
        return None

    def validate_cancel(self, cmd: CancelOrder) -> tuple[RejectCode, Details] | None:
        """The refusal ``apply(cmd)`` would answer, or None: the caller's own open order."""
        refusal = self._own_open_order(cmd.order_id, cmd.account_id)[1]
        return None if refusal is None else (refusal[0], refusal[1])

    def validate_amend(self, cmd: AmendOrder) -> tuple[RejectCode, Details] | None:
        """The refusal ``apply(cmd)`` would answer, in the same order of checks, or None."""
        order, refusal = self._own_open_order(cmd.order_id, cmd.account_id)
        if order is None:
            assert refusal is not None
            return refusal[0], refusal[1]
        return self._check_amend(order.book, order.side, *_amendment(order, cmd))

    def band(self, symbol: str) -> tuple[int, int]:
        """Today's inclusive price band (lower, upper) of an instrument."""
        book = self._books[Symbol(symbol)]
        return book.band_lower_fen, book.band_upper_fen

    def _new_order(self, cmd: NewOrder) -> list[Event]:
        refusal = self.validate_new(cmd)
        if refusal is not None:
            return self._reject_new(cmd, *refusal)
        book = self._books[cmd.symbol]
        order_id = cmd.order_id
        qty = cmd.qty_t
        price = cmd.price_fen
        order_type = cmd.order_type
        side = cmd.side
        if order_type is MARKET:
            limit = book.band_upper_fen if side is BUY else book.band_lower_fen
        else:
            assert price is not None
            limit = price

        self._epoch += 1
        seq = self._seq + 1
        self._seq = seq
        ts = cmd.ts_ns
        order = Order(order_id, cmd.account_id, book, side, order_type, price, qty, cmd.stp, seq)
        self._orders[order_id] = order
        events: list[Event] = [
            OrderAccepted(
                seq,
                ts,
                order_id,
                cmd.account_id,
                book.symbol,
                side,
                order_type,
                price,
                qty,
                cmd.stp,
            )
        ]
        if order_type is FOK and not self._fok_fillable(order, limit):
            self._finish(order, CancelReason.FOK_NOT_FILLABLE, events, ts)
            return events
        self._take(order, limit, events, ts)
        if order.leaves_t and order.cancel_reason is None:
            if order_type is LIMIT:
                self._rest(order)
            else:
                assert order_type is not FOK, "a fillable FOK order must fill in full"
                self._finish(order, CancelReason.IOC_REMAINDER, events, ts)
        if self._touched:
            self._flush_levels(events, ts)
        return events

    def _take_quote(self, cmd: TakeQuote) -> list[Event]:
        ts = cmd.ts_ns
        refusal = self.validate_take(cmd)
        if refusal is not None:
            quote = self._orders.get(cmd.quote_id)
            symbol = None if quote is None or quote.level is None else quote.book.symbol
            return self._reject("take_quote", ts, *refusal, cmd.order_id, cmd.account_id, symbol)
        quote = self._orders[cmd.quote_id]
        book = quote.book
        level = quote.level
        assert level is not None
        price = quote.price_fen
        assert price is not None
        qty = cmd.qty_t
        account = cmd.account_id
        side = quote.side.opposite
        self._epoch += 1
        seq = self._seq + 1
        self._seq = seq
        taker = Order(cmd.order_id, account, book, side, FOK, price, qty, CANCEL_NEWEST, seq)
        self._orders[taker.order_id] = taker
        events: list[Event] = [
            OrderAccepted(
                seq, ts, taker.order_id, account, book.symbol, side, FOK, price, qty, CANCEL_NEWEST
            )
        ]
        self._touch(level)
        quote.leaves_t -= qty
        quote.filled_t += qty
        level.qty_t -= qty
        taker.leaves_t = 0
        taker.filled_t = qty
        if not quote.leaves_t:
            self._remove_resting(quote, level)
        self._seq += 1
        self._trade_seq += 1
        trade_id = TradeId(self._trade_seq)
        if side is BUY:
            trade = TradeExecuted(
                self._seq, ts, trade_id, book.symbol, price, qty, BUY,
                taker.order_id, quote.order_id, account, quote.account_id, 0, quote.leaves_t,
            )  # fmt: skip
        else:
            trade = TradeExecuted(
                self._seq, ts, trade_id, book.symbol, price, qty, SELL,
                quote.order_id, taker.order_id, quote.account_id, account, quote.leaves_t, 0,
            )  # fmt: skip
        events.append(trade)
        self._flush_levels(events, ts)
        return events

    def _cancel_order(self, cmd: CancelOrder) -> list[Event]:
        order, refusal = self._own_open_order(cmd.order_id, cmd.account_id)
        if order is None:
            assert refusal is not None
            code, details, symbol = refusal
            return self._reject(
                "cancel_order", cmd.ts_ns, code, details, cmd.order_id, cmd.account_id, symbol
            )
        self._epoch += 1
        events: list[Event] = []
        self._cancel_resting(order, CancelReason.USER, events, cmd.ts_ns)
        self._flush_levels(events, cmd.ts_ns)
        return events

    def _amend_order(self, cmd: AmendOrder) -> list[Event]:
        ts = cmd.ts_ns
        order, refusal = self._own_open_order(cmd.order_id, cmd.account_id)
        if order is None:
            assert refusal is not None
            code, details, symbol = refusal
            return self._reject(
                "amend_order", ts, code, details, cmd.order_id, cmd.account_id, symbol
            )
        book = order.book
        old_price, old_qty, filled, new_price, new_qty = _amendment(order, cmd)
        problem = self._check_amend(
            book, order.side, old_price, old_qty, filled, new_price, new_qty
        )
        if problem is not None:
            return self._reject(
                "amend_order", ts, *problem, order.order_id, order.account_id, book.symbol
            )

        self._epoch += 1
        seq = self._seq + 1
        self._seq = seq
        level = order.level
        assert level is not None
        new_leaves = new_qty - filled
        keep_priority = new_price == old_price and new_qty < old_qty
        events: list[Event] = [
            OrderAmended(
                seq,
                ts,
                order.order_id,
                order.account_id,
                book.symbol,
                order.side,
                new_price,
                new_qty,
                new_leaves,
                keep_priority,
            )
        ]
        self._touch(level)
        if keep_priority:
            level.qty_t -= order.leaves_t - new_leaves
            order.leaves_t = new_leaves
        elif new_price == old_price:
            # A larger order at the same price goes to the back of its own level.
            level.unlink(order)
            order.submitted_t += new_qty - old_qty
            order.leaves_t = new_leaves
            order.priority = seq
            level.append(order)
        else:
            self._remove_resting(order, level)
            if new_qty > old_qty:
                order.submitted_t += new_qty - old_qty
            order.leaves_t = new_leaves
            order.price_fen = new_price
            order.priority = seq
            self._take(order, new_price, events, ts)
            if order.leaves_t and order.cancel_reason is None:
                self._rest(order)
        self._flush_levels(events, ts)
        return events

    def _cancel_account_orders(self, cmd: CancelAccountOrders) -> list[Event]:
        open_orders = self._open_by_account.get(cmd.account_id)
        events: list[Event] = []
        if not open_orders:
            return events
        targets = [
            o for o in open_orders.values() if cmd.symbol is None or o.book.symbol == cmd.symbol
        ]
        self._cancel_all(targets, CancelReason.KILL_SWITCH, events, cmd.ts_ns)
        return events

    def _set_trading_state(self, cmd: SetTradingState) -> list[Event]:
        ts = cmd.ts_ns
        book = self._books.get(cmd.symbol)
        if book is None:
            return self._reject(
                "set_trading_state",
                ts,
                RejectCode.UNKNOWN_INSTRUMENT,
                {"symbol": cmd.symbol},
                symbol=cmd.symbol,
            )
        previous = book.state
        if cmd.state not in STATE_TRANSITIONS[previous]:
            return self._reject(
                "set_trading_state",
                ts,
                RejectCode.INVALID_STATE_TRANSITION,
                {"from": previous.value, "to": cmd.state.value},
                symbol=book.symbol,
            )
        book.state = cmd.state
        self._seq += 1
        events: list[Event] = [TradingStateChanged(self._seq, ts, book.symbol, cmd.state, previous)]
        if cmd.state is TradingState.CLOSED:
            self._cancel_all(book.resting_orders(), CancelReason.EXPIRY, events, ts)
        elif cmd.state is HALTED and cmd.cancel_resting:
            self._cancel_all(book.resting_orders(), CancelReason.HALT, events, ts)
        return events

    def _set_reference_price(self, cmd: SetReferencePrice) -> list[Event]:
        ts = cmd.ts_ns
        book = self._books.get(cmd.symbol)
        if book is None:
            return self._reject(
                "set_reference_price",
                ts,
                RejectCode.UNKNOWN_INSTRUMENT,
                {"symbol": cmd.symbol},
                symbol=cmd.symbol,
            )
        if book.state not in (TradingState.CLOSED, TradingState.PRE_OPEN):
            return self._reject(
                "set_reference_price",
                ts,
                RejectCode.REFERENCE_PRICE_LOCKED,
                {"state": book.state.value},
                symbol=book.symbol,
            )
        price = cmd.price_fen
        if price <= 0 or price % book.tick_fen:
            return self._reject(
                "set_reference_price",
                ts,
                RejectCode.INVALID_REFERENCE_PRICE,
                {"price_fen": price, "tick_fen": book.tick_fen},
                symbol=book.symbol,
            )
        book.set_reference_price(price)
        self._seq += 1
        return [
            ReferencePriceSet(
                self._seq, ts, book.symbol, price, book.band_lower_fen, book.band_upper_fen
            )
        ]

    # ------------------------------------------------------------------ validation

    @staticmethod
    def _check_open(book: OrderBook) -> tuple[RejectCode, Details] | None:
        state = book.state
        if state is CONTINUOUS:
            return None
        code = RejectCode.INSTRUMENT_HALTED if state is HALTED else RejectCode.INSTRUMENT_NOT_OPEN
        return code, {"state": state.value}

    @staticmethod
    def _check_qty(book: OrderBook, qty: int) -> tuple[RejectCode, Details] | None:
        max_qty = book.max_qty_t
        if qty < book.min_qty_t or (max_qty is not None and qty > max_qty):
            return RejectCode.QTY_OUTSIDE_LIMITS, {
                "qty_t": qty,
                "min_qty_t": book.min_qty_t,
                "max_qty_t": max_qty,
            }
        if qty % book.lot_t:
            return RejectCode.QTY_OFF_LOT, {"qty_t": qty, "lot_t": book.lot_t}
        return None

    @staticmethod
    def _check_price(book: OrderBook, price: int) -> tuple[RejectCode, Details] | None:
        if price % book.tick_fen:
            return RejectCode.PRICE_OFF_TICK, {"price_fen": price, "tick_fen": book.tick_fen}
        if price < book.band_lower_fen or price > book.band_upper_fen:
            return RejectCode.PRICE_OUTSIDE_BAND, {
                "price_fen": price,
                "band_lower_fen": book.band_lower_fen,
                "band_upper_fen": book.band_upper_fen,
                "reference_price_fen": book.reference_price_fen,
            }
        return None

    def _check_amend(
        self,
        book: OrderBook,
        side: Side,
        old_price: int,
        old_qty: int,
        filled: int,
        new_price: int,
        new_qty: int,
    ) -> tuple[RejectCode, Details] | None:
        refusal = self._check_open(book)
        if refusal is not None:
            return refusal
        if new_price == old_price and new_qty == old_qty:
            return RejectCode.AMEND_NO_CHANGE, {"price_fen": old_price, "qty_t": old_qty}
        refusal = self._check_qty(book, new_qty)
        if refusal is not None:
            return refusal
        if new_qty <= filled:
            return RejectCode.AMEND_QTY_NOT_ABOVE_FILLED, {"qty_t": new_qty, "filled_t": filled}
        refusal = self._check_price(book, new_price)
        if refusal is not None or book.crosses:
            return refusal
        return self._check_cross(book, side, new_price)

    @staticmethod
    def _check_cross(book: OrderBook, side: Side, price: int) -> tuple[RejectCode, Details] | None:
        """Under point-select only: an order at ``price`` must not reach the counter side's
        best quote (the taker takes it instead)."""
        best = book.asks.best if side is BUY else book.bids.best
        if best is None:
            return None
        best_price = best.price_fen
        if (price < best_price) if side is BUY else (price > best_price):
            return None
        return RejectCode.ORDER_WOULD_CROSS, {
            "side": side.value,
            "price_fen": price,
            "best_price_fen": best_price,
        }

    def _own_open_order(
        self, order_id: OrderId, account_id: AccountId
    ) -> tuple[Order | None, tuple[RejectCode, Details, Symbol | None] | None]:
        """The caller's open order, or the refusal. Another account's order stays anonymous;
        the caller's own finished order is named with its instrument."""
        order = self._orders.get(order_id)
        if order is None:
            return None, (RejectCode.UNKNOWN_ORDER, {"order_id": order_id}, None)
        if order.account_id != account_id:
            return None, (RejectCode.NOT_OWNER, {"order_id": order_id}, None)
        if order.level is None:
            details: Details = {"order_id": order_id, "status": order.status.value}
            return None, (RejectCode.ORDER_NOT_OPEN, details, order.book.symbol)
        return order, None

    def _reject_new(self, cmd: NewOrder, code: RejectCode, details: Details) -> list[Event]:
        return self._reject(
            "new_order", cmd.ts_ns, code, details, cmd.order_id, cmd.account_id, cmd.symbol
        )

    def _reject(
        self,
        command: str,
        ts: int,
        code: RejectCode,
        details: Details,
        order_id: OrderId | None = None,
        account_id: AccountId | None = None,
        symbol: Symbol | None = None,
    ) -> list[Event]:
        self._seq += 1
        return [
            CommandRejected(self._seq, ts, command, code, details, order_id, account_id, symbol)
        ]

    # ------------------------------------------------------------------ matching

    def _take(self, taker: Order, limit: int, events: list[Event], ts: int) -> None:
        """Match ``taker`` against the opposite side down to ``limit``, best price first."""
        book = taker.book
        is_buy = taker.side is BUY
        opposite = book.asks if is_buy else book.bids
        account = taker.account_id
        while taker.leaves_t:
            level = opposite.best
            if level is None:
                return
            price = level.price_fen
            if (price > limit) if is_buy else (price < limit):
                return
            self._touch(level)
            maker = level.head
            while maker is not None and taker.leaves_t:
                following = maker.next
                if maker.account_id == account:
                    if not self._prevent_self_trade(taker, maker, level, events, ts):
                        if not level.count:
                            opposite.remove(level)
                        return
                else:
                    qty = taker.leaves_t if taker.leaves_t < maker.leaves_t else maker.leaves_t
                    maker.leaves_t -= qty
                    maker.filled_t += qty
                    taker.leaves_t -= qty
                    taker.filled_t += qty
                    level.qty_t -= qty
                    if not maker.leaves_t:
                        level.unlink(maker)
                        del self._open_by_account[maker.account_id][maker.order_id]
                    self._seq += 1
                    self._trade_seq += 1
                    if is_buy:
                        events.append(
                            TradeExecuted(
                                self._seq,
                                ts,
                                TradeId(self._trade_seq),
                                book.symbol,
                                price,
                                qty,
                                BUY,
                                taker.order_id,
                                maker.order_id,
                                account,
                                maker.account_id,
                                taker.leaves_t,
                                maker.leaves_t,
                            )
                        )
                    else:
                        events.append(
                            TradeExecuted(
                                self._seq,
                                ts,
                                TradeId(self._trade_seq),
                                book.symbol,
                                price,
                                qty,
                                SELL,
                                maker.order_id,
                                taker.order_id,
                                maker.account_id,
                                account,
                                maker.leaves_t,
                                taker.leaves_t,
                            )
                        )
                maker = following
            if not level.count:
                opposite.remove(level)

    def _prevent_self_trade(
        self, taker: Order, maker: Order, level: PriceLevel, events: list[Event], ts: int
    ) -> bool:
        """Apply the taker's STP mode; return whether the taker may go on matching."""
        mode = taker.stp
        if mode is CANCEL_NEWEST:
            self._finish(taker, STP, events, ts)
            return False
        if mode is CANCEL_OLDEST:
            self._cancel_resting(maker, STP, events, ts, remove_empty_level=False)
            return True
        if mode is CANCEL_BOTH:
            self._cancel_resting(maker, STP, events, ts, remove_empty_level=False)
            self._finish(taker, STP, events, ts)
            return False
        assert mode is DECREMENT
        qty = min(taker.leaves_t, maker.leaves_t)
        if qty == maker.leaves_t:
            self._cancel_resting(maker, STP, events, ts, remove_empty_level=False)
        else:
            maker.leaves_t -= qty
            level.qty_t -= qty
            self._seq += 1
            events.append(
                OrderReduced(
                    self._seq,
                    ts,
                    maker.order_id,
                    maker.account_id,
                    level.symbol,
                    maker.side,
                    qty,
                    maker.leaves_t,
                    STP,
                )
            )
        if qty == taker.leaves_t:
            self._finish(taker, STP, events, ts)
            return False
        taker.leaves_t -= qty
        self._seq += 1
        events.append(
            OrderReduced(
                self._seq,
                ts,
                taker.order_id,
                taker.account_id,
                level.symbol,
                taker.side,
                qty,
                taker.leaves_t,
                STP,
            )
        )
        return True

    def _fok_fillable(self, taker: Order, limit: int) -> bool:
        """Whether matching would fill ``taker`` in full; a dry run that changes nothing.

        Own orders met on the way stop the fill unless the STP mode is cancel-oldest (which
        would cancel them and go on): cancel-newest and cancel-both end the taker, and
        decrement takes quantity off it without filling it.
        """
        opposite = taker.book.side(taker.side.opposite)
        levels = opposite.levels
        is_bid = opposite.is_bid
        need = taker.leaves_t
        account = taker.account_id
        skip_own = taker.stp is CANCEL_OLDEST
        # Walk prices from the best; iterating the sorted keys is cheap, ``irange`` is not.
        for price in reversed(levels) if is_bid else iter(levels):
            if (price < limit) if is_bid else (price > limit):
                return False
            maker = levels[price].head
            while maker is not None:
                if maker.account_id == account:
                    if not skip_own:
                        return False
                else:
                    need -= maker.leaves_t
                    if need <= 0:
                        return True
                maker = maker.next
        return False

    # ------------------------------------------------------------------ book changes

    def _rest(self, order: Order) -> None:
        assert order.price_fen is not None
        level = order.book.side(order.side).level_at(order.price_fen)
        self._touch(level)
        level.append(order)
        account_orders = self._open_by_account.get(order.account_id)
        if account_orders is None:
            account_orders = self._open_by_account[order.account_id] = {}
        account_orders[order.order_id] = order

    def _remove_resting(self, order: Order, level: PriceLevel) -> None:
        level.unlink(order)
        del self._open_by_account[order.account_id][order.order_id]
        if not level.count:
            order.book.side(order.side).remove(level)

    def _cancel_resting(
        self,
        order: Order,
        reason: CancelReason,
        events: list[Event],
        ts: int,
        *,
        remove_empty_level: bool = True,
    ) -> None:
        """Cancel a resting order's whole open quantity.

        Inside the matching loop the loop itself drops an emptied level, so it passes
        ``remove_empty_level=False``.
        """
        level = order.level
        assert level is not None
        self._touch(level)
        if remove_empty_level:
            self._remove_resting(order, level)
        else:
            level.unlink(order)
            del self._open_by_account[order.account_id][order.order_id]
        self._finish(order, reason, events, ts)

    def _finish(self, order: Order, reason: CancelReason, events: list[Event], ts: int) -> None:
        """Cancel what is left of an order that does not (or no longer) rest."""
        qty = order.leaves_t
        order.leaves_t = 0
        order.cancel_reason = reason
        self._seq += 1
        events.append(
            OrderCancelled(
                self._seq,
                ts,
                order.order_id,
                order.account_id,
                order.book.symbol,
                order.side,
                qty,
                reason,
            )
        )

    def _cancel_all(
        self, orders: list[Order], reason: CancelReason, events: list[Event], ts: int
    ) -> None:
        if not orders:
            return
        self._epoch += 1
        for order in sorted(orders, key=_by_order_id):
            self._cancel_resting(order, reason, events, ts)
        self._flush_levels(events, ts)

    def _touch(self, level: PriceLevel) -> None:
        if level.epoch != self._epoch:
            level.epoch = self._epoch
            level.snap_qty_t = level.qty_t
            level.snap_count = level.count
            self._touched.append(level)

    def _flush_levels(self, events: list[Event], ts: int) -> None:
        touched = self._touched
        if len(touched) > 1:
            touched.sort(key=_level_order)
        for level in touched:
            if level.qty_t != level.snap_qty_t or level.count != level.snap_count:
                self._seq += 1
                events.append(
                    BookLevelChanged(
                        self._seq,
                        ts,
                        level.symbol,
                        level.side,
                        level.price_fen,
                        level.qty_t,
                        level.count,
                    )
                )
        touched.clear()

    # ------------------------------------------------------------------ day end and snapshots

    def prune_finished(self) -> int:
        """Forget orders that no longer rest (filled or cancelled); return how many.

        The market runtime calls this at day end, when every day order has expired, so the
        engine's memory stays bounded over a long run. Its order ids only grow, so a pruned id
        is never offered again; queries about old orders go to the journal's projections.
        """
        finished = [oid for oid, o in self._orders.items() if o.level is None]
        for order_id in finished:
            del self._orders[order_id]
        return len(finished)

    def export_state(self) -> tuple[int, int, tuple[tuple[str, str, int], ...]]:
        """The engine's state as plain values, for a day-end snapshot: the event and trade
        sequences and each book's state and reference price. Only an engine with no order
        resting or remembered can be exported (``prune_finished`` after the close)."""
        if self._orders:
            raise ValueError(f"{len(self._orders)} orders are still known; prune after the close")
        books = tuple(
            (str(symbol), book.state.value, book.reference_price_fen)
            for symbol, book in self._books.items()
        )
        return self._seq, self._trade_seq, books

    def restore_state(self, state: tuple[int, int, tuple[tuple[str, str, int], ...]]) -> None:
        """Load what ``export_state`` gave into an engine built with the same instruments."""
        if self._orders or self._seq:
            raise ValueError("restore_state needs a new engine")
        seq, trade_seq, books = state
        if sorted(symbol for symbol, _, _ in books) != sorted(self._books):
            raise ValueError("the snapshot lists other instruments than this engine")
        for symbol, state_value, price in books:
            book = self._books[Symbol(symbol)]
            book.state = TradingState(state_value)
            book.set_reference_price(price)
        self._seq = seq
        self._trade_seq = trade_seq

    # ------------------------------------------------------------------ queries

    @property
    def last_seq(self) -> int:
        return self._seq

    def symbols(self) -> list[Symbol]:
        return list(self._books)

    def book_info(self, symbol: str) -> BookInfo:
        book = self._books[Symbol(symbol)]
        return BookInfo(
            book.symbol,
            book.state,
            book.reference_price_fen,
            book.band_lower_fen,
            book.band_upper_fen,
            book.tick_fen,
            book.lot_t,
            book.min_qty_t,
            book.max_qty_t,
        )

    def best_bid_offer(self, symbol: str) -> BestBidOffer:
        book = self._books[Symbol(symbol)]
        bid, ask = book.bids.best, book.asks.best
        return BestBidOffer(
            None if bid is None else bid.price_fen,
            0 if bid is None else bid.qty_t,
            None if ask is None else ask.price_fen,
            0 if ask is None else ask.qty_t,
        )

    def depth(self, symbol: str, levels: int = 5) -> Depth:
        book = self._books[Symbol(symbol)]
        return Depth(_levels(book.bids, levels), _levels(book.asks, levels))

    def queue(self, symbol: str, side: Side, price_fen: int) -> list[QueueEntry]:
        """L3: the orders resting at one price, in priority order (empty if no level)."""
        level = self._books[Symbol(symbol)].side(side).levels.get(price_fen)
        if level is None:
            return []
        return [
            QueueEntry(o.order_id, o.account_id, o.leaves_t, o.priority) for o in level.orders()
        ]

    def level_rank(self, symbol: str, side: Side, price_fen: int) -> int | None:
        """Where the level at ``price_fen`` stands on its side, 1 the best (what a take's
        ``take_levels`` counts), or None without a level there."""
        book_side = self._books[Symbol(symbol)].side(side)
        if price_fen not in book_side.levels:
            return None
        return take_level(book_side, price_fen)

    def order(self, order_id: int) -> OrderView | None:
        order = self._orders.get(OrderId(order_id))
        return None if order is None else _view(order)

    def open_orders(self, account_id: str) -> list[OrderView]:
        orders = self._open_by_account.get(AccountId(account_id), {})
        return [_view(o) for o in sorted(orders.values(), key=_by_order_id)]

    def state_hash(self) -> str:
        """A digest of everything that decides future behaviour; equal states hash equal."""
        digest = hashlib.sha256()
        digest.update(f"seq={self._seq};trades={self._trade_seq}\n".encode())
        for symbol in sorted(self._books):
            book = self._books[symbol]
            digest.update(f"{symbol}:{book.state.value}:{book.reference_price_fen}\n".encode())
            for side in (book.bids, book.asks):
                for level in side.from_best():
                    for o in level.orders():
                        digest.update(
                            f"{side.side.value}:{o.price_fen}:{o.order_id}:{o.leaves_t}:{o.priority}\n".encode()
                        )
        for order_id in sorted(self._orders):
            digest.update(repr(tuple(_view(self._orders[order_id]))).encode())
        return digest.hexdigest()


def _amendment(order: Order, cmd: AmendOrder) -> tuple[int, int, int, int, int]:
    """(old price, old quantity, filled, new price, new quantity) of an amendment (FIX: the
    quantity is the order's new total)."""
    old_price = order.price_fen
    assert old_price is not None, "only limit orders rest"
    filled = order.filled_t
    old_qty = filled + order.leaves_t
    new_price = old_price if cmd.price_fen is None else cmd.price_fen
    new_qty = old_qty if cmd.qty_t is None else cmd.qty_t
    return old_price, old_qty, filled, new_price, new_qty


def take_level(side: BookSide, price_fen: int) -> int:
    """The place of the level at ``price_fen`` among ``side``'s levels, 1 the best."""
    levels = side.levels
    index: int = levels.index(price_fen)
    return len(levels) - index if side.is_bid else index + 1


def _by_order_id(order: Order) -> int:
    return order.order_id


def _level_order(level: PriceLevel) -> tuple[str, int, int]:
    if level.side is BUY:
        return level.symbol, 0, -level.price_fen
    return level.symbol, 1, level.price_fen


def _levels(side: BookSide, n: int) -> tuple[LevelView, ...]:
    values = side.levels.values()
    best_first = reversed(values) if side.is_bid else iter(values)
    return tuple(LevelView(lv.price_fen, lv.qty_t, lv.count) for lv in islice(best_first, n))


def _view(o: Order) -> OrderView:
    return OrderView(
        o.order_id,
        o.account_id,
        o.book.symbol,
        o.side,
        o.order_type,
        o.price_fen,
        o.stp,
        o.submitted_t,
        o.filled_t,
        o.leaves_t,
        o.cancelled_t,
        o.status,
        o.cancel_reason,
        o.priority,
    )
