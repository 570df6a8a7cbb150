"""The class's phase table (``exchange.classroom.lifecycle``): every legal step, and the
refusal with its code for every illegal one."""

from __future__ import annotations

import itertools

import pytest

from exchange.classroom.errors import CODES, ClassroomError, Kind
from exchange.classroom.lifecycle import (
    ABATEMENT_PHASES,
    BOT_PHASES,
    PHASE_TRANSITIONS,
    Phase,
    check_step,
    following,
    next_step,
)

P = Phase
LEGAL = [
    (P.ALLOCATION, P.TRADING),
    (P.TRADING, P.VERIFICATION),
    (P.TRADING, P.MRV),  # a class with the MRV phase
    (P.MRV, P.VERIFICATION),
    (P.VERIFICATION, P.SURRENDER),
    (P.SURRENDER, P.ASSESSMENT),
    (P.ASSESSMENT, P.ALLOCATION),  # the next compliance year
    (P.ASSESSMENT, P.CLOSED),  # after the scenario's last year
]
ILLEGAL = [pair for pair in itertools.product(Phase, Phase) if pair not in LEGAL]


def test_the_table_is_the_cycle() -> None:
    assert set(PHASE_TRANSITIONS) == set(Phase)
    assert {(a, b) for a, targets in PHASE_TRANSITIONS.items() for b in targets} == set(LEGAL)
    assert PHASE_TRANSITIONS[P.CLOSED] == frozenset()
    assert [p.value for p in Phase] == [
        "allocation",
        "trading",
        "mrv",
        "verification",
        "surrender",
        "assessment",
        "closed",
    ]


@pytest.mark.parametrize(("phase", "target"), LEGAL)
def test_every_legal_step_passes(phase: Phase, target: Phase) -> None:
    check_step(phase, target)


@pytest.mark.parametrize(("phase", "target"), [p for p in ILLEGAL if p[0] is not P.CLOSED])
def test_every_illegal_step_is_refused_with_its_code(phase: Phase, target: Phase) -> None:
    with pytest.raises(ClassroomError) as refused:
        check_step(phase, target)
    error = refused.value
    assert error.code == "INVALID_PHASE_TRANSITION"
    assert error.kind is Kind.CONFLICT
    assert error.details == {
        "phase": phase.value,
        "to": target.value,
        "allowed": sorted(p.value for p in PHASE_TRANSITIONS[phase]),
    }


@pytest.mark.parametrize("target", list(Phase))
def test_nothing_follows_closed(target: Phase) -> None:
    with pytest.raises(ClassroomError) as refused:
        check_step(P.CLOSED, target)
    assert refused.value.code == "CLASS_CLOSED"
    assert refused.value.kind is Kind.CONFLICT
    assert refused.value.details == {}


def test_the_illegal_steps_are_all_the_others() -> None:
    assert len(LEGAL) + len(ILLEGAL) == len(Phase) ** 2


@pytest.mark.parametrize(
    ("phase", "next_year", "mrv", "expected"),
    [
        (P.ALLOCATION, False, False, P.TRADING),
        (P.TRADING, True, False, P.VERIFICATION),
        (P.TRADING, True, True, P.MRV),
        (P.MRV, True, True, P.VERIFICATION),
        (P.VERIFICATION, False, True, P.SURRENDER),
        (P.SURRENDER, True, False, P.ASSESSMENT),
        (P.ASSESSMENT, True, True, P.ALLOCATION),
        (P.ASSESSMENT, False, False, P.CLOSED),
        (P.CLOSED, True, False, None),
        (P.CLOSED, False, True, None),
    ],
)
def test_the_phase_that_follows(
    phase: Phase, next_year: bool, mrv: bool, expected: Phase | None
) -> None:
    assert following(phase, next_year, mrv) is expected
    if expected is None:
        with pytest.raises(ClassroomError, match="CLASS_CLOSED"):
            next_step(phase, next_year, mrv)
    else:
        assert next_step(phase, next_year, mrv) is expected
        assert expected in PHASE_TRANSITIONS[phase]


def test_abatement_and_bots_by_phase() -> None:
    assert ABATEMENT_PHASES == (P.ALLOCATION, P.TRADING)
    assert {P.TRADING, P.MRV, P.VERIFICATION, P.SURRENDER, P.ASSESSMENT} == BOT_PHASES


def test_every_code_has_a_kind() -> None:
    assert CODES == {
        "UNKNOWN_SCENARIO": Kind.INVALID,
        "INVALID_SCENARIO": Kind.INVALID,
        "TOO_MANY_GAS_FIRED_SEATS": Kind.INVALID,
        "NOT_A_CLASS": Kind.NOT_FOUND,
        "CLASS_CLOSED": Kind.CONFLICT,
        "INVALID_PHASE_TRANSITION": Kind.CONFLICT,
        "WRONG_CLASS_PHASE": Kind.CONFLICT,
        "ABATEMENT_OVER_MAX": Kind.CONFLICT,
        "FORBIDDEN": Kind.FORBIDDEN,
    }
    with pytest.raises(KeyError):
        ClassroomError("NO_SUCH_CODE", "a code without a kind is a bug")
