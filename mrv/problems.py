"""A library of data problems a verifier should catch (MRV lab, the scenario library).

Each problem takes a unit's clean monthly records and answers the records as the firm reports
them, with a ``Trace``: what was done, the flags the platform's checks now raise that they did
not raise on the clean records, the evidence a good verifier finds beyond the checks (a
cross-check or a document), and the emissions three ways, by the calculator:

- ``clean_t``: the records as given;
- ``reported_t``: the records as the firm reports them;
- ``verified_t``: what a verifier who finds the problem records (the true figure where the
  evidence restores it, the conservative one where it does not).

Every problem is deterministic in its parameters: the months it touches are given, never drawn.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from mrv.calculator import MonthResult, month_emissions, reported
from mrv.checks import Flag, check_month
from mrv.guidelines import Guideline, guideline_for
from mrv.model import FuelMonth, LabTest, Meter, MeterState, MrvError, Unit, UnitMonth


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a verifier finds outside the monthly checks: where (``source``), what, and the
    numbers behind it."""

    source: str  # e.g. "lab_register", "stock_survey", "retained_sample"
    what: str
    numbers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Trace:
    problem: str  # the problem's stable id
    what: str  # what was done, in words
    parameters: Mapping[str, str]
    months: tuple[int, ...]  # the months altered
    flags: tuple[Flag, ...]  # raised on the reported records and not on the clean ones
    evidence: tuple[Evidence, ...]
    clean_t: Fraction
    reported_t: Fraction
    verified_t: Fraction

    @property
    def flagged_by(self) -> tuple[str, ...]:
        """The ids of the checks that flag the reported records, each once, in order."""
        return tuple(dict.fromkeys(f.rule_id for f in self.flags))

    @property
    def understated_t(self) -> Fraction:
        """What the reported records leave out of the verified figure (negative: overstated)."""
        return self.verified_t - self.reported_t


Records = Sequence[UnitMonth]


# -- the problems ------------------------------------------------------------------------------


def tampered_test(
    unit: Unit,
    records: Records,
    *,
    months: Sequence[int],
    late_days: int = 45,
    carbon_factor: Decimal | None = None,
) -> tuple[list[UnitMonth], Trace]:
    """The tests of ``months`` were in truth reported ``late_days`` after sampling, so their
    carbon counts at the default; the firm's editable report template kept the compliant
    report date of the clean record (and, with ``carbon_factor``, also lowered the carbon).
    The monthly checks see compliant dates; the testing body's register shows the real date,
    and on the true record DQ02 flags a late test."""
    guideline = _guideline(records)
    if late_days <= guideline.test_within_days:
        raise MrvError("NOT_LATE", late_days=late_days, within_days=guideline.test_within_days)

    def truth(test: LabTest) -> LabTest:
        return dataclasses.replace(test, reported=test.sampled + dt.timedelta(days=late_days))

    def shown(test: LabTest) -> LabTest:
        if carbon_factor is None or test.carbon is None:
            return test
        return dataclasses.replace(test, carbon=_places(test.carbon * carbon_factor, 4))

    true_records = _each_test(records, months, truth)
    altered = _each_test(records, months, shown)
    evidence = tuple(
        Evidence("lab_register", f"{f.rule_id} {f.what}", f.numbers)
        for f in _new_flags(unit, true_records, records, months)
        if f.rule_id == "DQ02"
    )
    what = f"tests of months {list(months)} reported {late_days} days after sampling; "
    what += "the report dates were rewritten to the compliant ones"
    if carbon_factor is not None:
        what += f" and the carbon multiplied by {carbon_factor}"
    parameters = {"late_days": str(late_days), "carbon_factor": str(carbon_factor)}
    return altered, _trace(
        "tampered_test", what, parameters, unit, records, altered, true_records, months, evidence
    )


def substituted_sample(
    unit: Unit,
    records: Records,
    *,
    months: Sequence[int],
    carbon_per_heat: Decimal,
) -> tuple[list[UnitMonth], Trace]:
    """A made-up sample stands in for the coal of ``months``: its carbon is its NCV ×
    ``carbon_per_heat`` (tC/GJ), implausibly low for the unit's coal type, so DQ04 flags it.
    The test cannot stand, and the retained sample (留样) does not match it: the verifier
    takes the guideline's default carbon, the conservative figure."""

    def fake(test: LabTest) -> LabTest:
        return dataclasses.replace(test, carbon=_places(test.ncv * carbon_per_heat, 4))

    def unmeasured(test: LabTest) -> LabTest:
        return dataclasses.replace(test, carbon=None)

    altered = _each_test(records, months, fake)
    conservative = _each_test(records, months, unmeasured)
    evidence = (
        Evidence(
            "retained_sample",
            "the retained sample's carbon does not match the report",
            {"carbon_per_heat": str(carbon_per_heat), "coal": unit.coal.value},
        ),
    )
    what = f"the tests of months {list(months)} replaced by a sample at {carbon_per_heat} tC/GJ"
    parameters = {"carbon_per_heat": str(carbon_per_heat)}
    return altered, _trace(
        "substituted_sample",
        what,
        parameters,
        unit,
        records,
        altered,
        conservative,
        months,
        evidence,
    )


def missing_tests(
    unit: Unit, records: Records, *, months: Sequence[int]
) -> tuple[list[UnitMonth], Trace]:
    """No carbon test for ``months`` (the month's NCV is still measured): the default carbon
    per unit heat applies, which DQ14 sees as a jump in carbon per heat from the month before.
    Not a fraud, a gap: what is reported is what a verifier records."""

    def untested(record: UnitMonth) -> UnitMonth:
        fuels = []
        for fuel in record.fuels:
            if not fuel.tests:
                fuels.append(fuel)
                continue
            result = month_emissions(
                dataclasses.replace(record, fuels=(fuel,)), _guideline(records)
            )
            ncv = reported(result.fuels[0].ncv, 3)
            fuels.append(dataclasses.replace(fuel, tests=(), ncv=ncv))
        return dataclasses.replace(record, fuels=tuple(fuels))

    altered = _each_month(records, months, untested)
    evidence = (
        Evidence(
            "calculator",
            "carbon at the default",
            {"months": ",".join(str(m) for m in months)},
        ),
    )
    what = f"no carbon test in months {list(months)}: the default applies"
    return altered, _trace(
        "missing_tests", what, {}, unit, records, altered, altered, months, evidence
    )


def late_calibration(
    unit: Unit,
    records: Records,
    *,
    months: Sequence[int],
    accuracy: Decimal = Decimal("0.005"),
) -> tuple[list[UnitMonth], Trace]:
    """The fuel meter's calibration lapsed for ``months`` (calibrated late): its readings
    count at ``x × (1 + accuracy)`` and DQ16 flags the meter. The calibration certificate's
    date is the evidence."""

    def lapsed(fuel: FuelMonth) -> FuelMonth:
        return dataclasses.replace(fuel, meter=Meter(MeterState.UNCALIBRATED, accuracy))

    altered = _each_fuel(records, months, lapsed)
    evidence = (
        Evidence(
            "calibration_certificate",
            "calibrated after the period it covers",
            {"required_accuracy": str(accuracy)},
        ),
    )
    what = f"the fuel meter not calibrated on time for months {list(months)}"
    return altered, _trace(
        "late_calibration",
        what,
        {"accuracy": str(accuracy)},
        unit,
        records,
        altered,
        altered,
        months,
        evidence,
    )


def biased_scale(
    unit: Unit, records: Records, *, months: Sequence[int], bias: Decimal
) -> tuple[list[UnitMonth], Trace]:
    """The belt scale under-reads (``bias`` −0.03: 3 % less) in ``months``, and the stock
    count (receipts − outbound − Δstock) is left as it is: DQ13 flags the gap. The stock count
    gives back the true consumption."""

    def biased(fuel: FuelMonth) -> FuelMonth:
        counted = fuel.consumption if fuel.stock_count_t is None else fuel.stock_count_t
        return _scaled(fuel, 1 + bias, counted)

    what = f"the belt scale reads {bias:+} of the coal burned in months {list(months)}"
    return _consumption_problem(
        "biased_scale", what, unit, records, months, bias, biased, "stock_count"
    )


def manipulated_stock_count(
    unit: Unit, records: Records, *, months: Sequence[int], bias: Decimal
) -> tuple[list[UnitMonth], Trace]:
    """Consumption under-reported by ``bias`` in ``months`` and the stock count bent to match
    it (the closing stock in the books raised by what was hidden): DQ13 sees no gap. The coal
    yard's physical survey (盘点) finds the books' stock too high by the tonnes hidden, and the
    unit's efficiency rises with the coal it did not report (DQ08 when it passes 46 %)."""

    def bent(fuel: FuelMonth) -> FuelMonth:
        return _scaled(fuel, 1 + bias, None)

    what = f"consumption {bias:+} in months {list(months)}, the stock count changed to match"
    return _consumption_problem(
        "manipulated_stock_count", what, unit, records, months, bias, bent, "stock_survey"
    )


def _consumption_problem(
    problem: str,
    what: str,
    unit: Unit,
    records: Records,
    months: Sequence[int],
    bias: Decimal,
    alter: Callable[[FuelMonth], FuelMonth],
    evidence_source: str,
) -> tuple[list[UnitMonth], Trace]:
    """A problem of the coal counted: ``alter`` applied to the fuels of ``months``; the truth
    is the stock count's, and the evidence is the gap ``evidence_source`` shows."""
    altered = _each_fuel(records, months, alter)
    true_records = _each_fuel(records, months, _counted_as_stock)
    evidence = (_stock_gap(records, altered, months, evidence_source),)
    parameters = {"bias": str(bias)}
    trace = _trace(
        problem, what, parameters, unit, records, altered, true_records, months, evidence
    )
    return altered, trace


# The library by id, for a study that applies one by name.
PROBLEMS: Mapping[str, Callable[..., tuple[list[UnitMonth], Trace]]] = {
    "tampered_test": tampered_test,
    "substituted_sample": substituted_sample,
    "missing_tests": missing_tests,
    "late_calibration": late_calibration,
    "biased_scale": biased_scale,
    "manipulated_stock_count": manipulated_stock_count,
}


# -- helpers -----------------------------------------------------------------------------------


def emissions_t(records: Records, guideline: Guideline | None = None) -> Fraction:
    """The records' emissions by the calculator (their data year's guideline by default)."""
    chosen = guideline or _guideline(records)
    return sum((month_emissions(r, chosen).emissions_t for r in records), Fraction(0))


def new_flags(unit: Unit, records: Records, clean: Records) -> list[Flag]:
    """Flags the checks raise on ``records`` (each month with its previous one) that they do
    not raise on ``clean``."""
    return _new_flags(unit, records, clean, [r.month for r in records])


def _guideline(records: Records) -> Guideline:
    if not records:
        raise MrvError("NO_MONTHS")
    return guideline_for(records[0].year)


def _month_flags(unit: Unit, records: Records) -> dict[int, list[Flag]]:
    guideline = _guideline(records)
    found: dict[int, list[Flag]] = {}
    previous: MonthResult | None = None
    for record in sorted(records, key=lambda r: r.month):
        result = month_emissions(record, guideline)
        found[record.month] = check_month(unit, record, result, guideline, previous=previous)
        previous = result
    return found


def _new_flags(unit: Unit, records: Records, clean: Records, months: Sequence[int]) -> list[Flag]:
    """Flags on ``records`` not raised on ``clean``, in the months touched and the month after
    each (DQ14 compares a month with the one before)."""
    now, before = _month_flags(unit, records), _month_flags(unit, clean)
    looked = sorted(set(months) | {m + 1 for m in months})
    out = []
    for m in looked:
        out += [f for f in now.get(m, []) if f not in before.get(m, [])]
    return out


def _trace(
    problem: str,
    what: str,
    parameters: Mapping[str, str],
    unit: Unit,
    clean: Records,
    altered: Records,
    verified: Records,
    months: Sequence[int],
    evidence: tuple[Evidence, ...],
) -> Trace:
    guideline = _guideline(clean)
    return Trace(
        problem,
        what,
        dict(parameters),
        tuple(sorted(months)),
        tuple(_new_flags(unit, altered, clean, months)),
        evidence,
        emissions_t(clean, guideline),
        emissions_t(altered, guideline),
        emissions_t(verified, guideline),
    )


def _check_months(records: Records, months: Sequence[int]) -> None:
    have = {r.month for r in records}
    missing = sorted(set(months) - have)
    if missing or not months:
        raise MrvError("NO_SUCH_MONTHS", months=list(months), have=sorted(have))


def _each_month(
    records: Records, months: Sequence[int], change: Callable[[UnitMonth], UnitMonth]
) -> list[UnitMonth]:
    _check_months(records, months)
    chosen = set(months)
    return [change(r) if r.month in chosen else r for r in records]


def _each_fuel(
    records: Records, months: Sequence[int], change: Callable[[FuelMonth], FuelMonth]
) -> list[UnitMonth]:
    def changed(record: UnitMonth) -> UnitMonth:
        return dataclasses.replace(record, fuels=tuple(change(f) for f in record.fuels))

    return _each_month(records, months, changed)


def _each_test(
    records: Records, months: Sequence[int], change: Callable[[LabTest], LabTest]
) -> list[UnitMonth]:
    def changed(fuel: FuelMonth) -> FuelMonth:
        return dataclasses.replace(fuel, tests=tuple(change(t) for t in fuel.tests))

    return _each_fuel(records, months, changed)


def _scaled(fuel: FuelMonth, factor: Decimal, stock_count_t: Decimal | None) -> FuelMonth:
    """The fuel's consumption and its tests' tonnes × ``factor`` (0.01 t), with the stock count
    ``stock_count_t`` (None: the new consumption, a count bent to match)."""
    consumption = _places(fuel.consumption * factor, 2)
    tests = tuple(dataclasses.replace(t, fuel_t=_places(t.fuel_t * factor, 2)) for t in fuel.tests)
    counted = consumption if stock_count_t is None else stock_count_t
    return dataclasses.replace(fuel, consumption=consumption, tests=tests, stock_count_t=counted)


def _counted_as_stock(fuel: FuelMonth) -> FuelMonth:
    """The true month: the consumption the clean records give, with its stock count."""
    counted = fuel.consumption if fuel.stock_count_t is None else fuel.stock_count_t
    return dataclasses.replace(fuel, stock_count_t=counted)


def _stock_gap(clean: Records, altered: Records, months: Sequence[int], source: str) -> Evidence:
    """The coal the reported records leave out, against the clean consumption."""
    chosen = set(months)
    true_t = sum((f.consumption for r in clean if r.month in chosen for f in r.fuels), Decimal(0))
    shown_t = sum(
        (f.consumption for r in altered if r.month in chosen for f in r.fuels), Decimal(0)
    )
    what = (
        "the stock count against the belt scale"
        if source == "stock_count"
        else ("the coal yard's physical stock against the books' closing stock")
    )
    return Evidence(
        source,
        what,
        {"true_t": str(true_t), "reported_t": str(shown_t), "hidden_t": str(true_t - shown_t)},
    )


def _places(value: Decimal, places: int) -> Decimal:
    return reported(Fraction(value), places)
