"""REST phases of the load run: the order flow (place, cancel, amend, query) and its baseline.

Each of ``connections`` keep-alive connections (``loadtests.wire``) is a closed loop: it sends
a request, waits for the answer, sends the next, for ``seconds``. Connection ``i`` trades for
the accounts ``i, i + connections, ...`` in turn, so every participant's key is used.

The mix (``MIX``): placeOrder 65 %, cancelOrder 15 %, amendOrder 10 %, getOrder 10 % (a query).
``rest_orders_per_s`` counts the order-entry requests (place, cancel, amend) answered 2xx, and
their latency is ``rest_p99_ms``; queries and refusals (a cancel of an order another account
filled meanwhile: 404/409) are counted beside them.

The baseline, same client, same connections, same duration: ``getOrder`` of one of the
account's own resting orders, an authenticated read that does no work beyond the gateway's
(routing, the key, the rate limit, a dict lookup, the JSON reply); ``/healthz`` (no key) is
reported beside it.
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
from loadtests.wire import HttpConnection

MIX = (("place", 0.65), ("cancel", 0.15), ("amend", 0.10), ("query", 0.10))
ORDER_OPS = ("place", "cancel", "amend")


async def _rest_worker(
    conn: HttpConnection,
    market: LoadMarket,
    accounts: list[str],
    maker: OrderMaker,
    deadline: float,
    stats: PhaseStats,
    acked: Acked,
) -> None:
    rng = maker.rng
    ops = [op for op, _ in MIX]
    weights = [w for _, w in MIX]
    base = f"/v1/markets/{market.market_id}/orders"
    n = 0
    while time.perf_counter() < deadline:
        account = accounts[n % len(accounts)]
        n += 1
        key = market.keys[account]
        op = rng.choices(ops, weights)[0]
        if maker.too_many_open(account):
            op = "cancel"
        order = maker.pick_open(account) if op in ("amend", "query") else None
        if op == "cancel":
            order = maker.take_open(account)
        if op != "place" and order is None:
            op = "place"
        started = time.perf_counter()
        body: dict[str, Any] | None = None
        if op == "place":
            body = maker.place()
            status, payload = await conn.request("POST", base, key, body)
        elif op == "cancel":
            assert order is not None
            status, payload = await conn.request("DELETE", f"{base}/{order.order_id}", key)
        elif op == "amend":
            assert order is not None
            change = maker.amendment(order)
            status, payload = await conn.request("PATCH", f"{base}/{order.order_id}", key, change)
        else:
            assert order is not None
            status, payload = await conn.request("GET", f"{base}/{order.order_id}", key)
        elapsed_ms = (time.perf_counter() - started) * 1000
        stats.statuses[str(status)] += 1
        stats.ops[op] += 1
        if op in ORDER_OPS:
            stats.latencies_ms.append(elapsed_ms)
            if 200 <= status < 300:
                stats.ops["orders_acked"] += 1
                result = json.loads(payload)
                acked.reply(result)
                if op == "place" and body is not None:
                    maker.note_placed(account, body, result)


async def order_flow(
    market: LoadMarket, port: int, connections: int, seconds: float, seed: int, acked: Acked
) -> PhaseStats:
    """The REST order flow for ``seconds`` on ``connections`` connections."""
    conns = [await HttpConnection.open(HOST, port) for _ in range(connections)]
    accounts = sorted(market.keys)
    stats = PhaseStats()
    try:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(
                _rest_worker(
                    conn,
                    market,
                    accounts[i :: len(conns)] or accounts,
                    OrderMaker(market, random.Random(seed * 1_000 + i)),
                    deadline,
                    stats,
                    acked,
                )
                for i, conn in enumerate(conns)
            )
        )
        stats.seconds = time.perf_counter() - started
    finally:
        for conn in conns:
            await conn.close()
    return stats


async def resting_orders(market: LoadMarket, port: int, acked: Acked) -> dict[str, int]:
    """One resting buy at the band's lower edge for each account (nothing trades there in
    this run): the order the baseline reads. {account: order id}."""
    conn = await HttpConnection.open(HOST, port)
    found: dict[str, int] = {}
    try:
        for account, key in sorted(market.keys.items()):
            body = {
                "symbol": market.symbol,
                "side": "buy",
                "order_type": "limit",
                "qty_t": market.lot_t,
                "price_fen": market.band_lower_fen,
            }
            status, payload = await conn.request(
                "POST", f"/v1/markets/{market.market_id}/orders", key, body
            )
            if status != 201:
                raise RuntimeError(f"resting order refused: {status} {payload[:300]!r}")
            result = json.loads(payload)
            acked.reply(result)
            found[account] = result["order_id"]
    finally:
        await conn.close()
    return found


async def baseline(
    market: LoadMarket,
    port: int,
    connections: int,
    seconds: float,
    resting: dict[str, int],
    *,
    healthz: bool = False,
) -> PhaseStats:
    """The baseline: ``getOrder`` of an own resting order (or ``/healthz`` without a key) in
    the same closed loops as the order flow."""
    conns = [await HttpConnection.open(HOST, port) for _ in range(connections)]
    accounts = sorted(market.keys)
    stats = PhaseStats()
    op = "healthz" if healthz else "getOrder"

    async def worker(conn: HttpConnection, mine: list[str], deadline: float) -> None:
        n = 0
        while time.perf_counter() < deadline:
            account = mine[n % len(mine)]
            n += 1
            started = time.perf_counter()
            if healthz:
                status, _ = await conn.request("GET", "/healthz")
            else:
                path = f"/v1/markets/{market.market_id}/orders/{resting[account]}"
                status, _ = await conn.request("GET", path, market.keys[account])
            stats.latencies_ms.append((time.perf_counter() - started) * 1000)
            stats.statuses[str(status)] += 1
            stats.ops[op] += 1

    try:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(
                worker(c, accounts[i :: len(conns)] or accounts, deadline)
                for i, c in enumerate(conns)
            )
        )
        stats.seconds = time.perf_counter() - started
    finally:
        for conn in conns:
            await conn.close()
    return stats
