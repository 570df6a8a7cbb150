"""Economic sanity: firms on linear MAC curves trade to the analytic equilibrium price, on
the book with 90 % free allocation (``equilibrium_check``) and at auction with the whole cap
auctioned (``equilibrium_auction``).

P* solves Σ_i clamp((P - intercept_i) / slope_i, 0, max_i) = Σ baseline - Σ cap,
computed here by bisection from the scenario's own firms (the curves' real-valued form,
not the agents' rounding)."""

from __future__ import annotations

import pytest

from exchange.sim.record import RunResult
from exchange.sim.runner import simulate
from exchange.sim.scenario import FirmPlan, LoadedScenario, load_scenario
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


def cap_t(scenario: LoadedScenario) -> int:
    """The cap of a fixed allocation: Σ baseline × share, free or auctioned."""
    share = scenario.spec.allocation.share_bp
    assert share is not None
    assert scenario.spec.allocation.method == "fixed"
    return sum(f.baseline_t * share // BP for f in scenario.firms)


def analytic_price_fen(scenario: LoadedScenario) -> float:
    """P* of a scenario's firms and cap, which must bind."""
    firms = list(scenario.firms)
    assert len(firms) >= 50
    shortfall = sum(f.baseline_t for f in firms) - cap_t(scenario)
    assert shortfall > 0  # the cap binds
    return equilibrium_price_fen(firms, shortfall)


@pytest.fixture(scope="module")
def free() -> RunResult:
    scenario = load_scenario("equilibrium_check")
    return simulate(scenario, seed=scenario.spec.seed)


@pytest.fixture(scope="module")
def auctioned() -> RunResult:
    scenario = load_scenario("equilibrium_auction")
    return simulate(scenario, seed=scenario.spec.seed)


def test_final_quarter_vwap_is_within_5_percent_of_the_analytic_price(free: RunResult) -> None:
    scenario = load_scenario("equilibrium_check")
    p_star = analytic_price_fen(scenario)
    start = scenario.spec.market.reference_price_fen
    assert abs(start - p_star) / p_star > 0.2  # the market starts well away from it

    result = free
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


def test_with_the_whole_cap_auctioned_the_auctions_clear_within_5_percent_of_it(
    auctioned: RunResult,
) -> None:
    """No free allocation: the cap is sold in five equal auctions, all announced on the first
    trading day, to firms bidding a curve at the marginal abatement cost each tonne spares
    them, their want spread over the auctions announced (``ComplianceFirm``, ``auction_at_belief:
    false``). Planning from the first auction on, every auction should clear at P*, so the
    measure is the volume-weighted clearing price of the whole year's auctions (each one is
    checked too). The population and the cap are equilibrium_check's, so P* is the same."""
    scenario = load_scenario("equilibrium_auction")
    twin = load_scenario("equilibrium_check")
    assert [(f.baseline_t, f.curve) for f in scenario.firms] == [
        (f.baseline_t, f.curve) for f in twin.firms
    ]
    assert cap_t(scenario) == cap_t(twin)
    assert scenario.spec.allocation.auctioned_bp == [BP]  # none of it free
    p_star = analytic_price_fen(scenario)
    assert p_star == analytic_price_fen(twin)

    result = auctioned
    rows = result.auctions
    assert len(rows) == 5
    assert all(r["status"] == "cleared" and r["unsold_t"] == 0 for r in rows), rows
    sold = sum(r["sold_t"] for r in rows)
    # The whole cap, but for the tonnes the fifths' rounding down leaves the auctioneer.
    assert 0 <= cap_t(scenario) - sold < len(rows)
    vwap = sum(r["revenue_fen"] for r in rows) / sold
    assert abs(vwap - p_star) / p_star <= 0.05, (vwap, p_star)
    for row in rows:
        assert abs(row["price_fen"] - p_star) / p_star <= 0.05, (row, p_star)
    # Nothing was given away: every firm bought what it surrendered at auction, abated the
    # rest, and complied.
    assert all(r["allocated_t"] == 0 for r in result.compliance)
    assert sum(r["cea_auctioned_t"] for r in result.compliance) == sold
    assert all(row["complied"] for row in result.compliance)


def test_auctioning_the_cap_moves_its_value_from_the_firms_to_the_authority(
    free: RunResult, auctioned: RunResult
) -> None:
    """equilibrium_check is equilibrium_auction with the cap given free (the firms, their
    agents and the cap are the same; only their starting cash differs, which binds in
    neither). The allocation method does not change the efficient outcome: the same
    abatement at about the same cost, everyone complying. It changes who pays: auctioned,
    each firm pays for every tonne it emits after abating, so its cost rises by about P* on
    each tonne it used to be given, and the authority collects that as revenue."""
    scenario = load_scenario("equilibrium_check")
    p_star = analytic_price_fen(scenario)

    def costs(result: RunResult) -> dict[str, int]:
        """Each firm's cost: abatement, allowances bought less sold (fees are 0 under
        these rules), at auction, penalties."""
        assert not any(result.trades["buy_fee_fen"])
        assert not any(result.trades["sell_fee_fen"])
        return {
            r["account_id"]: r["abatement_cost_fen"]
            + r["cea_bought_fen"]
            - r["cea_sold_fen"]
            + r["cea_auctioned_fen"]
            + r["penalty_fen"]
            for r in result.compliance
        }

    for result in (free, auctioned):
        assert all(r["complied"] for r in result.compliance)
    abated = [sum(r["abated_t"] for r in x.compliance) for x in (free, auctioned)]
    assert abs(abated[0] - abated[1]) <= len(auctioned.auctions)  # the fifths' rounding
    abatement_cost = [sum(r["abatement_cost_fen"] for r in x.compliance) for x in (free, auctioned)]
    assert abs(abatement_cost[1] - abatement_cost[0]) / abatement_cost[0] <= 0.01
    revenue = sum(a["revenue_fen"] for a in auctioned.auctions)
    assert revenue == sum(r["cea_auctioned_fen"] for r in auctioned.compliance)
    assert abs(revenue - p_star * cap_t(scenario)) / (p_star * cap_t(scenario)) <= 0.05
    given = {r["account_id"]: r["allocated_t"] for r in free.compliance}
    before, after = costs(free), costs(auctioned)
    assert abs(sum(after.values()) - sum(before.values()) - revenue) <= 0.01 * revenue
    for firm, tonnes in given.items():
        extra_per_t = (after[firm] - before[firm]) / tonnes
        assert abs(extra_per_t - p_star) / p_star <= 0.05, (firm, extra_per_t, p_star)
