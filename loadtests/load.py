"""System load test: carbonx as a user meets it, through the network API, journaled on PostgreSQL.

    python -m loadtests.load --json          # make load: the whole run, a few minutes at most
    python -m loadtests.load --json --smoke  # seconds: the same phases, tiny (tests/loadtests)

One run, one fresh database (``loadtests.load_setup``), one ``carbonx serve`` process on
loopback, one client process (this one, on asyncio and ``loadtests.wire``):

1. set-up through the API: ``createMarket`` with an exchange-wide operator key, and
   ``createParticipant`` with cash and allowances for each trader;
2. the REST baseline (``getOrder`` of an own order, and ``/healthz``), then the REST order flow
   with the same client, connections and duration (``loadtests.load_rest``): ``rest_ratio`` =
   ``rest_orders_per_s`` / ``bare_requests_per_s``;
3. WebSocket order entry, pipelined single ``place``/``cancel`` ops, then the same in batches
   (``loadtests.load_ws``);
4. market data: subscribers on ``trades`` (some on the book too) while a generator makes a
   steady trade rate; delivery latency from the commit to receipt (``loadtests.load_md``);
5. the server is stopped (it drains), and every order id and trade id any reply acknowledged
   is looked up in PostgreSQL (``journal_store.acknowledged_check``): ``orders_missing_after_run``
   and ``trades_missing_after_run`` must be 0, as must ``server_errors`` (5xx answers, replies
   with a 5xx code, and ERROR lines in the server's log).

The JSON goes to ``loadtests/results/<UTC timestamp>.json`` and to stdout. CPU seconds of the
server, of this client and of the PostgreSQL backends serving the run's database are recorded
per phase: on a 2-core machine the three share the cores, and the figures mean little without.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from exchange.db.journal_store import acknowledged_check
from loadtests import load_md, load_rest, load_ws
from loadtests.load_setup import (
    LOAD_RATE_LIMIT_BURST,
    LOAD_RATE_LIMIT_PER_S,
    Server,
    dsn,
    fresh_database,
    issue_exchange_operator_key,
    proc_cpu_seconds,
    raise_open_files_limit,
    setup_market,
    start_server,
)
from loadtests.load_stats import Acked, PhaseStats

PHASES = ("rest", "ws", "md")
RESULTS = Path(__file__).resolve().parent / "results"
T = TypeVar("T")


@dataclass(frozen=True)
class Plan:
    """Sizes and durations of one run."""

    participants: int = 200
    rest_connections: int = 32
    bare_s: float = 10.0
    healthz_s: float = 5.0
    rest_s: float = 20.0
    ws_connections: int = 8
    ws_window: int = 256
    ws_s: float = 10.0
    ws_batch: int = 20
    subscribers: int = 1_000
    trades_per_s: int = 500
    md_s: float = 15.0
    md_batch: bool = True
    seed: int = 1
    settle_max_s: float = 30.0  # the longest wait for a quiet machine before a phase
    phases: tuple[str, ...] = PHASES


SMOKE = Plan(
    participants=12,
    rest_connections=4,
    bare_s=0.5,
    healthz_s=0.3,
    rest_s=1.0,
    ws_connections=2,
    ws_window=16,
    ws_s=0.5,
    ws_batch=5,
    subscribers=20,
    trades_per_s=100,
    md_s=1.0,
    settle_max_s=1.0,  # a smoke run checks the fields and that nothing is lost, not figures
)


def _backend_cpu_seconds(pids: list[int]) -> float:
    """CPU seconds of these PostgreSQL backends (one that has exited counts 0)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += proc_cpu_seconds(pid)
    return total


class Meter:
    """CPU seconds of the server, this client and the run database's PostgreSQL backends."""

    def __init__(self, server: Server, url: str, settle_max_s: float) -> None:
        self.server = server
        self.database = make_url(url).database
        self.admin_dsn = dsn(url)
        self.settle_max_s = settle_max_s

    async def _backend_pids(self) -> list[int]:
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                self.database,
            )
        finally:
            await conn.close()
        return [row["pid"] for row in rows]

    def _sample(self, pids: list[int]) -> tuple[float, float, float, float]:
        """(wall, server CPU, client CPU, backends' CPU) seconds now."""
        return (
            time.perf_counter(),
            self.server.cpu_seconds(),
            time.process_time(),
            _backend_cpu_seconds(pids),
        )

    async def measure(self, phase: Callable[[], Awaitable[T]]) -> tuple[T, dict[str, float]]:
        """Run ``phase``; its result and CPU seconds (the backends: those serving the run's
        database when it starts)."""
        settled_s = await settle(self.settle_max_s)
        pids = await self._backend_pids()
        wall0, server0, client0, database0 = self._sample(pids)
        result = await phase()
        wall1, server1, client1, database1 = self._sample(pids)
        wall = wall1 - wall0
        return result, {
            "wall_s": round(wall, 2),
            "server_cpu_s": round(server1 - server0, 2),
            "client_cpu_s": round(client1 - client0, 2),
            "postgres_cpu_s": round(database1 - database0, 2),
            "settle_s": round(settled_s, 2),
        }


SETTLE_IDLE = 0.8  # the machine's share of idle CPU time that counts as quiet
SETTLE_WINDOW_S = 0.5


def _cpu_times() -> tuple[int, int]:
    """(idle, total) jiffies of all CPUs since boot (Linux /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return fields[3] + fields[4], sum(fields)  # idle + iowait


async def settle(max_s: float) -> float:
    """Wait, at most ``max_s``, until the machine is quiet: the previous phase leaves
    work behind (PostgreSQL's autovacuum and checkpoint after hundreds of thousands of rows,
    the server's own queues), and a phase measured over it would measure both. Returns the
    seconds waited (reported beside each phase)."""
    started = time.perf_counter()
    while time.perf_counter() - started < max_s:
        idle0, total0 = _cpu_times()
        await asyncio.sleep(SETTLE_WINDOW_S)
        idle1, total1 = _cpu_times()
        if total1 > total0 and (idle1 - idle0) / (total1 - total0) >= SETTLE_IDLE:
            break
    return time.perf_counter() - started


def _server_log_errors(log: Path) -> list[str]:
    """The server's ERROR and CRITICAL lines: a 5xx, a failed commit, a listener's exception,
    a WebSocket session closed with 1011 (internal error)."""
    return [
        line
        for line in log.read_text(errors="replace").splitlines()
        if '"level": "ERROR"' in line or '"level": "CRITICAL"' in line
    ]


def _progress(name: str, stats: PhaseStats) -> None:
    print(f"{name}:", json.dumps(stats.summary()), file=sys.stderr, flush=True)


async def run(plan: Plan, workdir: Path) -> dict[str, Any]:
    """One whole run; the results (``trade_ids`` of the market-data phase excluded)."""
    began = time.perf_counter()
    open_files = raise_open_files_limit()
    acked = Acked()
    report: dict[str, Any] = {}
    cpu: dict[str, dict[str, float]] = {}
    async with fresh_database() as url:
        operator_key = issue_exchange_operator_key(url)
        server = await start_server(url, workdir / "server.log")
        try:
            meter = Meter(server, url, plan.settle_max_s)
            market, cpu["setup"] = await meter.measure(
                lambda: setup_market(server.port, operator_key, plan.participants)
            )
            resting = await load_rest.resting_orders(market, server.port, acked)
            port, conns = server.port, plan.rest_connections
            bare = healthz = rest = ws = ws_batched = PhaseStats()
            if "rest" in plan.phases:
                bare, cpu["bare"] = await meter.measure(
                    lambda: load_rest.baseline(market, port, conns, plan.bare_s, resting)
                )
                _progress("bare", bare)
                healthz, cpu["healthz"] = await meter.measure(
                    lambda: load_rest.baseline(
                        market, port, conns, plan.healthz_s, resting, healthz=True
                    )
                )
                _progress("healthz", healthz)
                rest, cpu["rest"] = await meter.measure(
                    lambda: load_rest.order_flow(market, port, conns, plan.rest_s, plan.seed, acked)
                )
                _progress("rest", rest)
            if "ws" in plan.phases:
                ws, cpu["ws"] = await meter.measure(
                    lambda: load_ws.order_entry(
                        market,
                        port,
                        plan.ws_connections,
                        plan.ws_window,
                        plan.ws_s,
                        plan.seed,
                        acked,
                    )
                )
                _progress("ws", ws)
                ws_batched, cpu["ws_batched"] = await meter.measure(
                    lambda: load_ws.order_entry(
                        market,
                        port,
                        plan.ws_connections,
                        max(1, plan.ws_window // plan.ws_batch),
                        plan.ws_s,
                        plan.seed + 1,
                        acked,
                        batch=plan.ws_batch,
                    )
                )
                _progress("ws_batched", ws_batched)
            cancelled = await load_md.cancel_everything(market, port)
            md: dict[str, Any] = {"trade_ids": set(), "md_subscribers": 0, "md_p99_ms": None}
            md.update(dict.fromkeys(("md_trades_per_s", "md_subscribers_complete")))
            if "md" in plan.phases:
                md, cpu["md"] = await meter.measure(
                    lambda: load_md.market_data(
                        market,
                        port,
                        plan.subscribers,
                        plan.trades_per_s,
                        plan.md_s,
                        batch=plan.md_batch,
                    )
                )
                print("md:", {k: v for k, v in md.items() if k != "trade_ids"}, file=sys.stderr)
            acked.trade_ids |= md.pop("trade_ids")
        finally:
            exit_code = server.stop()
        missing_orders, missing_trades = await acknowledged_check(
            url, market.market_id, acked.order_ids, acked.trade_ids
        )
        log_errors = _server_log_errors(server.log)
    phases: dict[str, PhaseStats] = {
        "bare": bare,
        "healthz": healthz,
        "rest": rest,
        "ws": ws,
        "ws_batched": ws_batched,
    }
    server_errors = sum(p.server_errors for p in phases.values())
    server_errors += ws.statuses["MARKET_STOPPED"] + ws_batched.statuses["MARKET_STOPPED"]
    rest_orders_per_s = rest.per_s(rest.ops["orders_acked"])
    bare_per_s = bare.per_s(sum(bare.ops.values()))
    report.update(
        {
            "rest_orders_per_s": round(rest_orders_per_s, 1),
            "rest_p99_ms": rest.summary()["latency_ms_p99"],
            "bare_requests_per_s": round(bare_per_s, 1),
            "rest_ratio": round(rest_orders_per_s / bare_per_s, 3) if bare_per_s else None,
            "healthz_requests_per_s": round(healthz.per_s(sum(healthz.ops.values())), 1),
            "ws_orders_per_s": round(ws.per_s(ws.ops["orders_acked"]), 1),
            "ws_batched_orders_per_s": round(ws_batched.per_s(ws_batched.ops["orders_acked"]), 1),
            "ws_batch_size": plan.ws_batch,
            **{k: md[k] for k in ("md_subscribers", "md_p99_ms")},
            "md_trades_per_s": md["md_trades_per_s"],
            "md_subscribers_complete": md["md_subscribers_complete"],
            "acked_orders": len(acked.order_ids),
            "acked_trades": len(acked.trade_ids),
            "orders_missing_after_run": len(missing_orders),
            "trades_missing_after_run": len(missing_trades),
            "server_errors": server_errors + len(log_errors),
            "server_5xx": server_errors,
            "server_log_errors": len(log_errors),
            "server_log_error_lines": log_errors[:5],
            "server_exit_code": exit_code,
            "phases": {name: p.summary() for name, p in phases.items()},
            "market_data": md,
            "cancelled_before_md": cancelled,
            "cpu": cpu,
            "context": {
                "utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "cpu_count": os.cpu_count(),
                "load_average": os.getloadavg(),
                "python": platform.python_version(),
                "participants": plan.participants,
                "plan": plan.__dict__,
                "rate_limit": {"per_s": LOAD_RATE_LIMIT_PER_S, "burst": LOAD_RATE_LIMIT_BURST},
                "open_files_limit": open_files,
                "seconds_total": round(time.perf_counter() - began, 1),
            },
        }
    )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: a few seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--subscribers", type=int, default=None)
    parser.add_argument("--rest-connections", type=int, default=None)
    parser.add_argument("--ws-batch", type=int, default=None, help="orders a batched op")
    parser.add_argument(
        "--md-single", action="store_true", help="market data as one message per trade"
    )
    parser.add_argument("--only", choices=PHASES, action="append", help="run only these")
    parser.add_argument("--keep-log", action="store_true", help="keep the server's log")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON file goes")
    args = parser.parse_args(argv)
    plan = SMOKE if args.smoke else Plan()
    changes: dict[str, Any] = {"seed": args.seed}
    if args.subscribers is not None:
        changes["subscribers"] = args.subscribers
    if args.rest_connections is not None:
        changes["rest_connections"] = args.rest_connections
    if args.ws_batch is not None:
        changes["ws_batch"] = args.ws_batch
    if args.only:
        changes["phases"] = tuple(args.only)
    if args.md_single:
        changes["md_batch"] = False
    plan = Plan(**{**plan.__dict__, **changes})
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.out / f"{stamp}{'-smoke' if args.smoke else ''}.json"
    with tempfile.TemporaryDirectory(prefix="carbonx-load-") as workdir:
        try:
            report = asyncio.run(run(plan, Path(workdir)))
        finally:
            if args.keep_log:
                shutil.copy(Path(workdir) / "server.log", path.with_suffix(".server.log"))
    text = json.dumps(report, indent=2, sort_keys=False)
    path.write_text(text + "\n")
    if args.json:
        print(text)
    else:
        for key, value in report.items():
            if not isinstance(value, dict):
                print(f"{key}: {value}")
        print(f"written: {path}")
    ok = report["orders_missing_after_run"] == 0 and report["trades_missing_after_run"] == 0
    return 0 if ok and report["server_errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
