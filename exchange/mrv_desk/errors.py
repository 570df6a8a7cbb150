"""Why the MRV desk refuses something: ``MrvDeskError(code, message, **numbers)``.

Each code has a kind (``Kind``) that says what sort of refusal it is; the gateway answers kinds
with HTTP statuses (``exchange.api.errors``). docs/api-errors.md lists every code, and the web
UI names each (``problem.CODE`` in ui/src/i18n).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    INVALID = "invalid"  # the data cannot be used (422)
    NOT_FOUND = "not_found"  # no such unit, month or report (404)
    CONFLICT = "conflict"  # the state does not allow it now (409)
    FORBIDDEN = "forbidden"  # this key may not do it (403)


CODES: dict[str, Kind] = {
    "MRV_NO_UNIT": Kind.CONFLICT,  # no monitoring plan for the account
    "MRV_UNKNOWN_MONTH": Kind.NOT_FOUND,
    "MRV_INVALID_DATA": Kind.INVALID,  # the calculator cannot use the data (mrv_code says why)
    "MRV_MONTH_NOT_OVER": Kind.CONFLICT,
    "MRV_MONTH_LOCKED": Kind.CONFLICT,  # not editable in its state
    "DEPOSIT_STEP": Kind.CONFLICT,  # a step mrv.platform does not allow
    "MRV_NOT_A_VERIFIER": Kind.CONFLICT,
    "MRV_UNKNOWN_KEY": Kind.NOT_FOUND,
    "MRV_VERIFIER_CONFLICT": Kind.CONFLICT,
    "MRV_NOT_ASSIGNED": Kind.FORBIDDEN,
    "MRV_FINDING_TARGET": Kind.INVALID,
    "MRV_NOT_VERIFIABLE": Kind.CONFLICT,  # the month is not deposited or passed
    "MRV_MONTHS_NOT_READY": Kind.CONFLICT,
    "MRV_REPORT_STATE": Kind.CONFLICT,
    "MRV_NO_REPORT": Kind.NOT_FOUND,
    "MRV_CUT_REFUSED": Kind.CONFLICT,  # the registry refused an ordered allocation cut
    "MRV_OBJECTION_LATE": Kind.CONFLICT,  # after the working days allowed
    "MRV_OBJECTION_OPEN": Kind.CONFLICT,  # not published while an objection is undecided
    "MRV_NO_ARTICLE": Kind.INVALID,  # not an article of mrv/enforcement.toml
    "MRV_FINE_OUT_OF_RANGE": Kind.INVALID,  # outside the article's range for the gains
    "MRV_NO_CUT_RULE": Kind.INVALID,  # an allocation cut under an article that has none
    "MRV_BAD_CUT": Kind.INVALID,  # the cut's share outside the article's
    "MRV_CUT_BASE_MISSING": Kind.INVALID,  # no tonnes for the cut's base
    "MRV_CREDIT_OUT_OF_ORDER": Kind.CONFLICT,  # dated before the record's last entry
    "FORBIDDEN": Kind.FORBIDDEN,
}


class MrvDeskError(Exception):
    """A refusal with a stable ``code`` (one of ``CODES``), a message and the numbers."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details
        self.kind = CODES[code]
