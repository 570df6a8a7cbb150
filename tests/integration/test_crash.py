"""Crash tests (docs/architecture.md, testing): a real server process under order load is killed
with SIGKILL at random moments, on SQLite and on PostgreSQL. After each restart every
acknowledged order and trade is stored, cash and units are conserved, and the state the server
recovered is the state a replay of the journal gives (durable before acknowledged; deterministic
replay).

Randomness is seeded: a failure names its seed and cycle, and ``CARBONX_CRASH_SEED=<seed>``
replays the same orders and kill times (the interleaving with the server still varies).
"""

from __future__ import annotations

import asyncio
import os
import random
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from exchange import codec
from exchange.db.journal_store import acknowledged_check, projection_summary, read_journal
from exchange.runtime import rebuild
from settlement.market import Market
from tests.integration.conftest import Database
from tests.integration.crash_load import (
    CycleLoad,
    LoadGenerator,
    Message,
    PipeServer,
    ServerExitedError,
    Tally,
    next_day_requests,
    run_load,
    setup_requests,
    trading_days,
)

CYCLES = 10  # kills per backend in `make test`
SOAK_CYCLES = 100  # in `make soak`
KILL_AFTER_S = (0.05, 0.5)  # of load before the SIGKILL
NEW_DAY_EVERY = 2  # cycles: a day-end snapshot, so recovery replays from it
IDEMPOTENCY_PROBES = 5  # acked client order ids sent again after each restart
SEED = int(os.environ.get("CARBONX_CRASH_SEED", "20261123"))
MARKET = "crash"
NEGATIVE_ALLOWED = {"SYS:CASH", "SYS:ISSUANCE"}  # the outside world's cash, the issuer's units


async def verify_recovery(database: Database, server: PipeServer, tally: Tally, where: str) -> None:
    """What must hold after a restart: nothing acknowledged is missing, cash and units are
    conserved, and the recovered state is the journal's replay."""
    url, args = database.url, database.connect_args
    ready = server.ready
    recovered_seq, acked_seq = ready["last_seq"], tally.max_seq
    assert recovered_seq >= acked_seq, f"{where}: recovered up to {ready}, acked up to {acked_seq}"
    orders, trades = await acknowledged_check(
        url, MARKET, tally.order_ids, tally.trade_ids, connect_args=args
    )
    assert not orders, f"{where}: {len(orders)} acked orders missing: {sorted(orders)[:10]}"
    assert not trades, f"{where}: {len(trades)} acked trades missing: {sorted(trades)[:10]}"
    summary = await projection_summary(url, MARKET, connect_args=args)
    check_conservation(summary.balances, where)
    market, last_seq, _ = await rebuild(url, MARKET, connect_args=args)
    assert (last_seq, market.state_hash()) == (ready["last_seq"], ready["state_hash"]), (
        f"{where}: the server recovered another state than a replay of the journal"
    )
    assert summary.balances == market.balances(), f"{where}: stored balances differ from replay"
    assert summary.trade_count == market.last_trade_id, f"{where}: trades differ from replay"


def check_conservation(balances: dict[tuple[str, str, str], int], where: str) -> None:
    """Double entry: per asset the balances over all accounts and states sum to zero, and only
    the outside world's cash account and the issuance account are negative."""
    totals: dict[str, int] = defaultdict(int)
    for (account, asset, state), amount in balances.items():
        totals[asset] += amount
        assert amount > 0 or account in NEGATIVE_ALLOWED, (
            f"{where}: {account} {asset} {state} is {amount}"
        )
    assert totals, f"{where}: no balances stored at all"
    assert all(total == 0 for total in totals.values()), f"{where}: not conserved: {dict(totals)}"


async def replay_from_start(database: Database) -> tuple[int, str]:
    """(last seq, state hash) of the whole journal replayed from its first entry, snapshots
    ignored: ``rebuild`` starts from the last day-end snapshot, so this checks those too."""
    rows = await read_journal(database.url, MARKET, connect_args=database.connect_args)
    market = Market(codec.decode_spec(rows[0].body))
    for row in rows[1:]:
        market.apply(codec.decode(row.kind, row.ts_ns, row.account_id, row.body))
    return rows[-1].seq, market.state_hash()


async def call_ok(server: PipeServer, tally: Tally, requests: list[Message], where: str) -> None:
    """Send ``requests``, wait for their acks, and require that none was refused."""
    replies = await server.call(requests)
    for request, reply in zip(requests, replies, strict=True):
        tally.record(request, reply)
    refused = [
        (q, r) for q, r in zip(requests, replies, strict=True) if r.get("code") or "error" in r
    ]
    assert not refused, f"{where}: refused: {refused[:3]}"


async def probe_idempotency(
    server: PipeServer, tally: Tally, rng: random.Random, where: str
) -> None:
    """Client order ids acknowledged before the crash still answer with their first order."""
    known = sorted(tally.client_orders)
    probes = rng.sample(known, min(IDEMPOTENCY_PROBES, len(known)))
    requests = [dict(tally.client_orders[key][0]) for key in probes]
    replies = await server.call(requests)
    for request, reply in zip(requests, replies, strict=True):
        tally.record(request, reply)
    for key, reply in zip(probes, replies, strict=True):
        expected = tally.client_orders[key][1]
        assert (reply.get("code"), reply.get("order_id")) == (None, expected), (
            f"{where}: client order id {key} (order {expected}) answered {reply}"
        )


@asynccontextmanager
async def serving(
    database: Database, logs: Path, cycle: int, where: str
) -> AsyncIterator[PipeServer]:
    """A server started (created at cycle 0, else recovered) and ready; killed and reaped on
    the way out whatever happened, its stderr kept in ``logs``."""
    stderr_path = logs / f"server-{cycle}.stderr"
    try:
        server = await PipeServer.start(database, MARKET, stderr_path, create=cycle == 0)
    except ServerExitedError as error:  # e.g. recovery refused to open the market
        pytest.fail(f"{where}: {error}")
    try:
        yield server
    finally:
        await server.close()


async def crash_cycles(database: Database, logs: Path, cycles: int) -> list[CycleLoad]:
    """Start, check, load, SIGKILL, ``cycles`` times; then a last restart, checked too."""
    rng = random.Random(SEED)
    tally = Tally()
    days = trading_days()
    next(days)  # the first day is opened at setup
    loads: list[CycleLoad] = []
    for cycle in range(cycles):
        where = f"{database.backend} seed={SEED} cycle={cycle}"
        async with serving(database, logs, cycle, where) as server:
            if cycle == 0:
                await call_ok(server, tally, setup_requests(), where)
            else:
                await verify_recovery(database, server, tally, where)
                await probe_idempotency(server, tally, rng, where)
            if cycle % NEW_DAY_EVERY == NEW_DAY_EVERY - 1:
                tally.new_day()
                await call_ok(server, tally, next_day_requests(next(days)), where)
            generator = LoadGenerator(rng, tally, f"c{cycle}")
            loads.append(await run_load(server, tally, generator, rng.uniform(*KILL_AFTER_S)))
        assert not tally.errors, f"{where}: error replies: {tally.errors[:3]}"
    where = f"{database.backend} seed={SEED} last restart"
    async with serving(database, logs, cycles, where) as server:
        await verify_recovery(database, server, tally, where)
        recovered = (server.ready["last_seq"], server.ready["state_hash"])
        assert await replay_from_start(database) == recovered, (
            f"{where}: a replay from the journal's first entry differs from the recovery"
        )
        await probe_idempotency(server, tally, rng, where)
        assert await server.finish() == 0, f"{where}: unclean exit:\n{server.log()}"
    return loads


def run_crash_test(database: Database, logs: Path, cycles: int) -> None:
    """The crash cycles, a line per cycle on stdout (``pytest -s``), and proof that the load
    was real: orders acknowledged, trades made, and kills that hit commands in flight."""
    loads = asyncio.run(crash_cycles(database, logs, cycles))
    for n, load in enumerate(loads):
        print(f"{database.backend} cycle {n}: {load}")
    assert len(loads) == cycles
    assert sum(load.acked_orders for load in loads) >= cycles, loads
    assert sum(load.trades for load in loads) > 0, loads
    assert any(load.in_flight_at_kill > 0 for load in loads), loads


def test_acknowledged_work_survives_sigkill_under_load(database: Database, tmp_path: Path) -> None:
    run_crash_test(database, tmp_path, CYCLES)


@pytest.mark.soak
def test_acknowledged_work_survives_many_sigkills_under_load(
    database: Database, tmp_path: Path
) -> None:
    run_crash_test(database, tmp_path, SOAK_CYCLES)
