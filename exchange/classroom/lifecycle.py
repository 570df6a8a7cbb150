"""A class's compliance cycle as a table: which phase may follow which.

allocation → trading → (mrv →) verification → surrender → assessment → (next year's)
allocation, or closed after the scenario's last year; nothing follows closed. The MRV phase
(``mrv``: the seats deposit their plant's months and a verifier signs them) comes only in a
class that has it (``ClassState.mrv``); without it trading is followed by verification. The
phase steps (``exchange.classroom.phases``) move a class only along ``PHASE_TRANSITIONS``, as
the matching engine moves an instrument only along its table (``matching.lifecycle``);
``check_step`` refuses anything else with a stable code.
"""

from __future__ import annotations

from enum import StrEnum

from exchange.classroom.errors import ClassroomError


class Phase(StrEnum):
    ALLOCATION = "allocation"
    TRADING = "trading"
    MRV = "mrv"
    VERIFICATION = "verification"
    SURRENDER = "surrender"
    ASSESSMENT = "assessment"
    CLOSED = "closed"


_P = Phase

PHASE_TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    _P.ALLOCATION: frozenset({_P.TRADING}),
    _P.TRADING: frozenset({_P.MRV, _P.VERIFICATION}),  # mrv in a class that has it
    _P.MRV: frozenset({_P.VERIFICATION}),
    _P.VERIFICATION: frozenset({_P.SURRENDER}),
    _P.SURRENDER: frozenset({_P.ASSESSMENT}),
    _P.ASSESSMENT: frozenset({_P.ALLOCATION, _P.CLOSED}),  # the next year, or the end
    _P.CLOSED: frozenset(),
}

# Seats declare abatement before verification takes their emissions.
ABATEMENT_PHASES = (_P.ALLOCATION, _P.TRADING)
# The scenario's bots trade from the year's trading until the next allocation.
BOT_PHASES = frozenset({_P.TRADING, _P.MRV, _P.VERIFICATION, _P.SURRENDER, _P.ASSESSMENT})


def following(phase: Phase, next_year: bool, mrv: bool = False) -> Phase | None:
    """The phase that follows ``phase`` (after trading: mrv in a class with ``mrv``, else
    verification; after assessment: the next year's allocation if the scenario has
    ``next_year``, else closed); None after closed."""
    if phase is _P.ASSESSMENT:
        return _P.ALLOCATION if next_year else _P.CLOSED
    if phase is _P.TRADING:
        return _P.MRV if mrv else _P.VERIFICATION
    return next(iter(PHASE_TRANSITIONS[phase]), None)  # one phase follows each of the others


def next_step(phase: Phase, next_year: bool, mrv: bool = False) -> Phase:
    """The phase a class in ``phase`` moves to (``following``), checked against the table;
    ``CLASS_CLOSED`` when none follows."""
    target = following(phase, next_year, mrv)
    if target is None:
        raise _closed()
    check_step(phase, target)
    return target


def check_step(phase: Phase, target: Phase) -> None:
    """Refuse a step the table does not allow: ``CLASS_CLOSED`` from closed, else
    ``INVALID_PHASE_TRANSITION`` with the phases that may follow."""
    allowed = PHASE_TRANSITIONS[phase]
    if target in allowed:
        return
    if not allowed:
        raise _closed()
    raise ClassroomError(
        "INVALID_PHASE_TRANSITION",
        f"{target.value} does not follow {phase.value}",
        phase=phase.value,
        to=target.value,
        allowed=sorted(p.value for p in allowed),
    )


def _closed() -> ClassroomError:
    return ClassroomError("CLASS_CLOSED", "the class is closed: no phase follows")
