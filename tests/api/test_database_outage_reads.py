"""Requests that read the database itself (a key not yet in the cache, an account's fills),
while PostgreSQL is away and once it is back, as in a failover that ends every connection
(found by the fault campaign, ``tests/faults``): during the outage they are answered 503
``DATABASE_UNAVAILABLE`` with ``Retry-After`` (a socket's auth: that error and close 1013),
never a 500 or a socket cut without a word; afterwards they are answered as before, although
every connection the pool held died with the outage.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from exchange.cli import prepare_demo
from tests.api.conftest import client
from tests.api.server import DemoServer, start_serve
from tests.api.test_database_blip import admin, database_url  # noqa: F401 - the fixture
from tests.api.test_gateway import assert_problem, place
from tests.integration.conftest import postgres_url  # noqa: F401 - the fixture

M = "/v1/markets/demo"
TRY_AGAIN_LATER = 1013  # RFC 6455: the server is overloaded or away for a while
# A refused socket is closed right after its error message: waited for at most CLOSE_WAIT_S.
# An authenticated one must stay open: watched for OPEN_WATCH_S (a close after its "authed"
# would come with it, as the refusal's does), not for the whole CLOSE_WAIT_S.
CLOSE_WAIT_S, OPEN_WATCH_S = 10.0, 1.0


def cut(admin_url: str, name: str) -> None:
    """No new connection to the database, and every server backend on it ended."""
    asyncio.run(
        admin(
            admin_url,
            f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()",
        )
    )


def restore(admin_url: str, name: str) -> None:
    asyncio.run(admin(admin_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))


def socket_auth(
    server: DemoServer, key: str, watch_s: float
) -> tuple[dict[str, object], int | None]:
    """The first message a socket authenticated by ``key`` gets, and its close code if it
    was closed within ``watch_s`` after it."""
    url = server.base_url.replace("http", "ws") + f"/v1/ws?key={key}&market_id=demo"
    with connect(url, open_timeout=10) as socket:
        first = json.loads(socket.recv(10))
        try:
            socket.recv(watch_s)
        except ConnectionClosed as closed:
            return first, closed.rcvd.code if closed.rcvd is not None else None
        except TimeoutError:
            pass
        return first, None


def test_reads_of_the_database_outlast_its_going_away(
    postgres_url: str,  # noqa: F811 - the imported fixture
    database_url: str,  # noqa: F811 - the imported fixture
    tmp_path: Path,
) -> None:
    name = make_url(database_url).database
    assert name is not None
    keys = asyncio.run(prepare_demo(database_url))
    server = start_serve(database_url, tmp_path, keys)
    try:
        with client(server, keys["participants"]["P001"]) as p001:
            assert place(p001, price_fen=5_900).status_code == 201
            assert p001.get(f"{M}/fills").status_code == 200
            with client(server, keys["operator_key"]) as operator:
                issued = [
                    operator.post(f"{M}/keys", json={"role": "participant", "account_id": "P002"})
                    for _ in range(2)
                ]
            fresh_rest, fresh_socket = (reply.json()["api_key"] for reply in issued)

            cut(postgres_url, name)
            fills = assert_problem(p001.get(f"{M}/fills"), 503, "DATABASE_UNAVAILABLE")
            assert fills["detail"]
            with client(server, fresh_rest) as p002:
                unknown = p002.get(f"{M}/orders")
            assert_problem(unknown, 503, "DATABASE_UNAVAILABLE")
            assert unknown.headers["Retry-After"] == "1"
            first, code = socket_auth(server, fresh_socket, CLOSE_WAIT_S)
            assert (first["type"], first["code"], code) == (
                "error",
                "DATABASE_UNAVAILABLE",
                TRY_AGAIN_LATER,
            )

            restore(postgres_url, name)
            # Every connection the pool held died in the outage: none of them may answer.
            for _ in range(3):
                assert p001.get(f"{M}/fills").status_code == 200
            with client(server, fresh_rest) as p002:
                assert p002.get(f"{M}/orders").status_code == 200
            first, code = socket_auth(server, fresh_socket, OPEN_WATCH_S)
            assert (first["type"], code) == ("authed", None)
            assert httpx.get(server.base_url + "/readyz", timeout=10).status_code == 200
    finally:
        server.stop()
