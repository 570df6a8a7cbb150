"""The emission calculator of the power-sector guidelines (发电设施核算):

    E = Σ_fuels FC × C_ar × OF × 44/12   (+ purchased MWh × grid factor, where counted)

- ``C_ar`` for a month is the consumption-weighted carbon content of its tests,
  Σ(FC_d × C_d) / Σ FC_d; a test whose carbon was not measured, or not measured as the
  guideline requires (reported more than ``test_within_days`` after sampling, an outside lab
  without CMA/CNAS marks, an incomplete report), counts at the default ``NCV × CC_default``.
  A fuel without any test takes the default on the month's NCV.
- A meter not calibrated, or calibrated late, counts its fuel at ``x × (1 + accuracy)``; one
  out of specification at ``x × (1 + (error − accuracy))``. Production (generation) meters
  take the mirror rule, ``1 −``: the data never understate emissions or overstate output.

Exact fractions throughout, rounded half up to 0.01 t where a figure is reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from mrv.guidelines import Guideline
from mrv.model import FuelMonth, LabTest, Meter, MeterState, MrvError, Source, UnitMonth

CO2_PER_C = Fraction(44, 12)


@dataclass(frozen=True, slots=True)
class FuelResult:
    fuel: str
    consumption: Fraction  # as counted, after the meter's rule
    consumption_source: Source
    ncv: Fraction  # the month's NCV, consumption-weighted over the tests (GJ/t)
    carbon: Fraction  # the month's C_ar (tC/t)
    carbon_source: Source  # measured, default, or calculated (some tests at the default)
    defaulted: Fraction  # fuel whose carbon counted at the default
    oxidation: Fraction
    carbon_t: Fraction  # carbon in the fuel burned
    co2_t: Fraction

    @property
    def heat_gj(self) -> Fraction:
        return self.consumption * self.ncv


@dataclass(frozen=True, slots=True)
class MonthResult:
    unit_id: str
    year: int
    month: int
    guideline_id: str
    fuels: tuple[FuelResult, ...]
    combustion_t: Fraction
    electricity_t: Fraction
    generation_mwh: Fraction  # as counted, after the meter's rule
    heat_gj: Fraction  # heat supplied

    @property
    def emissions_t(self) -> Fraction:
        return self.combustion_t + self.electricity_t

    @property
    def fuel_heat_gj(self) -> Fraction:
        return sum((f.heat_gj for f in self.fuels), Fraction(0))

    def intensity(self) -> Fraction | None:
        """Combustion tCO2 per MWh generated (None: nothing generated)."""
        return self.combustion_t / self.generation_mwh if self.generation_mwh else None


@dataclass(frozen=True, slots=True)
class YearResult:
    unit_id: str
    year: int
    months: tuple[MonthResult, ...]

    @property
    def emissions_t(self) -> Fraction:
        return sum((m.emissions_t for m in self.months), Fraction(0))

    @property
    def combustion_t(self) -> Fraction:
        return sum((m.combustion_t for m in self.months), Fraction(0))

    @property
    def generation_mwh(self) -> Fraction:
        return sum((m.generation_mwh for m in self.months), Fraction(0))

    @property
    def heat_gj(self) -> Fraction:
        return sum((m.heat_gj for m in self.months), Fraction(0))

    def intensity(self) -> Fraction | None:
        """Combustion tCO2 per MWh over the year: what benchmark allocation compares with."""
        generation = self.generation_mwh
        return self.combustion_t / generation if generation else None


def month_emissions(record: UnitMonth, guideline: Guideline) -> MonthResult:
    """One unit-month's emissions by ``guideline``."""
    fuels = tuple(fuel_emissions(f, guideline) for f in record.fuels)
    electricity = Fraction(0)
    if guideline.purchased_electricity:
        electricity = Fraction(record.purchased_mwh) * Fraction(guideline.grid_factor)
    return MonthResult(
        record.unit_id,
        record.year,
        record.month,
        guideline.guideline_id,
        fuels,
        sum((f.co2_t for f in fuels), Fraction(0)),
        electricity,
        production(Fraction(record.generation_mwh), record.generation_meter),
        Fraction(record.heat_gj),
    )


def year_emissions(records: Iterable[UnitMonth], guideline: Guideline) -> YearResult:
    """A unit's year: its months' emissions, one month each."""
    months = sorted(records, key=lambda r: r.month)
    if not months:
        raise MrvError("NO_MONTHS")
    unit, year = months[0].unit_id, months[0].year
    seen = [r.month for r in months]
    if any(r.unit_id != unit or r.year != year for r in months) or len(set(seen)) != len(seen):
        raise MrvError("MIXED_MONTHS", unit_id=unit, year=year, months=seen)
    return YearResult(unit, year, tuple(month_emissions(r, guideline) for r in months))


def fuel_emissions(fuel: FuelMonth, guideline: Guideline) -> FuelResult:
    """One fuel's month: consumption by its meter's rule, carbon weighted over its tests."""
    consumption = consumption_counted(Fraction(fuel.consumption), fuel.meter)
    measured = fuel.meter.state is MeterState.OK
    ncv, carbon, defaulted = month_carbon(fuel, guideline)
    if not defaulted:
        carbon_source = Source.MEASURED
    elif defaulted == sum((Fraction(t.fuel_t) for t in fuel.tests), Fraction(0)) or not fuel.tests:
        carbon_source = Source.DEFAULT
    else:
        carbon_source = Source.CALCULATED
    oxidation = Fraction(guideline.oxidation(fuel.fuel))
    carbon_t = consumption * carbon
    return FuelResult(
        fuel.fuel.value,
        consumption,
        Source.MEASURED if measured else Source.CONSERVATIVE,
        ncv,
        carbon,
        carbon_source,
        defaulted,
        oxidation,
        carbon_t,
        carbon_t * oxidation * CO2_PER_C,
    )


def month_carbon(fuel: FuelMonth, guideline: Guideline) -> tuple[Fraction, Fraction, Fraction]:
    """(NCV, C_ar, fuel at the default carbon) of a fuel's month: each weighted by the fuel its
    tests stand for; a test not compliant counts at the default carbon per unit heat."""
    default_cc = Fraction(guideline.carbon_per_heat_default(fuel.fuel))
    if not fuel.tests:
        ncv = _month_ncv(fuel, guideline)
        return ncv, ncv * default_cc, Fraction(fuel.consumption)
    total = heat = carbon = defaulted = Fraction(0)
    for test in fuel.tests:
        amount = Fraction(test.fuel_t)
        if amount <= 0:
            raise MrvError("BAD_TEST", sampled=test.sampled.isoformat(), fuel_t=str(test.fuel_t))
        total += amount
        heat += amount * Fraction(test.ncv)
        if compliant(test, guideline):
            assert test.carbon is not None
            carbon += amount * Fraction(test.carbon)
        else:
            carbon += amount * Fraction(test.ncv) * default_cc
            defaulted += amount
    return heat / total, carbon / total, defaulted


def compliant(test: LabTest, guideline: Guideline) -> bool:
    """Whether a test's carbon content counts as measured: measured, reported within the
    guideline's days of sampling, by an accredited lab, with a complete report."""
    return (
        test.carbon is not None
        and (test.reported - test.sampled).days <= guideline.test_within_days
        and test.accredited_lab
        and test.complete
    )


def _month_ncv(fuel: FuelMonth, guideline: Guideline) -> Fraction:
    if fuel.ncv is not None:
        return Fraction(fuel.ncv)
    if fuel.fuel.value == "natural_gas":
        return Fraction(guideline.gas_ncv_default)
    raise MrvError("NO_NCV", fuel=fuel.fuel.value)


def consumption_counted(amount: Fraction, meter: Meter) -> Fraction:
    """Fuel as counted: raised by what an uncalibrated or out-of-spec meter may understate."""
    return amount * (1 + _allowance(meter))


def production(amount: Fraction, meter: Meter) -> Fraction:
    """Output as counted: lowered by what its meter may overstate (the mirror rule)."""
    return amount * (1 - _allowance(meter))


def _allowance(meter: Meter) -> Fraction:
    if meter.state is MeterState.UNCALIBRATED:
        return Fraction(meter.required_accuracy)
    if meter.state is MeterState.OUT_OF_SPEC:
        return max(Fraction(0), Fraction(meter.actual_error) - Fraction(meter.required_accuracy))
    return Fraction(0)


def reported(value: Fraction, places: int = 2) -> Decimal:
    """``value`` as reported: rounded half up (away from zero) to ``places`` decimals."""
    scale = 10**places
    scaled = abs(value) * scale
    whole = int(scaled + Fraction(1, 2))
    sign = -1 if value < 0 else 1
    return Decimal(sign * whole).scaleb(-places)


def whole_tonnes(value: Fraction) -> int:
    """Emissions as the registry records them: whole tonnes, rounded half up (a design
    default: the guidelines report to 0.01 t and the registry counts whole allowances)."""
    return int(reported(value, 0))
