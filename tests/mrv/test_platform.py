"""The deposit states, the power sector's deadlines and working-day windows; the 2024
Regulation's fines and allocation cuts; the credit record."""

from __future__ import annotations

import datetime as dt

import pytest

from mrv.enforcement import CreditEntry, CreditRecord, allocation_cut_t, fine_range_fen
from mrv.model import MrvError
from mrv.platform import (
    Deadlines,
    DepositState,
    decision_working_days,
    objection_working_days,
    step,
    working_days_after,
)

S = DepositState


def test_a_deposit_goes_draft_deposited_reviewed_locked() -> None:
    state = step(S.DRAFT, S.DEPOSITED)
    state = step(state, S.RETURNED)  # the province returns it
    state = step(state, S.DEPOSITED)  # corrected
    state = step(state, S.PASSED)
    assert step(state, S.LOCKED) is S.LOCKED
    with pytest.raises(MrvError) as refused:
        step(S.LOCKED, S.DEPOSITED)
    assert refused.value.code == "DEPOSIT_STEP"
    assert refused.value.details == {"state": "locked", "to": "deposited", "allowed": []}
    with pytest.raises(MrvError):
        step(S.DRAFT, S.PASSED)


def test_the_power_sectors_deadlines_and_windows() -> None:
    d = Deadlines(2025)
    assert (d.quality_plan, d.annual_report, d.verification) == (
        dt.date(2024, 12, 31),
        dt.date(2026, 3, 31),
        dt.date(2026, 6, 30),
    )
    assert (objection_working_days(), decision_working_days()) == (7, 10)
    # Seven working days after Tuesday 30 June 2026: Thursday 9 July; a holiday on the
    # Monday pushes it to Friday 10 July.
    assert working_days_after(dt.date(2026, 6, 30), 7, frozenset()) == dt.date(2026, 7, 9)
    holiday = frozenset({dt.date(2026, 7, 6)})
    assert working_days_after(dt.date(2026, 6, 30), 7, holiday) == dt.date(2026, 7, 10)


def test_fines_by_article_with_and_without_gains() -> None:
    """Art. 21: CNY 50,000-500,000. Art. 22 with CNY 1,000,000 of gains: 5-10 × them; with
    none (or under CNY 500,000): CNY 500,000-2,000,000. A verifier (Art. 23): CNY
    200,000-1,000,000."""
    assert fine_range_fen("art21") == (5_000_000, 50_000_000)
    assert fine_range_fen("art22", 100_000_000) == (500_000_000, 1_000_000_000)
    assert fine_range_fen("art22", 49_999_999) == (50_000_000, 200_000_000)
    assert fine_range_fen("art23_verifier") == (20_000_000, 100_000_000)
    with pytest.raises(MrvError) as unknown:
        fine_range_fen("art99")
    assert unknown.value.code == "NO_ARTICLE"


def test_the_allocation_cut_on_either_base() -> None:
    """Half of next year's 1,000,000 t allocation, or half of 51,760 t misreported."""
    assert allocation_cut_t(5_000, next_year_allocation_t=1_000_000, misreported_t=51_760) == (
        500_000
    )
    by_difference = allocation_cut_t(
        5_000, next_year_allocation_t=1_000_000, misreported_t=51_760, base="misreported_t"
    )
    assert by_difference == 25_880
    with pytest.raises(MrvError) as low:
        allocation_cut_t(4_000, next_year_allocation_t=1, misreported_t=1)
    assert low.value.details == {"cut_bp": 4_000, "min_bp": 5_000, "max_bp": 10_000}


def test_the_credit_record_keeps_fines_in_range_and_in_order() -> None:
    record = CreditRecord("E1")
    record.add(CreditEntry(dt.date(2026, 7, 1), "art21", 10_000_000))
    record.add(CreditEntry(dt.date(2026, 8, 1), "art22", 600_000_000, gains_fen=100_000_000))
    assert record.fines_fen == 610_000_000
    with pytest.raises(MrvError) as high:
        record.add(CreditEntry(dt.date(2026, 9, 1), "art21", 60_000_000))
    assert high.value.code == "FINE_OUT_OF_RANGE"
    with pytest.raises(MrvError) as early:
        record.add(CreditEntry(dt.date(2026, 1, 1), "art21", 10_000_000))
    assert early.value.code == "CREDIT_OUT_OF_ORDER"
    assert len(record.entries) == 2
