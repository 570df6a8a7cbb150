"""Why the classroom refuses something: ``ClassroomError(code, message, **details)``.

Each code has a kind (``Kind``) that says what sort of refusal it is without saying how a
transport answers it; the gateway maps kinds to HTTP statuses (``exchange.api.errors``). A
command the market refuses while the classroom sets up or moves a class is passed on with the
market's own code (``MarketRefusedError``), for the gateway to answer as it answers any refusal.
docs/api-errors.md lists every code.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    INVALID = "invalid"  # what was asked for cannot be (a scenario that does not exist or run)
    NOT_FOUND = "not_found"  # no such class
    CONFLICT = "conflict"  # the class's state does not allow it now
    FORBIDDEN = "forbidden"  # the class's rules do not allow this caller to do it
    REFUSED = "refused"  # the market refused a command; the code is the market's


CODES: dict[str, Kind] = {
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


class ClassroomError(Exception):
    """A refusal with a stable ``code`` (one of ``CODES``), a message for people and the
    numbers behind it: ``ClassroomError("ABATEMENT_OVER_MAX", "...", qty_t=9, max_t=5)``."""

    kind: Kind

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details
        self.kind = self._kind(code)

    def _kind(self, code: str) -> Kind:
        return CODES[code]


class MarketRefusedError(ClassroomError):
    """The market refused one of the class's own commands (its set-up, a phase step): a
    scenario the rules cannot host, or a market that has moved on; the market's code and
    details."""

    def __init__(self, code: str, details: Mapping[str, Any]) -> None:
        super().__init__(code, f"refused by the market: {code}", **details)

    def _kind(self, code: str) -> Kind:
        return Kind.REFUSED
