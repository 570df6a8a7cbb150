"""Data-quality checks on a unit-month (``checks.toml``): each flag names its rule's stable id,
its severity, whether the threshold is official or carbonx's design default, and the numbers
behind it, so a trainee can see why and a verifier where to look."""

from __future__ import annotations

import calendar
import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cache
from importlib import resources

from mrv.calculator import MonthResult, compliant, reported
from mrv.guidelines import Guideline, coal_reference
from mrv.model import Fuel, MeterState, Unit, UnitKind, UnitMonth


@dataclass(frozen=True, slots=True)
class Rule:
    rule_id: str
    title: Mapping[str, str]
    severity: str  # "error" or "warning"
    official: bool
    limits: Mapping[str, Decimal]


@dataclass(frozen=True, slots=True)
class Flag:
    rule_id: str
    severity: str
    official: bool
    what: str  # a short stable reason within the rule
    numbers: Mapping[str, str]  # the figures behind it, as reported


@cache
def rules() -> dict[str, Rule]:
    text = resources.files(__package__).joinpath("checks.toml").read_text(encoding="utf-8")
    found = {}
    for rule_id, v in tomllib.loads(text).items():
        limits = {
            k: Decimal(x)
            for k, x in v.items()
            if k not in ("title", "severity", "official") and isinstance(x, str)
        }
        found[rule_id] = Rule(rule_id, v["title"], v["severity"], v["official"], limits)
    return found


def deposit_due(year: int, month: int) -> dt.date:
    """A month's data are deposited within ``days_after_month`` days after its last day."""
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    return last + dt.timedelta(days=int(rules()["DQ01"].limits["days_after_month"]))


def check_month(
    unit: Unit,
    record: UnitMonth,
    result: MonthResult,
    guideline: Guideline,
    *,
    previous: MonthResult | None = None,
    deposited_on: dt.date | None = None,
) -> list[Flag]:
    """Every flag the checks raise on one unit-month, in rule order."""
    flags: list[Flag] = []
    if deposited_on is not None:
        flags += _dq01(record, deposited_on)
    flags += _dq02(record, guideline)
    flags += _dq04(unit, record)
    flags += _dq08(unit, result)
    flags += _dq09(result)
    flags += _dq11(unit, record)
    flags += _dq12(record)
    flags += _dq13(record)
    if previous is not None:
        flags += _dq14(result, previous)
    flags += _dq16(record)
    flags += _dq18(result)
    return flags


def _flag(rule_id: str, what: str, **numbers: object) -> Flag:
    rule = rules()[rule_id]
    shown = {k: str(reported(v, 4) if isinstance(v, Fraction) else v) for k, v in numbers.items()}
    return Flag(rule_id, rule.severity, rule.official, what, shown)


def _limit(rule_id: str, name: str) -> Fraction:
    return Fraction(rules()[rule_id].limits[name])


def _dq01(record: UnitMonth, deposited_on: dt.date) -> list[Flag]:
    due = deposit_due(record.year, record.month)
    if deposited_on <= due:
        return []
    late = (deposited_on - due).days
    return [_flag("DQ01", "late", due=due.isoformat(), deposited=deposited_on, days_late=late)]


def _dq02(record: UnitMonth, guideline: Guideline) -> list[Flag]:
    flags = []
    for fuel in record.fuels:
        for test in fuel.tests:
            if compliant(test, guideline) or test.carbon is None:
                continue
            days = (test.reported - test.sampled).days
            if days > guideline.test_within_days:
                what = "late_test"
            elif not test.accredited_lab:
                what = "no_accreditation"
            else:
                what = "incomplete_report"
            flags.append(
                _flag(
                    "DQ02",
                    what,
                    sampled=test.sampled,
                    reported=test.reported,
                    days=days,
                    within_days=guideline.test_within_days,
                    fuel_t=test.fuel_t,
                )
            )
    return flags


def _dq04(unit: Unit, record: UnitMonth) -> list[Flag]:
    reference = coal_reference().get(unit.coal)
    if reference is None:
        return []
    band = _limit("DQ04", "max_deviation")
    flags = []
    for fuel in record.fuels:
        if fuel.fuel is Fuel.NATURAL_GAS:
            continue
        for test in fuel.tests:
            if test.carbon is None:
                continue
            per_heat = Fraction(test.carbon) / Fraction(test.ncv)
            deviation = per_heat / Fraction(reference) - 1
            if abs(deviation) > band:
                flags.append(
                    _flag(
                        "DQ04",
                        "carbon_per_heat",
                        sampled=test.sampled,
                        carbon_per_heat=reported(per_heat, 5),
                        reference=reference,
                        coal=unit.coal.value,
                        deviation=deviation,
                    )
                )
    return flags


def _dq08(unit: Unit, result: MonthResult) -> list[Flag]:
    heat_in = result.fuel_heat_gj
    if not heat_in:
        return []
    out = result.generation_mwh * Fraction(36, 10)
    if unit.kind is UnitKind.CHP:
        out += result.heat_gj
        bound = _limit("DQ08", "chp_max")
    else:
        bound = _limit("DQ08", "condensing_max")
    efficiency = out / heat_in
    if efficiency < bound:
        return []
    return [_flag("DQ08", "efficiency", efficiency=efficiency, bound=bound, kind=unit.kind.value)]


def _dq09(result: MonthResult) -> list[Flag]:
    if not result.generation_mwh or any(f.fuel == Fuel.NATURAL_GAS for f in result.fuels):
        return []
    tce = result.fuel_heat_gj / _limit("DQ09", "gj_per_tce")
    rate = tce * 1_000_000 / (result.generation_mwh * 1_000)  # gce per kWh
    bound = _limit("DQ09", "max_gce_per_kwh")
    if rate <= bound:
        return []
    return [_flag("DQ09", "coal_rate", gce_per_kwh=reported(rate, 1), bound=bound)]


def _dq11(unit: Unit, record: UnitMonth) -> list[Flag]:
    flags = []
    hours_in_month = 24 * calendar.monthrange(record.year, record.month)[1]
    if record.run_hours > hours_in_month:
        flags.append(
            _flag("DQ11", "hours", run_hours=record.run_hours, hours_in_month=hours_in_month)
        )
    load = record.load_factor
    if load is not None and not 0 <= load <= 1:
        flags.append(_flag("DQ11", "load_factor", load_factor=load))
    elif load is not None and record.run_hours:
        expected = Fraction(unit.capacity_mw) * Fraction(record.run_hours) * Fraction(load)
        gap = Fraction(record.generation_mwh) / expected - 1
        if abs(gap) > _limit("DQ11", "generation_tolerance"):
            flags.append(
                _flag(
                    "DQ11",
                    "generation",
                    generation_mwh=record.generation_mwh,
                    expected_mwh=reported(expected),
                    gap=gap,
                )
            )
    return flags


def _dq12(record: UnitMonth) -> list[Flag]:
    grid = record.grid_mwh
    if grid is None or not record.generation_mwh:
        return []
    if grid > record.generation_mwh:
        return [
            _flag(
                "DQ12", "grid_above_generation", grid_mwh=grid, generation_mwh=record.generation_mwh
            )
        ]
    use = 1 - Fraction(grid) / Fraction(record.generation_mwh)
    if _limit("DQ12", "station_use_min") <= use <= _limit("DQ12", "station_use_max"):
        return []
    return [_flag("DQ12", "station_use", station_use=use)]


def _dq13(record: UnitMonth) -> list[Flag]:
    """The belt scale's consumption against the stock count (receipts − outbound − Δstock)."""
    flags = []
    band = _limit("DQ13", "max_gap")
    for fuel in record.fuels:
        counted = fuel.stock_count_t
        if counted is None or not counted:
            continue
        gap = Fraction(fuel.consumption) / Fraction(counted) - 1
        if abs(gap) > band:
            flags.append(
                _flag(
                    "DQ13",
                    "stock_count",
                    fuel=fuel.fuel.value,
                    consumption_t=fuel.consumption,
                    stock_count_t=counted,
                    gap=gap,
                    max_gap=band,
                )
            )
    return flags


def _dq14(result: MonthResult, previous: MonthResult) -> list[Flag]:
    flags = []
    band = _limit("DQ14", "max_change")
    places = int(rules()["DQ14"].limits["repeat_places"])
    before = {f.fuel: f for f in previous.fuels}
    for fuel in result.fuels:
        last = before.get(fuel.fuel)
        if last is None:
            continue
        for name, now, then in (
            ("ncv", fuel.ncv, last.ncv),
            ("carbon_per_heat", fuel.carbon / fuel.ncv, last.carbon / last.ncv),
        ):
            if then and abs(now / then - 1) > band:
                flags.append(
                    _flag("DQ14", f"{name}_jump", now=now, before=then, change=now / then - 1)
                )
            elif name == "ncv" and reported(now, places) == reported(then, places):
                flags.append(_flag("DQ14", "ncv_repeated", now=now, before=then))
    return flags


def _dq16(record: UnitMonth) -> list[Flag]:
    meters = [(f.fuel.value, f.meter) for f in record.fuels]
    meters.append(("generation", record.generation_meter))
    return [
        _flag("DQ16", meter.state.value, meter=name, required_accuracy=meter.required_accuracy)
        for name, meter in meters
        if meter.state is not MeterState.OK
    ]


def _dq18(result: MonthResult) -> list[Flag]:
    flags = []
    for fuel in result.fuels:
        if fuel.fuel != Fuel.NATURAL_GAS:
            continue
        for name, value in (("carbon", fuel.carbon), ("ncv", fuel.ncv)):
            low, high = _limit("DQ18", f"{name}_min"), _limit("DQ18", f"{name}_max")
            if not low <= value <= high:
                flags.append(_flag("DQ18", f"{name}_range", value=value, low=low, high=high))
    return flags
