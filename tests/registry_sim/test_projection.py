"""The compliance projection (registry_sim.projection): the penalty, the window's price, and
what the projection says against what the registry then does."""

from __future__ import annotations

import datetime as dt

import pytest

from registry_sim import load_rules, penalty_fen, window_price_fen
from registry_sim.model import AccountId
from registry_sim.ops import Assess, Surrender
from tests.registry_sim.conftest import HB_SOLAR, ON_2025, Reg, cea_code

E2 = AccountId("E2")
CEA24 = cea_code(2024)


def test_a_price_multiple_needs_a_price_and_a_fixed_penalty_does_not() -> None:
    national = load_rules("cn_national").penalty
    assert penalty_fen(national, 300, 8_000) == national.multiplier * 8_000 * 300
    assert penalty_fen(national, 300, None) is None
    eu = load_rules("eu_ets").penalty
    assert penalty_fen(eu, 300, None) == eu.fixed_fen_per_t * 300
    assert penalty_fen(national, 0, 8_000) == 0


@pytest.mark.parametrize(
    ("window", "price"),
    [
        ([], None),
        ([(0, 0), (0, 0)], None),
        ([(10_000, 10_000 * 8_000), (30_000, 30_000 * 8_400)], 8_300),
        ([(3, 1_000)], 333),  # 333.33 rounds down
        ([(2, 1_001)], 501),  # 500.5 rounds half up
        ([(1, 0)], 1),  # never below a fen
    ],
)
def test_the_window_price_is_volume_weighted_and_rounded_half_up(
    window: list[tuple[int, int]], price: int | None
) -> None:
    assert window_price_fen(window) == price


def test_the_projection_covers_what_holdings_can_and_prices_the_rest(cn: Reg) -> None:
    cn.issue(E2, 2024, 700)
    cn.emissions(E2, 2024, 1_000)
    projected = cn.registry.compliance_projection(E2, 2024, ON_2025, 9_000)
    assert (projected.remaining_t, projected.plan, projected.shortfall_t) == (
        1_000,
        ((CEA24, 700),),
        300,
    )
    assert projected.projected_penalty_fen == penalty_fen(cn.registry.rules.penalty, 300, 9_000)
    status = cn.registry.compliance_status(E2, 2024, 9_000, on=ON_2025)
    assert (status.remaining_t, status.coverable_t, status.shortfall_t) == (1_000, 700, 300)


def test_the_projection_foretells_the_assessment(cn: Reg) -> None:
    """Surrender the plan, assess at the deadline at the same price: the record is the
    projection's shortfall and penalty."""
    cn.issue(E2, 2024, 650)
    cn.issue(E2, 2025, 400)  # a later vintage: cannot cover 2024
    cn.emissions(E2, 2024, 1_000)
    projected = cn.registry.compliance_projection(E2, 2024, ON_2025, 7_000)
    cn.ok(Surrender(cn.next_id(), E2, 2024, projected.plan, ON_2025))
    after = cn.registry.compliance_projection(E2, 2024, ON_2025, 7_000)
    assert (after.remaining_t, after.plan, after.shortfall_t) == (350, (), 350)
    deadline = cn.registry.rules.compliance.deadline(2024)
    record = cn.ok(Assess(cn.next_id(), E2, 2024, 7_000, deadline)).details["record"]
    assert (record.shortfall_t, record.penalty_fen) == (
        projected.shortfall_t,
        projected.projected_penalty_fen,
    )
    assessed = cn.registry.compliance_projection(
        E2, 2024, ON_2025, 1
    )  # the record's numbers, not the price
    assert assessed.assessed == record
    assert (assessed.shortfall_t, assessed.projected_penalty_fen) == (350, record.penalty_fen)


def test_after_the_deadline_nothing_more_counts(cn: Reg) -> None:
    cn.issue(E2, 2024, 1_000)
    cn.emissions(E2, 2024, 1_000)
    late = cn.registry.rules.compliance.deadline(2024) + dt.timedelta(days=1)
    assert cn.registry.compliance_projection(E2, 2024, ON_2025).shortfall_t == 0
    assert cn.registry.compliance_projection(E2, 2024, late).shortfall_t == 1_000


def test_before_verification_an_expected_obligation_stands_in(cn: Reg) -> None:
    cn.issue(E2, 2024, 600)
    unknown = cn.registry.compliance_projection(E2, 2024, ON_2025, 8_000)
    assert (unknown.obligation_t, unknown.shortfall_t, unknown.projected_penalty_fen) == (
        None,
        None,
        None,
    )
    expected = cn.registry.compliance_projection(
        E2, 2024, ON_2025, 8_000, expected_obligation_t=1_000
    )
    assert (expected.verified, expected.obligation_t, expected.shortfall_t) == (False, 1_000, 400)
    # the offset cap's basis is the obligation: the expected one gives it
    rules = cn.registry.rules.compliance
    assert expected.offset_cap_t == 1_000 * rules.offset_cap_bp // 10_000
    status = cn.registry.compliance_status(E2, 2024, 8_000, on=ON_2025)
    assert status.obligation_t is None  # the status shows only verified emissions


def test_usable_units_are_what_a_surrender_could_use_however_much_is_owed(cn: Reg) -> None:
    """The plan for an unbounded obligation: eligible vintages and offsets within the cap of
    the obligation given, not capped at what is owed (a class's long or short position)."""
    cn.issue(E2, 2024, 700)
    cn.issue(E2, 2025, 400)  # a later vintage: no borrowing for 2024
    cn.offsets(E2, HB_SOLAR, 2024, 100)
    cap_bp = cn.registry.rules.compliance.offset_cap_bp
    for obligation in (500, 1_000):
        cap = obligation * cap_bp // 10_000  # national: 5 % of what is owed
        assert cn.registry.usable_t(E2, 2024, ON_2025, obligation) == 700 + cap
    assert cn.registry.usable_t(E2, 2024, ON_2025, None) == 700  # no cap basis: no offsets
    cn.emissions(E2, 2024, 300)  # the verified emissions are the cap's basis from now on
    assert cn.registry.usable_t(E2, 2024, ON_2025, 1_000) == 700 + 300 * cap_bp // 10_000
    cn.surrender(E2, 2024, [(CEA24, 200)])
    assert cn.registry.usable_t(E2, 2024, ON_2025, 300) == 500 + 300 * cap_bp // 10_000
    late = cn.registry.rules.compliance.deadline(2024) + dt.timedelta(days=1)
    assert cn.registry.usable_t(E2, 2024, late, 300) == 0
