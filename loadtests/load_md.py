"""Market data under load: ``subscribers`` sockets on the ``trades`` channel (every tenth also on
the instrument's book) while a generator makes ``trades_per_s`` trades.

The generator is one operator socket sending, every ``TICK_S``, one ``batch`` op of pairs for
two accounts: a sell that rests, then a buy at its price that takes it, so each pair is one
trade and the book is empty between pairs (the run cancels every order first). The replies
name every trade id.

Each subscriber counts the trades it receives and their ids' sum (both must equal the
generator's), and times each message: receipt wall time minus the ``commit_ns`` of the
message's oldest trade (the wall time the server stamped after the commit made it durable).
That bounds every trade in the message from above, and is counted once per trade in a
histogram of 0.1 ms bins, so ``md_p99_ms`` covers every delivery without keeping them all.
With ``batch`` the subscription asks for batched ``trades`` messages (``exchange.api.feed``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from dataclasses import dataclass, field

from loadtests.load_setup import HOST, LoadMarket, call
from loadtests.load_ws import open_socket
from loadtests.wire import HttpConnection, WebSocketClosedError, WsConnection

TICK_S = 0.01
BIN_US = 100
BINS = 100_000  # 10 s; anything later lands in the last bin
CONNECT_CONCURRENCY = 50
QUIET_S = 2.0  # after the generator stops: the last trades' time to arrive
BOOK_EVERY = 10  # every tenth subscriber also follows the book


@dataclass
class Delivery:
    """What all subscribers received: a latency histogram, trades per subscriber."""

    histogram: list[int] = field(default_factory=lambda: [0] * BINS)
    trades: list[int] = field(default_factory=list)  # per subscriber
    id_sums: list[int] = field(default_factory=list)
    messages: int = 0
    dropped: int = 0

    def percentile_ms(self, fraction: float) -> float | None:
        total = sum(self.histogram)
        if not total:
            return None
        rank = fraction * total
        seen = 0
        for n, count in enumerate(self.histogram):
            seen += count
            if seen >= rank:
                return (n + 1) * BIN_US / 1000
        return None


_TRADE_IDS = re.compile(r'"trade_id":\s*(\d+)')


def _number_after(text: str, name: str, start: int) -> int:
    """The integer after the first ``name`` at or after ``start`` (spaces allowed)."""
    at = text.find(name, start) + len(name)
    while text[at] == " ":
        at += 1
    end = at
    while text[end].isdigit():
        end += 1
    return int(text[at:end])


async def _subscriber(ws: WsConnection, slot: int, delivery: Delivery, stop: asyncio.Event) -> None:
    histogram = delivery.histogram
    trades, id_sums = delivery.trades, delivery.id_sums
    with contextlib.suppress(WebSocketClosedError, asyncio.IncompleteReadError, ConnectionError):
        while not stop.is_set():
            text = await ws.recv()
            now = time.time_ns()
            if '"trade' not in text:  # book deltas, heartbeats
                if '"dropped"' in text:
                    delivery.dropped += 1
                    break
                continue
            delivery.messages += 1
            commit_ns = _number_after(text, '"commit_ns":', 0)
            ids = _TRADE_IDS.findall(text)  # in C: a Python loop per trade costs a core here
            n = len(ids)
            trades[slot] += n
            id_sums[slot] += sum(map(int, ids))
            histogram[min(BINS - 1, (now - commit_ns) // (BIN_US * 1000))] += n


async def _subscribe(
    port: int, market: LoadMarket, key: str, slot: int, batch: bool
) -> WsConnection:
    ws = await open_socket(port, market.market_id, key)
    channels = ["trades"] + ([f"book:{market.symbol}"] if slot % BOOK_EVERY == 0 else [])
    for channel in channels:
        ws.send(
            {
                "op": "subscribe",
                "channel": channel,
                **({"batch": True} if batch and channel == "trades" else {}),
            }
        )
    waiting = set(channels)
    while waiting:
        message = json.loads(await ws.recv())
        if message.get("type") == "subscribed":
            waiting.discard(message["channel"])
        elif message.get("type") == "error":
            raise RuntimeError(f"subscription refused: {message}")
    return ws


async def _generate(
    ws: WsConnection, market: LoadMarket, trades_per_s: int, seconds: float
) -> tuple[set[int], int]:
    """Place ``trades_per_s`` crossing pairs a second for ``seconds``; (trade ids, refusals)."""
    seller, buyer = sorted(market.keys)[:2]
    price = market.reference_price_fen
    qty = market.lot_t
    pairs_per_tick = max(1, round(trades_per_s * TICK_S))
    ticks = int(seconds / TICK_S)
    trade_ids: set[int] = set()
    refused = 0

    async def read_replies() -> None:
        nonlocal refused
        got = 0
        while got < ticks:
            message = json.loads(await ws.recv())
            if message.get("type") != "reply":
                continue
            got += 1
            for result in message.get("results") or [message]:
                if not result["ok"]:
                    refused += 1
                    continue
                for fill in result["result"].get("fills", ()):
                    trade_ids.add(fill["trade_id"])

    pair = [
        {"op": "place", "account_id": account, "symbol": market.symbol, "side": side}
        | {"qty_t": qty, "price_fen": price}
        for account, side in ((seller, "sell"), (buyer, "buy"))
    ]
    reader = asyncio.create_task(read_replies())
    started = time.perf_counter()
    for tick in range(ticks):
        ws.send({"op": "batch", "req_id": tick, "ops": pair * pairs_per_tick})
        delay = started + (tick + 1) * TICK_S - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    await asyncio.wait_for(reader, 30.0)
    return trade_ids, refused


async def cancel_everything(market: LoadMarket, port: int) -> int:
    """``cancelAllOrders`` for every participant: an empty book for the generator."""
    conn = await HttpConnection.open(HOST, port)
    cancelled = 0
    try:
        for key in market.keys.values():
            reply = await call(conn, "DELETE", f"/v1/markets/{market.market_id}/orders", key)
            cancelled += reply["cancelled"]
    finally:
        await conn.close()
    return cancelled


async def observer_key(market: LoadMarket, port: int) -> str:
    conn = await HttpConnection.open(HOST, port)
    try:
        path = f"/v1/markets/{market.market_id}/keys"
        reply = await call(conn, "POST", path, market.operator_key, {"role": "observer"})
    finally:
        await conn.close()
    key: str = reply["api_key"]
    return key


async def market_data(
    market: LoadMarket,
    port: int,
    subscribers: int,
    trades_per_s: int,
    seconds: float,
    *,
    batch: bool,
) -> dict[str, object]:
    """Subscribe, generate, wait ``QUIET_S``, and report what the subscribers received."""
    key = await observer_key(market, port)
    delivery = Delivery(trades=[0] * subscribers, id_sums=[0] * subscribers)
    sockets: list[WsConnection] = []
    limit = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def connect(slot: int) -> WsConnection:
        async with limit:
            return await _subscribe(port, market, key, slot, batch)

    connect_started = time.perf_counter()
    sockets = list(await asyncio.gather(*(connect(i) for i in range(subscribers))))
    connect_s = time.perf_counter() - connect_started
    stop = asyncio.Event()
    readers = [
        asyncio.create_task(_subscriber(ws, i, delivery, stop)) for i, ws in enumerate(sockets)
    ]
    generator = await open_socket(port, market.market_id, market.market_operator_key)
    try:
        started = time.perf_counter()
        trade_ids, refused = await _generate(generator, market, trades_per_s, seconds)
        generate_s = time.perf_counter() - started
        expected, id_sum = len(trade_ids), sum(trade_ids)
        deadline = time.monotonic() + QUIET_S * 5
        while time.monotonic() < deadline and min(delivery.trades) < expected:
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.05)
        stop.set()
        for ws in sockets:
            await ws.close()
        await asyncio.gather(*readers, return_exceptions=True)
    finally:
        await generator.close()
    complete = sum(
        1
        for count, total in zip(delivery.trades, delivery.id_sums, strict=True)
        if count == expected and total == id_sum
    )
    return {
        "md_subscribers": subscribers,
        "md_book_subscribers": len(range(0, subscribers, BOOK_EVERY)),
        "md_trades": expected,
        "md_trades_per_s": round(expected / generate_s, 1),
        "md_generator_refused": refused,
        "md_subscribers_complete": complete,
        "md_deliveries": sum(delivery.trades),
        "md_messages": delivery.messages,
        "md_dropped": delivery.dropped,
        "md_p50_ms": delivery.percentile_ms(0.50),
        "md_p99_ms": delivery.percentile_ms(0.99),
        "md_max_ms": delivery.percentile_ms(1.0),
        "md_connect_s": round(connect_s, 2),
        "md_batched": batch,
        "trade_ids": trade_ids,
    }
