"""Deterministic replay through the database (docs/architecture.md, decision 5), on SQLite and
PostgreSQL.

The issue's must-show: a seeded run of at least 20,000 commands through the market runtime,
then the journal replayed into a fresh market gives equal state hashes. It is checked by every
road back: ``rebuild`` (latest day-end snapshot plus the journal after it), the snapshot
restored and replayed by hand, the whole journal decoded and applied to a pure ``Market`` from
seq 1, ``MarketRuntime.recover`` (which also checks the projections) followed by more trading
compared with that pure replica, and ``rebuild`` again once the snapshots are gone.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pytest
from sqlalchemy import delete, func, select

from exchange import codec
from exchange.db import tables as t
from exchange.db.journal_store import JournalRow, latest_snapshot, read_journal
from exchange.runtime import Ack, MarketRuntime, rebuild
from matching.events import OrderCancelled
from matching.types import CancelReason
from settlement.commands import EndOfDay, MarketCommand, PlaceOrder
from settlement.market import Market
from settlement.spec import MarketSpec
from tests.integration.conftest import Database
from tests.market_stream import INSTRUMENTS, market_accounts, market_setup, market_stream

SEED = 20_261_123
COMMANDS = 20_000
MORE = 500  # traded after recovery, by the recovered runtime and by a pure replica
ACCOUNTS = 40
DAY_COMMANDS = 6_000  # three day cycles in the run, and a day open when it stops
CHUNK = 2_000  # commands in flight at once
MARKET_ID = "replay-cn-2026"


@dataclass
class Tally:
    """What the acknowledged commands did, as the runtime's listeners are told it."""

    seqs: list[int] = field(default_factory=list)
    kinds: Counter[tuple[str, bool]] = field(default_factory=Counter)
    trades: int = 0
    expired: int = 0
    placed: int = 0

    def __call__(self, acks: Sequence[Ack]) -> None:
        for ack in acks:
            self.seqs.append(ack.seq)
            outcome = ack.outcome
            self.kinds[(type(ack.command).__name__, outcome.ok)] += 1
            self.trades += len(outcome.fills)
            if type(ack.command) is PlaceOrder and outcome.ok and not outcome.repeated:
                self.placed += 1
            self.expired += sum(
                1
                for e in outcome.events
                if type(e) is OrderCancelled and e.reason is CancelReason.EXPIRY
            )


async def pipeline(runtime: MarketRuntime, commands: Iterable[MarketCommand]) -> list[Ack]:
    """Submit without waiting, ``CHUNK`` at a time, as a busy gateway would."""
    acks: list[Ack] = []
    futures = []
    for command in commands:
        futures.append(runtime.submit_nowait(command))
        if len(futures) == CHUNK:
            acks.extend(await asyncio.gather(*futures))
            futures = []
    acks.extend(await asyncio.gather(*futures))
    return acks


def replay(market: Market, rows: Iterable[JournalRow]) -> None:
    for row in rows:
        market.apply(codec.decode(row.kind, row.ts_ns, row.account_id, row.body))


async def scenario(db: Database) -> None:
    url, args = db.url, db.connect_args
    spec = MarketSpec(MARKET_ID, "cn_national", INSTRUMENTS)
    accounts = market_accounts(ACCOUNTS)
    stream = market_stream(SEED, COMMANDS + MORE, accounts, day_commands=DAY_COMMANDS)
    first = [*market_setup(ACCOUNTS), *itertools.islice(stream, COMMANDS)]
    more = list(stream)
    assert len(more) == MORE

    # --- the seeded run
    runtime = await MarketRuntime.create(url, spec, connect_args=args)
    tally = Tally()
    runtime.listeners.append(tally)
    runtime.start()
    acks = await pipeline(runtime, first)
    ran_hash, last_seq = runtime.market.state_hash(), runtime.last_seq
    trades = runtime.market.last_trade_id
    await runtime.stop()

    assert last_seq == 1 + len(first)
    assert [ack.seq for ack in acks] == list(range(2, last_seq + 1))
    assert tally.seqs == list(range(2, last_seq + 1)), "listeners told out of seq order"
    assert trades == tally.trades > 1_000
    assert tally.expired > 0, "no day order expired at a close"
    assert tally.kinds[("EndOfDay", True)] >= 2
    assert tally.kinds[("CancelOrder", True)] > 100
    assert tally.kinds[("AmendOrder", True)] > 100
    assert tally.kinds[("PlaceOrder", False)] > 0, "refusals belong in the journal too"
    s = t.market_snapshots.c
    async with db.engine() as engine, engine.connect() as conn:
        snapshots = await conn.scalar(
            select(func.count()).select_from(t.market_snapshots).where(s.market_id == MARKET_ID)
        )
    assert snapshots == tally.kinds[("EndOfDay", True)]

    # --- (a) rebuild: the latest snapshot and the journal after it
    market, seq, _ = await rebuild(url, MARKET_ID, connect_args=args)
    assert (market.state_hash(), seq) == (ran_hash, last_seq)
    snapshot = await latest_snapshot(url, MARKET_ID, connect_args=args)
    assert snapshot is not None
    assert snapshot.seq < last_seq  # so rebuild had commands to replay after it
    restored = Market.restore(snapshot.body)
    assert restored.state_hash() == snapshot.state_hash  # rebuild did not fall back
    replay(restored, await read_journal(url, MARKET_ID, snapshot.seq, connect_args=args))
    assert restored.state_hash() == ran_hash

    # --- (b) the whole journal, decoded by hand into a pure market from seq 1
    rows = await read_journal(url, MARKET_ID, connect_args=args)
    assert [row.seq for row in rows] == list(range(1, last_seq + 1))
    assert rows[0].kind == codec.CREATE_MARKET
    assert codec.decode_spec(rows[0].body) == spec
    decoded = [codec.decode(r.kind, r.ts_ns, r.account_id, r.body) for r in rows[1:]]
    assert decoded == first  # market time kept: the stream's is already increasing
    replica = Market(spec)
    for command in decoded:
        replica.apply(command)
    assert replica.state_hash() == ran_hash

    # --- (c) recovery, then the same trading on the recovered runtime and the replica
    recovered = await MarketRuntime.recover(url, MARKET_ID, connect_args=args)
    assert (recovered.market.state_hash(), recovered.last_seq) == (ran_hash, last_seq)
    recovered.start()
    try:
        later = await pipeline(recovered, more)
        recovered_hash = recovered.market.state_hash()
    finally:
        await recovered.stop()
    expected = [replica.apply(command) for command in more]
    assert [ack.seq for ack in later] == list(range(last_seq + 1, last_seq + MORE + 1))
    assert [(a.outcome.code, a.outcome.order_id) for a in later] == [
        (o.code, o.order_id) for o in expected
    ]
    assert any(a.outcome.fills for a in later)
    assert recovered_hash == replica.state_hash() != ran_hash

    # --- (d) rebuild from the journal's start once no snapshot is left
    async with db.engine() as engine, engine.begin() as conn:
        await conn.execute(delete(t.market_snapshots).where(s.market_id == MARKET_ID))
    assert await latest_snapshot(url, MARKET_ID, connect_args=args) is None
    market, seq, _ = await rebuild(url, MARKET_ID, connect_args=args)
    assert (market.state_hash(), seq) == (replica.state_hash(), last_seq + MORE)


def test_seeded_run_replays_to_equal_state_hashes(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="carbonx.runtime"):
        asyncio.run(scenario(database))
    # rebuild warns when it cannot use a snapshot: here every snapshot must be usable
    assert [r.getMessage() for r in caplog.records if r.name == "carbonx.runtime"] == []


def test_a_shorter_stream_is_a_prefix_of_a_longer_one() -> None:
    """What the recovery step above relies on to continue the same run."""
    accounts = market_accounts(ACCOUNTS)
    short = list(market_stream(SEED, 7_000, accounts, day_commands=DAY_COMMANDS))
    longer = market_stream(SEED, 7_500, accounts, day_commands=DAY_COMMANDS)
    assert short == list(itertools.islice(longer, 7_000))
    assert any(type(c) is EndOfDay for c in short)
