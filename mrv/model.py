"""A generating unit and its monthly monitoring records (MRV.md's parameters A-P, in the
guideline's terms): what was burned, its tests, what the unit made, and the state of the
meters that measured it. Every value the calculator uses is reported with its source."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any


class MrvError(ValueError):
    """Data the calculator cannot use, with a stable code and the numbers behind it."""

    def __init__(self, code: str, **details: Any) -> None:
        super().__init__(f"{code}: {details}")
        self.code = code
        self.details = details


class Source(StrEnum):
    """Where a value the calculator used came from."""

    MEASURED = "measured"  # as monitored and tested
    DEFAULT = "default"  # the guideline's default, a measurement missing or non-compliant
    CONSERVATIVE = "conservative"  # a measurement adjusted so as not to understate emissions
    CALCULATED = "calculated"  # worked out from other values (a weighted monthly figure)


class Fuel(StrEnum):
    LIGNITE = "lignite"  # 褐煤
    BITUMINOUS = "bituminous"  # 烟煤
    ANTHRACITE = "anthracite"  # 无烟煤
    NATURAL_GAS = "natural_gas"  # 天然气 (quantities in 10^4 Nm3)


class UnitKind(StrEnum):
    CONDENSING = "condensing"  # 纯凝
    CHP = "chp"  # 热电联产


class MeterState(StrEnum):
    """A meter's calibration for the period: on time and in specification; on time but out of
    it (its actual error beyond the required accuracy); or not calibrated or late."""

    OK = "ok"
    OUT_OF_SPEC = "out_of_spec"
    UNCALIBRATED = "uncalibrated"


@dataclass(frozen=True, slots=True)
class Meter:
    state: MeterState = MeterState.OK
    required_accuracy: Decimal = Decimal(0)  # as a fraction: 0.005 is ±0.5 %
    actual_error: Decimal = Decimal(0)  # found at calibration, as a fraction


@dataclass(frozen=True, slots=True)
class LabTest:
    """One carbon and heat test (a day's as-fired coal, a received batch, or the month's
    composite sample) and the fuel it stands for. ``carbon`` None: not measured."""

    sampled: dt.date
    reported: dt.date
    fuel_t: Decimal  # the fuel the sample stands for (t, or 10^4 Nm3 of gas)
    ncv: Decimal  # low calorific value, as received (GJ/t)
    carbon: Decimal | None  # carbon content, as received (tC/t)
    accredited_lab: bool = True  # an outside lab's report bears CMA or CNAS marks (own labs: True)
    complete: bool = True  # the report gives C, NCV, H, total S and moisture of one sample


@dataclass(frozen=True, slots=True)
class FuelMonth:
    """One fuel burned in one month: its consumption (parameter A), its tests (B, C), and the
    meter that weighed it."""

    fuel: Fuel
    consumption: Decimal  # t, or 10^4 Nm3
    tests: tuple[LabTest, ...] = ()
    ncv: Decimal | None = None  # the month's NCV where no test gives one
    meter: Meter = field(default_factory=Meter)
    # The month's consumption by the stock count (购销存): receipts − outbound − the change in
    # stock, the lower-ranked source a verifier sets against the belt scale (check DQ13).
    stock_count_t: Decimal | None = None


@dataclass(frozen=True, slots=True)
class UnitMonth:
    """A generating unit's month: fuels, and what the unit made (M, N, O, P)."""

    unit_id: str
    year: int
    month: int
    fuels: tuple[FuelMonth, ...]
    generation_mwh: Decimal
    heat_gj: Decimal = Decimal(0)  # heat supplied
    run_hours: Decimal = Decimal(0)
    load_factor: Decimal | None = None  # as a fraction
    purchased_mwh: Decimal = Decimal(0)
    generation_meter: Meter = field(default_factory=Meter)
    grid_mwh: Decimal | None = None  # 上网电量, sold to the grid


@dataclass(frozen=True, slots=True)
class Unit:
    """A generating unit as its monitoring plan describes it."""

    unit_id: str
    capacity_mw: Decimal
    kind: UnitKind
    coal: Fuel  # the coal type its carbon is checked against
