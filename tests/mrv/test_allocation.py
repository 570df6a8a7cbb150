"""From monitoring data to allocation (docs/mrv.md's illustration): the worked month treated as
a year, category I benchmark 0.7910 t/MWh, the national rule set's 80 % gap cap. With the
carbon measured the unit is short 21,193 t; with the default, its 329,237 t of verified
emissions lift the allocation to the gap cap, 263,389 t, and it is short 65,848 t: the cap
absorbs part of what the default costs."""

from __future__ import annotations

from fractions import Fraction

from mrv.calculator import month_emissions, whole_tonnes
from mrv.guidelines import guideline
from registry_sim.allocation import benchmark_allocation_t, final_allocation_t
from registry_sim.rules import load_rules
from tests.mrv.conftest import month, sample

BENCHMARK = Fraction("0.7910")


def shortfall(carbon: str | None) -> tuple[int, int, int]:
    """(verified emissions, final allocation, shortfall) in whole tonnes."""
    result = month_emissions(month(sample(140_000, carbon)), guideline("AG22"))
    verified = whole_tonnes(result.combustion_t)
    output = int(result.generation_mwh)
    benchmark = benchmark_allocation_t(output, BENCHMARK, ())
    rules = load_rules("cn_national").allocation
    final = final_allocation_t(benchmark, verified, gas_fired=False, rules=rules)
    return verified, final, verified - final


def test_measured_carbon_leaves_a_7_6_percent_gap() -> None:
    assert benchmark_allocation_t(324_000, BENCHMARK, ()) == 256_284
    assert shortfall("0.5460") == (277_477, 256_284, 21_193)


def test_the_default_is_cushioned_by_the_gap_cap() -> None:
    assert shortfall(None) == (329_237, 263_389, 65_848)
