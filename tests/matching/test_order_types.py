"""Order types, priority, cancels, amends, the kill switch and trading states (docs/matching.md).

The ``m`` fixture is CEA25 at CNY 60.00 (band 54.00-66.00) in continuous trading; its setup
used seq 1 and 2, so the first command's first event has seq 3. ``s = m.seq`` before a command
and ``t = m.ts`` after it give the numbers an exact event list is built from.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from matching import (
    BookLevelChanged,
    CancelReason,
    CommandRejected,
    Event,
    MatchingEngine,
    OrderCancelled,
    OrderStatus,
    ReferencePriceSet,
    RejectCode,
    Side,
    Symbol,
    TradeExecuted,
    TradingState,
)
from matching.events import TradingStateChanged
from tests.matching.conftest import (
    BAND_LOWER,
    BAND_UPPER,
    BUY,
    DECREMENT,
    FOK,
    IOC,
    MARKET,
    OLDEST,
    REF,
    SELL,
    SYM,
    TS0,
    Market,
    assert_events,
    cn_instrument,
    ev_accepted,
    ev_amended,
    ev_cancelled,
    ev_level,
    ev_trade,
    kinds,
    level_views,
    only_rejection,
    open_market,
)

USER = CancelReason.USER
IOC_REMAINDER = CancelReason.IOC_REMAINDER
FOK_NOT_FILLABLE = CancelReason.FOK_NOT_FILLABLE
EXPIRY = CancelReason.EXPIRY
HALT = CancelReason.HALT
KILL_SWITCH = CancelReason.KILL_SWITCH

CLOSED = TradingState.CLOSED
PRE_OPEN = TradingState.PRE_OPEN
CONTINUOUS = TradingState.CONTINUOUS
BREAK = TradingState.BREAK
HALTED = TradingState.HALTED


def state_changed(seq: int, ts: int, state: TradingState, previous: TradingState) -> Event:
    return TradingStateChanged(seq, ts, Symbol(SYM), state, previous)


def two_symbol_market() -> Market:
    return open_market(
        [cn_instrument("CEA24"), cn_instrument("CEA25")], {"CEA24": 5000, "CEA25": REF}
    )


# ---------------------------------------------------------------- the fixture


def test_fixture_is_open_at_sixty_yuan(m: Market) -> None:
    info = m.engine.book_info(SYM)
    assert info.state is CONTINUOUS
    assert info.reference_price_fen == 6000
    assert (info.band_lower_fen, info.band_upper_fen) == (5400, 6600)
    assert (info.tick_fen, info.lot_t, info.min_qty_t, info.max_qty_t) == (1, 1, 1, 99_999)
    assert m.seq == 2
    assert m.engine.symbols() == [SYM]
    assert m.bids() == []
    assert m.asks() == []


# ---------------------------------------------------------------- limit orders


def test_limit_order_rests(m: Market) -> None:
    s = m.seq
    events = m.buy(1, 10, 6000)
    t = m.ts
    assert_events(
        events, [ev_accepted(s + 1, t, 1, BUY, 10, 6000), ev_level(s + 2, t, BUY, 6000, 10, 1)]
    )
    view = m.view(1)
    assert view.status is OrderStatus.NEW
    assert (view.submitted_t, view.filled_t, view.leaves_t, view.cancelled_t) == (10, 0, 10, 0)
    assert view.priority == s + 1
    assert view.cancel_reason is None
    bbo = m.engine.best_bid_offer(SYM)
    assert tuple(bbo) == (6000, 10, None, 0)
    assert [v.order_id for v in m.engine.open_orders("A")] == [1]


def test_limit_buy_trades_at_the_resting_sell_price(m: Market) -> None:
    m.sell(1, 5, 6000, account="B")
    s = m.seq
    events = m.buy(2, 5, 6100, account="A")
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 2, BUY, 5, 6100),
            ev_trade(s + 2, t, 1, 6000, 5, BUY, (2, "A", 0), (1, "B", 0)),
            ev_level(s + 3, t, SELL, 6000, 0, 0),
        ],
    )
    assert m.view(2).status is OrderStatus.FILLED
    assert m.view(1).status is OrderStatus.FILLED
    assert m.asks() == []
    assert m.bids() == []


def test_limit_sell_trades_at_the_resting_buy_price(m: Market) -> None:
    m.buy(1, 5, 6000, account="B")
    s = m.seq
    events = m.sell(2, 3, 5900, account="A")
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 2, SELL, 3, 5900),
            ev_trade(s + 2, t, 1, 6000, 3, SELL, (1, "B", 2), (2, "A", 0)),
            ev_level(s + 3, t, BUY, 6000, 2, 1),
        ],
    )
    assert m.bids() == [(6000, 2, 1)]
    assert m.view(1).status is OrderStatus.PARTIALLY_FILLED


def test_limit_remainder_rests_after_sweeping(m: Market) -> None:
    """Exact sequence: two trades, the rest rests; level changes buy first, then best to worst."""
    m.sell(1, 5, 6000, account="B")
    m.sell(2, 5, 6050, account="C")
    m.sell(3, 5, 6200, account="B")
    s = m.seq
    events = m.buy(4, 12, 6100, account="A")
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 4, BUY, 12, 6100),
            ev_trade(s + 2, t, 1, 6000, 5, BUY, (4, "A", 7), (1, "B", 0)),
            ev_trade(s + 3, t, 2, 6050, 5, BUY, (4, "A", 2), (2, "C", 0)),
            ev_level(s + 4, t, BUY, 6100, 2, 1),
            ev_level(s + 5, t, SELL, 6000, 0, 0),
            ev_level(s + 6, t, SELL, 6050, 0, 0),
        ],
    )
    assert m.bids() == [(6100, 2, 1)]
    assert m.asks() == [(6200, 5, 1)]
    view = m.view(4)
    assert view.status is OrderStatus.PARTIALLY_FILLED
    assert (view.filled_t, view.leaves_t) == (10, 2)


def test_a_non_crossing_limit_does_not_trade(m: Market) -> None:
    m.sell(1, 5, 6001, account="B")
    events = m.buy(2, 5, 6000, account="A")
    assert kinds(events) == ["OrderAccepted", "BookLevelChanged"]
    assert m.bids() == [(6000, 5, 1)]
    assert m.asks() == [(6001, 5, 1)]


def test_price_priority_across_levels(m: Market) -> None:
    m.sell(1, 5, 6100, account="B")
    m.sell(2, 5, 6000, account="C")
    m.sell(3, 5, 6050, account="D")
    assert m.asks() == [(6000, 5, 1), (6050, 5, 1), (6100, 5, 1)]
    events = m.buy(4, 15, 6100, account="A")
    trades = [e for e in events if isinstance(e, TradeExecuted)]
    assert [(e.trade_id, e.sell_order_id, e.price_fen) for e in trades] == [
        (1, 2, 6000),
        (2, 3, 6050),
        (3, 1, 6100),
    ]


def test_price_priority_on_the_bid_side(m: Market) -> None:
    m.buy(1, 5, 5900, account="B")
    m.buy(2, 5, 5950, account="C")
    m.buy(3, 5, 5800, account="D")
    assert m.bids() == [(5950, 5, 1), (5900, 5, 1), (5800, 5, 1)]
    events = m.sell(4, 8, 5900, account="A")
    trades = [e for e in events if isinstance(e, TradeExecuted)]
    assert [(e.buy_order_id, e.price_fen, e.qty_t) for e in trades] == [(2, 5950, 5), (1, 5900, 3)]
    assert m.bids() == [(5900, 2, 1), (5800, 5, 1)]


def test_time_priority_within_a_level(m: Market) -> None:
    m.sell(1, 5, 6000, account="B")
    m.sell(2, 5, 6000, account="C")
    m.sell(3, 5, 6000, account="D")
    assert m.queue_ids(SELL, 6000) == [1, 2, 3]
    events = m.buy(4, 7, 6000, account="A")
    trades = [e for e in events if isinstance(e, TradeExecuted)]
    assert [(e.sell_order_id, e.qty_t, e.sell_leaves_t) for e in trades] == [(1, 5, 0), (2, 2, 3)]
    assert [(q.order_id, q.leaves_t) for q in m.queue(SELL, 6000)] == [(2, 3), (3, 5)]
    assert m.asks() == [(6000, 8, 2)]


def test_trade_ids_count_up_from_one_per_market() -> None:
    m = two_symbol_market()
    m.sell(1, 5, 5000, account="B", symbol="CEA24")
    m.sell(2, 5, 6000, account="B", symbol="CEA25")
    ids = []
    for order_id, symbol, price in [(3, "CEA25", 6000), (4, "CEA24", 5000), (5, "CEA25", 6000)]:
        events = m.buy(order_id, 2, price, account="A", symbol=symbol)
        ids += [e.trade_id for e in events if isinstance(e, TradeExecuted)]
    assert ids == [1, 2, 3]


# ---------------------------------------------------------------- market orders


def test_market_buy_sweeps_up_to_the_band_edge_and_cancels_the_rest(m: Market) -> None:
    m.sell(1, 5, 6000, account="B")
    m.sell(2, 5, 6300, account="C")
    m.sell(3, 5, BAND_UPPER, account="B")
    s = m.seq
    events = m.buy(4, 20, order_type=MARKET)
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 4, BUY, 20, None, order_type=MARKET),
            ev_trade(s + 2, t, 1, 6000, 5, BUY, (4, "A", 15), (1, "B", 0)),
            ev_trade(s + 3, t, 2, 6300, 5, BUY, (4, "A", 10), (2, "C", 0)),
            ev_trade(s + 4, t, 3, 6600, 5, BUY, (4, "A", 5), (3, "B", 0)),
            ev_cancelled(s + 5, t, 4, BUY, 5, IOC_REMAINDER),
            ev_level(s + 6, t, SELL, 6000, 0, 0),
            ev_level(s + 7, t, SELL, 6300, 0, 0),
            ev_level(s + 8, t, SELL, 6600, 0, 0),
        ],
    )
    view = m.view(4)
    assert view.status is OrderStatus.CANCELLED
    assert view.cancel_reason is IOC_REMAINDER
    assert view.price_fen is None
    assert (view.submitted_t, view.filled_t, view.leaves_t, view.cancelled_t) == (20, 15, 0, 5)
    assert m.bids() == []  # a market order never rests


def test_market_sell_sweeps_down_to_the_lower_band_edge(m: Market) -> None:
    m.buy(1, 5, 6000, account="B")
    m.buy(2, 5, BAND_LOWER, account="C")
    events = m.sell(3, 10, order_type=MARKET)
    trades = [e for e in events if isinstance(e, TradeExecuted)]
    assert [(e.price_fen, e.qty_t, e.aggressor) for e in trades] == [
        (6000, 5, SELL),
        (5400, 5, SELL),
    ]
    assert not any(e.reason is IOC_REMAINDER for e in events if hasattr(e, "reason"))
    assert m.view(3).status is OrderStatus.FILLED
    assert m.bids() == []


def test_market_order_that_fills_in_full_has_no_remainder(m: Market) -> None:
    m.sell(1, 10, 6000, account="B")
    events = m.buy(2, 4, order_type=MARKET)
    assert kinds(events) == ["OrderAccepted", "TradeExecuted", "BookLevelChanged"]
    assert m.asks() == [(6000, 6, 1)]


@pytest.mark.parametrize("side", [BUY, SELL])
def test_market_order_on_an_empty_side_is_accepted_then_cancelled(m: Market, side: Side) -> None:
    m.order(1, side, 5, 6000, account="B")  # own side only: nothing to take
    before = (m.bids(), m.asks())
    s = m.seq
    events = m.order(2, side, 7, order_type=MARKET)
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 2, side, 7, None, order_type=MARKET),
            ev_cancelled(s + 2, t, 2, side, 7, IOC_REMAINDER),
        ],
    )
    assert (m.bids(), m.asks()) == before
    view = m.view(2)
    assert (view.status, view.cancelled_t, view.cancel_reason) == (
        OrderStatus.CANCELLED,
        7,
        IOC_REMAINDER,
    )


# ---------------------------------------------------------------- IOC


def test_ioc_partial_fill_then_the_remainder_is_cancelled(m: Market) -> None:
    m.sell(1, 4, 6000, account="B")
    m.sell(2, 4, 6100, account="B")
    s = m.seq
    events = m.buy(3, 10, 6000, order_type=IOC)
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 3, BUY, 10, 6000, order_type=IOC),
            ev_trade(s + 2, t, 1, 6000, 4, BUY, (3, "A", 6), (1, "B", 0)),
            ev_cancelled(s + 3, t, 3, BUY, 6, IOC_REMAINDER),
            ev_level(s + 4, t, SELL, 6000, 0, 0),
        ],
    )
    assert m.bids() == []
    assert m.asks() == [(6100, 4, 1)]
    view = m.view(3)
    assert (view.status, view.filled_t, view.cancelled_t) == (OrderStatus.CANCELLED, 4, 6)


def test_ioc_with_nothing_to_take_is_cancelled_whole(m: Market) -> None:
    m.sell(1, 4, 6100, account="B")
    s = m.seq
    events = m.buy(2, 10, 6000, order_type=IOC)
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 2, BUY, 10, 6000, order_type=IOC),
            ev_cancelled(s + 2, t, 2, BUY, 10, IOC_REMAINDER),
        ],
    )
    assert m.bids() == []


def test_ioc_filled_in_full_is_not_cancelled(m: Market) -> None:
    m.sell(1, 4, 6000, account="B")
    m.sell(2, 4, 6010, account="B")
    events = m.buy(3, 6, 6010, order_type=IOC)
    assert kinds(events) == [
        "OrderAccepted",
        "TradeExecuted",
        "TradeExecuted",
        "BookLevelChanged",
        "BookLevelChanged",
    ]
    assert m.view(3).status is OrderStatus.FILLED


# ---------------------------------------------------------------- FOK


def _fok_book(m: Market) -> None:
    m.sell(1, 3, 6000, account="B")
    m.sell(2, 4, 6010, account="C")
    m.sell(3, 5, 6020, account="B")


def test_fok_fills_in_full_across_several_levels(m: Market) -> None:
    _fok_book(m)
    s = m.seq
    events = m.buy(4, 10, 6020, order_type=FOK)
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 4, BUY, 10, 6020, order_type=FOK),
            ev_trade(s + 2, t, 1, 6000, 3, BUY, (4, "A", 7), (1, "B", 0)),
            ev_trade(s + 3, t, 2, 6010, 4, BUY, (4, "A", 3), (2, "C", 0)),
            ev_trade(s + 4, t, 3, 6020, 3, BUY, (4, "A", 0), (3, "B", 2)),
            ev_level(s + 5, t, SELL, 6000, 0, 0),
            ev_level(s + 6, t, SELL, 6010, 0, 0),
            ev_level(s + 7, t, SELL, 6020, 2, 1),
        ],
    )
    assert m.view(4).status is OrderStatus.FILLED


def test_fok_for_exactly_what_is_there_fills(m: Market) -> None:
    _fok_book(m)
    events = m.buy(4, 7, 6010, order_type=FOK)
    assert [e.qty_t for e in events if isinstance(e, TradeExecuted)] == [3, 4]
    assert m.view(4).status is OrderStatus.FILLED
    assert m.asks() == [(6020, 5, 1)]


@pytest.mark.parametrize(
    ("qty", "price"),
    [
        (8, 6010),  # one tonne more than is offered at or below 60.10
        (13, 6020),  # one tonne more than the whole side
        (1, 5990),  # nothing at or below 59.90
    ],
)
def test_fok_not_fillable_changes_nothing(m: Market, qty: int, price: int) -> None:
    _fok_book(m)
    asks = m.asks()
    queues = [m.queue(SELL, p) for p in (6000, 6010, 6020)]
    views = [m.view(i) for i in (1, 2, 3)]
    s = m.seq
    events = m.buy(4, qty, price, order_type=FOK)
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 4, BUY, qty, price, order_type=FOK),
            ev_cancelled(s + 2, t, 4, BUY, qty, FOK_NOT_FILLABLE),
        ],
    )
    assert m.asks() == asks
    assert [m.queue(SELL, p) for p in (6000, 6010, 6020)] == queues
    assert [m.view(i) for i in (1, 2, 3)] == views
    view = m.view(4)
    assert (view.status, view.filled_t, view.cancelled_t, view.cancel_reason) == (
        OrderStatus.CANCELLED,
        0,
        qty,
        FOK_NOT_FILLABLE,
    )


def test_fok_sell_not_fillable(m: Market) -> None:
    m.buy(1, 5, 6000, account="B")
    events = m.sell(2, 6, 6000, order_type=FOK)
    assert kinds(events) == ["OrderAccepted", "OrderCancelled"]
    assert [e.reason for e in events if isinstance(e, OrderCancelled)] == [FOK_NOT_FILLABLE]
    assert m.bids() == [(6000, 5, 1)]


# ---------------------------------------------------------------- cancel


def test_cancel_a_resting_order(m: Market) -> None:
    m.sell(1, 5, 6000)
    m.sell(2, 6, 6000, account="B")
    s = m.seq
    events = m.cancel(1, "A")
    t = m.ts
    assert_events(
        events,
        [
            ev_cancelled(s + 1, t, 1, SELL, 5, USER),
            ev_level(s + 2, t, SELL, 6000, 6, 1),
        ],
    )
    assert m.queue_ids(SELL, 6000) == [2]
    view = m.view(1)
    assert (view.status, view.cancel_reason, view.cancelled_t) == (OrderStatus.CANCELLED, USER, 5)
    assert m.engine.open_orders("A") == []


def test_cancel_the_last_order_of_a_level_removes_it(m: Market) -> None:
    m.buy(1, 5, 5990)
    s = m.seq
    events = m.cancel(1)
    t = m.ts
    assert_events(
        events, [ev_cancelled(s + 1, t, 1, BUY, 5, USER), ev_level(s + 2, t, BUY, 5990, 0, 0)]
    )
    assert m.bids() == []
    assert m.queue(BUY, 5990) == []


def test_cancel_a_partially_filled_order_cancels_what_is_open(m: Market) -> None:
    m.sell(1, 10, 6000)
    m.buy(2, 4, 6000, account="B")
    events = m.cancel(1)
    assert events[0] == ev_cancelled(events[0].seq, m.ts, 1, SELL, 6, USER)
    view = m.view(1)
    assert (view.submitted_t, view.filled_t, view.leaves_t, view.cancelled_t) == (10, 4, 0, 6)
    assert view.status is OrderStatus.CANCELLED


def test_cancel_of_a_middle_order_in_a_deep_level_keeps_the_queue() -> None:
    """20,000 orders at one price; cancelling the middle one touches only its neighbours.

    The cancel must be O(1) (an intrusive list): this test checks the result, not a time.
    """
    m = open_market()
    n = 20_000
    for order_id in range(1, n + 1):
        m.sell(order_id, 1, 6000, account="B")
    assert m.asks() == [(6000, n, n)]
    s = m.seq
    events = m.cancel(10_000, "B")
    t = m.ts
    assert_events(
        events,
        [
            ev_cancelled(s + 1, t, 10_000, SELL, 1, USER, account="B"),
            ev_level(s + 2, t, SELL, 6000, n - 1, n - 1),
        ],
    )
    ids = m.queue_ids(SELL, 6000)
    assert len(ids) == n - 1
    assert ids == [*range(1, 10_000), *range(10_001, n + 1)]
    # the head and the tail too
    m.cancel(1, "B")
    m.cancel(n, "B")
    assert m.queue_ids(SELL, 6000) == [*range(2, 10_000), *range(10_001, n)]
    # and matching walks the repaired queue in order
    events = m.buy(n + 1, 10_000, 6000, account="A")
    sold = [e.sell_order_id for e in events if isinstance(e, TradeExecuted)]
    assert sold == [*range(2, 10_000), *range(10_001, 10_003)]
    assert m.queue_ids(SELL, 6000)[:2] == [10_003, 10_004]
    assert m.asks() == [(6000, n - 3 - 10_000, n - 3 - 10_000)]


# ---------------------------------------------------------------- amend


def _three_sells(m: Market) -> None:
    m.sell(1, 10, 6000, account="A")
    m.sell(2, 10, 6000, account="B")
    m.sell(3, 10, 6000, account="C")


def test_amend_reducing_quantity_keeps_priority(m: Market) -> None:
    _three_sells(m)
    priority = m.view(1).priority
    s = m.seq
    events = m.amend(1, "A", qty=4)
    t = m.ts
    assert_events(
        events,
        [
            ev_amended(s + 1, t, 1, SELL, 6000, 4, 4, True),
            ev_level(s + 2, t, SELL, 6000, 24, 3),
        ],
    )
    assert m.queue_ids(SELL, 6000) == [1, 2, 3]
    view = m.view(1)
    assert view.priority == priority
    assert (view.submitted_t, view.filled_t, view.leaves_t, view.cancelled_t) == (10, 0, 4, 6)
    events = m.buy(4, 5, 6000, account="D")
    trades = [e for e in events if isinstance(e, TradeExecuted)]
    assert [(e.sell_order_id, e.qty_t) for e in trades] == [(1, 4), (2, 1)]


def test_amend_reducing_a_partially_filled_order(m: Market) -> None:
    _three_sells(m)
    m.buy(4, 3, 6000, account="D")  # order 1: filled 3, open 7
    events = m.amend(1, "A", qty=5)  # total 5: filled 3 + open 2
    assert events[0] == ev_amended(events[0].seq, m.ts, 1, SELL, 6000, 5, 2, True)
    view = m.view(1)
    assert (view.submitted_t, view.filled_t, view.leaves_t, view.cancelled_t) == (10, 3, 2, 5)
    assert view.status is OrderStatus.PARTIALLY_FILLED
    assert m.queue_ids(SELL, 6000) == [1, 2, 3]


def test_amend_increasing_quantity_loses_priority(m: Market) -> None:
    _three_sells(m)
    s = m.seq
    events = m.amend(1, "A", qty=15)
    t = m.ts
    assert_events(
        events,
        [
            ev_amended(s + 1, t, 1, SELL, 6000, 15, 15, False),
            ev_level(s + 2, t, SELL, 6000, 35, 3),
        ],
    )
    assert m.queue_ids(SELL, 6000) == [2, 3, 1]
    view = m.view(1)
    assert view.priority == s + 1
    assert (view.submitted_t, view.filled_t, view.leaves_t, view.cancelled_t) == (15, 0, 15, 0)


def test_amend_price_change_loses_priority(m: Market) -> None:
    _three_sells(m)
    s = m.seq
    events = m.amend(1, "A", price=6010)
    t = m.ts
    assert_events(
        events,
        [
            ev_amended(s + 1, t, 1, SELL, 6010, 10, 10, False),
            ev_level(s + 2, t, SELL, 6000, 20, 2),
            ev_level(s + 3, t, SELL, 6010, 10, 1),
        ],
    )
    assert m.queue_ids(SELL, 6000) == [2, 3]
    assert m.queue_ids(SELL, 6010) == [1]
    assert m.view(1).price_fen == 6010
    # and back again: now last in the queue
    m.amend(1, "A", price=6000)
    assert m.queue_ids(SELL, 6000) == [2, 3, 1]
    assert m.asks() == [(6000, 30, 3)]


def test_amend_price_and_smaller_quantity_loses_priority(m: Market) -> None:
    _three_sells(m)
    m.sell(5, 1, 6010, account="E")
    events = m.amend(2, "B", price=6010, qty=4)
    assert events[0] == ev_amended(events[0].seq, m.ts, 2, SELL, 6010, 4, 4, False, account="B")
    assert m.queue_ids(SELL, 6010) == [5, 2]
    view = m.view(2)
    assert (view.submitted_t, view.leaves_t, view.cancelled_t) == (10, 4, 6)


def test_amend_price_that_crosses_trades_at_once(m: Market) -> None:
    m.buy(1, 5, 5990, account="B")
    m.sell(2, 10, 6050, account="A")
    s = m.seq
    events = m.amend(2, "A", price=5990)
    t = m.ts
    assert_events(
        events,
        [
            ev_amended(s + 1, t, 2, SELL, 5990, 10, 10, False),
            ev_trade(s + 2, t, 1, 5990, 5, SELL, (1, "B", 0), (2, "A", 5)),
            ev_level(s + 3, t, BUY, 5990, 0, 0),
            ev_level(s + 4, t, SELL, 5990, 5, 1),
            ev_level(s + 5, t, SELL, 6050, 0, 0),
        ],
    )
    assert m.bids() == []
    assert m.asks() == [(5990, 5, 1)]
    assert m.view(2).status is OrderStatus.PARTIALLY_FILLED


def test_amend_price_that_crosses_trades_at_the_resting_price(m: Market) -> None:
    m.sell(1, 5, 6000, account="B")
    m.buy(2, 5, 5950, account="A")
    events = m.amend(2, "A", price=6100)
    trades = [e for e in events if isinstance(e, TradeExecuted)]
    assert [(e.price_fen, e.qty_t, e.aggressor) for e in trades] == [(6000, 5, BUY)]
    assert m.view(2).status is OrderStatus.FILLED
    assert m.engine.open_orders("A") == []
    assert m.bids() == []


@pytest.mark.parametrize("new_qty", [4, 3, 1])
def test_amend_to_quantity_not_above_filled_is_refused(m: Market, new_qty: int) -> None:
    m.sell(1, 10, 6000)
    m.buy(2, 4, 6000, account="B")
    before = m.snapshot()
    rejection = only_rejection(m.amend(1, "A", qty=new_qty))
    assert rejection.code is RejectCode.AMEND_QTY_NOT_ABOVE_FILLED
    assert rejection.details == {"qty_t": new_qty, "filled_t": 4}
    assert m.snapshot() == before
    # one tonne more than filled is fine
    events = m.amend(1, "A", qty=5)
    assert events[0] == ev_amended(events[0].seq, m.ts, 1, SELL, 6000, 5, 1, True)


@pytest.mark.parametrize(("price", "qty"), [(None, None), (6000, None), (None, 10), (6000, 10)])
def test_amend_with_no_change_is_refused(m: Market, price: int | None, qty: int | None) -> None:
    m.sell(1, 10, 6000)
    before = m.snapshot()
    rejection = only_rejection(m.amend(1, "A", price=price, qty=qty))
    assert rejection.code is RejectCode.AMEND_NO_CHANGE
    assert rejection.details == {"price_fen": 6000, "qty_t": 10}
    assert m.snapshot() == before


def test_amend_no_change_counts_the_filled_quantity(m: Market) -> None:
    """The amended quantity is the total (filled + open), as in FIX."""
    m.sell(1, 10, 6000)
    m.buy(2, 4, 6000, account="B")
    assert only_rejection(m.amend(1, "A", qty=10)).code is RejectCode.AMEND_NO_CHANGE
    events = m.amend(1, "A", qty=6)
    assert events[0] == ev_amended(events[0].seq, m.ts, 1, SELL, 6000, 6, 2, True)


# ---------------------------------------------------------------- kill switch


def _kill_switch_book() -> Market:
    m = two_symbol_market()
    m.buy(5, 1, 5990, account="A")
    m.sell(2, 2, 6010, account="A")
    m.buy(9, 3, 5000, account="A", symbol="CEA24")
    m.buy(3, 4, 5980, account="A")
    m.sell(4, 5, 6010, account="B")
    m.sell(7, 6, 6010, account="A")
    m.buy(6, 7, 5990, account="B")
    m.sell(8, 8, 5010, account="A", symbol="CEA24")
    m.buy(1, 9, 4990, account="B", symbol="CEA24")
    return m


def test_kill_switch_for_one_symbol() -> None:
    m = _kill_switch_book()
    s = m.seq
    events = m.kill("A", "CEA25")
    t = m.ts
    assert_events(
        events,
        [
            ev_cancelled(s + 1, t, 2, SELL, 2, KILL_SWITCH),
            ev_cancelled(s + 2, t, 3, BUY, 4, KILL_SWITCH),
            ev_cancelled(s + 3, t, 5, BUY, 1, KILL_SWITCH),
            ev_cancelled(s + 4, t, 7, SELL, 6, KILL_SWITCH),
            ev_level(s + 5, t, BUY, 5990, 7, 1),
            ev_level(s + 6, t, BUY, 5980, 0, 0),
            ev_level(s + 7, t, SELL, 6010, 5, 1),
        ],
    )
    assert [v.order_id for v in m.engine.open_orders("A")] == [8, 9]
    assert [v.order_id for v in m.engine.open_orders("B")] == [1, 4, 6]
    assert m.view(7).cancel_reason is KILL_SWITCH


def test_kill_switch_for_all_symbols() -> None:
    m = _kill_switch_book()
    s = m.seq
    events = m.kill("A")
    t = m.ts
    assert_events(
        events,
        [
            ev_cancelled(s + 1, t, 2, SELL, 2, KILL_SWITCH),
            ev_cancelled(s + 2, t, 3, BUY, 4, KILL_SWITCH),
            ev_cancelled(s + 3, t, 5, BUY, 1, KILL_SWITCH),
            ev_cancelled(s + 4, t, 7, SELL, 6, KILL_SWITCH),
            ev_cancelled(s + 5, t, 8, SELL, 8, KILL_SWITCH, symbol="CEA24"),
            ev_cancelled(s + 6, t, 9, BUY, 3, KILL_SWITCH, symbol="CEA24"),
            ev_level(s + 7, t, BUY, 5000, 0, 0, symbol="CEA24"),
            ev_level(s + 8, t, SELL, 5010, 0, 0, symbol="CEA24"),
            ev_level(s + 9, t, BUY, 5990, 7, 1),
            ev_level(s + 10, t, BUY, 5980, 0, 0),
            ev_level(s + 11, t, SELL, 6010, 5, 1),
        ],
    )
    assert m.engine.open_orders("A") == []
    assert [v.order_id for v in m.engine.open_orders("B")] == [1, 4, 6]


def test_kill_switch_cancels_only_the_open_part(m: Market) -> None:
    m.sell(1, 10, 6000)
    m.buy(2, 4, 6000, account="B")
    m.sell(3, 2, 6100)
    m.cancel(3)
    events = m.kill("A")
    assert events[0] == ev_cancelled(events[0].seq, m.ts, 1, SELL, 6, KILL_SWITCH)
    assert kinds(events) == ["OrderCancelled", "BookLevelChanged"]
    assert m.view(3).cancel_reason is USER  # an order already cancelled is left alone


def test_kill_switch_with_nothing_open_does_nothing(m: Market) -> None:
    m.sell(1, 10, 6000, account="B")
    s = m.seq
    assert m.kill("A") == []
    assert m.seq == s
    assert m.asks() == [(6000, 10, 1)]


# ---------------------------------------------------------------- trading states


def _two_sided_book(m: Market) -> None:
    m.sell(3, 4, 6010, account="B")
    m.buy(1, 5, 5990, account="A")
    m.buy(2, 6, 5980, account="B")
    m.sell(4, 7, 6020, account="A")


def test_halt_keeps_resting_orders(m: Market) -> None:
    _two_sided_book(m)
    bids, asks = m.bids(), m.asks()
    s = m.seq
    events = m.set_state(HALTED)
    assert_events(events, [state_changed(s + 1, m.ts, HALTED, CONTINUOUS)])
    assert (m.bids(), m.asks()) == (bids, asks)
    assert m.engine.book_info(SYM).state is HALTED
    rejection = only_rejection(m.buy(10, 1, 6010))
    assert rejection.code is RejectCode.INSTRUMENT_HALTED
    assert rejection.details == {"state": "halted"}
    assert only_rejection(m.amend(1, "A", qty=1)).code is RejectCode.INSTRUMENT_HALTED
    # cancels are allowed while halted
    assert kinds(m.cancel(1, "A")) == ["OrderCancelled", "BookLevelChanged"]
    # and trading resumes with the book as it was
    m.set_state(CONTINUOUS)
    events = m.buy(10, 4, 6010, account="C")
    assert [e.sell_order_id for e in events if isinstance(e, TradeExecuted)] == [3]


def test_halt_with_cancel_resting_cancels_every_order(m: Market) -> None:
    _two_sided_book(m)
    s = m.seq
    events = m.set_state(HALTED, cancel_resting=True)
    t = m.ts
    assert_events(
        events,
        [
            state_changed(s + 1, t, HALTED, CONTINUOUS),
            ev_cancelled(s + 2, t, 1, BUY, 5, HALT),
            ev_cancelled(s + 3, t, 2, BUY, 6, HALT, account="B"),
            ev_cancelled(s + 4, t, 3, SELL, 4, HALT, account="B"),
            ev_cancelled(s + 5, t, 4, SELL, 7, HALT),
            ev_level(s + 6, t, BUY, 5990, 0, 0),
            ev_level(s + 7, t, BUY, 5980, 0, 0),
            ev_level(s + 8, t, SELL, 6010, 0, 0),
            ev_level(s + 9, t, SELL, 6020, 0, 0),
        ],
    )
    assert (m.bids(), m.asks()) == ([], [])
    assert all(m.view(i).cancel_reason is HALT for i in (1, 2, 3, 4))


def test_break_keeps_orders_and_refuses_new_ones(m: Market) -> None:
    _two_sided_book(m)
    bids, asks = m.bids(), m.asks()
    s = m.seq
    assert_events(m.set_state(BREAK), [state_changed(s + 1, m.ts, BREAK, CONTINUOUS)])
    assert (m.bids(), m.asks()) == (bids, asks)
    rejection = only_rejection(m.buy(10, 1, 6010))
    assert rejection.code is RejectCode.INSTRUMENT_NOT_OPEN
    assert rejection.details == {"state": "break"}
    assert only_rejection(m.amend(1, "A", price=5991)).code is RejectCode.INSTRUMENT_NOT_OPEN
    assert kinds(m.cancel(2, "B")) == ["OrderCancelled", "BookLevelChanged"]
    m.set_state(CONTINUOUS)
    assert m.bids() == [(5990, 5, 1)]
    assert m.asks() == asks
    events = m.buy(10, 4, 6010, account="C")
    assert [e.sell_order_id for e in events if isinstance(e, TradeExecuted)] == [3]


@pytest.mark.parametrize("via", [CONTINUOUS, BREAK, HALTED])
def test_close_expires_every_resting_order(m: Market, via: TradingState) -> None:
    _two_sided_book(m)
    m.buy(5, 10, 6010, account="C")  # fills order 3 (4 t), rests 6 t at 60.10
    if via is not CONTINUOUS:
        m.set_state(via)
    s = m.seq
    events = m.set_state(CLOSED)
    t = m.ts
    assert_events(
        events,
        [
            state_changed(s + 1, t, CLOSED, via),
            ev_cancelled(s + 2, t, 1, BUY, 5, EXPIRY),
            ev_cancelled(s + 3, t, 2, BUY, 6, EXPIRY, account="B"),
            ev_cancelled(s + 4, t, 4, SELL, 7, EXPIRY),
            ev_cancelled(s + 5, t, 5, BUY, 6, EXPIRY, account="C"),
            ev_level(s + 6, t, BUY, 6010, 0, 0),
            ev_level(s + 7, t, BUY, 5990, 0, 0),
            ev_level(s + 8, t, BUY, 5980, 0, 0),
            ev_level(s + 9, t, SELL, 6020, 0, 0),
        ],
    )
    assert (m.bids(), m.asks()) == ([], [])
    assert m.view(3).status is OrderStatus.FILLED
    for order_id in (1, 2, 4, 5):
        assert m.view(order_id).cancel_reason is EXPIRY
    for account in "ABC":
        assert m.engine.open_orders(account) == []
    assert only_rejection(m.buy(10, 1, 6000)).code is RejectCode.INSTRUMENT_NOT_OPEN


_LEGAL = {
    (CLOSED, PRE_OPEN),
    (PRE_OPEN, CONTINUOUS),
    (PRE_OPEN, HALTED),
    (PRE_OPEN, CLOSED),
    (CONTINUOUS, BREAK),
    (CONTINUOUS, HALTED),
    (CONTINUOUS, CLOSED),
    (BREAK, CONTINUOUS),
    (BREAK, HALTED),
    (BREAK, CLOSED),
    (HALTED, CONTINUOUS),
    (HALTED, BREAK),
    (HALTED, CLOSED),
}
_PATH = {
    CLOSED: [],
    PRE_OPEN: [PRE_OPEN],
    CONTINUOUS: [PRE_OPEN, CONTINUOUS],
    BREAK: [PRE_OPEN, CONTINUOUS, BREAK],
    HALTED: [PRE_OPEN, CONTINUOUS, HALTED],
}


def _market_in(state: TradingState) -> Market:
    m = Market(MatchingEngine([cn_instrument()], {SYM: REF}))
    for step in _PATH[state]:
        m.set_state(step)
    assert m.engine.book_info(SYM).state is state
    return m


@pytest.mark.parametrize("source", list(TradingState))
@pytest.mark.parametrize("target", list(TradingState))
def test_state_transitions(source: TradingState, target: TradingState) -> None:
    m = _market_in(source)
    s = m.seq
    events = m.set_state(target)
    if (source, target) in _LEGAL:
        assert_events(events, [state_changed(s + 1, m.ts, target, source)])
        assert m.engine.book_info(SYM).state is target
    else:
        rejection = only_rejection(events)
        assert rejection == CommandRejected(
            s + 1,
            m.ts,
            "set_trading_state",
            RejectCode.INVALID_STATE_TRANSITION,
            {"from": source.value, "to": target.value},
            None,
            None,
            Symbol(SYM),
        )
        assert m.engine.book_info(SYM).state is source


@pytest.mark.parametrize("state", [CLOSED, PRE_OPEN])
def test_reference_price_changes_while_closed_or_pre_open(state: TradingState) -> None:
    m = _market_in(state)
    s = m.seq
    events = m.set_reference(7000)
    assert_events(events, [ReferencePriceSet(s + 1, m.ts, Symbol(SYM), 7000, 6300, 7700)])
    info = m.engine.book_info(SYM)
    assert (info.reference_price_fen, info.band_lower_fen, info.band_upper_fen) == (
        7000,
        6300,
        7700,
    )


@pytest.mark.parametrize("state", [CONTINUOUS, BREAK, HALTED])
def test_reference_price_is_locked_while_trading(state: TradingState) -> None:
    m = _market_in(state)
    s = m.seq
    rejection = only_rejection(m.set_reference(7000))
    assert rejection == CommandRejected(
        s + 1,
        m.ts,
        "set_reference_price",
        RejectCode.REFERENCE_PRICE_LOCKED,
        {"state": state.value},
        None,
        None,
        Symbol(SYM),
    )
    assert m.engine.book_info(SYM).reference_price_fen == REF


def test_the_band_follows_the_reference_price(m: Market) -> None:
    m.set_state(CLOSED)
    m.set_state(PRE_OPEN)
    m.set_reference(7000)
    m.set_state(CONTINUOUS)
    assert kinds(m.buy(1, 1, 7700)) == ["OrderAccepted", "BookLevelChanged"]
    assert kinds(m.buy(2, 1, 6300)) == ["OrderAccepted", "BookLevelChanged"]
    for order_id, price in [(3, 7701), (4, 6299), (5, 6000)]:
        rejection = only_rejection(m.buy(order_id, 1, price))
        assert rejection.code is RejectCode.PRICE_OUTSIDE_BAND
        assert rejection.details == {
            "price_fen": price,
            "band_lower_fen": 6300,
            "band_upper_fen": 7700,
            "reference_price_fen": 7000,
        }
    # a market buy reaches an ask at the new upper edge
    m.kill("A")
    m.sell(6, 1, 7700, account="B")
    events = m.buy(7, 2, order_type=MARKET)
    assert [e.price_fen for e in events if isinstance(e, TradeExecuted)] == [7700]


# ---------------------------------------------------------------- level changes


def test_level_changes_are_ordered_buy_first_best_to_worst(m: Market) -> None:
    for order_id, side, price in [
        (1, BUY, 5900),
        (2, SELL, 6100),
        (3, BUY, 5950),
        (4, SELL, 6050),
        (5, BUY, 5800),
        (6, SELL, 6200),
    ]:
        m.order(order_id, side, 1, price)
    events = m.kill("A")
    levels = [(e.side, e.price_fen, e.qty_t) for e in events if isinstance(e, BookLevelChanged)]
    assert levels == [
        (BUY, 5950, 0),
        (BUY, 5900, 0),
        (BUY, 5800, 0),
        (SELL, 6050, 0),
        (SELL, 6100, 0),
        (SELL, 6200, 0),
    ]
    assert kinds(events) == ["OrderCancelled"] * 6 + ["BookLevelChanged"] * 6


def test_an_unchanged_level_emits_no_level_change(m: Market) -> None:
    """A level whose total and count end as they began is not reported, even if touched."""
    m.sell(1, 5, 6000, account="B")
    events = m.amend(1, "B", qty=6)  # same level, same count, larger total
    assert [(e.qty_t, e.order_count) for e in events if isinstance(e, BookLevelChanged)] == [(6, 1)]
    # an IOC that trades nothing at all reports no level
    events = m.buy(2, 5, 5990, order_type=IOC)
    assert not any(isinstance(e, BookLevelChanged) for e in events)


def _apply_deltas(book: dict[tuple[Side, int], tuple[int, int]], events: list[Event]) -> None:
    for e in events:
        if isinstance(e, BookLevelChanged):
            if e.qty_t == 0:
                assert e.order_count == 0, e
                assert (e.side, e.price_fen) in book, f"removal of an unknown level: {e}"
                del book[(e.side, e.price_fen)]
            else:
                book[(e.side, e.price_fen)] = (e.qty_t, e.order_count)


def _l2(m: Market) -> dict[tuple[Side, int], tuple[int, int]]:
    depth = m.engine.depth(SYM, 10_000)
    book = {(BUY, p): (q, c) for p, q, c in level_views(depth.bids)}
    book.update({(SELL, p): (q, c) for p, q, c in level_views(depth.asks)})
    return book


def test_level_deltas_applied_to_a_snapshot_give_the_next_snapshot(m: Market) -> None:
    """Every command of a mixed script: deltas rebuild depth exactly; seq runs without gaps."""
    book = _l2(m)
    seqs: list[int] = []
    script: list[Callable[[], list[Event]]] = [
        lambda: m.sell(1, 5, 6000, account="B"),
        lambda: m.sell(2, 5, 6000, account="C"),
        lambda: m.sell(3, 5, 6010, account="B"),
        lambda: m.buy(4, 3, 5990, account="B"),
        lambda: m.buy(5, 7, 5980, account="C"),
        lambda: m.buy(6, 12, 6010, account="A"),  # sweeps 6000, part of 6010
        lambda: m.amend(3, "B", qty=4),
        lambda: m.amend(3, "B", price=5980),  # crosses the bids
        lambda: m.sell(7, 2, order_type=MARKET, account="D"),
        lambda: m.buy(8, 50, 6600, order_type=FOK, account="D"),
        lambda: m.buy(9, 1, 5000),  # refused: outside the band
        lambda: m.sell(10, 4, 5999, order_type=IOC, account="A"),
        lambda: m.cancel(5, "C"),
        lambda: m.buy(11, 5, 5950, account="A"),
        lambda: m.buy(12, 5, 5950, account="A", stp=OLDEST),
        lambda: m.sell(13, 6, 5950, account="A", stp=DECREMENT),
        lambda: m.kill("A"),
        lambda: m.sell(14, 9, 6020, account="C"),
        lambda: m.set_state(HALTED, cancel_resting=True),
    ]
    for step in script:
        events = step()
        _apply_deltas(book, events)
        assert book == _l2(m)
        seqs += [e.seq for e in events]
    assert seqs == list(range(3, m.seq + 1))


# ---------------------------------------------------------------- status and quantities


def test_order_status_through_its_life(m: Market) -> None:
    m.sell(1, 10, 6000)
    assert m.view(1).status is OrderStatus.NEW
    m.buy(2, 3, 6000, account="B")
    assert m.view(1).status is OrderStatus.PARTIALLY_FILLED
    m.buy(3, 7, 6000, account="B")
    view = m.view(1)
    assert view.status is OrderStatus.FILLED
    assert (view.submitted_t, view.filled_t, view.leaves_t, view.cancelled_t) == (10, 10, 0, 0)
    assert view.cancel_reason is None
    rejection = only_rejection(m.cancel(1))
    assert rejection.code is RejectCode.ORDER_NOT_OPEN
    assert rejection.details == {"order_id": 1, "status": "filled"}


def test_status_of_a_cancelled_partially_filled_order(m: Market) -> None:
    m.buy(1, 10, 6000)
    m.sell(2, 4, 6000, account="B")
    m.cancel(1)
    view = m.view(1)
    assert view.status is OrderStatus.CANCELLED
    assert (view.submitted_t, view.filled_t, view.leaves_t, view.cancelled_t) == (10, 4, 0, 6)


def test_unknown_order_view_is_none(m: Market) -> None:
    assert m.engine.order(12345) is None


def test_submitted_is_filled_plus_open_plus_cancelled(m: Market) -> None:
    m.sell(1, 10, 6000, account="B")
    m.sell(2, 10, 6010, account="B")
    m.buy(3, 4, 6000, account="A")
    m.amend(1, "B", qty=20)  # + 10 submitted
    m.amend(2, "B", qty=3)  # 7 cancelled by reduction
    m.buy(4, 30, 6010, account="A", order_type=IOC)
    m.sell(5, 9, 5990, account="C")
    m.amend(5, "C", price=5995, qty=12)
    m.buy(6, 5, 5995, account="C", stp=DECREMENT)
    m.buy(7, 8, order_type=MARKET, account="D")
    m.sell(8, 3, 5995, account="D")
    m.cancel(8, "D")
    m.buy(9, 5, 6600, account="A", order_type=FOK)
    m.set_state(CLOSED)
    for order_id in range(1, 10):
        view = m.view(order_id)
        assert view.submitted_t == view.filled_t + view.leaves_t + view.cancelled_t, view
        assert min(view.filled_t, view.leaves_t, view.cancelled_t) >= 0, view
    assert m.view(1).submitted_t == 20
    assert m.view(2).submitted_t == 10
    assert m.view(5).submitted_t == 12


# ---------------------------------------------------------------- sequence and timestamps


def test_events_carry_the_command_timestamp_and_consecutive_seq(m: Market) -> None:
    m.sell(1, 5, 6000, account="B", ts=TS0 + 500)
    events = m.buy(2, 8, 6000, ts=TS0 + 777)
    assert {e.ts_ns for e in events} == {TS0 + 777}
    assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + len(events)))
    rejection = only_rejection(m.buy(3, 0, 6000, ts=TS0 + 800))
    assert rejection.ts_ns == TS0 + 800
    assert rejection.seq == events[-1].seq + 1


def test_seq_is_one_counter_for_all_instruments() -> None:
    m = two_symbol_market()
    assert m.seq == 4  # two instruments, two state changes each
    events = m.sell(1, 5, 5000, account="B", symbol="CEA24")
    events += m.sell(2, 5, 6000, account="B", symbol="CEA25")
    events += m.buy(3, 2, 5000, account="A", symbol="CEA24")
    events += m.buy(4, 0, 6000, account="A", symbol="CEA25")  # refused
    assert [e.seq for e in events] == list(range(5, 5 + len(events)))


# ---------------------------------------------------------------- more trading-state details


def test_break_with_cancel_resting_still_keeps_orders(m: Market) -> None:
    """Only a halt cancels resting orders on request; the midday break keeps them."""
    _two_sided_book(m)
    s = m.seq
    events = m.set_state(BREAK, cancel_resting=True)
    assert_events(events, [state_changed(s + 1, m.ts, BREAK, CONTINUOUS)])
    assert m.bids() == [(5990, 5, 1), (5980, 6, 1)]
    assert m.asks() == [(6010, 4, 1), (6020, 7, 1)]


def test_halt_from_break_with_cancel_resting(m: Market) -> None:
    _two_sided_book(m)
    m.set_state(BREAK)
    events = m.set_state(HALTED, cancel_resting=True)
    assert (
        kinds(events) == ["TradingStateChanged"] + ["OrderCancelled"] * 4 + ["BookLevelChanged"] * 4
    )
    assert {e.reason for e in events if isinstance(e, OrderCancelled)} == {HALT}


def test_reference_price_of_one_fen_keeps_a_one_tick_band() -> None:
    m = _market_in(PRE_OPEN)
    events = m.set_reference(1)
    assert_events(events, [ReferencePriceSet(m.seq, m.ts, Symbol(SYM), 1, 1, 1)])


def test_close_with_an_empty_book_only_changes_state(m: Market) -> None:
    s = m.seq
    assert_events(m.set_state(CLOSED), [state_changed(s + 1, m.ts, CLOSED, CONTINUOUS)])


# ---------------------------------------------------------------- queries


def test_queries(m: Market) -> None:
    m.buy(1, 5, 5990, account="B")
    m.buy(2, 3, 5990, account="A")
    m.buy(3, 4, 5980, account="A")
    m.buy(4, 1, 5970, account="C")
    m.sell(5, 6, 6010, account="A")
    bbo = m.engine.best_bid_offer(SYM)
    assert (bbo.bid_price_fen, bbo.bid_qty_t, bbo.ask_price_fen, bbo.ask_qty_t) == (
        5990,
        8,
        6010,
        6,
    )
    depth = m.engine.depth(SYM, 2)
    assert level_views(depth.bids) == [(5990, 8, 2), (5980, 4, 1)]
    assert level_views(depth.asks) == [(6010, 6, 1)]
    queue = m.queue(BUY, 5990)
    assert [(q.order_id, q.account_id, q.leaves_t) for q in queue] == [(1, "B", 5), (2, "A", 3)]
    assert queue[0].priority < queue[1].priority
    assert m.queue(BUY, 5000) == []
    assert [v.order_id for v in m.engine.open_orders("A")] == [2, 3, 5]
    assert m.engine.open_orders("nobody") == []


def test_state_hash_is_equal_for_equal_states() -> None:
    def history(m: Market) -> None:
        m.sell(1, 5, 6000, account="B")
        m.buy(2, 3, 6010, account="A")
        m.amend(1, "B", qty=4)

    a, b = open_market(), open_market()
    history(a)
    history(b)
    assert a.engine.state_hash() == b.engine.state_hash()
    b.cancel(1, "B")
    assert a.engine.state_hash() != b.engine.state_hash()
    a.cancel(1, "B")
    assert a.engine.state_hash() == b.engine.state_hash()
