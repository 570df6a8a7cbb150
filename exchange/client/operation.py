"""One definition per operation, two clients: the ``operation`` descriptor.

A client method is written once, as a function that builds a ``Call``::

    @operation("getOrder")
    def get_order(self, order_id: int) -> Call[Order]:
        return Call("GET", self._market(f"/orders/{order_id}"))

On an ``AsyncTransport`` (``AsyncClient``) the attribute is a coroutine method answering
``Order``; on a ``SyncTransport`` (``Client``) a plain method answering ``Order``. The
``__get__`` overloads tell mypy so, from the builder's own signature (``ParamSpec``).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload
from urllib.parse import quote

from exchange.client.transport import AsyncTransport, Call, SyncTransport

P = ParamSpec("P")
T = TypeVar("T")


class Operation(Generic[P, T]):
    """The descriptor a builder becomes; ``operation_id`` is the OpenAPI operation it calls."""

    def __init__(self, operation_id: str, build: Callable[Concatenate[Any, P], Call[T]]) -> None:
        self.operation_id = operation_id
        self.build = build
        self.__doc__ = build.__doc__
        self.name = build.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, client: None, owner: type) -> Operation[P, T]: ...
    @overload
    def __get__(self, client: AsyncTransport, owner: type) -> Callable[P, Awaitable[T]]: ...
    @overload
    def __get__(self, client: SyncTransport, owner: type) -> Callable[P, T]: ...
    def __get__(self, client: object, owner: type) -> Any:
        if client is None:
            return self
        if not isinstance(client, AsyncTransport | SyncTransport):
            raise TypeError(f"{self.name} needs a client with a transport")
        transport = client

        @functools.wraps(self.build)
        def method(*args: P.args, **kwargs: P.kwargs) -> Any:
            call = self.build(transport, *args, **kwargs)
            if not call.operation_id:
                call = dataclasses.replace(call, operation_id=self.operation_id)
            return transport.execute(call)

        return method


def operation(
    operation_id: str,
) -> Callable[[Callable[Concatenate[Any, P], Call[T]]], Operation[P, T]]:
    """Make a ``Call`` builder a client method for ``operation_id``."""

    def wrap(build: Callable[Concatenate[Any, P], Call[T]]) -> Operation[P, T]:
        return Operation(operation_id, build)

    return wrap


def fields(**given: Any) -> dict[str, Any]:
    """A body or query without the ``None`` values (the server's defaults apply)."""
    return {name: value for name, value in given.items() if value is not None}


def segment(value: str | int) -> str:
    """A path segment, percent-encoded."""
    return quote(str(value), safe="")


class OperationsBase:
    """What the operation mixins share: the client's market and its paths."""

    market_id: str | None

    def _market(self, path: str = "") -> str:
        if self.market_id is None:
            raise ValueError("this operation needs the client's market_id")
        return f"/v1/markets/{segment(self.market_id)}{path}"

    def _account(self, account_id: str, path: str) -> str:
        return self._market(f"/accounts/{segment(account_id)}{path}")
