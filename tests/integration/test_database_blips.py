"""A database blip in the middle of an order load, on PostgreSQL and SQLite: the market
reconnects and trades again, nothing acknowledged is lost or journaled twice, and no read ever
showed an order that was not durable when it was answered (exchange.runtime).

On PostgreSQL the journal writer's backend is terminated (``pg_terminate_backend``, as a
failover does); on SQLite two commits fail with a disk I/O error, one before its ``COMMIT`` and
one after (its answer lost), injected in the writer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import select

from exchange.db import journal_store as js
from exchange.db import tables as t
from exchange.db.journal_store import (
    SQLiteJournalWriter,
    acknowledged_check,
    read_journal,
)
from exchange.runtime import (
    Ack,
    MarketReconnectingError,
    MarketRuntime,
    MarketState,
    rebuild,
)
from matching.types import OrderType, Side
from settlement.commands import PlaceOrder
from settlement.market import Market
from tests.integration.conftest import Database
from tests.integration.test_runtime import SPEC
from tests.market_stream import FIRST_DAY, local_ns, market_accounts, market_setup

ACCOUNTS = market_accounts(6)
ORDERS_BEFORE_BLIP = 400
ORDERS_AFTER_BLIP = 400
SEED = 15


class FailingSQLiteWriter(SQLiteJournalWriter):
    """The SQLite writer, with a disk I/O error injected into chosen commits: ``before`` its
    ``COMMIT`` (nothing stored) or ``after`` it (stored, the answer lost)."""

    fail_at: dict[int, str]
    attempts = 0

    def _write(self, batch: js.Batch, balances: list[js.Row]) -> None:
        self.attempts += 1
        mode = self.fail_at.pop(self.attempts, None)
        if mode == "before":
            raise sqlite3.OperationalError("disk I/O error")
        super()._write(batch, balances)
        if mode == "after":
            raise sqlite3.OperationalError("disk I/O error")


@dataclass
class Load:
    """What the load saw: acknowledged orders, refusals while reconnecting, and the order ids
    each read showed."""

    acked: list[Ack] = field(default_factory=list)
    refused_reconnecting: int = 0
    reads: list[list[int]] = field(default_factory=list)
    undurable_shown: list[int] = field(default_factory=list)


def order(rng: random.Random, n: int) -> PlaceOrder:
    side = Side.BUY if rng.random() < 0.5 else Side.SELL
    price = 6_000 + rng.randint(-20, 20)
    ts = local_ns(FIRST_DAY, dt.time(10, 0)) + n
    account = rng.choice(ACCOUNTS)
    return PlaceOrder(ts, account, "CEA2025", side, OrderType.LIMIT, rng.randint(1, 20), price)


def open_orders(market: Market) -> list[int]:
    return [v.order_id for a in ACCOUNTS for v in market.engine.open_orders(a)]


async def stored_order_ids(database: Database, engine: Any) -> set[int]:
    o = t.market_orders.c
    async with engine.connect() as conn:
        query = select(o.order_id).where(o.market_id == SPEC.market_id)
        return set(await conn.scalars(query))


async def place(runtime: MarketRuntime, load: Load, rng: random.Random, count: int) -> None:
    """Orders, 20 in flight at a time; one refused while reconnecting is sent again."""
    n = len(load.acked)
    pending: set[asyncio.Future[Ack]] = set()
    sent = 0
    while sent < count or pending:
        while sent < count and len(pending) < 20:
            try:
                pending.add(runtime.submit_nowait(order(rng, n + sent)))
            except MarketReconnectingError:
                load.refused_reconnecting += 1
                await asyncio.sleep(0.005)
                continue
            sent += 1
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        load.acked.extend(future.result() for future in done)


async def read_while(
    runtime: MarketRuntime, database: Database, load: Load, running: asyncio.Event
) -> None:
    """Read the open orders over and over; each answer must hold only stored orders."""
    async with database.engine() as engine:
        while running.is_set():
            try:
                shown = await runtime.read(open_orders)
            except MarketReconnectingError:
                await asyncio.sleep(0.005)
                continue
            stored = await stored_order_ids(database, engine)
            load.reads.append(shown)
            load.undurable_shown += [i for i in shown if i not in stored]
            await asyncio.sleep(0.002)


async def terminate_backend(database: Database, runtime: MarketRuntime) -> None:
    writer = runtime._writer
    assert isinstance(writer, js.PostgresJournalWriter)
    admin = await asyncpg.connect(js._asyncpg_dsn(database.url))
    try:
        pid = writer.connection.get_server_pid()
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def open_market(database: Database) -> tuple[MarketRuntime, Callable[[], Awaitable[None]]]:
    """The runtime on a new market, and what causes its blip on this backend."""
    url, args = database.url, database.connect_args
    await js.prepare_database(url, connect_args=args)
    runtime = await MarketRuntime.create(url, SPEC, connect_args=args)
    if database.backend == "postgresql":
        return runtime, lambda: terminate_backend(database, runtime)
    failing = await FailingSQLiteWriter.open(url, args)
    assert isinstance(failing, FailingSQLiteWriter)
    failing.fail_at = {}
    await runtime._writer.close()
    runtime._writer = failing

    async def fail_two_commits() -> None:
        failing.fail_at = {failing.attempts + 1: "before", failing.attempts + 3: "after"}

    return runtime, fail_two_commits


async def blip_under_load(database: Database) -> tuple[Load, MarketRuntime, int]:
    runtime, blip = await open_market(database)
    runtime.start()
    await runtime.submit_many(market_setup(len(ACCOUNTS)))
    load, rng, running = Load(), random.Random(SEED), asyncio.Event()
    running.set()
    reader = asyncio.create_task(read_while(runtime, database, load, running))
    loading = asyncio.create_task(place(runtime, load, rng, ORDERS_BEFORE_BLIP))
    while len(load.acked) < ORDERS_BEFORE_BLIP // 4:
        await asyncio.sleep(0.001)
    await blip()  # mid-load
    await loading
    for _ in range(10_000):
        if runtime.stats.reconnects >= 1:
            break
        await asyncio.sleep(0.001)
    acked_before = len(load.acked)
    await place(runtime, load, rng, ORDERS_AFTER_BLIP)  # the market trades again
    running.clear()
    await reader
    state = runtime.state
    await runtime.stop()
    assert state is MarketState.RUNNING
    return load, runtime, acked_before


def test_a_database_blip_under_load_loses_nothing_and_shows_nothing_undurable(
    database: Database,
) -> None:
    url, args, m = database.url, database.connect_args, SPEC.market_id

    async def scenario() -> None:
        load, runtime, acked_before = await asyncio.wait_for(blip_under_load(database), 120)
        assert runtime.stats.reconnects >= 1, "no blip happened"
        assert len(load.acked) == acked_before + ORDERS_AFTER_BLIP
        assert sum(1 for ack in load.acked[acked_before:] if ack.outcome.fills) > 0, "no trade"
        order_ids = {ack.outcome.order_id or 0 for ack in load.acked if ack.outcome.ok}
        trade_ids = {f.trade.trade_id for ack in load.acked for f in ack.outcome.fills}
        missing = await acknowledged_check(url, m, order_ids, trade_ids, connect_args=args)
        assert missing == (set(), set()), "acknowledged, then lost"
        journal = await read_journal(url, m, connect_args=args)
        assert [row.seq for row in journal] == list(range(1, runtime.last_seq + 1))
        market, last_seq, _ = await rebuild(url, m, connect_args=args)
        assert (last_seq, market.state_hash()) == (runtime.last_seq, runtime.market.state_hash())
        recovered = await MarketRuntime.recover(url, m, connect_args=args)  # projections agree
        await recovered.stop()
        assert len(load.reads) >= 5
        assert any(load.reads), "the reads saw nothing"
        assert load.undurable_shown == [], "a read showed orders not durable"

    asyncio.run(scenario())
