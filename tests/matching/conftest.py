"""Fixtures and terse helpers for the matching engine tests.

``Market`` wraps a ``MatchingEngine`` with one-line helpers (``m.buy(1, 10, 6000)``) that fill in
ids, symbols and a timestamp counter. The ``ev_*`` functions build expected events with the
defaults of the standard market (CEA25, CNY 60.00), so an exact event list stays readable.
``assert_events`` compares event lists including the event types, which plain ``==`` on
``NamedTuple``s would not.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pytest

from matching import (
    AccountId,
    AmendOrder,
    BookLevelChanged,
    CancelAccountOrders,
    CancelOrder,
    CancelReason,
    Command,
    CommandRejected,
    Event,
    Instrument,
    MatchingEngine,
    NewOrder,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderId,
    OrderReduced,
    OrderType,
    SetReferencePrice,
    SetTradingState,
    Side,
    StpMode,
    Symbol,
    TradeExecuted,
    TradeId,
    TradingState,
    instrument_from_rules,
)
from matching.commands import TakeQuote
from matching.events import TradingStateChanged
from matching.views import LevelView, OrderView, QueueEntry
from registry_sim.rulesets import load_ruleset

SYM = "CEA25"
REF = 6000  # CNY 60.00
BAND_LOWER = 5400
BAND_UPPER = 6600
TS0 = 1_000

BUY = Side.BUY
SELL = Side.SELL
LIMIT = OrderType.LIMIT
MARKET = OrderType.MARKET
IOC = OrderType.IOC
FOK = OrderType.FOK
NEWEST = StpMode.CANCEL_NEWEST
OLDEST = StpMode.CANCEL_OLDEST
BOTH = StpMode.CANCEL_BOTH
DECREMENT = StpMode.DECREMENT

# An instrument with a coarse tick and lot, so off-tick prices and off-lot sizes exist.
COARSE_SYM = "CCER"
COARSE_OVERRIDES: dict[str, Any] = {
    "trading": {"tick_fen": 5, "lot_t": 10, "modes": {"listed": {"min_qty_t": 10}}}
}


def cn_trading(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A private copy of cn_national's ``[trading]`` table, with ``overrides`` merged in."""
    trading = load_ruleset("cn_national", overrides)["trading"]
    assert isinstance(trading, dict)
    return copy.deepcopy(trading)


def cn_instrument(symbol: str = SYM, overrides: Mapping[str, Any] | None = None) -> Instrument:
    return instrument_from_rules(symbol, cn_trading(overrides))


class Market:
    """A matching engine plus one-line helpers; every command gets the next timestamp."""

    def __init__(self, engine: MatchingEngine) -> None:
        self.engine = engine
        self.ts = TS0
        self.order_ids: set[int] = set()  # every id ever sent, for snapshots
        self.accounts: set[str] = set()

    # -- raw

    def do(self, command: Command) -> list[Event]:
        return self.engine.apply(command)

    def next_ts(self, ts: int | None) -> int:
        if ts is not None:
            return ts
        self.ts += 1
        return self.ts

    # -- orders

    def order(
        self,
        order_id: int,
        side: Side,
        qty: int,
        price: int | None = None,
        *,
        account: str = "A",
        order_type: OrderType = LIMIT,
        stp: StpMode = NEWEST,
        symbol: str = SYM,
        ts: int | None = None,
    ) -> list[Event]:
        self.order_ids.add(order_id)
        self.accounts.add(account)
        return self.do(
            NewOrder(
                self.next_ts(ts),
                OrderId(order_id),
                AccountId(account),
                Symbol(symbol),
                side,
                order_type,
                qty,
                price,
                stp,
            )
        )

    def buy(
        self,
        order_id: int,
        qty: int,
        price: int | None = None,
        *,
        account: str = "A",
        order_type: OrderType = LIMIT,
        stp: StpMode = NEWEST,
        symbol: str = SYM,
        ts: int | None = None,
    ) -> list[Event]:
        return self.order(
            order_id,
            BUY,
            qty,
            price,
            account=account,
            order_type=order_type,
            stp=stp,
            symbol=symbol,
            ts=ts,
        )

    def sell(
        self,
        order_id: int,
        qty: int,
        price: int | None = None,
        *,
        account: str = "A",
        order_type: OrderType = LIMIT,
        stp: StpMode = NEWEST,
        symbol: str = SYM,
        ts: int | None = None,
    ) -> list[Event]:
        return self.order(
            order_id,
            SELL,
            qty,
            price,
            account=account,
            order_type=order_type,
            stp=stp,
            symbol=symbol,
            ts=ts,
        )

    def take(
        self, order_id: int, quote_id: int, qty: int, account: str = "B", *, ts: int | None = None
    ) -> list[Event]:
        """Order ``order_id`` of ``account`` takes ``qty`` of the resting quote ``quote_id``."""
        self.order_ids.add(order_id)
        self.accounts.add(account)
        return self.do(
            TakeQuote(
                self.next_ts(ts), OrderId(order_id), AccountId(account), OrderId(quote_id), qty
            )
        )

    def cancel(self, order_id: int, account: str = "A", *, ts: int | None = None) -> list[Event]:
        return self.do(CancelOrder(self.next_ts(ts), OrderId(order_id), AccountId(account)))

    def amend(
        self,
        order_id: int,
        account: str = "A",
        *,
        price: int | None = None,
        qty: int | None = None,
        ts: int | None = None,
    ) -> list[Event]:
        return self.do(
            AmendOrder(self.next_ts(ts), OrderId(order_id), AccountId(account), price, qty)
        )

    def kill(
        self, account: str, symbol: str | None = None, *, ts: int | None = None
    ) -> list[Event]:
        sym = None if symbol is None else Symbol(symbol)
        return self.do(CancelAccountOrders(self.next_ts(ts), AccountId(account), sym))

    def set_state(
        self,
        state: TradingState,
        *,
        cancel_resting: bool = False,
        symbol: str = SYM,
        ts: int | None = None,
    ) -> list[Event]:
        return self.do(SetTradingState(self.next_ts(ts), Symbol(symbol), state, cancel_resting))

    def set_reference(self, price: int, *, symbol: str = SYM, ts: int | None = None) -> list[Event]:
        return self.do(SetReferencePrice(self.next_ts(ts), Symbol(symbol), price))

    # -- queries

    @property
    def seq(self) -> int:
        return self.engine.last_seq

    def view(self, order_id: int) -> OrderView:
        view = self.engine.order(order_id)
        assert view is not None, f"order {order_id} unknown"
        return view

    def queue_ids(self, side: Side, price: int, symbol: str = SYM) -> list[int]:
        return [e.order_id for e in self.engine.queue(symbol, side, price)]

    def queue(self, side: Side, price: int, symbol: str = SYM) -> list[QueueEntry]:
        return self.engine.queue(symbol, side, price)

    def bids(self, symbol: str = SYM) -> list[tuple[int, int, int]]:
        """Every bid level as (price, qty, order count), best first."""
        return level_views(self.engine.depth(symbol, 10_000).bids)

    def asks(self, symbol: str = SYM) -> list[tuple[int, int, int]]:
        """Every ask level as (price, qty, order count), best first."""
        return level_views(self.engine.depth(symbol, 10_000).asks)

    def snapshot(self) -> tuple[object, ...]:
        """Everything observable through the query API except the sequence counter.

        Orders are looked up by every id sent so far and by 1-99, accounts by every account
        used and A-E, so an order that a refused command wrongly created shows up too.
        """
        books = []
        for symbol in self.engine.symbols():
            depth = self.engine.depth(symbol, 10_000)
            queues = [
                (side, level.price_fen, self.engine.queue(symbol, side, level.price_fen))
                for side, levels in ((BUY, depth.bids), (SELL, depth.asks))
                for level in levels
            ]
            books.append(
                (
                    self.engine.book_info(symbol),
                    self.engine.best_bid_offer(symbol),
                    depth,
                    queues,
                )
            )
        ids = sorted(self.order_ids | set(range(1, 100)))
        accounts = sorted(self.accounts | set("ABCDE"))
        orders = tuple((i, self.engine.order(i)) for i in ids)
        open_orders = tuple((a, self.engine.open_orders(a)) for a in accounts)
        return (tuple(books), orders, open_orders)


def open_market(
    instruments: Iterable[Instrument] | None = None,
    reference_prices: Mapping[str, int] | None = None,
) -> Market:
    """A market whose instruments have gone closed -> pre_open -> continuous."""
    instruments = [cn_instrument()] if instruments is None else list(instruments)
    prices = {SYM: REF} if reference_prices is None else dict(reference_prices)
    market = Market(MatchingEngine(instruments, prices))
    for instrument in instruments:
        for state in (TradingState.PRE_OPEN, TradingState.CONTINUOUS):
            events = market.set_state(state, symbol=instrument.symbol)
            (event,) = events
            assert isinstance(event, TradingStateChanged), event
            assert event.state is state, event
    return market


@pytest.fixture
def m() -> Market:
    """CEA25 at reference CNY 60.00 (band 54.00-66.00) in continuous trading; seq is 2."""
    return open_market()


# ---------------------------------------------------------------- expected events


def ev_accepted(
    seq: int,
    ts: int,
    order_id: int,
    side: Side,
    qty: int,
    price: int | None,
    *,
    account: str = "A",
    order_type: OrderType = LIMIT,
    stp: StpMode = NEWEST,
    symbol: str = SYM,
) -> OrderAccepted:
    return OrderAccepted(
        seq,
        ts,
        OrderId(order_id),
        AccountId(account),
        Symbol(symbol),
        side,
        order_type,
        price,
        qty,
        stp,
    )


def ev_trade(
    seq: int,
    ts: int,
    trade_id: int,
    price: int,
    qty: int,
    aggressor: Side,
    buy: tuple[int, str, int],
    sell: tuple[int, str, int],
    *,
    symbol: str = SYM,
) -> TradeExecuted:
    """``buy`` and ``sell`` are (order id, account, leaves after the trade)."""
    return TradeExecuted(
        seq,
        ts,
        TradeId(trade_id),
        Symbol(symbol),
        price,
        qty,
        aggressor,
        OrderId(buy[0]),
        OrderId(sell[0]),
        AccountId(buy[1]),
        AccountId(sell[1]),
        buy[2],
        sell[2],
    )


def ev_cancelled(
    seq: int,
    ts: int,
    order_id: int,
    side: Side,
    qty: int,
    reason: CancelReason,
    *,
    account: str = "A",
    symbol: str = SYM,
) -> OrderCancelled:
    return OrderCancelled(
        seq, ts, OrderId(order_id), AccountId(account), Symbol(symbol), side, qty, reason
    )


def ev_reduced(
    seq: int,
    ts: int,
    order_id: int,
    side: Side,
    qty: int,
    leaves: int,
    *,
    account: str = "A",
    symbol: str = SYM,
) -> OrderReduced:
    return OrderReduced(
        seq,
        ts,
        OrderId(order_id),
        AccountId(account),
        Symbol(symbol),
        side,
        qty,
        leaves,
        CancelReason.STP,
    )


def ev_amended(
    seq: int,
    ts: int,
    order_id: int,
    side: Side,
    price: int,
    qty: int,
    leaves: int,
    priority_kept: bool,
    *,
    account: str = "A",
    symbol: str = SYM,
) -> OrderAmended:
    return OrderAmended(
        seq,
        ts,
        OrderId(order_id),
        AccountId(account),
        Symbol(symbol),
        side,
        price,
        qty,
        leaves,
        priority_kept,
    )


def ev_level(
    seq: int, ts: int, side: Side, price: int, qty: int, count: int, *, symbol: str = SYM
) -> BookLevelChanged:
    return BookLevelChanged(seq, ts, Symbol(symbol), side, price, qty, count)


def fields(event: Event) -> tuple[object, ...]:
    """An event's field values in declaration order (``__match_args__``)."""
    return tuple(getattr(event, name) for name in type(event).__match_args__)


def typed(events: Sequence[Event]) -> list[tuple[object, ...]]:
    """Events as (type name, *fields), so a comparison also checks the event types."""
    return [(type(e).__name__, *fields(e)) for e in events]


def assert_events(actual: Sequence[Event], expected: Sequence[Event]) -> None:
    assert typed(actual) == typed(expected)


def kinds(events: Sequence[Event]) -> list[str]:
    return [type(e).__name__ for e in events]


def only_rejection(events: Sequence[Event]) -> CommandRejected:
    assert len(events) == 1, events
    (event,) = events
    assert isinstance(event, CommandRejected), event
    return event


def level_views(levels: Iterable[LevelView]) -> list[tuple[int, int, int]]:
    return [(lv.price_fen, lv.qty_t, lv.order_count) for lv in levels]
