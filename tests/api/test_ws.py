"""``WebSocket /v1/ws`` against a real ``carbonx demo`` process (uvicorn on loopback)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from exchange.api.auth import Principal, Role
from exchange.api.ws import Connection
from tests.api.server import DemoServer, start_demo

HEARTBEAT_S = 0.2
WAIT_S = 5.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    database = tmp_path_factory.mktemp("ws") / "demo.db"
    running = start_demo(database, {"CARBONX_WS_HEARTBEAT_S": str(HEARTBEAT_S)})
    try:
        yield running
    finally:
        running.stop()


class Feed:
    """A client socket that checks every message's ``seq`` is the next one."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.seq = 0
        self.seen: list[dict[str, Any]] = []

    def send(self, **message: Any) -> None:
        self.socket.send(json.dumps(message))

    def recv(self, timeout: float = WAIT_S) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(self.socket.recv(timeout))
        self.seq += 1
        assert message["seq"] == self.seq, (message, self.seen[-3:])
        self.seen.append(message)
        return message

    def next(self, kind: str, **fields: Any) -> dict[str, Any]:
        """The next message of ``kind`` with these fields, skipping others."""
        deadline = time.monotonic() + WAIT_S
        while True:
            message = self.recv(max(deadline - time.monotonic(), 0.01))
            if message["type"] == kind and fields.items() <= message.items():
                return message


def ws_url(server: DemoServer, query: str = "") -> str:
    return server.base_url.replace("http://", "ws://") + "/v1/ws" + query


@contextmanager
def open_feed(server: DemoServer, key: str) -> Iterator[Feed]:
    with connect(ws_url(server), open_timeout=WAIT_S) as socket:
        feed = Feed(socket)
        feed.send(op="auth", market_id="demo", key=key)
        yield feed


def rest(server: DemoServer, key: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=10.0)


def test_auth_by_message_and_by_query(server: DemoServer) -> None:
    with open_feed(server, server.keys["participants"]["P001"]) as feed:
        authed = feed.recv()
        assert authed["type"] == "authed"
        assert (authed["role"], authed["account_id"]) == ("participant", "P001")
    query = f"?key={server.keys['operator_key']}&market_id=demo"
    with connect(ws_url(server, query), open_timeout=WAIT_S) as socket:
        authed = Feed(socket).recv()
        assert (authed["type"], authed["role"], authed["account_id"]) == (
            "authed",
            "operator",
            None,
        )


def test_a_bad_key_is_an_error_and_a_4401_close(server: DemoServer) -> None:
    with open_feed(server, "cx_not-a-key") as feed:
        error = feed.recv()
        assert (error["type"], error["code"]) == ("error", "UNAUTHENTICATED")
        with pytest.raises(ConnectionClosed) as closed:
            feed.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401


def test_a_heartbeat_breaks_the_silence(server: DemoServer) -> None:
    with open_feed(server, server.keys["participants"]["P001"]) as feed:
        assert feed.recv()["type"] == "authed"
        started = time.monotonic()
        assert feed.recv()["type"] == "heartbeat"
        assert feed.recv()["type"] == "heartbeat"
        assert time.monotonic() - started < 10 * HEARTBEAT_S


def test_refused_subscriptions_leave_the_connection_open(server: DemoServer) -> None:
    with open_feed(server, server.keys["participants"]["P001"]) as feed:
        feed.next("authed")
        feed.send(op="subscribe", channel="orders:P002")  # never another account's
        assert feed.next("error", channel="orders:P002")["code"] == "FORBIDDEN"
        feed.send(op="subscribe", channel="book:NOPE")
        assert feed.next("error", channel="book:NOPE")["code"] == "UNKNOWN_INSTRUMENT"
        feed.send(op="subscribe", channel="weather")
        assert feed.next("error", channel="weather")["code"] == "INVALID_REQUEST"
        feed.send(op="dance")
        assert feed.next("error")["code"] == "INVALID_REQUEST"
        feed.send(op="subscribe", channel="orders")  # still open: its own orders
        feed.next("subscribed", channel="orders")
    with open_feed(server, server.keys["operator_key"]) as operator:
        operator.next("authed")
        operator.send(op="subscribe", channel="orders")
        assert operator.next("error", channel="orders")["code"] == "FORBIDDEN"


def test_book_trades_and_own_orders(server: DemoServer) -> None:
    p001_key, p002_key = server.keys["participants"]["P001"], server.keys["participants"]["P002"]
    with (
        open_feed(server, p001_key) as p001,
        open_feed(server, p002_key) as p002,
        rest(server, p001_key) as r001,
        rest(server, p002_key) as r002,
    ):
        p001.next("authed")
        p002.next("authed")
        for channel in ("book:CEA2025", "trades", "orders"):
            p001.send(op="subscribe", channel=channel)
        p002.send(op="subscribe", channel="orders")
        snapshot = p001.next("book_snapshot", symbol="CEA2025")
        assert {"bids", "asks", "market_seq"} <= snapshot.keys()
        assert len(snapshot["bids"]) <= 5
        assert len(snapshot["asks"]) <= 5
        p001.next("subscribed", channel="orders")
        p002.next("subscribed", channel="orders")

        book = r001.get("/v1/markets/demo/book/CEA2025").json()
        price = max([b["price_fen"] for b in book["bids"]], default=5900) + book["tick_fen"]
        assert all(price < a["price_fen"] for a in book["asks"])
        order = {"symbol": "CEA2025", "order_type": "limit", "price_fen": price}
        placed = r001.post("/v1/markets/demo/orders", json={**order, "side": "buy", "qty_t": 100})
        assert placed.status_code == 201, placed.text
        buy = placed.json()
        accepted = p001.next("order", event="accepted", order_id=buy["order_id"])
        assert (accepted["market_seq"], accepted["account_id"]) == (buy["seq"], "P001")
        delta = p001.next("book_delta", side="buy", price_fen=price)
        assert (delta["qty_t"], delta["order_count"], delta["market_seq"]) == (100, 1, buy["seq"])

        sold = r002.post("/v1/markets/demo/orders", json={**order, "side": "sell", "qty_t": 40})
        assert sold.status_code == 201, sold.text
        sell = sold.json()
        trade = p001.next("trade", market_seq=sell["seq"])
        assert (trade["price_fen"], trade["qty_t"]) == (price, 40)
        assert not any("account" in field for field in trade)
        own = p001.next("fill", market_seq=sell["seq"])
        assert (own["order_id"], own["side"], own["leaves_t"]) == (buy["order_id"], "buy", 60)
        assert own["aggressor"] is False
        delta = p001.next("book_delta", side="buy", price_fen=price, market_seq=sell["seq"])
        assert delta["qty_t"] == 60

        p002.next("order", event="accepted", order_id=sell["order_id"])
        theirs = p002.next("fill", market_seq=sell["seq"])
        assert (theirs["order_id"], theirs["side"], theirs["trade_id"]) == (
            sell["order_id"],
            "sell",
            trade["trade_id"],
        )
        assert theirs["aggressor"] is True
        assert not any("account" in field or field.startswith("buy") for field in theirs)

        # P001's orders channel shows nothing of P002's order; a heartbeat proves it is drained.
        p001.next("heartbeat")
        p002.next("heartbeat")
        for message in p001.seen:
            assert message.get("order_id") != sell["order_id"], message
            assert "P002" not in json.dumps(message), message
        assert r001.delete(f"/v1/markets/demo/orders/{buy['order_id']}").status_code == 200
        p001.next("order", event="cancelled", order_id=buy["order_id"])
        p001.next("book_delta", side="buy", price_fen=price, qty_t=0)


def test_a_full_queue_marks_the_connection_dropped_without_waiting() -> None:
    who = Principal("demo", Role.PARTICIPANT, "P001")
    connection = Connection(who, queue_size=2)
    for n in range(3):
        connection.push({"type": "heartbeat", "n": n})
    assert connection.dropped
    assert connection.queue.qsize() == 2
