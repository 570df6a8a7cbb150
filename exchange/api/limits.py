"""The request body's size limit: ``BodyLimitMiddleware``.

FastAPI reads a route's whole body before its dependencies run, the key check among them, so
without a limit one keyless POST of 100 MB grew the server by 300 MB. Here a body is refused
with 413 ``PAYLOAD_TOO_LARGE`` (``limit_bytes``, ``size_bytes``) before the rest is read: a
declared ``Content-Length`` over the limit before a byte of the body is taken, a chunked body
as soon as the bytes counted pass it. The answer closes the connection, so the client's unsent
rest is never read either.

The limit is ``Settings.body_max_bytes`` unless the route declares a larger one in its
OpenAPI extension ``x-body-max-bytes`` (``createClassMarket``'s scenario YAML). A body larger
than the default is read only for a valid key: anyone else gets the 401 ``UNAUTHENTICATED``
first, so a keyless client can hold at most the default on each connection.
"""

from __future__ import annotations

import json

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exchange.api.auth import find_principal
from exchange.api.errors import PROBLEM_JSON, ApiError, problem_body

BODY_MAX_BYTES_EXTENSION = "x-body-max-bytes"


def body_max_bytes(limit: int) -> dict[str, int]:
    """A route's ``openapi_extra`` that lets its body be larger than the default."""
    return {BODY_MAX_BYTES_EXTENSION: limit}


class _RefusedError(Exception):
    """Raised from ``receive`` to stop the app reading; the middleware answers instead."""


def route_max_bytes(scope: Scope, default: int) -> int:
    """The body limit of the route the request was routed to."""
    route = scope.get("route")
    extra = getattr(route, "openapi_extra", None) or {}
    limit = extra.get(BODY_MAX_BYTES_EXTENSION)
    return limit if isinstance(limit, int) else default


def declared_length(scope: Scope) -> int | None:
    """The request's ``Content-Length``, or None (chunked, absent, or not a number)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def too_large(limit: int, size: int, declared: bool) -> ApiError:
    what = "declares" if declared else "has passed"
    return ApiError(
        413,
        "PAYLOAD_TOO_LARGE",
        f"the body {what} {size} bytes; this operation takes at most {limit}",
        limit_bytes=limit,
        size_bytes=size,
    )


async def key_is_valid(scope: Scope) -> bool:
    """The request carries a bearer key that is known and not revoked, looked up as every
    key is (``exchange.api.auth.find_principal``: an address out of failed lookups is refused
    429 ``RATE_LIMITED`` before the lookup)."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return await find_principal(HTTPConnection(scope), token.strip()) is not None
    return False


class BodyLimitMiddleware:
    """Count each HTTP request's body as the app reads it; refuse it past its limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        default = self.max_bytes
        refused: ApiError | None = None
        limit = default
        received = 0
        first = True
        app_started = False

        async def counted_receive() -> Message:
            nonlocal refused, limit, received, first
            if refused is not None:
                raise _RefusedError
            if first:  # routed by now: the route's limit, and its key check, before any byte
                first = False
                limit = route_max_bytes(scope, default)
                declared = declared_length(scope)
                if declared is not None and declared > limit:
                    refused = too_large(limit, declared, declared=True)
                    raise _RefusedError
                bigger = declared is None or declared > default
                try:
                    valid = not (limit > default and bigger) or await key_is_valid(scope)
                except ApiError as throttled:
                    refused = throttled
                    raise _RefusedError from None
                if not valid:
                    refused = ApiError(
                        401,
                        "UNAUTHENTICATED",
                        f"a body over {default} bytes needs a valid API key",
                        headers={"WWW-Authenticate": "Bearer"},
                    )
                    raise _RefusedError
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = too_large(limit, received, declared=False)
                    raise _RefusedError
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal app_started
            if refused is not None:
                return  # the app's answer to the refusal (FastAPI makes it a 400): ours instead
            if message["type"] == "http.response.start":
                app_started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if refused is None or app_started:
                raise
        if refused is not None and not app_started:
            await send_problem(send, refused, close=True)


async def send_problem(send: Send, error: ApiError, *, close: bool) -> None:
    """Answer ``error`` as a problem document; ``close``: and end the connection after it."""
    body = json.dumps(problem_body(error), separators=(",", ":")).encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in error.headers.items()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
