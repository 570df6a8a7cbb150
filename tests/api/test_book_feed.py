"""The book channel keeps every subscriber's view equal to the book at its depth after every
message (``exchange.api.book_feed``), in-process: a market applies a seeded order flow, its
acks are published in commits of any size, subscribers of any depth come (their snapshot from
the live market, which may be ahead of what is published), re-subscribe and read at any pace
(so deltas merge while queued), and after each message a subscriber reads, its view is
``getBook`` at its depth as of the message's ``market_seq``."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from exchange.api.book_feed import Top, changed, merge_deltas
from exchange.api.feed import Connection, Feed, encode
from exchange.keys import Principal, Role
from exchange.rows import Ack
from settlement import Market, MarketSpec
from tests.market_stream import INSTRUMENTS, market_accounts, market_setup, market_stream

SYMBOL = "CEA2025"
DEPTHS = (1, 2, 3, 5)
MAX_DEPTH = max(DEPTHS)
N_ACCOUNTS = 6
STREAM = 2_000  # commands a run may take from the stream


def book_at(market: Market, depth: int) -> Top:
    """``getBook``'s levels at ``depth``, as (price_fen, qty_t, order_count), best first."""
    levels = market.engine.depth(SYMBOL, depth)
    return (
        [(v.price_fen, v.qty_t, v.order_count) for v in levels.bids],
        [(v.price_fen, v.qty_t, v.order_count) for v in levels.asks],
    )


def apply_delta(view: Top, delta: dict[str, Any]) -> Top:
    """What a client does with a ``book_delta``: ``qty_t`` 0 removes the level, else sets it."""
    sides = [{price: (qty, count) for price, qty, count in levels} for levels in view]
    for side, name in zip(sides, ("bids", "asks"), strict=True):
        for level in delta[name]:
            if level["qty_t"]:
                side[level["price_fen"]] = (level["qty_t"], level["order_count"])
            else:
                side.pop(level["price_fen"], None)
    bids = sorted(((p, *v) for p, v in sides[0].items()), reverse=True)
    asks = sorted((p, *v) for p, v in sides[1].items())
    return bids, asks


@dataclasses.dataclass
class Subscriber:
    connection: Connection
    depth: int
    view: Top
    view_seq: int  # the snapshot's market_seq, then each applied delta's
    seq: int = 0  # the connection's messages read


class BookChannel(RuleBasedStateMachine):
    """Commands applied, commits published, subscribers reading, in any order."""

    @initialize(seed=st.integers(0, 2**16))
    def open_market(self, seed: int) -> None:
        self.market = Market(MarketSpec("book-test", "cn_national", INSTRUMENTS))
        for command in market_setup(N_ACCOUNTS):
            assert self.market.apply(command).code is None
        self.stream = iter(
            market_stream(seed, STREAM, market_accounts(N_ACCOUNTS), day_commands=150)
        )
        self.seq = 0  # the last command applied (the live market)
        self.pending: list[Ack] = []  # applied, not yet published (the commit is under way)
        self.books: dict[int, Top] = {0: book_at(self.market, MAX_DEPTH)}  # by seq
        self.feed = Feed(queue_size=100_000)
        self.market_feed = self.feed.market("book-test")
        self.subscribers: list[Subscriber] = []

    @rule(count=st.integers(1, 12))
    def apply_commands(self, count: int) -> None:
        for command in self.stream:
            self.seq += 1
            self.pending.append(Ack(self.seq, command, self.market.apply(command)))
            self.books[self.seq] = book_at(self.market, MAX_DEPTH)
            count -= 1
            if count == 0:
                return

    @rule(share=st.floats(0.0, 1.0))
    def publish_a_commit(self, share: float) -> None:
        """The oldest pending acks, as one commit (the runtime publishes them in order)."""
        count = max(1, round(share * len(self.pending))) if self.pending else 0
        commit, self.pending = self.pending[:count], self.pending[count:]
        self.market_feed.publish(commit)

    @precondition(lambda self: len(self.subscribers) < 4)
    @rule(depth=st.sampled_from(DEPTHS))
    def subscribe(self, depth: int) -> None:
        """As the socket does: the mirror (made now if none), the subscription, the snapshot
        of the live market."""
        connection = self.feed_connection()
        self.market_feed.book(self.market, SYMBOL, self.seq)
        self.feed.subscribe(connection, "book:" + SYMBOL, depth=depth)
        snapshot = book_at(self.market, depth)
        self.subscribers.append(Subscriber(connection, depth, snapshot, self.seq))

    @precondition(lambda self: self.subscribers)
    @rule(data=st.data(), depth=st.sampled_from(DEPTHS))
    def subscribe_again(self, data: st.DataObject, depth: int) -> None:
        """A new depth on the same connection: a new snapshot, after what is queued."""
        subscriber = data.draw(st.sampled_from(self.subscribers))
        self.feed.subscribe(subscriber.connection, "book:" + SYMBOL, depth=depth)
        self.read(subscriber, subscriber.connection.queue.qsize())  # what came before it
        subscriber.depth = depth
        subscriber.view = book_at(self.market, depth)
        subscriber.view_seq = self.seq

    @precondition(lambda self: self.subscribers)
    @rule(data=st.data(), count=st.integers(1, 20))
    def read_messages(self, data: st.DataObject, count: int) -> None:
        subscriber = data.draw(st.sampled_from(self.subscribers))
        self.read(subscriber, count)

    def read(self, subscriber: Subscriber, count: int) -> None:
        queue = subscriber.connection.queue
        for _ in range(min(count, queue.qsize())):
            subscriber.seq += 1
            frame = encode(subscriber.connection.take(queue.get_nowait()), subscriber.seq)
            delta = json.loads(frame)
            assert delta["type"] == "book_delta", delta
            assert (delta["symbol"], delta["seq"]) == (SYMBOL, subscriber.seq)
            if delta["market_seq"] <= subscriber.view_seq:
                continue  # in the snapshot already (or a depth it no longer follows)
            assert delta["depth"] == subscriber.depth
            subscriber.view = apply_delta(subscriber.view, delta)
            subscriber.view_seq = delta["market_seq"]
            self.check(subscriber)

    def check(self, subscriber: Subscriber) -> None:
        bids, asks = self.books[subscriber.view_seq]
        expected = (bids[: subscriber.depth], asks[: subscriber.depth])
        assert subscriber.view == expected, (subscriber.view_seq, subscriber.depth)

    @invariant()
    def published_all_and_read_all_means_the_live_book(self) -> None:
        """With nothing pending or queued, each view is the book now at its depth."""
        if self.pending:
            return
        for subscriber in self.subscribers:
            if subscriber.connection.queue.qsize():
                continue
            bids, asks = book_at(self.market, subscriber.depth)
            assert subscriber.view == (bids, asks)

    def feed_connection(self) -> Connection:
        return Connection(Principal("book-test", Role.OBSERVER, None), self.feed.queue_size)


BookChannel.TestCase.settings = settings(
    max_examples=80,
    stateful_step_count=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestBookChannel = BookChannel.TestCase


# ---------------------------------------------------------------------- the pieces


def test_a_level_that_comes_into_the_depth_is_sent() -> None:
    """The issue's case: the best asks trade away; the deeper ones move up into the view."""
    before = [(6000 + n, 10, 1) for n in range(7)]  # asks
    after = [(6002 + n, 10, 1) for n in range(5)]  # 6000, 6001 traded; 6005, 6006 moved up
    levels = changed(before[:5], after[:5], reverse=False)
    assert levels == [
        {"price_fen": 6000, "qty_t": 0, "order_count": 0},
        {"price_fen": 6001, "qty_t": 0, "order_count": 0},
        {"price_fen": 6005, "qty_t": 10, "order_count": 1},
        {"price_fen": 6006, "qty_t": 10, "order_count": 1},
    ]
    assert changed(before[:2], after[:2], reverse=False) == [
        {"price_fen": 6000, "qty_t": 0, "order_count": 0},
        {"price_fen": 6001, "qty_t": 0, "order_count": 0},
        {"price_fen": 6002, "qty_t": 10, "order_count": 1},
        {"price_fen": 6003, "qty_t": 10, "order_count": 1},
    ]


def test_a_level_pushed_below_the_depth_leaves_the_view() -> None:
    before = [(5990, 5, 1), (5980, 5, 1)]  # bids
    after = [(5995, 1, 1), (5990, 5, 1), (5980, 5, 1)]
    assert changed(before[:2], after[:2], reverse=True) == [
        {"price_fen": 5995, "qty_t": 1, "order_count": 1},
        {"price_fen": 5980, "qty_t": 0, "order_count": 0},
    ]


def test_merged_deltas_keep_each_levels_newest() -> None:
    def delta(seq: int, bids: list[tuple[int, int]]) -> dict[str, Any]:
        levels = [{"price_fen": p, "qty_t": q, "order_count": 1 if q else 0} for p, q in bids]
        return {
            "type": "book_delta",
            "market_seq": seq,
            "symbol": SYMBOL,
            "depth": 2,
            "bids": levels,
            "asks": [],
        }

    merged = merge_deltas([delta(7, [(5990, 5), (5980, 0)]), delta(9, [(5990, 0), (5970, 2)])])
    assert merged == delta(9, [(5990, 0), (5980, 0), (5970, 2)])
