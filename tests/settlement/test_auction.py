"""Sealed-bid auction clearing (``settlement.auction``) on worked numbers, with replays of
published results (individual bids were not published: each test builds a book that gives the
published totals), and properties over random books."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from registry_sim.rules import ReserveRule, load_rules
from settlement.auction import (
    Bid,
    ClearingRules,
    Offering,
    Pricing,
    TieBreak,
    Undersubscribed,
    bidder_cap_t,
    clear,
    clearing_rules,
    guarantee_fen,
    msr_change,
    reserve_price,
    rule_reserve_price,
    spread,
)

# Guangdong's paid allocation (2014-2016 rules): uniform price, price then time, every valid
# bid fills when they fall short of the volume, a bidder at most 50 % of the volume, bids of
# at least 1,000 t.
GUANGDONG = ClearingRules(Pricing.UNIFORM, TieBreak.TIME, Undersubscribed.FILL)
# EU primary auctions (Reg. 1031/2010 Art. 7): uniform price, ties by a draw fixed before,
# cancelled when bids fall short of the volume; lots of 500.
EU = ClearingRules(Pricing.UNIFORM, TieBreak.DRAW, Undersubscribed.CANCEL, 1_000)
# California-Québec: ties at the settlement price pro rata, then one lot at a time by draw.
CA_QC = ClearingRules(Pricing.UNIFORM, TieBreak.PRO_RATA, Undersubscribed.FILL)


# A book that gives Guangdong's published totals of 21 September 2016 (the bids themselves were
# not published): 13 bids for 858,000 t over a ¥9.37 reserve, 10 winners at ¥9.88.
GD_2016_WINNERS = [
    ("W1", 1_050, 80_000),
    ("W2", 1_030, 50_000),
    ("W3", 1_020, 60_000),
    ("W4", 1_010, 40_000),
    ("W5", 1_000, 50_000),
    ("W6", 995, 60_000),
    ("W7", 990, 30_000),
    ("W8", 990, 40_000),
    ("W9", 988, 30_000),
    ("W10", 988, 100_000),  # entered after W9: the marginal bid
]
GD_2016_LOSERS = [("L1", 980, 120_000), ("L2", 960, 100_000), ("L3", 937, 98_000)]


def bids(*rows: tuple[str, int, int]) -> list[Bid]:
    """(bidder, price fen, tonnes) in order of entry."""
    return [Bid(n, who, price, qty) for n, (who, price, qty) in enumerate(rows, start=1)]


def test_guangdong_2015_03_27_undersubscribed_fills_at_the_floor() -> None:
    """1,000,000 t offered at a fixed ¥35 floor; 422,461 t of valid bids from seven bidders
    (the highest ¥37.05), all filled at ¥35: ¥14,786,135; 577,539 t back to the reserve."""
    book = bids(
        ("GD-C1", 3_705, 100_000),
        ("GD-C2", 3_600, 80_000),
        ("GD-N1", 3_550, 60_000),
        ("GD-N2", 3_500, 90_000),
        ("GD-N3", 3_500, 50_000),
        ("GD-N4", 3_500, 22_461),
        ("GD-N5", 3_500, 20_000),
        ("GD-N6", 3_400, 10_000),  # below the floor: not valid
    )
    offering = Offering(1_000_000, 1, 1_000, 3_500, max_share_bp=5_000)
    result = clear(offering, book, GUANGDONG)
    assert (result.status, result.price_fen, result.bid_t) == ("cleared", 3_500, 422_461)
    assert (result.sold_t, result.unsold_t) == (422_461, 577_539)
    assert result.revenue_fen == 1_478_613_500  # ¥14,786,135
    assert (result.bidders, result.winners) == (7, 7)
    assert all(a.price_fen == 3_500 for a in result.awards)
    assert result.invalid == ((8, "below_reserve"),)


def test_guangdong_2016_09_21_oversubscribed_clears_above_the_reserve() -> None:
    """500,000 t offered over a ¥9.37 reserve; 13 bids for 858,000 t (1.716×); 10 winners at
    ¥9.88: ¥4,940,000. The marginal bid at ¥9.88 gets what is left (60,000 of 100,000 t)."""
    book = bids(*GD_2016_WINNERS, *GD_2016_LOSERS)
    result = clear(Offering(500_000, 1, 1_000, 937, 5_000), book, GUANGDONG)
    assert (result.price_fen, result.sold_t, result.unsold_t) == (988, 500_000, 0)
    assert (result.bid_t, result.cover_bp) == (858_000, 17_160)
    assert (result.bidders, result.winners) == (13, 10)
    assert result.revenue_fen == 494_000_000  # ¥4,940,000
    assert [(a.account_id, a.qty_t) for a in result.awards][-2:] == [
        ("W9", 30_000),
        ("W10", 60_000),
    ]
    assert sum(a.qty_t for a in result.awards) == 500_000


def test_a_bidder_over_its_cap_is_cut_from_its_lowest_price_up() -> None:
    """Guangdong: at most 50 % of 500,000 t each. A bids 200,000 t at 10.00 and 100,000 t at
    9.50: 50,000 t of the lower bid are cut."""
    book = bids(("A", 950, 100_000), ("A", 1_000, 200_000), ("B", 960, 300_000))
    result = clear(Offering(500_000, 1, 1_000, 900, 5_000), book, GUANGDONG)
    assert result.cut == ((1, 50_000), (3, 50_000))
    assert [(a.account_id, a.qty_t) for a in result.awards] == [
        ("A", 50_000),
        ("A", 200_000),
        ("B", 250_000),
    ]
    assert result.price_fen == 950


def test_invalid_bids_are_named_with_why() -> None:
    book = bids(("A", 5_000, 1_500), ("B", 5_000, 250), ("C", 4_000, 500), ("D", 5_000, 500))
    offering = Offering(500, 500, 500, 4_500)
    result = clear(offering, book, EU)
    assert result.invalid == ((2, "not_lots"), (3, "below_reserve"))
    assert [(a.account_id, a.qty_t) for a in result.awards] in ([("A", 500)], [("D", 500)])


def test_eu_cancels_an_undersubscribed_auction_and_spreads_its_volume() -> None:
    """Poland, March 2022 (Art. 7(5)): bids short of the volume cancel the auction; its
    13,290,000 allowances go to the next four auctions, 3,322,500 each."""
    book = bids(("E1", 8_000, 5_000_000), ("E2", 7_900, 6_000_000))
    result = clear(Offering(13_290_000, 500, 500, None, seed=7), book, EU)
    assert (result.status, result.reason, result.sold_t, result.unsold_t) == (
        "cancelled",
        "undersubscribed",
        0,
        13_290_000,
    )
    assert result.awards == ()
    assert spread(13_290_000, 4, 500) == [3_322_500] * 4
    assert spread(2_001_000, 4, 500) == [500_500, 500_500, 500_000, 500_000]


def test_eu_cancels_far_below_the_secondary_market() -> None:
    """Art. 7(6), with the design's threshold of 10 %: clearing at €72.00 while the secondary
    market is at €81.00 (11.1 % under) cancels; at €73.00 (9.9 % under) it stands."""
    offering = Offering(1_000, 500, 500, None)
    low = clear(offering, bids(("A", 7_200, 1_000)), EU, secondary_fen=8_100)
    assert (low.status, low.reason) == ("cancelled", "below_secondary")
    high = clear(offering, bids(("A", 7_300, 1_000)), EU, secondary_fen=8_100)
    assert (high.status, high.price_fen) == ("cleared", 7_300)


def test_eu_cap3_2023_09_25_clears_at_the_published_price_and_cover() -> None:
    """3,035,500 allowances at €83.92, cover 1.70: a book of 5,160,500 allowances in lots of
    500, the marginal price €83.92 shared by a draw."""
    book = bids(
        ("E1", 8_450, 1_000_000),
        ("E2", 8_420, 1_200_000),
        ("E3", 8_400, 500_000),
        ("E4", 8_392, 400_000),
        ("E5", 8_392, 300_000),
        ("E6", 8_380, 1_760_500),
    )
    result = clear(Offering(3_035_500, 500, 500, None, seed=2023), book, EU)
    assert (result.price_fen, result.sold_t) == (8_392, 3_035_500)
    assert result.bid_t == 5_160_500
    assert result.cover_bp // 100 == 170  # 1.70×
    tied = {a.account_id: a.qty_t for a in result.awards if a.account_id in ("E4", "E5")}
    assert sum(tied.values()) == 335_500
    assert set(result.drawn) == {4, 5}
    first = "E4" if result.drawn[0] == 4 else "E5"
    assert tied[first] == min(335_500, 400_000 if first == "E4" else 300_000)


def test_the_draw_is_fixed_by_the_seed() -> None:
    book = bids(*[(f"T{n}", 5_000, 500) for n in range(10)])
    offering = Offering(2_000, 500, 500, None, seed=11)
    first = clear(offering, book, EU)
    assert clear(offering, book, EU) == first
    winners = {a.account_id for a in first.awards}
    assert len(winners) == 4
    others = {
        frozenset(
            a.account_id for a in clear(Offering(2_000, 500, 500, None, seed=s), book, EU).awards
        )
        for s in range(20)
    }
    assert len(others) > 1  # other seeds draw others


def test_ca_qc_ties_pro_rata_then_one_lot_at_a_time_by_draw() -> None:
    """5,000 allowances left at the settlement price for bids of 3,000, 2,000 and 2,000 (lots
    of 1,000): pro rata 2,142 → 2,000, 1,428 → 1,000 and 1,000; the last lot to the first in
    the draw's order."""
    book = bids(("H", 3_000, 5_000), ("A", 2_600, 3_000), ("B", 2_600, 2_000), ("C", 2_600, 2_000))
    result = clear(Offering(10_000, 1_000, 1_000, 2_587, seed=5), book, CA_QC)
    got = {a.account_id: a.qty_t for a in result.awards}
    assert got["H"] == 5_000
    assert sum(got[x] for x in "ABC") == 5_000
    base = {"A": 2_000, "B": 1_000, "C": 1_000}
    lucky = {"A": 2, "B": 3, "C": 4}
    first = next(x for x in sorted(base, key=lambda x: result.drawn.index(lucky[x])))
    assert got == {"H": 5_000, **base, first: base[first] + 1_000}
    assert result.price_fen == 2_600


def test_ca_qc_settlement_with_purchase_limit_cuts_and_a_tie_at_the_settlement_price() -> None:
    """100,000 allowances in lots of 1,000 over a $25.87 reserve. Purchase limits: emitters
    (E*) 25 % = 25,000, the participant P 4 % = 4,000 (the desk works them out by kind).

    Cuts, from each bidder's lowest price up: E1 asked 35,000 (20,000 @ $30.00 and 15,000 @
    $28.00): 10,000 cut from the $28.00 bid; E3 asked 30,000 @ $27.50: 5,000 cut; P asked
    6,000 (3,000 @ $31.00, 3,000 @ $27.50): 2,000 cut from the $27.50 bid.

    Down the book: $31.00 P 3,000 (97,000 left), $30.00 E1 20,000 (77,000), $29.00 E2 25,000
    (52,000), $28.00 E1 5,000 (47,000); at $27.50 48,000 asked for 47,000: the settlement
    price. Pro rata, rounded down to lots: P 1,000 × 47/48 = 979 → 0; E3 25,000 × 47/48 =
    24,479 → 24,000; E4 22,000 × 47/48 = 21,541 → 21,000; the 2,000 left go one lot at a
    time in the draw's order. E5's $26.00 gets nothing. Every winner pays $27.50:
    $2,750,000."""
    book = bids(
        ("P", 3_100, 3_000),
        ("E1", 3_000, 20_000),
        ("E1", 2_800, 15_000),
        ("E2", 2_900, 25_000),
        ("P", 2_750, 3_000),
        ("E3", 2_750, 30_000),
        ("E4", 2_750, 22_000),
        ("E5", 2_600, 10_000),
    )
    caps = (("E1", 25_000), ("E2", 25_000), ("E3", 25_000), ("E4", 25_000), ("E5", 25_000))
    offering = Offering(100_000, 1_000, 1_000, 2_587, seed=2026, caps_t=(*caps, ("P", 4_000)))
    result = clear(offering, book, CA_QC)
    assert result.cut == ((3, 10_000), (5, 2_000), (6, 5_000))
    assert result.bid_t == 128_000 - 17_000
    assert (result.price_fen, result.sold_t, result.unsold_t) == (2_750, 100_000, 0)
    assert result.revenue_fen == 275_000_000
    got = {a.bid_id: a.qty_t for a in result.awards}
    assert {n: got[n] for n in (1, 2, 3, 4)} == {1: 3_000, 2: 20_000, 3: 5_000, 4: 25_000}
    assert 8 not in got
    tied = {5: 0, 6: 24_000, 7: 21_000}  # rounded down; then a lot each to the first two drawn
    for bid_id in [n for n in result.drawn if n in tied][:2]:
        tied[bid_id] += 1_000
    assert {n: got.get(n, 0) for n in tied} == tied
    assert sum(tied.values()) == 47_000
    assert all(a.price_fen == 2_750 for a in result.awards)
    by_bidder: dict[str, int] = {}
    for a in result.awards:
        by_bidder[a.account_id] = by_bidder.get(a.account_id, 0) + a.qty_t
    assert all(qty <= dict(offering.caps_t)[who] for who, qty in by_bidder.items())


def test_the_bid_guarantee_is_the_largest_uniform_payment() -> None:
    """Bids of 2,000 @ $30, 3,000 @ $28 and 5,000 @ $26: at $30 it could owe 2,000 × 30 =
    $60,000; at $28, 5,000 × 28 = $140,000; at $26, 10,000 × 26 = $260,000: the guarantee."""
    assert guarantee_fen([(3_000, 2_000), (2_800, 3_000), (2_600, 5_000)]) == 26_000_000
    assert guarantee_fen([(5_000, 1_000), (1_000, 2_000)]) == 5_000_000  # $50,000 > 3,000 × 10
    assert guarantee_fen([]) == 0
    assert bidder_cap_t(56_084_237, 400, 1_000) == 2_243_000  # 4 % of #35's current auction
    assert bidder_cap_t(1_000, None, 1) is None


def test_pay_as_bid_charges_each_winner_its_own_price() -> None:
    rules = ClearingRules(Pricing.PAY_AS_BID, TieBreak.TIME, Undersubscribed.FILL)
    result = clear(Offering(300, 1, 1, 5_000), bids(("A", 6_000, 100), ("B", 5_500, 300)), rules)
    assert [(a.account_id, a.qty_t, a.price_fen) for a in result.awards] == [
        ("A", 100, 6_000),
        ("B", 200, 5_500),
    ]
    assert (result.price_fen, result.revenue_fen) == (5_500, 100 * 6_000 + 200 * 5_500)


def test_no_valid_bid_cancels() -> None:
    result = clear(Offering(1_000, 1, 1, 5_000), bids(("A", 4_000, 100)), GUANGDONG)
    assert (result.status, result.reason, result.unsold_t) == ("cancelled", "no_valid_bid", 1_000)


@settings(max_examples=300, deadline=None)
@given(
    volume_lots=st.integers(1, 40),
    lot=st.sampled_from([1, 500, 1_000]),
    reserve=st.none() | st.integers(90, 110),
    cap_bp=st.none() | st.integers(1_000, 10_000),
    rules=st.sampled_from([GUANGDONG, EU, CA_QC]),
    seed=st.integers(0, 10),
    rows=st.lists(
        st.tuples(st.sampled_from("ABCDE"), st.integers(80, 120), st.integers(1, 15)), max_size=25
    ),
    own_caps=st.dictionaries(st.sampled_from("ABCDE"), st.integers(0, 20), max_size=3),
)
def test_clearing_properties(
    volume_lots: int,
    lot: int,
    reserve: int | None,
    cap_bp: int | None,
    rules: ClearingRules,
    seed: int,
    rows: list[tuple[str, int, int]],
    own_caps: dict[str, int],
) -> None:
    """Never more sold than offered; awards in whole lots, within each bid and each bidder's
    cap (the share, or its own in lots); every valid bid above the clearing price fills in
    full and none below it wins; everyone pays the clearing price (uniform), at or above the
    reserve; the same book and seed clear the same."""
    caps_t = tuple((who, lots * lot) for who, lots in sorted(own_caps.items()))
    offering = Offering(volume_lots * lot, lot, lot, reserve, cap_bp, seed, caps_t)
    book = bids(*[(who, price, lots * lot) for who, price, lots in rows])
    result = clear(offering, book, rules)
    assert clear(offering, book, rules) == result
    assert result.sold_t + result.unsold_t == offering.volume_t
    if result.status == "cancelled":
        assert result.awards == ()
        return
    price = result.price_fen
    assert price is not None
    assert reserve is None or price >= reserve
    won = {a.bid_id: a for a in result.awards}
    cut = dict(result.cut)
    by_bidder: dict[str, int] = {}
    for b in book:
        if reserve is not None and b.price_fen < reserve:
            assert b.bid_id not in won
            continue
        asked = b.qty_t - cut.get(b.bid_id, 0)
        award = won.get(b.bid_id)
        got = award.qty_t if award else 0
        assert got % lot == 0
        assert 0 <= got <= asked
        if b.price_fen > price:
            assert got == asked
        if b.price_fen < price:
            assert got == 0
        if award:
            assert award.price_fen == price
        by_bidder[b.account_id] = by_bidder.get(b.account_id, 0) + got
    for who, got in by_bidder.items():
        cap = dict(caps_t).get(who, bidder_cap_t(offering.volume_t, cap_bp, lot))
        assert cap is None or got <= cap
    assert sum(a.qty_t for a in result.awards) == result.sold_t
    assert result.revenue_fen == result.sold_t * price


def test_the_rule_sets_state_their_auctions() -> None:
    """National: uniform, by time, unsold to the seller, reserve 1.2 × VWAP; Guangdong: bids
    of at least 1,000 t, 50 % a bidder, 0.8 × the three-month VWAP, unsold to the reserve; EU:
    lots of 500, ties by draw, cancelled when short or 10 % under the secondary market, spread
    over four auctions."""
    cn, gd, eu = (load_rules(n).auction for n in ("cn_national", "guangdong_pilot", "eu_ets"))
    assert cn is not None
    assert gd is not None
    assert eu is not None
    assert clearing_rules(cn) == ClearingRules(Pricing.UNIFORM, TieBreak.TIME, Undersubscribed.FILL)
    assert (cn.unsold_to, cn.reserve.factor_bp) == ("seller", 12_000)
    assert (gd.min_bid_t, gd.max_share_bp, gd.unsold_to) == (1_000, 5_000, "reserve")
    assert clearing_rules(gd) == GUANGDONG
    assert clearing_rules(eu) == EU
    assert (eu.lot_t, eu.unsold_to, eu.spread_over, eu.delivery_lag_days) == (
        500,
        "next_auctions",
        4,
        1,
    )


def test_reserve_prices() -> None:
    """Guangdong 2016: 80 % of a three-month VWAP of ¥11.71 is ¥9.368, rounded up to the
    tick: ¥9.37 (the published reserve); a fixed floor; none."""
    gd = load_rules("guangdong_pilot").auction
    assert gd is not None
    assert reserve_price(gd.reserve, 1_171, 1) == 937
    assert reserve_price(ReserveRule("fixed", fixed_fen=3_500), None, 1) == 3_500
    assert reserve_price(ReserveRule("none"), 8_000, 1) is None
    assert reserve_price(gd.reserve, None, 1) is None  # no listed trade in the window
    assert reserve_price(ReserveRule("vwap", factor_bp=12_000, window_days=120), 7_001, 5) == 8_405


def test_the_rule_reserve_reads_the_rules_window_and_a_fallback() -> None:
    """A VWAP rule reads the listed window of its own length (Guangdong: 60 days, 80 %):
    2,000 t at ¥11 and 1,000 t at ¥14 are a VWAP of ¥12, a reserve of ¥9.60. With no
    listed trade in it there is no reserve, unless a fallback price stands in; a fixed rule
    reads no window."""
    gd = load_rules("guangdong_pilot").auction
    assert gd is not None
    asked: list[int] = []

    def window(days: int) -> list[tuple[int, int]]:
        asked.append(days)
        return [(2_000, 2_200_000), (0, 0), (1_000, 1_400_000)]

    assert rule_reserve_price(gd.reserve, window, 1, 2016) == 960
    assert asked == [60]
    assert rule_reserve_price(gd.reserve, lambda days: [(0, 0)], 1, 2016) is None
    assert rule_reserve_price(gd.reserve, lambda days: [], 1, 2016, fallback_fen=1_171) == 937
    asked.clear()
    assert rule_reserve_price(ReserveRule("fixed", fixed_fen=3_500), window, 1, 2016) == 3_500
    assert asked == []


def test_msr_intake_and_release_match_the_commissions_figures() -> None:
    msr = load_rules("eu_ets").msr
    assert msr is not None
    assert msr_change(1_654_909_824, msr) == 397_178_358  # 2019: 24 %
    assert msr_change(1_134_794_738, msr) == 272_350_737  # 2023
    assert msr_change(1_023_494_202, msr) == 190_494_202  # 2026: above 833 M
    assert msr_change(600_000_000, msr) == 0
    assert msr_change(399_999_999, msr) == -100_000_000
    assert load_rules("cn_national").msr is None
