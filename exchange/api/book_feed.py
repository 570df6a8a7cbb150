"""The book channel (``book:<symbol>``): a mirror of an instrument's book, and the deltas that
keep each subscriber's view equal to the book at the depth it asked for.

A subscriber got a ``book_snapshot`` of ``depth`` levels a side; its view is those levels and
no others. After each command that changed the book, the subscribers of each depth get one
``book_delta`` with every level whose place in a view of that depth changed, per side, best
first: a level that changed inside the top ``depth`` (its new ``qty_t`` and ``order_count``),
one that left it (``qty_t`` 0: traded, cancelled, or pushed down by a better level) and one that
came into it (a refill: a deeper level moved up as better ones went). Applied (``qty_t`` 0
removes the level, anything else sets it), the view equals ``getBook`` at that depth as of the
delta's ``market_seq``. A command that changed nothing within a depth sends that depth nothing.

While queued, a subscriber's deltas of one symbol merge into one (``merge_deltas``): each level
takes its newest value, the ``market_seq`` is the newest. Every level that moved in or out of
the view at any command in between is in it, so the merged delta, applied to the view as of any
of those commands (a snapshot taken meanwhile), gives the view after the newest.

The mirror (``BookMirror``) is seeded from the live market at ``seed_seq`` (at the first
subscription to the symbol's book, ticker or bars) and follows only the acks after it. The
ticker reads its best bid and ask from it too (``exchange.api.feed.SymbolState``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sortedcontainers import SortedDict

from exchange.api.ws_queue import Connection, Encoded, Message
from matching.events import BookLevelChanged
from matching.types import Side
from settlement.market import Market

ALL_LEVELS = 2**31  # islice bound: every level of a side
Level = tuple[int, int, int]  # price_fen, qty_t, order_count
Top = tuple[list[Level], list[Level]]  # the best levels of each side, best first


class BookMirror:
    """One instrument's book, level by level (``price_fen: (qty_t, order_count)``), and its
    book channel's subscribers by the depth they asked for."""

    def __init__(self, market: Market, symbol: str, seed_seq: int) -> None:
        self.symbol = symbol
        self.seed_seq = seed_seq
        depth = market.engine.depth(symbol, ALL_LEVELS)
        self.bids: SortedDict = SortedDict({v.price_fen: v[1:] for v in depth.bids})
        self.asks: SortedDict = SortedDict({v.price_fen: v[1:] for v in depth.asks})
        self.by_depth: dict[int, set[Connection]] = {}
        self.deepest = 0  # the largest depth subscribed

    def apply(self, event: BookLevelChanged) -> None:
        side = self.bids if event.side is Side.BUY else self.asks
        if event.qty_t:
            side[event.price_fen] = (event.qty_t, event.order_count)
        else:
            side.pop(event.price_fen, None)

    def best(self, side: Side) -> tuple[int, int] | None:
        """The best level's price and quantity, if the side has one."""
        levels = self.bids if side is Side.BUY else self.asks
        if not levels:
            return None
        price, (qty, _) = levels.peekitem(-1 if side is Side.BUY else 0)
        return price, qty

    def top(self, depth: int) -> Top:
        """The best ``depth`` levels of each side, best first."""
        if depth <= 0:
            return [], []
        bids, asks = self.bids, self.asks
        return (
            [(p, *bids[p]) for p in reversed(bids.keys()[-depth:])],
            [(p, *asks[p]) for p in asks.keys()[:depth]],
        )

    # ------------------------------------------------------------------ subscribers

    def subscribe(self, connection: Connection, depth: int) -> None:
        assert depth > 0, "a book subscriber sees at least one level a side"
        self.unsubscribe(connection)
        self.by_depth.setdefault(depth, set()).add(connection)
        self.deepest = max(self.by_depth)

    def unsubscribe(self, connection: Connection) -> None:
        for depth, connections in list(self.by_depth.items()):
            connections.discard(connection)
            if not connections:
                del self.by_depth[depth]
        self.deepest = max(self.by_depth, default=0)

    def publish(self, before: Top, market_seq: int) -> None:
        """Send each depth's subscribers what one command changed in their view: ``before``
        is ``top(self.deepest)`` before it, the mirror is after it."""
        after = self.top(self.deepest)
        key = ("book", self.symbol)
        for depth, connections in self.by_depth.items():
            bids = changed(before[0][:depth], after[0][:depth], reverse=True)
            asks = changed(before[1][:depth], after[1][:depth], reverse=False)
            if not (bids or asks):
                continue
            delta = Encoded(delta_message(self.symbol, depth, market_seq, bids, asks))
            for connection in connections:
                connection.push_merged(key, delta, merge_deltas)


def changed(before: Sequence[Level], after: Sequence[Level], *, reverse: bool) -> list[Message]:
    """The levels whose place in a view changed from ``before`` to ``after`` (each the best
    levels of one side, best first), best first; one that left the view with ``qty_t`` 0."""
    was = {price: (qty, count) for price, qty, count in before}
    now = {price: (qty, count) for price, qty, count in after}
    levels = [level(price, *now[price]) for price in now if was.get(price) != now[price]]
    levels += [level(price, 0, 0) for price in was if price not in now]
    levels.sort(key=_price, reverse=reverse)
    return levels


def level(price_fen: int, qty_t: int, order_count: int) -> Message:
    return {"price_fen": price_fen, "qty_t": qty_t, "order_count": order_count}


def delta_message(
    symbol: str, depth: int, market_seq: int, bids: list[Message], asks: list[Message]
) -> Message:
    return {
        "type": "book_delta",
        "market_seq": market_seq,
        "symbol": symbol,
        "depth": depth,
        "bids": bids,
        "asks": asks,
    }


def merge_deltas(deltas: Sequence[Message]) -> Message:
    """One delta for several of one symbol and depth, oldest first: each level's newest."""
    newest = deltas[-1]
    sides: list[dict[int, Message]] = [{}, {}]
    for delta in deltas:
        for n, name in enumerate(("bids", "asks")):
            for lv in delta[name]:
                sides[n][lv["price_fen"]] = lv
    bids = sorted(sides[0].values(), key=_price, reverse=True)
    asks = sorted(sides[1].values(), key=_price)
    return delta_message(newest["symbol"], newest["depth"], newest["market_seq"], bids, asks)


def _price(lv: Message) -> Any:
    return lv["price_fen"]
