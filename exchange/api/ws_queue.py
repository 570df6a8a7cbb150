"""A WebSocket's bounded outgoing queue (``Connection``) and what goes on it.

Messages are pushed without waiting (the feed's listener never awaits); a connection whose
queue is full is marked dropped (a slow consumer: ``exchange.api.ws`` closes it with 4008), and
one the server closes (``Connection.end``: its key revoked) takes no more after its last one.

Conflation: a message pushed with ``push_latest`` replaces the still-queued one of its key
(tickers, bars); one pushed with ``push_merged`` joins the still-queued one of its key, and the
joined parts become one message when it is sent (book deltas, ``exchange.api.book_feed``), so a
burst costs a slow reader one queued message, not one per change. Trades, orders, fills,
balances, compliance and replies are never conflated.

Encoding: a message that goes to many connections is encoded to JSON once (``Encoded``); each
connection only puts its own ``seq`` in front (``encode``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import Any

from exchange.keys import Principal

Message = dict[str, Any]
MAX_MERGED_PARTS = 64  # a merging slot with more parts than this merges them while queued


class Slot:
    """A queued message that a newer one of the same key replaces until it is sent."""

    __slots__ = ("key", "message")

    def __init__(self, key: tuple[Any, ...], message: Message | Encoded) -> None:
        self.key = key
        self.message = message


class MergeSlot:
    """Queued parts that become one message when sent: ``merge`` makes it of the parts, oldest
    first (a book delta of several commands, ``exchange.api.book_feed.merge_deltas``)."""

    __slots__ = ("key", "merge", "parts")

    def __init__(
        self, key: tuple[Any, ...], part: Encoded, merge: Callable[[Sequence[Message]], Message]
    ) -> None:
        self.key = key
        self.parts = [part]
        self.merge = merge

    def add(self, part: Encoded) -> None:
        parts = self.parts
        parts.append(part)
        if len(parts) > MAX_MERGED_PARTS:  # a reader that stays behind: keep it bounded
            self.parts = [Encoded(self.merge([p.message for p in parts]))]

    def message(self) -> Encoded:
        parts = self.parts
        if len(parts) == 1:
            return parts[0]  # shared with every connection that took it alone
        return Encoded(self.merge([p.message for p in parts]))


class Encoded:
    """A message for many connections, encoded once: its compact JSON without the opening
    brace (``tail``), in front of which each connection puts its own ``seq``."""

    __slots__ = ("message", "tail")

    def __init__(self, message: Message) -> None:
        assert message, "an encoded message has fields"
        self.message = message
        self.tail = json.dumps(message, separators=(",", ":"))[1:]


class TradeBatch:
    """The trades queued for a connection that batches them: each one's ``Encoded.tail``
    (shared with every other connection), sent as one ``trades`` message."""

    __slots__ = ("tails",)

    def __init__(self, tails: list[str]) -> None:
        self.tails = tails


class Ending:
    """The last message of a connection the server closes (its key revoked, its rate limit
    overrun): sent, then the socket is closed with ``code`` and ``reason``."""

    __slots__ = ("code", "message", "reason")

    def __init__(self, message: Message, code: int, reason: str) -> None:
        self.message = message
        self.code = code
        self.reason = reason


Outgoing = Message | Encoded | TradeBatch | Ending


def encode(item: Outgoing, seq: int) -> str:
    """The text frame of a dequeued message with the connection's ``seq``."""
    kind = type(item)
    if kind is Encoded:
        assert isinstance(item, Encoded)
        return f'{{"seq":{seq},{item.tail}'
    if kind is TradeBatch:
        assert isinstance(item, TradeBatch)
        trades = ",".join("{" + tail for tail in item.tails)
        return f'{{"seq":{seq},"type":"trades","trades":[{trades}]}}'
    if kind is Ending:
        assert isinstance(item, Ending)
        return json.dumps({**item.message, "seq": seq})
    assert isinstance(item, dict)
    return json.dumps({**item, "seq": seq})


class Connection:
    """One authenticated socket: its subscriptions and its bounded outgoing queue."""

    def __init__(self, principal: Principal, queue_size: int) -> None:
        self.principal = principal
        self.queue: asyncio.Queue[Outgoing | Slot | MergeSlot] = asyncio.Queue(queue_size)
        self.queue_size = queue_size
        self.channels: set[str] = set()  # the feed's keys: trades, book:<symbol>, orders:<id>
        self.batch_trades = False  # subscribed to trades with "batch": one message a commit
        self.dropped = False  # a slow consumer: its queue filled
        self.ending: Ending | None = None  # the server closes it: its last message is queued
        self.stopped = False  # dropped or ending: it takes no more messages
        self.stopped_event = asyncio.Event()
        self._latest: dict[tuple[Any, ...], Slot | MergeSlot] = {}
        self._trade_batch: TradeBatch | None = None  # queued, still taking trades

    def push_trades(self, tails: list[str]) -> None:
        """Queue a commit's trades as one message, or add them to the one still queued."""
        batch = self._trade_batch
        if batch is not None:
            batch.tails.extend(tails)
            if len(batch.tails) > self.queue_size:
                self._drop()
            return
        if self.stopped:
            return
        batch = TradeBatch(list(tails))
        try:
            self.queue.put_nowait(batch)
        except asyncio.QueueFull:
            self._drop()
            return
        self._trade_batch = batch

    def push(self, message: Message | Encoded) -> None:
        """Enqueue without waiting; a full queue marks the connection dropped."""
        if self.stopped:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:  # the sender has a full queue to take: it sees the mark
            self._drop()

    def push_latest(self, key: tuple[Any, ...], message: Message | Encoded) -> None:
        """Enqueue, or replace the still-queued message of the same key (conflation)."""
        slot = self._latest.get(key)
        if slot is not None:
            assert type(slot) is Slot
            slot.message = message
            return
        if self.stopped:
            return
        self._enqueue(key, Slot(key, message))

    def push_merged(
        self, key: tuple[Any, ...], part: Encoded, merge: Callable[[Sequence[Message]], Message]
    ) -> None:
        """Enqueue, or add ``part`` to the still-queued message of the same key, which
        ``merge`` makes one message of when it is sent (conflation that loses nothing)."""
        slot = self._latest.get(key)
        if slot is not None:
            assert type(slot) is MergeSlot
            slot.add(part)
            return
        if self.stopped:
            return
        self._enqueue(key, MergeSlot(key, part, merge))

    def unlatch(self, keys: Callable[[tuple[Any, ...]], bool]) -> None:
        """Let the queued messages of these keys take nothing more: what comes next queues
        behind what was pushed meanwhile (a fresh snapshot, ``exchange.api.ws``)."""
        for key in [k for k in self._latest if keys(k)]:
            del self._latest[key]

    def _enqueue(self, key: tuple[Any, ...], slot: Slot | MergeSlot) -> None:
        try:
            self.queue.put_nowait(slot)
        except asyncio.QueueFull:
            self._drop()
            return
        self._latest[key] = slot

    def take(self, item: Outgoing | Slot | MergeSlot) -> Outgoing:
        """The message to send for a dequeued item (a slot stops taking replacements or parts,
        a trade batch more trades): ``encode`` makes it a frame."""
        kind = type(item)
        if kind is Slot or kind is MergeSlot:
            assert isinstance(item, Slot | MergeSlot)
            if self._latest.get(item.key) is item:
                del self._latest[item.key]
            return item.message if isinstance(item, Slot) else item.message()
        if kind is TradeBatch:
            self._trade_batch = None
        assert not isinstance(item, Slot | MergeSlot)
        return item

    def end(self, message: Message, code: int, reason: str, *, discard: bool = False) -> None:
        """Close the connection after ``message`` (after what is queued, or instead of it with
        ``discard``): it takes no more messages. A dropped or ending connection stays so."""
        if self.stopped:
            return
        if discard:
            while not self.queue.empty():
                self.queue.get_nowait()
            self._latest.clear()
            self._trade_batch = None
        self.ending = Ending(message, code, reason)
        try:
            self.queue.put_nowait(self.ending)
        except asyncio.QueueFull:
            self._drop()
            return
        self._stop()

    def _drop(self) -> None:
        self.dropped = True
        self._stop()

    def _stop(self) -> None:
        self.stopped = True
        self.stopped_event.set()
