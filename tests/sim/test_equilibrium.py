"""Economic sanity: firms on linear MAC curves trade to the analytic equilibrium price.

P* solves Σ_i clamp((P - intercept_i) / slope_i, 0, max_i) = Σ baseline - Σ allocation,
computed here by bisection from the scenario's own firms (the curves' real-valued form,
not the agents' rounding)."""

from __future__ import annotations

from exchange.sim.runner import simulate
from exchange.sim.scenario import FirmPlan, load_scenario
from registry_sim.rules import BP


def abatement_t(firm: FirmPlan, price_fen: float) -> float:
    curve = firm.curve
    return min(curve.max_t, max(0.0, (price_fen - curve.intercept_fen) / curve.slope_fen_per_t))


def equilibrium_price_fen(firms: list[FirmPlan], shortfall_t: int) -> float:
    low, high = 0.0, 1e7
    for _ in range(200):
        mid = (low + high) / 2
        if sum(abatement_t(f, mid) for f in firms) < shortfall_t:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def test_final_quarter_vwap_is_within_5_percent_of_the_analytic_price() -> None:
    scenario = load_scenario("equilibrium_check")
    firms = list(scenario.firms)
    assert len(firms) >= 50
    share = scenario.spec.allocation.share_bp
    assert share is not None
    assert scenario.spec.allocation.method == "fixed"
    shortfall = sum(f.baseline_t - f.baseline_t * share // BP for f in firms)
    assert shortfall > 0  # the cap binds
    p_star = equilibrium_price_fen(firms, shortfall)
    start = scenario.spec.market.reference_price_fen
    assert abs(start - p_star) / p_star > 0.2  # the market starts well away from it

    result = simulate(scenario, seed=scenario.spec.seed)
    days = sorted(set(result.trades["trading_day"]) | {r["trading_day"] for r in result.ohlcv})
    final_quarter = set(days[-(len(days) // 4) :])
    volume = turnover = 0
    for day, price, qty in zip(
        result.trades["trading_day"],
        result.trades["price_fen"],
        result.trades["qty_t"],
        strict=True,
    ):
        if day in final_quarter:
            volume += qty
            turnover += price * qty
    assert volume > 0
    vwap = turnover / volume
    assert abs(vwap - p_star) / p_star <= 0.05, (vwap, p_star)
    # Every firm complied, and abatement covered the shortfall.
    assert all(row["complied"] for row in result.compliance)
