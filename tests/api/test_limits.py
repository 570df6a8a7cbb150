"""The body's size limit and the scenario's YAML limits against a real ``carbonx demo``
process: a body over its limit is refused before the rest is read, so the server's memory
stays where it was; a class scenario is parsed off the event loop, within limits.

Memory is the server's resident set (``VmRSS`` in ``/proc``), read before and after; before
the limit, one 100 MB body without a key grew it by 200-300 MB and eight 50 MB bodies by
a gigabyte.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from exchange.api.routes.classroom import SCENARIO_BODY_MAX_BYTES
from exchange.sim.scenario import SCENARIO_YAML_LIMITS
from tests.api.conftest import client
from tests.api.raw_http import head, open_connection, read_response, send_until_answered
from tests.api.server import DemoServer, start_demo
from tests.api.test_gateway import assert_problem

BODY_MAX_BYTES = 64 * 1024  # the default (Settings.body_max_bytes)
MB = 1 << 20
# What the server's resident set may grow by while refusing bodies many times larger.
RSS_GROWTH_MAX_MB = 40
ORDERS = "/v1/markets/demo/orders"
CREATE_CLASS = "/v1/markets/from-scenario"
names = (f"limits{n}" for n in itertools.count(1))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    running = start_demo(tmp_path_factory.mktemp("limits") / "demo.db")
    try:
        yield running
    finally:
        running.stop()


def port_of(server: DemoServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


def rss_mb(server: DemoServer) -> float:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    line = next(x for x in status.splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def json_filler(size: int, piece: int = 256 * 1024) -> Iterator[bytes]:
    """``size`` bytes of a JSON array that never ends, in pieces."""
    yield b"["
    sent = 1
    while sent < size:
        part = b"1," * min(piece // 2, (size - sent) // 2 + 1)
        yield part
        sent += len(part)


def chunked(pieces: Iterator[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


def post_raw(
    server: DemoServer, path: str, size: int, *, declare: bool, key: str | None = None
) -> tuple[int, Any]:
    """POST ``size`` bytes to ``path``, with a Content-Length (``declare``) or chunked; the
    bytes the server took before it answered, and its answer."""
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["authorization"] = f"Bearer {key}"
    headers.update({"content-length": str(size)} if declare else {"transfer-encoding": "chunked"})
    with open_connection(port_of(server)) as sock:
        sock.sendall(head("POST", path, headers))
        body = json_filler(size)
        sent = send_until_answered(sock, body if declare else chunked(body))
        response = read_response(sock)
    assert response is not None, "the server closed without an answer"
    assert response.headers["content-type"] == "application/problem+json"
    return sent, (response.status, response.json())


def test_a_declared_length_over_the_limit_is_refused_before_the_body(server: DemoServer) -> None:
    headers = {"content-type": "application/json", "content-length": str(100 * MB)}
    with open_connection(port_of(server)) as sock:
        sock.sendall(head("POST", ORDERS, headers))  # and not one byte of the body
        response = read_response(sock)
        assert response is not None
        assert response.headers["connection"] == "close"
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
    assert response.status == 413
    assert problem["code"] == "PAYLOAD_TOO_LARGE"
    assert problem["limit_bytes"] == BODY_MAX_BYTES
    assert problem["size_bytes"] == 100 * MB


def test_a_100_mb_body_without_a_key_leaves_the_memory_as_it_was(server: DemoServer) -> None:
    before = rss_mb(server)
    sent, (status, problem) = post_raw(server, ORDERS, 100 * MB, declare=True)
    assert (status, problem["code"]) == (413, "PAYLOAD_TOO_LARGE")
    assert sent < 100 * MB  # the connection closed under the sender
    assert rss_mb(server) - before < RSS_GROWTH_MAX_MB


def test_chunked_bodies_are_counted_as_they_stream(server: DemoServer) -> None:
    before = rss_mb(server)
    answers: list[tuple[int, Any]] = []

    def post() -> None:
        answers.append(post_raw(server, ORDERS, 50 * MB, declare=False))

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 8
    for sent, (status, problem) in answers:
        assert (status, problem["code"]) == (413, "PAYLOAD_TOO_LARGE")
        assert problem["limit_bytes"] == BODY_MAX_BYTES
        assert BODY_MAX_BYTES < problem["size_bytes"] <= sent < 50 * MB
    assert rss_mb(server) - before < RSS_GROWTH_MAX_MB


def test_bodies_within_the_limit_are_served_as_before(server: DemoServer) -> None:
    with client(server, server.keys["participants"]["P001"]) as p001:
        order = {"symbol": "CEA2025", "side": "buy", "order_type": "limit", "qty_t": 1}
        placed = p001.post(ORDERS, json={**order, "price_fen": 5900})
        assert placed.status_code == 201, placed.text
        # Just under the limit: read whole, and refused by the schema, not by the limit.
        padded = p001.post(ORDERS, json={**order, "price_fen": 5900, "x": "y" * 60_000})
        assert_problem(padded, 422, "INVALID_REQUEST")


def yaml_body(size: int) -> dict[str, Any]:
    """A createClassMarket body of about ``size`` bytes (its YAML is a comment)."""
    return {"market_id": next(names), "yaml": "# " + "x" * (size - 100)}


def test_the_scenario_route_takes_more_but_only_with_a_valid_key(
    server: DemoServer, exchange_operator: httpx.Client
) -> None:
    body = yaml_body(150_000)  # over the default limit, within the route's
    with client(server, None) as nobody:
        keyless = nobody.post(CREATE_CLASS, json=body)
        assert_problem(keyless, 401, "UNAUTHENTICATED")
        assert "over 65536 bytes" in keyless.json()["detail"]
    with client(server, "cx_not-a-key-of-this-exchange") as stranger:
        assert_problem(stranger.post(CREATE_CLASS, json=body), 401, "UNAUTHENTICATED")
    read = exchange_operator.post(CREATE_CLASS, json=body)
    problem = assert_problem(read, 422, "INVALID_SCENARIO")  # read and parsed: a comment
    assert problem["problems"] == ["(top level): expected a mapping of fields"]
    too_big = exchange_operator.post(CREATE_CLASS, json=yaml_body(SCENARIO_BODY_MAX_BYTES + 1000))
    problem = assert_problem(too_big, 413, "PAYLOAD_TOO_LARGE")
    assert problem["limit_bytes"] == SCENARIO_BODY_MAX_BYTES


# ---------------------------------------------------------------------- the scenario's YAML


def alias_bomb(levels: int) -> str:
    """Nine of nine of nine ... ``levels`` deep, in a few hundred bytes: 9**levels nodes."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 9)}]")
    lines.append(f"firms: *a{levels - 1}")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_while_the_other_markets_answer(
    server: DemoServer, exchange_operator: httpx.Client
) -> None:
    bomb = alias_bomb(9)  # 387,420,489 nodes: parsed on the event loop, it held it ~45 s
    assert len(bomb.encode()) < 500
    answers: list[httpx.Response] = []
    thread = threading.Thread(
        target=lambda: answers.append(
            exchange_operator.post(CREATE_CLASS, json={"market_id": next(names), "yaml": bomb})
        )
    )
    with client(server, server.keys["participants"]["P002"]) as p002:
        thread.start()
        books = [p002.get("/v1/markets/demo/book/CEA2025") for _ in range(5)]
        thread.join()
    assert [b.status_code for b in books] == [200] * 5
    problem = assert_problem(answers[0], 422, "INVALID_SCENARIO")
    assert problem["limit"] == "nodes"
    assert problem["limit_max"] == SCENARIO_YAML_LIMITS.nodes_max
    assert "once its aliases are expanded" in problem["problems"][0]


def test_a_deeply_nested_scenario_is_a_problem_not_a_500(exchange_operator: httpx.Client) -> None:
    deep = "name: deep\nfirms: " + "[" * 5000 + "]" * 5000 + "\n"
    answer = exchange_operator.post(CREATE_CLASS, json={"market_id": next(names), "yaml": deep})
    problem = assert_problem(answer, 422, "INVALID_SCENARIO")
    depth_max = SCENARIO_YAML_LIMITS.depth_max
    assert (problem["limit"], problem["limit_max"]) == ("depth", depth_max)
    assert problem["problems"] == [f"line 2: nested more than {depth_max} deep"]
    assert json.dumps(problem)  # a whole problem document, not a plain-text 500
