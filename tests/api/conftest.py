"""Clients of a test module's demo server: each module defines its own ``server`` fixture
(a real ``carbonx demo`` process, see server.py); these fixtures hold keyed clients on it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.server import DemoServer


def client(server: DemoServer, key: str | None) -> httpx.Client:
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=10.0)


@pytest.fixture(scope="module")
def p001(server: DemoServer) -> Iterator[httpx.Client]:
    with client(server, server.keys["participants"]["P001"]) as c:
        yield c


@pytest.fixture(scope="module")
def p002(server: DemoServer) -> Iterator[httpx.Client]:
    with client(server, server.keys["participants"]["P002"]) as c:
        yield c


@pytest.fixture(scope="module")
def operator(server: DemoServer) -> Iterator[httpx.Client]:
    with client(server, server.keys["operator_key"]) as c:
        yield c


@pytest.fixture(scope="module")
def exchange_operator(server: DemoServer) -> Iterator[httpx.Client]:
    with client(server, server.keys["exchange_operator_key"]) as c:
        yield c
