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

LIMIT = {
    "CARBONX_RATE_LIMIT_PER_S": "5",
    "CARBONX_RATE_LIMIT_BURST": "5",
    # Failed key lookups: a token every 5 s, three at once (the last server test uses them up).
    "CARBONX_AUTH_FAILURES_PER_S": "0.2",
    "CARBONX_AUTH_FAILURES_BURST": "3",
}
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


def test_failed_key_lookups_are_limited_per_address(server: DemoServer) -> None:
    """Three unknown keys are looked up and answered 401; the fourth finds the address's
    bucket empty and is answered 429 before any lookup, on REST and at a WebSocket's auth. A
    key answered from memory (found before, or found missing) is not held up. Last of the
    server's tests: it leaves this address no lookup for a while."""
    with client(server, server.keys["participants"]["P002"]) as p002:
        assert p002.get(BOOK).status_code == 200  # a valid key, in memory from now on
        guesses = [client(server, f"cx_guess-{n}") for n in range(5)]
        statuses = [c.get(BOOK).status_code for c in guesses]
        assert statuses == [401, 401, 401, 429, 429]
        limited = guesses[3].get(BOOK)
        assert limited.headers["content-type"] == "application/problem+json"
        body = limited.json()
        assert (body["code"], body["limit_per_s"], body["burst"]) == ("RATE_LIMITED", 0.2, 3)
        assert "failed key lookups" in body["detail"]
        assert int(limited.headers["retry-after"]) == body["retry_after_s"] >= 1
        assert guesses[0].get(BOOK).status_code == 401  # known to be unknown: no lookup
        assert p002.get(BOOK).status_code == 200
        with client(server, server.keys["operator_key"]) as operator:
            assert operator.get("/v1/markets/demo/orders?account_id=P001").status_code == 200
        for guess in guesses:
            guess.close()
    ws = server.base_url.replace("http://", "ws://") + "/v1/ws"
    with connect(ws, open_timeout=WAIT_S) as socket:
        socket.send(json.dumps({"op": "auth", "market_id": "demo", "key": "cx_guess-ws"}))
        told = list(until_closed(socket))
        assert [m["code"] for m in told] == ["RATE_LIMITED"]
        assert socket.protocol.close_rcvd is not None
        assert socket.protocol.close_rcvd.code == 4429


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


def test_an_address_is_held_up_by_its_failures_only() -> None:
    clock = FakeClock()
    failures = RateLimiter(per_s=1.0, burst=2, clock=clock, what="failures (burst {burst})")
    failures.check_available("10.0.0.1")  # takes nothing
    failures.check_available("10.0.0.1")
    failures.charge("10.0.0.1")
    failures.charge("10.0.0.1")
    failures.charge("10.0.0.1")  # three let through at once: below zero
    with pytest.raises(ApiError) as held:
        failures.check_available("10.0.0.1")
    assert held.value.numbers["retry_after_s"] == 2
    assert held.value.detail == "more than 1 failures (burst 2)"
    failures.check_available("10.0.0.2")  # another address
    clock.now += 2.0
    failures.check_available("10.0.0.1")


def test_past_max_keys_the_full_buckets_are_forgotten() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_s=1.0, burst=2, clock=clock, max_keys=3)
    for address in ("a", "b", "c"):
        limiter.charge(address)
    clock.now += 1.0  # every bucket full again
    limiter.charge("b")
    limiter.charge("d")  # a fourth: the full ones go (a and c), b stays
    assert limiter.until_token_s("a") == 0.0
    assert limiter.until_token_s("b") == 0.0
    limiter.charge("b")
    assert limiter.until_token_s("b") == pytest.approx(1.0)  # b's two charges kept
