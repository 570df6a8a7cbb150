"""Allocation arithmetic (配额分配), exact: fractions in, whole tonnes rounded down out.

docs/rules.md, national: allowances = output × benchmark × adjustment factors, trued up after the
year; pre-allocation is a share of the previous year's verified emissions; an allocation below
the gap cap share of verified emissions is raised to it; gas-fired units are topped up to their
verified emissions; steel, cement and aluminium get emissions × (1 + α).
"""

from __future__ import annotations

from fractions import Fraction
from math import floor

from registry_sim.rules import BP, AllocationRules


def pre_allocation_t(previous_verified_t: int, rules: AllocationRules) -> int:
    return previous_verified_t * rules.pre_allocation_share_bp // BP


def benchmark_allocation_t(output: int, benchmark: Fraction, factors: tuple[Fraction, ...]) -> int:
    amount = Fraction(output) * benchmark
    for factor in factors:
        amount *= factor
    return floor(amount)


def final_allocation_t(
    benchmark_t: int, verified_t: int, *, gas_fired: bool, rules: AllocationRules
) -> int:
    """The benchmark allocation after the gas-fired top-up and the gap cap."""
    final = benchmark_t
    if gas_fired and rules.gas_fired_top_up:
        final = max(final, verified_t)
    return max(final, verified_t * rules.gap_cap_bp // BP)


def intensity_allocation_t(verified_t: int, alpha_bp: int) -> int:
    return verified_t * (BP + alpha_bp) // BP
