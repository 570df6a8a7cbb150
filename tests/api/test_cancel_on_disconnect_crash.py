"""Cancel on disconnect survives a crash (exchange.disconnects): a real ``carbonx demo``
process is killed with SIGKILL while sockets that asked for it are open, and its restart
cancels their accounts' orders before it serves; a session that ended cleanly before the crash
is not cancelled again, and accounts no such session guarded keep their orders."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect

from tests.api.conftest import client
from tests.api.server import DemoServer, start_demo
from tests.api.test_ws import WAIT_S, Feed, ws_url

M = "/v1/markets/demo"
SYMBOL = "CEA2025"


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def open_ids(server: DemoServer, account: str) -> list[int]:
    with client(server, server.keys["operator_key"]) as operator:
        listed = ok(operator.get(f"{M}/orders", params={"account_id": account}))
    return [o["order_id"] for o in listed["orders"]]


def status(server: DemoServer, order_id: int) -> tuple[str, str | None]:
    with client(server, server.keys["operator_key"]) as operator:
        order = ok(operator.get(f"{M}/orders/{order_id}"))
    return order["status"], order["cancel_reason"]


@contextmanager
def guarded(server: DemoServer, key: str) -> Iterator[Feed]:
    """A socket with cancel on disconnect, authed."""
    query = f"?key={key}&market_id=demo&cancel_on_disconnect=1"
    # A killed server never answers the close: do not wait the default 10 s for it.
    with connect(ws_url(server, query), open_timeout=WAIT_S, close_timeout=0.5) as socket:
        feed = Feed(socket)
        assert feed.next("authed")["cancel_on_disconnect"] is True
        yield feed


def sell(feed: Feed, price_fen: int, account_id: str | None = None) -> int:
    order = {"symbol": SYMBOL, "side": "sell", "qty_t": 10, "price_fen": price_fen}
    if account_id is not None:
        order["account_id"] = account_id
    reply = feed.reply(feed.op("place", **order))
    assert reply["ok"], reply
    order_id: int = reply["result"]["order_id"]
    return order_id


def rest_sell(server: DemoServer, account: str, price_fen: int) -> int:
    with client(server, server.keys["participants"][account]) as c:
        order = {"symbol": SYMBOL, "side": "sell", "qty_t": 10, "price_fen": price_fen}
        placed: int = ok(c.post(f"{M}/orders", json=order), 201)["order_id"]
        return placed


def upper_band(server: DemoServer) -> int:
    with client(server, server.keys["participants"]["P001"]) as c:
        upper: int = ok(c.get(f"{M}/book/{SYMBOL}"))["band_upper_fen"]
        return upper


def test_a_crash_cancels_the_orders_its_guarded_sessions_left(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    server = start_demo(database)
    try:
        price = upper_band(server)  # far from any buyer: the orders rest
        p001, p002 = server.keys["participants"]["P001"], server.keys["participants"]["P002"]
        unguarded = rest_sell(server, "P002", price)
        with guarded(server, p001) as feed:
            on_socket = [sell(feed, price) for _ in range(2)]
            by_rest = rest_sell(server, "P001", price)  # the account's, not the socket's
            server.kill()  # the socket is open, its orders rest
        server = start_demo(database)
        assert open_ids(server, "P001") == [], "a dead session's orders still rest"
        for order_id in [*on_socket, by_rest]:
            assert status(server, order_id) == ("cancelled", "kill_switch")
        assert open_ids(server, "P002") == [unguarded], "an unguarded account lost its order"

        # An operator's guarded socket guards the accounts it placed orders for.
        with guarded(server, server.keys["operator_key"]) as feed:
            for_p001 = sell(feed, price, "P001")
            server.kill()
        server = start_demo(database)
        assert status(server, for_p001) == ("cancelled", "kill_switch")
        assert open_ids(server, "P002") == [unguarded]

        # A session that ended cleanly is over: a later crash does not cancel again.
        with guarded(server, p002) as feed:
            sell(feed, price)
        deadline = time.monotonic() + WAIT_S
        while open_ids(server, "P002"):  # the clean end cancels P002's orders
            assert time.monotonic() < deadline, "cancel on disconnect did not happen"
            time.sleep(0.02)
        later = rest_sell(server, "P002", price)
        server.kill()
        server = start_demo(database)
        assert open_ids(server, "P002") == [later]
        with client(server, p002) as c:  # and the market trades on
            ok(c.delete(f"{M}/orders/{later}"))
    finally:
        server.stop()
