"""Slow and greedy clients against a real ``carbonx demo`` process (``exchange.api.server``).

The server runs with 256 open files (``ulimit -n``), so ``connections_max`` is 156, at most 32
connections per client address and one-second header and body timeouts. Slow clients hold
connections from 127.0.0.2 and up, which the server tells apart from the well-behaved client
on 127.0.0.1. Before these limits, 300 such connections held every file the server could open,
and every other client's connection was reset.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.api.conftest import client
from tests.api.raw_http import RawResponse, head, open_connection, read_response
from tests.api.server import DemoServer, start_demo
from tests.api.test_gateway import assert_problem

OPEN_FILES = 256
CONNECTIONS_MAX = OPEN_FILES - 100  # exchange.api.server.FILES_RESERVED
PER_CLIENT = 32
TIMEOUT_S = 1.0
HEADER_MAX_BYTES = 4096
WS_MESSAGE_MAX_BYTES = 128 * 1024  # the default
SLOW = 300  # slow connections tried: more than the server may open files for
UNFINISHED = b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n"  # no blank line: never ends


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    env = {
        "CARBONX_CONNECTIONS_PER_CLIENT_MAX": str(PER_CLIENT),
        "CARBONX_HEADER_TIMEOUT_S": str(TIMEOUT_S),
        "CARBONX_BODY_TIMEOUT_S": str(TIMEOUT_S),
        "CARBONX_HEADER_MAX_BYTES": str(HEADER_MAX_BYTES),
    }
    database = tmp_path_factory.mktemp("slow") / "demo.db"
    running = start_demo(database, env, open_files_max=OPEN_FILES)
    try:
        yield running
    finally:
        running.stop()


def port_of(server: DemoServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


def hold_slow(server: DemoServer, count: int, sources: list[str]) -> list[socket.socket]:
    """``count`` connections, round-robin from ``sources``, each sending headers that never
    end; the ones the server may refuse are held as well."""
    held = []
    for n in range(count):
        sock = open_connection(port_of(server), sources[n % len(sources)])
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # refused already
            sock.sendall(UNFINISHED)
        held.append(sock)
    return held


def answers(held: list[socket.socket]) -> list[RawResponse | None]:
    """What the server answered on each connection before it closed it."""
    return [read_response(sock) for sock in held]


def close_all(held: list[socket.socket]) -> None:
    for sock in held:
        sock.close()


def test_slow_clients_of_one_address_leave_the_others_served(server: DemoServer) -> None:
    held = hold_slow(server, SLOW, ["127.0.0.2"])
    try:
        with client(server, server.keys["participants"]["P001"]) as p001:
            assert p001.get("/healthz").status_code == 200
            assert p001.get("/v1/markets/demo/book/CEA2025").status_code == 200
        # Every connection gets an answer: over the cap at once, the rest at their timeout.
        got = answers(held)
    finally:
        close_all(held)
    assert all(a is not None for a in got)
    codes = [a.json()["code"] for a in got if a is not None]
    assert codes.count("REQUEST_TIMEOUT") == PER_CLIENT
    assert codes.count("TOO_MANY_CONNECTIONS") == SLOW - PER_CLIENT
    refused = next(a for a in got if a is not None and a.status == 429)
    assert refused.json()["connections_per_client_max"] == PER_CLIENT
    assert refused.headers["retry-after"] == "1"
    timed_out = next(a for a in got if a is not None and a.status == 408)
    assert timed_out.json()["waiting_for"] == "headers"
    assert timed_out.json()["timeout_s"] == TIMEOUT_S


def test_a_full_server_answers_busy_then_serves_again(server: DemoServer) -> None:
    sources = [f"127.0.0.{n}" for n in range(10, 20)]  # 10 addresses, 16 each: 160 > 156
    held = hold_slow(server, CONNECTIONS_MAX + 4, sources)
    try:
        with client(server, None) as anyone:
            busy = anyone.get("/healthz")
            problem = assert_problem(busy, 503, "SERVER_BUSY")
            assert problem["connections_max"] == CONNECTIONS_MAX
            got = answers(held)  # the slow ones time out and go
            assert anyone.get("/healthz").status_code == 200
    finally:
        close_all(held)
    codes = sorted(a.json()["code"] for a in got if a is not None)
    assert codes.count("SERVER_BUSY") >= 4
    assert set(codes) == {"SERVER_BUSY", "REQUEST_TIMEOUT"}


def test_a_body_that_does_not_arrive_in_time(server: DemoServer) -> None:
    headers = {"content-type": "application/json", "content-length": "100"}
    with open_connection(port_of(server)) as sock:
        sock.sendall(head("POST", "/v1/markets/demo/orders", headers) + b'{"symbol": ')
        response = read_response(sock)
    assert response is not None
    assert response.status == 408
    assert response.json()["code"] == "REQUEST_TIMEOUT"
    assert response.json()["waiting_for"] == "body"


def test_headers_over_their_limit(server: DemoServer) -> None:
    with open_connection(port_of(server)) as sock:
        sock.sendall(UNFINISHED + b"x-padding: " + b"p" * HEADER_MAX_BYTES + b"\r\n")
        response = read_response(sock)
    assert response is not None
    assert response.status == 431
    assert response.json()["code"] == "HEADERS_TOO_LARGE"
    assert response.json()["header_max_bytes"] == HEADER_MAX_BYTES


def test_a_websocket_outlives_the_header_timeout(server: DemoServer) -> None:
    url = server.base_url.replace("http", "ws") + "/v1/ws"
    with connect(url, open_timeout=10.0) as ws:
        # A connection that times out after the socket opened: a sweep has passed it by.
        with open_connection(port_of(server)) as sock:
            sock.sendall(UNFINISHED)
            timed_out = read_response(sock)
        assert timed_out is not None
        assert timed_out.status == 408
        key = server.keys["participants"]["P001"]
        ws.send(json.dumps({"op": "auth", "market_id": "demo", "key": key}))
        authed = json.loads(ws.recv(timeout=10.0))
    assert (authed["type"], authed["account_id"]) == ("authed", "P001")


def test_a_websocket_message_over_its_limit_closes_the_socket(server: DemoServer) -> None:
    url = server.base_url.replace("http", "ws") + "/v1/ws"
    with connect(url, open_timeout=10.0, max_size=None) as ws:
        ws.send(json.dumps({"op": "ping", "padding": "p" * WS_MESSAGE_MAX_BYTES}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10.0)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009  # message too big
