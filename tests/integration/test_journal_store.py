"""The market journal's writer and readers (exchange.db.journal_store) on SQLite and PostgreSQL:
batches round-trip, commit whole or not at all, survive the writer being killed, and the tables'
constraints refuse what the runtime must never write."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from alembic import command
from sqlalchemy import Connection, Table, inspect, select

from exchange.db import journal_store as js
from exchange.db import tables as t
from exchange.db.journal_store import (
    INTEGRITY_ERRORS,
    BalanceKey,
    Batch,
    JournalRow,
    JournalWriter,
    SnapshotRow,
    acknowledged_check,
    iter_journal,
    latest_snapshot,
    market_ids,
    open_writer,
    prepare_database,
    projection_summary,
    read_journal,
)
from exchange.db.migrations import alembic_config
from tests.integration.conftest import Database

ROOT = Path(__file__).resolve().parents[2]
M = "cea-2025-a"
OTHER = "cea-2025-b"
DAY = "2025-07-01"
NEXT_DAY = "2025-07-02"
CNY = "CNY"
CEA = "CEA2025"
A, B = "P:ALICE", "P:BOB"
CASH, ISSUANCE = "SYS:CASH", "SYS:ISSUANCE"
AVAILABLE, HELD = "available", "held"

Row = tuple[Any, ...]


# ---------------------------------------------------------------------- rows


def entry(seq: int, kind: str = "place", account: str | None = A, market: str = M) -> Row:
    body = json.dumps({"seq": seq, "note": "买入 CEA"}, ensure_ascii=False)
    return (market, seq, 1_700_000_000_000_000_000 + seq, kind, account, body)


def order(
    order_id: int,
    seq: int,
    account: str = A,
    client_order_id: str | None = None,
    day: str = DAY,
    qty_t: int = 100,
    market: str = M,
) -> Row:
    side = "buy" if account == A else "sell"
    placed = (market, order_id, seq, day, account, client_order_id, CEA, side, "limit")
    return (*placed, 5_000, qty_t, "cancel_new")


def trade(
    trade_id: int,
    seq: int,
    buy_order_id: int,
    sell_order_id: int,
    market: str = M,
    price_fen: int = 5_000,
) -> Row:
    at = (market, trade_id, 10 * seq, seq, 1_700_000_000_000_000_000 + seq, CEA)
    return (*at, price_fen, 100, "sell", buy_order_id, sell_order_id, A, B, 250, 250)


def posting(
    posting_id: int,
    seq: int,
    asset: str,
    amount: int,
    source: tuple[str, str],
    target: tuple[str, str],
    market: str = M,
) -> Row:
    return (market, posting_id, seq, asset, amount, *source, *target, f"ref-{posting_id}")


def balances_after(
    postings: Iterable[Row], before: dict[BalanceKey, int] | None = None
) -> dict[BalanceKey, int]:
    """What the balances become when ``postings`` are applied to ``before``, as the runtime
    would compute them: every key a posting touched, zeros included."""
    balances = dict(before or {})
    for _, _, _, asset, amount, from_account, from_state, to_account, to_state, _ in postings:
        source, target = (from_account, asset, from_state), (to_account, asset, to_state)
        balances[source] = balances.get(source, 0) - amount
        balances[target] = balances.get(target, 0) + amount
    return balances


def trading_day() -> list[Batch]:
    """A market's first trading day in three batches: funding, orders and a hold, the trade."""
    funding = [
        posting(1, 1, CNY, 1_000_000, (CASH, AVAILABLE), (A, AVAILABLE)),
        posting(2, 2, CEA, 500, (ISSUANCE, AVAILABLE), (B, AVAILABLE)),
    ]
    holds = [
        posting(3, 3, CNY, 500_250, (A, AVAILABLE), (A, HELD)),
        posting(4, 4, CEA, 100, (B, AVAILABLE), (B, HELD)),
    ]
    settlement = [
        posting(5, 4, CNY, 500_000, (A, HELD), (B, AVAILABLE)),
        posting(6, 4, CEA, 100, (B, HELD), (A, AVAILABLE)),
        posting(7, 4, CNY, 250, (A, HELD), ("SYS:FEES", AVAILABLE)),
        posting(8, 4, CNY, 250, (B, AVAILABLE), ("SYS:FEES", AVAILABLE)),
    ]
    first = balances_after(funding)
    second = balances_after(holds, first)
    third = balances_after(settlement, second)
    return [
        Batch(
            M,
            journal=[entry(1, "deposit", A), entry(2, "issue", B)],
            postings=funding,
            balances=first,
        ),
        Batch(
            M,
            journal=[entry(3), entry(4, account=B)],
            orders=[order(1, 3, A, "alice-1"), order(2, 4, B, "bob-1")],
            postings=holds,
            balances={key: second[key] for key in balances_after(holds)},
        ),
        Batch(
            M,
            journal=[entry(5, "cancel"), entry(6, "close_day", None)],
            order_updates=[(M, 11, 5, 1, "cancelled", 0, 0, None, "filled")],
            trades=[trade(1, 4, 1, 2)],
            postings=settlement,
            balances={key: third[key] for key in balances_after(settlement)},
            statements=[(M, DAY, A, json.dumps({"cash_fen": 499_750})), (M, DAY, B, "{}")],
            snapshots=[(M, 6, DAY, "ab" * 32, b"\x00snapshot\xff")],
        ),
    ]


# ---------------------------------------------------------------------- helpers


@asynccontextmanager
async def writer_on(database: Database) -> AsyncIterator[JournalWriter]:
    writer = await open_writer(database.url, connect_args=database.connect_args)
    try:
        yield writer
    finally:
        await writer.close()


async def commit_all(database: Database, batches: Iterable[Batch]) -> None:
    async with writer_on(database) as writer:
        for batch in batches:
            await writer.commit(batch)


async def stored(database: Database, table: Table) -> list[Row]:
    """Every row of ``table``, by primary key."""
    async with database.engine() as engine, engine.connect() as conn:
        rows = await conn.execute(select(table).order_by(*table.primary_key.columns))
        return [tuple(row) for row in rows]


def by_key(rows: Iterable[Row], width: int) -> list[Row]:
    return sorted(rows, key=lambda row: row[:width])


# ---------------------------------------------------------------------- round trips


def test_a_trading_day_round_trips_through_the_writer_and_the_readers(database: Database) -> None:
    batches = trading_day()
    args = database.connect_args

    async def scenario() -> dict[str, Any]:
        await commit_all(database, batches)
        tables = (
            t.market_journal,
            t.market_orders,
            t.market_order_updates,
            t.market_trades,
            t.market_postings,
            t.market_statements,
            t.market_snapshots,
            t.market_balances,
        )
        return {
            "rows": {table.name: await stored(database, table) for table in tables},
            "journal": await read_journal(database.url, M, connect_args=args),
            "snapshot": await latest_snapshot(database.url, M, connect_args=args),
            "summary": await projection_summary(database.url, M, connect_args=args),
            "markets": await market_ids(database.url, connect_args=args),
        }

    got = asyncio.run(scenario())
    rows = got["rows"]
    every = {
        name: [row for batch in batches for row in getattr(batch, field)]
        for name, field in (
            ("market_journal", "journal"),
            ("market_orders", "orders"),
            ("market_order_updates", "order_updates"),
            ("market_trades", "trades"),
            ("market_postings", "postings"),
            ("market_statements", "statements"),
            ("market_snapshots", "snapshots"),
        )
    }
    for name, written in every.items():
        assert rows[name] == by_key(written, 3), name
    final = balances_after(p for batch in batches for p in batch.postings)
    assert rows["market_balances"] == sorted((M, *key, amount) for key, amount in final.items())
    assert got["journal"] == [JournalRow(*row[1:]) for row in every["market_journal"]]
    assert got["snapshot"] == SnapshotRow(6, DAY, "ab" * 32, b"\x00snapshot\xff")
    summary = got["summary"]
    assert (summary.last_seq, summary.trade_count, summary.max_trade_id) == (6, 1, 1)
    assert (summary.order_count, summary.max_order_id) == (2, 2)
    assert summary.balances == {key: amount for key, amount in final.items() if amount}
    assert got["markets"] == [M]
    last = batches[-1]  # journal, order update, trade, postings, statements, snapshot, balances
    assert last.rows() == 2 + 1 + 1 + 4 + 2 + 1 + len(last.balances)


def test_an_empty_market_has_no_journal_snapshot_or_projection(database: Database) -> None:
    async def scenario() -> tuple[Any, ...]:
        await prepare_database(database.url, connect_args=database.connect_args)  # a no-op now
        await commit_all(database, [Batch(M)])  # nothing to write
        url, args = database.url, database.connect_args
        return (
            await read_journal(url, M, connect_args=args),
            await latest_snapshot(url, M, connect_args=args),
            await projection_summary(url, M, connect_args=args),
            await market_ids(url, connect_args=args),
        )

    journal, snapshot, summary, markets = asyncio.run(scenario())
    assert (journal, snapshot, markets) == ([], None, [])
    assert summary == js.ProjectionSummary(0, {}, {}, 0, 0, 0, 0)


def test_the_journal_reads_back_by_seq_without_gaps(database: Database) -> None:
    # batches of 7 entries, each written out of order, and another market interleaved
    batches = [
        Batch(M, journal=[entry(seq) for seq in reversed(range(7 * i + 1, 7 * i + 8))])
        for i in range(5)
    ]
    others = [Batch(OTHER, journal=[entry(i + 1, market=OTHER)]) for i in range(5)]
    interleaved = [batch for pair in zip(batches, others, strict=True) for batch in pair]

    async def scenario() -> tuple[list[int], list[int], list[int], list[str]]:
        await commit_all(database, interleaved)
        url, args = database.url, database.connect_args
        async with database.engine() as engine:  # an open engine serves as well as a URL
            chunked = [row.seq async for row in iter_journal(engine, M, 0, chunk=4)]
        every = [row.seq for row in await read_journal(url, M, connect_args=args)]
        later = [row.seq for row in await read_journal(url, M, after_seq=30, connect_args=args)]
        return every, chunked, later, await market_ids(url, connect_args=args)

    every, chunked, later, markets = asyncio.run(scenario())
    assert every == chunked == list(range(1, 36))
    assert later == [31, 32, 33, 34, 35]
    assert markets == [M, OTHER]


def test_a_balance_is_overwritten_by_each_batch(database: Database) -> None:
    key = (A, CNY, AVAILABLE)

    async def scenario() -> list[tuple[int, dict[BalanceKey, int]]]:
        seen: list[tuple[int, dict[BalanceKey, int]]] = []
        async with writer_on(database) as writer:
            for seq, amount in enumerate((100, 40, 0, 7), start=1):
                await writer.commit(Batch(M, journal=[entry(seq)], balances={key: amount}))
                rows = await stored(database, t.market_balances)
                summary = await projection_summary(
                    database.url, M, connect_args=database.connect_args
                )
                seen.append((rows[0][-1], summary.balances))
        return seen

    assert asyncio.run(scenario()) == [
        (100, {key: 100}),
        (40, {key: 40}),
        (0, {}),  # a zero balance is stored as 0 and left out of the summary
        (7, {key: 7}),
    ]


# ---------------------------------------------------------------------- refusals


REFUSED = {  # each with the journal entry 1, which must not be stored either
    "negative-balance": Batch(M, journal=[entry(1)], balances={(A, CNY, AVAILABLE): -1}),
    "zero-posting": Batch(
        M,
        journal=[entry(1)],
        postings=[posting(1, 1, CNY, 0, (CASH, AVAILABLE), (A, AVAILABLE))],
    ),
    "zero-order": Batch(M, journal=[entry(1)], orders=[order(1, 1, qty_t=0)]),
    "zero-price": Batch(M, journal=[entry(1)], trades=[trade(1, 1, 1, 2, price_fen=0)]),
    "seq-twice": Batch(M, journal=[entry(1), entry(1)]),
}


@pytest.mark.parametrize("refused", REFUSED.values(), ids=REFUSED.keys())
def test_the_tables_refuse_what_must_never_be_written(database: Database, refused: Batch) -> None:
    sources = {(CASH, CNY, AVAILABLE): -5, (ISSUANCE, CEA, AVAILABLE): -5}  # these may

    async def scenario() -> tuple[list[Row], list[Row]]:
        async with writer_on(database) as writer:
            with pytest.raises(INTEGRITY_ERRORS):
                await writer.commit(refused)
            await writer.commit(Batch(M, journal=[entry(1)], balances=sources))  # still usable
        return await stored(database, t.market_journal), await stored(database, t.market_balances)

    journal, balances = asyncio.run(scenario())
    assert journal == [entry(1)]
    assert balances == sorted((M, *key, amount) for key, amount in sources.items())


def test_a_client_order_id_twice_a_day_refuses_the_whole_batch(database: Database) -> None:
    first = Batch(
        M,
        journal=[entry(1), entry(2)],
        orders=[order(1, 1, A, "c-1"), order(2, 2, A, None)],
        balances={(A, CNY, HELD): 10},
    )
    again = Batch(
        M,
        journal=[entry(3), entry(4)],
        orders=[order(3, 3, A, None), order(4, 4, A, "c-1")],  # c-1 again, same day
        postings=[posting(1, 3, CNY, 5, (CASH, AVAILABLE), (A, AVAILABLE))],
        balances={(A, CNY, HELD): 20, (A, CNY, AVAILABLE): 5},
    )
    later = Batch(
        M,
        journal=[entry(3), entry(4)],
        orders=[order(3, 3, A, "c-1", day=NEXT_DAY), order(4, 4, B, "c-1")],  # another day, B
    )

    async def scenario() -> tuple[js.ProjectionSummary, int]:
        async with writer_on(database) as writer:
            await writer.commit(first)
            with pytest.raises(INTEGRITY_ERRORS):
                await writer.commit(again)
            summary = await projection_summary(database.url, M, connect_args=database.connect_args)
            await writer.commit(later)
            return summary, getattr(writer, "retries", 0)

    summary, retries = asyncio.run(scenario())
    assert (summary.last_seq, summary.order_count, summary.max_order_id) == (2, 2, 2)
    assert summary.balances == {(A, CNY, HELD): 10}
    assert summary.posting_sums == {}
    assert retries == 0  # a unique violation is a bug, not a reason to try again


# ---------------------------------------------------------------------- database blips


async def cut_connection(database: Database, writer: JournalWriter) -> None:
    """What a failover does to the writer: on PostgreSQL its backend is terminated (as
    ``pg_terminate_backend`` does); on SQLite its connection is closed under it."""
    if isinstance(writer, js.PostgresJournalWriter):
        pid = writer.connection.get_server_pid()
        admin = await asyncpg.connect(js._asyncpg_dsn(database.url))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
    else:
        assert isinstance(writer, js.SQLiteJournalWriter)
        await writer._run(lambda: writer._connected().execute("PRAGMA query_only = 1"))


def test_after_a_lost_connection_the_writer_reconnects_and_knows_what_went_in(
    database: Database,
) -> None:
    first = Batch(M, journal=[entry(1), entry(2)], orders=[order(1, 2)])
    second = Batch(M, journal=[entry(3)], orders=[order(2, 3)])
    guards_only = Batch(M, disconnect_guards=[(M, "s1", A, "armed", 3)])

    async def scenario() -> list[Row]:
        async with writer_on(database) as writer:
            await writer.commit(first)
            assert await writer.holds(first)
            assert not await writer.holds(second)
            await cut_connection(database, writer)
            with pytest.raises(js.TRANSIENT_ERRORS) as lost:
                await writer.commit(second)
            assert js.is_transient(lost.value), repr(lost.value)
            await writer.reconnect()
            assert not await writer.holds(second), "a failed commit left rows"
            await writer.commit(second)
            assert await writer.holds(second)
            assert not await writer.holds(guards_only)
            await writer.commit(guards_only)
            assert await writer.holds(guards_only)
            assert getattr(writer, "reconnects", 0) == 1
        return await stored(database, t.market_journal)

    journal = asyncio.run(scenario())
    assert [row[1] for row in journal] == [1, 2, 3]


def test_a_broken_constraint_is_not_transient() -> None:
    assert js.is_transient(ConnectionResetError("reset"))
    assert js.is_transient(asyncpg.exceptions.AdminShutdownError("terminated"))
    assert js.is_transient(sqlite3.OperationalError("disk I/O error"))
    # asyncpg's, when the backend is terminated with a statement in flight (seen under load)
    in_flight = "cannot switch to state 15; another operation (2) is in progress"
    assert js.is_transient(asyncpg.exceptions.InternalClientError(in_flight))
    assert not js.is_transient(sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert not js.is_transient(asyncpg.exceptions.UniqueViolationError("duplicate key"))
    assert not js.is_transient(ValueError("a bug"))


# ---------------------------------------------------------------------- retries (PostgreSQL)


@pytest.mark.parametrize(
    "failure", [asyncpg.exceptions.SerializationError, asyncpg.exceptions.DeadlockDetectedError]
)
def test_a_serialization_failure_or_deadlock_retries_the_whole_batch(
    database: Database, monkeypatch: pytest.MonkeyPatch, failure: type[Exception]
) -> None:
    if database.backend != "postgresql":
        pytest.skip("PostgreSQL's failures only")
    copy = asyncpg.Connection.copy_records_to_table
    failed: list[str] = []

    async def fail_once(self: Any, table_name: str, **kwargs: Any) -> Any:
        if table_name == t.market_orders.name and not failed:  # after the journal's COPY
            failed.append(table_name)
            raise failure("simulated")
        return await copy(self, table_name, **kwargs)

    monkeypatch.setattr(asyncpg.Connection, "copy_records_to_table", fail_once)
    batches = trading_day()

    async def scenario() -> tuple[int, int, list[Row]]:
        async with writer_on(database) as writer:
            assert isinstance(writer, js.PostgresJournalWriter)
            for batch in batches:
                await writer.commit(batch)
            return writer.commits, writer.retries, await stored(database, t.market_journal)

    commits, retries, journal = asyncio.run(scenario())
    assert failed == [t.market_orders.name]
    assert (commits, retries) == (3, 1)
    assert journal == [row for batch in batches for row in batch.journal]  # each entry once


def test_retrying_gives_up_after_max_attempts(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if database.backend != "postgresql":
        pytest.skip("PostgreSQL's failures only")
    attempts: list[str] = []

    async def always_fail(self: Any, table_name: str, **kwargs: Any) -> Any:
        attempts.append(table_name)
        raise asyncpg.exceptions.SerializationError("simulated")

    monkeypatch.setattr(asyncpg.Connection, "copy_records_to_table", always_fail)
    monkeypatch.setattr(js, "BACKOFF_FIRST_S", 0.0)

    async def scenario() -> None:
        async with writer_on(database) as writer:
            with pytest.raises(asyncpg.exceptions.SerializationError):
                await writer.commit(Batch(M, journal=[entry(1)]))

    asyncio.run(scenario())
    assert len(attempts) == js.MAX_ATTEMPTS


# ---------------------------------------------------------------------- projections and checks


def test_posting_sums_equal_the_balances_of_consistent_batches(database: Database) -> None:
    async def scenario() -> js.ProjectionSummary:
        await commit_all(database, trading_day())
        elsewhere = posting(1, 1, CNY, 9, (CASH, AVAILABLE), (A, AVAILABLE), OTHER)
        await commit_all(database, [Batch(OTHER, postings=[elsewhere])])
        return await projection_summary(database.url, M, connect_args=database.connect_args)

    summary = asyncio.run(scenario())
    assert summary.posting_sums == summary.balances
    assert summary.balances[(CASH, CNY, AVAILABLE)] == -1_000_000  # a source goes negative
    assert (A, CNY, HELD) not in summary.balances  # held, then all paid out: zero
    assert summary.balances[("SYS:FEES", CNY, AVAILABLE)] == 500
    assert sum(amount for (_, asset, _), amount in summary.balances.items() if asset == CNY) == 0


def test_acknowledged_check_finds_the_missing_orders_and_trades(database: Database) -> None:
    orders = [order(i, i) for i in range(1, 6)]
    mine = Batch(M, orders=orders, trades=[trade(1, 5, 1, 2), trade(2, 5, 3, 4)])
    other = Batch(OTHER, orders=[order(7, 1, market=OTHER)], trades=[trade(3, 1, 7, 7, OTHER)])

    async def scenario() -> tuple[tuple[set[int], set[int]], tuple[set[int], set[int]]]:
        await commit_all(database, [mine, other])
        url, args = database.url, database.connect_args
        few = await acknowledged_check(url, M, [1, 2, 6, 7], {1, 2, 3}, connect_args=args)
        many = await acknowledged_check(url, M, range(1, 12_001), [], connect_args=args)
        return few, many

    few, many = asyncio.run(scenario())
    assert few == ({6, 7}, {3})  # 7 and 3 are the other market's
    assert many == (set(range(6, 12_001)), set())


# ---------------------------------------------------------------------- durability


KILLED_WRITER = """
import asyncio, json, sys
from exchange.db.journal_store import Batch, open_writer

async def main(url, connect_args):
    writer = await open_writer(url, connect_args=connect_args)
    seq = 0
    while True:
        seq += 1
        rows = [("killed", seq, seq, "tick", None, "{}")]
        await writer.commit(Batch("killed", journal=rows, balances={("P:X", "CNY", "held"): seq}))
        print(seq, flush=True)  # acknowledged

asyncio.run(main(sys.argv[1], json.loads(sys.argv[2])))
"""


def test_every_acknowledged_batch_survives_the_writer_being_killed(database: Database) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, database.url, json.dumps(database.connect_args)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    output: list[str] = []
    try:
        while len(output) < 50:
            line = process.stdout.readline()
            if not line:
                pytest.fail("the writer stopped:\n" + "".join(output) + process.stdout.read())
            output.append(line)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
    acknowledged = int(output[-1])

    async def scenario() -> tuple[list[int], js.ProjectionSummary]:
        args = database.connect_args
        journal = await read_journal(database.url, "killed", connect_args=args)
        return [row.seq for row in journal], await projection_summary(
            database.url, "killed", connect_args=args
        )

    seqs, summary = asyncio.run(scenario())
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) >= acknowledged  # and perhaps a batch committed but not yet printed
    assert summary.balances == {("P:X", "CNY", "held"): len(seqs)}


# ---------------------------------------------------------------------- setup and migration


def test_the_writer_needs_a_database_it_can_write_to() -> None:
    async def scenario() -> None:
        with pytest.raises(ValueError, match="file"):
            await open_writer("sqlite+aiosqlite:///:memory:")
        with pytest.raises(ValueError, match="mysql"):
            await open_writer("mysql+aiomysql://someone@localhost/db")

    asyncio.run(scenario())


def test_the_journal_migration_goes_down_to_0001_and_up_again(database: Database) -> None:
    def migrate(sync_conn: Connection, steps: list[tuple[str, str]]) -> list[set[str]]:
        config = alembic_config()
        config.attributes["connection"] = sync_conn
        tables: list[set[str]] = []
        for action, revision in steps:
            getattr(command, action)(config, revision)
            tables.append({n for n in inspect(sync_conn).get_table_names() if "market_" in n})
        return tables

    async def scenario() -> list[set[str]]:
        async with database.engine() as engine, engine.begin() as conn:
            return await conn.run_sync(migrate, [("downgrade", "0001"), ("upgrade", "head")])

    down, up = asyncio.run(scenario())
    assert down == set()
    assert up == {table.name for table in t.metadata.sorted_tables if "market_" in table.name}
