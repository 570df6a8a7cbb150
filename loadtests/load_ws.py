"""WebSocket order entry for the load run: pipelined ``place`` and ``cancel`` ops.

``connections`` sockets, each a participant's key, keep ``window`` ops in flight: every reply
lets one more op go, for ``seconds``; then the last replies are awaited. 80 % of ops place a
limit order near the touch (``loadtests.load_orders``), 20 % cancel one of the account's open
orders. ``ws_orders_per_s`` is the ops answered ``ok`` over the time from the first send to the
last reply; a refused op (a cancel of an order another account filled meanwhile) is counted by
its code.

With ``batch`` > 1 the socket sends ``batch`` ops of that many ``place`` ops (one message, one
reply with a result per order; see ``exchange.api.ws``) instead of single ones, and cancels go
in batches of up to the same size.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

from loadtests.load_orders import OrderMaker
from loadtests.load_setup import HOST, LoadMarket
from loadtests.load_stats import Acked, PhaseStats
from loadtests.wire import WsConnection

CANCEL_SHARE = 0.2
DRAIN_TIMEOUT_S = 20.0


async def open_socket(port: int, market_id: str, key: str) -> WsConnection:
    """A socket authenticated with ``key`` (by the URL) whose ``authed`` is read."""
    ws = await WsConnection.open(HOST, port, f"/v1/ws?key={key}&market_id={market_id}")
    first = json.loads(await ws.recv())
    if first.get("type") != "authed":
        raise RuntimeError(f"websocket not authenticated: {first}")
    return ws


class _OrderSocket:
    """One order-entry socket: its in-flight ops by ``req_id`` and what they were."""

    def __init__(
        self,
        ws: WsConnection,
        account: str,
        maker: OrderMaker,
        stats: PhaseStats,
        acked: Acked,
        batch: int,
    ) -> None:
        self.ws = ws
        self.account = account
        self.maker = maker
        self.stats = stats
        self.acked = acked
        self.batch = batch
        self.in_flight: dict[int, tuple[str, float, list[dict[str, Any]]]] = {}
        self.next_id = 0
        self.last_reply = 0.0

    def send_one(self) -> None:
        """Send the next op (or batch of ops)."""
        maker, rng = self.maker, self.maker.rng
        self.next_id += 1
        req_id = self.next_id
        cancel = rng.random() < CANCEL_SHARE and self.maker.open_orders.get(self.account)
        if self.batch <= 1:
            if cancel:
                order = maker.take_open(self.account)
                assert order is not None
                message: dict[str, Any] = {"op": "cancel", "req_id": req_id}
                message["order_id"] = order.order_id
                self.in_flight[req_id] = ("cancel", time.perf_counter(), [])
            else:
                body = maker.place()
                message = {"op": "place", "req_id": req_id, **body}
                self.in_flight[req_id] = ("place", time.perf_counter(), [body])
        elif cancel:
            ids: list[int] = []
            while len(ids) < self.batch and (order := maker.take_open(self.account)):
                ids.append(order.order_id)
            ops = [{"op": "cancel", "order_id": order_id} for order_id in ids]
            message = {"op": "batch", "req_id": req_id, "ops": ops}
            self.in_flight[req_id] = ("cancel", time.perf_counter(), [{}] * len(ids))
        else:
            bodies = [maker.place() for _ in range(self.batch)]
            ops = [{"op": "place", **body} for body in bodies]
            message = {"op": "batch", "req_id": req_id, "ops": ops}
            self.in_flight[req_id] = ("place", time.perf_counter(), bodies)
        self.ws.send(message)

    def on_reply(self, reply: dict[str, Any]) -> None:
        op, sent, bodies = self.in_flight.pop(reply["req_id"])
        stats = self.stats
        stats.latencies_ms.append((time.perf_counter() - sent) * 1000)
        self.last_reply = time.perf_counter()
        if self.batch <= 1:
            results = [reply]
        else:
            results = reply["results"] if reply.get("ok") else [reply] * max(1, len(bodies))
        for n, one in enumerate(results):
            stats.ops[op] += 1
            if one.get("ok"):
                stats.statuses["ok"] += 1
                stats.ops["orders_acked"] += 1
                result = one["result"]
                self.acked.reply(result)
                if op == "place":
                    self.maker.note_placed(self.account, bodies[n], result)
            else:
                stats.statuses[one["error"]["code"]] += 1


async def _run_socket(sock: _OrderSocket, window: int, deadline: float) -> None:
    for _ in range(window):
        sock.send_one()
    while sock.in_flight:
        text = await asyncio.wait_for(sock.ws.recv(), DRAIN_TIMEOUT_S)
        message = json.loads(text)
        if message.get("type") != "reply":
            if message.get("type") == "error":
                raise RuntimeError(f"websocket error: {message}")
            continue
        sock.on_reply(message)
        if time.perf_counter() < deadline:
            sock.send_one()


async def order_entry(
    market: LoadMarket,
    port: int,
    connections: int,
    window: int,
    seconds: float,
    seed: int,
    acked: Acked,
    *,
    batch: int = 1,
) -> PhaseStats:
    """Pipelined WebSocket order entry; the phase's stats (``orders_acked`` among the ops)."""
    accounts = sorted(market.keys)[-connections:]  # not the accounts the REST flow starts with
    sockets = []
    for i, account in enumerate(accounts):
        ws = await open_socket(port, market.market_id, market.keys[account])
        maker = OrderMaker(market, random.Random(seed * 7_919 + i))
        sockets.append(_OrderSocket(ws, account, maker, PhaseStats(), acked, batch))
    stats = PhaseStats()
    try:
        started = time.perf_counter()
        await asyncio.gather(*(_run_socket(s, window, started + seconds) for s in sockets))
        stats.seconds = max(s.last_reply for s in sockets) - started
    finally:
        for sock in sockets:
            await sock.ws.close()
    for sock in sockets:
        stats.ops.update(sock.stats.ops)
        stats.statuses.update(sock.stats.statuses)
        stats.latencies_ms.extend(sock.stats.latencies_ms)
    return stats
