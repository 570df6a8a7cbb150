"""Auctions in a simulation: a scenario's ``auctions`` issue the year's allowances to the
auctioneer and sell them in the first session of their day; compliance firms bid from their
abatement costs; the outputs record each auction and its revenue; the run is deterministic."""

from __future__ import annotations

import itertools

import pytest

from exchange.sim.outputs import summary
from exchange.sim.runner import simulate
from exchange.sim.scenario import SCENARIO_DIR, ScenarioError, parse_scenario
from exchange.sim.setup import AUCTIONEER
from settlement.auction import spread

AUCTIONS = """
auctions:
  - {day: 5, volume_t: 700000}
  - {day: 20, volume_t: 700000, reserve_fen: 4000}
  - {day: 35, volume_t: 700000, reserve_fen: 5000}
"""


def scenario() -> object:
    """equilibrium_check with 60 % free allocation and 30 % of the baseline auctioned."""
    text = (SCENARIO_DIR / "equilibrium_check.yaml").read_text(encoding="utf-8")
    text = text.replace("share_bp: 9000", "share_bp: 6000") + AUCTIONS
    return parse_scenario(text, "auctioned.yaml")


def test_firms_buy_the_auctioned_allowances_and_the_revenue_is_the_auctioneers() -> None:
    loaded = scenario()
    result = simulate(loaded, seed=3)  # type: ignore[arg-type]
    rows = result.auctions
    assert [r["trading_day"] for r in rows] == sorted(r["trading_day"] for r in rows)
    assert len(rows) == 3
    # The first reserve is the rule set's: 1.2 × the listed VWAP of the days so far, above
    # what any firm would pay (as the Shanghai auctions at 1.2 × went short): no valid bid.
    first, *sold = rows
    assert first["reserve_fen"] > 6_000
    assert (first["status"], first["reason"], first["unsold_t"]) == (
        "cancelled",
        "no_valid_bid",
        700_000,
    )
    assert [r["reserve_fen"] for r in sold] == [4_000, 5_000]
    for row in sold:
        assert row["status"] == "cleared", row
        assert row["sold_t"] + row["unsold_t"] == row["volume_t"] == 700_000
        assert row["bidders"] > 1
        assert row["price_fen"] >= row["reserve_fen"]
        assert row["revenue_fen"] == row["sold_t"] * row["price_fen"]
    facts = summary(result)
    assert facts["auctions"] == 3
    assert facts["auctioned_t"] == sum(r["sold_t"] for r in rows)
    revenue = sum(r["revenue_fen"] for r in rows)
    assert facts["auction_revenue_fen"] == revenue
    held = {
        (h["asset"], h["state"]): h["amount"]
        for h in result.holdings
        if h["account_id"] == AUCTIONEER
    }
    assert held[("CNY", "available")] == revenue
    unsold = sum(r["unsold_t"] for r in rows)
    assert held.get(("CEA2026", "available"), 0) == unsold
    assert [e["kind"] for e in result.events].count("auction") == 3
    again = simulate(scenario(), seed=3)  # type: ignore[arg-type]
    assert again.auctions == rows
    assert again.state_hash == result.state_hash


def test_an_auctioned_share_of_the_cap_is_withheld_from_free_allocation_and_sold() -> None:
    """``auctioned_bp: [5000]``: half of each firm's fixed allocation (90 % of its baseline) is
    withheld and sold in two auctions of half of it each."""
    text = (SCENARIO_DIR / "equilibrium_check.yaml").read_text(encoding="utf-8")
    text = text.replace("share_bp: 9000", "share_bp: 9000\n  auctioned_bp: [5000]")
    text += "auctions:\n  - {day: 10, share_bp: 5000, reserve_fen: 3000}\n"
    text += "  - {day: 30, share_bp: 5000, reserve_fen: 3000}\n"
    loaded = parse_scenario(text, "half.yaml")
    result = simulate(loaded, seed=5)
    caps = {f.account_id: f.baseline_in(0) * 9_000 // 10_000 for f in loaded.firms}
    withheld = sum(cap * 5_000 // 10_000 for cap in caps.values())
    for row in result.compliance:
        cap = caps[row["account_id"]]
        assert row["allocated_t"] == cap - cap * 5_000 // 10_000
    assert [r["volume_t"] for r in result.auctions] == [withheld // 2, withheld // 2]
    assert all(r["status"] == "cleared" for r in result.auctions)


def test_eu_rules_spread_a_cancelled_auction_over_the_next_four() -> None:
    """Under the EU's rules an auction whose bids fall short is cancelled and its volume goes
    in equal parts to the next four auctions (Reg. 1031/2010 Art. 7(5)-(7)): 50,000,000
    allowances that nobody can pay for come back as 12,500,000 more in each."""
    text = (SCENARIO_DIR / "equilibrium_check.yaml").read_text(encoding="utf-8")
    text = text.replace("name: cn_national", "name: eu_ets")
    text += "auctions:\n  - {day: 5, volume_t: 50000000, reserve_fen: 3000}\n"
    text += "".join(
        f"  - {{day: {d}, volume_t: 1000, reserve_fen: 3000}}\n" for d in (10, 20, 30, 40, 50)
    )
    result = simulate(parse_scenario(text, "eu.yaml"), seed=2)
    rows = result.auctions
    assert (rows[0]["status"], rows[0]["reason"]) == ("cancelled", "undersubscribed")
    assert rows[1]["volume_t"] == 12_501_000  # its own 1,000 and a quarter of 50,000,000
    # Each later auction offers its own 1,000 and its part of every earlier auction's unsold
    # volume, that auction's spread over the four after it (in lots of 500, the odd lots to
    # the earliest): unsold again, it is spread again.
    owed: list[int] = []
    for before, row in itertools.pairwise(rows):
        parts = spread(before["unsold_t"], 4, 500)
        owed = [a + b for a, b in zip(owed + [0] * 4, parts + [0] * len(owed), strict=False)]
        assert row["volume_t"] == 1_000 + owed.pop(0)


def test_the_market_stability_reserve_cuts_next_years_auctions() -> None:
    """EU rules with the reserve's thresholds scaled down to this small market (intake above
    2 allowances in circulation, 24 % of them), 110 % of emissions allocated so that some is
    banked: at the first year's end the reserve takes 24 % of what the holders keep from the
    second year's two auctions, half from each."""
    text = (SCENARIO_DIR / "equilibrium_check.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "  name: cn_national",
        "  name: eu_ets\n  overrides:\n    msr: {upper_t: 2, lower_t: 1, release_below_t: 0}",
    )
    text = text.replace("  years: 1", "  years: 2")
    text = text.replace("share_bp: 9000", "share_bp: 11000")  # a long market: some is banked
    text += "auctions:\n  - {day: 10, volume_t: 100000, reserve_fen: 3000}\n"
    text += "  - {day: 30, volume_t: 100000, reserve_fen: 3000}\n"
    result = simulate(parse_scenario(text, "msr.yaml"), seed=4)
    first, second = result.msr
    assert first["tnac_t"] > 0
    assert first["change_t"] == (first["tnac_t"] * 2_400 + 5_000) // 10_000
    cut = min(first["change_t"], 200_000)
    year2 = [r for r in result.auctions if r["year"] == 2027]
    half = cut * 100_000 // 200_000 // 500 * 500
    rest = cut - half  # the last auction's part, in whole lots
    carried = spread(year2[0]["unsold_t"], 4, 500)[0]  # the first one's unsold, re-offered
    assert [r["volume_t"] for r in year2] == [100_000 - half, 100_000 - rest + rest % 500 + carried]
    assert second["held_t"] == first["change_t"] + second["change_t"]
    assert [e["kind"] for e in result.events].count("msr") == 2


def test_a_notice_is_published_on_a_trading_day_of_the_year() -> None:
    """``notice_days`` ahead of ``day``: at the latest on the year's first trading day."""
    text = (SCENARIO_DIR / "equilibrium_check.yaml").read_text(encoding="utf-8")
    good = text + "auctions:\n  - {day: 5, volume_t: 1000, reserve_fen: 3000, notice_days: 4}\n"
    assert parse_scenario(good, "ahead.yaml").spec.auctions[0].notice_days == 4
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(good.replace("notice_days: 4", "notice_days: 5"), "early.yaml")
    assert caught.value.problems == [
        "auctions[0]: notice_days: the notice is published on trading day 5 - 5 of the year, "
        "which must be 1 or later"
    ]
