"""Monthly MRV data behind a run's verified emissions (``exchange/sim/mrv_data.py``), on the
small ``tests/sim/scenarios/mrv_power.yaml``: 30 coal and gas generators, 2025 and 2026."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from exchange.sim.mrv_data import firm_year, unit_months
from exchange.sim.outputs import deterministic_digest, summary, write_outputs
from exchange.sim.record import RunResult
from exchange.sim.runner import simulate
from exchange.sim.scenario import LoadedScenario, load_scenario
from mrv.calculator import month_emissions, whole_tonnes, year_emissions
from mrv.checks import check_month
from mrv.guidelines import guideline_for
from mrv.model import Fuel, Source

SCENARIO = Path(__file__).parent / "scenarios" / "mrv_power.yaml"


@pytest.fixture(scope="module")
def scenario() -> LoadedScenario:
    return load_scenario(SCENARIO)


@pytest.fixture(scope="module")
def run(scenario: LoadedScenario) -> RunResult:
    return simulate(scenario, 19)


def test_same_seed_same_mrv_parquet_and_the_market_untouched(
    scenario: LoadedScenario, run: RunResult, tmp_path: Path
) -> None:
    """Two runs with one seed write the same mrv.parquet, byte for byte; another seed draws
    other months. Without ``mrv``, every other file is the same as with it: the draws are
    the generator's own."""
    write_outputs(run, tmp_path / "a")
    write_outputs(simulate(scenario, 19), tmp_path / "b")
    a = (tmp_path / "a" / "mrv.parquet").read_bytes()
    assert a == (tmp_path / "b" / "mrv.parquet").read_bytes()
    assert deterministic_digest(tmp_path / "a") == deterministic_digest(tmp_path / "b")
    write_outputs(simulate(scenario, 20), tmp_path / "c")
    assert (tmp_path / "c" / "mrv.parquet").read_bytes() != a
    spec = scenario.spec.model_copy(
        update={"mrv": scenario.spec.mrv.model_copy(update={"generate": False})}
    )
    write_outputs(simulate(dataclasses.replace(scenario, spec=spec), 19), tmp_path / "off")
    off, on = deterministic_digest(tmp_path / "off"), deterministic_digest(tmp_path / "a")
    assert set(on) - set(off) == {"mrv.parquet", "mrv.csv"}
    assert {k: v for k, v in on.items() if k in off and k != "summary.json"} == {
        k: v for k, v in off.items() if k != "summary.json"
    }


def test_each_firms_months_add_up_to_its_verified_emissions(run: RunResult, tmp_path: Path) -> None:
    """Twelve months a firm and year, their emissions by the calculator (measured carbon) in
    whole tonnes equal to what the run verified; the summary says so in two figures."""
    write_outputs(run, tmp_path)
    rows = pq.read_table(tmp_path / "mrv.parquet").to_pylist()
    assert len(rows) == 30 * 2 * 12
    records = unit_months(rows)
    verified = {(r["account_id"], r["year"]): r["verified_t"] for r in run.compliance}
    assert set(records) == set(verified)
    for (firm, year), (unit, months) in records.items():
        assert [m.month for m in months] == list(range(1, 13))
        result = year_emissions(months, guideline_for(year))
        assert whole_tonnes(result.emissions_t) == verified[firm, year], firm
        assert (unit.coal is Fuel.NATURAL_GAS) == firm.startswith("GAS")
        assert all(f.carbon_source is Source.MEASURED for m in result.months for f in m.fuels)
    assert {r["source"] for r in rows} == {"measured"}
    figures = summary(run)
    assert figures["mrv_firm_years"] == 60
    assert figures["mrv_emissions_t"] == figures["mrv_verified_t"] == sum(verified.values())
    assert figures["mrv_max_firm_gap_t"] == 0


def test_a_generated_month_passes_every_check(run: RunResult) -> None:
    """Every month of every firm, with the month before it: no flag from any rule."""
    for (_firm, year), (unit, months) in unit_months(mrv_rows_of(run)).items():
        guideline = guideline_for(year)
        previous = None
        for record in months:
            result = month_emissions(record, guideline)
            assert check_month(unit, record, result, guideline, previous=previous) == []
            previous = result


def mrv_rows_of(run: RunResult) -> list[dict[str, object]]:
    assert run.mrv is not None
    rows: list[dict[str, object]] = run.mrv.to_pylist()
    return rows


def test_the_generator_on_its_own(scenario: LoadedScenario) -> None:
    """One firm, any emissions: its months add up; the same draws give the same months."""
    firm = scenario.firms[0]
    for emissions in (1, 987_654, 12_345_678):
        unit, months = firm_year(firm, 2025, emissions, random.Random(5))
        total = year_emissions(months, guideline_for(2025)).emissions_t
        assert whole_tonnes(total) == emissions
        assert (unit, months) == firm_year(firm, 2025, emissions, random.Random(5))
