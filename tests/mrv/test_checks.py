"""One test per data-quality rule (``mrv/checks.toml``): the worked month passes every check;
each rule's flag comes with its id, severity, whether its threshold is official, and its
numbers."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from mrv.calculator import month_emissions
from mrv.checks import Flag, check_month, deposit_due, rules
from mrv.guidelines import guideline
from mrv.model import Fuel, FuelMonth, LabTest, Meter, MeterState, Unit, UnitKind, UnitMonth
from tests.mrv.conftest import UNIT, month, sample

AG22 = guideline("AG22")


def flags(
    record: UnitMonth,
    *,
    unit: Unit = UNIT,
    previous: UnitMonth | None = None,
    deposited_on: dt.date | None = None,
) -> list[Flag]:
    result = month_emissions(record, AG22)
    last = None if previous is None else month_emissions(previous, AG22)
    return check_month(unit, record, result, AG22, previous=last, deposited_on=deposited_on)


def only(found: list[Flag], rule_id: str) -> Flag:
    assert [f.rule_id for f in found] == [rule_id], found
    return found[0]


def test_the_worked_month_passes_every_check() -> None:
    """Efficiency 324,000 × 3.6 / 2,940,000 GJ = 39.67 % < 46 %; coal rate 2,940,000 /
    29.3076 / 324,000 = 309.6 gce/kWh; carbon per heat 0.02600 against 0.02618 (-0.7 %)."""
    assert flags(month(sample(140_000)), deposited_on=dt.date(2025, 5, 10)) == []
    assert sorted(rules()) == [f"DQ{n:02}" for n in (1, 2, 4, 8, 9, 11, 12, 13, 14, 16, 18)]


def test_dq01_a_deposit_after_day_40_is_late() -> None:
    assert deposit_due(2025, 1) == dt.date(2025, 3, 12)  # January: 12 March
    assert deposit_due(2025, 12) == dt.date(2026, 2, 9)  # December: 9 February
    flag = only(flags(month(sample(140_000)), deposited_on=dt.date(2025, 5, 13)), "DQ01")
    assert (flag.severity, flag.official, flag.what) == ("warning", True, "late")
    assert flag.numbers["due"] == "2025-05-10"
    assert flag.numbers["days_late"] == "3"


def test_dq02_a_test_late_unaccredited_or_incomplete() -> None:
    late = only(flags(month(sample(140_000, days=41))), "DQ02")
    assert (late.what, late.numbers["days"], late.numbers["within_days"]) == (
        "late_test",
        "41",
        "40",
    )
    assert late.severity == "error"
    assert (
        only(flags(month(sample(140_000, accredited_lab=False))), "DQ02").what == "no_accreditation"
    )
    assert only(flags(month(sample(140_000, complete=False))), "DQ02").what == "incomplete_report"


def test_dq04_carbon_per_heat_far_from_the_coal_type() -> None:
    """0.5900 / 21.000 = 0.02810 tC/GJ, 7.3 % over bituminous 0.02618 (a design band of 5 %)."""
    flag = only(flags(month(sample(140_000, "0.5900"))), "DQ04")
    assert not flag.official
    assert flag.numbers["carbon_per_heat"] == "0.02810"
    assert flag.numbers["deviation"] == "0.0732"
    assert flags(month(sample(140_000, "0.5700"))) == []  # 0.02714: 3.7 % over


def test_dq08_efficiency_beyond_what_a_plant_can_do() -> None:
    """380,000 MWh × 3.6 / 2,940,000 GJ = 46.53 %: at or above 46 % is impossible."""
    record = dataclasses.replace(month(sample(140_000)), generation_mwh=Decimal(380_000))
    found = [f for f in flags(record) if f.rule_id == "DQ08"]
    assert [f.numbers["efficiency"] for f in found] == ["0.4653"]
    chp = dataclasses.replace(UNIT, kind=UnitKind.CHP)
    heat = dataclasses.replace(record, heat_gj=Decimal(1_600_000))
    assert [f.what for f in flags(heat, unit=chp) if f.rule_id == "DQ08"] == ["efficiency"]


def test_dq09_a_coal_rate_above_400_gce_per_kwh() -> None:
    """2,940,000 GJ / 29.3076 / 240,000 MWh = 418.0 gce/kWh."""
    record = dataclasses.replace(
        month(sample(140_000)), generation_mwh=Decimal(240_000), load_factor=None
    )
    flag = only(flags(record), "DQ09")
    assert flag.numbers["gce_per_kwh"] == "418.0"


def test_dq11_hours_load_and_generation() -> None:
    base = month(sample(140_000))
    hours = dataclasses.replace(base, run_hours=Decimal(745), load_factor=None)
    assert only(flags(hours), "DQ11").what == "hours"  # March has 744 hours
    over = dataclasses.replace(base, load_factor=Decimal("1.2"))
    assert only(flags(over), "DQ11").what == "load_factor"
    # 600 MW × 720 h × 0.80 = 345,600 MWh expected against 324,000 reported: -6.25 %.
    gap = only(flags(dataclasses.replace(base, load_factor=Decimal("0.80"))), "DQ11")
    assert (gap.what, gap.numbers["expected_mwh"], gap.numbers["gap"]) == (
        "generation",
        "345600.00",
        "-0.0625",
    )


def test_dq12_grid_sales_against_generation() -> None:
    base = month(sample(140_000))
    assert flags(dataclasses.replace(base, grid_mwh=Decimal(304_560))) == []  # 6 % own use
    high = only(flags(dataclasses.replace(base, grid_mwh=Decimal(330_000))), "DQ12")
    assert high.what == "grid_above_generation"
    low = only(flags(dataclasses.replace(base, grid_mwh=Decimal(320_760))), "DQ12")
    assert (low.what, low.numbers["station_use"]) == ("station_use", "0.0100")


def test_dq13_the_belt_scale_against_the_stock_count() -> None:
    """The belt scale weighed 135,800 t; the stock count (receipts − outbound − Δstock) says
    140,000 t: 3.00 % under, beyond the 2 % design band. 137,500 t (−1.79 %) passes."""
    base = month(sample(140_000))

    def weighed(belt: int, stock: int | None) -> UnitMonth:
        (fuel,) = base.fuels
        counted = None if stock is None else Decimal(stock)
        fuel = dataclasses.replace(fuel, consumption=Decimal(belt), stock_count_t=counted)
        return dataclasses.replace(base, fuels=(fuel,))

    flag = only(flags(weighed(135_800, 140_000)), "DQ13")
    assert (flag.severity, flag.official, flag.what) == ("warning", False, "stock_count")
    assert flag.numbers["consumption_t"] == "135800"
    assert flag.numbers["stock_count_t"] == "140000"
    assert flag.numbers["gap"] == "-0.0300"
    assert flag.numbers["max_gap"] == "0.0200"
    assert [f for f in flags(weighed(137_500, 140_000)) if f.rule_id == "DQ13"] == []
    assert [f for f in flags(weighed(135_800, None)) if f.rule_id == "DQ13"] == []


def test_dq14_month_to_month_jumps_and_repeats() -> None:
    before = month(sample(140_000, "0.5200", ncv="19.000"), number=2)
    jump = flags(month(sample(140_000)), previous=before)
    assert [(f.rule_id, f.what) for f in jump] == [("DQ14", "ncv_jump")]
    assert jump[0].numbers["change"] == "0.1053"  # 21/19 - 1
    same = flags(month(sample(140_000)), previous=month(sample(140_000), number=2))
    assert [(f.rule_id, f.what) for f in same] == [("DQ14", "ncv_repeated")]


def test_dq16_meters_not_calibrated() -> None:
    base = month(sample(140_000))
    meter = Meter(MeterState.UNCALIBRATED, Decimal("0.005"))
    record = dataclasses.replace(base, generation_meter=meter)
    flag = only(flags(record), "DQ16")
    assert (flag.what, flag.numbers["meter"]) == ("uncalibrated", "generation")


def test_dq18_gas_outside_its_ranges() -> None:
    """Gas at 400.0 GJ/10^4 Nm3 (above 398.3) and 5.00 tC/10^4 Nm3."""
    when = dt.date(2025, 3, 31)
    gas = LabTest(when, when, Decimal(1_000), Decimal("400.0"), Decimal("5.00"))
    record = UnitMonth(
        "G1", 2025, 3, (FuelMonth(Fuel.NATURAL_GAS, Decimal(1_000), (gas,)),), Decimal(20_000)
    )
    gas_unit = dataclasses.replace(UNIT, coal=Fuel.NATURAL_GAS)
    flag = only(flags(record, unit=gas_unit), "DQ18")
    assert (flag.what, flag.numbers["value"]) == ("ncv_range", "400.0000")
    assert flag.numbers["high"] == "398.3000"
