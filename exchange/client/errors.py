"""The client's exceptions.

``CarbonxError`` is an error the server answered: a REST problem document
(``application/problem+json``) or a WebSocket ``{"type": "error"}`` message. It carries the
stable ``code``, the ``detail`` prose and the numbers behind the refusal (``numbers``: every
member beside the standard ones, e.g. ``band_upper_fen``). One subclass per status lets a
caller catch a kind of error::

    CarbonxError
    ├── UnauthenticatedError  401  UNAUTHENTICATED
    ├── ForbiddenError        403  FORBIDDEN
    ├── NotFoundError         404  UNKNOWN_ORDER, UNKNOWN_MARKET, ...
    ├── RefusedError          409  the market's refusals: PRICE_OUTSIDE_BAND, ...
    ├── InvalidRequestError   422  INVALID_REQUEST
    ├── RateLimitedError      429  RATE_LIMITED (``retry_after_s``)
    └── UnavailableError      503  MARKET_STOPPED, MARKET_RECONNECTING, NOT_READY

``StreamError`` is about the WebSocket itself, not an answer: a sequence gap, a closed socket,
a silent link.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STANDARD_MEMBERS = frozenset({"type", "title", "status", "code", "detail", "seq", "req_id"})


class CarbonxError(Exception):
    """An error answered by the server, with its stable ``code`` and the numbers behind it."""

    status: int | None = None

    def __init__(
        self,
        status: int | None,
        code: str,
        detail: str = "",
        numbers: Mapping[str, Any] | None = None,
        *,
        operation_id: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        where = f" ({operation_id})" if operation_id else ""
        super().__init__(f"{status or ''} {code}{where}: {detail}".strip())
        self.status = status
        self.code = code
        self.detail = detail
        self.numbers: dict[str, Any] = dict(numbers or {})
        self.operation_id = operation_id
        self.retry_after_s = retry_after_s

    def __getitem__(self, name: str) -> Any:
        """``error["band_upper_fen"]``: one of the numbers behind the error."""
        return self.numbers[name]


class UnauthenticatedError(CarbonxError):
    """401: no key, or an unknown or revoked one."""


class ForbiddenError(CarbonxError):
    """403: the key's market, role or account does not allow this."""


class NotFoundError(CarbonxError):
    """404: no such market, order, instrument, account or key (or not the key's own)."""


class RefusedError(CarbonxError):
    """409: refused by the market, with the code and the numbers behind it."""


class InvalidRequestError(CarbonxError):
    """422: the request does not match the schema (``numbers["errors"]`` says where)."""


class RateLimitedError(CarbonxError):
    """429: the key is over its request rate; ``retry_after_s`` says when to come back."""


class UnavailableError(CarbonxError):
    """503: the market is not running; retry later."""


BY_STATUS: dict[int, type[CarbonxError]] = {
    401: UnauthenticatedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: RefusedError,
    422: InvalidRequestError,
    429: RateLimitedError,
    503: UnavailableError,
}
# WebSocket errors may come without a status: the codes that name one.
STATUS_OF_CODE = {
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "INVALID_REQUEST": 422,
    "INVALID_MESSAGE": 422,
    "RATE_LIMITED": 429,
    "MARKET_STOPPED": 503,
    "MARKET_RECONNECTING": 503,
}


def error_from_problem(
    body: Mapping[str, Any],
    status: int | None = None,
    *,
    operation_id: str | None = None,
    retry_after_s: float | None = None,
    refusal: bool = False,
) -> CarbonxError:
    """The exception for a problem document or a WebSocket error; ``refusal``: an order op's
    error without a status, a 409 unless its code names another."""
    code = str(body.get("code") or (f"HTTP_{status}" if status else "UNKNOWN_ERROR"))
    if status is None:
        given = body.get("status")
        status = given if isinstance(given, int) else STATUS_OF_CODE.get(code)
        if status is None and code.startswith("UNKNOWN_"):
            status = 404
        if status is None and refusal:
            status = 409
    numbers = {k: v for k, v in body.items() if k not in STANDARD_MEMBERS}
    if retry_after_s is None and isinstance(numbers.get("retry_after_s"), int | float):
        retry_after_s = float(numbers["retry_after_s"])
    kind = BY_STATUS.get(status or 0, CarbonxError)
    return kind(
        status,
        code,
        str(body.get("detail", "")),
        numbers,
        operation_id=operation_id,
        retry_after_s=retry_after_s,
    )


class StreamError(Exception):
    """Something wrong with the WebSocket stream itself."""


class SequenceGapError(StreamError):
    """A message's ``seq`` is not the one after the last: messages were lost. Re-subscribe
    (a book channel answers a fresh snapshot)."""

    def __init__(self, expected: int, got: int) -> None:
        super().__init__(f"sequence gap: expected seq {expected}, got {got}")
        self.expected = expected
        self.got = got


class StreamClosedError(StreamError):
    """The socket closed (``code``, ``reason``), e.g. 4008 for a slow consumer."""

    def __init__(self, code: int | None, reason: str = "") -> None:
        super().__init__(f"stream closed: {code} {reason}".strip())
        self.code = code
        self.reason = reason


class StreamTimeoutError(StreamError):
    """Nothing arrived, not even a heartbeat, for longer than the idle timeout."""
