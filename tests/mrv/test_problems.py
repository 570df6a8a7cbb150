"""The problem library (``mrv/problems.py``) on the worked unit of docs/mrv.md: 140,000 t of
bituminous coal at 21.000 GJ/t and 0.5460 tC/t, 277,477.20 t of CO2 (purchased electricity
left out here so that the figures are the combustion's). Each problem: what the checks flag,
what evidence a verifier finds, and the emissions clean, reported and verified."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from mrv.calculator import reported
from mrv.model import LabTest, MrvError, UnitMonth
from mrv.problems import (
    PROBLEMS,
    biased_scale,
    late_calibration,
    manipulated_stock_count,
    missing_tests,
    new_flags,
    substituted_sample,
    tampered_test,
)
from tests.mrv.conftest import UNIT, month, sample


def worked(*tests: LabTest, number: int = 3) -> UnitMonth:
    return dataclasses.replace(month(*tests, number=number), purchased_mwh=Decimal(0))


CLEAN = [worked(sample(140_000))]


def t(value: object) -> Decimal:
    assert not isinstance(value, Decimal)
    return reported(value)  # type: ignore[arg-type]


def test_a_scale_biased_3_percent_reports_269_152_88_t_and_dq13_flags_it() -> None:
    """135,800 t × 0.5460 = 74,146.80 tC; × 0.99 × 44/12 = 269,152.884 → 269,152.88 t: 8,324.32 t
    understated. The stock count still says 140,000 t: a gap of −3.00 %, beyond 2 %."""
    altered, trace = biased_scale(UNIT, CLEAN, months=[3], bias=Decimal("-0.03"))
    (fuel,) = altered[0].fuels
    assert (fuel.consumption, fuel.stock_count_t) == (Decimal("135800.00"), Decimal(140_000))
    assert (t(trace.clean_t), t(trace.reported_t), t(trace.verified_t)) == (
        Decimal("277477.20"),
        Decimal("269152.88"),
        Decimal("277477.20"),
    )
    assert t(trace.understated_t) == Decimal("8324.32")
    assert trace.flagged_by == ("DQ13",)
    (flag,) = trace.flags
    assert flag.numbers["consumption_t"] == "135800.00"
    assert flag.numbers["stock_count_t"] == "140000"
    assert flag.numbers["gap"] == "-0.0300"
    (evidence,) = trace.evidence
    assert (evidence.source, evidence.numbers["hidden_t"]) == ("stock_count", "4200.00")


def test_a_stock_count_bent_to_match_passes_dq13_and_the_survey_finds_it() -> None:
    """The same 3 % hidden, the books' stock raised to match: no flag, 4,200 t missing from
    the yard. Hide 15 % and the efficiency passes 46 % (324,000 × 3.6 / (119,000 × 21) =
    46.67 %): DQ08."""
    altered, trace = manipulated_stock_count(UNIT, CLEAN, months=[3], bias=Decimal("-0.03"))
    (fuel,) = altered[0].fuels
    assert fuel.stock_count_t == fuel.consumption == Decimal("135800.00")
    assert trace.flags == ()
    assert t(trace.reported_t) == Decimal("269152.88")
    assert t(trace.verified_t) == Decimal("277477.20")
    (evidence,) = trace.evidence
    assert (evidence.source, evidence.numbers["hidden_t"]) == ("stock_survey", "4200.00")
    _, large = manipulated_stock_count(UNIT, CLEAN, months=[3], bias=Decimal("-0.15"))
    assert large.flagged_by == ("DQ08",)
    assert large.flags[0].numbers["efficiency"] == "0.4667"


def test_a_tampered_report_date_hides_a_late_test() -> None:
    """The test came 45 days after sampling, so its carbon counts at the default (329,237.37
    t); the report shows the compliant date (277,477.20 t). No check flags the report; the
    lab's register does (DQ02 on the true record). Lowering the carbon 3 % as well (0.5460 →
    0.5296: 140,000 × 0.5296 × 0.99 × 44/12 = 269,142.72 t) stays inside DQ04's band."""
    altered, trace = tampered_test(UNIT, CLEAN, months=[3], late_days=45)
    assert altered == CLEAN
    assert trace.flags == ()
    assert (t(trace.reported_t), t(trace.verified_t)) == (
        Decimal("277477.20"),
        Decimal("329237.37"),
    )
    (evidence,) = trace.evidence
    assert (evidence.source, evidence.what) == ("lab_register", "DQ02 late_test")
    assert (evidence.numbers["reported"], evidence.numbers["days"]) == ("2025-05-15", "45")
    lowered, both = tampered_test(UNIT, CLEAN, months=[3], carbon_factor=Decimal("0.97"))
    assert lowered[0].fuels[0].tests[0].carbon == Decimal("0.5296")
    assert t(both.reported_t) == Decimal("269142.72")
    assert t(both.verified_t) == Decimal("329237.37")
    assert both.flags == ()
    with pytest.raises(MrvError):
        tampered_test(UNIT, CLEAN, months=[3], late_days=40)


def test_a_substituted_sample_is_implausibly_low_for_bituminous_coal() -> None:
    """0.0235 tC/GJ × 21.000 = 0.4935 tC/t, 10.24 % under the bituminous reference 0.02618:
    DQ04. Reported 250,796.70 t; the verifier takes the default, 329,237.37 t."""
    altered, trace = substituted_sample(UNIT, CLEAN, months=[3], carbon_per_heat=Decimal("0.0235"))
    assert altered[0].fuels[0].tests[0].carbon == Decimal("0.4935")
    assert trace.flagged_by == ("DQ04",)
    assert trace.flags[0].numbers["deviation"] == "-0.1024"
    assert (t(trace.reported_t), t(trace.verified_t)) == (
        Decimal("250796.70"),
        Decimal("329237.37"),
    )
    assert trace.evidence[0].source == "retained_sample"


def test_a_month_without_a_test_takes_the_default_and_dq14_sees_the_jump() -> None:
    """February measured (277,477.20 t), March without a test: its carbon at the default on its
    NCV, 21.500 × 0.03085 = 0.663275 tC/t, 337,076.36 t instead of 277,477.20, a rise of
    18.65 % in carbon per heat over February, which DQ14 flags."""
    clean = [worked(sample(140_000), number=2), worked(sample(140_000, ncv="21.500"))]
    altered, trace = missing_tests(UNIT, clean, months=[3])
    (fuel,) = altered[1].fuels
    assert (fuel.tests, fuel.ncv) == ((), Decimal("21.500"))
    assert trace.flagged_by == ("DQ14",)
    assert trace.flags[0].what == "carbon_per_heat_jump"
    assert trace.flags[0].numbers["change"] == "0.1865"
    assert (t(trace.clean_t), t(trace.reported_t)) == (Decimal("554954.40"), Decimal("614553.56"))
    assert trace.verified_t == trace.reported_t


def test_a_late_calibration_counts_the_coal_half_a_percent_higher() -> None:
    """140,000 × 1.005 = 140,700 t counted: 278,864.59 t, and DQ16 flags the meter."""
    altered, trace = late_calibration(UNIT, CLEAN, months=[3])
    assert trace.flagged_by == ("DQ16",)
    assert (t(trace.reported_t), t(trace.verified_t)) == (
        Decimal("278864.59"),
        Decimal("278864.59"),
    )
    assert new_flags(UNIT, altered, CLEAN) == list(trace.flags)


def test_every_problem_is_deterministic_and_never_raises_the_verified_figure_below() -> None:
    """Same parameters, same records and trace; a verifier who finds a problem never records
    less than the firm reported."""
    year = [worked(sample(140_000, ncv=f"{20 + m / 10:.3f}"), number=m) for m in range(1, 13)]
    params: dict[str, dict[str, object]] = {
        "tampered_test": {"carbon_factor": Decimal("0.98")},
        "substituted_sample": {"carbon_per_heat": Decimal("0.0240")},
        "missing_tests": {},
        "late_calibration": {},
        "biased_scale": {"bias": Decimal("-0.04")},
        "manipulated_stock_count": {"bias": Decimal("-0.04")},
    }
    assert set(params) == set(PROBLEMS)
    for name, problem in PROBLEMS.items():
        first = problem(UNIT, year, months=[4, 5], **params[name])
        assert first == problem(UNIT, year, months=[4, 5], **params[name])
        records, trace = first
        assert [r.month for r in records] == list(range(1, 13))
        assert trace.months == (4, 5)
        assert trace.verified_t >= trace.reported_t, name
        assert trace.flags or trace.evidence, name
    with pytest.raises(MrvError):
        biased_scale(UNIT, year, months=[13], bias=Decimal("-0.01"))
