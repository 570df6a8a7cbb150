"""The in-process driver's pieces: what a LocalView reads, and actions as market commands."""

from __future__ import annotations

import datetime as dt

import pytest

from exchange.agents.base import Abate, Amend, Cancel, CancelAll, Place, SurrenderUnits
from exchange.agents.local import to_commands
from exchange.agents.zic import ZeroIntelligenceTrader
from matching.types import OrderType, Side, TradingState
from registry_sim.model import AccountId
from registry_sim.ops import RecordEmissions, Surrender
from settlement import (
    AmendOrder,
    CancelOrder,
    CloseDay,
    EndOfDay,
    OpenDay,
    PlaceOrder,
    RegistryCommand,
    SetSession,
)
from settlement.commands import CancelAll as CancelAllOrders
from settlement.commands import PostBlockQuote
from tests.agents.harness import CEA, YEAR, Harness

BUY, SELL = Side.BUY, Side.SELL
DAY = dt.date(YEAR, 3, 2)


def _market() -> Harness:
    h = Harness()
    for name in ("A", "B"):
        h.account(name)
        h.deposit(name, 10_000_000)
        h.issue(name, 1_000)
    h.run([], 1)  # yesterday: closes at the first reference price
    return h


def _agent(name: str) -> ZeroIntelligenceTrader:
    return ZeroIntelligenceTrader(name)


def _open(h: Harness) -> None:
    """Open the next day in continuous trading and leave it open."""
    day = h.local.trading_day + dt.timedelta(days=1)
    h.ok(OpenDay(h._next_ts() + 10**18, day))
    h.ok(SetSession(h._next_ts() + 10**18, TradingState.CONTINUOUS))
    h.local.start_day(day, 5)


def test_view_reads_cash_units_and_the_book() -> None:
    h = _market()
    _open(h)
    view = h.local.view("A")
    assert view.account_id == "A"
    assert view.trading_days_left == 5
    info = view.instrument(CEA)
    assert info.tradable
    assert (info.tick_fen, info.lot_t) == (1, 1)
    assert info.band == (5_400, 6_600)  # ±10 % of 60.00, rule set cn_national
    assert info.max_qty_t == 99_999
    assert view.cash_fen() == 10_000_000
    assert view.sellable_t(CEA) == view.holding_t(CEA) == 1_000
    assert view.best_bid(CEA) is None
    assert view.last_price(CEA) == 6_000  # no trade today: the previous close

    h.apply_actions(_agent("A"), [Place(CEA, SELL, 300, 6_100)], 1)
    assert view.sellable_t(CEA) == 700  # 300 held for the offer
    assert view.holding_t(CEA) == 1_000  # still owned
    ask = view.best_ask(CEA)
    assert ask is not None
    assert (ask.price_fen, ask.qty_t) == (6_100, 300)
    (order,) = view.open_orders()
    assert (order.symbol, order.side, order.price_fen, order.leaves_t) == (CEA, SELL, 6_100, 300)

    h.apply_actions(_agent("B"), [Place(CEA, BUY, 100, 6_100)], 2)
    assert view.last_price(CEA) == 6_100
    assert h.local.view("B").cash_fen() == 10_000_000 - 100 * 6_100
    assert h.local.view("B").sellable_t(CEA) == 1_000  # bought today: sellable from T+1
    assert h.local.view("B").holding_t(CEA) == 1_100
    h.local.start_day(DAY + dt.timedelta(days=30), 1)
    assert view.last_price(CEA) == 6_000  # a new day starts again from the reference


def test_compliance_view_follows_the_registry() -> None:
    h = _market()
    view = h.local.view("A")
    before = view.compliance(YEAR)
    assert before.verified_t is None
    assert before.offset_cap_t is None
    assert before.deadline == dt.date(YEAR + 1, 12, 31)
    h.registry(RecordEmissions("e-A", AccountId("A"), YEAR, 800))
    h.apply_actions(_agent("A"), [SurrenderUnits(YEAR, ((CEA, 500),))], 3)
    after = view.compliance(YEAR)
    assert after.verified_t == 800
    assert after.surrendered_t == 500
    assert after.offset_cap_t == 40  # 5 % of the obligation (cn_national offset cap)
    assert view.holding_t(CEA) == 500  # surrendered units are no longer owned


def test_actions_become_the_commands_an_api_client_sends() -> None:
    ts = 123
    assert to_commands(Place(CEA, BUY, 10, 6_000), "A", ts, client_order_id="c1") == [
        PlaceOrder(ts, AccountId("A"), CEA, BUY, OrderType.LIMIT, 10, 6_000, client_order_id="c1")
    ]
    market = to_commands(Place(CEA, SELL, 5, None, OrderType.MARKET), "A", ts)
    assert market == [PlaceOrder(ts, AccountId("A"), CEA, SELL, OrderType.MARKET, 5, None)]
    assert to_commands(Cancel(7), "A", ts) == [CancelOrder(ts, AccountId("A"), 7)]
    assert to_commands(Amend(7, qty_t=3), "A", ts) == [AmendOrder(ts, AccountId("A"), 7, None, 3)]
    assert to_commands(CancelAll(CEA), "A", ts) == [CancelAllOrders(ts, AccountId("A"), CEA)]
    surrender = to_commands(SurrenderUnits(YEAR, ((CEA, 5),)), "A", ts, op_id="s1", on=DAY)
    op = Surrender("s1", AccountId("A"), YEAR, ((CEA, 5),), DAY)  # type: ignore[arg-type]
    assert surrender == [RegistryCommand(ts, op)]
    assert to_commands(Abate(YEAR, 100), "A", ts) == []  # booked by the simulator


def test_a_surrender_needs_an_op_id_and_a_date() -> None:
    with pytest.raises(ValueError, match="op_id"):
        to_commands(SurrenderUnits(YEAR, ((CEA, 5),)), "A", 1)


def test_instrument_facts_follow_the_clock() -> None:
    """The view caches instrument facts between orders; a clock step refreshes them."""
    h = _market()
    _open(h)
    view = h.local.view("A")
    assert view.instrument(CEA).band == (5_400, 6_600)
    h.apply_actions(_agent("A"), [Place(CEA, SELL, 100, 6_500)], 1)
    h.apply_actions(_agent("B"), [Place(CEA, BUY, 100, 6_500)], 2)
    assert view.instrument(CEA).tradable  # orders and trades leave the band alone
    h.ok(CloseDay(h._next_ts() + 10**18))
    assert not view.instrument(CEA).tradable
    h.ok(EndOfDay(h._next_ts() + 10**18))
    _open(h)
    info = view.instrument(CEA)
    assert info.reference_price_fen == 6_500  # yesterday's VWAP close
    assert info.band == (5_850, 7_150)
    assert info.tradable


def test_the_block_board_hides_prices_as_the_rule_set_says() -> None:
    """With ``board_prices`` false, an agent sees a public quote's price only if it is the
    quote's poster or counterparty, as the gateway shows the board."""
    hidden = {"trading": {"modes": {"block": {"board_prices": False}}}}
    for overrides, price_seen in (({}, 6_000), (hidden, None)):
        h = Harness(overrides=overrides)
        for name in ("S", "T", "O"):
            h.account(name)
        h.issue("S", 300_000)
        day = h.start
        h.ok(OpenDay(h.calendar.ts_ns(day, dt.time(9, 15)), day))
        h.ok(SetSession(h.calendar.ts_ns(day, dt.time(9, 30)), TradingState.CONTINUOUS))
        at = h.calendar.ts_ns(day, dt.time(13, 5))
        h.local.now_ns = at
        h.ok(PostBlockQuote(at, AccountId("S"), CEA, Side.SELL, 6_000, 100_000))
        h.ok(PostBlockQuote(at, AccountId("S"), CEA, Side.SELL, 6_100, 100_000, AccountId("T")))
        seen = {
            who: [(q.quote_id, q.price_fen) for q in h.local.view(who).block_quotes()]
            for who in ("S", "T", "O")
        }
        assert seen["S"] == [(1, 6_000), (2, 6_100)]
        assert seen["T"] == [(1, price_seen), (2, 6_100)]
        assert seen["O"] == [(1, price_seen)]
        info = h.local.view("O").block(CEA)
        assert info is not None
        assert (info.min_qty_t, info.band, info.open_now) == (100_000, (4_200, 7_800), True)
