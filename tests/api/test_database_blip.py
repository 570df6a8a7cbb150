"""A real ``carbonx serve`` on PostgreSQL whose database goes away for a while, as in a
failover: the journal writer's backend is terminated and the database refuses connections.
The market reports itself reconnecting (``/readyz`` 503, ``/healthz`` still 200), refuses new
orders and reads with 503 ``MARKET_RECONNECTING`` rather than showing an order that is not
durable, acknowledges the order that was in flight once the database is back, and trades again;
after a SIGKILL and a restart every acknowledged order is there.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from sqlalchemy.engine import make_url

from exchange.cli import prepare_demo
from exchange.db.journal_store import PG_SERVER_SETTINGS
from tests.api.conftest import client
from tests.api.server import DemoServer, start_serve
from tests.api.test_gateway import assert_problem, place
from tests.integration.conftest import postgres_url  # noqa: F401 - the fixture

M = "/v1/markets/demo"
WAIT_S = 30.0
WRITER = PG_SERVER_SETTINGS["application_name"]


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def admin(url: str, *statements: str) -> list[Any]:
    """Run statements on the server's own database (not the one under test)."""
    connection = await asyncpg.connect(dsn(url))
    try:
        return [await connection.fetch(statement) for statement in statements]
    finally:
        await connection.close()


@pytest.fixture
def database_url(postgres_url: str) -> Iterator[str]:  # noqa: F811 - the imported fixture
    """A PostgreSQL database of its own (connections to it are what the test cuts)."""
    name = f"carbonx_blip_{uuid.uuid4().hex[:10]}"
    asyncio.run(admin(postgres_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin(postgres_url, f'DROP DATABASE "{name}" WITH (FORCE)'))


def ready(server: DemoServer) -> httpx.Response:
    return httpx.get(server.base_url + "/readyz", timeout=10.0)


def until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


def open_order_ids(c: httpx.Client) -> list[int]:
    listed = c.get(f"{M}/orders")
    assert listed.status_code == 200, listed.text
    return [o["order_id"] for o in listed.json()["orders"]]


def test_a_market_outlasts_its_database_going_away(
    postgres_url: str,  # noqa: F811 - the imported fixture
    database_url: str,
    tmp_path: Path,
) -> None:
    name = make_url(database_url).database
    keys = asyncio.run(prepare_demo(database_url))
    server = start_serve(database_url, tmp_path, keys)
    p001_key, p002_key = keys["participants"]["P001"], keys["participants"]["P002"]
    try:
        with client(server, p001_key) as p001, client(server, p002_key) as p002:
            first = place(p001, price_fen=5_900)
            assert first.status_code == 201, first.text
            body = ready(server).json()
            assert (body["status"], body["markets"][0]["state"]) == ("ready", "running")

            asyncio.run(
                admin(
                    postgres_url,
                    f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{name}' AND application_name = '{WRITER}'",
                )
            )
            in_flight: dict[str, httpx.Response] = {}

            def place_in_flight() -> None:  # its commit finds the connection gone
                with client(server, p001_key) as c:
                    c.timeout = httpx.Timeout(WAIT_S * 2)
                    in_flight["reply"] = place(c, price_fen=5_910)

            placing = threading.Thread(target=place_in_flight)
            placing.start()
            until(lambda: ready(server).status_code == 503, "readyz says not ready")
            not_ready = assert_problem(ready(server), 503, "NOT_READY")
            assert not_ready["markets"][0]["state"] == "reconnecting"
            assert httpx.get(server.base_url + "/healthz").status_code == 200, "alive"

            refused = place(p002, price_fen=5_950)
            assert_problem(refused, 503, "MARKET_RECONNECTING")
            assert refused.headers["Retry-After"] == "1"
            # The order in flight is applied, not durable: no read may show it.
            assert_problem(p001.get(f"{M}/orders"), 503, "MARKET_RECONNECTING")
            assert_problem(p001.get(f"{M}/book/CEA2025"), 503, "MARKET_RECONNECTING")
            assert placing.is_alive()
            assert "reply" not in in_flight, "acknowledged, not durable"

            asyncio.run(admin(postgres_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            placing.join(WAIT_S)
            second = in_flight["reply"]
            assert second.status_code == 201, second.text
            back = ready(server)
            assert back.status_code == 200, back.text
            assert back.json()["markets"][0]["reconnects"] == 1
            acked = [first.json()["order_id"], second.json()["order_id"]]
            assert open_order_ids(p001) == acked

            crossing = place(p002, side="sell", price_fen=5_910, qty_t=100)  # trades again
            assert crossing.status_code == 201, crossing.text
            assert crossing.json()["fills"], crossing.text
        server.kill()
        server = start_serve(database_url, tmp_path, keys)
        with client(server, p001_key) as p001:
            assert open_order_ids(p001) == acked[:1], "an acknowledged order was lost"
            traded = p001.get(f"{M}/orders/{acked[1]}").json()
            assert traded["status"] == "filled", traded
    finally:
        server.stop()
