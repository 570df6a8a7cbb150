"""Monthly MRV data behind a run's verified emissions (``mrv: {generate: true}``).

For each covered firm of the scenario's MRV sectors and each year, once its emissions are
verified, ``firm_year`` makes the twelve monthly records (``mrv.model.UnitMonth``) of one
generating unit whose emissions, by ``mrv.calculator`` with measured carbon, add up to the
verified tonnes (whole tonnes, half up). How:

1. Draws for the firm-year, from its own ``random.Random`` seeded by (run seed, "mrv", firm,
   year): never a stream the market's agents use, so the rest of the run is unchanged. The
   fuel (natural gas for a gas-fired firm, a combined heat and power unit; else coal: 80 %
   bituminous, 10 % lignite, 10 % anthracite, condensing), a base NCV within the coal type's
   typical range, a carbon per unit heat within 3 % of the coal type's reference (DQ04's band
   is 5 %), the month's NCV within 3 % of the base (DQ14 flags 10 %), its carbon within 1 %
   of NCV × carbon per heat, a seasonal share of the year for each month, run hours, a
   target load, own use, and the stock count's difference from the belt scale (under 1 %).
2. Consumption solved month by month: the month's share of the verified tonnes ÷ (C × OF ×
   44/12), to 0.01 t; December takes what the first eleven months leave, so the year's total
   is within 0.01 t of C × OF × 44/12 of the verified figure.
3. Generation from the fuel's heat at the efficiency the firm's output implies (3.6 × output
   ÷ heat), held between 33 % and 45 % for coal (DQ08's 46 %, DQ09's 400 gce/kWh) and 35 %
   to 55 % for gas; a gas unit supplies heat too. Where the run abated, a firm's emissions
   fall with its output unchanged: the bound holds and its MRV generation is below the
   scenario's output. Capacity from generation, hours and the target load (no month above
   95 % load); grid sales after own use.

Every generated month passes every check of ``mrv.checks``. ``mrv_rows`` gives one row per
firm-month (``mrv.parquet``; ``generate`` answers them as one Arrow table); ``unit_months``
rebuilds the records from those rows (``table.to_pylist()``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pyarrow as pa

from exchange.sim.scenario import FirmPlan, LoadedScenario, derived_seed
from mrv.calculator import CO2_PER_C, month_emissions, reported, whole_tonnes
from mrv.guidelines import coal_reference, guideline_for
from mrv.model import Fuel, FuelMonth, LabTest, Unit, UnitKind, UnitMonth

# Typical ranges (GJ/t; gas GJ/10^4 Nm3) and carbon per unit heat of gas (tC/GJ).
NCV_RANGE = {
    Fuel.BITUMINOUS: (19.0, 23.5),
    Fuel.LIGNITE: (13.0, 16.5),
    Fuel.ANTHRACITE: (20.0, 24.0),
    Fuel.NATURAL_GAS: (345.0, 380.0),  # DQ18: 285.0-398.3, with the month's 3 %
}
GAS_CARBON_PER_HEAT = (0.0148, 0.0153)
COALS = ((Fuel.BITUMINOUS, 8), (Fuel.LIGNITE, 1), (Fuel.ANTHRACITE, 1))
EFFICIENCY = {UnitKind.CONDENSING: (0.33, 0.45), UnitKind.CHP: (0.35, 0.55)}
MAX_LOAD = 0.95

MRV_COLUMNS = (
    "firm",
    "year",
    "month",
    "fuel",
    "kind",
    "capacity_mw",
    "consumption",  # t, or 10^4 Nm3 of gas, by the belt scale (or the gas meter)
    "stock_count_t",  # 购销存 (coal only)
    "ncv",
    "carbon",
    "sampled",
    "reported",
    "generation_mwh",
    "heat_gj",
    "run_hours",
    "load_factor",
    "grid_mwh",
    "emissions_t",  # by the calculator, 0.01 t
    "source",  # of the month's carbon: measured, default or calculated
)


# mrv.parquet's columns: decimals as written in monitoring data (exact, never floats).
MRV_TYPES = {
    "firm": pa.string(),
    "year": pa.int64(),
    "month": pa.int64(),
    "fuel": pa.string(),
    "kind": pa.string(),
    "capacity_mw": pa.int64(),
    "consumption": pa.decimal128(16, 2),
    "stock_count_t": pa.decimal128(16, 2),
    "ncv": pa.decimal128(10, 3),
    "carbon": pa.decimal128(10, 4),
    "sampled": pa.string(),
    "reported": pa.string(),
    "generation_mwh": pa.decimal128(18, 3),
    "heat_gj": pa.decimal128(18, 2),
    "run_hours": pa.int64(),
    "load_factor": pa.decimal128(6, 4),
    "grid_mwh": pa.decimal128(18, 3),
    "emissions_t": pa.decimal128(18, 2),
    "source": pa.string(),
}
BATCH_ROWS = 1_200  # rows (100 firm-years) held as Python values before they go to Arrow


def generate(
    scenario: LoadedScenario, seed: int, compliance: Iterable[Mapping[str, Any]]
) -> pa.Table | None:
    """``mrv.parquet``: for every firm of the scenario's MRV sectors, each year it was
    verified, its twelve months, their emissions adding up to ``verified_t`` (None: no firm
    of those sectors). The rows go to Arrow columns a batch at a time, so a full-size run
    never holds them all as dictionaries of ``Decimal``."""
    sectors = set(scenario.spec.mrv.sectors)
    firms = {f.account_id: f for f in scenario.firms if f.sector in sectors}
    batches: list[pa.Table] = []
    rows: list[dict[str, Any]] = []
    for row in compliance:
        firm = firms.get(row["account_id"])
        if firm is None:
            continue
        unit, months = seeded_firm_year(firm, int(row["year"]), int(row["verified_t"]), seed)
        rows += mrv_rows(unit, months)
        if len(rows) >= BATCH_ROWS:
            batches.append(mrv_table(rows))
            rows = []
    if rows:
        batches.append(mrv_table(rows))
    if not batches:
        return None
    return pa.concat_tables(batches).combine_chunks()  # one chunk: as if built at once


def mrv_table(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """mrv.parquet's columns of ``rows`` (as ``mrv_rows`` makes them)."""
    return pa.table({c: pa.array([row[c] for row in rows], type=MRV_TYPES[c]) for c in MRV_COLUMNS})


def seeded_firm_year(
    firm: FirmPlan, year: int, emissions_t: int, seed: int
) -> tuple[Unit, list[UnitMonth]]:
    """``firm_year`` with the firm-year's own draws, seeded by (``seed``, "mrv", firm, year):
    a run's and a class's MRV data of the same firm-year are made alike."""
    rng = random.Random(derived_seed(seed, "mrv", firm.account_id, year))
    return firm_year(firm, year, emissions_t, rng)


def firm_year(
    firm: FirmPlan, year: int, emissions_t: int, rng: random.Random
) -> tuple[Unit, list[UnitMonth]]:
    """One firm's unit and its twelve months of ``year`` (see the module's docstring)."""
    guideline = guideline_for(year)
    gas = firm.gas_fired
    if gas:
        fuel, kind = Fuel.NATURAL_GAS, UnitKind.CHP
        per_heat = rng.uniform(*GAS_CARBON_PER_HEAT)
    else:
        fuel, kind = _coal(rng), UnitKind.CONDENSING
        per_heat = float(coal_reference()[fuel]) * rng.uniform(0.97, 1.03)
    base_ncv = rng.uniform(*NCV_RANGE[fuel])
    places = 2 if gas else 3
    oxidation = Fraction(guideline.oxidation(fuel))
    shares = _seasonal(year, rng)
    ncvs: list[Decimal] = []
    carbons: list[Decimal] = []
    for _ in range(12):
        ncv = _decimal(base_ncv * rng.uniform(0.97, 1.03), places)
        if ncvs and reported(Fraction(ncv), 4) == reported(Fraction(ncvs[-1]), 4):
            ncv += Decimal(1).scaleb(-places)  # never repeated to 4 decimals (DQ14)
        ncvs.append(ncv)
        carbons.append(_decimal(float(ncv) * per_heat * rng.uniform(0.99, 1.01), 4))
    # Consumption: each month's share of the verified tonnes, December the rest.
    consumption: list[Decimal] = []
    emitted = Fraction(0)
    for m in range(12):
        per_unit = Fraction(carbons[m]) * oxidation * CO2_PER_C
        target = Fraction(emissions_t) - emitted if m == 11 else emissions_t * shares[m]
        amount = max(Decimal(0), reported(target / per_unit, 2))
        consumption.append(amount)
        emitted += Fraction(amount) * per_unit
    heat_in = [Fraction(c) * Fraction(n) for c, n in zip(consumption, ncvs, strict=True)]
    total_heat = sum(heat_in, Fraction(0))
    low, high = EFFICIENCY[kind]
    efficiency = Fraction(3.6 * firm.output / float(total_heat)) if total_heat else Fraction(0)
    efficiency = min(max(efficiency, Fraction(low)), Fraction(high))
    efficiency = Fraction(reported(efficiency, 4))
    heat_share = Fraction(reported(Fraction(rng.uniform(0.10, 0.25)), 4)) if gas else Fraction(0)
    generation = [_decimal(float(h * efficiency) / 3.6, 3) for h in heat_in]
    heat_out = [_decimal(float(h * heat_share), 2) for h in heat_in]
    hours = []
    for m in range(12):
        in_month = 24 * calendar.monthrange(year, m + 1)[1]
        hours.append(Decimal(round(in_month * rng.uniform(0.85, 1.0))))
    target_load = rng.uniform(0.55, 0.75)
    capacity = math.ceil(float(sum(generation)) / (float(sum(hours)) * target_load))
    busiest = max(float(g) / (float(h) * MAX_LOAD) for g, h in zip(generation, hours, strict=True))
    capacity = max(1, capacity, math.ceil(busiest))
    own_use = rng.uniform(0.032, 0.045) if gas else rng.uniform(0.045, 0.075)
    unit = Unit(firm.account_id, Decimal(capacity), kind, fuel)
    months = []
    for m in range(12):
        number = m + 1
        last = dt.date(year, number, calendar.monthrange(year, number)[1])
        amount = consumption[m]
        tests: tuple[LabTest, ...] = ()
        if amount > 0:
            reported_on = last + dt.timedelta(days=rng.randint(3, 25))
            tests = (LabTest(last, reported_on, amount, ncvs[m], carbons[m]),)
        stock = None if gas else _decimal(float(amount) * rng.uniform(0.992, 1.008), 2)
        fuel_month = FuelMonth(fuel, amount, tests, ncv=ncvs[m], stock_count_t=stock)
        load = _decimal(float(generation[m]) / (capacity * float(hours[m])), 4)
        months.append(
            UnitMonth(
                firm.account_id,
                year,
                number,
                (fuel_month,),
                generation_mwh=generation[m],
                heat_gj=heat_out[m],
                run_hours=hours[m],
                load_factor=load,
                grid_mwh=_decimal(float(generation[m]) * (1 - own_use), 3),
            )
        )
    return unit, months


def mrv_rows(unit: Unit, months: Sequence[UnitMonth]) -> list[dict[str, Any]]:
    """One row per month (one fuel a month, as ``firm_year`` makes them)."""
    rows = []
    for record in months:
        (fuel,) = record.fuels
        result = month_emissions(record, guideline_for(record.year))
        test = fuel.tests[0] if fuel.tests else None
        rows.append(
            {
                "firm": record.unit_id,
                "year": record.year,
                "month": record.month,
                "fuel": fuel.fuel.value,
                "kind": unit.kind.value,
                "capacity_mw": int(unit.capacity_mw),
                "consumption": fuel.consumption,
                "stock_count_t": fuel.stock_count_t,
                "ncv": fuel.ncv,
                "carbon": None if test is None else test.carbon,
                "sampled": None if test is None else test.sampled.isoformat(),
                "reported": None if test is None else test.reported.isoformat(),
                "generation_mwh": record.generation_mwh,
                "heat_gj": record.heat_gj,
                "run_hours": int(record.run_hours),
                "load_factor": record.load_factor,
                "grid_mwh": record.grid_mwh,
                "emissions_t": reported(result.emissions_t),
                "source": result.fuels[0].carbon_source.value,
            }
        )
    return rows


def unit_months(
    rows: Iterable[Mapping[str, Any]],
) -> dict[tuple[str, int], tuple[Unit, list[UnitMonth]]]:
    """The records behind ``mrv.parquet``'s rows (as ``pyarrow``'s ``to_pylist`` reads them),
    by (firm, year): what a study alters with ``mrv.problems`` and recomputes."""
    found: dict[tuple[str, int], tuple[Unit, list[UnitMonth]]] = {}
    for row in rows:
        fuel = Fuel(row["fuel"])
        key = (str(row["firm"]), int(row["year"]))
        if key not in found:
            kind = UnitKind(row["kind"])
            found[key] = (Unit(key[0], Decimal(row["capacity_mw"]), kind, fuel), [])
        amount = _dec(row["consumption"])
        tests: tuple[LabTest, ...] = ()
        if row["sampled"] is not None:
            sampled = dt.date.fromisoformat(row["sampled"])
            reported_on = dt.date.fromisoformat(row["reported"])
            carbon = None if row["carbon"] is None else _dec(row["carbon"])
            tests = (LabTest(sampled, reported_on, amount, _dec(row["ncv"]), carbon),)
        stock = None if row["stock_count_t"] is None else _dec(row["stock_count_t"])
        fuel_month = FuelMonth(fuel, amount, tests, ncv=_dec(row["ncv"]), stock_count_t=stock)
        found[key][1].append(
            UnitMonth(
                key[0],
                key[1],
                int(row["month"]),
                (fuel_month,),
                generation_mwh=_dec(row["generation_mwh"]),
                heat_gj=_dec(row["heat_gj"]),
                run_hours=Decimal(row["run_hours"]),
                load_factor=None if row["load_factor"] is None else _dec(row["load_factor"]),
                grid_mwh=None if row["grid_mwh"] is None else _dec(row["grid_mwh"]),
            )
        )
    return found


def mrv_summary(table: pa.Table, compliance: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """summary.json's MRV figures: firm-years, their emissions by the calculator (each firm-
    year in whole tonnes, half up), the verified emissions the run recorded for them, and the
    largest difference of any firm-year (0: every firm's months add up)."""
    by_firm: dict[tuple[str, int], Fraction] = {}
    columns = (table.column(c).to_pylist() for c in ("firm", "year", "emissions_t"))
    for firm, year, emissions_t in zip(*columns, strict=True):
        key = (firm, year)
        by_firm[key] = by_firm.get(key, Fraction(0)) + Fraction(emissions_t)
    verified = {(r["account_id"], r["year"]): int(r["verified_t"]) for r in compliance}
    tonnes = {key: whole_tonnes(v) for key, v in by_firm.items()}
    return {
        "mrv_firm_years": len(by_firm),
        "mrv_emissions_t": sum(tonnes.values()),
        "mrv_verified_t": sum(verified[key] for key in tonnes),
        "mrv_max_firm_gap_t": max((abs(tonnes[k] - verified[k]) for k in tonnes), default=0),
    }


def _coal(rng: random.Random) -> Fuel:
    pick = rng.randrange(sum(w for _, w in COALS))
    for fuel, weight in COALS:
        if pick < weight:
            return fuel
        pick -= weight
    raise AssertionError("unreachable")


def _seasonal(year: int, rng: random.Random) -> list[Fraction]:
    """Each month's share of the year: its days, more in winter and summer, ±5 % noise."""
    weights = []
    for m in range(12):
        days = calendar.monthrange(year, m + 1)[1]
        season = 1 + 0.12 * math.cos(2 * math.pi * m / 6)  # peaks in January and July
        weights.append(Fraction(round(days * season * rng.uniform(0.95, 1.05) * 10_000)))
    total = sum(weights)
    return [w / total for w in weights]


def _decimal(value: float, places: int) -> Decimal:
    """A drawn or derived figure as monitoring data writes it (``places`` decimals; the float's
    own correctly rounded digits: the same on every platform)."""
    return Decimal(f"{value:.{places}f}")


def _dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))
