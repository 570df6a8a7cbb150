"""California-Québec's price containment (``settlement.price_control``) and its escalating
auction reserve price, on worked numbers: the 2021 tiers ($41.40, $53.20) and ceiling ($65.00)
raised by 5 % + an assumed 3 % CPI-U a year, rounded to the cent each year."""

from __future__ import annotations

from registry_sim.rules import PriceControlRules, ReserveRule, load_rules
from settlement.auction import escalated, reserve_price, scheduled_price
from settlement.price_control import (
    ceiling_allowance_t,
    ceiling_price,
    reserve_sale_held,
    tier_prices,
)

RULES = PriceControlRules(
    base_year=2021,
    tiers_fen=(4_140, 5_320),
    ceiling_fen=6_500,
    escalator_bp=500,
    inflation_bp=300,
    apcr_trigger_bp=6_000,
)
# Published auction reserve prices (USD cents); later years 5 % + 3 % assumed.
ARP = ReserveRule(
    "schedule", by_year=((2023, 2_221), (2025, 2_587)), escalator_bp=500, inflation_bp=300
)


def test_the_shipped_rule_set_states_them() -> None:
    ca = load_rules("ca_qc")
    assert ca.price_control == RULES
    assert ca.auction is not None
    assert reserve_price(ca.auction.reserve, None, 1, 2025) == 2_587
    assert reserve_price(ca.auction.reserve, None, 1, 2026) == 2_794
    assert all(load_rules(n).price_control is None for n in ("cn_national", "eu_ets"))


def test_prices_escalate_a_year_at_a_time_rounded_to_the_cent() -> None:
    # 41.40 × 1.08 = 44.712 → 44.71; × 1.08 = 48.2868 → 48.29.
    assert tier_prices(RULES, 2021) == (4_140, 5_320)
    assert tier_prices(RULES, 2022) == (4_471, 5_746)  # 53.20 × 1.08 = 57.456 → 57.46
    assert tier_prices(RULES, 2023)[0] == 4_829
    assert ceiling_price(RULES, 2022) == 7_020  # 65.00 × 1.08
    assert ceiling_price(RULES, 2020) == 6_500  # before the base year: as stated
    assert escalated(1_000, 500, 0) == 1_000
    assert escalated(1_000, 10_000, 3) == 8_000


def test_the_reserve_price_follows_its_schedule_then_escalates() -> None:
    assert reserve_price(ARP, None, 1, 2025) == 2_587
    assert reserve_price(ARP, 9_999, 1, 2023) == 2_221  # the listed price plays no part
    assert scheduled_price(ARP.by_year, 800, 2024) == 2_399  # 22.21 × 1.08 = 23.9868
    assert reserve_price(ARP, None, 1, 2026) == 2_794  # 25.87 × 1.08 = 27.9396
    assert reserve_price(ARP, None, 1, 2027) == 3_018  # 27.94 × 1.08 = 30.1752
    assert reserve_price(ARP, None, 1, 2020) == 2_221  # before the schedule: its first


def test_a_reserve_sale_needs_the_last_auction_at_60_percent_of_tier_one() -> None:
    # 2022's tier 1 is $44.71: 60 % is $26.826, so $26.83 holds a sale and $26.82 does not.
    assert reserve_sale_held(RULES, 2022, 2_683)
    assert not reserve_sale_held(RULES, 2022, 2_682)


def test_at_the_ceiling_an_entity_buys_only_what_it_lacks() -> None:
    # Obligation 100,000, holds 70,000: it may buy 30,000 of the 50,000 it asks, and
    # nothing while reserve tier units are left.
    assert ceiling_allowance_t(100_000, 70_000, 0, 50_000) == 30_000
    assert ceiling_allowance_t(100_000, 70_000, 0, 10_000) == 10_000
    assert ceiling_allowance_t(100_000, 120_000, 0, 10_000) == 0
    assert ceiling_allowance_t(100_000, 70_000, 1_000, 50_000) == 0
