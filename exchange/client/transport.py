"""Requests as data, and the two transports that execute them.

Every client method builds a ``Call`` (method, path, query, body); ``AsyncTransport`` sends it
with ``httpx.AsyncClient``, ``SyncTransport`` with ``httpx.Client``. Both share the decoding
(``decode``) and the retry policy (``RetryPolicy``), so the sync and async clients cannot
drift apart: only the two ``execute`` loops differ, by ``await``.

Retries, both bounded and both off unless asked for:

* a 429 is retried after its ``Retry-After`` when ``RetryPolicy.rate_limited`` allows more
  attempts and the wait is within ``max_wait_s`` (a longer wait raises at once);
* a connection error is retried only for a call marked ``repeatable`` (an order with a
  ``client_order_id``: the server answers a repeat with the original order).
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Self, TypeVar, cast

import httpx

from exchange.client.errors import CarbonxError, error_from_problem

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 10.0
Params = Mapping[str, str | int | bool]


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One request, not yet sent; ``T`` is what a success answers."""

    method: str
    path: str
    params: Params | None = None
    body: Any = None
    repeatable: bool = False  # safe to send again after a connection error
    operation_id: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times to retry, and how long to wait at most."""

    rate_limited: int = 0  # retries of a 429 (after its Retry-After)
    max_wait_s: float = 30.0  # a longer Retry-After is not waited for
    connection: int = 3  # retries of a repeatable call after a connection error
    backoff_s: float = 0.1  # first wait after a connection error; doubles each time

    def after_response(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying this answer, or None: do not retry."""
        if response.status_code != 429 or attempt >= self.rate_limited:
            return None
        wait_s = retry_after_s(response)
        if wait_s is None or wait_s > self.max_wait_s:
            return None
        return wait_s

    def after_connection_error(self, call: Call[Any], attempt: int) -> float | None:
        if not call.repeatable or attempt >= self.connection:
            return None
        return min(self.backoff_s * (1 << attempt), self.max_wait_s)


def retry_after_s(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds: a number of seconds or an HTTP date."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def decode(call: Call[T], response: httpx.Response) -> T:
    """A success's JSON, or the ``CarbonxError`` for an error."""
    if response.is_success:
        return cast(T, response.json())
    raise error_of(call, response)


def error_of(call: Call[Any], response: httpx.Response) -> CarbonxError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {"detail": response.text[:200]}
    return error_from_problem(
        body,
        response.status_code,
        operation_id=call.operation_id or None,
        retry_after_s=retry_after_s(response),
    )


def _headers(key: str | None) -> dict[str, str]:
    return {} if key is None else {"Authorization": f"Bearer {key}"}


class AsyncTransport:
    """Executes calls with ``httpx.AsyncClient``; close it with ``aclose`` or ``async with``."""

    def __init__(
        self,
        base_url: str,
        key: str | None = None,
        market_id: str | None = None,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.market_id = market_id
        self.retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=_headers(key), timeout=timeout_s, transport=transport
        )

    async def execute(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = await self._http.request(
                    call.method, call.path, params=call.params, json=call.body
                )
            except httpx.TransportError:
                wait_s = self.retry.after_connection_error(call, attempt)
                if wait_s is None:
                    raise
            else:
                wait_s = self.retry.after_response(response, attempt)
                if wait_s is None:
                    return decode(call, response)
            attempt += 1
            await asyncio.sleep(wait_s)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()


class SyncTransport:
    """Executes calls with ``httpx.Client``; close it with ``close`` or ``with``."""

    def __init__(
        self,
        base_url: str,
        key: str | None = None,
        market_id: str | None = None,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.market_id = market_id
        self.retry = retry or RetryPolicy()
        self._http = httpx.Client(
            base_url=self.base_url, headers=_headers(key), timeout=timeout_s, transport=transport
        )

    def execute(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    call.method, call.path, params=call.params, json=call.body
                )
            except httpx.TransportError:
                wait_s = self.retry.after_connection_error(call, attempt)
                if wait_s is None:
                    raise
            else:
                wait_s = self.retry.after_response(response, attempt)
                if wait_s is None:
                    return decode(call, response)
            attempt += 1
            time.sleep(wait_s)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
