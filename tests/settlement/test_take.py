"""Point-select (摘牌) through the market, with worked numbers: the taker's hold at the quote's
price, delivery versus payment, fees, T+1, position limits, the open and the close, client
order ids, every refusal, and random takes that conserve cash and units and replay alike.

The national rule set (``matching = "both"``, five levels, any quote of them, in part) with fees
of 30 bp (buy) and 25 bp (sell), rounded down. CEA2025's band on the first day: CNY 54.00-66.00.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from matching.types import TradingState
from registry_sim.model import FEES, AccountId, UnitCode
from settlement.commands import PlaceOrder, SetSession, TakeQuote
from tests.settlement.conftest import (
    BUY,
    DAY2,
    FEES_30_25,
    LIMIT,
    SELL,
    SYM,
    Mkt,
    postings,
)

CNY = 100  # fen per yuan


class Takes(Mkt):
    def take(
        self, account: str, order_id: int, qty_t: int, client_order_id: str | None = None
    ) -> TakeQuote:
        return TakeQuote(self.next_ts(), AccountId(account), order_id, qty_t, client_order_id)


def market(overrides: dict[str, Any] | None = None) -> Takes:
    """S and C hold 1,000 t of CEA2025 each; B holds CNY 100,000; P CNY 100. S sells 100 t at
    CNY 60.00 (order 1), C 200 t at CNY 60.50 (order 2)."""
    m = Takes("cn_national", {**FEES_30_25, **(overrides or {})})
    m.participant("S", "C", "B", "P")
    m.issue("S", 1_000)
    m.issue("C", 1_000)
    m.deposit("B", 100_000 * CNY)
    m.deposit("P", 100 * CNY)
    m.open_day()
    m.sell("S", 100, 6_000)
    m.sell("C", 200, 6_050)
    return m


def test_a_buyer_takes_the_second_level_at_its_price() -> None:
    m = market()
    outcome = m.ok(m.take("B", 2, 80))
    assert outcome.order_id == 3  # the taker's own order
    (fill,) = outcome.fills
    assert (fill.trade.price_fen, fill.trade.qty_t) == (6_050, 80)
    assert (fill.trade.buy_order_id, fill.trade.sell_order_id) == (3, 2)
    # 80 t × CNY 60.50 = 484,000 fen; buy fee 30 bp = 1,452; sell fee 25 bp = 1,210.
    assert (fill.buy_fee_fen, fill.sell_fee_fen) == (1_452, 1_210)
    assert postings(outcome) == [
        ("order:3", "CNY", 485_452, "B", "available", "B", "held"),
        ("trade:1", "CNY", 484_000, "B", "held", "C", "available"),
        ("trade:1", "CNY", 1_452, "B", "held", FEES, "available"),
        ("trade:1", "CNY", 1_210, "C", "available", FEES, "available"),
        ("trade:1", SYM, 80, "C", "held", "B", "available"),
    ]
    assert m.cash("B") == 10_000_000 - 485_452
    assert m.cash("B", "held") == 0
    assert m.units("B") == 80
    assert m.cash("C") == 484_000 - 1_210
    assert (m.units("C"), m.units("C", "held")) == (800, 120)
    # T+1: bought today, sellable tomorrow
    assert m.market.sellable_t(AccountId("B"), UnitCode(SYM)) == 0
    quote = m.market.engine.order(2)
    assert quote is not None
    assert (quote.filled_t, quote.leaves_t) == (80, 120)


def test_a_seller_takes_a_bid_and_the_takes_set_the_open_and_the_close() -> None:
    m = market()
    m.ok(m.take("B", 2, 80))  # 80 t at CNY 60.50
    m.buy("B", 50, 5_900)  # order 4: B bids 50 t at CNY 59.00
    outcome = m.ok(m.take("S", 4, 50))
    (fill,) = outcome.fills
    assert (fill.trade.price_fen, fill.trade.qty_t, fill.trade.aggressor) == (5_900, 50, SELL)
    # 50 t × CNY 59.00 = 295,000 fen to S, less 25 bp = 737
    assert m.cash("S") == 295_000 - 737
    assert m.units("S") == 1_000 - 100 - 50
    assert m.units("B") == 80 + 50
    day_end = m.close_day()
    (close,) = [c for c in day_end.closes if c.symbol == SYM]
    # open: the first listed trade; close: VWAP (484,000 + 295,000) / 130 t = 5,992.3 → 5,992
    assert (close.open_fen, close.close_fen, close.volume_t) == (6_050, 5_992, 130)
    assert close.method == "vwap"
    m.open_day(DAY2)
    assert m.market.engine.book_info(SYM).reference_price_fen == 5_992
    assert m.market.sellable_t(AccountId("B"), UnitCode(SYM)) == 130  # T+1


def test_the_take_is_repeated_by_its_client_order_id() -> None:
    m = market()
    first = m.ok(m.take("B", 2, 10, "t-1"))
    again = m.ok(m.take("B", 2, 10, "t-1"))
    assert (again.order_id, again.repeated, again.fills) == (first.order_id, True, [])
    assert m.units("B") == 10
    details = m.refused(m.take("B", 2, 11, "t-1"), "CLIENT_ORDER_ID_CONFLICT")
    assert details == {"client_order_id": "t-1", "order_id": 3}
    # a placed order's id is not a take's
    m.buy("B", 1, 5_500, client_order_id="o-1")
    details = m.refused(m.take("B", 2, 1, "o-1"), "CLIENT_ORDER_ID_CONFLICT")
    assert details == {"client_order_id": "o-1", "order_id": 4}


def test_refusals_with_their_numbers() -> None:
    m = market({"limits": {"position_limit_t": 150, "report_threshold_t": 100}})
    assert m.refused(m.take("Z", 1, 10), "UNKNOWN_ACCOUNT") == {"account_id": "Z"}
    assert m.refused(m.take("B", 9, 10), "QUOTE_NOT_FOUND") == {"order_id": 9}
    assert m.refused(m.take("S", 1, 10), "SELF_TAKE") == {"order_id": 1}
    assert m.refused(m.take("B", 2, 201), "TAKE_OVER_QUOTE") == {
        "order_id": 2,
        "qty_t": 201,
        "quote_qty_t": 200,
    }
    assert m.refused(m.take("B", 2, 100_000), "QTY_OUTSIDE_LIMITS") == {
        "qty_t": 100_000,
        "min_qty_t": 1,
        "max_qty_t": 99_999,
    }
    # P has CNY 100; 10 t at CNY 60.00 holds 60,000 + 180 fen
    assert m.refused(m.take("P", 1, 10), "INSUFFICIENT_FUNDS") == {
        "required_fen": 60_180,
        "available_fen": 10_000,
    }
    # B's limit is 150 t: 100 t bought, then 60 more would make 160
    m.ok(m.take("B", 1, 100))
    assert m.refused(m.take("B", 2, 60), "POSITION_LIMIT_EXCEEDED") == {
        "position_t": 100,
        "requested_t": 60,
        "limit_t": 150,
    }
    # B's 100 t were bought today: none sellable before T+1
    m.buy("P", 1, 5_500)  # order 4: a bid for B to take
    assert m.refused(m.take("B", 4, 1), "INSUFFICIENT_UNITS") == {
        "unit": SYM,
        "requested_t": 1,
        "sellable_t": 0,
        "available_t": 100,
        "locked_t": 100,
    }
    m.ok(SetSession(m.next_ts(), TradingState.BREAK))
    assert m.refused(m.take("S", 4, 1), "INSTRUMENT_NOT_OPEN") == {"state": "break"}


def test_a_quote_beyond_the_fifth_level() -> None:
    m = market()
    for i in range(5):  # orders 3 to 7: C sells 1 t at 60.60 ... 61.00
        m.sell("C", 1, 6_060 + 10 * i)
    details = m.refused(m.take("B", 7, 1), "QUOTE_OUTSIDE_TAKE_LEVELS")
    assert details == {"order_id": 7, "price_fen": 6_100, "level": 7, "take_levels": 5}
    m.ok(m.take("B", 5, 1))  # 60.80 is the fifth level


def test_point_select_not_offered_and_point_select_only() -> None:
    m = market({"trading": {"modes": {"listed": {"matching": "price_time"}}}})
    assert m.refused(m.take("B", 1, 10), "POINT_SELECT_NOT_OFFERED") == {"matching": "price_time"}
    m = market({"trading": {"modes": {"listed": {"matching": "point_select"}}}})
    assert m.refused(m.order("B", BUY, 10, 6_000), "ORDER_WOULD_CROSS") == {
        "side": "buy",
        "price_fen": 6_000,
        "best_price_fen": 6_000,
    }
    m.ok(m.take("B", 1, 10))


# ---------------------------------------------------------------- random takes


ACCOUNTS = ("S", "C", "B", "P")
steps = st.lists(
    st.tuples(
        st.sampled_from(["sell", "buy", "take", "take"]),
        st.sampled_from(ACCOUNTS),
        st.integers(1, 120),  # quantity
        st.integers(-20, 20),  # price offset from CNY 60.00 in ticks of 5 fen
        st.integers(0, 40),  # which order to take
    ),
    max_size=40,
)


def totals(m: Mkt) -> Counter[str]:
    out: Counter[str] = Counter()
    for (_, asset, _), amount in m.market.balances().items():
        out[asset] += amount
    return out


@settings(max_examples=60, deadline=None)
@given(steps)
def test_random_takes_conserve_cash_and_units_and_replay_alike(
    plan: list[tuple[str, str, int, int, int]],
) -> None:
    m = market()
    m.deposit("S", 50_000 * CNY)
    m.deposit("C", 50_000 * CNY)
    m.issue("B", 500)
    m.issue("P", 500)
    start = totals(m)
    prefix_ts = m.ts
    commands: list[PlaceOrder | TakeQuote] = []
    for what, account, qty, offset, target in plan:
        price = 6_000 + 5 * offset
        side = SELL if what == "sell" else BUY
        if what == "take":
            # one of the orders placed so far (the take may still be refused: filled, own, ...)
            quote = 1 + target % m.market.next_order_id
            command: PlaceOrder | TakeQuote = m.take(account, quote, 1 + qty // 4)
        else:
            command = m.order(account, side, qty, price, order_type=LIMIT)
        commands.append(command)
        outcome = m.do(command)
        assert totals(m) == start  # every posting moves; nothing appears or vanishes
        if outcome.code is None and type(command) is TakeQuote:
            event("took")
            (fill,) = outcome.fills  # a take trades its whole quantity, once
            assert fill.trade.qty_t == command.qty_t
    balances = m.market.balances()
    assert all(amount >= 0 for (who, _, _), amount in balances.items() if who in ACCOUNTS)

    twin = market()
    twin.deposit("S", 50_000 * CNY)
    twin.deposit("C", 50_000 * CNY)
    twin.issue("B", 500)
    twin.issue("P", 500)
    assert twin.ts == prefix_ts
    for command in commands:
        twin.do(command)
    assert twin.market.state_hash() == m.market.state_hash()
