"""The market runtime (exchange.runtime): durable before acknowledged, group commit, a commit
that breaks a constraint stopping the market, recovery refusing projections the journal does not
explain, the clock driving the trading day, and idempotent client order ids. Database blips
(reconnecting) and durable reads: test_runtime_blips.py.

Where the property is about the runtime's own ordering (what is acknowledged when), a fake
journal writer whose commits wait for the test stands in for the database; everything about
what reaches the tables runs on SQLite and PostgreSQL (the ``database`` fixture).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update

from exchange import codec
from exchange.clock import ClockMode, MarketClock, day_schedule, local_date
from exchange.db import tables as t
from exchange.db.journal_store import Batch, read_journal
from exchange.runtime import (
    Ack,
    MarketRuntime,
    MarketState,
    MarketStoppedError,
    RecoveryError,
    check_projections,
    clock_command,
    rebuild,
    rebuild_market,
)
from matching.types import OrderType, Side, TradingState
from registry_sim import load_rules
from registry_sim.model import AccountId
from settlement.codes import SettlementCode
from settlement.commands import (
    CloseDay,
    Deposit,
    EndOfDay,
    MarketCommand,
    OpenDay,
    PlaceOrder,
    SetSession,
)
from settlement.market import Market
from settlement.spec import MarketSpec
from tests.exchange.test_codec import EXAMPLES
from tests.integration.conftest import Database
from tests.market_stream import (
    FIRST_DAY,
    INSTRUMENTS,
    local_ns,
    market_accounts,
    market_setup,
    market_stream,
    next_weekday,
)

SPEC = MarketSpec("runtime-test", "cn_national", INSTRUMENTS)
LOOP_TURNS = 50  # event-loop turns a test grants the runtime to do something it must not


class GatedWriter:
    """A journal writer whose commits wait until the test opens ``gate``, then either keep
    the batch (as committed) or raise ``failure``."""

    def __init__(self, failure: BaseException | None = None) -> None:
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()
        self.batches: list[Batch] = []
        self.failure = failure
        self.closed = False

    async def commit(self, batch: Batch) -> None:
        self.entered.set()
        await self.gate.wait()
        if self.failure is not None:
            raise self.failure
        self.batches.append(batch)

    async def close(self) -> None:
        self.closed = True

    async def reconnect(self) -> None:
        pass

    async def holds(self, batch: Batch) -> bool:
        return batch in self.batches

    def committed_seqs(self) -> set[int]:
        return {row[1] for batch in self.batches for row in batch.journal}


def gated_runtime(writer: GatedWriter) -> MarketRuntime:
    """A runtime on a fresh market, as ``create`` leaves it (the spec is seq 1)."""
    return MarketRuntime(Market(SPEC), writer, last_seq=1, last_ts_ns=0)


async def turns(n: int = LOOP_TURNS) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never happened: {what}")


def some_commands(n: int, accounts: int = 8) -> list[MarketCommand]:
    """The market's setup and then its trading: ``n`` commands in all."""
    setup = market_setup(accounts)
    stream = market_stream(7, n - len(setup), market_accounts(accounts), day_commands=1_000)
    return [*setup, *stream]


# ---------------------------------------------------------------------- durable before acknowledged


def test_acknowledged_only_after_commit_and_listeners_told_in_seq_order() -> None:
    async def scenario() -> None:
        writer = GatedWriter()
        runtime = gated_runtime(writer)
        told: list[tuple[list[int], bool]] = []  # (seqs, were they committed when told)

        def listener(acks: Sequence[Ack]) -> None:
            seqs = [ack.seq for ack in acks]
            told.append((seqs, set(seqs) <= writer.committed_seqs()))

        runtime.listeners.append(listener)
        runtime.start()
        commands = some_commands(300)
        futures = [runtime.submit_nowait(command) for command in commands]
        resolved: list[bool] = []  # was the future's command committed when it resolved

        def on_done(future: asyncio.Future[Ack]) -> None:
            resolved.append(future.result().seq in writer.committed_seqs())

        for future in futures:
            future.add_done_callback(on_done)

        await writer.entered.wait()
        await until(lambda: runtime.stats.commands == len(commands), "every command applied")
        await turns()
        assert not any(future.done() for future in futures), "acknowledged before the commit"
        assert told == []
        assert runtime.stats.commits == 0

        writer.gate.set()
        acks = await asyncio.gather(*futures)
        await runtime.stop()

        assert resolved == [True] * len(commands)
        assert [ack.seq for ack in acks] == list(range(2, len(commands) + 2))
        assert [seq for seqs, _ in told for seq in seqs] == list(range(2, len(commands) + 2))
        assert all(committed for _, committed in told)
        assert writer.closed

    asyncio.run(scenario())


def test_a_command_queued_during_a_commit_goes_in_the_next_one() -> None:
    """Group commit, exactly: while one batch commits, everything applied meanwhile collects
    into the next batch, however many commands that is."""

    async def scenario() -> None:
        writer = GatedWriter()
        runtime = gated_runtime(writer)
        runtime.start()
        commands = some_commands(1_201)
        first = runtime.submit_nowait(commands[0])
        await writer.entered.wait()
        rest = [runtime.submit_nowait(command) for command in commands[1:]]
        await until(lambda: runtime.stats.commands == len(commands), "every command applied")
        writer.gate.set()
        await asyncio.gather(first, *rest)
        await runtime.stop()

        assert [len(batch.journal) for batch in writer.batches] == [1, 1_200]
        assert (runtime.stats.commits, runtime.stats.committed_commands) == (2, 1_201)

    asyncio.run(scenario())


def test_many_commands_at_once_land_in_few_commits(database: Database) -> None:
    async def scenario() -> tuple[int, int, int]:
        runtime = await MarketRuntime.create(database.url, SPEC, connect_args=database.connect_args)
        runtime.start()
        commands = some_commands(6_000, accounts=20)
        acks = await asyncio.gather(*(runtime.submit_nowait(c) for c in commands))
        await runtime.stop()
        journal = await read_journal(
            database.url, SPEC.market_id, connect_args=database.connect_args
        )
        assert [ack.seq for ack in acks] == [row.seq for row in journal[1:]]
        return len(commands), runtime.stats.commits, runtime.stats.committed_commands

    commands, commits, committed = asyncio.run(scenario())
    assert committed == commands
    assert commits * 100 <= commands, f"{commits} commits for {commands} commands"


# ---------------------------------------------------------------------- a failed commit
# A constraint the batch breaks is a bug in the runtime, not a database blip: it stops the
# market (a blip is outlasted: test_runtime_blips.py).
BUG = sqlite3.IntegrityError("UNIQUE constraint failed: market_journal.seq")


def test_a_commit_that_breaks_a_constraint_stops_the_market() -> None:
    async def scenario() -> None:
        writer = GatedWriter(failure=BUG)
        runtime = gated_runtime(writer)
        told: list[Sequence[Ack]] = []
        runtime.listeners.append(told.append)
        runtime.start()
        commands = some_commands(40)
        runtime.submit_nowait(commands[0])  # in the batch that fails: see the next test
        await writer.entered.wait()
        queued = [runtime.submit_nowait(command) for command in commands[1:]]
        await until(lambda: runtime.stats.commands == len(commands), "every command applied")
        writer.gate.set()
        results = await asyncio.gather(*queued, return_exceptions=True)
        assert all(isinstance(r, MarketStoppedError) for r in results), results
        assert "UNIQUE" in str(results[0])
        assert runtime.state is MarketState.STOPPED
        with pytest.raises(MarketStoppedError):
            runtime.submit_nowait(commands[1])
        with pytest.raises(MarketStoppedError):
            await runtime.submit(commands[1])
        with pytest.raises(MarketStoppedError):
            await runtime.drain()
        await runtime.stop()
        assert told == [], "listeners told of commands that were never committed"
        assert writer.batches == []
        assert writer.closed

    asyncio.run(scenario())


def test_a_bug_in_a_command_stops_the_market_and_fails_its_caller() -> None:
    """A broken invariant is a bug: the market stops (nothing more is applied or committed)
    and the caller of the command that hit it, and every caller queued after it, are told."""

    class BrokenInvariantError(Exception):
        pass

    async def scenario() -> None:
        writer = GatedWriter()
        writer.gate.set()
        runtime = gated_runtime(writer)
        runtime.start()
        commands = some_commands(30)
        await runtime.submit_many(commands[:10])
        market = runtime.market

        class BreaksOnTheEleventh:  # the market is compiled: wrap it rather than patch it
            def __getattr__(self, name: str) -> Any:
                return getattr(market, name)

            def apply(self, command: MarketCommand) -> Any:
                if command is commands[10]:
                    raise BrokenInvariantError("invariant")
                return market.apply(command)

        runtime.market = BreaksOnTheEleventh()  # type: ignore[assignment]
        futures = [runtime.submit_nowait(c) for c in commands[10:]]
        results = await asyncio.gather(*futures, return_exceptions=True)
        assert all(isinstance(r, MarketStoppedError) for r in results), results
        assert "invariant" in str(results[0])
        assert runtime.stats.commands == 10
        with pytest.raises(MarketStoppedError):
            runtime.submit_nowait(commands[20])
        await runtime.stop()

    asyncio.run(asyncio.wait_for(scenario(), timeout=20))


def test_a_failed_commit_fails_the_commands_of_that_batch() -> None:
    async def scenario() -> None:
        writer = GatedWriter(failure=BUG)
        runtime = gated_runtime(writer)
        runtime.start()
        in_flight = [runtime.submit_nowait(command) for command in some_commands(40)]
        await writer.entered.wait()
        writer.gate.set()
        try:
            done, _ = await asyncio.wait(in_flight, timeout=0.5)
            assert len(done) == len(in_flight), "callers of the failed batch wait forever"
            assert all(isinstance(f.exception(), MarketStoppedError) for f in in_flight)
        finally:
            await runtime.stop()

    asyncio.run(scenario())


# ---------------------------------------------------------------------- recovery refuses tampering


async def run_market(db: Database, commands: Sequence[MarketCommand]) -> MarketRuntime:
    runtime = await MarketRuntime.create(db.url, SPEC, connect_args=db.connect_args)
    runtime.start()
    await asyncio.gather(*(runtime.submit_nowait(c) for c in commands))
    await runtime.stop()
    return runtime


def test_recovery_refuses_projections_the_journal_does_not_explain(database: Database) -> None:
    url, args, m = database.url, database.connect_args, SPEC.market_id
    b, tr, o, p = (t.market_balances.c, t.market_trades.c, t.market_orders.c, t.market_postings.c)

    async def execute(statement: Any) -> Any:
        async with database.engine() as engine, engine.begin() as conn:
            return await conn.execute(statement)

    async def one_row(table: Any, where: Any) -> dict[str, Any]:
        rows = (await execute(select(table).where(where))).mappings().all()
        assert len(rows) == 1
        return dict(rows[0])

    async def scenario() -> None:
        ran = await run_market(database, some_commands(3_000, accounts=12))
        assert ran.market.last_trade_id > 10
        market, last_seq, _ = await rebuild(url, m, connect_args=args)

        async def refused(tamper: Any, undo: Callable[[], Awaitable[Any]], match: str) -> None:
            await check_projections(url, market, last_seq, connect_args=args)
            await execute(tamper)
            with pytest.raises(RecoveryError, match=match):
                await check_projections(url, market, last_seq, connect_args=args)
            await undo()
            await check_projections(url, market, last_seq, connect_args=args)

        cash = (b.market_id == m, b.account_id == "P000", b.asset == "CNY", b.state == "available")
        await refused(
            update(t.market_balances).where(*cash).values(amount=b.amount + 1),
            lambda: execute(update(t.market_balances).where(*cash).values(amount=b.amount - 1)),
            r"does not open: balances differ at 1 keys \(\('P000', 'CNY', 'available'\)",
        )
        trade = await one_row(t.market_trades, (tr.market_id == m) & (tr.trade_id == 5))
        await refused(
            delete(t.market_trades).where(tr.market_id == m, tr.trade_id == 5),
            lambda: execute(insert(t.market_trades).values(**trade)),
            f"{market.last_trade_id - 1} trades stored up to id {market.last_trade_id}, "
            f"the journal made {market.last_trade_id}",
        )
        order = await one_row(t.market_orders, (o.market_id == m) & (o.order_id == 3))
        await refused(
            delete(t.market_orders).where(o.market_id == m, o.order_id == 3),
            lambda: execute(insert(t.market_orders).values(**order)),
            f"orders stored up to id {market.next_order_id}",
        )
        posting = await one_row(t.market_postings, (p.market_id == m) & (p.posting_id == 7))
        await refused(
            delete(t.market_postings).where(p.market_id == m, p.posting_id == 7),
            lambda: execute(insert(t.market_postings).values(**posting)),
            "postings differ",
        )
        # the runtime itself does not open on a tampered database
        await execute(update(t.market_balances).where(*cash).values(amount=b.amount + 1))
        with pytest.raises(RecoveryError, match="balances differ"):
            await MarketRuntime.recover(url, m, connect_args=args)

    asyncio.run(scenario())


def test_recovery_from_a_snapshot_sums_only_the_later_postings(database: Database) -> None:
    """From a day-end snapshot, recovery checks the postings made after it against the change
    of the balances since then, so its cost does not grow with the whole history; a posting
    removed after the snapshot is still caught."""
    url, args, m = database.url, database.connect_args, SPEC.market_id
    p = t.market_postings.c

    async def scenario() -> None:
        ran = await run_market(database, some_commands(2_500, accounts=12))  # two day ends
        rebuilt = await rebuild_market(url, m, connect_args=args)
        assert rebuilt.base_posting_id > 0, "the replay should start from a snapshot"
        assert rebuilt.market.state_hash() == ran.market.state_hash()
        assert rebuilt.base_posting_id < rebuilt.market.posting_seq

        async def check() -> None:
            await check_projections(
                url,
                rebuilt.market,
                rebuilt.last_seq,
                connect_args=args,
                base_posting_id=rebuilt.base_posting_id,
                base_balances=rebuilt.base_balances,
            )

        await check()
        async with database.engine() as engine, engine.begin() as conn:
            early = p.posting_id <= rebuilt.base_posting_id
            await conn.execute(delete(t.market_postings).where(p.market_id == m, early))
        await check()  # what the snapshot covers is not summed again
        async with database.engine() as engine, engine.begin() as conn:
            last = p.posting_id == rebuilt.market.posting_seq
            await conn.execute(delete(t.market_postings).where(p.market_id == m, last))
        with pytest.raises(RecoveryError, match="postings differ"):
            await check()
        with pytest.raises(RecoveryError, match="postings differ"):
            await MarketRuntime.recover(url, m, connect_args=args)

    asyncio.run(scenario())


# ---------------------------------------------------------------------- the clock


def test_the_clock_journals_the_trading_day_at_the_schedules_times(database: Database) -> None:
    url, args = database.url, database.connect_args
    calendar = load_rules("cn_national").calendar
    days = [FIRST_DAY, next_weekday(FIRST_DAY)]  # Monday 2026-11-23 and Tuesday
    events = [event for day in days for event in day_schedule(calendar, day)]
    midnight = local_ns(FIRST_DAY, dt.time(0, 0))

    async def scenario() -> tuple[list[MarketCommand], list[Ack], Market]:
        clock = MarketClock(ClockMode.DISCRETE, midnight)
        runtime = await MarketRuntime.create(url, SPEC, connect_args=args, start_ts_ns=midnight)
        acks: list[Ack] = []
        task: asyncio.Task[None] | None = None

        def stop_after_two_days(batch: Sequence[Ack]) -> None:
            acks.extend(batch)
            if len(acks) >= len(events) and task is not None:
                task.cancel()  # the clock would go on forever; the journal has what we need

        runtime.listeners.append(stop_after_two_days)
        runtime.start()
        task = runtime.run_clock(clock)
        await asyncio.wait([task], timeout=30)
        assert task.cancelled()
        await runtime.stop()
        rows = await read_journal(url, SPEC.market_id, connect_args=args)
        assert rows[0].ts_ns == midnight
        commands = [codec.decode(r.kind, r.ts_ns, r.account_id, r.body) for r in rows[1:]]
        return commands, acks, runtime.market

    commands, acks, market = asyncio.run(scenario())
    assert len(events) == 12
    assert commands == [clock_command(event) for event in events]
    assert [c.ts_ns for c in commands] == [event.ts_ns for event in events]
    assert all(ack.outcome.ok for ack in acks), [a.outcome.code for a in acks]
    assert commands[0].ts_ns == local_ns(FIRST_DAY, dt.time(9, 15))  # pre-open, Shanghai
    assert commands[-1].ts_ns == local_ns(days[1], dt.time(15, 30))  # Tuesday's day end
    assert (market.trading_day, market.day_cleared) == (days[1], True)


# ---------------------------------------------------------------------- client order ids


def test_a_repeated_client_order_id_answers_the_first_order(database: Database) -> None:
    """Unique per account and trading day: repeating the request answers the first order and
    stores nothing new; reusing the id for another order is refused; another account, or the
    next trading day, may use the same id."""
    url, args, m = database.url, database.connect_args, SPEC.market_id
    a, b = market_accounts(2)
    ts = local_ns(FIRST_DAY, dt.time(10, 0))
    order = PlaceOrder(
        ts, a, "CEA2025", Side.BUY, OrderType.LIMIT, 10, 5_900, client_order_id="c-1"
    )
    tomorrow = next_weekday(FIRST_DAY)
    sent: list[MarketCommand] = [
        order,
        order._replace(ts_ns=ts + 1),  # the same request again
        order._replace(ts_ns=ts + 2, qty_t=11),  # the same id for another order
        order._replace(ts_ns=ts + 3, account_id=b),  # another account's own id
        CloseDay(ts + 4),
        EndOfDay(ts + 5),
        OpenDay(local_ns(tomorrow, dt.time(9, 15)), tomorrow),
        SetSession(local_ns(tomorrow, dt.time(9, 30)), TradingState.CONTINUOUS),
        order._replace(ts_ns=local_ns(tomorrow, dt.time(10, 0))),  # a new day, a new order
    ]

    async def scenario() -> tuple[list[Ack], list[tuple[Any, ...]], int]:
        runtime = await MarketRuntime.create(url, SPEC, connect_args=args)
        runtime.start()
        await asyncio.gather(*(runtime.submit_nowait(c) for c in market_setup(2)))
        acks = [await runtime.submit(c) for c in sent]
        await runtime.stop()
        o = t.market_orders.c
        query = (
            select(o.order_id, o.account_id, o.client_order_id, o.trading_day)
            .where(o.market_id == m)
            .order_by(o.order_id)
        )
        async with database.engine() as engine, engine.connect() as conn:
            rows = [tuple(row) for row in await conn.execute(query)]
        journal = await read_journal(url, m, connect_args=args)
        return acks, rows, len(journal)

    acks, rows, journaled = asyncio.run(scenario())
    first, again, conflict, other = (ack.outcome for ack in acks[:4])
    assert (first.ok, first.repeated, first.order_id) == (True, False, 1)
    assert (again.ok, again.repeated, again.order_id) == (True, True, 1)
    assert conflict.code == SettlementCode.CLIENT_ORDER_ID_CONFLICT
    assert (other.ok, other.repeated, other.order_id) == (True, False, 2)
    assert all(ack.outcome.ok for ack in acks[4:8])
    assert (acks[8].outcome.repeated, acks[8].outcome.order_id) == (False, 3)
    assert rows == [
        (1, a, "c-1", FIRST_DAY.isoformat()),
        (2, b, "c-1", FIRST_DAY.isoformat()),
        (3, a, "c-1", tomorrow.isoformat()),
    ]
    assert journaled == 1 + len(market_setup(2)) + len(sent)  # repeats and refusals too


def test_restamp_matches_replace() -> None:
    """The sequencer restamps a command with ``_make((ts, *command[1:]))`` (faster than
    ``_replace``): the same command for every market command type, ts_ns being each one's
    first field (the codec's examples cover every type)."""
    for command in EXAMPLES.values():
        assert type(command)._fields[0] == "ts_ns"
        restamped = type(command)._make((7, *command[1:]))
        assert type(restamped) is type(command)
        assert restamped == command._replace(ts_ns=7)


def test_without_a_clock_market_time_is_the_wall_time_only_on_the_trading_day() -> None:
    """An unstamped command takes the wall time while the market trades today (the demo);
    before a trading day market time stays at the last journaled time; another day (a market
    opened on a past date) opens at its pre-open and runs at its open, never at 0."""

    async def scenario() -> list[int]:
        writer = GatedWriter()
        writer.gate.set()
        runtime = gated_runtime(writer)
        runtime.start()
        calendar = runtime.market.rules.calendar
        today = local_date(calendar, time.time_ns())
        stamps = []
        for command in (
            Deposit(0, AccountId("nobody"), 1, "before any day"),  # refused; still journaled
            OpenDay(0, dt.date(2025, 3, 3)),
            SetSession(0, TradingState.CONTINUOUS),
            CloseDay(0),
            EndOfDay(0),
            OpenDay(0, today),
            SetSession(0, TradingState.CONTINUOUS),
        ):
            stamps.append((await runtime.submit(command)).command.ts_ns)
        await runtime.stop()
        return stamps

    before = time.time_ns()
    stamps = asyncio.run(scenario())
    assert stamps[0] == 0  # no day yet: the journal's time holds
    # 2025-03-03 in Asia/Shanghai: pre-open 09:15 (01:15 UTC), open 09:30 (01:30 UTC).
    pre_open = int(dt.datetime(2025, 3, 3, 1, 15, tzinfo=dt.UTC).timestamp()) * 1_000_000_000
    opens = int(dt.datetime(2025, 3, 3, 1, 30, tzinfo=dt.UTC).timestamp()) * 1_000_000_000
    assert stamps[1:5] == [pre_open, opens, opens, opens]
    assert before <= stamps[5] <= stamps[6] <= time.time_ns()  # today: the wall time
