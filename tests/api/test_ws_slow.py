"""A slow WebSocket consumer against a real ``carbonx demo`` process: it is dropped (4008), while
order acknowledgements keep their pace and a normal subscriber gets every trade, gaplessly.

The slow socket subscribes to trades and the book and never reads; its receive buffer is made
small, so the server's sends stall and its queue fills. Orders are pipelined over an operator's
socket (placing for both demo participants), so the run is quick and the feed is busy. No
absolute timing is asserted: the order latency with the slow consumer present is compared with
a run without it.
"""

from __future__ import annotations

import contextlib
import json
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.api.server import DemoServer, start_demo
from tests.api.test_ws import SYMBOL, WAIT_S, Feed, ok, rest, ws_url

M = "/v1/markets/demo"
QUEUE_SIZE = 200
PAIRS = 3000  # crossing buy/sell pairs per run
WINDOW = 32  # orders in flight: below QUEUE_SIZE, or the replies would overflow it
RECEIVE_BUFFER_BYTES = 4096
SEGMENT_BYTES = 536


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    env = {
        "CARBONX_WS_QUEUE_SIZE": str(QUEUE_SIZE),
        "CARBONX_RATE_LIMIT_PER_S": "1000000",
        "CARBONX_RATE_LIMIT_BURST": "1000000",
    }
    running = start_demo(tmp_path_factory.mktemp("ws_slow") / "demo.db", env)
    try:
        yield running
    finally:
        running.stop()


class TradeReader(threading.Thread):
    """A normal subscriber: reads the trades channel as fast as they come."""

    def __init__(self, connection: ClientConnection, key: str) -> None:
        super().__init__(daemon=True)
        self.feed = Feed(connection)
        self.feed.send(op="auth", market_id="demo", key=key)
        self.feed.next("authed")
        self.feed.send(op="subscribe", channel="trades")
        self.feed.next("subscribed", channel="trades")
        self.trade_ids: list[int] = []
        self.stop = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    message = self.feed.recv(0.1)
                except TimeoutError:
                    continue
                if message["type"] == "trade":
                    self.trade_ids.append(message["trade_id"])
        except BaseException as error:  # reported by the test
            self.failure = error


def small_buffer_socket(server: DemoServer) -> socket.socket:
    """A connected TCP socket with a tiny receive buffer: unread data soon stalls the sender."""
    address = urlsplit(server.base_url)
    assert address.hostname is not None
    assert address.port is not None
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
    # A small segment size keeps the server's send buffer from growing (loopback's is 64 KiB,
    # and Linux sizes send buffers in segments).
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, SEGMENT_BYTES)
    raw.connect((address.hostname, address.port))
    return raw


def subscribe_and_sleep(slow: ClientConnection, key: str) -> None:
    """Subscribe to trades and the book, then read nothing more until told."""
    feed = Feed(slow)
    feed.send(op="auth", market_id="demo", key=key)
    feed.next("authed")
    for channel in ("trades", f"book:{SYMBOL}"):
        feed.send(op="subscribe", channel=channel)


def read_until_closed(slow: ClientConnection) -> tuple[list[dict[str, Any]], int | None]:
    """Everything the server still sends, and the close code it ends with."""
    told: list[dict[str, Any]] = []
    try:
        while True:
            told.append(json.loads(slow.recv(WAIT_S)))
    except ConnectionClosed as closed:
        return told, None if closed.rcvd is None else closed.rcvd.code
    except TimeoutError:  # still open: everything it was sent is read
        return told, None


def produce(orders: Feed, price: int, pairs: int = PAIRS) -> tuple[list[float], list[int]]:
    """Crossing pairs (P001 buys, P002 sells, alternating) pipelined over an operator's socket,
    at most ``WINDOW`` unanswered; each order's latency (send to reply) and the trade ids."""
    latencies_ms: list[float] = []
    trade_ids: list[int] = []
    sent_at: dict[int, float] = {}

    def answer() -> None:
        reply = orders.next("reply")
        latencies_ms.append((time.perf_counter() - sent_at.pop(reply["req_id"])) * 1000)
        assert reply["ok"], reply
        trade_ids.extend(fill["trade_id"] for fill in reply["result"]["fills"])

    for n in range(2 * pairs):
        while len(sent_at) >= WINDOW:
            answer()
        buyer, seller = ("P001", "P002") if n % 4 < 2 else ("P002", "P001")
        side, account = ("buy", buyer) if n % 2 == 0 else ("sell", seller)
        order = {"symbol": SYMBOL, "side": side, "qty_t": 1, "price_fen": price}
        sent_at[n] = time.perf_counter()
        orders.send(op="place", req_id=n, account_id=account, **order)
    while sent_at:
        answer()
    return latencies_ms, trade_ids


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def test_a_slow_consumer_is_dropped_and_slows_no_one(server: DemoServer) -> None:
    p001_key = server.keys["participants"]["P001"]
    with (
        rest(server, p001_key) as p001,
        connect(ws_url(server), open_timeout=WAIT_S) as producer,
        connect(ws_url(server), open_timeout=WAIT_S) as normal,
        contextlib.ExitStack() as later,
    ):
        price = ok(p001.get(f"{M}/book/{SYMBOL}"))["reference_price_fen"]
        orders = Feed(producer)
        orders.send(op="auth", market_id="demo", key=server.keys["operator_key"])
        orders.next("authed")
        produce(orders, price, PAIRS // 10)  # warm up: connections, code paths
        reader = TradeReader(normal, server.keys["operator_key"])
        reader.start()
        try:
            baseline_ms, _ = produce(orders, price)
            slow = later.enter_context(
                connect(
                    ws_url(server),
                    sock=small_buffer_socket(server),
                    open_timeout=WAIT_S,
                    max_queue=4,
                )
            )
            subscribe_and_sleep(slow, p001_key)
            with_slow_ms, trade_ids = produce(orders, price)
            deadline = time.monotonic() + WAIT_S
            while not set(trade_ids) <= set(reader.trade_ids) and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            reader.stop.set()
            reader.join(WAIT_S)
        told, close_code = read_until_closed(slow)
    assert reader.failure is None, reader.failure  # every seq the next one
    assert len(trade_ids) == PAIRS
    assert set(trade_ids) <= set(reader.trade_ids)
    assert reader.trade_ids == sorted(reader.trade_ids)

    assert len(with_slow_ms) == len(baseline_ms) == 2 * PAIRS  # every order acknowledged
    assert p99(with_slow_ms) < 3 * p99(baseline_ms) + 20, (p99(with_slow_ms), p99(baseline_ms))

    seqs = [m["seq"] for m in told]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # gapless, whatever happened
    if close_code is not None:  # its queue filled: dropped
        assert close_code == 4008, (close_code, told[-3:])
        assert len([m for m in told if m["type"] == "trade"]) < PAIRS
    else:  # the kernel's buffers took the backlog; the stalled sender conflated the book
        assert {m["trade_id"] for m in told if m["type"] == "trade"} >= set(trade_ids)
        deltas = [m for m in told if m["type"] == "book_delta"]
        assert len(deltas) < 2 * PAIRS  # each pair changed the level twice
        last = [lv for m in deltas for lv in m["bids"] + m["asks"] if lv["price_fen"] == price]
        assert last[-1]["qty_t"] == 0  # the book's last word: the level is empty
