"""Unit plans and unit-months as JSON, decimals as strings so nothing is lost: what the API
takes and answers and what ``store`` keeps."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from mrv.model import Fuel, FuelMonth, LabTest, Meter, MeterState, Unit, UnitKind, UnitMonth


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def meter_from(data: dict[str, Any] | None) -> Meter:
    if not data:
        return Meter()
    return Meter(
        MeterState(data.get("state", "ok")),
        _dec(data.get("required_accuracy", "0")),
        _dec(data.get("actual_error", "0")),
    )


def meter_json(meter: Meter) -> dict[str, Any]:
    return {
        "state": meter.state.value,
        "required_accuracy": str(meter.required_accuracy),
        "actual_error": str(meter.actual_error),
    }


def test_from(data: dict[str, Any]) -> LabTest:
    carbon = data.get("carbon")
    return LabTest(
        dt.date.fromisoformat(data["sampled"]),
        dt.date.fromisoformat(data["reported"]),
        _dec(data["fuel_t"]),
        _dec(data["ncv"]),
        None if carbon is None else _dec(carbon),
        bool(data.get("accredited_lab", True)),
        bool(data.get("complete", True)),
    )


def test_json(test: LabTest) -> dict[str, Any]:
    return {
        "sampled": test.sampled.isoformat(),
        "reported": test.reported.isoformat(),
        "fuel_t": str(test.fuel_t),
        "ncv": str(test.ncv),
        "carbon": None if test.carbon is None else str(test.carbon),
        "accredited_lab": test.accredited_lab,
        "complete": test.complete,
    }


def month_from(unit_id: str, year: int, month: int, data: dict[str, Any]) -> UnitMonth:
    """A unit-month from its JSON (the API's ``MrvMonthData``, a stored record)."""
    fuels = tuple(
        FuelMonth(
            Fuel(f["fuel"]),
            _dec(f["consumption"]),
            tuple(test_from(t) for t in f.get("tests", ())),
            None if f.get("ncv") is None else _dec(f["ncv"]),
            meter_from(f.get("meter")),
        )
        for f in data["fuels"]
    )
    load = data.get("load_factor")
    grid = data.get("grid_mwh")
    return UnitMonth(
        unit_id,
        year,
        month,
        fuels,
        _dec(data["generation_mwh"]),
        _dec(data.get("heat_gj", "0")),
        _dec(data.get("run_hours", "0")),
        None if load is None else _dec(load),
        _dec(data.get("purchased_mwh", "0")),
        meter_from(data.get("generation_meter")),
        None if grid is None else _dec(grid),
    )


def month_json(record: UnitMonth) -> dict[str, Any]:
    return {
        "fuels": [
            {
                "fuel": f.fuel.value,
                "consumption": str(f.consumption),
                "tests": [test_json(t) for t in f.tests],
                "ncv": None if f.ncv is None else str(f.ncv),
                "meter": meter_json(f.meter),
            }
            for f in record.fuels
        ],
        "generation_mwh": str(record.generation_mwh),
        "heat_gj": str(record.heat_gj),
        "run_hours": str(record.run_hours),
        "load_factor": None if record.load_factor is None else str(record.load_factor),
        "purchased_mwh": str(record.purchased_mwh),
        "generation_meter": meter_json(record.generation_meter),
        "grid_mwh": None if record.grid_mwh is None else str(record.grid_mwh),
    }


def unit_of(account_id: str, capacity_mw: str, kind: str, coal: str) -> Unit:
    return Unit(account_id, Decimal(capacity_mw), UnitKind(kind), Fuel(coal))
