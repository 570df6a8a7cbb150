"""The worked unit of docs/mrv.md: a 600 MW coal unit's month, 140,000 t of bituminous coal at
21.000 GJ/t and 0.5460 tC/t, 324,000 MWh generated (600 MW × 720 h × 0.75), 500 MWh bought."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from mrv.model import Fuel, FuelMonth, LabTest, Unit, UnitKind, UnitMonth

SAMPLED = dt.date(2025, 3, 31)
UNIT = Unit("U600", Decimal(600), UnitKind.CONDENSING, Fuel.BITUMINOUS)


def sample(
    fuel_t: int,
    carbon: str | None = "0.5460",
    *,
    days: int = 10,
    ncv: str = "21.000",
    accredited_lab: bool = True,
    complete: bool = True,
) -> LabTest:
    """A test of ``fuel_t`` of coal, reported ``days`` after sampling."""
    reported = SAMPLED + dt.timedelta(days=days)
    measured = None if carbon is None else Decimal(carbon)
    return LabTest(
        SAMPLED, reported, Decimal(fuel_t), Decimal(ncv), measured, accredited_lab, complete
    )


def month(*tests: LabTest, number: int = 3) -> UnitMonth:
    """The worked month with ``tests`` of its coal (replace fields for variants)."""
    fuel = FuelMonth(Fuel.BITUMINOUS, Decimal(140_000), tests)
    return UnitMonth(
        "U600",
        2025,
        number,
        (fuel,),
        generation_mwh=Decimal(324_000),
        run_hours=Decimal(720),
        load_factor=Decimal("0.75"),
        purchased_mwh=Decimal(500),
    )
