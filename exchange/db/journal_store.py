"""The market journal in the database: a group-commit writer and the readers.

The market runtime applies commands one at a time in memory and hands ``JournalWriter.commit`` a
``Batch`` of rows: journal entries, orders, order updates, trades, postings, statements and
snapshots to append, and the balances those commands changed. A caller is acknowledged only
after the batch holding its command is committed, so ``commit`` returns only once the batch is
durable, all of it or nothing (one transaction per batch). Row tuples are in the column order of
the tables in ``exchange.db.tables`` (``market_journal``, ``market_orders``, ...), starting with
``market_id``; the balances are keyed ``(account_id, asset, state)`` and take the batch's
``market_id``. A balance of 0 is written as 0 (an upsert like any other, one statement); the
readers leave zero balances out.

PostgreSQL (the production target, >= 20,000 commands/s durable for the whole runtime): one
dedicated asyncpg connection, opened from the SQLAlchemy URL (``postgresql+...://`` becomes the
``postgresql://`` DSN asyncpg takes) with the same ``connect_args`` an engine would get, so a
test's ``server_settings={"search_path": schema}`` applies. A plain asyncpg connection rather
than SQLAlchemy's wrapped one: no pool, nothing between the writer and the binary COPY
protocol. Per batch, one transaction: a binary ``COPY`` (``copy_records_to_table``) per
non-empty append-only list, then one ``INSERT ... SELECT FROM unnest(...) ON CONFLICT DO
UPDATE`` for the balances, then ``COMMIT`` with ``synchronous_commit = on`` (set for the
session unless the caller's ``server_settings`` say otherwise), so a committed batch has
reached the server's WAL on disk. A serialization failure or deadlock (SQLSTATE 40001, 40P01)
rolls the transaction back and retries it whole, with a short growing backoff, up to
``MAX_ATTEMPTS`` times; every other error propagates at once. The runtime tells the two kinds
apart with ``is_transient``: a lost connection, a server shutting down or restarting, a full
disk or an I/O error is a blip the runtime outlasts (``reconnect``, then ``holds`` says whether
the batch went in after all, since a connection can drop after ``COMMIT`` reached the server,
and the batch is committed again only if it did not: idempotent by seq); a unique or check
violation is a bug in the runtime, and stops the market.

SQLite (development and tests): one ``sqlite3`` connection owned by one thread of the writer's
own, so a batch costs one hop to that thread and back (aiosqlite would make one hop per
statement); per batch ``BEGIN IMMEDIATE``, an ``executemany`` per non-empty list, an
``INSERT ... ON CONFLICT DO UPDATE`` for the balances, ``COMMIT``. The database is in WAL mode
with ``synchronous = NORMAL``: a commit is written to the WAL file before ``COMMIT`` returns but
not fsynced, so a committed batch survives the process being killed (SIGKILL: the data is in
the operating system's page cache) though not a power loss or kernel crash. Surviving a process
crash is what the runtime promises; ``FULL`` would add an fsync per batch for the rest.
A ``sqlite3.OperationalError`` (disk I/O error, a lock held past the busy timeout, a full disk)
is transient: the writer reopens its connection and the runtime retries the batch.

The readers (any backend, SQLAlchemy Core; they are not hot) take the URL, or an open
``AsyncEngine`` to reuse, and the same ``connect_args``. The writer assumes the tables exist:
``prepare_database`` migrates a database to the newest Alembic revision.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, TypeVar

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Select, func, select, union_all
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from exchange.db import tables as t
from exchange.db.engine import create_engine
from exchange.db.migrations import upgrade

Row = tuple[Any, ...]
BalanceKey = tuple[str, str, str]  # (account_id, asset, state)
BalanceArrays = tuple[list[str], list[str], list[str], list[int]]  # for unnest: a list per column
T = TypeVar("T")

MAX_ATTEMPTS = 10  # of a batch's transaction on PostgreSQL, the first one included
BACKOFF_FIRST_S = 0.002
BACKOFF_MAX_S = 0.2
RETRYABLE_PG_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.exceptions.SerializationError,  # 40001
    asyncpg.exceptions.DeadlockDetectedError,  # 40P01
)
# What a commit raises when a row breaks a constraint (a bug in the runtime), per backend.
INTEGRITY_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.IntegrityError,
    asyncpg.exceptions.IntegrityConstraintViolationError,
)
PG_SERVER_SETTINGS = {"synchronous_commit": "on", "application_name": "carbonx-journal"}
SQLITE_BUSY_TIMEOUT_MS = 10_000
CLOSE_TIMEOUT_S = 5.0  # a polite close of the writer's connection, then it is dropped
ID_CHUNK = 5_000  # ids per IN (...) of acknowledged_check: under every backend's parameter limit
# What a database blip raises (the runtime reconnects and retries, ``is_transient``): the
# connection lost or refused (OSError covers ConnectionError, a full disk and I/O errors), the
# server shutting down, restarting or terminating the backend (SQLSTATE class 57, as
# ``pg_terminate_backend`` does), out of resources (class 53), a connection-class error (08),
# the client's connection gone (asyncpg's InterfaceError, and its InternalClientError "cannot
# switch to state ...; another operation is in progress", seen when the backend is terminated
# under load with a statement in flight), SQLite's operational errors.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    sqlite3.OperationalError,
)


# ---------------------------------------------------------------------- batches and rows


@dataclass(slots=True)
class Batch:
    """The rows of consecutive commands of one market, committed together or not at all.

    Every row starts with its ``market_id``, which must be the batch's: the writer copies rows
    as they are and does not look (it is the hot path); the balances take ``market_id``.
    """

    market_id: str
    journal: list[Row] = field(default_factory=list)
    orders: list[Row] = field(default_factory=list)
    order_updates: list[Row] = field(default_factory=list)
    trades: list[Row] = field(default_factory=list)
    postings: list[Row] = field(default_factory=list)
    balances: dict[BalanceKey, int] = field(default_factory=dict)  # the amount now; 0 allowed
    statements: list[Row] = field(default_factory=list)
    reports: list[Row] = field(default_factory=list)  # large-holder reports
    block_deals: list[Row] = field(default_factory=list)
    closes: list[Row] = field(default_factory=list)
    snapshots: list[Row] = field(default_factory=list)
    disconnect_guards: list[Row] = field(default_factory=list)  # ``exchange.disconnects``

    def rows(self) -> int:
        """Rows the batch writes, a balance counting one."""
        return sum(len(rows) for _, rows in self.appended()) + len(self.balances)

    def appended(self) -> list[tuple[str, list[Row]]]:
        """(table name, rows) for every non-empty append-only list, journal first."""
        tables = (
            (t.market_journal.name, self.journal),
            (t.market_orders.name, self.orders),
            (t.market_order_updates.name, self.order_updates),
            (t.market_trades.name, self.trades),
            (t.market_postings.name, self.postings),
            (t.market_statements.name, self.statements),
            (t.market_large_holder_reports.name, self.reports),
            (t.market_block_deals.name, self.block_deals),
            (t.market_closes.name, self.closes),
            (t.market_snapshots.name, self.snapshots),
            (t.market_disconnect_guards.name, self.disconnect_guards),
        )
        return [(name, rows) for name, rows in tables if rows]

    def first_key(self) -> tuple[str, Row] | None:
        """(table name, the primary key of the batch's first row): the journal's first seq,
        or, in a batch without commands, its first disconnect guard. A batch is committed
        whole or not at all, so this row tells whether it is stored (``holds``)."""
        if self.journal:
            return t.market_journal.name, self.journal[0][:2]  # (market_id, seq)
        if self.disconnect_guards:
            guard = self.disconnect_guards[0]
            return t.market_disconnect_guards.name, guard[:4]  # market, session, account, event
        return None


_APPEND_ONLY = (
    t.market_journal,
    t.market_orders,
    t.market_order_updates,
    t.market_trades,
    t.market_postings,
    t.market_statements,
    t.market_large_holder_reports,
    t.market_block_deals,
    t.market_closes,
    t.market_snapshots,
    t.market_disconnect_guards,
)
_COLUMNS: dict[str, list[str]] = {
    table.name: [c.name for c in table.columns] for table in _APPEND_ONLY
}
_KEYS: dict[str, list[str]] = {
    table.name: [c.name for c in table.primary_key.columns] for table in _APPEND_ONLY
}


def is_transient(error: BaseException) -> bool:
    """Whether a writer's error is a database blip (reconnect and retry the batch) rather than
    a bug (stop the market): ``TRANSIENT_ERRORS``, integrity violations excepted."""
    return isinstance(error, TRANSIENT_ERRORS) and not isinstance(error, INTEGRITY_ERRORS)


def _balance_rows(batch: Batch) -> list[Row]:
    m = batch.market_id
    return [
        (m, account, asset, state, amount)
        for (account, asset, state), amount in batch.balances.items()
    ]


class JournalRow(NamedTuple):
    seq: int
    ts_ns: int
    kind: str
    account_id: str | None
    body: str  # JSON


class SnapshotRow(NamedTuple):
    seq: int  # the journal seq the snapshot was taken after
    trading_day: str
    state_hash: str
    body: bytes


@dataclass(frozen=True, slots=True)
class ProjectionSummary:
    """What the stored projections of one market add up to, to check a recovery against."""

    last_seq: int  # 0 without a journal
    balances: dict[BalanceKey, int]  # market_balances, non-zero amounts only
    posting_sums: dict[BalanceKey, int]  # incoming minus outgoing postings (after the given
    # posting id), non-zero only
    trade_count: int
    max_trade_id: int  # 0 without trades
    order_count: int
    max_order_id: int  # 0 without orders


# ---------------------------------------------------------------------- writers


class JournalWriter(Protocol):
    async def commit(self, batch: Batch) -> None:
        """Write ``batch`` in one transaction and return once it is durable; raise if it
        cannot be (after retries where retrying can help), leaving none of it stored (or,
        when the connection drops after the server committed, all of it: ``holds``)."""
        ...

    async def reconnect(self) -> None:
        """Drop the connection (whatever state it is in) and open a new one; raise a
        transient error if the database cannot be reached yet."""
        ...

    async def holds(self, batch: Batch) -> bool:
        """Whether ``batch`` is stored already: a commit whose answer was lost may have
        reached the database. Asked after ``reconnect``, before committing a batch again."""
        ...

    async def close(self) -> None: ...


async def open_writer(url: str, *, connect_args: Mapping[str, Any] | None = None) -> JournalWriter:
    """A writer on the database at SQLAlchemy ``url``, whose tables must exist
    (``prepare_database``). ``connect_args`` are what an engine would get (e.g.
    ``{"server_settings": {"search_path": schema}}`` for PostgreSQL). Close it when done."""
    backend = make_url(url).get_backend_name()
    if backend == "postgresql":
        return await PostgresJournalWriter.open(url, connect_args)
    if backend == "sqlite":
        return await SQLiteJournalWriter.open(url, connect_args)
    raise ValueError(f"no journal writer for {backend} databases")


def _asyncpg_dsn(url: str) -> str:
    """The DSN asyncpg takes for a SQLAlchemy PostgreSQL URL, whatever its driver."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


_UPSERT_BALANCES_PG = f"""
INSERT INTO {t.market_balances.name} (market_id, account_id, asset, state, amount)
SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[])
ON CONFLICT (market_id, account_id, asset, state) DO UPDATE SET amount = EXCLUDED.amount
"""


class PostgresJournalWriter:
    """The journal writer on PostgreSQL: one asyncpg connection, binary COPY, one transaction
    per batch. Batches are committed one at a time, in the order ``commit`` is called."""

    def __init__(self, connection: asyncpg.Connection, dsn: str = "", **args: Any) -> None:
        self.connection = connection
        self.commits = 0  # batches committed
        self.retries = 0  # transactions rolled back on a serialization failure or deadlock
        self.reconnects = 0
        self._dsn = dsn
        self._args = args
        self._lock = asyncio.Lock()  # one transaction at a time on the one connection

    @classmethod
    async def open(
        cls, url: str, connect_args: Mapping[str, Any] | None = None
    ) -> PostgresJournalWriter:
        args = dict(connect_args or {})
        args["server_settings"] = {**PG_SERVER_SETTINGS, **args.get("server_settings", {})}
        dsn = _asyncpg_dsn(url)
        return cls(await asyncpg.connect(dsn, **args), dsn, **args)

    async def reconnect(self) -> None:
        async with self._lock:
            self.connection.terminate()  # a broken connection cannot be closed politely
            self.connection = await asyncpg.connect(self._dsn, **self._args)
            self.reconnects += 1

    async def holds(self, batch: Batch) -> bool:
        key = batch.first_key()
        if key is None:
            return True
        name, values = key
        where = " AND ".join(f"{c} = ${n}" for n, c in enumerate(_KEYS[name], 1))
        async with self._lock:
            found = await self.connection.fetchval(f"SELECT 1 FROM {name} WHERE {where}", *values)
        return found is not None

    async def commit(self, batch: Batch) -> None:
        if batch.rows() == 0:
            return
        balances = self._balance_arrays(batch)
        async with self._lock:
            await self._with_retries(lambda: self._write(batch, balances))
            self.commits += 1

    async def _with_retries(self, attempt: Callable[[], Awaitable[None]]) -> None:
        for n in range(1, MAX_ATTEMPTS + 1):
            try:
                await attempt()
                return
            except RETRYABLE_PG_ERRORS:
                if n == MAX_ATTEMPTS:
                    raise
                self.retries += 1
                await asyncio.sleep(min(BACKOFF_FIRST_S * 2 ** (n - 1), BACKOFF_MAX_S))

    @staticmethod
    def _balance_arrays(batch: Batch) -> BalanceArrays | None:
        """The balances as the four arrays ``unnest`` takes, None without balances."""
        if not batch.balances:
            return None
        accounts, assets, states = (list(column) for column in zip(*batch.balances, strict=True))
        return accounts, assets, states, list(batch.balances.values())

    async def _write(self, batch: Batch, balances: BalanceArrays | None) -> None:
        """The batch's transaction, watched: a connection that dies under it raises
        ``ConnectionDoesNotExistError`` (a blip), whatever the driver would have done. asyncpg
        would otherwise wait for ever in a COPY whose writes were paused when the server
        ended the connection, and a transaction cut mid-statement fails its rollback with an
        ``InternalClientError`` (found by the fault campaign, ``tests/faults``)."""
        connection = self.connection
        lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_lost(_connection: asyncpg.Connection) -> None:
            if not lost.done():
                lost.set_result(None)

        connection.add_termination_listener(on_lost)
        writing = asyncio.ensure_future(self._transaction(connection, batch, balances))
        try:
            await asyncio.wait((writing, lost), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            writing.cancel()
            raise
        finally:
            connection.remove_termination_listener(on_lost)
        if not writing.done():
            writing.cancel()
            with contextlib.suppress(BaseException):  # whatever a dead connection raises
                await writing
        elif not connection.is_closed() or writing.cancelled() or writing.exception() is None:
            writing.result()  # committed, or failed with the connection alive: as it is
            return
        raise asyncpg.exceptions.ConnectionDoesNotExistError(
            "the connection was lost during the batch's transaction"
        ) from (None if writing.cancelled() else writing.exception())

    @staticmethod
    async def _transaction(
        connection: asyncpg.Connection, batch: Batch, balances: BalanceArrays | None
    ) -> None:
        async with connection.transaction():
            for name, rows in batch.appended():
                await connection.copy_records_to_table(name, records=rows, columns=_COLUMNS[name])
            if balances is not None:
                await connection.execute(_UPSERT_BALANCES_PG, batch.market_id, *balances)

    async def close(self) -> None:
        try:
            await self.connection.close(timeout=CLOSE_TIMEOUT_S)
        except Exception:  # the connection is gone already: let it go
            self.connection.terminate()


def _sqlite_insert(name: str, columns: list[str]) -> str:
    return f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


_INSERTS_SQLITE = {name: _sqlite_insert(name, columns) for name, columns in _COLUMNS.items()}
_UPSERT_BALANCES_SQLITE = (
    _sqlite_insert(t.market_balances.name, [c.name for c in t.market_balances.columns])
    + " ON CONFLICT (market_id, account_id, asset, state) DO UPDATE SET amount = excluded.amount"
)


class SQLiteJournalWriter:
    """The journal writer on SQLite: one ``sqlite3`` connection living in one thread of its
    own, one ``BEGIN IMMEDIATE ... COMMIT`` per batch, run whole in that thread."""

    def __init__(self, path: str, connect_args: Mapping[str, Any] | None = None) -> None:
        self._path = path
        self._connect_args = dict(connect_args or {})
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal-sqlite")
        self._connection: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        self.commits = 0
        self.reconnects = 0

    @classmethod
    async def open(
        cls, url: str, connect_args: Mapping[str, Any] | None = None
    ) -> SQLiteJournalWriter:
        path = make_url(url).database
        if not path or path == ":memory:":
            raise ValueError(f"the journal writer needs a SQLite database file, not {url!r}")
        writer = cls(path, connect_args)
        try:
            await writer._run(writer._connect)
        except BaseException:
            writer._executor.shutdown(wait=False)
            raise
        return writer

    async def _run(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    def _connect(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, **self._connect_args)
        connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")  # durable across a process kill in WAL
        self._connection = connection

    async def commit(self, batch: Batch) -> None:
        if batch.rows() == 0:
            return
        balances = _balance_rows(batch)
        async with self._lock:
            await self._run(self._write, batch, balances)
            self.commits += 1

    def _write(self, batch: Batch, balances: list[Row]) -> None:
        connection = self._connected()
        connection.execute("BEGIN IMMEDIATE")  # take the write lock now, not at the first insert
        try:
            for name, rows in batch.appended():
                connection.executemany(_INSERTS_SQLITE[name], rows)
            if balances:
                connection.executemany(_UPSERT_BALANCES_SQLITE, balances)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    def _connected(self) -> sqlite3.Connection:
        if self._connection is None:
            raise RuntimeError("the journal writer is closed")
        return self._connection

    async def reconnect(self) -> None:
        async with self._lock:
            await self._run(self._reopen)
            self.reconnects += 1

    def _reopen(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(sqlite3.Error):
                self._connection.close()
            self._connection = None
        self._connect()

    async def holds(self, batch: Batch) -> bool:
        key = batch.first_key()
        if key is None:
            return True
        name, values = key
        where = " AND ".join(f"{c} = ?" for c in _KEYS[name])
        query = f"SELECT 1 FROM {name} WHERE {where}"
        async with self._lock:
            row = await self._run(lambda: self._connected().execute(query, values).fetchone())
        return row is not None

    async def close(self) -> None:
        if self._connection is not None:
            await self._run(self._close)
        self._executor.shutdown(wait=True)

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


# ---------------------------------------------------------------------- schema


async def prepare_database(url: str, *, connect_args: Mapping[str, Any] | None = None) -> None:
    """Migrate the database at ``url`` to the newest revision, journal tables included."""
    engine = create_engine(url, connect_args=dict(connect_args or {}))
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


# ---------------------------------------------------------------------- readers


@asynccontextmanager
async def _engine(
    url: str | AsyncEngine, connect_args: Mapping[str, Any] | None
) -> AsyncIterator[AsyncEngine]:
    """``url`` itself if it is an engine, else an engine on it disposed of on exit."""
    if isinstance(url, AsyncEngine):
        yield url
        return
    engine = create_engine(url, connect_args=dict(connect_args or {}))
    try:
        yield engine
    finally:
        await engine.dispose()


reading_engine = _engine  # for the other readers of the market tables (exchange.db)


@asynccontextmanager
async def _snapshot(
    url: str | AsyncEngine, connect_args: Mapping[str, Any] | None
) -> AsyncIterator[AsyncConnection]:
    """A connection whose queries, on PostgreSQL, all see the same committed state even while
    a writer commits (REPEATABLE READ); on SQLite each query sees the latest commit."""
    async with _engine(url, connect_args) as engine, engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execution_options(isolation_level="REPEATABLE READ")
        yield conn


async def iter_journal(
    url: str | AsyncEngine,
    market_id: str,
    after_seq: int = 0,
    chunk: int = 10_000,
    *,
    connect_args: Mapping[str, Any] | None = None,
) -> AsyncIterator[JournalRow]:
    """The journal entries of ``market_id`` after ``after_seq``, by seq, read ``chunk`` at a
    time so that a long journal is never in memory whole."""
    j = t.market_journal.c
    query = (
        select(j.seq, j.ts_ns, j.kind, j.account_id, j.body)
        .where(j.market_id == market_id)
        .order_by(j.seq)
        .limit(chunk)
    )
    async with _engine(url, connect_args) as engine:
        last = after_seq
        while True:
            async with engine.connect() as conn:
                rows = [JournalRow(*row) for row in await conn.execute(query.where(j.seq > last))]
            for row in rows:
                yield row
            if len(rows) < chunk:
                return
            last = rows[-1].seq


async def read_journal(
    url: str | AsyncEngine,
    market_id: str,
    after_seq: int = 0,
    *,
    connect_args: Mapping[str, Any] | None = None,
) -> list[JournalRow]:
    """The journal entries of ``market_id`` after ``after_seq``, by seq."""
    return [row async for row in iter_journal(url, market_id, after_seq, connect_args=connect_args)]


async def latest_snapshot(
    url: str | AsyncEngine, market_id: str, *, connect_args: Mapping[str, Any] | None = None
) -> SnapshotRow | None:
    """The snapshot of ``market_id`` taken after the highest seq, None if it has none."""
    s = t.market_snapshots.c
    query = (
        select(s.seq, s.trading_day, s.state_hash, s.body)
        .where(s.market_id == market_id)
        .order_by(s.seq.desc())
        .limit(1)
    )
    async with _engine(url, connect_args) as engine, engine.connect() as conn:
        row = (await conn.execute(query)).first()
    return (
        None
        if row is None
        else SnapshotRow(row.seq, row.trading_day, row.state_hash, bytes(row.body))
    )


async def projection_summary(
    url: str | AsyncEngine,
    market_id: str,
    *,
    connect_args: Mapping[str, Any] | None = None,
    postings_after: int = 0,
) -> ProjectionSummary:
    """What the journal, balances, postings, trades and orders of ``market_id`` add up to.
    ``posting_sums`` covers the postings with ids above ``postings_after`` only (a recovery
    from a snapshot checks what came after it, not the whole history)."""
    j, tr, o = t.market_journal.c, t.market_trades.c, t.market_orders.c
    async with _snapshot(url, connect_args) as conn:
        last_seq = await conn.scalar(
            select(func.coalesce(func.max(j.seq), 0)).where(j.market_id == market_id)
        )
        trades = (await conn.execute(_count_and_max(tr.trade_id, tr.market_id == market_id))).one()
        orders = (await conn.execute(_count_and_max(o.order_id, o.market_id == market_id))).one()
        balances = _amounts(await conn.execute(_balances_query(market_id)))
        sums = await conn.execute(_posting_sums_query(market_id, postings_after))
        posting_sums = _amounts(sums)
    return ProjectionSummary(
        last_seq=int(last_seq or 0),
        balances=balances,
        posting_sums=posting_sums,
        trade_count=int(trades[0]),
        max_trade_id=int(trades[1]),
        order_count=int(orders[0]),
        max_order_id=int(orders[1]),
    )


def _count_and_max(column: Any, where: Any) -> Select[int, int]:
    return select(func.count(), func.coalesce(func.max(column), 0)).where(where)


def _balances_query(market_id: str) -> Select[str, str, str, int]:
    b = t.market_balances.c
    return select(b.account_id, b.asset, b.state, b.amount).where(
        b.market_id == market_id, b.amount != 0
    )


def _posting_sums_query(market_id: str, after: int = 0) -> Select[Any]:
    """Per (account, asset, state): what the postings with ids above ``after`` brought in minus
    what they took out (a range of the primary key)."""
    p = t.market_postings.c
    mine = (p.market_id == market_id) & (p.posting_id > after)
    legs = union_all(
        select(
            p.to_account.label("account_id"), p.asset, p.to_state.label("state"), p.amount
        ).where(mine),
        select(p.from_account, p.asset, p.from_state, (-p.amount).label("amount")).where(mine),
    ).subquery()
    total = func.sum(legs.c.amount)
    return (
        select(legs.c.account_id, legs.c.asset, legs.c.state, total)
        .group_by(legs.c.account_id, legs.c.asset, legs.c.state)
        .having(total != 0)
    )


def _amounts(rows: Iterable[Any]) -> dict[BalanceKey, int]:
    """{(account, asset, state): amount}; PostgreSQL sums bigints as numeric, hence ``int``."""
    return {(account, asset, state): int(amount) for account, asset, state, amount in rows}


async def market_ids(
    url: str | AsyncEngine, *, connect_args: Mapping[str, Any] | None = None
) -> list[str]:
    """Every market with a journal, sorted."""
    j = t.market_journal.c
    async with _engine(url, connect_args) as engine, engine.connect() as conn:
        rows = await conn.execute(select(j.market_id).distinct().order_by(j.market_id))
        return [market_id for (market_id,) in rows]


async def has_journal(engine: AsyncEngine, market_id: str) -> bool:
    """Whether the database holds a journal of ``market_id``."""
    j = t.market_journal.c
    async with engine.connect() as conn:
        query = select(j.seq).where(j.market_id == market_id).limit(1)
        return (await conn.execute(query)).first() is not None


async def acknowledged_check(
    url: str | AsyncEngine,
    market_id: str,
    order_ids: Collection[int],
    trade_ids: Collection[int],
    *,
    connect_args: Mapping[str, Any] | None = None,
) -> tuple[set[int], set[int]]:
    """The ``order_ids`` and the ``trade_ids`` not stored for ``market_id``: after a crash,
    every order and trade a caller was told about must be there, so both should be empty."""
    o, tr = t.market_orders.c, t.market_trades.c
    async with _snapshot(url, connect_args) as conn:
        orders = await _stored(conn, o.order_id, o.market_id == market_id, order_ids)
        trades = await _stored(conn, tr.trade_id, tr.market_id == market_id, trade_ids)
    return set(order_ids) - orders, set(trade_ids) - trades


async def _stored(conn: AsyncConnection, column: Any, where: Any, ids: Collection[int]) -> set[int]:
    """Those of ``ids`` in ``column`` among the rows ``where`` selects, asked ``ID_CHUNK`` ids
    at a time."""
    wanted = sorted(set(ids))
    found: set[int] = set()
    for start in range(0, len(wanted), ID_CHUNK):
        part = wanted[start : start + ID_CHUNK]
        found.update(await conn.scalars(select(column).where(where, column.in_(part))))
    return found


__all__ = [
    "INTEGRITY_ERRORS",
    "MAX_ATTEMPTS",
    "TRANSIENT_ERRORS",
    "BalanceKey",
    "Batch",
    "JournalRow",
    "JournalWriter",
    "PostgresJournalWriter",
    "ProjectionSummary",
    "SQLiteJournalWriter",
    "SnapshotRow",
    "acknowledged_check",
    "is_transient",
    "iter_journal",
    "latest_snapshot",
    "market_ids",
    "open_writer",
    "prepare_database",
    "projection_summary",
    "read_journal",
]
