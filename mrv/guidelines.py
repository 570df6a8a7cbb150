"""The accounting guidelines' versions and their defaults (``guidelines.toml``), chosen by data
year: the 2021 guideline, the 2022 one (AG22) and the 2026 update (TU26)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from mrv.model import Fuel, MrvError


@dataclass(frozen=True, slots=True)
class Guideline:
    """One version of the power-sector accounting guideline."""

    guideline_id: str
    title: str
    first_year: int
    last_year: int
    coal_carbon_per_heat_default: Decimal  # tC/GJ where carbon content is not measured
    gas_carbon_per_heat_default: Decimal  # tC/GJ
    gas_ncv_default: Decimal  # GJ/10^4 Nm3
    oxidation_coal: Decimal
    oxidation_gas: Decimal
    purchased_electricity: bool  # purchased power's indirect emissions accounted
    grid_factor: Decimal  # tCO2/MWh
    test_within_days: int  # a carbon test is reported within this many days of sampling

    def carbon_per_heat_default(self, fuel: Fuel) -> Decimal:
        if fuel is Fuel.NATURAL_GAS:
            return self.gas_carbon_per_heat_default
        return self.coal_carbon_per_heat_default

    def oxidation(self, fuel: Fuel) -> Decimal:
        return self.oxidation_gas if fuel is Fuel.NATURAL_GAS else self.oxidation_coal


@cache
def _data() -> dict[str, dict[str, Any]]:
    text = resources.files(__package__).joinpath("guidelines.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@cache
def guidelines() -> tuple[Guideline, ...]:
    """Every version, oldest first."""
    found = []
    for key, v in _data().items():
        if key == "coal_reference":
            continue
        first, last = v["data_years"]
        found.append(
            Guideline(
                key,
                str(v["title"]),
                int(first),
                int(last),
                Decimal(str(v["coal_carbon_per_heat_default"])),
                Decimal(str(v["gas_carbon_per_heat_default"])),
                Decimal(str(v["gas_ncv_default"])),
                Decimal(str(v["oxidation_coal"])),
                Decimal(str(v["oxidation_gas"])),
                bool(v["purchased_electricity"]),
                Decimal(str(v["grid_factor"])),
                int(v["test_within_days"]),
            )
        )
    return tuple(sorted(found, key=lambda g: g.first_year))


def guideline_for(data_year: int) -> Guideline:
    """The version that applies to ``data_year``'s data."""
    for g in guidelines():
        if g.first_year <= data_year <= g.last_year:
            return g
    raise MrvError("NO_GUIDELINE", data_year=data_year)


def guideline(guideline_id: str) -> Guideline:
    for g in guidelines():
        if g.guideline_id == guideline_id:
            return g
    raise MrvError("NO_GUIDELINE", guideline_id=guideline_id)


@cache
def coal_reference() -> dict[Fuel, Decimal]:
    """Reference carbon per unit heat (tC/GJ) by coal type, for check DQ04."""
    table = _data()["coal_reference"]
    return {Fuel(k): Decimal(str(v)) for k, v in table.items()}
