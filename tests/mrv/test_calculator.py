"""The emission calculator on docs/mrv.md's worked example, number by number, and the
conservative rules: a default never lowers emissions."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrv.calculator import month_emissions, reported, year_emissions
from mrv.guidelines import guideline, guideline_for
from mrv.model import Fuel, FuelMonth, LabTest, Meter, MeterState, MrvError, Source, UnitMonth
from tests.mrv.conftest import month, sample

AG22 = guideline("AG22")


def test_measured_carbon_gives_277_477_20_t() -> None:
    """140,000 × 0.5460 = 76,440.00 tC; × 0.99 = 75,675.60; × 44/12 = 277,477.20 tCO2;
    324,000 MWh: 0.8564 t/MWh."""
    result = month_emissions(month(sample(140_000)), AG22)
    (fuel,) = result.fuels
    assert fuel.carbon_t == 76_440
    assert reported(fuel.carbon_t * fuel.oxidation) == Decimal("75675.60")
    assert reported(result.combustion_t) == Decimal("277477.20")
    assert fuel.carbon_source is Source.MEASURED
    intensity = result.intensity()
    assert intensity is not None
    assert reported(intensity, 4) == Decimal("0.8564")


def test_the_default_carbon_gives_329_237_37_t() -> None:
    """Carbon not measured: 21.000 × 0.03085 = 0.64785 tC/t; 90,699.00 tC; 89,792.01 oxidised;
    329,237.37 tCO2, 1.0162 t/MWh, +51,760.17 t (+18.65 %)."""
    result = month_emissions(month(sample(140_000, None)), AG22)
    (fuel,) = result.fuels
    assert fuel.carbon == Fraction("0.64785")
    assert fuel.carbon_t == 90_699
    assert reported(fuel.carbon_t * fuel.oxidation) == Decimal("89792.01")
    assert reported(result.combustion_t) == Decimal("329237.37")
    assert fuel.carbon_source is Source.DEFAULT
    measured = month_emissions(month(sample(140_000)), AG22).combustion_t
    assert reported(result.combustion_t - measured) == Decimal("51760.17")
    assert reported(result.combustion_t / measured - 1, 4) == Decimal("0.1865")
    # No test at all: the default on the month's NCV, the same figure.
    untested = dataclasses.replace(
        month(), fuels=(FuelMonth(Fuel.BITUMINOUS, Decimal(140_000), (), ncv=Decimal("21.000")),)
    )
    assert reported(month_emissions(untested, AG22).combustion_t) == Decimal("329237.37")


def test_one_bad_day_gives_279_325_78_t() -> None:
    """135,000 t measured at 0.5460 and 5,000 t whose test came 41 days after sampling, at the
    default 0.64785: 73,710.00 + 3,239.25 = 76,949.25 tC (0.549638 tC/t), × 0.99 × 44/12 =
    279,325.78 tCO2."""
    result = month_emissions(month(sample(135_000), sample(5_000, days=41)), AG22)
    (fuel,) = result.fuels
    assert fuel.carbon_t == Fraction("76949.25")
    assert reported(fuel.carbon, 6) == Decimal("0.549638")
    assert (fuel.carbon_source, fuel.defaulted) == (Source.CALCULATED, Fraction(5_000))
    assert reported(result.combustion_t) == Decimal("279325.78")


def test_the_2021_default_and_purchased_electricity_by_version() -> None:
    """The 2021 guideline's default 0.03356: 358,159.03 t. Purchased power: 500 MWh × 0.5703 =
    285.15 t under AG22; not accounted from 2026 (TU26)."""
    ag21 = month_emissions(month(sample(140_000, None)), guideline("AG21"))
    assert reported(ag21.combustion_t) == Decimal("358159.03")
    assert reported(month_emissions(month(sample(140_000)), AG22).electricity_t) == Decimal(
        "285.15"
    )
    assert month_emissions(month(sample(140_000)), guideline("TU26")).electricity_t == 0
    assert [guideline_for(y).guideline_id for y in (2021, 2024, 2026)] == ["AG21", "AG22", "TU26"]
    with pytest.raises(MrvError) as error:
        guideline_for(2010)
    assert error.value.code == "NO_GUIDELINE"


def test_non_compliant_tests_take_the_default() -> None:
    """An outside lab without CMA/CNAS marks, or a report missing an item, counts as not
    measured."""
    for bad in (sample(140_000, accredited_lab=False), sample(140_000, complete=False)):
        assert reported(month_emissions(month(bad), AG22).combustion_t) == Decimal("329237.37")


def test_meters_not_calibrated_count_conservatively() -> None:
    """A coal scale uncalibrated (±0.5 % required): 140,000 × 1.005 = 140,700 t counted. Out of
    spec with a 0.8 % error: × (1 + 0.003) = 140,420 t. A generation meter uncalibrated:
    324,000 × 0.995 = 322,380 MWh, emissions unchanged and intensity higher."""
    base = month(sample(140_000))
    (fuel,) = base.fuels
    scale = Meter(MeterState.UNCALIBRATED, Decimal("0.005"))
    loose = dataclasses.replace(base, fuels=(dataclasses.replace(fuel, meter=scale),))
    counted = month_emissions(loose, AG22).fuels[0]
    assert (counted.consumption, counted.consumption_source) == (
        Fraction(140_700),
        Source.CONSERVATIVE,
    )
    off = Meter(MeterState.OUT_OF_SPEC, Decimal("0.005"), Decimal("0.008"))
    spec = dataclasses.replace(base, fuels=(dataclasses.replace(fuel, meter=off),))
    assert month_emissions(spec, AG22).fuels[0].consumption == 140_420
    gen = dataclasses.replace(base, generation_meter=scale)
    result = month_emissions(gen, AG22)
    assert result.generation_mwh == 322_380
    assert result.combustion_t == month_emissions(base, AG22).combustion_t


def test_a_year_sums_its_months() -> None:
    months = [dataclasses.replace(month(sample(140_000)), month=m) for m in range(1, 13)]
    year = year_emissions(months, AG22)
    assert reported(year.combustion_t) == Decimal("277477.20") * 12
    assert year.generation_mwh == 12 * 324_000
    with pytest.raises(MrvError) as twice:
        year_emissions([months[0], months[0]], AG22)
    assert twice.value.code == "MIXED_MONTHS"


coal_tests = st.lists(
    st.tuples(
        st.integers(100, 50_000),  # tonnes the test stands for
        st.decimals("18.000", "26.000", places=3),  # NCV
        # carbon per unit heat of real coal lies below every coal default (0.03085, 0.03356)
        st.decimals("0.02400", "0.03000", places=5),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(
    tests=coal_tests,
    which=st.integers(0, 5),
    version=st.sampled_from(["AG21", "AG22", "TU26"]),
    accuracy=st.decimals("0.001", "0.02", places=3),
    error=st.decimals("0", "0.05", places=3),
)
def test_a_conservative_default_never_lowers_emissions(
    tests: list[tuple[int, Decimal, Decimal]],
    which: int,
    version: str,
    accuracy: Decimal,
    error: Decimal,
) -> None:
    """For each value the guideline replaces conservatively (a test's carbon, missing or not
    compliant; the fuel meter's calibration, missing or out of spec; the generation meter's),
    emissions after the replacement are at least those before, and the intensity too."""
    g = guideline(version)
    made = tuple(
        LabTest(
            sample(1).sampled,
            sample(1).reported,
            Decimal(t),
            ncv,
            (ncv * cc).quantize(Decimal("0.0001")),
        )
        for t, ncv, cc in tests
    )
    fuel = FuelMonth(Fuel.BITUMINOUS, sum((Decimal(t) for t, _, _ in tests), Decimal(0)), made)
    base = UnitMonth("U", 2025, 3, (fuel,), generation_mwh=Decimal(100_000))
    before = month_emissions(base, g)
    n = which % len(made)
    variants = [
        dataclasses.replace(made[n], carbon=None),  # not measured
        dataclasses.replace(made[n], reported=made[n].sampled + dt.timedelta(days=90)),
        dataclasses.replace(made[n], accredited_lab=False),
    ]

    def with_fuel(changed_fuel: FuelMonth) -> UnitMonth:
        return dataclasses.replace(base, fuels=(changed_fuel,))

    changed = [
        with_fuel(dataclasses.replace(fuel, tests=(*made[:n], v, *made[n + 1 :]))) for v in variants
    ]
    meters = [
        Meter(MeterState.UNCALIBRATED, accuracy),
        Meter(MeterState.OUT_OF_SPEC, accuracy, error),
    ]
    changed += [with_fuel(dataclasses.replace(fuel, meter=m)) for m in meters]
    changed += [dataclasses.replace(base, generation_meter=m) for m in meters]
    for after in (month_emissions(c, g) for c in changed):
        assert after.emissions_t >= before.emissions_t
        assert (after.intensity() or 0) >= (before.intensity() or 0)
