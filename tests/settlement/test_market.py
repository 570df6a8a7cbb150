"""Worked numbers for the market: holds, fills, releases, T+1, the close, limits, idempotency,
refusals, the trading day, statements and snapshots (docs/settlement.md; docs/rules.md,
national: trading).

Fees, where a test sets them, are 30 bp on the buyer and 25 bp on the seller, each rounded
down to the fen. CEA2025's first reference price is CNY 60.00, so its band is CNY 54.00-66.00.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from matching.types import TradingState
from registry_sim.model import FEES, NATIONAL, Account, AccountId, AccountKind, UnitCode
from registry_sim.ops import (
    Hold,
    IssueAllowances,
    OpenAccount,
    PreAllocate,
    RecordEmissions,
    ReleaseHold,
)
from settlement import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    Close,
    CloseDay,
    Deposit,
    EndOfDay,
    Fill,
    Halt,
    LargeHolderReport,
    Market,
    MarketCommand,
    OpenDay,
    RegistryCommand,
    Resume,
    SetSession,
    Withdraw,
)
from settlement.market import MAX_TOTAL
from tests.settlement.conftest import (
    BUY,
    DAY1,
    DAY2,
    DAY3,
    FEES_30_25,
    FOK,
    IOC,
    MARKET,
    SELL,
    SYM,
    Mkt,
    everything,
    postings,
)

A, B, C = "A", "B", "C"
LIMITS_1000: dict[str, Any] = {"limits": {"position_limit_t": 1_000, "report_threshold_t": 500}}


def market(overrides: dict[str, Any] | None = None, rules: str = "cn_national") -> Mkt:
    """Participants A, B and C, no money and no units yet, the first day not yet open."""
    m = Mkt(rules, overrides)
    m.participant(A, B, C)
    return m


# ---------------------------------------------------------------------- holds and fills


def test_a_buy_holds_price_times_quantity_plus_the_fee_rounded_down() -> None:
    m = market(FEES_30_25)
    m.deposit(A, 1_000_000)
    m.open_day()
    # 100 t at CNY 62.00 = 620,000 fen, plus 30 bp = 1,860 fen
    out = m.buy(A, 100, 6_200)
    assert postings(out) == [("order:1", "CNY", 621_860, A, "available", A, "held")]
    assert (m.cash(A), m.cash(A, "held")) == (378_140, 621_860)
    # 7 t at CNY 60.01 = 42,007 fen; 30 bp of it is 126.021 fen, held as 126
    out = m.buy(A, 7, 6_001)
    assert postings(out) == [("order:2", "CNY", 42_133, A, "available", A, "held")]
    # 55 t at CNY 62.00 would hold 341,000 + 1,023 fen: more than the 336,007 left
    details = m.refused(m.order(A, BUY, 55, 6_200), "INSUFFICIENT_FUNDS")
    assert details == {"required_fen": 342_023, "available_fen": 336_007}


def test_a_partial_fill_pays_the_maker_price_and_releases_the_improvement() -> None:
    m = market(FEES_30_25)
    m.deposit(A, 1_000_000)
    m.issue(B, 60)
    m.open_day()
    m.sell(B, 60, 6_100)
    out = m.buy(A, 100, 6_200)
    # 60 t trade at the maker's CNY 61.00: 366,000 fen; fees 1,098 (buyer) and 915 (seller).
    # The 40 t left hold 248,000 + 744 fen; of the 621,860 held, 6,018 fen come back:
    # 60 t × CNY 1.00 of price improvement and 18 fen of fee on it.
    assert postings(out) == [
        ("order:2", "CNY", 621_860, A, "available", A, "held"),
        ("trade:1", "CNY", 366_000, A, "held", B, "available"),
        ("trade:1", "CNY", 1_098, A, "held", FEES, "available"),
        ("trade:1", "CNY", 915, B, "available", FEES, "available"),
        ("trade:1", SYM, 60, B, "held", A, "available"),
        ("order:2", "CNY", 6_018, A, "held", A, "available"),
    ]
    assert out.fills == [Fill(out.fills[0].trade, 1_098, 915)]
    assert (out.fills[0].trade.price_fen, out.fills[0].trade.qty_t) == (6_100, 60)
    assert m.cash(A, "held") == 248_744
    assert m.cash(A) == 1_000_000 - 366_000 - 1_098 - 248_744
    assert m.cash(B) == 365_085
    assert m.cash(FEES) == 2_013
    assert (m.units(A), m.units(B), m.units(B, "held")) == (60, 0, 0)
    assert m.market.cash.total_fen() == 0


def test_cancel_and_expiry_release_exactly_what_was_held() -> None:
    m = market(FEES_30_25)
    m.deposit(A, 1_000_000)
    m.issue(B, 500)
    m.open_day()
    m.buy(A, 40, 6_200)  # holds 248,000 + 744
    out = m.ok(CancelOrder(m.next_ts(), AccountId(A), 1))
    assert postings(out) == [("order:1", "CNY", 248_744, A, "held", A, "available")]
    assert (m.cash(A), m.cash(A, "held")) == (1_000_000, 0)
    m.sell(B, 30, 6_300)
    m.buy(A, 25, 5_900)  # holds 147,500 + 442
    out = m.ok(CloseDay(m.next_ts()))
    # every order is a day order: the close expires both and releases their holds
    assert postings(out) == [
        ("order:2", SYM, 30, B, "held", B, "available"),
        ("order:3", "CNY", 147_942, A, "held", A, "available"),
    ]
    assert (m.cash(A), m.units(B)) == (1_000_000, 500)
    assert not m.market.engine.open_orders(A)


def test_ioc_remainder_and_an_unfillable_fok_release_everything_they_held() -> None:
    m = market()
    m.deposit(A, 1_000_000)
    m.issue(B, 30)
    m.open_day()
    m.sell(B, 30, 6_300)
    # IOC for 50 t at CNY 63.00 holds 315,000; 30 t trade (189,000), 20 t are cancelled
    out = m.buy(A, 50, 6_300, order_type=IOC)
    assert postings(out)[-1] == ("order:2", "CNY", 126_000, A, "held", A, "available")
    assert (m.cash(A), m.cash(A, "held")) == (811_000, 0)
    # FOK for 10 t finds nothing to sell: it holds 63,000 and gives it straight back
    out = m.buy(A, 10, 6_300, order_type=FOK)
    assert postings(out) == [
        ("order:3", "CNY", 63_000, A, "available", A, "held"),
        ("order:3", "CNY", 63_000, A, "held", A, "available"),
    ]
    assert not out.fills


def test_a_market_buy_holds_at_the_band_top_and_pays_the_trade_price() -> None:
    m = market(FEES_30_25)
    m.deposit(A, 700_000)
    m.deposit(C, 661_979)
    m.issue(B, 100)
    m.open_day()
    assert m.market.engine.band(SYM) == (5_400, 6_600)
    m.sell(B, 100, 6_100)
    # held at CNY 66.00 (the band's top): 660,000 + 1,980 fee
    details = m.refused(m.order(C, BUY, 100, order_type=MARKET), "INSUFFICIENT_FUNDS")
    assert details == {"required_fen": 661_980, "available_fen": 661_979}
    out = m.buy(A, 100, order_type=MARKET)
    # trades 100 t at CNY 61.00: 610,000 + 1,830; the remaining 50,150 fen come back
    assert postings(out)[0] == ("order:2", "CNY", 661_980, A, "available", A, "held")
    assert postings(out)[-1] == ("order:2", "CNY", 50_150, A, "held", A, "available")
    assert (m.cash(A), m.cash(A, "held")) == (700_000 - 611_830, 0)


# ---------------------------------------------------------------------- amendments


def test_amending_a_buy_up_needs_funds_and_down_releases() -> None:
    m = market(FEES_30_25)
    m.deposit(A, 700_000)
    m.open_day()
    m.buy(A, 100, 6_000)  # holds 600,000 + 1,800; 98,200 left
    amend = AmendOrder(m.next_ts(), AccountId(A), 1, qty_t=120)
    # 120 t at CNY 60.00 hold 720,000 + 2,160: 120,360 more than now
    details = m.refused(amend, "INSUFFICIENT_FUNDS")
    assert details == {"required_fen": 120_360, "available_fen": 98_200}
    # CNY 60.10: 601,000 + 1,803 = 1,003 more
    out = m.ok(AmendOrder(m.next_ts(), AccountId(A), 1, price_fen=6_010))
    assert postings(out) == [("order:1", "CNY", 1_003, A, "available", A, "held")]
    # CNY 59.00: 590,000 + 1,770; 11,033 back
    out = m.ok(AmendOrder(m.next_ts(), AccountId(A), 1, price_fen=5_900))
    assert postings(out) == [("order:1", "CNY", 11_033, A, "held", A, "available")]
    # 50 t at CNY 59.00: 295,000 + 885; the other half comes back
    out = m.ok(AmendOrder(m.next_ts(), AccountId(A), 1, qty_t=50))
    assert postings(out) == [("order:1", "CNY", 295_885, A, "held", A, "available")]
    assert m.cash(A, "held") == 295_885


def test_amending_a_sell_up_needs_sellable_units_and_down_releases_them() -> None:
    m = market()
    m.issue(B, 100)
    m.open_day()
    m.sell(B, 60, 6_500)
    details = m.refused(AmendOrder(m.next_ts(), AccountId(B), 1, qty_t=120), "INSUFFICIENT_UNITS")
    assert details == {
        "unit": SYM,
        "requested_t": 60,
        "sellable_t": 40,
        "available_t": 40,
        "locked_t": 0,
    }
    out = m.ok(AmendOrder(m.next_ts(), AccountId(B), 1, qty_t=100))
    assert postings(out) == [("order:1", SYM, 40, B, "available", B, "held")]
    out = m.ok(AmendOrder(m.next_ts(), AccountId(B), 1, qty_t=30))
    assert postings(out) == [("order:1", SYM, 70, B, "held", B, "available")]
    assert (m.units(B), m.units(B, "held")) == (70, 30)


def test_an_amendment_is_refused_for_the_price_before_the_money() -> None:
    # as with a new order: a price outside the band is reported as such, even when the
    # money would not be there either
    m = market()
    m.deposit(A, 600_000)
    m.open_day()
    m.buy(A, 100, 6_000)
    details = m.refused(AmendOrder(m.next_ts(), AccountId(A), 1, 9_000), "PRICE_OUTSIDE_BAND")
    assert details == {
        "price_fen": 9_000,
        "band_lower_fen": 5_400,
        "band_upper_fen": 6_600,
        "reference_price_fen": 6_000,
    }


def test_refused_cancels_and_amendments_change_nothing() -> None:
    # the engine would spend a sequence number on these refusals: the market finds them first
    m = market()
    m.deposit(A, 600_000)
    m.open_day()
    m.buy(A, 10, 6_000)
    assert m.refused(CancelOrder(m.next_ts(), AccountId(A), 99), "UNKNOWN_ORDER") == {
        "order_id": 99
    }
    assert m.refused(CancelOrder(m.next_ts(), AccountId(B), 1), "NOT_OWNER") == {"order_id": 1}
    assert m.refused(AmendOrder(m.next_ts(), AccountId(B), 1, 6_010), "NOT_OWNER") == {
        "order_id": 1
    }
    m.refused(AmendOrder(m.next_ts(), AccountId(A), 1, 6_000), "AMEND_NO_CHANGE")
    m.refused(AmendOrder(m.next_ts(), AccountId(A), 1, qty_t=0), "QTY_OUTSIDE_LIMITS")
    m.ok(CancelOrder(m.next_ts(), AccountId(A), 1))
    details = m.refused(CancelOrder(m.next_ts(), AccountId(A), 1), "ORDER_NOT_OPEN")
    assert details == {"order_id": 1, "status": "cancelled"}
    m.buy(A, 10, 5_990)
    m.ok(Halt(m.next_ts()))
    details = m.refused(AmendOrder(m.next_ts(), AccountId(A), 2, 6_010), "INSTRUMENT_HALTED")
    assert details == {"state": "halted"}
    m.ok(CancelOrder(m.next_ts(), AccountId(A), 2))  # a halt does not stop a cancel
    assert m.cash(A) == 600_000


# ---------------------------------------------------------------------- T+1


def test_units_bought_today_are_sellable_only_from_the_next_day() -> None:
    m = market()
    m.deposit(A, 1_000_000)
    m.issue(A, 50)  # A's own, older units
    m.issue(B, 300)
    m.open_day()
    details = m.refused(m.order(C, SELL, 10, 6_100), "INSUFFICIENT_UNITS")
    assert details == {
        "unit": SYM,
        "requested_t": 10,
        "sellable_t": 0,
        "available_t": 0,
        "locked_t": 0,
    }
    m.sell(B, 100, 6_100)
    m.buy(A, 100, 6_100)
    # A has 150 t available, of which the 100 t bought today are locked until tomorrow
    details = m.refused(m.order(A, SELL, 60, 6_100), "INSUFFICIENT_UNITS")
    assert details == {
        "unit": SYM,
        "requested_t": 60,
        "sellable_t": 50,
        "available_t": 150,
        "locked_t": 100,
    }
    m.sell(A, 50, 6_300)
    assert m.market.sellable_t(AccountId(A), UnitCode(SYM)) == 0
    m.next_day(DAY2)  # the sell expired; yesterday's purchase is free
    assert m.market.sellable_t(AccountId(A), UnitCode(SYM)) == 150
    m.sell(A, 150, 6_300)


def test_without_t_plus_one_units_bought_are_sellable_at_once() -> None:
    m = market({"settlement": {"units_sellable_after_days": 0}})
    m.deposit(A, 1_000_000)
    m.issue(B, 100)
    m.open_day()
    m.sell(B, 100, 6_100)
    m.buy(A, 100, 6_100)
    assert m.market.sellable_t(AccountId(A), UnitCode(SYM)) == 100
    m.sell(A, 100, 6_200)


def test_proceeds_buy_at_once_but_are_withdrawable_only_from_the_next_day() -> None:
    m = market()
    m.deposit(A, 1_000_000)
    m.issue(B, 100)
    m.open_day()
    m.sell(B, 100, 6_100)
    m.buy(A, 100, 6_100)
    assert m.cash(B) == 610_000
    details = m.refused(Withdraw(m.next_ts(), AccountId(B), 1, "w1"), "INSUFFICIENT_WITHDRAWABLE")
    assert details == {
        "requested_fen": 1,
        "withdrawable_fen": 0,
        "available_fen": 610_000,
        "locked_fen": 610_000,
    }
    m.buy(B, 50, 6_000)  # the proceeds hold 300,000 for a buy today
    assert m.cash(B, "held") == 300_000
    # a deposit is withdrawable at once: A has 390,000 left of its own
    m.ok(Withdraw(m.next_ts(), AccountId(A), 390_000, "w2"))
    m.next_day(DAY2)
    assert m.market.withdrawable_fen(AccountId(B)) == 610_000
    out = m.ok(Withdraw(m.next_ts(), AccountId(B), 610_000, "w3"))
    assert postings(out) == [
        ("withdraw:w3", "CNY", 610_000, B, "available", "SYS:CASH", "available")
    ]
    # everything brought in went out again: no cash balance is left, not even a zero
    assert not [key for key in m.market.balances() if key[1] == "CNY"]


def test_proceeds_locked_until_tomorrow_are_net_of_the_sell_fee() -> None:
    m = market(FEES_30_25)
    m.deposit(A, 1_000_000)
    m.deposit(B, 5_000)
    m.issue(B, 100)
    m.open_day()
    m.sell(B, 100, 6_100)
    m.buy(A, 100, 6_100)
    # 610,000 less the 1,525 fen sell fee are locked; B's own 5,000 fen are not
    assert m.market.withdrawable_fen(AccountId(B)) == 5_000
    details = m.refused(
        Withdraw(m.next_ts(), AccountId(B), 5_001, "w"), "INSUFFICIENT_WITHDRAWABLE"
    )
    assert details["locked_fen"] == 608_475


def test_everything_withdrawn_leaves_no_zero_balance_behind() -> None:
    # the outside world's account comes back to zero: balances() lists non-zero balances only
    m = market()
    m.deposit(A, 1_000)
    m.ok(Withdraw(m.next_ts(), AccountId(A), 1_000, "w"))
    assert m.market.balances() == {}
    assert m.market.cash.total_fen() == 0


# ---------------------------------------------------------------------- the close


def trade_day(m: Mkt, fills: list[tuple[int, int]]) -> None:
    """B sells each (price, qty) and A buys it, one trade each."""
    for price, qty in fills:
        m.sell(B, qty, price)
        m.buy(A, qty, price)


def national_with_money() -> Mkt:
    m = market()
    m.deposit(A, 100_000_000)
    m.issue(B, 10_000)
    m.open_day()
    return m


def test_the_close_is_the_vwap_rounded_to_the_tick_and_sets_tomorrows_band() -> None:
    m = national_with_money()
    trade_day(m, [(6_100, 100), (6_200, 300)])
    out = m.close_day()
    # (100 × 61.00 + 300 × 62.00) / 400 = CNY 61.75; CEA2024 did not trade: previous close
    assert list(out.closes) == [
        Close(SYM, 6_175, 6_100, 6_200, 6_100, 400, 2_470_000, "vwap"),
        Close("CEA2024", 5_800, None, None, None, 0, 0, "previous"),
    ]
    m.open_day(DAY2)
    # ±10 % of 61.75 is 55.575-67.925, rounded inward to CNY 55.58-67.92
    assert m.market.engine.band(SYM) == (5_558, 6_792)
    details = m.refused(m.order(A, BUY, 1, 6_793), "PRICE_OUTSIDE_BAND")
    assert details == {
        "price_fen": 6_793,
        "band_lower_fen": 5_558,
        "band_upper_fen": 6_792,
        "reference_price_fen": 6_175,
    }
    m.buy(A, 1, 6_792)


@pytest.mark.parametrize(
    ("fills", "close"),
    [
        ([(6_100, 1), (6_101, 2)], 6_101),  # 6,100.67 -> 6,101
        ([(6_100, 2), (6_101, 1)], 6_100),  # 6,100.33 -> 6,100
        ([(6_100, 1), (6_101, 1)], 6_101),  # 6,100.5: halves round up
    ],
)
def test_the_vwap_rounds_to_the_nearest_tick_halves_up(
    fills: list[tuple[int, int]], close: int
) -> None:
    m = national_with_money()
    trade_day(m, fills)
    assert m.close_day().closes[0].close_fen == close


def test_a_day_without_trades_closes_at_the_previous_close() -> None:
    m = national_with_money()
    trade_day(m, [(6_100, 100), (6_200, 300)])
    m.next_day(DAY2)
    out = m.close_day()  # nothing traded on day 2
    assert out.closes[0] == Close(SYM, 6_175, None, None, None, 0, 0, "previous")
    m.open_day(DAY3)
    assert m.market.engine.band(SYM) == (5_558, 6_792)


def test_guangdong_closes_a_day_of_100_t_or_less_at_the_open_the_previous_close() -> None:
    m = market(rules="guangdong_pilot")
    m.deposit(A, 100_000_000)
    m.issue(B, 10_000)
    m.open_day()
    assert m.market.engine.book_info(SYM).reference_price_fen == 6_000  # the previous close
    m.sell(B, 40, 6_100)
    m.sell(B, 60, 6_300)
    m.buy(A, 100, 6_300)  # trades 40 t at 61.00 first, then 60 t at 63.00
    close = m.close_day().closes[0]
    # 100 t: not more than 100 t, so the close is the open, which in Guangdong is the previous
    # close, CNY 60.00: not the first trade (61.00) nor the VWAP (62.20).
    assert close == Close(SYM, 6_000, 6_000, 6_300, 6_100, 100, 622_000, "open")
    m.open_day(DAY2)
    assert m.market.engine.band(SYM) == (5_400, 6_600)
    m.sell(B, 41, 6_100)
    m.sell(B, 60, 6_300)
    m.buy(A, 101, 6_300)
    # 101 t: the VWAP, 628,100 / 101 = 6,218.8 -> CNY 62.19
    close = m.close_day().closes[0]
    assert (close.close_fen, close.method, close.volume_t) == (6_219, "vwap", 101)
    assert close.open_fen == 6_000  # the open: day 1's close


# ---------------------------------------------------------------------- limits


def test_a_participant_cannot_buy_beyond_its_position_limit() -> None:
    m = market(LIMITS_1000)
    m.participant("S")
    m.issue("S", 5_000)
    m.deposit(A, 100_000_000)
    m.deposit(B, 100_000_000)
    m.open_day()
    m.sell("S", 2_000, 6_000)
    out = m.buy(A, 600, 6_000)
    # 600 t is above the 500 t threshold: reported once ...
    assert list(out.reports) == [LargeHolderReport(A, 600, 500)]
    out = m.buy(A, 400, 6_000)
    assert list(out.reports) == []  # ... not again the same day
    details = m.refused(m.order(A, BUY, 1, 6_000), "POSITION_LIMIT_EXCEEDED")
    assert details == {"position_t": 1_000, "requested_t": 1, "limit_t": 1_000}
    # open buy orders count towards the position
    m.buy(B, 700, 5_900)
    details = m.refused(m.order(B, BUY, 301, 5_900), "POSITION_LIMIT_EXCEEDED")
    assert details == {"position_t": 700, "requested_t": 301, "limit_t": 1_000}
    m.buy(B, 300, 5_900)
    # amending up counts too
    amend = AmendOrder(m.next_ts(), AccountId(B), 4, qty_t=701)
    details = m.refused(amend, "POSITION_LIMIT_EXCEEDED")
    assert details == {"position_t": 1_000, "requested_t": 1, "limit_t": 1_000}
    # selling is never limited
    m.next_day(DAY2)
    m.sell(A, 1_000, 6_500)


def test_a_covered_entitys_limits_add_its_allocation() -> None:
    m = market(LIMITS_1000)
    m.participant("S")
    m.issue("S", 5_000)
    m.entity("E")
    assert m.registry(RecordEmissions(m.op_id(), AccountId("E"), 2024, 1_000)).ok
    out = m.registry(PreAllocate(m.op_id(), AccountId("E"), 2025))
    assert out.details["allocation_t"] == 700  # 70 % of 1,000 t
    m.deposit("E", 100_000_000)
    m.open_day()
    assert m.market.limits_t(AccountId("E")) == (1_700, 1_200)
    assert m.market.limits_t(AccountId(A)) == (1_000, 500)
    m.sell("S", 2_000, 6_000)
    # E holds its 700 t; buying 400 t takes it to 1,100 t: under its threshold of 1,200 t
    assert list(m.buy("E", 400, 6_000).reports) == []
    out = m.buy("E", 600, 6_000)
    assert list(out.reports) == [LargeHolderReport("E", 1_700, 1_200)]
    details = m.refused(m.order("E", BUY, 1, 6_000), "POSITION_LIMIT_EXCEEDED")
    assert details == {"position_t": 1_700, "requested_t": 1, "limit_t": 1_700}


# ---------------------------------------------------------------------- idempotency


def test_a_repeated_client_order_id_answers_the_first_order() -> None:
    m = market()
    m.deposit(A, 1_000_000)
    m.deposit(B, 1_000_000)
    m.open_day()
    first = m.buy(A, 10, 5_900, client_order_id="c1")
    assert first.order_id == 1
    held = m.cash(A, "held")
    before = m.market.state_hash()
    again = m.ok(m.order(A, BUY, 10, 5_900, client_order_id="c1"))
    assert (again.order_id, again.repeated, again.postings) == (1, True, [])
    assert m.market.state_hash() == before
    assert len(m.market.engine.open_orders(A)) == 1
    assert m.cash(A, "held") == held == 59_000
    details = m.refused(
        m.order(A, BUY, 10, 5_901, client_order_id="c1"), "CLIENT_ORDER_ID_CONFLICT"
    )
    assert details == {"client_order_id": "c1", "order_id": 1}
    # another account's "c1" is its own; a repeat used up no order id
    assert m.buy(B, 10, 5_900, client_order_id="c1").order_id == 2
    assert m.buy(A, 10, 5_800).order_id == 3
    # a client order id is unique per trading day
    m.next_day(DAY2)
    assert m.buy(A, 10, 5_900, client_order_id="c1").order_id == 4


def test_a_refused_order_does_not_use_up_its_client_order_id() -> None:
    m = market()
    m.deposit(A, 1_000)
    m.open_day()
    m.refused(m.order(A, BUY, 10, 5_900, client_order_id="c2"), "INSUFFICIENT_FUNDS")
    m.deposit(A, 100_000)
    assert m.buy(A, 10, 5_900, client_order_id="c2").order_id == 1


# ---------------------------------------------------------------------- refusals


def test_refusals_for_accounts_amounts_and_registry_operations() -> None:
    m = market()
    nobody = AccountId("NOBODY")
    details = m.refused(Deposit(m.next_ts(), nobody, 100, "d"), "UNKNOWN_ACCOUNT")
    assert details == {"account_id": "NOBODY"}
    m.refused(Withdraw(m.next_ts(), nobody, 100, "w"), "UNKNOWN_ACCOUNT")
    m.refused(m.order("NOBODY", BUY, 1, 6_000), "UNKNOWN_ACCOUNT")
    details = m.refused(Deposit(m.next_ts(), FEES, 100, "d"), "NOT_A_TRADING_ACCOUNT")
    assert details == {"account_id": FEES, "kind": "fees"}
    details = m.refused(m.order(NATIONAL, SELL, 1, 6_000), "NOT_A_TRADING_ACCOUNT")
    assert details["kind"] == "national_authority"
    assert m.refused(Deposit(m.next_ts(), AccountId(A), 0, "d"), "INVALID_AMOUNT") == {
        "amount_fen": 0,
        "deposited_fen": 0,
        "max_total_fen": 2**53,
    }
    m.refused(Withdraw(m.next_ts(), AccountId(A), -1, "w"), "INVALID_AMOUNT")
    m.issue(A, 10)
    hold: MarketCommand = RegistryCommand(m.next_ts(), Hold("h", AccountId(A), UnitCode(SYM), 5))
    assert m.refused(hold, "OPERATION_NOT_ALLOWED") == {"operation": "Hold"}
    release = RegistryCommand(m.next_ts(), ReleaseHold("r", AccountId(A), UnitCode(SYM), 5))
    assert m.refused(release, "OPERATION_NOT_ALLOWED") == {"operation": "ReleaseHold"}
    entity = Account(AccountId("E9"), AccountKind.COVERED_ENTITY, "no province")
    details = m.refused(
        RegistryCommand(m.next_ts(), OpenAccount("o1", entity)), "PROVINCE_REQUIRED"
    )
    assert details == {"account_id": "E9"}
    fees = Account(AccountId("F2"), AccountKind.FEES, "another fee account")
    details = m.refused(
        RegistryCommand(m.next_ts(), OpenAccount("o2", fees)), "NOT_A_TRADING_ACCOUNT"
    )
    assert details == {"kind": "fees"}
    m.refused(CancelAll(m.next_ts(), AccountId(A), "CEA1999"), "UNKNOWN_INSTRUMENT")


def test_the_trading_day_goes_open_close_clear_in_order() -> None:
    m = market()
    m.deposit(A, 1_000_000)
    ts = m.next_ts
    # before the first day
    assert m.refused(m.order(A, BUY, 1, 6_000), "INSTRUMENT_NOT_OPEN") == {"state": "closed"}
    for command in (CloseDay(ts()), EndOfDay(ts()), SetSession(ts(), TradingState.CONTINUOUS)):
        m.refused(command, "NO_TRADING_DAY")
    m.refused(Halt(ts()), "NO_TRADING_DAY")
    m.ok(OpenDay(ts(), DAY1))
    # pre-open: the band is published, orders wait for the session
    assert m.refused(m.order(A, BUY, 1, 6_000), "INSTRUMENT_NOT_OPEN") == {"state": "pre_open"}
    m.refused(SetSession(ts(), TradingState.BREAK), "INVALID_CLOCK_STEP")
    m.refused(SetSession(ts(), TradingState.PRE_OPEN), "INVALID_CLOCK_STEP")
    details = m.refused(OpenDay(ts(), DAY2), "DAY_NOT_CLOSED")
    assert details == {"trading_day": "2026-11-23"}
    m.ok(SetSession(ts(), TradingState.CONTINUOUS))
    m.buy(A, 1, 6_000)
    m.ok(CloseDay(ts()))
    m.refused(CloseDay(ts()), "NO_TRADING_DAY")
    m.refused(OpenDay(ts(), DAY2), "DAY_NOT_CLOSED")  # closed, not yet cleared
    m.ok(EndOfDay(ts()))
    m.refused(EndOfDay(ts()), "NO_TRADING_DAY")
    details = m.refused(OpenDay(ts(), DAY1), "DAY_NOT_AFTER_PREVIOUS")
    assert details == {"trading_day": "2026-11-23", "previous": "2026-11-23"}
    m.refused(OpenDay(ts(), dt.date(2026, 11, 20)), "DAY_NOT_AFTER_PREVIOUS")
    m.ok(OpenDay(ts(), DAY2))
    assert m.market.trading_day == DAY2


# ---------------------------------------------------------------------- halts


def test_a_halt_that_cancels_resting_orders_releases_their_holds() -> None:
    m = market()
    m.deposit(A, 1_000_000)
    m.issue(B, 100)
    m.open_day()
    m.buy(A, 10, 5_900)
    m.sell(B, 5, 6_100)
    m.buy(A, 1, 5_800, symbol="CEA2024")
    out = m.ok(Halt(m.next_ts(), SYM, cancel_resting=True))
    assert postings(out) == [
        ("order:1", "CNY", 59_000, A, "held", A, "available"),
        ("order:2", SYM, 5, B, "held", B, "available"),
    ]
    assert m.cash(A, "held") == 5_800  # the CEA2024 order was not halted
    assert m.refused(m.order(A, BUY, 1, 6_000), "INSTRUMENT_HALTED") == {"state": "halted"}
    m.ok(Resume(m.next_ts(), SYM))
    assert m.market.engine.book_info(SYM).state is TradingState.CONTINUOUS
    m.buy(A, 1, 6_000)


def test_a_halt_without_cancelling_keeps_orders_and_holds() -> None:
    m = market()
    m.deposit(A, 1_000_000)
    m.open_day()
    m.buy(A, 10, 5_900)
    out = m.ok(Halt(m.next_ts()))
    assert out.postings == []
    assert m.cash(A, "held") == 59_000
    m.ok(Resume(m.next_ts()))
    assert [v.order_id for v in m.market.engine.open_orders(A)] == [1]


def test_resume_returns_to_the_session_the_clock_set() -> None:
    m = market()
    ts = m.next_ts
    m.ok(OpenDay(ts(), DAY1))
    m.ok(Halt(ts(), SYM))  # before the first session
    details = m.refused(Resume(ts(), SYM), "INVALID_CLOCK_STEP")
    assert details == {"session": "pre_open", "to": "resume"}
    m.ok(SetSession(ts(), TradingState.CONTINUOUS))  # the halted book stays halted
    assert m.market.engine.book_info(SYM).state is TradingState.HALTED
    assert m.market.engine.book_info("CEA2024").state is TradingState.CONTINUOUS
    m.ok(SetSession(ts(), TradingState.BREAK))
    m.ok(Resume(ts(), SYM))
    assert m.market.engine.book_info(SYM).state is TradingState.BREAK
    m.ok(SetSession(ts(), TradingState.CONTINUOUS))
    assert m.market.engine.book_info(SYM).state is TradingState.CONTINUOUS
    m.refused(Halt(ts(), "CEA1999"), "UNKNOWN_INSTRUMENT")


# ---------------------------------------------------------------------- statements, snapshots


def test_daily_statements_show_cash_fees_trades_and_holdings() -> None:
    m = market(FEES_30_25)
    m.deposit(A, 1_000_000)
    m.deposit(B, 50_000)
    m.issue(B, 300)
    m.open_day()
    m.sell(B, 100, 6_100)
    m.buy(A, 100, 6_100)  # 610,000 fen; fees 1,830 (A) and 1,525 (B)
    m.buy(A, 10, 5_500)  # expires at the close
    out = m.close_day()
    bodies = {s.account_id: s.body for s in out.statements}
    assert {s.trading_day for s in out.statements} == {DAY1}
    assert sorted(bodies) == [A, B, C]
    assert bodies[A] == {
        "cash_available_fen": 388_170,
        "cash_held_fen": 0,
        "cash_withdrawable_fen": 388_170,
        "fees_fen": 1_830,
        "trades": {SYM: {"bought_t": 100, "bought_fen": 610_000, "sold_t": 0, "sold_fen": 0}},
        "holdings": {SYM: {"available": 100}},
    }
    assert bodies[B] == {
        "cash_available_fen": 658_475,
        "cash_held_fen": 0,
        "cash_withdrawable_fen": 50_000,  # the 608,475 of proceeds: from tomorrow
        "fees_fen": 1_525,
        "trades": {SYM: {"bought_t": 0, "bought_fen": 0, "sold_t": 100, "sold_fen": 610_000}},
        "holdings": {SYM: {"available": 200}},
    }
    assert bodies[C] == {
        "cash_available_fen": 0,
        "cash_held_fen": 0,
        "cash_withdrawable_fen": 0,
        "fees_fen": 0,
        "trades": {},
        "holdings": {},
    }
    assert m.cash(FEES) == 3_355


def test_statements_off_clear_the_day_alike() -> None:
    """A driver that reads no statements (the simulator) turns them off: the day clears to
    the same state, only the outcome carries none."""
    with_statements, without = market(FEES_30_25), market(FEES_30_25)
    without.market.statements = False
    outcomes = []
    for m in (with_statements, without):
        m.deposit(A, 1_000_000)
        m.issue(B, 300)
        m.open_day()
        m.sell(B, 100, 6_100)
        m.buy(A, 100, 6_100)
        outcomes.append(m.close_day())
    assert outcomes[0].statements
    assert outcomes[1].statements == ()
    assert outcomes[0].closes == outcomes[1].closes
    assert with_statements.market.state_hash() == without.market.state_hash()


def day_two(m: Mkt) -> list[MarketCommand]:
    """The same second day for two markets: trades, an amendment, a cancel, the close."""
    a, b = AccountId(A), AccountId(B)
    return [
        OpenDay(m.next_ts(), DAY2),
        SetSession(m.next_ts(), TradingState.CONTINUOUS),
        m.order(B, SELL, 30, 6_150),  # order 3
        m.order(A, BUY, 50, 6_200),  # order 4: 30 t trade, 20 t rest
        m.order(A, BUY, 20, 5_900),  # order 5
        AmendOrder(m.next_ts(), a, 4, 6_050, 45),  # 15 t left at CNY 60.50
        m.order(B, SELL, 20, order_type=MARKET),  # 15 t at 60.50, 5 t at 59.00
        CancelOrder(m.next_ts(), a, 5),
        Withdraw(m.next_ts(), b, 100_000, "w"),  # yesterday's proceeds
        CloseDay(m.next_ts()),
        EndOfDay(m.next_ts()),
    ]


def test_a_day_end_snapshot_restores_a_market_that_trades_identically() -> None:
    m = market(FEES_30_25)
    m.deposit(A, 10_000_000)
    m.issue(B, 1_000)
    m.open_day()
    m.sell(B, 100, 6_100)
    m.buy(A, 80, 6_100)
    m.close_day()
    restored = Market.restore(m.market.snapshot())
    assert restored.state_hash() == m.market.state_hash()
    assert restored.balances() == m.market.balances()
    fills = 0
    for command in day_two(m):
        original, copy = m.market.apply(command), restored.apply(command)
        assert everything(original) == everything(copy), command
        assert original.ok, (command, original.code, original.details)
        assert restored.state_hash() == m.market.state_hash(), command
        fills += len(original.fills)
    assert fills == 3
    assert m.market.trading_day == restored.trading_day == DAY2


def test_a_snapshot_is_taken_after_day_end_clearing_only() -> None:
    m = market()
    m.deposit(A, 1_000_000)
    m.ok(OpenDay(m.next_ts(), DAY1))
    with pytest.raises(ValueError, match="after day-end clearing"):
        m.market.snapshot()
    m.ok(SetSession(m.next_ts(), TradingState.CONTINUOUS))
    m.buy(A, 10, 5_900)
    with pytest.raises(ValueError, match="after day-end clearing"):
        m.market.snapshot()
    m.ok(CloseDay(m.next_ts()))
    with pytest.raises(ValueError, match="after day-end clearing"):
        m.market.snapshot()
    m.ok(EndOfDay(m.next_ts()))
    assert Market.restore(m.market.snapshot()).state_hash() == m.market.state_hash()


def test_amounts_that_could_overflow_a_database_column_are_refused() -> None:
    m = market()
    m.ok(Deposit(0, AccountId(A), MAX_TOTAL, "big"))
    details = m.refused(Deposit(0, AccountId(B), 1, "one more"), "INVALID_AMOUNT")
    assert details["deposited_fen"] == MAX_TOTAL == 2**53
    huge = RegistryCommand(0, IssueAllowances("huge", AccountId(A), 2025, MAX_TOTAL + 1))
    assert m.refused(huge, "INVALID_AMOUNT") == {"field": "qty_t", "value": MAX_TOTAL + 1}
