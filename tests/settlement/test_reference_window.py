"""The penalty's reference window, kept by the market (docs/rules.md, penalty: "the previous
month's average price"): day-end clearing appends the day's listed CEA volume and turnover,
summed over every CEA instrument and no other, and keeps the rule set's
``penalty.reference_window_days`` last trading days; snapshots keep it and the state hash
covers it.
"""

from __future__ import annotations

import datetime as dt
import pickle

from registry_sim.model import AccountId, Project, UnitKind
from registry_sim.ops import IssueOffsets, RegisterProject
from settlement import Market, RegistryCommand
from tests.settlement.conftest import DAY1, DAY2, DAY3, SYM, Mkt

A, B = "A", "B"
CEA2024 = "CEA2024"
CCER = "CCER:P1:2024"
DAY4 = dt.date(2026, 11, 26)
WINDOW_3 = {"penalty": {"reference_window_days": 3}}


def window_market() -> Mkt:
    """CEA2025, CEA2024 and a CCER listed; a window of three days; the first day open. B has
    units of each to sell, A the cash to buy them."""
    m = Mkt(overrides=WINDOW_3, instruments=((SYM, 6_000), (CEA2024, 5_800), (CCER, 3_000)))
    m.participant(A, B)
    m.deposit(A, 100_000_000)
    m.issue(B, 10_000)
    m.issue(B, 10_000, vintage=2024)
    registered = dt.date(2024, 6, 1)  # after 2024-01-22: eligible
    project = Project(
        "P1", UnitKind.CCER, "forestry_sink", "Hubei", dt.date(2024, 3, 1), registered, False
    )
    m.ok(RegistryCommand(m.next_ts(), RegisterProject(m.op_id(), project)))
    m.ok(RegistryCommand(m.next_ts(), IssueOffsets(m.op_id(), AccountId(B), "P1", 2024, 1_000)))
    m.open_day(DAY1)
    return m


def window(market: Market) -> tuple[tuple[int, int], ...]:
    """The market's reference window (a call: mypy narrows a property after each assert)."""
    return market.reference_window


def trade(m: Mkt, symbol: str, price_fen: int, qty_t: int) -> None:
    m.sell(B, qty_t, price_fen, symbol=symbol)
    m.buy(A, qty_t, price_fen, symbol=symbol)


def test_each_cleared_day_adds_its_cea_volume_and_turnover_and_the_oldest_day_leaves() -> None:
    m = window_market()
    assert window(m.market) == ()
    trade(m, SYM, 6_100, 100)
    trade(m, SYM, 6_200, 300)
    trade(m, CEA2024, 5_800, 50)
    trade(m, CCER, 3_000, 10)  # an offset: not in the window
    day1 = (450, 100 * 6_100 + 300 * 6_200 + 50 * 5_800)
    m.next_day(DAY2)
    assert window(m.market) == (day1,)
    m.next_day(DAY3)  # nothing traded: the day counts, with no volume
    assert window(m.market) == (day1, (0, 0))
    trade(m, SYM, 6_150, 200)
    m.next_day(DAY4)
    day3 = (200, 200 * 6_150)
    assert window(m.market) == (day1, (0, 0), day3)
    trade(m, CEA2024, 5_900, 10)
    trade(m, CCER, 3_100, 5)
    m.close_day()
    # three days at most: the first leaves
    assert window(m.market) == ((0, 0), day3, (10, 59_000))


def test_the_window_is_the_rule_sets_number_of_days() -> None:
    m = Mkt()  # cn_national: 20 trading days
    day = DAY1
    for _ in range(22):
        m.open_day(day)
        m.close_day()
        day += dt.timedelta(days=1)
    assert window(m.market) == ((0, 0),) * 20


def test_a_snapshot_keeps_the_window_and_the_state_hash_covers_it() -> None:
    m = window_market()
    trade(m, SYM, 6_100, 100)
    m.next_day(DAY2)
    trade(m, CEA2024, 5_900, 20)
    m.close_day()
    kept = ((100, 610_000), (20, 118_000))
    assert window(m.market) == kept
    snapshot = m.market.snapshot()
    restored = Market.restore(snapshot)
    assert window(restored) == kept
    assert restored.state_hash() == m.market.state_hash()

    # A snapshot written before the market kept the window restores with an empty one; the
    # state hash tells it apart from the market that has one.
    state = pickle.loads(snapshot)
    del state["_reference_window"]
    older = Market.restore(pickle.dumps(state))
    assert window(older) == ()
    assert older.state_hash() != m.market.state_hash()
    assert older.balances() == m.market.balances()

    # All three clear one more day alike: the restored market exactly as the original.
    for market in (m.market, restored, older):
        same = Mkt(overrides=WINDOW_3)
        same.market, same.ts, same.ids = market, m.ts, m.ids
        same.open_day(DAY3)
        trade(same, SYM, 6_000, 30)
        same.close_day()
    assert window(restored) == window(m.market) == (*kept, (30, 180_000))
    assert restored.state_hash() == m.market.state_hash()
    assert window(older) == ((30, 180_000),)
