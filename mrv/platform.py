"""The platform's calendar and the states of a month's deposit (月度信息化存证), for the power
sector and data year Y: each month deposited within 40 days of its end (``checks.deposit_due``),
the data-quality plan by 31 December of Y−1, the annual report by 31 March of Y+1, the
verification by 30 June of Y+1. Dates come from the market clock, so a class can run a year of
deposits in an hour.

A deposit goes draft → deposited → passed or returned (the province's review) → locked (once
the annual report is in); a returned month is corrected and deposited again. Any other step is
refused with ``DEPOSIT_STEP`` and the states involved.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from mrv.model import MrvError


class DepositState(StrEnum):
    DRAFT = "draft"
    DEPOSITED = "deposited"
    PASSED = "passed"
    RETURNED = "returned"
    LOCKED = "locked"


STEPS: dict[DepositState, frozenset[DepositState]] = {
    DepositState.DRAFT: frozenset({DepositState.DEPOSITED}),
    DepositState.DEPOSITED: frozenset({DepositState.PASSED, DepositState.RETURNED}),
    DepositState.RETURNED: frozenset({DepositState.DEPOSITED}),
    DepositState.PASSED: frozenset({DepositState.LOCKED}),
    DepositState.LOCKED: frozenset(),
}


def step(now: DepositState, to: DepositState) -> DepositState:
    """The next state, or ``DEPOSIT_STEP`` when the platform does not allow it."""
    if to not in STEPS[now]:
        allowed = sorted(s.value for s in STEPS[now])
        raise MrvError("DEPOSIT_STEP", state=now.value, to=to.value, allowed=allowed)
    return to


@cache
def _calendar() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("platform.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def objection_working_days() -> int:
    """Working days an entity has to object to its verification result."""
    return int(_calendar()["windows"]["objection_working_days"])


def decision_working_days() -> int:
    """Working days the authority has to decide an objection."""
    return int(_calendar()["windows"]["decision_working_days"])


@dataclass(frozen=True, slots=True)
class Deadlines:
    """The power sector's dates for data year ``year`` (``platform.toml``)."""

    year: int

    def _due(self, name: str) -> dt.date:
        rule = _calendar()["deadlines"][name]
        month, day = (int(part) for part in rule["month_day"].split("-"))
        return dt.date(self.year + int(rule["year"]), month, day)

    @property
    def quality_plan(self) -> dt.date:
        return self._due("quality_plan")

    @property
    def annual_report(self) -> dt.date:
        return self._due("annual_report")

    @property
    def verification(self) -> dt.date:
        return self._due("verification")


def working_days_after(start: dt.date, days: int, holidays: frozenset[dt.date]) -> dt.date:
    """The day ``days`` working days after ``start`` (Monday to Friday, not a holiday): the
    windows for results (7), objections (7) and decisions (10) count so."""
    day = start
    left = days
    while left:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            left -= 1
    return day
