"""A naive reference implementation of docs/matching.md: the oracle of the differential tests.

Written from the specification, independently of ``matching.engine`` and ``matching.book``, and
as plainly as possible:

* every order the market accepted is one record in a dict; the resting ones are also in a plain
  list per instrument (list order means nothing);
* the next maker is found by filtering the opposite side for prices within the taker's limit and
  taking the first by price priority, then time priority (``priority``, the sequence number of
  the event that gave the order its place);
* ``BookLevelChanged`` events are not tracked while matching: the full L2 of every instrument is
  computed before and after each command and the two are diffed.

Only the value types of ``matching`` are imported (commands, events, types, codes, instruments,
views). The legal trading-state moves are copied from the specification.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from matching.codes import RejectCode
from matching.commands import (
    AmendOrder,
    CancelAccountOrders,
    CancelOrder,
    Command,
    NewOrder,
    SetReferencePrice,
    SetTradingState,
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
from matching.types import (
    AccountId,
    CancelReason,
    OrderId,
    OrderStatus,
    OrderType,
    Side,
    StpMode,
    Symbol,
    TradeId,
    TradingState,
)
from matching.views import BestBidOffer, BookInfo, Depth, LevelView, OrderView, QueueEntry

BUY = Side.BUY
SELL = Side.SELL

# docs/matching.md, "Trading states": the legal moves.
LEGAL_MOVES: dict[TradingState, set[TradingState]] = {
    TradingState.CLOSED: {TradingState.PRE_OPEN},
    TradingState.PRE_OPEN: {TradingState.CONTINUOUS, TradingState.HALTED, TradingState.CLOSED},
    TradingState.CONTINUOUS: {TradingState.BREAK, TradingState.HALTED, TradingState.CLOSED},
    TradingState.BREAK: {TradingState.CONTINUOUS, TradingState.HALTED, TradingState.CLOSED},
    TradingState.HALTED: {TradingState.CONTINUOUS, TradingState.BREAK, TradingState.CLOSED},
}

Details = dict[str, int | str | None]
L2 = dict[tuple[Symbol, Side, int], tuple[int, int]]


class RefusedError(Exception):
    """A check failed: the command is refused with ``code`` and ``details``. ``order`` is the
    caller's own order when the refusal is about it (its symbol is then named)."""

    def __init__(self, code: RejectCode, details: Details, order: Rec | None = None) -> None:
        super().__init__(code.value)
        self.code = code
        self.details = details
        self.order = order


@dataclass
class Rec:
    """One order: everything the market knows about it."""

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
    cancel_reason: CancelReason | None
    priority: int
    resting: bool = False

    @property
    def status(self) -> OrderStatus:
        if self.cancel_reason is not None:
            return OrderStatus.CANCELLED
        if self.leaves_t == 0:
            return OrderStatus.FILLED
        if self.filled_t > 0:
            return OrderStatus.PARTIALLY_FILLED
        return OrderStatus.NEW

    def view(self) -> OrderView:
        return OrderView(
            self.order_id,
            self.account_id,
            self.symbol,
            self.side,
            self.order_type,
            self.price_fen,
            self.stp,
            self.submitted_t,
            self.filled_t,
            self.leaves_t,
            self.cancelled_t,
            self.status,
            self.cancel_reason,
            self.priority,
        )


@dataclass
class Market:
    """One instrument's trading day."""

    instrument: Instrument
    state: TradingState
    reference_price_fen: int
    band_lower_fen: int
    band_upper_fen: int


def price_band(instrument: Instrument, reference_price_fen: int) -> tuple[int, int]:
    """docs/matching.md: ``[ceil(ref × (1 − bp/10⁴) / tick) × tick, floor(ref × (1 + bp/10⁴)
    / tick) × tick]``, the lower edge never below one tick."""
    rules = instrument.mode(instrument.book_mode)
    tick = instrument.tick_fen
    half_width = Fraction(rules.band_bp, 10_000)
    lower = math.ceil(reference_price_fen * (1 - half_width) / tick) * tick
    upper = math.floor(reference_price_fen * (1 + half_width) / tick) * tick
    return max(lower, tick), upper


def priority_key(order: Rec) -> tuple[int, int]:
    """Sort key: best price first (highest bid, lowest ask), then oldest place first."""
    assert order.price_fen is not None
    price = -order.price_fen if order.side is BUY else order.price_fen
    return price, order.priority


def level_key(key: tuple[Symbol, Side, int]) -> tuple[str, int, int]:
    """Order of L2 changes: symbol, buy side first, price from best to worst."""
    symbol, side, price = key
    return (symbol, 0, -price) if side is BUY else (symbol, 1, price)


class NaiveBook:
    """The same public behaviour as ``matching.MatchingEngine``, computed the slow, plain way."""

    def __init__(
        self, instruments: Iterable[Instrument], reference_prices_fen: Mapping[str, int]
    ) -> None:
        self.markets: dict[Symbol, Market] = {}
        for instrument in instruments:
            ref = reference_prices_fen[instrument.symbol]
            lower, upper = price_band(instrument, ref)
            # A market starts outside the trading day: closed, empty book.
            self.markets[instrument.symbol] = Market(
                instrument, TradingState.CLOSED, ref, lower, upper
            )
        self.orders: dict[OrderId, Rec] = {}
        self.resting: dict[Symbol, list[Rec]] = {symbol: [] for symbol in self.markets}
        self.seq = 0
        self.trade_id = 0
        self._events: list[Event] = []
        self._ts = 0

    # ------------------------------------------------------------------ plumbing

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def apply(self, command: Command) -> list[Event]:
        self._events = []
        self._ts = command.ts_ns
        before = self._l2()
        if isinstance(command, NewOrder):
            self._new_order(command)
        elif isinstance(command, CancelOrder):
            self._cancel_order(command)
        elif isinstance(command, AmendOrder):
            self._amend_order(command)
        elif isinstance(command, CancelAccountOrders):
            self._kill_switch(command)
        elif isinstance(command, SetTradingState):
            self._set_trading_state(command)
        elif isinstance(command, SetReferencePrice):
            self._set_reference_price(command)
        else:
            raise NotImplementedError(f"the naive book does not take quotes: {command!r}")
        after = self._l2()
        for key in sorted(set(before) | set(after), key=level_key):
            old = before.get(key, (0, 0))
            new = after.get(key, (0, 0))
            if old != new:
                symbol, side, price = key
                self._events.append(
                    BookLevelChanged(self._next_seq(), self._ts, symbol, side, price, *new)
                )
        return self._events

    def _l2(self) -> L2:
        """Every level of every book: (symbol, side, price) -> (open quantity, order count)."""
        levels: L2 = {}
        for symbol, orders in self.resting.items():
            for order in orders:
                assert order.price_fen is not None
                key = (symbol, order.side, order.price_fen)
                qty, count = levels.get(key, (0, 0))
                levels[key] = (qty + order.leaves_t, count + 1)
        return levels

    def _reject(self, name: str, refusal: RefusedError, command: Command) -> None:
        """One ``CommandRejected``. It carries the command's order id, account and symbol where
        the command names them; a refusal about the caller's own order names its symbol."""
        symbol = getattr(command, "symbol", None)
        if refusal.order is not None:
            symbol = refusal.order.symbol
        self._events.append(
            CommandRejected(
                self._next_seq(),
                self._ts,
                name,
                refusal.code,
                refusal.details,
                getattr(command, "order_id", None),
                getattr(command, "account_id", None),
                symbol,
            )
        )

    # ------------------------------------------------------------------ checks

    def _check_open(self, market: Market) -> None:
        if market.state is TradingState.HALTED:
            raise RefusedError(RejectCode.INSTRUMENT_HALTED, {"state": market.state.value})
        if market.state is not TradingState.CONTINUOUS:
            raise RefusedError(RejectCode.INSTRUMENT_NOT_OPEN, {"state": market.state.value})

    def _check_qty(self, market: Market, qty: int) -> None:
        rules = market.instrument.mode(market.instrument.book_mode)
        too_big = rules.max_qty_t is not None and qty > rules.max_qty_t
        if qty < rules.min_qty_t or too_big:
            raise RefusedError(
                RejectCode.QTY_OUTSIDE_LIMITS,
                {"qty_t": qty, "min_qty_t": rules.min_qty_t, "max_qty_t": rules.max_qty_t},
            )
        lot = market.instrument.lot_t
        if qty % lot != 0:
            raise RefusedError(RejectCode.QTY_OFF_LOT, {"qty_t": qty, "lot_t": lot})

    def _check_price(self, market: Market, price: int) -> None:
        tick = market.instrument.tick_fen
        if price % tick != 0:
            raise RefusedError(RejectCode.PRICE_OFF_TICK, {"price_fen": price, "tick_fen": tick})
        if not market.band_lower_fen <= price <= market.band_upper_fen:
            raise RefusedError(
                RejectCode.PRICE_OUTSIDE_BAND,
                {
                    "price_fen": price,
                    "band_lower_fen": market.band_lower_fen,
                    "band_upper_fen": market.band_upper_fen,
                    "reference_price_fen": market.reference_price_fen,
                },
            )

    def _own_open_order(self, order_id: OrderId, account_id: AccountId) -> Rec:
        order = self.orders.get(order_id)
        if order is None:
            raise RefusedError(RejectCode.UNKNOWN_ORDER, {"order_id": order_id})
        if order.account_id != account_id:
            raise RefusedError(RejectCode.NOT_OWNER, {"order_id": order_id})
        if not order.resting:
            raise RefusedError(
                RejectCode.ORDER_NOT_OPEN,
                {"order_id": order_id, "status": order.status.value},
                order,
            )
        return order

    # ------------------------------------------------------------------ commands

    def _new_order(self, cmd: NewOrder) -> None:
        try:
            market = self.markets.get(cmd.symbol)
            if market is None:
                raise RefusedError(RejectCode.UNKNOWN_INSTRUMENT, {"symbol": cmd.symbol})
            if cmd.order_id in self.orders:
                raise RefusedError(RejectCode.DUPLICATE_ORDER_ID, {"order_id": cmd.order_id})
            self._check_open(market)
            self._check_qty(market, cmd.qty_t)
            if cmd.order_type is OrderType.MARKET:
                if cmd.price_fen is not None:
                    raise RefusedError(RejectCode.PRICE_NOT_ALLOWED, {"price_fen": cmd.price_fen})
            else:
                if cmd.price_fen is None:
                    raise RefusedError(
                        RejectCode.PRICE_REQUIRED, {"order_type": cmd.order_type.value}
                    )
                self._check_price(market, cmd.price_fen)
        except RefusedError as refusal:
            self._reject("new_order", refusal, cmd)
            return

        seq = self._next_seq()
        order = Rec(
            order_id=cmd.order_id,
            account_id=cmd.account_id,
            symbol=cmd.symbol,
            side=cmd.side,
            order_type=cmd.order_type,
            price_fen=cmd.price_fen,
            stp=cmd.stp,
            submitted_t=cmd.qty_t,
            filled_t=0,
            leaves_t=cmd.qty_t,
            cancelled_t=0,
            cancel_reason=None,
            priority=seq,
        )
        self.orders[order.order_id] = order
        self._events.append(
            OrderAccepted(
                seq,
                self._ts,
                cmd.order_id,
                cmd.account_id,
                cmd.symbol,
                cmd.side,
                cmd.order_type,
                cmd.price_fen,
                cmd.qty_t,
                cmd.stp,
            )
        )
        if cmd.price_fen is not None:
            limit = cmd.price_fen
        elif cmd.side is BUY:
            limit = market.band_upper_fen
        else:
            limit = market.band_lower_fen

        if cmd.order_type is OrderType.FOK and not self._fok_fillable(order, limit):
            self._cancel(order, CancelReason.FOK_NOT_FILLABLE)
            return
        self._match(order, limit)
        if order.leaves_t > 0 and order.cancel_reason is None:
            if order.order_type is OrderType.LIMIT:
                self._rest(order)
            else:
                self._cancel(order, CancelReason.IOC_REMAINDER)

    def _cancel_order(self, cmd: CancelOrder) -> None:
        try:
            order = self._own_open_order(cmd.order_id, cmd.account_id)
        except RefusedError as refusal:
            self._reject("cancel_order", refusal, cmd)
            return
        self._cancel(order, CancelReason.USER)

    def _amend_order(self, cmd: AmendOrder) -> None:
        try:
            order = self._own_open_order(cmd.order_id, cmd.account_id)
        except RefusedError as refusal:
            self._reject("amend_order", refusal, cmd)
            return
        market = self.markets[order.symbol]
        assert order.price_fen is not None
        old_price = order.price_fen
        old_qty = order.filled_t + order.leaves_t
        new_price = old_price if cmd.price_fen is None else cmd.price_fen
        new_qty = old_qty if cmd.qty_t is None else cmd.qty_t
        try:
            self._check_open(market)
            if new_price == old_price and new_qty == old_qty:
                raise RefusedError(
                    RejectCode.AMEND_NO_CHANGE, {"price_fen": old_price, "qty_t": old_qty}
                )
            self._check_qty(market, new_qty)
            if new_qty <= order.filled_t:
                raise RefusedError(
                    RejectCode.AMEND_QTY_NOT_ABOVE_FILLED,
                    {"qty_t": new_qty, "filled_t": order.filled_t},
                )
            self._check_price(market, new_price)
        except RefusedError as refusal:
            refusal.order = order
            self._reject("amend_order", refusal, cmd)
            return

        seq = self._next_seq()
        keeps_place = new_price == old_price and new_qty < old_qty
        self._events.append(
            OrderAmended(
                seq,
                self._ts,
                order.order_id,
                order.account_id,
                order.symbol,
                order.side,
                new_price,
                new_qty,
                new_qty - order.filled_t,
                keeps_place,
            )
        )
        if new_qty > old_qty:
            order.submitted_t += new_qty - old_qty
        else:
            order.cancelled_t += old_qty - new_qty
        order.leaves_t = new_qty - order.filled_t
        if keeps_place:
            return
        order.priority = seq  # to the back of the queue
        if new_price != old_price:
            # Out of the book, then in again as if it were a new incoming order.
            self._unrest(order)
            order.price_fen = new_price
            self._match(order, new_price)
            if order.leaves_t > 0 and order.cancel_reason is None:
                self._rest(order)

    def _kill_switch(self, cmd: CancelAccountOrders) -> None:
        targets = [
            order
            for orders in self.resting.values()
            for order in orders
            if order.account_id == cmd.account_id
            and (cmd.symbol is None or order.symbol == cmd.symbol)
        ]
        for order in sorted(targets, key=lambda o: o.order_id):
            self._cancel(order, CancelReason.KILL_SWITCH)

    def _set_trading_state(self, cmd: SetTradingState) -> None:
        market = self.markets.get(cmd.symbol)
        try:
            if market is None:
                raise RefusedError(RejectCode.UNKNOWN_INSTRUMENT, {"symbol": cmd.symbol})
            if cmd.state not in LEGAL_MOVES[market.state]:
                raise RefusedError(
                    RejectCode.INVALID_STATE_TRANSITION,
                    {"from": market.state.value, "to": cmd.state.value},
                )
        except RefusedError as refusal:
            self._reject("set_trading_state", refusal, cmd)
            return
        previous = market.state
        market.state = cmd.state
        self._events.append(
            TradingStateChanged(self._next_seq(), self._ts, cmd.symbol, cmd.state, previous)
        )
        reason = None
        if cmd.state is TradingState.CLOSED:
            reason = CancelReason.EXPIRY
        elif cmd.state is TradingState.HALTED and cmd.cancel_resting:
            reason = CancelReason.HALT
        if reason is not None:
            for order in sorted(self.resting[cmd.symbol], key=lambda o: o.order_id):
                self._cancel(order, reason)

    def _set_reference_price(self, cmd: SetReferencePrice) -> None:
        market = self.markets.get(cmd.symbol)
        try:
            if market is None:
                raise RefusedError(RejectCode.UNKNOWN_INSTRUMENT, {"symbol": cmd.symbol})
            if market.state not in (TradingState.CLOSED, TradingState.PRE_OPEN):
                raise RefusedError(RejectCode.REFERENCE_PRICE_LOCKED, {"state": market.state.value})
            tick = market.instrument.tick_fen
            if cmd.price_fen <= 0 or cmd.price_fen % tick != 0:
                raise RefusedError(
                    RejectCode.INVALID_REFERENCE_PRICE,
                    {"price_fen": cmd.price_fen, "tick_fen": tick},
                )
        except RefusedError as refusal:
            self._reject("set_reference_price", refusal, cmd)
            return
        market.reference_price_fen = cmd.price_fen
        market.band_lower_fen, market.band_upper_fen = price_band(market.instrument, cmd.price_fen)
        self._events.append(
            ReferencePriceSet(
                self._next_seq(),
                self._ts,
                cmd.symbol,
                cmd.price_fen,
                market.band_lower_fen,
                market.band_upper_fen,
            )
        )

    # ------------------------------------------------------------------ matching

    def _makers(self, taker: Rec, limit: int) -> list[Rec]:
        """The resting orders ``taker`` may meet, in the order it meets them."""

        def reachable(order: Rec) -> bool:
            assert order.price_fen is not None
            return order.price_fen <= limit if taker.side is BUY else order.price_fen >= limit

        found = [o for o in self.resting[taker.symbol] if o.side is not taker.side and reachable(o)]
        return sorted(found, key=priority_key)

    def _fok_fillable(self, taker: Rec, limit: int) -> bool:
        """Would matching fill ``taker`` in full? Own orders on the way stop it, except that
        cancel-oldest cancels them and goes on."""
        need = taker.leaves_t
        for maker in self._makers(taker, limit):
            if maker.account_id == taker.account_id:
                if taker.stp is StpMode.CANCEL_OLDEST:
                    continue
                return False
            need -= maker.leaves_t
            if need <= 0:
                return True
        return False

    def _match(self, taker: Rec, limit: int) -> None:
        while taker.leaves_t > 0:
            makers = self._makers(taker, limit)
            if not makers:
                return
            maker = makers[0]
            if maker.account_id == taker.account_id:
                if not self._prevent_self_trade(taker, maker):
                    return
                continue
            self._trade(taker, maker)

    def _trade(self, taker: Rec, maker: Rec) -> None:
        assert maker.price_fen is not None
        qty = min(taker.leaves_t, maker.leaves_t)
        for order in (taker, maker):
            order.leaves_t -= qty
            order.filled_t += qty
        if maker.leaves_t == 0:
            self._unrest(maker)
        buy, sell = (taker, maker) if taker.side is BUY else (maker, taker)
        self.trade_id += 1
        self._events.append(
            TradeExecuted(
                self._next_seq(),
                self._ts,
                TradeId(self.trade_id),
                taker.symbol,
                maker.price_fen,
                qty,
                taker.side,
                buy.order_id,
                sell.order_id,
                buy.account_id,
                sell.account_id,
                buy.leaves_t,
                sell.leaves_t,
            )
        )

    def _prevent_self_trade(self, taker: Rec, maker: Rec) -> bool:
        """The taker's STP mode decides; returns whether the taker goes on matching."""
        mode = taker.stp
        if mode is StpMode.CANCEL_NEWEST:
            self._cancel(taker, CancelReason.STP)
            return False
        if mode is StpMode.CANCEL_OLDEST:
            self._cancel(maker, CancelReason.STP)
            return True
        if mode is StpMode.CANCEL_BOTH:
            self._cancel(maker, CancelReason.STP)
            self._cancel(taker, CancelReason.STP)
            return False
        # DECREMENT: both lose the smaller open quantity; resting order first.
        qty = min(taker.leaves_t, maker.leaves_t)
        for order in (maker, taker):
            if order.leaves_t == qty:
                self._cancel(order, CancelReason.STP)
            else:
                self._reduce(order, qty)
        return taker.cancel_reason is None

    # ------------------------------------------------------------------ order changes

    def _rest(self, order: Rec) -> None:
        order.resting = True
        self.resting[order.symbol].append(order)

    def _unrest(self, order: Rec) -> None:
        if order.resting:
            order.resting = False
            self.resting[order.symbol].remove(order)

    def _cancel(self, order: Rec, reason: CancelReason) -> None:
        """The order's whole open quantity leaves the market; the order is finished."""
        self._unrest(order)
        qty = order.leaves_t
        order.cancelled_t += qty
        order.leaves_t = 0
        order.cancel_reason = reason
        self._events.append(
            OrderCancelled(
                self._next_seq(),
                self._ts,
                order.order_id,
                order.account_id,
                order.symbol,
                order.side,
                qty,
                reason,
            )
        )

    def _reduce(self, order: Rec, qty: int) -> None:
        order.leaves_t -= qty
        order.cancelled_t += qty
        self._events.append(
            OrderReduced(
                self._next_seq(),
                self._ts,
                order.order_id,
                order.account_id,
                order.symbol,
                order.side,
                qty,
                order.leaves_t,
                CancelReason.STP,
            )
        )

    # ------------------------------------------------------------------ queries

    def symbols(self) -> list[Symbol]:
        return list(self.markets)

    def _levels(self, symbol: str, side: Side) -> list[LevelView]:
        """One side's L2, best price first."""
        totals: dict[int, tuple[int, int]] = {}
        for order in self.resting[Symbol(symbol)]:
            if order.side is side:
                assert order.price_fen is not None
                qty, count = totals.get(order.price_fen, (0, 0))
                totals[order.price_fen] = (qty + order.leaves_t, count + 1)
        prices = sorted(totals, reverse=side is BUY)
        return [LevelView(price, *totals[price]) for price in prices]

    def depth(self, symbol: str, levels: int = 5) -> Depth:
        return Depth(
            tuple(self._levels(symbol, BUY)[:levels]), tuple(self._levels(symbol, SELL)[:levels])
        )

    def best_bid_offer(self, symbol: str) -> BestBidOffer:
        bids = self._levels(symbol, BUY)
        asks = self._levels(symbol, SELL)
        return BestBidOffer(
            bids[0].price_fen if bids else None,
            bids[0].qty_t if bids else 0,
            asks[0].price_fen if asks else None,
            asks[0].qty_t if asks else 0,
        )

    def queue(self, symbol: str, side: Side, price_fen: int) -> list[QueueEntry]:
        orders = [
            o for o in self.resting[Symbol(symbol)] if o.side is side and o.price_fen == price_fen
        ]
        return [
            QueueEntry(o.order_id, o.account_id, o.leaves_t, o.priority)
            for o in sorted(orders, key=priority_key)
        ]

    def order(self, order_id: int) -> OrderView | None:
        order = self.orders.get(OrderId(order_id))
        return None if order is None else order.view()

    def open_orders(self, account_id: str) -> list[OrderView]:
        mine = [o for orders in self.resting.values() for o in orders if o.account_id == account_id]
        return [o.view() for o in sorted(mine, key=lambda o: o.order_id)]

    def book_info(self, symbol: str) -> BookInfo:
        market = self.markets[Symbol(symbol)]
        rules = market.instrument.mode(market.instrument.book_mode)
        return BookInfo(
            market.instrument.symbol,
            market.state,
            market.reference_price_fen,
            market.band_lower_fen,
            market.band_upper_fen,
            market.instrument.tick_fen,
            market.instrument.lot_t,
            rules.min_qty_t,
            rules.max_qty_t,
        )
