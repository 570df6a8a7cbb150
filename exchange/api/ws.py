"""Market data and own order events over ``WebSocket /v1/ws``.

A client authenticates with its API key, as its first message
``{"op": "auth", "market_id": "demo", "key": "cx_..."}`` or as ``?key=`` (and ``?market_id=``)
on the URL, and is answered ``{"type": "authed", "role": ..., "account_id": ...}``; a bad key is
answered ``{"type": "error", "code": "UNAUTHENTICATED"}`` and the socket closed with 4401.
Then ``{"op": "subscribe" | "unsubscribe", "channel": ...}`` with the channels

* ``trades``: every trade of the market (no account ids);
* ``book:<symbol>``: a snapshot of 5 levels a side (like ``getBook``), then one delta per
  changed level (``qty_t`` 0: the level is gone). The snapshot's ``market_seq`` is the last
  command it reflects: a delta with a ``market_seq`` at or below it is in the snapshot already;
* ``orders`` (participants only): the key's own order events and its own side of each fill.

A refused subscription is an error message; the connection stays open.

Every server message carries ``seq``: 1, 2, 3, ... per connection, without gaps; those that
come from a command also carry its journal sequence number ``market_seq``. Messages are
published by a runtime listener, after the commit (durable before market data). Each connection
has a bounded queue; the listener never waits: when a queue is full the connection's messages
are dropped, it is sent ``{"type": "dropped", "reason": "slow consumer"}`` and closed with 4008.
After ``heartbeat_s`` without a message the server sends ``{"type": "heartbeat"}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from exchange.api.auth import Principal, Role, find_key
from exchange.api.errors import ApiError
from exchange.runtime import Ack, MarketRuntime
from matching.events import (
    BookLevelChanged,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderReduced,
    TradeExecuted,
)
from settlement.outcome import Fill

log = logging.getLogger("carbonx.api.ws")

router = APIRouter()

BOOK_LEVELS = 5
AUTH_TIMEOUT_S = 10.0
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_UNKNOWN_MARKET = 4404
CLOSE_SLOW_CONSUMER = 4008

ORDER_EVENTS: dict[type, str] = {
    OrderAccepted: "accepted",
    OrderCancelled: "cancelled",
    OrderAmended: "amended",
    OrderReduced: "reduced",
}

Message = dict[str, Any]


class Connection:
    """One authenticated socket: its subscriptions and its bounded outgoing queue."""

    def __init__(self, principal: Principal, queue_size: int) -> None:
        self.principal = principal
        self.queue: asyncio.Queue[Message] = asyncio.Queue(queue_size)
        self.channels: set[str] = set()  # the feed's keys: trades, book:<symbol>, orders:<id>
        self.dropped = False

    def push(self, message: Message) -> None:
        """Enqueue without waiting; a full queue marks the connection dropped."""
        if self.dropped:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:  # the sender has a full queue to take: it sees the mark
            self.dropped = True


class Feed:
    """The hub's publisher: each market's subscribers by channel, fed by a runtime listener."""

    def __init__(self, queue_size: int = 1000, heartbeat_s: float = 15.0) -> None:
        self.queue_size = queue_size
        self.heartbeat_s = heartbeat_s
        self._subscribers: dict[str, dict[str, set[Connection]]] = {}

    def listener(self, market_id: str) -> Callable[[Sequence[Ack]], None]:
        subscribers = self._subscribers.setdefault(market_id, {})

        def publish(acks: Sequence[Ack]) -> None:
            if subscribers:
                _publish(subscribers, acks)

        return publish

    def subscribe(self, connection: Connection, channel: str) -> None:
        market = self._subscribers.setdefault(connection.principal.market_id, {})
        market.setdefault(channel, set()).add(connection)
        connection.channels.add(channel)

    def unsubscribe(self, connection: Connection, channel: str) -> None:
        market = self._subscribers.get(connection.principal.market_id, {})
        subscribers = market.get(channel)
        if subscribers is not None:
            subscribers.discard(connection)
            if not subscribers:
                del market[channel]
        connection.channels.discard(channel)

    def forget(self, connection: Connection) -> None:
        for channel in list(connection.channels):
            self.unsubscribe(connection, channel)


def _publish(subscribers: dict[str, set[Connection]], acks: Sequence[Ack]) -> None:
    """Fan one commit's acks out to the subscribers' queues; never waits."""
    for ack in acks:
        outcome = ack.outcome
        events = outcome.events
        if not events:
            continue
        market_seq = ack.seq
        fills: dict[int, Fill] | None = None
        for event in events:
            kind = type(event)
            if kind is BookLevelChanged:
                assert isinstance(event, BookLevelChanged)
                to = subscribers.get("book:" + event.symbol)
                if to:
                    _send(to, _level(event, market_seq))
            elif kind is TradeExecuted:
                assert isinstance(event, TradeExecuted)
                to = subscribers.get("trades")
                if to:
                    _send(to, _trade(event, market_seq))
                for side, account in (
                    ("buy", event.buy_account_id),
                    ("sell", event.sell_account_id),
                ):
                    to = subscribers.get("orders:" + account)
                    if to:
                        if fills is None:
                            fills = {f.trade.trade_id: f for f in outcome.fills}
                        _send(to, _fill(event, fills.get(event.trade_id), side, market_seq))
            elif isinstance(event, OrderAccepted | OrderCancelled | OrderAmended | OrderReduced):
                to = subscribers.get("orders:" + event.account_id)
                if to:
                    _send(to, _order(event, ORDER_EVENTS[kind], market_seq))


def _send(connections: set[Connection], message: Message) -> None:
    for connection in connections:
        connection.push(message)


def _level(event: BookLevelChanged, market_seq: int) -> Message:
    return {
        "type": "book_delta",
        "market_seq": market_seq,
        "symbol": event.symbol,
        "side": event.side.value,
        "price_fen": event.price_fen,
        "qty_t": event.qty_t,
        "order_count": event.order_count,
    }


def _trade(event: TradeExecuted, market_seq: int) -> Message:
    return {
        "type": "trade",
        "market_seq": market_seq,
        "symbol": event.symbol,
        "trade_id": event.trade_id,
        "price_fen": event.price_fen,
        "qty_t": event.qty_t,
        "aggressor": event.aggressor.value,
        "ts_ns": event.ts_ns,
    }


def _fill(event: TradeExecuted, fill: Fill | None, side: str, market_seq: int) -> Message:
    """One side's own view of a trade: its order, quantity left and fee; not the other side."""
    buy = side == "buy"
    fee = None if fill is None else (fill.buy_fee_fen if buy else fill.sell_fee_fen)
    return {
        "type": "fill",
        "market_seq": market_seq,
        "symbol": event.symbol,
        "trade_id": event.trade_id,
        "order_id": event.buy_order_id if buy else event.sell_order_id,
        "side": side,
        "price_fen": event.price_fen,
        "qty_t": event.qty_t,
        "leaves_t": event.buy_leaves_t if buy else event.sell_leaves_t,
        "fee_fen": fee,
        "aggressor": event.aggressor.value == side,
    }


def _order(event: Any, name: str, market_seq: int) -> Message:
    message: Message = {"type": "order", "event": name, "market_seq": market_seq}
    for field, value in event.as_dict().items():
        if field != "seq":
            message[field] = getattr(value, "value", value)  # enums as their values
    return message


def _error(code: str, detail: str, **numbers: Any) -> Message:
    return {"type": "error", "code": code, "detail": detail, **numbers}


# ---------------------------------------------------------------------- the socket


@router.websocket("/v1/ws")
async def websocket_feed(websocket: WebSocket) -> None:
    await websocket.accept()
    hub = websocket.app.state.hub
    feed: Feed = hub.feed
    try:
        who, runtime = await _authenticate(websocket, hub)
    except _RefusedError as refused:
        await _close(websocket, refused.message, refused.close_code)
        return
    except WebSocketDisconnect:
        return
    connection = Connection(who, feed.queue_size)
    connection.push({"type": "authed", "role": who.role.value, "account_id": who.account_id})
    sender = asyncio.create_task(_send_loop(websocket, connection, feed.heartbeat_s))
    receiver = asyncio.create_task(_receive_loop(websocket, connection, feed, runtime))
    try:
        await asyncio.wait((sender, receiver), return_when=asyncio.FIRST_COMPLETED)
    finally:
        feed.forget(connection)
        for task in (sender, receiver):
            task.cancel()
        await asyncio.gather(sender, receiver, return_exceptions=True)
        if websocket.application_state is WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close()


class _RefusedError(Exception):
    def __init__(self, message: Message, close_code: int) -> None:
        super().__init__(message["code"])
        self.message = message
        self.close_code = close_code


async def _authenticate(websocket: WebSocket, hub: Any) -> tuple[Principal, MarketRuntime]:
    key = websocket.query_params.get("key")
    market_id = websocket.query_params.get("market_id")
    if key is None:
        try:
            first = await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT_S)
        except TimeoutError:
            raise _RefusedError(
                _error("UNAUTHENTICATED", "no auth message"), CLOSE_UNAUTHENTICATED
            ) from None
        request = _parse(first)
        if (
            request is None
            or request.get("op") != "auth"
            or not isinstance(request.get("key"), str)
        ):
            detail = 'the first message is {"op": "auth", "market_id": ..., "key": ...}'
            raise _RefusedError(_error("UNAUTHENTICATED", detail), CLOSE_UNAUTHENTICATED)
        key = request["key"]
        named = request.get("market_id")
        market_id = named if isinstance(named, str) else None
    who = await find_key(hub.engine, key)
    if who is None:
        message = _error("UNAUTHENTICATED", "unknown or revoked API key")
        raise _RefusedError(message, CLOSE_UNAUTHENTICATED)
    if market_id is not None and market_id != who.market_id:
        message = _error("FORBIDDEN", "the key belongs to another market")
        raise _RefusedError(message, CLOSE_FORBIDDEN)
    try:
        runtime: MarketRuntime = hub.runtime(who.market_id)
    except ApiError as error:
        raise _RefusedError(_error(error.code, error.detail), CLOSE_UNKNOWN_MARKET) from None
    return who, runtime


def _parse(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


async def _close(websocket: WebSocket, message: Message, code: int) -> None:
    with contextlib.suppress(Exception):
        await websocket.send_json({"seq": 1, **message})
        await websocket.close(code)


async def _send_loop(websocket: WebSocket, connection: Connection, heartbeat_s: float) -> None:
    seq = 0
    queue = connection.queue
    while True:
        try:
            message = await asyncio.wait_for(queue.get(), heartbeat_s)
        except TimeoutError:
            message = {"type": "heartbeat"}
        seq += 1
        if connection.dropped:
            await websocket.send_json({"type": "dropped", "reason": "slow consumer", "seq": seq})
            await websocket.close(CLOSE_SLOW_CONSUMER)
            return
        await websocket.send_json({**message, "seq": seq})


async def _receive_loop(
    websocket: WebSocket, connection: Connection, feed: Feed, runtime: MarketRuntime
) -> None:
    limiter = websocket.app.state.limiter
    while True:
        try:
            text = await websocket.receive_text()
        except (WebSocketDisconnect, RuntimeError):
            return
        request = _parse(text)
        op = None if request is None else request.get("op")
        channel = None if request is None else request.get("channel")
        if op not in ("subscribe", "unsubscribe") or not isinstance(channel, str):
            detail = 'expected {"op": "subscribe" | "unsubscribe", "channel": ...}'
            connection.push(_error("INVALID_REQUEST", detail))
            continue
        try:
            limiter.check(connection.principal.key_id)
            key = _channel_key(connection.principal, runtime, channel)
        except ApiError as error:
            connection.push(_error(error.code, error.detail, channel=channel, **error.numbers))
            continue
        if op == "unsubscribe":
            feed.unsubscribe(connection, key)
            connection.push({"type": "unsubscribed", "channel": channel})
            continue
        feed.subscribe(connection, key)
        connection.push({"type": "subscribed", "channel": channel})
        if key.startswith("book:"):
            connection.push(_snapshot(runtime, key.removeprefix("book:")))


def _channel_key(who: Principal, runtime: MarketRuntime, channel: str) -> str:
    """The feed's key for a channel the key may see; an ApiError when it may not."""
    if channel == "trades":
        return channel
    if channel.startswith("book:"):
        symbol = channel.removeprefix("book:")
        if symbol not in runtime.market.instruments:
            raise ApiError(404, "UNKNOWN_INSTRUMENT", f"no instrument {symbol!r}", symbol=symbol)
        return channel
    if channel == "orders" or channel.startswith("orders:"):
        if who.role is not Role.PARTICIPANT or who.account_id is None:
            raise ApiError(403, "FORBIDDEN", "only a participant key has an orders channel")
        if channel not in ("orders", "orders:" + who.account_id):
            raise ApiError(403, "FORBIDDEN", "the orders channel is always your own account")
        return "orders:" + who.account_id
    raise ApiError(422, "INVALID_REQUEST", "channels: trades, book:<symbol>, orders")


def _snapshot(runtime: MarketRuntime, symbol: str) -> Message:
    engine = runtime.market.engine
    info = engine.book_info(symbol)
    depth = engine.depth(symbol, BOOK_LEVELS)
    return {
        "type": "book_snapshot",
        "market_seq": runtime.last_seq,
        "symbol": symbol,
        "state": info.state,
        "bids": [level._asdict() for level in depth.bids],
        "asks": [level._asdict() for level in depth.asks],
    }
