"""The market runtime through database blips, and reads that show only what is durable
(exchange.runtime): the writer reconnects and commits the failed batch again, once, unless it
went in after all; while it reconnects the market takes nothing new and its queued callers
wait; a read is answered only once the state it saw is committed.

A fake journal writer scripts the failures here; the same on real databases (a PostgreSQL
backend terminated, a SQLite commit failing) is test_database_blips.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections import deque
from collections.abc import Iterable, Sequence

import pytest

from exchange import runtime as runtime_module
from exchange.db.journal_store import Batch
from exchange.runtime import (
    Ack,
    MarketReconnectingError,
    MarketRuntime,
    MarketState,
    MarketStoppedError,
)
from matching.types import OrderType, Side
from settlement.commands import CancelOrder, MarketCommand, PlaceOrder
from settlement.market import Market
from tests.integration.test_runtime import SPEC, GatedWriter, some_commands, turns, until
from tests.market_stream import FIRST_DAY, local_ns, market_accounts, market_setup

OK, LOST, LOST_ANSWER = "ok", "lost", "lost answer"  # what a scripted commit does
ACCOUNT = market_accounts(1)[0]


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reconnect attempts a millisecond apart: the tests wait for what happens, not for time."""
    monkeypatch.setattr(runtime_module, "RECONNECT_FIRST_S", 0.001)
    monkeypatch.setattr(runtime_module, "RECONNECT_MAX_S", 0.002)


class FlakyWriter:
    """A journal writer in memory whose commits do what ``script`` says, in turn (then
    ``OK``): ``LOST`` raises a lost connection and stores nothing, ``LOST_ANSWER`` stores the
    batch and then raises (the server committed; its answer never came). While ``up`` is
    clear, reconnecting is refused. Committing a batch whose first seq is stored already
    breaks the journal's primary key, as a database would."""

    def __init__(self, script: Iterable[str] = ()) -> None:
        self.script = deque(script)
        self.up = asyncio.Event()
        self.up.set()
        self.batches: list[Batch] = []
        self.reconnects = 0
        self.closed = False
        self.bug: Exception | None = None  # raised by commits once set

    async def commit(self, batch: Batch) -> None:
        if self.bug is not None:
            raise self.bug
        if any(stored.journal[0][1] == batch.journal[0][1] for stored in self.batches):
            raise sqlite3.IntegrityError("UNIQUE constraint failed: market_journal.seq")
        step = self.script.popleft() if self.script else OK
        if step == LOST:
            raise ConnectionResetError("connection lost")
        self.batches.append(batch)
        if step == LOST_ANSWER:
            raise ConnectionResetError("connection lost after COMMIT")

    async def reconnect(self) -> None:
        if not self.up.is_set():
            raise ConnectionRefusedError("the database is down")
        self.reconnects += 1

    async def holds(self, batch: Batch) -> bool:
        return any(stored is batch for stored in self.batches)

    async def close(self) -> None:
        self.closed = True

    def seqs(self) -> list[int]:
        return [row[1] for batch in self.batches for row in batch.journal]


def flaky_runtime(writer: FlakyWriter | GatedWriter) -> MarketRuntime:
    return MarketRuntime(Market(SPEC), writer, last_seq=1, last_ts_ns=0)


def buy(price_fen: int = 5_900, minute: int = 0) -> PlaceOrder:
    ts = local_ns(FIRST_DAY, dt.time(10, minute))
    return PlaceOrder(ts, ACCOUNT, "CEA2025", Side.BUY, OrderType.LIMIT, 10, price_fen)


def open_order_ids(market: Market) -> list[int]:
    return [view.order_id for view in market.engine.open_orders(ACCOUNT)]


async def started(writer: FlakyWriter | GatedWriter) -> MarketRuntime:
    """A runtime whose market has accounts and an open trading day, all committed."""
    runtime = flaky_runtime(writer)
    runtime.start()
    await runtime.submit_many(market_setup(1))
    return runtime


# ---------------------------------------------------------------------- reconnecting


def test_a_lost_connection_is_outlasted_and_the_batch_committed_once() -> None:
    async def scenario() -> None:
        writer = FlakyWriter([LOST, LOST])
        runtime = flaky_runtime(writer)
        told: list[int] = []
        runtime.listeners.append(lambda acks: told.extend(ack.seq for ack in acks))
        runtime.start()
        commands = some_commands(60)
        acks = await asyncio.gather(*(runtime.submit_nowait(c) for c in commands))
        assert runtime.state is MarketState.RUNNING
        assert [ack.seq for ack in acks] == list(range(2, len(commands) + 2))
        assert writer.seqs() == [ack.seq for ack in acks], "lost or committed twice"
        assert told == writer.seqs()
        assert (runtime.stats.reconnects, writer.reconnects) == (1, 2)
        assert runtime.durable_seq == runtime.last_seq
        assert "connection lost" in runtime.stats.database_error
        assert (await runtime.submit(buy())).outcome.ok, "the market trades again"
        await runtime.stop()
        assert writer.closed

    asyncio.run(asyncio.wait_for(scenario(), timeout=20))


def test_a_commit_whose_answer_was_lost_is_not_committed_again() -> None:
    """The connection dropped after the server committed: after reconnecting, the writer
    finds the batch's first seq stored (``holds``) and does not commit it again."""

    async def scenario() -> None:
        writer = FlakyWriter([LOST_ANSWER])
        runtime = flaky_runtime(writer)
        runtime.start()
        commands = some_commands(30)
        acks = await asyncio.gather(*(runtime.submit_nowait(c) for c in commands))
        await runtime.stop()
        assert writer.seqs() == [ack.seq for ack in acks]
        assert runtime.stats.reconnects == 1

    asyncio.run(asyncio.wait_for(scenario(), timeout=20))


def test_while_reconnecting_nothing_new_is_taken_and_queued_callers_wait() -> None:
    async def scenario() -> None:
        writer = FlakyWriter()
        runtime = await started(writer)
        writer.up.clear()
        writer.script.append(LOST)
        placed = runtime.submit_nowait(buy())
        await until(lambda: runtime.state is MarketState.RECONNECTING, "reconnecting")
        with pytest.raises(MarketReconnectingError):
            runtime.submit_nowait(buy(5_910))
        with pytest.raises(MarketReconnectingError):
            runtime.submit_many([buy(5_910)])
        with pytest.raises(MarketReconnectingError):  # its state holds an order not durable
            await runtime.read(open_order_ids)
        waiting = runtime.submit_nowait(buy(5_920), wait_for_database=True)  # the clock's way
        applied = runtime.stats.commands
        await until(lambda: runtime.stats.reconnect_attempts >= 3, "attempts to reconnect")
        await turns()
        assert not placed.done()
        assert not waiting.done()
        assert runtime.stats.commands == applied, "applied while the database is gone"
        writer.up.set()
        first, second = await placed, await waiting
        assert runtime.state is MarketState.RUNNING
        assert await runtime.read(open_order_ids) == [
            first.outcome.order_id,
            second.outcome.order_id,
        ]
        assert writer.seqs() == list(range(2, runtime.last_seq + 1))
        await runtime.stop()

    asyncio.run(asyncio.wait_for(scenario(), timeout=20))


def test_a_bug_found_while_reconnecting_stops_the_market() -> None:
    async def scenario() -> None:
        writer = FlakyWriter()
        runtime = await started(writer)
        writer.up.clear()
        writer.script.append(LOST)
        placed = runtime.submit_nowait(buy())
        await until(lambda: runtime.state is MarketState.RECONNECTING, "reconnecting")
        writer.bug = sqlite3.IntegrityError("CHECK constraint failed: amount_not_negative")
        writer.up.set()
        with pytest.raises(MarketStoppedError, match="CHECK constraint"):
            await placed
        assert runtime.state is MarketState.STOPPED
        await runtime.stop()

    asyncio.run(asyncio.wait_for(scenario(), timeout=20))


def test_stopping_while_reconnecting_tells_the_queued_callers() -> None:
    """A shutdown does not wait for a database that may never come back: what was not
    committed was never acknowledged, and its callers hear that the market stopped."""

    async def scenario() -> None:
        writer = FlakyWriter()
        runtime = await started(writer)
        writer.up.clear()
        writer.script.append(LOST)
        placed = runtime.submit_nowait(buy())
        await until(lambda: runtime.state is MarketState.RECONNECTING, "reconnecting")
        waiting = runtime.submit_nowait(buy(5_910), wait_for_database=True)
        await runtime.stop()
        for future in (placed, waiting):
            with pytest.raises(MarketStoppedError):
                await future
        assert runtime.state is MarketState.STOPPED
        assert writer.closed

    asyncio.run(asyncio.wait_for(scenario(), timeout=20))


# ---------------------------------------------------------------------- durable reads


def test_a_read_is_answered_once_what_it_saw_is_durable() -> None:
    async def scenario() -> None:
        writer = GatedWriter()
        writer.gate.set()
        runtime = await started(writer)
        assert await runtime.read(open_order_ids) == [], "idle: answered at once"
        writer.gate.clear()
        placed = runtime.submit_nowait(buy())
        await until(lambda: runtime.last_seq > runtime.durable_seq, "the order applied")
        read = asyncio.ensure_future(runtime.read(open_order_ids))
        await asyncio.sleep(0)  # the read's task runs up to its wait
        # Applied after the read: not in its answer, which is the state the read saw.
        order_id = runtime.market.next_order_id  # the last order's
        cancelled = runtime.submit_nowait(CancelOrder(buy().ts_ns, ACCOUNT, order_id))
        await turns()
        assert not read.done(), "a read answered with an order not yet durable"
        writer.gate.set()
        assert await read == [order_id]
        assert (await placed).seq in writer.committed_seqs()
        assert (await cancelled).outcome.ok
        assert await runtime.read(open_order_ids) == []
        await runtime.stop()

    asyncio.run(asyncio.wait_for(scenario(), timeout=20))


def test_a_reads_refusal_waits_for_durability_too() -> None:
    """What a read raises is held like an answer: it, too, may come from state not durable."""

    class NoSuchOrderError(Exception):
        pass

    def refuse(market: Market) -> list[int]:
        raise NoSuchOrderError(str(open_order_ids(market)))

    async def scenario() -> None:
        writer = GatedWriter()
        writer.gate.set()
        runtime = await started(writer)
        writer.gate.clear()
        runtime.submit_nowait(buy())
        await until(lambda: runtime.last_seq > runtime.durable_seq, "the order applied")
        read = asyncio.ensure_future(runtime.read(refuse))
        await turns()
        assert not read.done()
        writer.gate.set()
        with pytest.raises(NoSuchOrderError, match=r"\[1\]"):
            await read
        await runtime.stop()

    asyncio.run(asyncio.wait_for(scenario(), timeout=20))


# ---------------------------------------------------------------------- journaled guards


def test_guards_are_journaled_with_the_last_command_of_their_group() -> None:
    """Cancel on disconnect's rows (exchange.disconnects): ``note_guards`` puts them after the
    commands applied so far; ``submit_many(guards=...)`` in the batch of its last command."""

    async def scenario() -> tuple[list[Batch], list[Ack]]:
        writer = GatedWriter()
        writer.gate.set()
        runtime = await started(writer)
        armed = runtime.note_guards([("s1", ACCOUNT, "armed")])
        await armed
        writer.gate.clear()
        commands: Sequence[MarketCommand] = [buy(5_900), buy(5_901), buy(5_902)]
        group = runtime.submit_many(commands, guards=[("s1", ACCOUNT, "ended")])
        await until(lambda: runtime.stats.commands >= 3 + len(market_setup(1)), "applied")
        writer.gate.set()
        acks = await group
        await runtime.stop()
        return writer.batches, acks

    batches, acks = asyncio.run(asyncio.wait_for(scenario(), timeout=20))
    guards = [(batch, row) for batch in batches for row in batch.disconnect_guards]
    assert [row[1:4] for _, row in guards] == [("s1", ACCOUNT, "armed"), ("s1", ACCOUNT, "ended")]
    (_, armed), (ended_batch, ended) = guards
    assert armed[4] == 1 + len(market_setup(1)), "armed after every command before it"
    assert ended[4] == acks[-1].seq
    assert acks[-1].seq in {row[1] for row in ended_batch.journal}
