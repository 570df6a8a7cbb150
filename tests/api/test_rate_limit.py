"""The per-key token bucket, against a real ``carbonx demo`` started with a low limit."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from exchange.api.errors import ApiError
from exchange.api.ratelimit import RateLimiter
from tests.api.server import DemoServer, start_demo

LIMIT = {"CARBONX_RATE_LIMIT_PER_S": "5", "CARBONX_RATE_LIMIT_BURST": "5"}
BOOK = "/v1/markets/demo/book/CEA2025"
KEYS = "/v1/markets/demo/keys"
WAIT_S = 5.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    running = start_demo(tmp_path_factory.mktemp("rate") / "demo.db", env=LIMIT)
    try:
        yield running
    finally:
        running.stop()


def client(server: DemoServer, key: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=10.0)


def test_a_key_over_its_limit_gets_429_with_retry_after(server: DemoServer) -> None:
    with client(server, server.keys["participants"]["P001"]) as p001:
        statuses = [p001.get(BOOK) for _ in range(20)]
        assert statuses[0].status_code == 200
        limited = [r for r in statuses if r.status_code == 429]
        assert limited, [r.status_code for r in statuses]
        response = limited[0]
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert (body["status"], body["code"]) == (429, "RATE_LIMITED")
        assert (body["limit_per_s"], body["burst"]) == (5, 5)
        retry_after = int(response.headers["retry-after"])
        assert retry_after >= 1
        assert body["retry_after_s"] == retry_after
        # Another key has its own bucket; no key is needed for health and metrics.
        with client(server, server.keys["participants"]["P002"]) as p002:
            assert p002.get(BOOK).status_code == 200
        assert httpx.get(server.base_url + "/healthz").status_code == 200
        assert httpx.get(server.base_url + "/metrics").status_code == 200
        time.sleep(retry_after)
        assert p001.get(BOOK).status_code == 200


def test_every_socket_message_takes_a_token_and_a_flood_is_paced(server: DemoServer) -> None:
    """Auth, pings and malformed messages take a token each, as order ops do. Beyond the rate a
    message is refused RATE_LIMITED and the socket is not read until a token is back, so a
    flood alternates: one message passes on the refilled token, the next is refused. Another
    key's socket is answered meanwhile."""
    with client(server, server.keys["operator_key"]) as operator:
        flooder, bystander = (
            operator.post(KEYS, json={"role": "observer"}).json()["api_key"] for _ in "ab"
        )
    ws = server.base_url.replace("http://", "ws://") + "/v1/ws"
    with connect(ws, open_timeout=WAIT_S) as flood, connect(ws, open_timeout=WAIT_S) as calm:
        for socket, key in ((flood, flooder), (calm, bystander)):
            socket.send(json.dumps({"op": "auth", "market_id": "demo", "key": key}))
            assert json.loads(socket.recv(WAIT_S))["type"] == "authed"  # a token: 4 left
        flood.send("not json")
        flood.send("[1]")
        for n in range(12):
            flood.send(json.dumps({"op": "ping", "req_id": n}))
        calm.send(json.dumps({"op": "ping", "req_id": "calm"}))
        assert json.loads(calm.recv(WAIT_S)) == {"type": "pong", "req_id": "calm", "seq": 2}
        answers = [json.loads(flood.recv(WAIT_S)) for _ in range(14)]
        kinds = [a.get("code", a["type"]) for a in answers]
        assert kinds[:5] == ["INVALID_MESSAGE", "INVALID_MESSAGE", "pong", "pong", "RATE_LIMITED"]
        assert [a.get("req_id") for a in answers[2:]] == list(range(12))  # each answered, in order
        refused = [n for n, kind in enumerate(kinds) if kind == "RATE_LIMITED"]
        assert all(kinds[n + 1] == "pong" for n in refused if n + 1 < len(kinds)), str(kinds)
        assert len(refused) >= 4, kinds  # beyond the burst, about every other one
        limited = answers[4]
        assert (limited["limit_per_s"], limited["burst"], limited["req_id"]) == (5, 5, 2)
        assert limited["retry_after_s"] >= 1
        calm.send(json.dumps({"op": "ping", "req_id": "still"}))
        assert json.loads(calm.recv(WAIT_S))["type"] == "pong"


def test_an_auth_without_a_token_is_refused_and_closed(server: DemoServer) -> None:
    with client(server, server.keys["operator_key"]) as operator:
        key = operator.post(KEYS, json={"role": "observer"}).json()["api_key"]
    ws = server.base_url.replace("http://", "ws://") + "/v1/ws"
    closes = []
    for _ in range(8):  # five tokens, then none for an auth
        with connect(ws, open_timeout=WAIT_S) as socket:
            socket.send(json.dumps({"op": "auth", "market_id": "demo", "key": key}))
            first = json.loads(socket.recv(WAIT_S))
            if first["type"] == "authed":
                continue
            told = [first, *until_closed(socket)]
            assert told[0]["code"] == "RATE_LIMITED"
            assert socket.protocol.close_rcvd is not None
            closes.append(socket.protocol.close_rcvd.code)
    assert closes
    assert set(closes) == {4429}


def until_closed(socket: ClientConnection) -> Iterator[dict[str, Any]]:
    """The messages a socket still receives, until the server closes it."""
    while True:
        try:
            yield json.loads(socket.recv(WAIT_S))
        except ConnectionClosed:
            return


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_the_time_until_a_token_is_back() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_s=10.0, burst=2, clock=clock)
    assert limiter.until_token_s("k") == 0.0  # no bucket yet: a full one
    limiter.check("k")
    assert limiter.until_token_s("k") == 0.0
    limiter.check("k")
    assert limiter.until_token_s("k") == pytest.approx(0.1)
    clock.now += 0.04
    assert limiter.until_token_s("k") == pytest.approx(0.06)
    with pytest.raises(ApiError):
        limiter.check("k")
    clock.now += 0.06
    limiter.check("k")  # the token it waited for
