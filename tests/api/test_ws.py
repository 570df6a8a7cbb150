"""``WebSocket /v1/ws`` against a real ``carbonx demo`` process (uvicorn on loopback): auth,
channels, order entry, authorization, cancel on disconnect; and the feed's queue in-process."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from exchange.api.book_feed import delta_message, merge_deltas
from exchange.api.feed import Encoded, TradeBatch, encode
from exchange.api.ws import MAX_BATCH_OPS, Connection
from exchange.api.ws_queue import MAX_MERGED_PARTS, MergeSlot
from exchange.bars import NS_PER_MIN
from exchange.keys import Principal, Role
from tests.api.server import DemoServer, start_demo

HEARTBEAT_S = 0.2
WAIT_S = 5.0
M = "/v1/markets/demo"
SYMBOL = "CEA2025"
MINUTE_NS = NS_PER_MIN


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
        self._req_ids = itertools.count(1)

    def send(self, **message: Any) -> None:
        self.socket.send(json.dumps(message))

    def op(self, op: str, **fields: Any) -> int:
        """Send an order op with a fresh ``req_id``; return it."""
        req_id = next(self._req_ids)
        self.send(op=op, req_id=req_id, **fields)
        return req_id

    def reply(self, req_id: int | str) -> dict[str, Any]:
        return self.next("reply", req_id=req_id)

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

    def get(self, kind: str, **fields: Any) -> dict[str, Any]:
        """A message of ``kind`` with these fields, received already or next."""
        for message in self.seen:
            if message["type"] == kind and fields.items() <= message.items():
                return message
        return self.next(kind, **fields)


def ws_url(server: DemoServer, query: str = "") -> str:
    return server.base_url.replace("http://", "ws://") + "/v1/ws" + query


@contextmanager
def open_feed(server: DemoServer, key: str, **auth: Any) -> Iterator[Feed]:
    with connect(ws_url(server), open_timeout=WAIT_S) as socket:
        feed = Feed(socket)
        feed.send(op="auth", market_id="demo", key=key, **auth)
        yield feed


def rest(server: DemoServer, key: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=10.0)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def keys(server: DemoServer) -> tuple[str, str]:
    return server.keys["participants"]["P001"], server.keys["participants"]["P002"]


def cross_price(c: httpx.Client) -> tuple[int, dict[str, Any]]:
    """A price one tick above the best bid and below every ask: a buy there rests alone."""
    book = ok(c.get(f"{M}/book/{SYMBOL}"))
    price = max([b["price_fen"] for b in book["bids"]], default=5900) + book["tick_fen"]
    assert all(price < a["price_fen"] for a in book["asks"])
    return price, book


@pytest.fixture
def clean_books(server: DemoServer) -> Iterator[None]:
    """Each test leaves no order of the demo participants resting."""
    yield
    for key in keys(server):
        with rest(server, key) as c:
            ok(c.delete(f"{M}/orders"))


# ---------------------------------------------------------------------- auth and channels


def test_auth_by_message_and_by_query(server: DemoServer) -> None:
    with open_feed(server, server.keys["participants"]["P001"]) as feed:
        authed = feed.recv()
        assert authed["type"] == "authed"
        assert (authed["role"], authed["account_id"]) == ("participant", "P001")
        assert authed["cancel_on_disconnect"] is False
    query = f"?key={server.keys['operator_key']}&market_id=demo"
    with connect(ws_url(server, query), open_timeout=WAIT_S) as socket:
        authed = Feed(socket).recv()
        assert (authed["type"], authed["role"], authed["account_id"]) == (
            "authed",
            "operator",
            None,
        )


def test_an_exchange_wide_key_acts_in_the_market_it_names(server: DemoServer) -> None:
    wide = server.keys["exchange_operator_key"]
    with connect(ws_url(server, f"?key={wide}&market_id=demo"), open_timeout=WAIT_S) as socket:
        authed = Feed(socket).recv()
        assert (authed["type"], authed["role"]) == ("authed", "operator")
    with connect(ws_url(server, f"?key={wide}"), open_timeout=WAIT_S) as socket:
        error = Feed(socket).recv()
        assert (error["type"], error["code"]) == ("error", "INVALID_MESSAGE")


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


def test_an_offset_s_channels_take_its_whole_symbol(server: DemoServer) -> None:
    """An offset's symbol holds colons (CCER:<project>:<vintage>): its book, ticker and bars
    channels name it whole; a bad market data channel is refused and the connection stays."""
    ccer = "CCER:FOR-1:2025"
    listing = [
        {"symbol": SYMBOL, "reference_price_fen": 6000},
        {"symbol": ccer, "reference_price_fen": 5000},
    ]
    body = {"market_id": "ws-ccer", "rule_set": "cn_national", "instruments": listing}
    with rest(server, server.keys["exchange_operator_key"]) as exchange:
        ok(exchange.post("/v1/markets", json={**body, "open_day": "2026-03-02"}), 201)
        key = ok(exchange.post("/v1/markets/ws-ccer/keys", json={"role": "observer"}), 201)
    with connect(ws_url(server), open_timeout=WAIT_S) as socket:
        feed = Feed(socket)
        feed.send(op="auth", market_id="ws-ccer", key=key["api_key"])
        feed.next("authed")
        for channel in (f"book:{ccer}", f"ticker:{ccer}", f"bars:{ccer}:1m"):
            feed.send(op="subscribe", channel=channel)
            feed.next("subscribed", channel=channel)
        assert feed.get("book_snapshot")["symbol"] == ccer
        assert feed.get("ticker")["symbol"] == ccer
        refused = {
            f"bars:{ccer}": "INVALID_REQUEST",  # no interval
            f"bars:{SYMBOL}": "INVALID_REQUEST",
            f"bars:{ccer}:5m": "INVALID_REQUEST",
            f"book:{ccer}:1m": "UNKNOWN_INSTRUMENT",
            "ticker:CCER:NOPE:2025": "UNKNOWN_INSTRUMENT",
        }
        for channel, code in refused.items():
            feed.send(op="subscribe", channel=channel)
            assert feed.next("error", channel=channel)["code"] == code
        feed.send(op="subscribe", channel="trades", req_id=1)
        assert feed.next("subscribed", channel="trades")["req_id"] == 1  # still open


def test_refused_subscriptions_leave_the_connection_open(server: DemoServer) -> None:
    with open_feed(server, server.keys["participants"]["P001"]) as feed:
        feed.next("authed")
        feed.send(op="subscribe", channel="orders:P002")  # never another account's
        assert feed.next("error", channel="orders:P002")["code"] == "FORBIDDEN"
        feed.send(op="subscribe", channel="book:NOPE")
        assert feed.next("error", channel="book:NOPE")["code"] == "UNKNOWN_INSTRUMENT"
        feed.send(op="subscribe", channel="weather", req_id="w")
        weather = feed.next("error", channel="weather")
        assert (weather["code"], weather["req_id"]) == ("INVALID_REQUEST", "w")
        feed.send(op="subscribe", channel=f"bars:{SYMBOL}:7m")
        assert feed.next("error", channel=f"bars:{SYMBOL}:7m")["code"] == "INVALID_REQUEST"
        feed.send(op="subscribe", channel=f"book:{SYMBOL}", depth=0)
        assert feed.next("error", channel=f"book:{SYMBOL}")["code"] == "INVALID_REQUEST"
        feed.send(op="dance")
        assert feed.next("error")["code"] == "INVALID_MESSAGE"
        feed.send(op="subscribe", channel="orders", req_id=7)  # still open: its own orders
        assert feed.next("subscribed", channel="orders")["req_id"] == 7
    with open_feed(server, server.keys["operator_key"]) as operator:
        operator.next("authed")
        operator.send(op="subscribe", channel="orders")  # an operator names the account
        assert operator.next("error", channel="orders")["code"] == "INVALID_REQUEST"
        operator.send(op="subscribe", channel="orders:NOBODY")
        assert operator.next("error", channel="orders:NOBODY")["code"] == "UNKNOWN_ACCOUNT"
        operator.send(op="subscribe", channel="fills", account_id="P002")
        operator.next("subscribed", channel="fills")


def test_malformed_messages_are_answered_not_fatal(server: DemoServer) -> None:
    with open_feed(server, server.keys["participants"]["P001"]) as feed:
        feed.next("authed")
        feed.socket.send("not json")
        assert feed.next("error")["code"] == "INVALID_MESSAGE"
        feed.socket.send("[1, 2]")
        assert feed.next("error")["code"] == "INVALID_MESSAGE"
        feed.send(op="place", symbol=SYMBOL, side="buy", qty_t=1, price_fen=5900)  # no req_id
        missing = feed.next("error")
        assert (missing["code"], missing["op"]) == ("INVALID_MESSAGE", "place")
        feed.send(op="cancel", req_id={"a": 1}, order_id=1)
        assert feed.next("error")["code"] == "INVALID_MESSAGE"
        feed.send(op="auth", key="x")  # once only, first
        assert feed.next("error")["code"] == "INVALID_MESSAGE"
        feed.send(op="ping", req_id="still-here")
        assert feed.next("pong")["req_id"] == "still-here"


def test_binary_frames_and_deep_nesting_are_answered_not_fatal(server: DemoServer) -> None:
    with open_feed(server, server.keys["participants"]["P001"]) as feed:
        feed.next("authed")
        feed.socket.send(b'{"op": "ping"}')  # a binary frame
        binary = feed.next("error")
        assert binary["code"] == "INVALID_MESSAGE"
        assert "text" in binary["detail"]
        # (deeper than any parser allows, within the 128 KiB message limit)
        feed.socket.send('{"op": "ping", "x": ' + "[" * 20_000 + "]" * 20_000 + "}")
        assert feed.next("error")["code"] == "INVALID_MESSAGE"
        feed.socket.send("[" * 20_000)  # nested and unfinished
        assert feed.next("error")["code"] == "INVALID_MESSAGE"
        feed.send(op="ping", req_id="still-here")
        assert feed.next("pong")["req_id"] == "still-here"
    for first in (b'{"op": "auth"}', "[" * 20_000):  # the first message, instead of auth
        with connect(ws_url(server), open_timeout=WAIT_S) as socket:
            socket.send(first)
            refused = Feed(socket).next("error")
            assert refused["code"] == "UNAUTHENTICATED"
            with pytest.raises(ConnectionClosed) as closed:
                socket.recv(WAIT_S)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4401


# ---------------------------------------------------------------------- order entry


def test_place_amend_cancel_over_the_socket(server: DemoServer, clean_books: None) -> None:
    p001_key, _ = keys(server)
    with open_feed(server, p001_key) as feed, rest(server, p001_key) as r001:
        feed.next("authed")
        price, _ = cross_price(r001)
        order = {"symbol": SYMBOL, "side": "buy", "price_fen": price}
        placed = feed.reply(feed.op("place", **order, qty_t=100))
        assert placed["ok"] is True
        result = placed["result"]
        assert (result["status"], result["repeated"], result["fills"]) == ("new", False, [])
        order_id = result["order_id"]
        assert ok(r001.get(f"{M}/orders/{order_id}"))["leaves_t"] == 100
        low = ok(r001.get(f"{M}/book/{SYMBOL}"))["band_lower_fen"]
        ioc = {**order, "order_type": "ioc", "price_fen": low, "qty_t": 5}  # no seller that low
        ended = feed.reply(feed.op("place", **ioc))["result"]
        assert (ended["status"], ended["cancel_reason"]) == ("cancelled", "ioc_remainder")

        amended = feed.reply(feed.op("amend", order_id=order_id, qty_t=150))["result"]
        assert (amended["order_id"], amended["status"]) == (order_id, "amended")
        assert amended["seq"] > result["seq"]
        assert ok(r001.get(f"{M}/orders/{order_id}"))["leaves_t"] == 150

        cancelled = feed.reply(feed.op("cancel", order_id=order_id))["result"]
        assert (cancelled["order_id"], cancelled["status"]) == (order_id, "cancelled")
        again = feed.reply(feed.op("cancel", order_id=order_id))
        assert again["ok"] is False
        assert again["error"]["code"] == "ORDER_NOT_OPEN"
        assert (again["error"]["order_id"], again["error"]["order_status"]) == (
            order_id,
            "cancelled",
        )

        for _ in range(2):
            feed.reply(feed.op("place", **order, qty_t=10))
        swept = feed.reply(feed.op("cancel_all", symbol=SYMBOL))["result"]
        assert (swept["account_id"], swept["cancelled"]) == ("P001", 2)
        assert ok(r001.get(f"{M}/orders"))["orders"] == []


def test_refusals_and_validation_match_rest(server: DemoServer) -> None:
    p001_key, _ = keys(server)
    with open_feed(server, p001_key) as feed, rest(server, p001_key) as r001:
        feed.next("authed")
        order = {"symbol": SYMBOL, "side": "buy", "qty_t": 100, "price_fen": 9000}
        socket_error = feed.reply(feed.op("place", **order))["error"]
        problem = r001.post(f"{M}/orders", json=order).json()
        assert socket_error["code"] == "PRICE_OUTSIDE_BAND"
        for number in ("price_fen", "band_lower_fen", "band_upper_fen", "reference_price_fen"):
            assert socket_error[number] == problem[number]
        assert socket_error["band_upper_fen"] < 9000

        strict = feed.reply(feed.op("place", **{**order, "qty_t": "100"}))["error"]
        assert strict["code"] == "INVALID_REQUEST"
        assert strict["errors"][0]["loc"] == ["qty_t"]
        unknown = feed.reply(feed.op("place", **order, colour="red"))["error"]
        assert unknown["code"] == "INVALID_REQUEST"
        no_id = feed.reply(feed.op("cancel"))["error"]
        assert (no_id["code"], no_id["errors"][0]["loc"]) == ("INVALID_REQUEST", ["order_id"])
        nothing = feed.reply(feed.op("cancel", order_id=2**40))["error"]
        assert (nothing["code"], nothing["order_id"]) == ("UNKNOWN_ORDER", 2**40)


def test_a_repeated_client_order_id_answers_the_original(
    server: DemoServer, clean_books: None
) -> None:
    p001_key, _ = keys(server)
    with open_feed(server, p001_key) as feed, rest(server, p001_key) as r001:
        feed.next("authed")
        price, _ = cross_price(r001)
        order = {"symbol": SYMBOL, "side": "buy", "qty_t": 100, "price_fen": price}
        first = feed.reply(feed.op("place", **order, client_order_id="ws-idem-1"))["result"]
        second = feed.reply(feed.op("place", **order, client_order_id="ws-idem-1"))["result"]
        assert (second["order_id"], second["repeated"]) == (first["order_id"], True)
        assert first["repeated"] is False
        by_rest = r001.post(f"{M}/orders", json={**order, "client_order_id": "ws-idem-1"})
        assert ok(by_rest)["order_id"] == first["order_id"]
        conflict = feed.reply(
            feed.op("place", **{**order, "qty_t": 200}, client_order_id="ws-idem-1")
        )
        assert conflict["error"]["code"] in ("CLIENT_ORDER_ID_CONFLICT",)
        assert len(ok(r001.get(f"{M}/orders"))["orders"]) == 1


def test_pipelined_ops_are_all_answered_with_their_req_ids(
    server: DemoServer, clean_books: None
) -> None:
    p001_key, _ = keys(server)
    count = 60
    with open_feed(server, p001_key) as feed, rest(server, p001_key) as r001:
        feed.next("authed")
        band_lower = ok(r001.get(f"{M}/book/{SYMBOL}"))["band_lower_fen"]
        order = {"symbol": SYMBOL, "side": "buy", "qty_t": 10, "price_fen": band_lower}
        sent = {f"pipe-{n}" for n in range(count)}
        for req_id in sorted(sent):  # all sent before any reply is read
            feed.send(op="place", req_id=req_id, **order)
        replies: dict[str, dict[str, Any]] = {}
        while len(replies) < count:
            message = feed.next("reply")
            replies[message["req_id"]] = message
        assert replies.keys() == sent
        assert all(r["ok"] for r in replies.values())
        order_ids = {r["result"]["order_id"] for r in replies.values()}
        assert len(order_ids) == count
        seqs = sorted(r["result"]["seq"] for r in replies.values())
        assert len(set(seqs)) == count
        open_ids = {o["order_id"] for o in ok(r001.get(f"{M}/orders"))["orders"]}
        assert order_ids <= open_ids


def test_authorization_over_the_socket(server: DemoServer, clean_books: None) -> None:
    p001_key, p002_key = keys(server)
    with (
        open_feed(server, p001_key) as p001,
        open_feed(server, p002_key) as p002,
        rest(server, p001_key) as r001,
        rest(server, server.keys["operator_key"]) as operator,
    ):
        p001.next("authed")
        p002.next("authed")
        price, book = cross_price(r001)
        theirs = p002.reply(
            p002.op("place", symbol=SYMBOL, side="buy", qty_t=10, price_fen=price - 1)
        )
        their_id = theirs["result"]["order_id"]
        order = {"symbol": SYMBOL, "side": "buy", "qty_t": 10, "price_fen": price - 1}
        named = p001.reply(p001.op("place", **order, account_id="P002"))["error"]
        assert (named["code"], named["account_id"]) == ("FORBIDDEN", "P002")
        hidden = p001.reply(p001.op("cancel", order_id=their_id))["error"]
        assert hidden == {**hidden, "code": "UNKNOWN_ORDER", "order_id": their_id}
        assert "account_id" not in hidden
        sweep = p001.reply(p001.op("cancel_all", account_id="P002"))["error"]
        assert sweep["code"] == "FORBIDDEN"
        for channel, extra in (
            ("fills:P002", {}),
            ("balances", {"account_id": "P002"}),
            ("compliance:P002", {}),
            ("orders", {"account_id": "P002"}),
        ):
            p001.send(op="subscribe", channel=channel, **extra)
            assert p001.next("error", channel=channel)["code"] == "FORBIDDEN"
        assert ok(operator.get(f"{M}/orders/{their_id}"))["status"] in ("new", "open")

        observer_key = ok(operator.post(f"{M}/keys", json={"role": "observer"}), 201)["api_key"]
        with open_feed(server, observer_key) as observer:
            observer.next("authed")
            refused = observer.reply(observer.op("place", **order))["error"]
            assert (refused["code"], refused["role"]) == ("FORBIDDEN", "observer")
            observer.send(op="subscribe", channel="fills")
            assert observer.next("error", channel="fills")["code"] == "FORBIDDEN"
            observer.send(op="subscribe", channel=f"ticker:{SYMBOL}")
            observer.next("subscribed", channel=f"ticker:{SYMBOL}")

        with open_feed(server, server.keys["operator_key"]) as op_feed:
            op_feed.next("authed")
            unnamed = op_feed.reply(op_feed.op("place", **order))["error"]
            assert unnamed["code"] == "INVALID_REQUEST"
            done = op_feed.reply(op_feed.op("cancel", order_id=their_id, account_id="P002"))
            assert done["result"]["status"] == "cancelled"
        assert book["symbol"] == SYMBOL


def test_a_revoked_key_is_cut_off_on_its_open_sockets(
    server: DemoServer, clean_books: None
) -> None:
    """revokeKey closes every socket authenticated with the key (4401 "key revoked", after
    one last error) and its private feeds stop; sockets of other keys of the same account
    stay."""
    p001_key, p002_key = keys(server)
    with rest(server, server.keys["operator_key"]) as operator:
        issued = ok(
            operator.post(f"{M}/keys", json={"role": "participant", "account_id": "P001"}), 201
        )
        second_key, key_id = issued["api_key"], issued["key_id"]
        query = f"?key={second_key}&market_id=demo"
        with (
            open_feed(server, second_key) as by_message,
            connect(ws_url(server, query), open_timeout=WAIT_S) as by_query_socket,
            open_feed(server, p001_key) as original,
            rest(server, p001_key) as r001,
            rest(server, p002_key) as r002,
        ):
            by_query = Feed(by_query_socket)
            for feed in (by_message, by_query, original):
                feed.next("authed")
                for channel in ("orders", "fills", "balances"):
                    feed.send(op="subscribe", channel=channel)
                    feed.next("subscribed", channel=channel)
            price, _ = cross_price(r001)
            placed = by_message.reply(
                by_message.op("place", symbol=SYMBOL, side="buy", qty_t=10, price_fen=price)
            )
            order_id = placed["result"]["order_id"]
            assert ok(operator.delete(f"{M}/keys/{key_id}")) == {"key_id": key_id, "revoked": True}
            for feed in (by_message, by_query):
                told = feed.next("error")
                assert (told["code"], told["detail"]) == (
                    "UNAUTHENTICATED",
                    "the API key was revoked",
                )
                with pytest.raises(ConnectionClosed) as closed:
                    feed.recv()
                assert closed.value.rcvd is not None
                assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "key revoked")
            with pytest.raises(ConnectionClosed):  # closed: nothing it sends is acted on
                by_message.op("cancel", order_id=order_id)
            sell = {"symbol": SYMBOL, "order_type": "limit", "side": "sell", "qty_t": 10}
            ok(r002.post(f"{M}/orders", json={**sell, "price_fen": price}), 201)
            fill = original.next("fill", order_id=order_id)  # the account's other key still hears
            assert fill["qty_t"] == 10
            original.send(op="ping", req_id="after")
            assert original.next("pong")["req_id"] == "after"
            assert ok(r001.get(f"{M}/orders/{order_id}"))["status"] == "filled"


# ---------------------------------------------------------------------- market data


def test_book_trades_and_own_orders(server: DemoServer, clean_books: None) -> None:
    p001_key, p002_key = keys(server)
    with (
        open_feed(server, p001_key) as p001,
        open_feed(server, p002_key) as p002,
        rest(server, p001_key) as r001,
        rest(server, p002_key) as r002,
    ):
        p001.next("authed")
        p002.next("authed")
        for channel in (f"book:{SYMBOL}", "trades", "orders"):
            p001.send(op="subscribe", channel=channel)
        p002.send(op="subscribe", channel="orders")
        snapshot = p001.next("book_snapshot", symbol=SYMBOL)
        assert {"bids", "asks", "market_seq"} <= snapshot.keys()
        assert snapshot["depth"] == 5
        assert len(snapshot["bids"]) <= 5
        assert len(snapshot["asks"]) <= 5
        p001.next("subscribed", channel="orders")
        p002.next("subscribed", channel="orders")

        price, _ = cross_price(r001)
        order = {"symbol": SYMBOL, "order_type": "limit", "price_fen": price}
        buy = ok(r001.post(f"{M}/orders", json={**order, "side": "buy", "qty_t": 100}), 201)
        accepted = p001.next("order", event="accepted", order_id=buy["order_id"])
        assert (accepted["market_seq"], accepted["account_id"]) == (buy["seq"], "P001")
        delta = p001.next("book_delta", market_seq=buy["seq"])
        assert {"price_fen": price, "qty_t": 100, "order_count": 1} in delta["bids"]

        sell = ok(r002.post(f"{M}/orders", json={**order, "side": "sell", "qty_t": 40}), 201)
        trade = p001.next("trade", market_seq=sell["seq"])
        assert (trade["price_fen"], trade["qty_t"]) == (price, 40)
        assert not any("account" in field for field in trade)
        own = p001.next("fill", market_seq=sell["seq"])
        assert (own["order_id"], own["side"], own["leaves_t"]) == (buy["order_id"], "buy", 60)
        assert own["aggressor"] is False
        delta = p001.next("book_delta", market_seq=sell["seq"])
        assert {"price_fen": price, "qty_t": 60, "order_count": 1} in delta["bids"]

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
        assert r001.delete(f"{M}/orders/{buy['order_id']}").status_code == 200
        cancelled = p001.next("order", event="cancelled", order_id=buy["order_id"])
        delta = p001.next("book_delta", market_seq=cancelled["market_seq"])
        assert {"price_fen": price, "qty_t": 0, "order_count": 0} in delta["bids"]


def test_batched_trades_and_commit_stamps(server: DemoServer, clean_books: None) -> None:
    """One command that trades twice: a plain ``trades`` subscriber gets two ``trade``
    messages, a batching one a single ``trades`` message with both; each trade is stamped with
    its commit's wall-clock time."""
    p001_key, p002_key = keys(server)
    with (
        open_feed(server, p001_key) as plain,
        open_feed(server, p002_key) as batched,
        rest(server, p001_key) as r001,
        rest(server, p002_key) as r002,
    ):
        plain.next("authed")
        batched.next("authed")
        plain.send(op="subscribe", channel="trades")
        plain.next("subscribed", channel="trades")
        batched.send(op="subscribe", channel="trades", batch=True)
        batched.next("subscribed", channel="trades")
        price, book = cross_price(r001)
        tick = book["tick_fen"]
        order = {"symbol": SYMBOL, "order_type": "limit", "side": "buy", "qty_t": 10}
        ok(r001.post(f"{M}/orders", json={**order, "price_fen": price}), 201)
        ok(r001.post(f"{M}/orders", json={**order, "price_fen": price + tick}), 201)
        before_ns = time.time_ns()
        sell = {**order, "side": "sell", "qty_t": 20, "price_fen": price}
        placed = ok(r002.post(f"{M}/orders", json=sell), 201)
        after_ns = time.time_ns()
        trade_ids = [fill["trade_id"] for fill in placed["fills"]]
        assert len(trade_ids) == 2
        singles = [plain.next("trade", trade_id=trade_id) for trade_id in trade_ids]
        together = batched.next("trades")
        assert [t["trade_id"] for t in together["trades"]] == trade_ids
        assert [{**t, "seq": 0} for t in together["trades"]] == [{**t, "seq": 0} for t in singles]
        for trade in singles:
            assert trade["market_seq"] == placed["seq"]
            assert before_ns <= trade["commit_ns"] <= after_ns
        assert all("seq" not in t for t in together["trades"])
        batched.send(op="subscribe", channel="trades", batch="yes")  # not a boolean
        assert batched.next("error", channel="trades")["code"] == "INVALID_REQUEST"


def test_a_batch_of_order_ops_answers_each(server: DemoServer, clean_books: None) -> None:
    p001_key, _ = keys(server)
    with open_feed(server, p001_key) as feed, rest(server, p001_key) as r001:
        feed.next("authed")
        low = ok(r001.get(f"{M}/book/{SYMBOL}"))["band_lower_fen"]
        good = {"op": "place", "symbol": SYMBOL, "side": "buy", "qty_t": 1, "price_fen": low}
        ops = [good, {**good, "qty_t": 0}, {"op": "cancel", "order_id": 2**62}, {"op": "ping"}]
        reply = feed.reply(feed.op("batch", ops=ops))
        assert reply["ok"] is True
        first, bad, unknown, not_an_order_op = reply["results"]
        assert first["ok"] is True
        assert first["result"]["status"] == "new"
        stored = ok(r001.get(f"{M}/orders/{first['result']['order_id']}"))
        assert stored["price_fen"] == low
        assert (bad["ok"], bad["error"]["code"]) == (False, "INVALID_REQUEST")
        assert (unknown["ok"], unknown["error"]["code"]) == (False, "UNKNOWN_ORDER")
        assert not_an_order_op["error"]["code"] == "INVALID_REQUEST"
        assert not_an_order_op["error"]["index"] == 3
        too_many = feed.reply(feed.op("batch", ops=[good] * (MAX_BATCH_OPS + 1)))
        assert (too_many["ok"], too_many["error"]["code"]) == (False, "INVALID_REQUEST")
        assert too_many["error"]["max_ops"] == MAX_BATCH_OPS
        feed.send(op="batch", ops=[good])  # no req_id to answer
        assert feed.next("error")["code"] == "INVALID_MESSAGE"


def test_book_depth_option(server: DemoServer, clean_books: None) -> None:
    p001_key, _ = keys(server)
    with open_feed(server, p001_key) as feed, rest(server, p001_key) as r001:
        feed.next("authed")
        low = ok(r001.get(f"{M}/book/{SYMBOL}"))["band_lower_fen"]
        for n in range(3):
            feed.reply(feed.op("place", symbol=SYMBOL, side="buy", qty_t=1, price_fen=low + n))
        feed.send(op="subscribe", channel=f"book:{SYMBOL}", depth=2)
        snapshot = feed.next("book_snapshot")
        assert (snapshot["depth"], len(snapshot["bids"])) == (2, 2)
        rest_book = ok(r001.get(f"{M}/book/{SYMBOL}"))
        assert snapshot["bids"] == rest_book["bids"][:2]


def test_the_book_view_refills_to_its_depth(server: DemoServer, clean_books: None) -> None:
    """A subscriber's view, snapshot and deltas applied, equals getBook at its depth after
    better levels go: the deeper ones that come into the depth are sent."""
    p001_key, p002_key = keys(server)
    with (
        open_feed(server, p001_key) as feed,
        rest(server, p001_key) as r001,
        rest(server, p002_key) as r002,
    ):
        feed.next("authed")
        price, book = cross_price(r001)
        tick = book["tick_fen"]
        bids = [
            ok(r001.post(f"{M}/orders", json={**BUY_10, "price_fen": price - n * tick}), 201)
            for n in range(4)
        ]
        feed.send(op="subscribe", channel=f"book:{SYMBOL}", depth=2)
        view = BookView(feed.next("book_snapshot"))
        assert view.levels() == rest_levels(r001, 2)
        seen = {level["price_fen"] for level in view.bids}
        ok(r001.delete(f"{M}/orders/{bids[0]['order_id']}"))  # the best bid goes
        view.follow(feed)
        assert view.levels() == rest_levels(r001, 2)
        assert view.bids[-1]["price_fen"] not in seen  # came up into the view
        sweep = {**BUY_10, "side": "sell", "qty_t": 20, "price_fen": price - 2 * tick}
        ok(r002.post(f"{M}/orders", json=sweep), 201)  # the next two bid levels trade away
        view.follow(feed)
        assert view.levels() == rest_levels(r001, 2)


BUY_10 = {"symbol": SYMBOL, "order_type": "limit", "side": "buy", "qty_t": 10}


class BookView:
    """A client's view of the book: the snapshot, then each later delta applied."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.market_seq = snapshot["market_seq"]
        self.bids: list[dict[str, Any]] = snapshot["bids"]
        self.asks: list[dict[str, Any]] = snapshot["asks"]

    def follow(self, feed: Feed) -> None:
        """Apply the deltas that come until the feed falls silent (a heartbeat)."""
        while (message := feed.recv())["type"] != "heartbeat":
            if message["type"] == "book_delta" and message["market_seq"] > self.market_seq:
                self.market_seq = message["market_seq"]
                self.bids = _applied(self.bids, message["bids"], reverse=True)
                self.asks = _applied(self.asks, message["asks"], reverse=False)

    def levels(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return self.bids, self.asks


def _applied(
    levels: list[dict[str, Any]], changes: list[dict[str, Any]], *, reverse: bool
) -> list[dict[str, Any]]:
    by_price = {level["price_fen"]: level for level in levels}
    for change in changes:
        if change["qty_t"]:
            by_price[change["price_fen"]] = change
        else:
            by_price.pop(change["price_fen"], None)
    return sorted(by_price.values(), key=lambda level: level["price_fen"], reverse=reverse)


def rest_levels(c: httpx.Client, depth: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    book = ok(c.get(f"{M}/book/{SYMBOL}", params={"depth": depth}))
    return book["bids"], book["asks"]


def test_ticker_bars_fills_and_balances(server: DemoServer, clean_books: None) -> None:
    p001_key, p002_key = keys(server)
    with (
        open_feed(server, p001_key) as p001,
        open_feed(server, p002_key) as p002,
        rest(server, p001_key) as r001,
    ):
        p001.next("authed")
        p002.next("authed")
        price, _ = cross_price(r001)
        order = {"symbol": SYMBOL, "price_fen": price}
        # A trade before anyone follows the ticker: the bar must still count it (journal).
        p001.reply(p001.op("place", **order, side="buy", qty_t=5))
        p002.reply(p002.op("place", **order, side="sell", qty_t=5))

        first = {}
        for channel in (f"ticker:{SYMBOL}", f"bars:{SYMBOL}:1m", "fills", "balances"):
            p001.send(op="subscribe", channel=channel)
            p001.next("subscribed", channel=channel)
            if channel != "fills":  # the others start with the state now
                message = p001.recv()
                first[message["type"]] = message
        before, bar_before, snapshot = first["ticker"], first["bar"], first["balances"]
        assert before["last_price_fen"] == bar_before["close_fen"] == price
        assert_balances(snapshot, ok(r001.get(f"{M}/accounts/P001/balances")))

        buy = p001.reply(p001.op("place", **order, side="buy", qty_t=100))["result"]
        sell = p002.reply(p002.op("place", **order, side="sell", qty_t=40))["result"]
        ticker = p001.next("ticker", market_seq=sell["seq"])
        trade_id = sell["fills"][0]["trade_id"]
        assert (ticker["trade_id"], ticker["last_price_fen"], ticker["last_qty_t"]) == (
            trade_id,
            price,
            40,
        )
        assert (ticker["best_bid_fen"], ticker["best_bid_qty_t"]) == (price, 60)
        assert ticker["volume_t"] == before["volume_t"] + 40
        assert ticker["low_fen"] <= price <= ticker["high_fen"]
        assert ticker["open_fen"] == before["open_fen"]

        bar = p001.get("bar", market_seq=sell["seq"])
        assert bar["start_ts_ns"] == ticker["ts_ns"] - ticker["ts_ns"] % MINUTE_NS
        assert (bar["close_fen"], bar["trade_count"]) == (price, bar_before["trade_count"] + 1)
        tape = ok(r001.get(f"{M}/trades", params={"symbol": SYMBOL, "limit": 500}))["trades"]
        in_bar = [t for t in tape if t["ts_ns"] - t["ts_ns"] % MINUTE_NS == bar["start_ts_ns"]]
        assert bar["volume_t"] == sum(t["qty_t"] for t in in_bar)
        assert bar["high_fen"] == max(t["price_fen"] for t in in_bar)

        fill = p001.get("fill", trade_id=trade_id)
        listed = ok(r001.get(f"{M}/fills", params={"limit": 5}))["fills"]
        mine = next(f for f in listed if f["trade_id"] == trade_id)
        assert (fill["order_id"], fill["qty_t"], fill["fee_fen"]) == (
            buy["order_id"],
            40,
            mine["fee_fen"],
        )
        p001.get("balances", market_seq=buy["seq"])  # the hold
        after = p001.get("balances", market_seq=sell["seq"])  # the delivery
        assert_balances(after, ok(r001.get(f"{M}/accounts/P001/balances")))


def assert_balances(message: dict[str, Any], balances: dict[str, Any]) -> None:
    """A balances message says what ``getBalances`` says (cash and units by state)."""
    cash = balances["cash"]
    assert message["cash"] == {"available_fen": cash["available_fen"], "held_fen": cash["held_fen"]}
    units = {u["unit"]: u for u in message["units"]}
    for holding in balances["holdings"]:
        for state in ("available_t", "held_t", "pending_t", "frozen_t"):
            assert units[holding["unit"]][state] == holding[state], (state, holding)


def test_compliance_channel(server: DemoServer) -> None:
    year = dt.date.today().year
    with rest(server, server.keys["operator_key"]) as operator:
        entity = {
            "account_id": "EWS1",
            "name": "Cement works",
            "kind": "covered_entity",
            "province": "Hubei",
            "allowances": [{"vintage": year, "qty_t": 1_000}],
        }
        key = ok(operator.post(f"{M}/participants", json=entity), 201)["api_key"]
        with open_feed(server, key) as feed, rest(server, key) as own:
            feed.next("authed")
            feed.send(op="subscribe", channel="compliance")  # the year still open
            current = feed.next("compliance")
            assert current["account_id"] == "EWS1"
            assert current["deadline"] >= dt.date.today().isoformat()
            assert current["year"] <= year
            feed.send(op="subscribe", channel="compliance", year=year)
            status = feed.next("compliance", year=year)
            assert status["obligation_t"] is None
            report = {"year": year, "verified_t": 800}
            ok(operator.post(f"{M}/accounts/EWS1/emissions", json=report), 201)
            recorded = feed.next("compliance", year=year, obligation_t=800)
            # 800 t to surrender, all of it covered by the 1,000 t it holds
            assert (recorded["remaining_t"], recorded["shortfall_t"]) == (800, 0)
            items = {"year": year, "items": [{"unit": f"CEA{year}", "qty_t": 500}]}
            done = ok(own.post(f"{M}/accounts/EWS1/surrenders", json=items), 201)
            surrendered = feed.next("compliance", year=year, pending_t=500)
            assert surrendered["remaining_t"] == done["remaining_t"] == 300
            assert surrendered["shortfall_t"] == done["shortfall_t"] == 0
            # Units frozen by a court (no compliance operation): 100 t still cover the 300 t
            # left, and the channel says so at once.
            court = {"unit": f"CEA{year}", "qty_t": 400, "reference": "court-order-1"}
            ok(operator.post(f"{M}/accounts/EWS1/freezes", json=court), 201)
            frozen = feed.next("compliance", year=year, coverable_t=100)
            assert (frozen["remaining_t"], frozen["shortfall_t"]) == (300, 200)
            assert frozen == {
                **ok(own.get(f"{M}/accounts/EWS1/compliance/{year}")),
                "market_seq": frozen["market_seq"],
                "type": "compliance",
                "seq": frozen["seq"],
            }
            assert recorded["market_seq"] < surrendered["market_seq"]


def test_cancel_on_disconnect(server: DemoServer, clean_books: None) -> None:
    p001_key, p002_key = keys(server)
    with rest(server, p001_key) as r001, rest(server, p002_key) as r002:
        upper = ok(r002.get(f"{M}/book/{SYMBOL}"))["band_upper_fen"]
        order = {"symbol": SYMBOL, "side": "sell", "qty_t": 10, "price_fen": upper}
        with open_feed(server, p002_key) as plain:
            plain.next("authed")
            kept = plain.reply(plain.op("place", **order))["result"]["order_id"]
        query = f"?key={p001_key}&market_id=demo&cancel_on_disconnect=1"
        with connect(ws_url(server, query), open_timeout=WAIT_S) as socket:
            feed = Feed(socket)
            assert feed.next("authed")["cancel_on_disconnect"] is True
            gone = [feed.reply(feed.op("place", **order))["result"]["order_id"] for _ in "ab"]
        deadline = time.monotonic() + WAIT_S
        while {ok(r001.get(f"{M}/orders/{g}"))["status"] for g in gone} != {"cancelled"}:
            assert time.monotonic() < deadline, "cancel on disconnect did not happen"
            time.sleep(0.02)
        # P002's plain socket closed first: had it cancelled, it would have done so by now.
        assert ok(r002.get(f"{M}/orders/{kept}"))["status"] != "cancelled"
        with open_feed(server, p002_key, cancel_on_disconnect=True) as by_message:
            assert by_message.next("authed")["cancel_on_disconnect"] is True
            also = by_message.reply(by_message.op("place", **order))["result"]["order_id"]
        deadline = time.monotonic() + WAIT_S
        while ok(r002.get(f"{M}/orders/{also}"))["status"] != "cancelled":
            assert time.monotonic() < deadline, "cancel on disconnect did not happen"
            time.sleep(0.02)
        assert ok(r002.get(f"{M}/orders/{kept}"))["status"] == "cancelled"  # all P002's


# ---------------------------------------------------------------------- the queue


def test_a_full_queue_marks_the_connection_dropped_without_waiting() -> None:
    who = Principal("demo", Role.PARTICIPANT, "P001")
    connection = Connection(who, queue_size=2)
    for n in range(3):
        connection.push({"type": "heartbeat", "n": n})
    assert connection.dropped
    assert connection.stopped_event.is_set()
    assert connection.queue.qsize() == 2


def test_tickers_conflate_while_queued() -> None:
    connection = Connection(Principal("demo", Role.OBSERVER, None), queue_size=3)
    for qty in (10, 20, 30):
        connection.push_latest(("ticker", SYMBOL), {"type": "ticker", "volume_t": qty})
    connection.push({"type": "trade", "trade_id": 1})
    connection.push_latest(("ticker", "CEA2024"), {"type": "ticker", "volume_t": 5})
    assert connection.queue.qsize() == 3
    taken = [json.loads(encode(connection.take(connection.queue.get_nowait()), 1)) for _ in "abc"]
    assert [m.get("volume_t", m.get("trade_id")) for m in taken] == [30, 1, 5]
    connection.push_latest(("ticker", SYMBOL), {"type": "ticker", "volume_t": 0})
    again = json.loads(encode(connection.take(connection.queue.get_nowait()), 2))
    assert again["volume_t"] == 0  # sent, then anew
    assert not connection.dropped


def test_book_deltas_merge_while_queued_and_a_snapshot_starts_anew() -> None:
    connection = Connection(Principal("demo", Role.OBSERVER, None), queue_size=4)

    def delta(seq: int, price: int, qty: int) -> Encoded:
        level = {"price_fen": price, "qty_t": qty, "order_count": 1 if qty else 0}
        return Encoded(delta_message(SYMBOL, 2, seq, [level], []))

    key = ("book", SYMBOL)
    connection.push_merged(key, delta(7, 5990, 5), merge_deltas)
    connection.push({"type": "trade", "trade_id": 1})
    connection.push_merged(key, delta(8, 5980, 3), merge_deltas)  # joins the first
    connection.push_merged(key, delta(9, 5990, 0), merge_deltas)
    assert connection.queue.qsize() == 2
    merged = json.loads(encode(connection.take(connection.queue.get_nowait()), 1))
    assert (merged["market_seq"], merged["seq"]) == (9, 1)
    assert [(lv["price_fen"], lv["qty_t"]) for lv in merged["bids"]] == [(5990, 0), (5980, 3)]
    connection.push_merged(key, delta(10, 5970, 1), merge_deltas)  # after the trade, anew
    connection.unlatch(key.__eq__)  # a snapshot goes in here
    connection.push({"type": "book_snapshot"})
    connection.push_merged(key, delta(11, 5960, 1), merge_deltas)  # not into the older one
    taken = [json.loads(encode(connection.take(connection.queue.get_nowait()), 1)) for _ in "abcd"]
    assert [m.get("market_seq", m["type"]) for m in taken] == [
        "trade",
        10,
        "book_snapshot",
        11,
    ]
    for seq in range(12, 112):  # a reader that stays behind: its parts are merged as they come
        connection.push_merged(key, delta(seq, 5000 + seq, 1), merge_deltas)
    slot = connection.queue.get_nowait()
    assert isinstance(slot, MergeSlot)
    assert len(slot.parts) <= MAX_MERGED_PARTS
    merged = json.loads(encode(connection.take(slot), 5))
    assert merged["market_seq"] == 111
    assert [lv["price_fen"] for lv in merged["bids"]] == list(range(5111, 5011, -1))


def test_a_message_for_many_is_encoded_once_with_each_connections_seq() -> None:
    message = {"type": "trade", "trade_id": 7, "price_fen": 6000}
    shared = Encoded(message)
    assert json.loads(encode(shared, 3)) == {**message, "seq": 3}
    assert json.loads(encode(shared, 4)) == {**message, "seq": 4}
    assert json.loads(encode({"type": "heartbeat"}, 5)) == {"type": "heartbeat", "seq": 5}


def test_batched_trades_merge_while_queued_and_a_backlog_drops() -> None:
    connection = Connection(Principal("demo", Role.OBSERVER, None), queue_size=4)
    trades = [Encoded({"type": "trade", "trade_id": n}).tail for n in range(1, 7)]
    connection.push_trades(trades[:2])
    connection.push_trades(trades[2:3])  # still queued: joins the first
    assert connection.queue.qsize() == 1
    taken = connection.take(connection.queue.get_nowait())
    assert isinstance(taken, TradeBatch)
    sent = json.loads(encode(taken, 9))
    assert (sent["type"], sent["seq"]) == ("trades", 9)
    assert [t["trade_id"] for t in sent["trades"]] == [1, 2, 3]
    connection.push_trades(trades[3:4])  # the last one was taken: a new message
    assert connection.queue.qsize() == 1
    assert not connection.dropped
    connection.push_trades(trades[4:6] * 2)  # five waiting: more than the queue's size
    assert connection.dropped
