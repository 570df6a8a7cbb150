"""A run's calendar and its scheduled events: each simulated year's trading days, the day each
scenario event falls on, the firms an emission shock hits, and rule overrides merged and told.
The headless run (``exchange.sim.runner``) and a class (``exchange.classroom``) share them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from exchange.clock import trading_days
from exchange.sim.scenario import FirmPlan, LoadedScenario


class SimulationError(RuntimeError):
    """The scenario's set-up was refused by the market: a scenario the rules cannot host."""


def year_schedule(scenario: LoadedScenario) -> list[list[dt.date]]:
    """Each simulated year's trading days: from the scenario's start (then 1 January), at most
    ``trading_days_per_year`` of them."""
    cal = scenario.spec.calendar
    out = []
    for i, year in enumerate(scenario.years):
        start = cal.start if i == 0 else dt.date(year, 1, 1)
        days = trading_days(scenario.rules.calendar, start, dt.date(year, 12, 31))
        if cal.trading_days_per_year is not None:
            days = days[: cal.trading_days_per_year]
        if not days:
            raise SimulationError(f"no trading day in {year} from {start.isoformat()}")
        out.append(days)
    return out


def place_events(scenario: LoadedScenario, schedule: list[list[dt.date]]) -> dict[int, list[Any]]:
    """Scheduled events by the run's trading-day number (1-based)."""
    flat = [d for days in schedule for d in days]
    out: dict[int, list[Any]] = {}
    for event in scenario.spec.events:
        if event.day is not None:
            number = event.day
        else:
            assert event.date is not None
            later = [i for i, d in enumerate(flat, 1) if d >= event.date]
            number = later[0] if later else len(flat) + 1
        out.setdefault(number, []).append(event)
    return out


def shocked_firms(scenario: LoadedScenario, event: Any) -> list[FirmPlan]:
    """The firms an emission shock hits: those it names, of the sector it names."""
    return [
        f
        for f in scenario.firms
        if (event.firms is None or f.account_id in event.firms)
        and (event.sector is None or f.sector == event.sector)
    ]


def merged(base: dict[str, Any], more: Any) -> dict[str, Any]:
    out = dict(base)
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def flat(overrides: Any, prefix: str = "") -> str:
    parts = []
    for key, value in overrides.items():
        if isinstance(value, dict):
            parts.append(flat(value, f"{prefix}{key}."))
        else:
            parts.append(f"{prefix}{key}={value}")
    return ", ".join(parts)
