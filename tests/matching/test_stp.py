"""Self-trade prevention: every mode, with exact events, and with IOC, market and FOK orders.

The incoming order's STP mode decides (docs/matching.md, "Self-trade prevention"). Account A is
the self-trader throughout; B and C are other accounts.
"""

from __future__ import annotations

import pytest

from matching import CancelReason, OrderCancelled, OrderStatus, StpMode, TradeExecuted
from tests.matching.conftest import (
    BOTH,
    BUY,
    DECREMENT,
    FOK,
    IOC,
    MARKET,
    NEWEST,
    OLDEST,
    SELL,
    Market,
    assert_events,
    ev_accepted,
    ev_amended,
    ev_cancelled,
    ev_level,
    ev_reduced,
    ev_trade,
    kinds,
)

STP = CancelReason.STP
IOC_REMAINDER = CancelReason.IOC_REMAINDER
FOK_NOT_FILLABLE = CancelReason.FOK_NOT_FILLABLE


def quantities(m: Market, order_id: int) -> tuple[int, int, int, int]:
    view = m.view(order_id)
    return view.submitted_t, view.filled_t, view.leaves_t, view.cancelled_t


# ---------------------------------------------------------------- cancel_newest


def test_cancel_newest_is_the_default(m: Market) -> None:
    m.sell(1, 10, 6000, account="A")
    s = m.seq
    events = m.buy(2, 5, 6000, account="A")  # no stp given
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 2, BUY, 5, 6000, stp=NEWEST),
            ev_cancelled(s + 2, t, 2, BUY, 5, STP),
        ],
    )
    assert m.asks() == [(6000, 10, 1)]
    assert m.bids() == []
    assert m.view(1).status is OrderStatus.NEW
    assert m.view(2).cancel_reason is STP


def test_cancel_newest_after_trading_with_others(m: Market) -> None:
    m.sell(1, 3, 6000, account="B")
    m.sell(2, 10, 6000, account="A")
    m.sell(3, 4, 6000, account="C")
    s = m.seq
    events = m.buy(4, 8, 6010, account="A", stp=NEWEST)
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 4, BUY, 8, 6010),
            ev_trade(s + 2, t, 1, 6000, 3, BUY, (4, "A", 5), (1, "B", 0)),
            ev_cancelled(s + 3, t, 4, BUY, 5, STP),
            ev_level(s + 4, t, SELL, 6000, 14, 2),
        ],
    )
    assert m.queue_ids(SELL, 6000) == [2, 3]  # C behind A is not reached
    assert quantities(m, 4) == (8, 3, 0, 5)
    assert m.view(4).status is OrderStatus.CANCELLED


# ---------------------------------------------------------------- cancel_oldest


def test_cancel_oldest_cancels_the_resting_order_and_goes_on(m: Market) -> None:
    m.sell(1, 4, 6000, account="A")
    m.sell(2, 6, 6000, account="B")
    s = m.seq
    events = m.buy(3, 8, 6000, account="A", stp=OLDEST)
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 3, BUY, 8, 6000, stp=OLDEST),
            ev_cancelled(s + 2, t, 1, SELL, 4, STP),
            ev_trade(s + 3, t, 1, 6000, 6, BUY, (3, "A", 2), (2, "B", 0)),
            ev_level(s + 4, t, BUY, 6000, 2, 1),
            ev_level(s + 5, t, SELL, 6000, 0, 0),
        ],
    )
    assert m.view(1).cancel_reason is STP
    assert quantities(m, 1) == (4, 0, 0, 4)
    assert m.bids() == [(6000, 2, 1)]
    assert m.asks() == []


def test_cancel_oldest_across_levels(m: Market) -> None:
    m.sell(1, 2, 6000, account="A")
    m.sell(2, 2, 6010, account="A")
    m.sell(3, 2, 6010, account="B")
    events = m.buy(4, 3, 6010, account="A", stp=OLDEST)
    assert kinds(events) == [
        "OrderAccepted",
        "OrderCancelled",
        "OrderCancelled",
        "TradeExecuted",
        "BookLevelChanged",
        "BookLevelChanged",
        "BookLevelChanged",
    ]
    assert [e.order_id for e in events if isinstance(e, OrderCancelled)] == [1, 2]
    assert m.bids() == [(6010, 1, 1)]
    assert m.asks() == []


# ---------------------------------------------------------------- cancel_both


def test_cancel_both_cancels_resting_then_incoming(m: Market) -> None:
    m.sell(1, 4, 6000, account="A")
    m.sell(2, 6, 6000, account="B")
    s = m.seq
    events = m.buy(3, 8, 6000, account="A", stp=BOTH)
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 3, BUY, 8, 6000, stp=BOTH),
            ev_cancelled(s + 2, t, 1, SELL, 4, STP),
            ev_cancelled(s + 3, t, 3, BUY, 8, STP),
            ev_level(s + 4, t, SELL, 6000, 6, 1),
        ],
    )
    assert m.queue_ids(SELL, 6000) == [2]
    assert m.bids() == []


def test_cancel_both_empties_a_level(m: Market) -> None:
    m.sell(1, 4, 6000, account="A")
    s = m.seq
    events = m.buy(2, 5, 6010, account="A", stp=BOTH)
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 2, BUY, 5, 6010, stp=BOTH),
            ev_cancelled(s + 2, t, 1, SELL, 4, STP),
            ev_cancelled(s + 3, t, 2, BUY, 5, STP),
            ev_level(s + 4, t, SELL, 6000, 0, 0),
        ],
    )
    assert (m.bids(), m.asks()) == ([], [])
    assert m.engine.open_orders("A") == []


# ---------------------------------------------------------------- decrement


def test_decrement_equal_sizes_cancels_both(m: Market) -> None:
    m.sell(1, 5, 6000, account="A")
    s = m.seq
    events = m.buy(2, 5, 6000, account="A", stp=DECREMENT)
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 2, BUY, 5, 6000, stp=DECREMENT),
            ev_cancelled(s + 2, t, 1, SELL, 5, STP),
            ev_cancelled(s + 3, t, 2, BUY, 5, STP),
            ev_level(s + 4, t, SELL, 6000, 0, 0),
        ],
    )
    assert quantities(m, 1) == (5, 0, 0, 5)
    assert quantities(m, 2) == (5, 0, 0, 5)
    assert m.view(1).status is OrderStatus.CANCELLED
    assert m.view(2).status is OrderStatus.CANCELLED
    assert (m.bids(), m.asks()) == ([], [])
    assert not any(isinstance(e, TradeExecuted) for e in events)


def test_decrement_taker_larger_reduces_it_and_matching_goes_on(m: Market) -> None:
    m.sell(1, 3, 6000, account="A")
    m.sell(2, 4, 6000, account="B")
    s = m.seq
    events = m.buy(3, 10, 6000, account="A", stp=DECREMENT)
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 3, BUY, 10, 6000, stp=DECREMENT),
            ev_cancelled(s + 2, t, 1, SELL, 3, STP),
            ev_reduced(s + 3, t, 3, BUY, 3, 7),
            ev_trade(s + 4, t, 1, 6000, 4, BUY, (3, "A", 3), (2, "B", 0)),
            ev_level(s + 5, t, BUY, 6000, 3, 1),
            ev_level(s + 6, t, SELL, 6000, 0, 0),
        ],
    )
    assert quantities(m, 3) == (10, 4, 3, 3)
    assert m.view(3).status is OrderStatus.PARTIALLY_FILLED
    assert m.bids() == [(6000, 3, 1)]


def test_decrement_maker_larger_reduces_the_resting_order(m: Market) -> None:
    m.sell(1, 10, 6000, account="A")
    m.sell(2, 5, 6000, account="B")
    priority = m.view(1).priority
    s = m.seq
    events = m.buy(3, 4, 6000, account="A", stp=DECREMENT)
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 3, BUY, 4, 6000, stp=DECREMENT),
            ev_reduced(s + 2, t, 1, SELL, 4, 6),
            ev_cancelled(s + 3, t, 3, BUY, 4, STP),
            ev_level(s + 4, t, SELL, 6000, 11, 2),
        ],
    )
    assert quantities(m, 1) == (10, 0, 6, 4)
    view = m.view(1)
    assert view.status is OrderStatus.NEW
    assert view.cancel_reason is None
    assert view.priority == priority  # still first in the queue
    assert [(q.order_id, q.leaves_t) for q in m.queue(SELL, 6000)] == [(1, 6), (2, 5)]
    assert quantities(m, 3) == (4, 0, 0, 4)


def test_decrement_sell_side(m: Market) -> None:
    m.buy(1, 2, 6000, account="A")
    m.buy(2, 5, 5990, account="B")
    s = m.seq
    events = m.sell(3, 6, 5990, account="A", stp=DECREMENT)
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 3, SELL, 6, 5990, stp=DECREMENT),
            ev_cancelled(s + 2, t, 1, BUY, 2, STP),
            ev_reduced(s + 3, t, 3, SELL, 2, 4),
            ev_trade(s + 4, t, 1, 5990, 4, SELL, (2, "B", 1), (3, "A", 0)),
            ev_level(s + 5, t, BUY, 6000, 0, 0),
            ev_level(s + 6, t, BUY, 5990, 1, 1),
        ],
    )


# ---------------------------------------------------------------- with IOC and market orders


def test_ioc_cancel_newest_remainder_is_cancelled_for_stp(m: Market) -> None:
    m.sell(1, 2, 6000, account="B")
    m.sell(2, 5, 6000, account="A")
    s = m.seq
    events = m.buy(3, 10, 6000, account="A", order_type=IOC)
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 3, BUY, 10, 6000, order_type=IOC),
            ev_trade(s + 2, t, 1, 6000, 2, BUY, (3, "A", 8), (1, "B", 0)),
            ev_cancelled(s + 3, t, 3, BUY, 8, STP),
            ev_level(s + 4, t, SELL, 6000, 5, 1),
        ],
    )
    assert m.view(3).cancel_reason is STP


def test_ioc_cancel_oldest_remainder_is_an_ioc_remainder(m: Market) -> None:
    m.sell(1, 2, 6000, account="B")
    m.sell(2, 5, 6000, account="A")
    s = m.seq
    events = m.buy(3, 10, 6000, account="A", order_type=IOC, stp=OLDEST)
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 3, BUY, 10, 6000, order_type=IOC, stp=OLDEST),
            ev_trade(s + 2, t, 1, 6000, 2, BUY, (3, "A", 8), (1, "B", 0)),
            ev_cancelled(s + 3, t, 2, SELL, 5, STP),
            ev_cancelled(s + 4, t, 3, BUY, 8, IOC_REMAINDER),
            ev_level(s + 5, t, SELL, 6000, 0, 0),
        ],
    )


def test_ioc_decrement_remainder_is_an_ioc_remainder(m: Market) -> None:
    m.sell(1, 3, 6000, account="A")
    s = m.seq
    events = m.buy(2, 5, 6000, account="A", order_type=IOC, stp=DECREMENT)
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 2, BUY, 5, 6000, order_type=IOC, stp=DECREMENT),
            ev_cancelled(s + 2, t, 1, SELL, 3, STP),
            ev_reduced(s + 3, t, 2, BUY, 3, 2),
            ev_cancelled(s + 4, t, 2, BUY, 2, IOC_REMAINDER),
            ev_level(s + 5, t, SELL, 6000, 0, 0),
        ],
    )
    assert quantities(m, 2) == (5, 0, 0, 5)


def test_market_cancel_newest(m: Market) -> None:
    m.sell(1, 5, 6000, account="A")
    s = m.seq
    events = m.buy(2, 5, account="A", order_type=MARKET)
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 2, BUY, 5, None, order_type=MARKET),
            ev_cancelled(s + 2, t, 2, BUY, 5, STP),
        ],
    )
    assert m.asks() == [(6000, 5, 1)]


def test_market_decrement_then_trades_on(m: Market) -> None:
    m.sell(1, 3, 6000, account="A")
    m.sell(2, 5, 6100, account="B")
    s = m.seq
    events = m.buy(3, 6, account="A", order_type=MARKET, stp=DECREMENT)
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 3, BUY, 6, None, order_type=MARKET, stp=DECREMENT),
            ev_cancelled(s + 2, t, 1, SELL, 3, STP),
            ev_reduced(s + 3, t, 3, BUY, 3, 3),
            ev_trade(s + 4, t, 1, 6100, 3, BUY, (3, "A", 0), (2, "B", 2)),
            ev_level(s + 5, t, SELL, 6000, 0, 0),
            ev_level(s + 6, t, SELL, 6100, 2, 1),
        ],
    )
    assert m.view(3).status is OrderStatus.FILLED
    assert quantities(m, 3) == (6, 3, 0, 3)


def test_market_cancel_both(m: Market) -> None:
    m.buy(1, 4, 6000, account="A")
    s = m.seq
    events = m.sell(2, 9, account="A", order_type=MARKET, stp=BOTH)
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 2, SELL, 9, None, order_type=MARKET, stp=BOTH),
            ev_cancelled(s + 2, t, 1, BUY, 4, STP),
            ev_cancelled(s + 3, t, 2, SELL, 9, STP),
            ev_level(s + 4, t, BUY, 6000, 0, 0),
        ],
    )


# ---------------------------------------------------------------- with FOK orders


def _own_order_in_the_way(m: Market) -> None:
    m.sell(1, 5, 6000, account="B")
    m.sell(2, 5, 6000, account="A")
    m.sell(3, 5, 6000, account="C")


@pytest.mark.parametrize("stp", [NEWEST, BOTH, DECREMENT])
def test_fok_with_an_own_order_in_the_way_is_not_fillable(m: Market, stp: StpMode) -> None:
    _own_order_in_the_way(m)
    before = m.snapshot()
    s = m.seq
    events = m.buy(4, 10, 6000, account="A", order_type=FOK, stp=stp)
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 4, BUY, 10, 6000, order_type=FOK, stp=stp),
            ev_cancelled(s + 2, t, 4, BUY, 10, FOK_NOT_FILLABLE),
        ],
    )
    after = m.snapshot()
    assert after[0] == before[0]  # books, depth and queues unchanged
    assert m.queue_ids(SELL, 6000) == [1, 2, 3]
    assert [q.leaves_t for q in m.queue(SELL, 6000)] == [5, 5, 5]


def test_fok_cancel_oldest_skips_the_own_order(m: Market) -> None:
    _own_order_in_the_way(m)
    s = m.seq
    events = m.buy(4, 10, 6000, account="A", order_type=FOK, stp=OLDEST)
    t = m.ts
    assert_events(
        events,
        [
            ev_accepted(s + 1, t, 4, BUY, 10, 6000, order_type=FOK, stp=OLDEST),
            ev_trade(s + 2, t, 1, 6000, 5, BUY, (4, "A", 5), (1, "B", 0)),
            ev_cancelled(s + 3, t, 2, SELL, 5, STP),
            ev_trade(s + 4, t, 2, 6000, 5, BUY, (4, "A", 0), (3, "C", 0)),
            ev_level(s + 5, t, SELL, 6000, 0, 0),
        ],
    )
    assert m.view(4).status is OrderStatus.FILLED


def test_fok_cancel_oldest_own_quantity_does_not_count(m: Market) -> None:
    """Under cancel_oldest the own order is skipped, not counted: 10 t needs 10 t of others."""
    _own_order_in_the_way(m)
    events = m.buy(4, 11, 6000, account="A", order_type=FOK, stp=OLDEST)
    assert kinds(events) == ["OrderAccepted", "OrderCancelled"]
    assert [e.reason for e in events if isinstance(e, OrderCancelled)] == [FOK_NOT_FILLABLE]
    assert m.queue_ids(SELL, 6000) == [1, 2, 3]  # the own order was not cancelled either


@pytest.mark.parametrize("stp", [NEWEST, BOTH, DECREMENT])
def test_fok_own_order_beyond_the_fill_does_not_matter(m: Market, stp: StpMode) -> None:
    m.sell(1, 10, 6000, account="B")
    m.sell(2, 5, 6000, account="A")
    events = m.buy(3, 10, 6000, account="A", order_type=FOK, stp=stp)
    assert kinds(events) == ["OrderAccepted", "TradeExecuted", "BookLevelChanged"]
    assert m.view(3).status is OrderStatus.FILLED
    assert m.queue_ids(SELL, 6000) == [2]


# ---------------------------------------------------------------- amendments that cross


def test_an_amendment_that_crosses_an_own_order_follows_its_stp_mode(m: Market) -> None:
    """A crossing amendment trades "as if it were a new incoming order": its STP mode applies."""
    m.sell(1, 5, 6000, account="A")
    m.buy(2, 5, 5990, account="A")  # default cancel_newest
    s = m.seq
    events = m.amend(2, "A", price=6000)
    t = m.ts
    assert_events(
        events,
        [
            ev_amended(s + 1, t, 2, BUY, 6000, 5, 5, False),
            ev_cancelled(s + 2, t, 2, BUY, 5, STP),
            ev_level(s + 3, t, BUY, 5990, 0, 0),
        ],
    )
    assert m.asks() == [(6000, 5, 1)]
    assert m.bids() == []
    assert m.view(2).cancel_reason is STP
    assert [v.order_id for v in m.engine.open_orders("A")] == [1]


def test_an_amendment_that_crosses_under_cancel_oldest(m: Market) -> None:
    m.sell(1, 5, 6000, account="A")
    m.sell(2, 3, 6000, account="B")
    m.buy(3, 6, 5990, account="A", stp=OLDEST)
    s = m.seq
    events = m.amend(3, "A", price=6000)
    t = m.ts
    assert_events(
        events,
        [
            ev_amended(s + 1, t, 3, BUY, 6000, 6, 6, False),
            ev_cancelled(s + 2, t, 1, SELL, 5, STP),
            ev_trade(s + 3, t, 1, 6000, 3, BUY, (3, "A", 3), (2, "B", 0)),
            ev_level(s + 4, t, BUY, 6000, 3, 1),
            ev_level(s + 5, t, BUY, 5990, 0, 0),
            ev_level(s + 6, t, SELL, 6000, 0, 0),
        ],
    )
    assert m.queue_ids(BUY, 6000) == [3]
