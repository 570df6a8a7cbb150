"""Auctions in the market (``settlement.auction_desk``) with worked numbers: a notice holds the
seller's volume, bids hold their value, the close delivers against payment out of those holds
and releases the rest; every refusal with its numbers and nothing changed; the day's close
clears what is due; replay and snapshots give equal state hashes.

Guangdong's rules: bids of at least 1,000 t, a bidder at most 50 % of the volume, uniform
price, bids binding, unsold back to the seller's account (the authority's reserve). The EU's:
lots of 500, ties by draw, bids withdrawable in the window, cancelled when undersubscribed,
units delivered T+1. The auctions run 09:30-11:30 Beijing time on Monday 23 November 2026.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_sim.model import AccountId, UnitCode
from registry_sim.ops import RecordEmissions
from settlement import auction_desk
from settlement.commands import (
    AmendBid,
    CloseAuction,
    CloseDay,
    EndOfDay,
    OpenDay,
    PublishAuction,
    SubmitBid,
    WithdrawBid,
)
from settlement.market import Market
from settlement.spec import MarketSpec
from tests.settlement.conftest import DAY1, DAY2, DAY3, SYM, Mkt
from tests.settlement.test_auction import GD_2016_LOSERS, GD_2016_WINNERS

CNY = 100
SELLER = "GOV"


class Auctions(Mkt):
    """A market whose clock can be set to a local time of a day."""

    def at(self, day: dt.date, local: str) -> None:
        self.ts = self.market.rules.calendar.ts_ns(day, dt.time.fromisoformat(local))

    def window(self, day: dt.date = DAY1) -> tuple[int, int]:
        calendar = self.market.rules.calendar
        return calendar.ts_ns(day, dt.time(9, 30)), calendar.ts_ns(day, dt.time(11, 30))

    def publish(
        self, volume: int, reserve: int | None, *, seller: str = SELLER, day: dt.date = DAY1
    ) -> PublishAuction:
        opens, closes = self.window(day)
        return PublishAuction(
            self.next_ts(), AccountId(seller), SYM, volume, reserve, opens, closes, 7
        )

    def bid(self, who: str, price: int, qty: int, auction: int = 1) -> SubmitBid:
        return SubmitBid(self.next_ts(), AccountId(who), auction, price, qty)

    def amend(self, who: str, bid_id: int, price: int, qty: int) -> AmendBid:
        return AmendBid(self.next_ts(), AccountId(who), bid_id, price, qty)

    def withdraw(self, who: str, bid_id: int) -> WithdrawBid:
        return WithdrawBid(self.next_ts(), AccountId(who), bid_id)

    def close(self, auction: int = 1) -> CloseAuction:
        return CloseAuction(self.next_ts(), auction)


WINNERS, LOSERS = GD_2016_WINNERS, GD_2016_LOSERS


def guangdong() -> Auctions:
    """GOV holds 1,000,000 t of CEA2025 to sell; 13 bidders hold CNY 2,000,000 each."""
    m = Auctions("guangdong_pilot")
    m.participant(SELLER, *(who for who, _, _ in WINNERS + LOSERS))
    m.issue(SELLER, 1_000_000)
    for who, _, _ in WINNERS + LOSERS:
        m.deposit(who, 2_000_000 * CNY)
    m.open_day()
    return m


def test_guangdong_2016_09_21_through_the_market() -> None:
    """500,000 t over a ¥9.37 reserve, 13 bids for 858,000 t: all winners pay ¥9.88; the
    seller receives ¥4,940,000 for 500,000 t; the losers' and the marginal bid's holds are
    released; no cash or units stay held."""
    m = guangdong()
    published = m.ok(m.publish(500_000, 937))
    assert [(c.what, c.auction_id) for c in published.auction_changes] == [("published", 1)]
    assert m.units(SELLER, "held") == 500_000
    m.at(DAY1, "09:45")
    for who, price, qty in WINNERS + LOSERS:
        m.ok(m.bid(who, price, qty))
    # W1 holds 80,000 t × CNY 10.50 = CNY 840,000 of its CNY 2,000,000.
    assert (m.cash("W1", "held"), m.cash("W1")) == (84_000_000, 116_000_000)
    m.at(DAY1, "11:30")
    outcome = m.ok(m.close())
    (change,) = outcome.auction_changes
    result = change.result
    assert (change.what, result.price_fen, result.sold_t, result.winners) == (
        "cleared",
        988,
        500_000,
        10,
    )
    assert result.revenue_fen == 494_000_000
    assert m.cash(SELLER) == 494_000_000
    assert m.units(SELLER, "held") == 0
    assert m.units(SELLER) == 500_000
    for who, _, qty in WINNERS:
        won = 60_000 if who == "W10" else qty
        assert m.units(who) == won
        assert m.cash(who) == 200_000_000 - 988 * won
        assert m.cash(who, "held") == 0
    for who, _, _ in LOSERS:
        assert (m.units(who), m.cash(who), m.cash(who, "held")) == (0, 200_000_000, 0)
    # Delivered at once (no lag): the winners may sell today.
    assert m.market.sellable_t(AccountId("W1"), UnitCode(SYM)) == 80_000
    assert m.market.auctions.auctions == {}
    assert m.market.auctions.results[1][1] == result


def test_guangdong_2015_03_27_undersubscribed_returns_the_rest_to_the_seller() -> None:
    """1,000,000 t at a ¥35 floor, 422,461 t bid: all fill at ¥35, ¥14,786,135 to the
    seller, 577,539 t back to its available units."""
    m = guangdong()
    m.ok(m.publish(1_000_000, 3_500))
    m.at(DAY1, "10:00")
    book = [("W1", 3_705, 100_000), ("W2", 3_600, 80_000), ("W3", 3_550, 60_000)]
    book += [("W4", 3_500, 90_000), ("W5", 3_500, 50_000), ("W6", 3_500, 22_461)]
    book += [("W7", 3_500, 20_000)]
    for who, price, qty in book:
        m.deposit(who, 5_000_000 * CNY)
        m.ok(m.bid(who, price, qty))
    m.at(DAY1, "11:30")
    result = m.ok(m.close()).auction_changes[0].result
    assert (result.price_fen, result.sold_t, result.unsold_t) == (3_500, 422_461, 577_539)
    assert m.cash(SELLER) == 1_478_613_500  # ¥14,786,135
    assert (m.units(SELLER), m.units(SELLER, "held")) == (577_539, 0)
    assert m.cash("W1") == 200_000_000 + 500_000_000 - 3_500 * 100_000


def test_every_refusal_with_its_numbers() -> None:
    m = guangdong()
    m.participant("POOR")
    opens, closes = m.window()
    tomorrow_close = m.window(DAY2)[1]
    bad = m.refused(
        PublishAuction(m.next_ts(), AccountId(SELLER), SYM, 500_000, 937, opens, tomorrow_close, 1),
        "AUCTION_BAD_NOTICE",
    )
    assert "one trading day" in bad["problem"]
    short = m.refused(m.publish(2_000_000, 937), "INSUFFICIENT_UNITS")
    assert (short["requested_t"], short["sellable_t"]) == (2_000_000, 1_000_000)
    m.ok(m.publish(500_000, 937))
    assert m.refused(m.bid("W1", 1_000, 10_000), "AUCTION_WINDOW_CLOSED") == {
        "auction_id": 1,
        "opens_ns": opens,
        "closes_ns": closes,
    }
    m.at(DAY1, "10:00")
    assert m.refused(m.bid("W1", 1_000, 10_000, auction=9), "AUCTION_GONE") == {"auction_id": 9}
    assert m.refused(m.bid(SELLER, 1_000, 10_000), "AUCTION_OWN_OFFER") == {"auction_id": 1}
    assert m.refused(m.bid("W1", 936, 10_000), "AUCTION_BELOW_RESERVE") == {
        "price_fen": 936,
        "reserve_fen": 937,
    }
    assert m.refused(m.bid("W1", 1_000, 999), "AUCTION_BID_SIZE") == {
        "qty_t": 999,
        "min_bid_t": 1_000,
        "lot_t": 1,
    }
    m.ok(m.bid("W1", 1_000, 200_000))
    assert m.refused(m.bid("W1", 990, 60_000), "AUCTION_OVER_CAP") == {
        "qty_t": 60_000,
        "bid_t": 200_000,
        "cap_t": 250_000,
        "max_share_bp": 5_000,
    }
    funds = m.refused(m.bid("POOR", 1_000, 1_000), "INSUFFICIENT_FUNDS")
    assert funds["required_fen"] == 1_000_000
    assert m.refused(m.withdraw("W1", 1), "AUCTION_BIDS_BINDING") == {"bid_id": 1}
    assert m.refused(m.withdraw("W2", 1), "AUCTION_BID_GONE") == {"bid_id": 1}
    assert m.refused(m.close(), "AUCTION_WINDOW_OPEN") == {"auction_id": 1, "closes_ns": closes}
    plain = Market(
        MarketSpec("t", "cn_national", ((SYM, 6_000),)),
        dataclasses.replace(m.market.rules, auction=None),
    )
    outcome = plain.apply(PublishAuction(1, AccountId(SELLER), SYM, 1, None, opens, closes, 1))
    assert (outcome.code, outcome.details) == ("AUCTION_NOT_OFFERED", {"rules": "guangdong_pilot"})


def eu(overrides: dict[str, Any] | None = None) -> Auctions:
    m = Auctions("eu_ets", overrides)
    m.participant(SELLER, "A", "B")
    m.issue(SELLER, 10_000)
    m.deposit("A", 1_000_000 * CNY)
    m.deposit("B", 1_000_000 * CNY)
    m.open_day()
    return m


def test_eu_bids_are_withdrawn_in_the_window_and_units_come_t_plus_1() -> None:
    m = eu()
    m.ok(m.publish(2_000, None))
    m.at(DAY1, "10:00")
    m.ok(m.bid("A", 8_000, 1_500))
    m.ok(m.bid("A", 7_500, 1_000))
    m.ok(m.bid("B", 7_600, 1_000))
    assert m.cash("A", "held") == 8_000 * 1_500 + 7_500 * 1_000
    withdrawn = m.ok(m.withdraw("A", 2))
    assert [(c.what, c.bid_id) for c in withdrawn.auction_changes] == [("withdrawn", 2)]
    assert m.cash("A", "held") == 8_000 * 1_500
    assert m.refused(m.bid("B", 7_600, 250), "AUCTION_BID_SIZE")["lot_t"] == 500
    m.at(DAY1, "11:30")
    result = m.ok(m.close()).auction_changes[0].result
    # A: 1,500 at 76.00 (the clearing price); B: 500 of its 1,000.
    assert [(a.account_id, a.qty_t, a.price_fen) for a in result.awards] == [
        ("A", 1_500, 7_600),
        ("B", 500, 7_600),
    ]
    assert m.units("A") == 1_500
    assert m.market.sellable_t(AccountId("A"), UnitCode(SYM)) == 0  # delivered T+1
    assert m.cash(SELLER) == 2_000 * 7_600
    m.close_day()
    m.open_day(DAY2)
    assert m.market.sellable_t(AccountId("A"), UnitCode(SYM)) == 1_500


def california() -> Auctions:
    """California-Québec (``ca_qc``): lots of 1,000, purchase limits of 25 % for covered
    entities and 4 % for others, a bid guarantee, bids amendable in the window. GOV sells
    100,000; E1 is a covered entity, P a participant; $1,000,000 each."""
    m = Auctions("ca_qc")
    m.participant(SELLER, "P")
    m.entity("E1")
    m.issue(SELLER, 100_000)
    m.deposit("E1", 1_000_000 * CNY)
    m.deposit("P", 1_000_000 * CNY)
    m.open_day()
    return m


def test_purchase_limits_by_kind_a_bid_guarantee_and_amendments() -> None:
    m = california()
    m.ok(m.publish(100_000, 2_587))  # the 2025 auction reserve price, stated
    m.at(DAY1, "10:00")
    # P, a participant, may bid for 4 % = 4,000; E1, a covered entity, 25 % = 25,000.
    over = m.refused(m.bid("P", 3_000, 5_000), "AUCTION_OVER_CAP")
    assert (over["cap_t"], over["max_share_bp"], over["bid_t"]) == (4_000, 400, 0)
    m.ok(m.bid("E1", 3_000, 20_000))
    over = m.refused(m.bid("E1", 2_800, 6_000), "AUCTION_OVER_CAP")
    assert (over["cap_t"], over["max_share_bp"], over["bid_t"]) == (25_000, 2_500, 20_000)
    # The guarantee: the most the bids can cost at one price. 20,000 @ $30.00 = $600,000;
    # with 5,000 @ $28.00 more: 25,000 × $28.00 = $700,000, so $100,000 more is held.
    assert m.cash("E1", "held") == 60_000_000
    m.ok(m.bid("E1", 2_800, 5_000))
    assert m.cash("E1", "held") == 70_000_000
    # Amended to 5,000 @ $20.00: the bid is refused below the reserve; at $26.00 it holds
    # max(20,000 × 30, 25,000 × 26) = $650,000, $50,000 less; it is bid 3, and 2 is gone.
    assert (
        m.refused(m.amend("E1", 2, 2_000, 5_000), "AUCTION_BELOW_RESERVE")["reserve_fen"] == 2_587
    )
    amended = m.ok(m.amend("E1", 2, 2_600, 5_000))
    assert [(c.what, c.bid_id) for c in amended.auction_changes] == [("amended", 3)]
    assert sorted(m.market.auctions.auctions[1].bids) == [1, 3]
    assert m.cash("E1", "held") == 65_000_000
    assert m.refused(m.amend("P", 3, 2_600, 1_000), "AUCTION_BID_GONE")["bid_id"] == 3
    assert m.refused(m.amend("E1", 1, 3_000, 26_000), "AUCTION_OVER_CAP")["bid_t"] == 5_000
    m.ok(m.bid("P", 2_700, 4_000))
    withdrawn = m.ok(m.withdraw("E1", 1))
    assert [(c.what, c.bid_id) for c in withdrawn.auction_changes] == [("withdrawn", 1)]
    assert m.cash("E1", "held") == 5_000 * 2_600
    m.at(DAY1, "11:30")
    result = m.ok(m.close()).auction_changes[0].result
    # Undersubscribed: every valid bid fills at the lowest accepted price, $26.00.
    assert (result.price_fen, result.sold_t, result.unsold_t) == (2_600, 9_000, 91_000)
    assert (m.units("E1"), m.units("P")) == (5_000, 4_000)
    assert (m.cash("E1", "held"), m.cash("P", "held")) == (0, 0)
    assert m.cash("P") == 1_000_000 * CNY - 4_000 * 2_600
    assert m.cash(SELLER) == 9_000 * 2_600
    assert (m.units(SELLER), m.units(SELLER, "held")) == (91_000, 0)


def test_the_reserve_price_follows_the_schedule_and_results_wait_a_week() -> None:
    """No reserve stated in 2026: $25.87 × 1.08 = $27.94. The result is published five
    trading days after clearing: until then participants do not see it, and the day it is
    published opens with a ``result_published`` change."""
    m = california()
    m.ok(m.publish(10_000, None))
    assert m.market.auctions.auctions[1].reserve_fen == 2_794
    m.at(DAY1, "10:00")
    m.ok(m.bid("E1", 2_800, 2_000))
    m.at(DAY1, "11:30")
    m.ok(m.close())
    auction = m.market.auctions.results[1][0]
    assert not auction_desk.is_published(m.market, auction)
    assert m.units("E1") == 2_000  # settled at clearing all the same
    published = []
    for day in (DAY2, DAY3, dt.date(2026, 11, 27), dt.date(2026, 11, 30), dt.date(2026, 12, 1)):
        m.close_day()
        opened = m.ok(OpenDay(m.next_ts(), day))
        published += [(day, c.what) for c in opened.auction_changes]
    assert published == [(dt.date(2026, 12, 1), "result_published")]
    assert auction_desk.is_published(m.market, auction)


def test_reserve_and_ceiling_sales_to_covered_entities_at_fixed_prices() -> None:
    """2026 prices (2021's + 5 % + 3 % a year, to the cent each year): tier 1 $41.40 → $60.83,
    the ceiling $65.00 → $95.52. Only covered entities buy, at the sale's price; the year's
    first reserve sale needs no trigger, a second one needs the last auction at 60 % of tier 1
    ($36.49) or more. At the ceiling E1 buys only what it lacks for 2026: 30,000 t emitted,
    10,000 t held, 20,000 t."""
    m = california()
    m.registry(RecordEmissions(m.op_id(), AccountId("E1"), 2026, 30_000))
    opens, closes = m.window()
    reserve = PublishAuction(
        m.next_ts(), AccountId(SELLER), SYM, 10_000, None, opens, closes, 1, "reserve"
    )
    m.ok(reserve)
    assert m.market.auctions.auctions[1].reserve_fen == 6_083
    m.at(DAY1, "10:00")
    assert m.refused(m.bid("P", 6_083, 1_000), "AUCTION_NOT_ELIGIBLE")["sale"] == "reserve"
    off = m.refused(m.bid("E1", 6_100, 1_000), "AUCTION_FIXED_PRICE")
    assert (off["price_fen"], off["fixed_fen"]) == (6_100, 6_083)
    m.ok(m.bid("E1", 6_083, 10_000))
    m.at(DAY1, "11:30")
    m.ok(m.close())
    assert m.units("E1") == 10_000
    opens2, closes2 = m.window(DAY2)
    again = reserve._replace(ts_ns=m.next_ts(), opens_ns=opens2, closes_ns=closes2, seed=2)
    problem = m.refused(again, "AUCTION_BAD_NOTICE")["problem"]
    assert "at 3649 (6000 bp of the lowest tier) or more; no auction has settled yet" in problem
    ceiling = again._replace(ts_ns=m.next_ts(), seed=3, sale="ceiling")
    m.ok(ceiling)
    assert m.market.auctions.auctions[2].reserve_fen == 9_552
    m.next_day(DAY2)
    m.at(DAY2, "10:00")
    need = m.refused(m.bid("E1", 9_552, 25_000, auction=2), "AUCTION_OVER_NEED")
    assert (need["lacks_t"], need["bid_t"]) == (20_000, 0)
    m.deposit("E1", 2_000_000 * CNY)
    m.ok(m.bid("E1", 9_552, 20_000, auction=2))
    assert m.cash("E1", "held") == 20_000 * 9_552


def test_eu_undersubscribed_is_cancelled_and_every_hold_released() -> None:
    m = eu()
    m.ok(m.publish(5_000, None))
    m.at(DAY1, "10:00")
    m.ok(m.bid("A", 8_000, 1_500))
    m.at(DAY1, "11:30")
    (change,) = m.ok(m.close()).auction_changes
    assert (change.what, change.result.reason) == ("cancelled", "undersubscribed")
    assert (m.cash("A"), m.cash("A", "held")) == (100_000_000, 0)
    assert (m.units(SELLER), m.units(SELLER, "held")) == (10_000, 0)


def test_the_days_close_clears_an_auction_that_is_due() -> None:
    m = eu()
    m.ok(m.publish(1_000, None))
    m.at(DAY1, "10:00")
    m.ok(m.bid("B", 7_000, 1_000))
    m.at(DAY1, "15:30")
    closed = m.ok(CloseDay(m.next_ts()))
    assert [c.what for c in closed.auction_changes] == ["cleared"]
    assert m.units("B") == 1_000
    m.ok(EndOfDay(m.next_ts()))


def test_an_auction_published_ahead_survives_the_snapshot_and_replays_equal() -> None:
    """Published on Monday for Tuesday: the day-end snapshot keeps it; the restored market and
    one that applies the same commands reach the same state hash after Tuesday's clearing."""

    def script(m: Auctions) -> list[Any]:
        done: list[Any] = []
        done.append(m.ok(m.publish(2_000, None, day=DAY2)))
        m.ok(CloseDay(m.next_ts()))
        m.ok(EndOfDay(m.next_ts()))
        return done

    first, second = eu(), eu()
    script(first)
    script(second)
    assert first.market.state_hash() == second.market.state_hash()
    restored = Auctions("eu_ets")
    restored.market = Market.restore(first.market.snapshot())
    restored.ts = first.ts
    assert restored.market.state_hash() == first.market.state_hash()
    for m in (first, restored):
        m.open_day(DAY2)
        m.at(DAY2, "10:00")
        m.ok(m.bid("A", 8_000, 1_000))
        m.ok(m.bid("B", 8_100, 1_000))
        m.at(DAY2, "11:30")
        m.ok(m.close())
    assert restored.market.state_hash() == first.market.state_hash()
    assert first.units("B") == 1_000


@settings(max_examples=80, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["bid", "withdraw", "amend"]),
            st.sampled_from(["A", "B"]),
            st.integers(6_000, 9_000),
            st.integers(1, 6),
        ),
        max_size=20,
    ),
    volume_lots=st.integers(1, 10),
    collateral=st.sampled_from(["full", "guarantee"]),
)
def test_holds_and_conservation_through_random_bidding(
    steps: list[tuple[str, str, int, int]], volume_lots: int, collateral: str
) -> None:
    """Whatever is bid, amended and withdrawn, cash and units are conserved; a bidder's held
    cash is what its open bids need (their values, or the most they can cost at one price);
    after the close nothing stays held."""
    m = eu({"auction": {"collateral": collateral}})
    m.ok(m.publish(volume_lots * 500, None))
    m.at(DAY1, "10:00")
    before = _totals(m.market)
    open_bids: dict[int, tuple[str, int, int]] = {}  # id: (bidder, price, tonnes)
    for action, who, price, lots in steps:
        if action == "bid" or not open_bids:
            outcome = m.do(m.bid(who, price, lots * 500))
        else:
            bid_id = min(open_bids)
            who = open_bids[bid_id][0]
            if action == "withdraw":
                outcome = m.ok(m.withdraw(who, bid_id))
            else:
                outcome = m.do(m.amend(who, bid_id, price, lots * 500))
            if outcome.ok:
                del open_bids[bid_id]
        if outcome.ok and outcome.kind != "withdraw_bid":
            open_bids[outcome.auction_changes[0].bid_id or 0] = (who, price, lots * 500)
        for account in ("A", "B"):
            own = [(p, q) for w, p, q in open_bids.values() if w == account]
            assert m.cash(account, "held") == _hold(collateral, own)
    assert _totals(m.market) == before
    m.at(DAY1, "11:30")
    m.ok(m.close())
    assert _totals(m.market) == before
    assert all(m.cash(who, "held") == 0 for who in ("A", "B"))
    assert m.units(SELLER, "held") == 0


def _hold(collateral: str, bids: list[tuple[int, int]]) -> int:
    """What (price, tonnes) bids hold: their values, or the largest of each bid price × the
    tonnes bid at it or higher."""
    if collateral == "full":
        return sum(p * q for p, q in bids)
    return max((p * sum(q for p2, q in bids if p2 >= p) for p, _ in bids), default=0)


def _totals(market: Market) -> tuple[int, int]:
    cash = units = 0
    for (account, asset, _), amount in market.balances().items():
        if account.startswith("SYS:"):
            continue
        if asset == "CNY":
            cash += amount
        else:
            units += amount
    return cash, units


@pytest.mark.parametrize("rules", ["cn_national", "guangdong_pilot", "eu_ets", "ca_qc"])
def test_each_shipped_rule_set_runs_an_auction(rules: str) -> None:
    """On a tick of 2 fen, a bid off the tick is refused with the tick; a bid for all a
    bidder may take clears at its price: all of 50,000 (national, EU), half (Guangdong), 4 %
    (California-Québec, a participant)."""
    m = Auctions(rules, {"trading": {"tick_fen": 2}})
    m.participant(SELLER, "A")
    m.issue(SELLER, 50_000)
    m.deposit("A", 5_000_000 * CNY)
    m.open_day()
    m.ok(m.publish(50_000, 5_000))
    m.at(DAY1, "10:00")
    assert m.refused(m.bid("A", 6_001, 1_000), "PRICE_OFF_TICK")["tick_fen"] == 2
    qty = {"guangdong_pilot": 25_000, "ca_qc": 2_000}.get(rules, 50_000)
    m.ok(m.bid("A", 6_000, qty))
    m.at(DAY1, "11:30")
    result = m.ok(m.close()).auction_changes[0].result
    assert (result.status, result.sold_t, result.price_fen) == ("cleared", qty, 6_000)
    assert m.units("A") == qty


def test_the_reserve_price_by_the_rule_set_from_the_listed_vwap() -> None:
    """National: 1.2 × the listed VWAP of the last 120 cleared days (as many as there have
    been). 100 t at CNY 60.00 on Monday and 300 t at CNY 62.00 on Tuesday: VWAP 61.50, reserve
    73.80. Before any listed trade there is no VWAP: the notice must state a reserve."""
    m = Auctions("cn_national")
    m.participant(SELLER, "A", "B")
    m.issue(SELLER, 10_000)
    m.issue("B", 1_000)
    m.deposit("A", 1_000_000 * CNY)
    m.open_day()
    assert (
        "state a reserve price"
        in m.refused(m.publish(1_000, None), "AUCTION_BAD_NOTICE")["problem"]
    )
    m.sell("B", 100, 6_000)
    m.buy("A", 100, 6_000)
    m.next_day(DAY2)
    m.sell("B", 300, 6_200)
    m.buy("A", 300, 6_200)
    m.next_day(DAY3)
    assert m.market.window_days == 120
    assert m.market.reference_window == ((100, 600_000), (300, 1_860_000))
    m.ok(m.publish(1_000, None, day=DAY3))
    assert m.market.auctions.auctions[1].reserve_fen == 7_380
