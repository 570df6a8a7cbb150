"""``Stream``: the market's WebSocket (``/v1/ws``) for a client.

    async with client.stream() as ws:
        await ws.subscribe("trades")
        placed = await ws.place("CEA2025", "buy", 100, 6000)
        async for message in ws:
            ...

The key goes in the first message (``{"op": "auth", ...}``), never in the URL, so it cannot
land in an access log. A reader task takes every message off the socket and:

* checks ``seq`` is the one after the last (the server numbers each connection's messages
  1, 2, 3, ...). On a gap, ``on_gap="raise"`` (the default) ends the stream with
  ``SequenceGapError``; ``on_gap="flag"`` records it in ``gaps`` and goes on (re-subscribe a
  book channel to get a fresh snapshot);
* answers the request it replies to: each op carries a ``req_id`` and its ``reply`` resolves
  that request's future with its ``result`` (``ok: false`` raises ``CarbonxError`` with the
  refusal's code and numbers, as REST would); ``subscribed``, ``unsubscribed`` and a channel's
  ``error`` resolve a subscription by its channel, ``pong`` a ping;
* drops heartbeats (they only show the link is alive): when nothing at all arrives for
  ``idle_timeout_s`` the link is dead and the stream ends with ``StreamTimeoutError``;
* queues everything else for ``async for`` / ``next()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any, Literal

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from exchange.client.errors import (
    SequenceGapError,
    StreamClosedError,
    StreamError,
    StreamTimeoutError,
    UnauthenticatedError,
    error_from_problem,
)
from exchange.client.operation import fields
from exchange.client.types import OrderType, Side

Message = dict[str, Any]
DEFAULT_IDLE_TIMEOUT_S = 45.0  # three of the server's default 15 s heartbeats
AUTH_TIMEOUT_S = 10.0
WS_PATH = "/v1/ws"


def ws_url(base_url: str) -> str:
    """``http(s)://host`` -> ``ws(s)://host/v1/ws``."""
    base = base_url.rstrip("/")
    if base.startswith("https://"):
        return "wss://" + base.removeprefix("https://") + WS_PATH
    return "ws://" + base.removeprefix("http://") + WS_PATH


class _End:
    """Queued last: the stream is over, for this reason."""

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


class Stream:
    """An authenticated WebSocket to one market; use as ``async with``."""

    def __init__(
        self,
        base_url: str,
        key: str | None,
        market_id: str,
        *,
        on_gap: Literal["raise", "flag"] = "raise",
        idle_timeout_s: float | None = DEFAULT_IDLE_TIMEOUT_S,
        reply_timeout_s: float = 10.0,
        cancel_on_disconnect: bool = False,
    ) -> None:
        self.url = ws_url(base_url)
        self.market_id = market_id
        self.on_gap = on_gap
        self.idle_timeout_s = idle_timeout_s
        self.reply_timeout_s = reply_timeout_s
        self.cancel_on_disconnect = cancel_on_disconnect
        self.role: str | None = None
        self.account_id: str | None = None
        self.last_seq = 0
        self.gaps: list[tuple[int, int]] = []  # (expected, got), with on_gap="flag"
        self._key = key
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._inbox: asyncio.Queue[Message | _End] = asyncio.Queue()
        self._pending: dict[str, asyncio.Future[Message]] = {}
        self._by_channel: dict[str, str] = {}  # channel -> req_id of its (un)subscription
        self._req_ids = itertools.count(1)
        self._ended: BaseException | None = None

    # -- lifecycle

    async def __aenter__(self) -> Stream:
        self._socket = await connect(self.url, max_size=2**22)
        try:
            await self._authenticate(self._socket)
        except BaseException:
            await self._socket.close()
            raise
        self._reader = asyncio.create_task(self._read(self._socket))
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def _authenticate(self, socket: ClientConnection) -> None:
        auth = {
            "op": "auth",
            "market_id": self.market_id,
            "key": self._key or "",
            "cancel_on_disconnect": self.cancel_on_disconnect,
        }
        await socket.send(json.dumps(auth))
        try:
            first = json.loads(await asyncio.wait_for(socket.recv(), AUTH_TIMEOUT_S))
        except ConnectionClosed as closed:
            raise UnauthenticatedError(401, "UNAUTHENTICATED", str(closed)) from None
        self._check_seq(first)
        if first.get("type") != "authed":
            raise error_from_problem(first)
        self.role = first.get("role")
        self.account_id = first.get("account_id")

    # -- requests

    async def subscribe(self, channel: str, **options: Any) -> Message:
        """Subscribe to ``trades``, ``book:<symbol>``, ``ticker:<symbol>``, ``orders``,
        ``fills``, ``balances``, ...; ``options`` such as ``depth=10``, ``year=2025`` or (for
        operators) ``account_id``. A refusal raises ``CarbonxError``."""
        return await self._request({"op": "subscribe", "channel": channel, **options}, channel)

    async def unsubscribe(self, channel: str) -> Message:
        return await self._request({"op": "unsubscribe", "channel": channel}, channel)

    async def place(
        self,
        symbol: str,
        side: Side,
        qty_t: int,
        price_fen: int | None = None,
        *,
        order_type: OrderType | None = None,
        client_order_id: str | None = None,
        account_id: str | None = None,
    ) -> Message:
        """Place an order over the socket (``account_id``: operators only); answers the
        result, the fields ``placeOrder`` answers."""
        order = fields(
            account_id=account_id,
            symbol=symbol,
            side=side,
            qty_t=qty_t,
            price_fen=price_fen,
            order_type=order_type,
            client_order_id=client_order_id,
        )
        return await self._request({"op": "place", **order})

    async def take(
        self,
        order_id: int,
        qty_t: int,
        *,
        client_order_id: str | None = None,
        account_id: str | None = None,
    ) -> Message:
        """Take ``qty_t`` of the resting quote ``order_id`` over the socket (``takeQuote``)."""
        given = fields(qty_t=qty_t, client_order_id=client_order_id, account_id=account_id)
        return await self._request({"op": "take", "order_id": order_id, **given})

    async def cancel(self, order_id: int, account_id: str | None = None) -> Message:
        given = fields(account_id=account_id)
        return await self._request({"op": "cancel", "order_id": order_id, **given})

    async def amend(
        self,
        order_id: int,
        *,
        price_fen: int | None = None,
        qty_t: int | None = None,
        account_id: str | None = None,
    ) -> Message:
        given = fields(price_fen=price_fen, qty_t=qty_t, account_id=account_id)
        return await self._request({"op": "amend", "order_id": order_id, **given})

    async def cancel_all(self, symbol: str | None = None, account_id: str | None = None) -> Message:
        given = fields(symbol=symbol, account_id=account_id)
        return await self._request({"op": "cancel_all", **given})

    # -- block agreement trades (a participant's own; answered as their REST operations)

    async def block_post(
        self,
        symbol: str,
        side: Side,
        price_fen: int,
        qty_t: int,
        *,
        counterparty: str | None = None,
    ) -> Message:
        """Post a block quote (``postBlockQuote``), public or directed to ``counterparty``."""
        quote = fields(
            symbol=symbol, side=side, price_fen=price_fen, qty_t=qty_t, counterparty=counterparty
        )
        return await self._request({"op": "block_post", **quote})

    async def block_cancel(self, quote_id: int) -> Message:
        return await self._request({"op": "block_cancel", "quote_id": quote_id})

    async def block_accept(self, quote_id: int, qty_t: int | None = None) -> Message:
        """Deal at the quote's price for ``qty_t`` (None: all that is left): the deal."""
        given = fields(qty_t=qty_t)
        return await self._request({"op": "block_accept", "quote_id": quote_id, **given})

    async def block_open(self, quote_id: int, price_fen: int, qty_t: int) -> Message:
        """Open a negotiation (对话议价) on a quote with counter terms."""
        terms = {"quote_id": quote_id, "price_fen": price_fen, "qty_t": qty_t}
        return await self._request({"op": "block_open", **terms})

    async def block_counter(self, negotiation_id: int, price_fen: int, qty_t: int) -> Message:
        terms = {"negotiation_id": negotiation_id, "price_fen": price_fen, "qty_t": qty_t}
        return await self._request({"op": "block_counter", **terms})

    async def block_confirm(self, negotiation_id: int, price_fen: int, qty_t: int) -> Message:
        """Confirm the other side's latest terms as seen: the deal."""
        terms = {"negotiation_id": negotiation_id, "price_fen": price_fen, "qty_t": qty_t}
        return await self._request({"op": "block_confirm", **terms})

    async def block_end(self, negotiation_id: int) -> Message:
        return await self._request({"op": "block_end", "negotiation_id": negotiation_id})

    # -- auction bids (a participant's own; answered as their REST operations)

    async def bid_submit(self, auction_id: int, price_fen: int, qty_t: int) -> Message:
        """A sealed bid in an auction's window (``submitBid``): the bid and what it holds."""
        terms = {"auction_id": auction_id, "price_fen": price_fen, "qty_t": qty_t}
        return await self._request({"op": "bid_submit", **terms})

    async def bid_amend(self, bid_id: int, price_fen: int, qty_t: int) -> Message:
        """Replace an own bid where bids are revocable (``amendBid``): the new bid, a new id."""
        terms = {"bid_id": bid_id, "price_fen": price_fen, "qty_t": qty_t}
        return await self._request({"op": "bid_amend", **terms})

    async def bid_withdraw(self, bid_id: int) -> Message:
        """Withdraw an own bid where bids are revocable (``withdrawBid``)."""
        return await self._request({"op": "bid_withdraw", "bid_id": bid_id})

    async def ping(self) -> Message:
        """An application-level ping; answers the server's reply."""
        return await self._request({"op": "ping"})

    async def _request(self, message: Message, channel: str | None = None) -> Message:
        if self._socket is None:
            raise StreamError("the stream is not open: use `async with client.stream()`")
        if self._ended is not None:
            raise self._ended
        req_id = f"r{next(self._req_ids)}"
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = future
        if channel is not None:
            self._by_channel[channel] = req_id
        try:
            await self._socket.send(json.dumps({**message, "req_id": req_id}))
            return await asyncio.wait_for(future, self.reply_timeout_s)
        finally:
            self._pending.pop(req_id, None)
            if channel is not None and self._by_channel.get(channel) == req_id:
                del self._by_channel[channel]

    # -- messages

    def __aiter__(self) -> AsyncIterator[Message]:
        return self

    async def __anext__(self) -> Message:
        item = await self._inbox.get()
        if isinstance(item, _End):
            self._inbox.put_nowait(item)  # every later call ends too
            if item.error is None:
                raise StopAsyncIteration
            raise item.error
        return item

    async def next(self, timeout_s: float | None = None) -> Message:
        """The next message (``StopAsyncIteration`` once the stream is over)."""
        return await asyncio.wait_for(self.__anext__(), timeout_s)

    async def _read(self, socket: ClientConnection) -> None:
        error: BaseException | None = None
        try:
            while True:
                raw = await asyncio.wait_for(socket.recv(), self.idle_timeout_s)
                message = json.loads(raw)
                self._check_seq(message)
                self._dispatch(message)
        except TimeoutError:
            error = StreamTimeoutError(f"nothing received for {self.idle_timeout_s} s")
            await socket.close()
        except ConnectionClosed as closed:
            received = closed.rcvd
            if received is not None and received.code not in (1000, 1001):
                error = StreamClosedError(received.code, received.reason)
        except StreamError as stream_error:
            error = stream_error
            await socket.close()
        self._end(error)

    def _check_seq(self, message: Message) -> None:
        seq = message.get("seq")
        if not isinstance(seq, int):
            return
        expected = self.last_seq + 1
        self.last_seq = seq
        if seq != expected:
            if self.on_gap == "raise":
                raise SequenceGapError(expected, seq)
            self.gaps.append((expected, seq))

    def _dispatch(self, message: Message) -> None:
        kind = message.get("type")
        if kind == "heartbeat":
            return
        req_id = message.get("req_id")
        if req_id is None and kind in ("subscribed", "unsubscribed", "error"):
            req_id = self._by_channel.get(str(message.get("channel")))
        future = self._pending.get(req_id) if isinstance(req_id, str) else None
        if future is None or future.done():
            self._inbox.put_nowait(message)
        elif kind == "error":
            future.set_exception(error_from_problem(message))
        elif kind == "reply" and not message.get("ok"):
            future.set_exception(error_from_problem(message.get("error") or {}, refusal=True))
        elif kind == "reply":
            future.set_result(message.get("result") or {})
        else:
            future.set_result(message)

    def _end(self, error: BaseException | None) -> None:
        self._ended = error or StreamClosedError(1000, "closed")
        for future in self._pending.values():
            if not future.done():
                future.set_exception(self._ended)
        self._inbox.put_nowait(_End(error))
