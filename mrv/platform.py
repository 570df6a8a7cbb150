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
from dataclasses import dataclass
from enum import StrEnum

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


@dataclass(frozen=True, slots=True)
class Deadlines:
    """The power sector's dates for data year ``year``."""

    year: int

    @property
    def quality_plan(self) -> dt.date:
        return dt.date(self.year - 1, 12, 31)

    @property
    def annual_report(self) -> dt.date:
        return dt.date(self.year + 1, 3, 31)

    @property
    def verification(self) -> dt.date:
        return dt.date(self.year + 1, 6, 30)


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
