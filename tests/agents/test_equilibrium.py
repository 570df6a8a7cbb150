"""Economic sanity: compliance firms on linear marginal abatement cost curves, trading
through the real market, settle at the competitive equilibrium price.

The equilibrium P* is computed by hand from the firms' curves: the price at which the
tonnes worth cutting, Σ abatement_at(P*), equal the cap's shortfall Σ baseline - Σ
allocation. The market starts 35 % above or below it; daily price bands apply (±10 % of the
previous close, rule set cn_national), so the price must walk there over several days.
"""

from __future__ import annotations

import random

import pytest

from exchange.agents.base import AbatementCurve, Agent, Firm
from exchange.agents.firm import ComplianceFirm
from tests.agents.harness import CEA, Harness

FIRMS = 60
DAYS = 60
START = 0.35  # how far from P* the first reference price lies


def make_firms(seed: int) -> list[tuple[Firm, int]]:
    """Firms of different sizes and costs, most of them short: (profile, allocation)."""
    rng = random.Random(seed)
    firms = []
    for i in range(FIRMS):
        baseline = rng.randint(50_000, 200_000)
        slope = rng.uniform(0.3, 1.5) * 10_000 / (0.2 * baseline)
        curve = AbatementCurve(rng.randint(0, 2_000), slope, baseline // 2)
        name = f"F{i:03d}"
        allocation = int(baseline * rng.uniform(0.82, 1.02))
        firms.append((Firm(name, "power", "Hubei", False, 1, baseline, curve), allocation))
    return firms


def equilibrium_price_fen(firms: list[tuple[Firm, int]]) -> int:
    """The lowest price at which total abatement covers the shortfall (bisection)."""
    shortfall = sum(f.baseline_t - allocation for f, allocation in firms)
    low, high = 0, 10**7
    while low < high:
        mid = (low + high) // 2
        if sum(f.curve.abatement_at(mid) for f, _ in firms) >= shortfall:
            high = mid
        else:
            low = mid + 1
    return low


def run_market(
    seed: int, start_ratio: float
) -> tuple[Harness, list[tuple[Agent, random.Random]], int]:
    firms = make_firms(seed)
    p_star = equilibrium_price_fen(firms)
    h = Harness(instruments=((CEA, int(p_star * start_ratio)),))
    agents: list[tuple[Agent, random.Random]] = []
    for i, (firm, allocation) in enumerate(firms):
        h.account(firm.account_id)
        h.deposit(firm.account_id, firm.baseline_t * p_star * 3)
        h.issue(firm.account_id, allocation)
        agents.append((ComplianceFirm(firm.account_id, firm), random.Random(seed * 1_000 + i)))
    h.run(agents, DAYS)
    return h, agents, p_star


def vwap(trades: list[tuple[int, str, int, int]]) -> float:
    volume = sum(q for *_, q in trades)
    assert volume > 0, "no trades"
    return sum(p * q for _, _, p, q in trades) / volume


@pytest.mark.parametrize("seed", [11, 22, 33])
@pytest.mark.parametrize("start_ratio", [1 + START, 1 - START], ids=["from_above", "from_below"])
def test_price_settles_at_the_analytic_equilibrium(seed: int, start_ratio: float) -> None:
    h, _, p_star = run_market(seed, start_ratio)
    assert not h.refusals, h.refusals
    first_day = vwap([t for t in h.trades if t[0] == 0])
    if start_ratio > 1:
        assert first_day > p_star * 1.15  # it really starts above and walks down
    else:
        assert first_day < p_star * 0.85
    final_quarter = [t for t in h.trades if t[0] >= DAYS - DAYS // 4]
    assert len(final_quarter) >= 10
    error = vwap(final_quarter) / p_star - 1
    assert abs(error) <= 0.05, f"final-quarter VWAP off P*={p_star} by {error:+.2%}"


def test_firms_comply_and_share_the_abatement_efficiently() -> None:
    """At year end every firm covers its emissions, and total abatement cost is close to the
    least possible (each firm cutting what is worth cutting at P*)."""
    seed = 11
    h, agents, p_star = run_market(seed, 1 + START)
    firms = {f.account_id: (f, allocation) for f, allocation in make_firms(seed)}
    records = h.year_end(agents, {name: f.baseline_t for name, (f, _) in firms.items()})
    assert all(r.shortfall_t == 0 for r in records.values())
    assert all(r.offsets_t == 0 for r in records.values())
    shortfall = sum(f.baseline_t - a for f, a in firms.values())
    abated = sum(h.abated.values())
    assert shortfall <= abated <= shortfall * 1.02  # nobody cuts much more than needed
    cost = sum(firms[n][0].curve.cost_fen(t) for n, t in h.abated.items())
    least = sum(f.curve.cost_fen(f.curve.abatement_at(p_star)) for f, _ in firms.values())
    assert cost <= least * 1.05
