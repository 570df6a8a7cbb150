"""Every shipped agent against a real market: orders the market accepts (band, tick, lot,
order limits, cash, sellable units), each agent's own rule, and seeded determinism."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from exchange.agents import AGENT_KINDS
from exchange.agents.base import (
    AbatementCurve,
    Action,
    Agent,
    BidAuction,
    Cancel,
    CancelAll,
    Firm,
    Place,
)
from exchange.agents.ccer_seller import CcerSeller
from exchange.agents.firm import ComplianceFirm
from exchange.agents.local import LocalView
from exchange.agents.market_maker import MarketMaker
from exchange.agents.noise import NoiseTrader
from exchange.agents.zic import ZeroIntelligenceTrader
from matching.types import OrderType, Side
from registry_sim.model import AccountId, AccountKind
from settlement.commands import PublishAuction
from tests.agents.harness import CEA, Harness

BUY, SELL = Side.BUY, Side.SELL
FEES = {"settlement": {"fee_bp_buy": 30, "fee_bp_sell": 25}}
P0 = 6_000


def _firm(name: str, baseline: int) -> Firm:
    """A firm whose n-th tonne cut costs 10.00 + 0.002 × n CNY: at 60.00, 25,000 t."""
    return Firm(name, "power", "Hubei", False, 1, baseline, AbatementCurve(1_000, 0.2, baseline))


class Checker:
    """Checks each wake-up's orders against the account's state just before they apply."""

    def __init__(self) -> None:
        self.places: Counter[str] = Counter()

    def __call__(self, view: LocalView, actions: list[Action]) -> None:
        open_orders = {o.order_id: o for o in view.open_orders()}
        cancelled = [o for a in actions if isinstance(a, Cancel) for o in [open_orders[a.order_id]]]
        for a in actions:
            if isinstance(a, CancelAll):
                cancelled += [o for o in open_orders.values() if a.symbol in (None, o.symbol)]
        cash = view.cash_fen() + sum(
            o.leaves_t * (o.price_fen or 0) for o in cancelled if o.side is BUY
        )
        for a in actions:
            if not isinstance(a, Place):
                continue
            self.places[view.account_id[:2]] += 1
            info = view.instrument(a.symbol)
            assert info.tradable
            assert a.qty_t % info.lot_t == 0
            assert info.min_qty_t <= a.qty_t <= info.max_qty_t
            if a.order_type is OrderType.MARKET:
                assert a.price_fen is None
                price = info.band[1]
            else:
                assert a.price_fen is not None
                assert a.price_fen % info.tick_fen == 0
                assert info.band[0] <= a.price_fen <= info.band[1]
                price = a.price_fen
            if a.side is BUY:
                assert a.qty_t * price <= cash, "bids beyond its cash"
                cash -= a.qty_t * price
            else:
                freed = sum(
                    o.leaves_t for o in cancelled if o.side is SELL and o.symbol == a.symbol
                )
                assert a.qty_t <= view.sellable_t(a.symbol) + freed, "offers units it cannot sell"


def mixed_market(seed: int, days: int = 15) -> tuple[Harness, list[tuple[Agent, random.Random]]]:
    """Firms short and long, ZI-C buyers and sellers, a market maker, noise traders and a
    CCER seller, with fees (so the agents' fee reserve matters)."""
    h = Harness(instruments=((CEA, P0), ("CCER:P1:2026", 4_500)), overrides=FEES)
    ccer = "CCER:P1:2026"
    agents: list[Agent] = []
    for i in range(8):
        name = f"FI{i}"
        baseline = 100_000
        h.account(name)
        h.deposit(name, 300_000_000)
        h.issue(name, 80_000 if i % 2 else 115_000)
        agents.append(ComplianceFirm(name, _firm(name, baseline), offset_cap_bp=500))
    for i in range(4):
        name = f"ZI{i}"
        h.account(name)
        h.deposit(name, 50_000_000)
        h.issue(name, 5_000)
        side = "buy" if i % 2 else "sell"
        agents.append(ZeroIntelligenceTrader(name, side=side, limit_bp=10_300 if i % 2 else 9_700))
    h.account("MM")
    h.deposit("MM", 200_000_000)
    h.issue("MM", 10_000)
    agents.append(MarketMaker("MM", qty_t=500))
    for i in range(3):
        name = f"NO{i}"
        h.account(name)
        h.deposit(name, 5_000_000)
        h.issue(name, 500)
        agents.append(NoiseTrader(name, qty_max_t=40))
    h.account("CS")
    h.offsets("CS", "P1", 30_000)
    agents.append(CcerSeller("CS"))
    pairs = [(a, random.Random(seed * 100 + i)) for i, a in enumerate(agents)]
    checker = Checker()
    h.check = checker
    h.run(pairs, days)
    assert ccer in {s for _, s, _, _ in h.trades}
    return h, pairs


def test_agents_kinds_are_registered() -> None:
    assert {"zic", "firm", "market_maker", "ccer_seller", "noise"} <= set(AGENT_KINDS)
    assert AGENT_KINDS["firm"] is ComplianceFirm
    with pytest.raises(TypeError, match="unknown parameters"):
        AGENT_KINDS["noise"]("X", colour="red")


def test_every_order_is_one_the_market_accepts() -> None:
    h, _ = mixed_market(seed=1)
    checker = h.check
    assert isinstance(checker, Checker)
    assert set(checker.places) == {"FI", "ZI", "MM", "NO", "CS"}  # every kind traded
    assert h.orders > 1_000
    assert len(h.trades) > 100
    assert not h.refusals, h.refusals


def test_same_seed_same_market_other_seed_another() -> None:
    a, _ = mixed_market(seed=7, days=5)
    b, _ = mixed_market(seed=7, days=5)
    c, _ = mixed_market(seed=8, days=5)
    assert a.market.state_hash() == b.market.state_hash()
    assert a.trades == b.trades
    assert a.market.state_hash() != c.market.state_hash()


def _places(h: Harness, agent: Agent, wakeups: int, seed: int = 3) -> list[Place]:
    """The orders an agent places over ``wakeups`` wake-ups in today's market (applied)."""
    rng = random.Random(seed)
    placed: list[Place] = []
    for _ in range(wakeups):
        actions = list(agent.act(h.local.view(agent.account_id), rng))
        placed += [a for a in actions if isinstance(a, Place)]
        h.apply_actions(agent, actions, h._next_ts())
    return placed


def _open_day(h: Harness) -> None:
    """A first day run empty, then the next day opened and left open for the test."""
    from exchange.clock import ClockAction, day_schedule, next_trading_day
    from matching.types import TradingState
    from settlement import OpenDay, SetSession

    day = next_trading_day(h.calendar, h.start)
    events = {e.action: e.ts_ns for e in day_schedule(h.calendar, day)}
    h.ok(OpenDay(events[ClockAction.PRE_OPEN], day))
    h.ok(SetSession(events[ClockAction.SESSION_OPEN], TradingState.CONTINUOUS))
    h.local.start_day(day, 100)
    h.ts = events[ClockAction.SESSION_OPEN]


def test_zic_never_trades_at_a_loss_and_stops_at_its_units() -> None:
    h = Harness()
    for name in ("B", "S"):
        h.account(name)
        h.deposit(name, 100_000_000)
        h.issue(name, 10_000)
    _open_day(h)
    buyer = ZeroIntelligenceTrader("B", side="buy", limit_fen=6_100, qty_t=100, units_t=1_000)
    seller = ZeroIntelligenceTrader("S", side="sell", limit_fen=5_900, qty_t=100)
    rng_b, rng_s = random.Random(1), random.Random(2)
    bids: list[Place] = []
    asks: list[Place] = []
    for _ in range(300):
        for agent, rng, out in ((buyer, rng_b, bids), (seller, rng_s, asks)):
            actions = list(agent.act(h.local.view(agent.account_id), rng))
            out += [a for a in actions if isinstance(a, Place)]
            h.apply_actions(agent, actions, h._next_ts())
    assert bids
    assert asks
    assert all(a.side is BUY and 5_400 <= (a.price_fen or 0) <= 6_100 for a in bids)
    assert all(a.side is SELL and 5_900 <= (a.price_fen or 0) <= 6_600 for a in asks)
    assert len({a.price_fen for a in bids}) > 50  # random, not one fixed price
    assert h.local.view("B").holding_t(CEA) == 11_000  # exactly its 1,000 t, then stops
    assert not h.refusals


def test_firm_bids_below_its_value_and_offers_above_its_cost() -> None:
    h = Harness()
    short, long_ = _firm("SH", 100_000), _firm("LO", 100_000)
    h.account("SH")
    h.deposit("SH", 1_000_000_000)
    h.issue("SH", 50_000)  # must cut 50,000 t without buying
    h.account("LO")
    h.deposit("LO", 1_000_000)
    h.issue("LO", 150_000)  # 50,000 t more than it emits
    _open_day(h)
    buys = _places(h, ComplianceFirm("SH", short), 20)
    sells = _places(h, ComplianceFirm("LO", long_), 20)
    assert buys
    assert all(a.side is BUY for a in buys)
    assert sells
    assert all(a.side is SELL for a in sells)
    # At 60.00, 25,000 t are worth cutting: the short firm buys the other 25,000 t, never
    # paying more than the tonne it saves; the long firm sells its surplus and what it can
    # cut for less, never below the cost of the last tonne it must then cut.
    assert sum(a.qty_t for a in buys) <= 25_000 * 1.1
    for a in buys:
        assert (a.price_fen or 0) <= short.curve.marginal_fen(50_000 - a.qty_t)
    sold = 0
    for a in sells:
        sold += a.qty_t
        assert (a.price_fen or 0) >= long_.curve.marginal_fen(max(0, sold - 50_000))
    assert not h.refusals


def test_firms_with_block_sized_wants_deal_in_blocks_within_their_values() -> None:
    """With ``blocks`` on, a firm short of 400,000 t and one long by 400,000 t meet on the
    block board in the block session (13:00-15:00): each deal is at least the block minimum,
    at a price within what the block's middle tonne is worth to each side."""
    h = Harness()
    short, long_ = _firm("SH", 800_000), _firm("LO", 400_000)
    h.account("SH")
    h.deposit("SH", 100_000_000_000)
    h.issue("SH", 400_000)
    h.account("LO")
    h.deposit("LO", 1_000_000)
    h.issue("LO", 800_000)
    agents = [
        (ComplianceFirm("SH", short, blocks=True, wakeups_per_day=6), random.Random(1)),
        (ComplianceFirm("LO", long_, blocks=True, wakeups_per_day=6), random.Random(2)),
    ]
    h.run(agents, 5)
    assert h.block_deals, "no block deal in five days"
    bought = 0
    for deal in h.block_deals:
        assert (deal.buy_account_id, deal.sell_account_id) == ("SH", "LO")
        assert deal.qty_t >= 100_000
        local = dt.datetime.fromtimestamp(deal.ts_ns / 1e9, ZoneInfo("Asia/Shanghai")).time()
        assert dt.time(13) <= local < dt.time(15)
        # Worth it whole: the buyer's saving on the block's middle tonne covers the price,
        # and the seller's cost of cutting its middle tonne is below it.
        gap = 400_000 - bought  # what the buyer would otherwise have to cut
        assert deal.price_fen <= short.curve.marginal_fen(gap - deal.qty_t // 2)
        assert deal.price_fen >= long_.curve.marginal_fen(max(0, -400_000 + deal.qty_t // 2))
        bought += deal.qty_t
    assert not h.refusals
    assert h.market.block.quotes == {}  # what was left open expired at the close


def test_a_block_trader_leaves_a_small_want_to_grow_until_the_last_days() -> None:
    """A firm whose baseline reaches ``block_firm_t`` deals only in blocks: short by 75,000 t
    (below the 100,000 t block minimum) it places nothing on the book while more than
    ``block_wait_days`` are left, then buys on the book like any firm. A smaller firm with
    the same parameters trades on the book all year."""
    h = Harness()
    for name in ("BIG", "SMALL"):
        h.account(name)
        h.deposit(name, 1_000_000_000)
        h.issue(name, 100_000)
    _open_day(h)
    big, small = _firm("BIG", 200_000), _firm("SMALL", 200_000)
    params = {"blocks": True, "block_wait_days": 20, "block_firm_t": 200_000}
    block_trader = ComplianceFirm("BIG", big, **params)  # type: ignore[arg-type]
    book_trader = ComplianceFirm("SMALL", dataclasses.replace(small, baseline_t=199_000), **params)  # type: ignore[arg-type]
    h.local.trading_days_left = 21
    assert _places(h, block_trader, 5) == []
    assert _places(h, book_trader, 5), "a firm below block_firm_t trades on the book"
    h.local.trading_days_left = 20
    placed = _places(h, block_trader, 5)
    assert placed
    assert all(p.side is Side.BUY and p.qty_t < 100_000 for p in placed)


def test_a_firm_bids_once_in_an_open_auction_within_its_value() -> None:
    """Short of about 75,000 t, a firm bids once for all of it in an open auction, at no more
    than what the want's middle tonne saves it and its belief of the price, at or above the
    reserve, then leaves the book alone while its bid stands."""
    h = Harness()
    h.account("FI")
    h.deposit("FI", 1_000_000_000)
    h.issue("FI", 100_000)
    h.account("GOV", AccountKind.PARTICIPANT)
    h.issue("GOV", 500_000)
    _open_day(h)
    h.ok(
        PublishAuction(
            h._next_ts(), AccountId("GOV"), CEA, 500_000, 3_000, h.ts + 1, h.ts + 10**12, 1
        )
    )
    firm = _firm("FI", 200_000)
    agent = ComplianceFirm("FI", firm)
    h.ts += 1
    h.local.now_ns = h.ts
    rng = random.Random(4)
    first = list(agent.act(h.local.view("FI"), rng))
    (bid,) = [a for a in first if isinstance(a, BidAuction)]
    assert 70_000 <= bid.qty_t <= 80_000  # 75,000 t, give or take its belief's noise
    assert 3_000 <= bid.price_fen <= firm.curve.marginal_fen(100_000 - bid.qty_t // 2)
    h.apply_actions(agent, first, h._next_ts())
    again = list(agent.act(h.local.view("FI"), rng))
    assert not [a for a in again if isinstance(a, BidAuction | Place)]


def test_a_firm_bids_its_marginal_cost_curve_for_its_share_of_the_auctions_announced() -> None:
    """Without ``auction_at_belief``, lacking 100,000 t with two auctions announced, a firm
    bids at the day's open for half of it in the one open now, in ``auction_steps`` bids of
    5,000 t: each tonne of this auction stands for two of its want, so the bid around its
    k-th tonne is at the marginal cost of the abatement at 100,000 - 2k t (CNY 200.00 down
    to 40.00). The tenth, at CNY 20.00, would be under the CNY 30.00 reserve: not bid."""
    h = Harness()
    h.account("FI")
    h.deposit("FI", 1_000_000_000)
    h.issue("FI", 100_000)
    h.account("GOV", AccountKind.PARTICIPANT)
    h.issue("GOV", 500_000)
    _open_day(h)
    opens = h.ts + 1
    for n in range(2):  # the second later the same day
        window = (opens + n * 2 * 10**12, opens + (2 * n + 1) * 10**12)
        h.ok(PublishAuction(h._next_ts(), AccountId("GOV"), CEA, 200_000, 3_000, *window, n))
    firm = _firm("FI", 200_000)
    agent = ComplianceFirm("FI", firm, auction_steps=10, auction_at_belief=False)
    h.ts = opens
    h.local.now_ns = h.ts
    actions = list(agent.on_day_open(h.local.view("FI"), random.Random(4)))
    bids = [a for a in actions if isinstance(a, BidAuction) and a.auction_id == 1]
    assert bids == actions
    assert [(b.price_fen, b.qty_t) for b in bids] == [
        (int(firm.curve.marginal_fen(100_000 - 2 * (5_000 * k + 2_500))), 5_000) for k in range(9)
    ]
    assert bids[0].price_fen == 20_000
    assert bids[-1].price_fen == 4_000
    h.apply_actions(agent, actions, h._next_ts())
    assert not list(agent.on_day_open(h.local.view("FI"), random.Random(4)))  # bid once


def test_firm_counts_allowances_still_due_and_follows_a_new_profile() -> None:
    h = Harness()
    h.account("FI")
    h.deposit("FI", 1_000_000_000)
    h.issue("FI", 50_000)
    _open_day(h)
    h.local.trading_days_left = 1  # the last day: no reason to spread its buying
    firm = _firm("FI", 100_000)
    agent = ComplianceFirm("FI", dataclasses.replace(firm, allocation_due_t=25_000))
    placed = _places(h, agent, 10)
    # 25,000 t worth cutting at 60.00 and 25,000 t still to come: only its belief noise
    # (±3 % of the price, ±900 t on this curve) is left to trade.
    assert all(a.qty_t <= 900 for a in placed)
    agent.firm = firm  # the driver replaces the profile: nothing due after all
    placed = _places(h, agent, 5)
    assert placed
    assert all(a.side is BUY and a.qty_t == 3_000 for a in placed)  # a full chunk each


def test_firm_uses_cheaper_offsets_up_to_the_cap_and_surrenders_them() -> None:
    ccer = "CCER:P1:2026"
    h = Harness(instruments=((CEA, P0), (ccer, 4_000)))
    firm = _firm("FI", 100_000)
    h.account("FI")
    h.deposit("FI", 1_000_000_000)
    h.issue("FI", 60_000)
    h.account("CS")
    h.offsets("CS", "P1", 50_000)
    agents = [
        (ComplianceFirm("FI", firm, offset_cap_bp=500), random.Random(1)),
        (CcerSeller("CS", qty_t=2_000), random.Random(2)),
    ]
    h.run(agents, 20)
    view = h.local.view("FI")
    offsets = view.holding_t(ccer)
    assert 0 < offsets <= 100_000 * 500 // 10_000  # at most 5 % of emissions
    assert all(p < P0 for _, s, p, _ in h.trades if s == ccer)  # bought below the allowance
    records = h.year_end(agents[:1], {"FI": firm.baseline_t})
    record = records["FI"]
    assert record.offsets_t == min(offsets, record.obligation_t * 500 // 10_000)
    assert record.shortfall_t == 0
    assert not h.refusals


def test_market_maker_quotes_both_sides_and_leans_against_inventory() -> None:
    def quotes(inventory: int) -> tuple[int, int]:
        h = Harness()
        h.account("MM")
        h.deposit("MM", 1_000_000_000)
        h.issue("MM", inventory)
        _open_day(h)
        placed = _places(h, MarketMaker("MM", max_inventory_t=20_000, skew_bp=200), 1)
        bid = [a.price_fen or 0 for a in placed if a.side is BUY]
        ask = [a.price_fen or 0 for a in placed if a.side is SELL]
        assert len(ask) == 1
        if inventory >= 20_000:
            assert not bid  # full: it stops buying
            return 0, ask[0]
        assert len(bid) == 1
        assert bid[0] < ask[0]
        return bid[0], ask[0]

    low_bid, low_ask = quotes(2_000)
    high_bid, high_ask = quotes(18_000)
    assert high_bid < low_bid
    assert high_ask < low_ask  # long: both quotes lower, to sell more and buy less
    assert quotes(20_000)[1] <= high_ask


def test_ccer_seller_prices_below_the_allowance_and_above_its_floor() -> None:
    ccer = "CCER:P1:2026"
    h = Harness(instruments=((CEA, P0), (ccer, 5_000)))
    h.account("CS")
    h.offsets("CS", "P1", 10_000)
    _open_day(h)
    placed = _places(h, CcerSeller("CS", discount_bp=1_500, jitter_bp=300, floor_fen=5_000), 30)
    assert placed
    assert all(a.symbol == ccer and a.side is SELL for a in placed)
    prices = [a.price_fen or 0 for a in placed]
    assert all(5_000 <= p <= P0 * 0.85 * 1.03 for p in prices)
    assert h.local.view("CS").sellable_t(ccer) == 10_000 - placed[-1].qty_t


def test_noise_trader_stays_within_its_position_bound() -> None:
    h = Harness()
    for name in ("NO", "MM"):
        h.account(name)
        h.deposit(name, 1_000_000_000)
        h.issue(name, 50_000)
    agents = [
        (NoiseTrader("NO", qty_max_t=100, max_position_t=300, market_bp=5_000), random.Random(5)),
        (MarketMaker("MM", qty_t=200, max_inventory_t=100_000), random.Random(6)),
    ]
    positions = []
    for _ in range(10):
        h.run(agents, 1)
        positions.append(h.local.view("NO").holding_t(CEA) - 50_000)
    assert all(abs(p) <= 300 for p in positions)
    assert any(p != 0 for p in positions)
    assert not h.refusals
