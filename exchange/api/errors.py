"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error the API answers has a stable machine ``code`` and the numbers behind it (a band,
a balance, a requested quantity) as extra members, beside ``type``, ``title``, ``status`` and
``detail``. A market's refusal (``Outcome.code``) becomes a 409 with the outcome's details
merged in; the few refusals that mean "no such thing here" become a 404, and ``NOT_OWNER``
answers exactly like ``UNKNOWN_ORDER`` so that another participant's orders stay invisible.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from exchange.classroom.errors import ClassroomError, Kind
from exchange.db.outage import DatabaseError, database_away
from exchange.mrv_desk.errors import Kind as MrvKind
from exchange.mrv_desk.errors import MrvDeskError
from exchange.runtime import Ack, MarketReconnectingError, MarketStoppedError

log = logging.getLogger("carbonx.api")

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:carbonx:problem:"
RESERVED = frozenset({"type", "title", "status", "code", "detail"})

# Market refusals that say "not found" rather than "refused".
NOT_FOUND_CODES = frozenset({"UNKNOWN_ORDER", "UNKNOWN_INSTRUMENT", "UNKNOWN_ACCOUNT"})
# Codes answered as another code, with only the numbers that code carries.
DISGUISED = {"NOT_OWNER": "UNKNOWN_ORDER"}
# Generic codes for HTTP errors that come from routing, not from carbonx.
HTTP_CODES = {
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


class ApiError(Exception):
    """An error answered as a problem: ``ApiError(409, "PRICE_OUTSIDE_BAND", "...",
    price_fen=7000, band_upper_fen=6600)``."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        **numbers: Any,
    ) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})
        self.numbers = {k: v for k, v in numbers.items() if k not in RESERVED}


def refusal(code: str, details: Mapping[str, Any]) -> ApiError:
    """The problem for a market's refusal of a command."""
    if code in DISGUISED:
        code = DISGUISED[code]
        details = {k: v for k, v in details.items() if k == "order_id"}
    status = 404 if code in NOT_FOUND_CODES else 409
    numbers = {RENAMED_DETAILS.get(key, key): value for key, value in details.items()}
    return ApiError(status, code, f"refused by the market: {code}", **numbers)


# The status of each kind of the classroom's refusals (``exchange.classroom.errors``).
CLASSROOM_STATUS = {
    Kind.INVALID: 422,
    Kind.NOT_FOUND: 404,
    Kind.CONFLICT: 409,
    Kind.FORBIDDEN: 403,
}


def classroom_problem(error: ClassroomError) -> ApiError:
    """The problem for a classroom refusal: its code with the status of its kind, or, for a
    market's refusal the classroom passes on, what ``refusal`` makes of it."""
    if error.kind is Kind.REFUSED:
        return refusal(error.code, error.details)
    return ApiError(CLASSROOM_STATUS[error.kind], error.code, error.message, **error.details)


# The status of each kind of the MRV desk's refusals (``exchange.mrv_desk.errors``).
MRV_STATUS = {
    MrvKind.INVALID: 422,
    MrvKind.NOT_FOUND: 404,
    MrvKind.CONFLICT: 409,
    MrvKind.FORBIDDEN: 403,
}


def mrv_problem(error: MrvDeskError) -> ApiError:
    """The problem for a refusal of the MRV desk: its code with the status of its kind."""
    return ApiError(MRV_STATUS[error.kind], error.code, error.message, **error.details)


def accepted(ack: Ack) -> Ack:
    """The ack itself, or the market's refusal as an ``ApiError``."""
    outcome = ack.outcome
    if outcome.code is not None:
        raise refusal(outcome.code, outcome.details)
    return ack


# A refusal's detail whose name is one of the problem document's own fields (ORDER_NOT_OPEN's
# ``status``: the order's) is renamed, so it neither clashes with nor overwrites that field.
RENAMED_DETAILS = {
    "status": "order_status",
    "type": "detail_type",
    "title": "detail_title",
    "code": "detail_code",
    "detail": "detail_text",
}


def problem_body(error: ApiError) -> dict[str, Any]:
    """The problem document of ``error``: the five standard members and its numbers."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + error.code,
        "title": _title(error.status),
        "status": error.status,
        "code": error.code,
        "detail": error.detail,
    }
    body.update(jsonable_encoder(error.numbers))
    return body


def problem_response(error: ApiError) -> JSONResponse:
    return JSONResponse(
        problem_body(error),
        status_code=error.status,
        headers=error.headers,
        media_type=PROBLEM_JSON,
    )


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def _api_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return problem_response(error)


async def _classroom_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ClassroomError)
    return problem_response(classroom_problem(error))


async def _mrv_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, MrvDeskError)
    return problem_response(mrv_problem(error))


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in error.errors()
    ]
    return problem_response(
        ApiError(422, "INVALID_REQUEST", "the request does not match the schema", errors=errors)
    )


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = HTTP_CODES.get(error.status_code, f"HTTP_{error.status_code}")
    headers = dict(error.headers or {})
    return problem_response(ApiError(error.status_code, code, str(error.detail), headers=headers))


RECONNECTING_RETRY_AFTER_S = 1  # what a MARKET_RECONNECTING answer asks a client to wait


def unavailable(error: MarketStoppedError) -> ApiError:
    """The 503 of a market that takes nothing now: ``MARKET_RECONNECTING`` while it
    reconnects to its database (retry after a second), else ``MARKET_STOPPED``."""
    if isinstance(error, MarketReconnectingError):
        return ApiError(
            503,
            error.code,
            "the market is reconnecting to its database; retry shortly",
            headers={"Retry-After": str(RECONNECTING_RETRY_AFTER_S)},
        )
    return ApiError(503, "MARKET_STOPPED", "the market is not running")


async def _market_stopped(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, MarketStoppedError)
    if isinstance(error, MarketReconnectingError):
        log.warning("request refused: %s", error)
    else:
        log.error("request refused: %s", error)
    return problem_response(unavailable(error))


DATABASE_RETRY_AFTER_S = 1


def database_unavailable() -> ApiError:
    """The 503 of a request that needed the database while it cannot be reached (a
    failover, a restart): nothing was done, retry shortly."""
    return ApiError(
        503,
        "DATABASE_UNAVAILABLE",
        "the database cannot be reached just now; retry shortly",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)},
    )


async def _database_error(_request: Request, error: Exception) -> JSONResponse:
    """A read or a key lookup that met the database away: 503; any other database error is
    a bug, answered 500 as before."""
    if not database_away(error):
        raise error
    log.warning("request refused, the database is away: %r", error)
    return problem_response(database_unavailable())


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` as a problem."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(ClassroomError, _classroom_error)
    app.add_exception_handler(MrvDeskError, _mrv_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(MarketStoppedError, _market_stopped)
    app.add_exception_handler(DatabaseError, _database_error)
