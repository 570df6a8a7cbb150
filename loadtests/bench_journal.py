"""Durable throughput of the market runtime beside raw bulk inserts of the same rows.

    python -m loadtests.bench_journal --json [--commands 100000] [--backends postgresql,sqlite]

For each backend: a market of 1,000 funded accounts takes the engine benchmark's standard mix
(loadtests/engine_stream.py: limit orders near the touch, cancels, amends, IOC/market, FOK),
translated to market commands, through ``MarketRuntime``: every command is held, matched,
settled, journaled and acknowledged only after its batch is committed.
``durable_commands_per_s`` is commands over the wall time from the first submission to the last
acknowledgement.

The baseline, in the same run: every row the durable run wrote (journal, orders, order updates,
trades, postings, statements, snapshots, and the final balance of every balance row it upserted)
is inserted again into empty tables of the same schema with the driver's fastest bulk path
(PostgreSQL: asyncpg binary COPY, one transaction; SQLite: executemany, one transaction).
``raw_insert_rows_per_s`` is rows over that time; ``durable_rows_per_s`` is the same rows over
the durable run's time, and ``ratio`` = durable_rows_per_s / raw_insert_rows_per_s, i.e. how
close carbonx comes to the database's own ingest of exactly the data it made durable.
Each run (durable run and its baseline) is a fresh process; the report is the run with the
median ratio of ``--repeats``, with every run's figures beside it.
See docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from exchange.db import tables as t
from exchange.db.journal_store import Batch, JournalWriter, prepare_database
from exchange.runtime import MarketRuntime
from loadtests.engine_stream import ACCOUNTS, REFERENCE_PRICE_FEN, SYMBOL, standard_mix
from matching import commands as engine
from matching.types import AccountId as EngineAccountId
from matching.types import TradingState
from registry_sim.model import Account, AccountId, AccountKind
from registry_sim.ops import IssueAllowances, OpenAccount
from settlement import (
    AmendOrder,
    CancelOrder,
    Deposit,
    Market,
    MarketCommand,
    MarketSpec,
    OpenDay,
    PlaceOrder,
    RegistryCommand,
    SetSession,
)

POSTGRES_URL = os.environ.get(
    "CARBONX_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
VINTAGE = int(SYMBOL.removeprefix("CEA"))
CASH_FEN = 10**12  # enough for every buy of the run, and 1,000 of them stay under 2**53
UNITS_T = 10**7  # enough for every sell of the run (units bought today are not sellable)
WINDOW = 65_536  # commands in flight, as many clients would keep
GROUP = 256  # commands per submit_many
# No position limit: the stream's accounts would otherwise hit it and be refused.
OVERRIDES = {"limits": {"position_limit_t": 10**12, "report_threshold_t": 10**12}}


def market_commands(stream: Sequence[engine.Command]) -> list[MarketCommand]:
    """The engine stream as market commands. Every order of the stream is accepted (funds and
    units are ample), so the market numbers orders exactly as the stream did."""
    out: list[MarketCommand] = []
    for cmd in stream:
        if isinstance(cmd, engine.NewOrder):
            out.append(
                PlaceOrder(
                    cmd.ts_ns,
                    AccountId(cmd.account_id),
                    cmd.symbol,
                    cmd.side,
                    cmd.order_type,
                    cmd.qty_t,
                    cmd.price_fen,
                    cmd.stp,
                )
            )
        elif isinstance(cmd, engine.CancelOrder):
            out.append(CancelOrder(cmd.ts_ns, AccountId(cmd.account_id), cmd.order_id))
        elif isinstance(cmd, engine.AmendOrder):
            out.append(
                AmendOrder(
                    cmd.ts_ns,
                    AccountId(cmd.account_id),
                    cmd.order_id,
                    cmd.price_fen,
                    cmd.qty_t,
                )
            )
        else:
            raise TypeError(f"the standard mix has no {cmd!r}")
    return out


def opening_commands() -> list[MarketCommand]:
    cmds: list[MarketCommand] = []
    for i in range(ACCOUNTS):
        account = AccountId(str(EngineAccountId(f"ACC{i:04d}")))
        cmds.append(
            RegistryCommand(
                0,
                OpenAccount(f"open:{account}", Account(account, AccountKind.PARTICIPANT, account)),
            )
        )
        cmds.append(Deposit(0, account, CASH_FEN, f"bench:{account}"))
        cmds.append(
            RegistryCommand(0, IssueAllowances(f"issue:{account}", account, VINTAGE, UNITS_T))
        )
    cmds.append(OpenDay(0, dt.date(2026, 11, 23)))
    cmds.append(SetSession(0, TradingState.CONTINUOUS))
    return cmds


class RecordingWriter:
    """A journal writer that keeps every batch it committed (for the raw baseline)."""

    def __init__(self, inner: JournalWriter) -> None:
        self.inner = inner
        self.batches: list[Batch] = []
        self.recording = False

    async def commit(self, batch: Batch) -> None:
        await self.inner.commit(batch)
        if self.recording:
            self.batches.append(batch)

    async def reconnect(self) -> None:
        await self.inner.reconnect()

    async def holds(self, batch: Batch) -> bool:
        return await self.inner.holds(batch)

    async def close(self) -> None:
        await self.inner.close()


async def _submit_all(runtime: MarketRuntime, commands: Sequence[MarketCommand]) -> None:
    """Keep about ``WINDOW`` commands in flight, in groups of ``GROUP`` (``submit_many``, as a
    bulk client does): while earlier groups wait for their acknowledgements, later ones are
    already queued."""
    in_flight: deque[asyncio.Future[Any]] = deque()
    for start in range(0, len(commands), GROUP):
        in_flight.append(runtime.submit_many(commands[start : start + GROUP]))
        if len(in_flight) * GROUP >= WINDOW:
            await in_flight.popleft()
    for future in in_flight:
        await future


def _rows_by_table(batches: Sequence[Batch]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the batches wrote, per table; balances once each, at their final amount."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    balances: dict[tuple[str, str, str], int] = {}
    for b in batches:
        for name, rows in b.appended():
            tables.setdefault(name, []).extend(rows)
        balances.update(b.balances)
    market_id = batches[0].market_id if batches else ""
    if balances:
        tables[t.market_balances.name] = [(market_id, *k, v) for k, v in balances.items()]
    return tables


async def _durable_run(
    url: str, connect_args: dict[str, Any], setup: list[MarketCommand], stream: list[MarketCommand]
) -> tuple[float, dict[str, list[tuple[Any, ...]]], int]:
    await prepare_database(url, connect_args=connect_args)
    spec = MarketSpec("bench", "cn_national", ((SYMBOL, REFERENCE_PRICE_FEN),), OVERRIDES)
    runtime = await MarketRuntime.create(url, spec, connect_args=connect_args)
    recorder = RecordingWriter(runtime._writer)
    runtime._writer = recorder
    runtime.start()
    try:
        await _submit_all(runtime, setup)
        recorder.recording = True
        started = time.perf_counter()
        await _submit_all(runtime, stream)
        seconds = time.perf_counter() - started
        recorder.recording = False
        trades = runtime.market.last_trade_id
        state_hash = runtime.market.state_hash()
    finally:
        await runtime.stop()
    _check_replica(spec, setup, stream, state_hash)
    return seconds, _rows_by_table(recorder.batches), trades


def _check_replica(
    spec: MarketSpec, setup: list[MarketCommand], stream: list[MarketCommand], state_hash: str
) -> None:
    """Outside the timing: a pure market given the same commands must refuse none of the
    stream (it is made to be accepted whole) and end in the runtime's state."""
    replica = Market(spec)
    for cmd in setup:
        replica.apply(cmd)
    for cmd in stream:
        outcome = replica.apply(cmd)
        if outcome.code is not None:
            raise RuntimeError(f"the stream was refused: {cmd} -> {outcome}")
    if replica.state_hash() != state_hash:
        raise RuntimeError("the runtime and a replica of its commands disagree")


async def _raw_postgres(url: str, schema: str, rows: dict[str, list[tuple[Any, ...]]]) -> float:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        started = time.perf_counter()
        async with conn.transaction():
            for name, table_rows in rows.items():
                await conn.copy_records_to_table(name, records=table_rows)
        return time.perf_counter() - started
    finally:
        await conn.close()


def _raw_sqlite(path: str, rows: dict[str, list[tuple[Any, ...]]]) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for name, table_rows in rows.items():
            marks = ", ".join("?" * len(table_rows[0]))
            conn.executemany(f"INSERT INTO {name} VALUES ({marks})", table_rows)
        conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()


async def _postgres_schema(url: str, statement: str) -> None:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def bench_backend(
    backend: str, setup: list[MarketCommand], stream: list[MarketCommand]
) -> dict[str, Any]:
    if backend == "postgresql":
        durable_schema, raw_schema = (f"bench_{uuid.uuid4().hex[:10]}" for _ in range(2))
        for schema in (durable_schema, raw_schema):
            await _postgres_schema(POSTGRES_URL, f'CREATE SCHEMA "{schema}"')
        try:
            args = {"server_settings": {"search_path": durable_schema}}
            seconds, rows, trades = await _durable_run(POSTGRES_URL, args, setup, stream)
            raw_args = {"server_settings": {"search_path": raw_schema}}
            await prepare_database(POSTGRES_URL, connect_args=raw_args)
            raw_seconds = await _raw_postgres(POSTGRES_URL, raw_schema, rows)
        finally:
            for schema in (durable_schema, raw_schema):
                await _postgres_schema(POSTGRES_URL, f'DROP SCHEMA "{schema}" CASCADE')
    else:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'durable.db'}"
            seconds, rows, trades = await _durable_run(url, {}, setup, stream)
            raw_path = str(Path(tmp) / "raw.db")
            await prepare_database(f"sqlite+aiosqlite:///{raw_path}")
            raw_seconds = await asyncio.to_thread(_raw_sqlite, raw_path, rows)
    row_count = sum(len(r) for r in rows.values())
    durable_rows_per_s = row_count / seconds
    raw_rows_per_s = row_count / raw_seconds
    return {
        "backend": backend,
        "commands": len(stream),
        "trades": trades,
        "rows": row_count,
        "rows_per_command": round(row_count / len(stream), 2),
        "durable_commands_per_s": round(len(stream) / seconds),
        "durable_rows_per_s": round(durable_rows_per_s),
        "raw_insert_rows_per_s": round(raw_rows_per_s),
        "ratio": round(durable_rows_per_s / raw_rows_per_s, 3),
    }


async def run_one(backend: str, commands: int, seed: int) -> dict[str, Any]:
    engine_setup, engine_stream = standard_mix(commands, seed=seed, resting=10_000)
    setup = opening_commands() + market_commands(engine_setup)
    stream = market_commands(engine_stream)
    return await bench_backend(backend, setup, stream)


def _in_fresh_process(backend: str, commands: int, seed: int) -> dict[str, Any]:
    """One measurement in a process of its own, as a server would start: earlier runs'
    garbage and frozen objects (exchange.tuning) do not weigh on later ones."""
    args = ["--single", backend, "--commands", str(commands), "--seed", str(seed)]
    out = subprocess.run(
        [sys.executable, "-m", "loadtests.bench_journal", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def run(backends: Sequence[str], commands: int, repeats: int, seed: int) -> dict[str, Any]:
    results = []
    for backend in backends:
        runs = [_in_fresh_process(backend, commands, seed) for _ in range(repeats)]
        median = sorted(runs, key=lambda r: r["ratio"])[len(runs) // 2]
        median["runs"] = repeats
        median["durable_commands_per_s_median"] = statistics.median(
            r["durable_commands_per_s"] for r in runs
        )
        median["durable_commands_per_s_all"] = [r["durable_commands_per_s"] for r in runs]
        median["ratio_all"] = [r["ratio"] for r in runs]
        results.append(median)
    return {
        "benchmark": "journal",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "seed": seed,
        "results": results,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    parser.add_argument("--single", help=argparse.SUPPRESS)  # one run, in this process
    args = parser.parse_args(argv)
    if args.single:
        print(json.dumps(asyncio.run(run_one(args.single, args.commands, args.seed))))
        return
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    report = run(backends, args.commands, args.repeats, args.seed)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for r in report["results"]:
        print(
            f"{r['backend']:>10}: {r['durable_commands_per_s']:>8,} durable commands/s, "
            f"{r['durable_rows_per_s']:>8,} rows/s beside raw {r['raw_insert_rows_per_s']:>8,} "
            f"rows/s: ratio {r['ratio']} (runs: {r['ratio_all']})"
        )


if __name__ == "__main__":
    main()
