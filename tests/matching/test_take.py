"""Point-select (挂牌点选, 摘牌): a taker names one resting quote and trades at its price.

cn_national's listed mode (``matching = "both"``, five take levels, any quote of them, in part)
unless a test overrides it. CEA25 at CNY 60.00 in continuous trading; the market's seq is 2.
"""

from __future__ import annotations

from typing import Any

from matching import OrderStatus
from tests.matching.conftest import (
    BUY,
    FOK,
    REF,
    SELL,
    SYM,
    Market,
    assert_events,
    cn_instrument,
    ev_accepted,
    ev_level,
    ev_trade,
    kinds,
    level_views,
    open_market,
)


def listed(**values: Any) -> Market:
    overrides = {"trading": {"modes": {"listed": values}}}
    return open_market([cn_instrument(SYM, overrides)], {SYM: REF})


def three_asks(m: Market) -> None:
    """A 10 t at 60.00 (order 1), C 20 t at 60.05 (order 2), A 5 t at 60.10 (order 3)."""
    m.sell(1, 10, 6000, account="A")
    m.sell(2, 20, 6005, account="C")
    m.sell(3, 5, 6010, account="A")


def test_a_buyer_takes_part_of_a_second_level_quote_at_its_price(m: Market) -> None:
    three_asks(m)  # seq 3 .. 8: an acceptance and a level change each
    events = m.take(9, 2, 8, "B")
    ts = m.ts
    # B buys 8 t at 60.05, C's price, skipping the better 60.00: level 2 of 5 may be taken.
    assert_events(
        events,
        [
            ev_accepted(9, ts, 9, BUY, 8, 6005, account="B", order_type=FOK),
            ev_trade(10, ts, 1, 6005, 8, BUY, (9, "B", 0), (2, "C", 12)),
            ev_level(11, ts, SELL, 6005, 12, 1),
        ],
    )
    assert level_views(m.engine.depth(SYM).asks) == [(6000, 10, 1), (6005, 12, 1), (6010, 5, 1)]
    taker = m.engine.order(9)
    assert taker is not None
    assert (taker.status, taker.filled_t, taker.leaves_t) == (OrderStatus.FILLED, 8, 0)
    quote = m.engine.order(2)
    assert quote is not None
    assert (quote.status, quote.filled_t, quote.leaves_t) == (OrderStatus.PARTIALLY_FILLED, 8, 12)


def test_taking_the_rest_of_a_quote_empties_its_level(m: Market) -> None:
    three_asks(m)
    m.take(9, 2, 8, "B")
    events = m.take(10, 2, 12, "B")
    ts = m.ts
    assert_events(
        events,
        [
            ev_accepted(12, ts, 10, BUY, 12, 6005, account="B", order_type=FOK),
            ev_trade(13, ts, 2, 6005, 12, BUY, (10, "B", 0), (2, "C", 0)),
            ev_level(14, ts, SELL, 6005, 0, 0),
        ],
    )
    assert level_views(m.engine.depth(SYM).asks) == [(6000, 10, 1), (6010, 5, 1)]
    assert m.engine.open_orders("C") == []


def test_a_seller_takes_a_bid() -> None:
    m = listed()
    m.buy(1, 30, 5990, account="A")
    m.buy(2, 10, 5980, account="C")
    events = m.take(3, 2, 10, "B")
    ts = m.ts
    assert_events(
        events,
        [
            ev_accepted(7, ts, 3, SELL, 10, 5980, account="B", order_type=FOK),
            ev_trade(8, ts, 1, 5980, 10, SELL, (2, "C", 0), (3, "B", 0)),
            ev_level(9, ts, BUY, 5980, 0, 0),
        ],
    )
    assert level_views(m.engine.depth(SYM).bids) == [(5990, 30, 1)]


def test_the_fifth_level_may_be_taken(m: Market) -> None:
    for i in range(6):
        m.sell(1 + i, 10, 6000 + i, account="A")
    assert kinds(m.take(9, 5, 10, "B")) == ["OrderAccepted", "TradeExecuted", "BookLevelChanged"]


def test_any_quote_of_a_level_may_be_taken(m: Market) -> None:
    m.sell(1, 10, 6000, account="A")
    m.sell(2, 10, 6000, account="C")
    events = m.take(9, 2, 10, "B")
    assert kinds(events) == ["OrderAccepted", "TradeExecuted", "BookLevelChanged"]
    assert level_views(m.engine.depth(SYM).asks) == [(6000, 10, 1)]
    assert [q.order_id for q in m.engine.queue(SYM, SELL, 6000)] == [1]


def test_price_time_priority_takes_the_first_quote_at_the_best_price() -> None:
    m = listed(take_levels=1, strict_price_priority=True)  # Guangdong's rule
    m.sell(1, 10, 6000, account="A")
    m.sell(2, 10, 6000, account="C")
    assert kinds(m.take(9, 1, 4, "B")) == ["OrderAccepted", "TradeExecuted", "BookLevelChanged"]
    assert level_views(m.engine.depth(SYM).asks) == [(6000, 16, 2)]


def test_under_point_select_only_orders_rest_and_are_taken() -> None:
    m = listed(matching="point_select")
    m.sell(1, 10, 6000, account="A")
    assert kinds(m.buy(2, 5, 5999, account="B")) == ["OrderAccepted", "BookLevelChanged"]
    assert kinds(m.take(3, 1, 10, "B")) == ["OrderAccepted", "TradeExecuted", "BookLevelChanged"]
    # the ask is gone: a bid at 60.00 no longer crosses anything
    assert kinds(m.buy(4, 5, 6000, account="B")) == ["OrderAccepted", "BookLevelChanged"]
    assert level_views(m.engine.depth(SYM).bids) == [(6000, 5, 1), (5999, 5, 1)]


def test_a_take_hashes_like_its_replay(m: Market) -> None:
    twin = open_market()
    for market in (m, twin):
        three_asks(market)
        market.take(9, 2, 8, "B")
    assert m.engine.state_hash() == twin.engine.state_hash()
