"""The system under test for ``loadtests.load``: a fresh PostgreSQL database, a ``carbonx serve``
process on loopback, and a market with funded participants made through the API itself.

Each run gets its own database (``carbonx_load_<pid>`` on the PostgreSQL server of
``CARBONX_TEST_POSTGRES_URL``), dropped afterwards, so nothing collides with the tests' ``test``
database. The server runs with each key's rate limit raised (``CARBONX_RATE_LIMIT_PER_S`` /
``CARBONX_RATE_LIMIT_BURST``): the load generator's keys make thousands of requests a second,
which the production default (200 a second) would answer 429.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from loadtests.wire import HttpConnection

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get(
    "CARBONX_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
HOST = "127.0.0.1"  # loopback only
CARBONX = (sys.executable, "-m", "exchange.cli")
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 20.0
SETUP_CONNECTIONS = 8
# Per-key token bucket for the run: far above what one key of the generator asks.
LOAD_RATE_LIMIT_PER_S = 1_000_000
LOAD_RATE_LIMIT_BURST = 1_000_000
OPEN_DAY = "2026-03-02"  # a Monday, no holiday in cn_national's calendar
CASH_FEN = 10_000_000_000  # CNY 100 million a participant: holds never run out in a run
ALLOWANCES_T = 100_000  # each participant's CEA of the listed vintage, to sell


def raise_open_files_limit() -> int:
    """Lift the soft limit on open files to the hard one (the subscribers need a descriptor
    each, here and in the server, which inherits the limit); return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def dsn(url: str) -> str:
    """The DSN asyncpg takes for a SQLAlchemy PostgreSQL URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU time process ``pid`` has used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.asynccontextmanager
async def fresh_database(name: str | None = None) -> AsyncIterator[str]:
    """Create an empty database on the test PostgreSQL server; yield its SQLAlchemy URL; drop
    it (closing whatever still holds it) on the way out."""
    name = name or f"carbonx_load_{os.getpid()}"
    admin = await asyncpg.connect(dsn(POSTGRES_URL))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(dsn(POSTGRES_URL))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def issue_exchange_operator_key(url: str) -> str:
    """``carbonx keys issue --market '*' --role operator``: the key that creates markets."""
    done = subprocess.run(
        [*CARBONX, "keys", "issue", "--database-url", url, "--market", "*", "--role", "operator"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


@dataclass
class Server:
    """A ``carbonx serve`` process on loopback."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far (from /proc)."""
        return proc_cpu_seconds(self.pid)

    def stop(self) -> int:
        """SIGTERM (uvicorn drains the markets), SIGKILL if it hangs; the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


async def start_server(url: str, log: Path) -> Server:
    """Start ``carbonx serve`` on a free loopback port against ``url``; wait for /healthz."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "CARBONX_RATE_LIMIT_PER_S": str(LOAD_RATE_LIMIT_PER_S),
        "CARBONX_RATE_LIMIT_BURST": str(LOAD_RATE_LIMIT_BURST),
        # One address plays every trader and subscriber (1,000 sockets): no cap per client.
        "CARBONX_CONNECTIONS_PER_CLIENT_MAX": "0",
    }
    command = [*CARBONX, "serve", "--database-url", url, "--host", HOST, "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--log-format", "json"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    server = Server(process, port, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"carbonx serve exited:\n{log.read_text()[-4000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"carbonx serve did not start:\n{log.read_text()[-4000:]}")
            with contextlib.suppress(OSError):
                conn = await HttpConnection.open(HOST, port)
                try:
                    status, _ = await conn.request("GET", "/healthz")
                finally:
                    await conn.close()
                if status == 200:
                    return server
            await asyncio.sleep(0.05)
    except BaseException:
        server.stop()
        raise


class SetupError(RuntimeError):
    pass


async def call(
    conn: HttpConnection, method: str, path: str, key: str, body: Any = None
) -> dict[str, Any]:
    """One set-up request that must succeed (2xx); its JSON body."""
    status, payload = await conn.request(method, path, key, body)
    if not 200 <= status < 300:
        raise SetupError(f"{method} {path}: {status} {payload[:500]!r}")
    value: dict[str, Any] = json.loads(payload)
    return value


@dataclass
class LoadMarket:
    """The market under load and what the generator needs to know of it."""

    market_id: str
    symbol: str
    operator_key: str  # exchange-wide (market '*'): REST only
    keys: dict[str, str] = field(default_factory=dict)  # account id -> participant key
    band_lower_fen: int = 0
    band_upper_fen: int = 0
    reference_price_fen: int = 0
    tick_fen: int = 1
    lot_t: int = 1
    market_operator_key: str = ""  # the market's own operator key: a socket takes only these


async def setup_market(
    port: int, operator_key: str, participants: int, *, reference_price_fen: int = 6000
) -> LoadMarket:
    """``createMarket`` (cn_national, one CEA instrument, a trading day open at once) and
    ``createParticipant`` for each trader with cash and allowances, all through the API; then
    read the instrument's band, tick and lot from ``getBook`` (the rule set's, not ours)."""
    vintage = int(OPEN_DAY[:4]) - 1
    symbol = f"CEA{vintage}"
    market = LoadMarket(f"load{os.getpid()}", symbol, operator_key)
    conns = [await HttpConnection.open(HOST, port) for _ in range(SETUP_CONNECTIONS)]
    try:
        await call(
            conns[0],
            "POST",
            "/v1/markets",
            operator_key,
            {
                "market_id": market.market_id,
                "rule_set": "cn_national",
                "instruments": [{"symbol": symbol, "reference_price_fen": reference_price_fen}],
                "open_day": OPEN_DAY,
            },
        )
        accounts = [f"L{i:04d}" for i in range(participants)]
        path = f"/v1/markets/{market.market_id}/participants"

        async def open_accounts(conn: HttpConnection, mine: list[str]) -> None:
            for account in mine:
                body = {
                    "account_id": account,
                    "name": f"load trader {account}",
                    "cash_fen": CASH_FEN,
                    "allowances": [{"vintage": vintage, "qty_t": ALLOWANCES_T}],
                }
                market.keys[account] = (await call(conn, "POST", path, operator_key, body))[
                    "api_key"
                ]

        await asyncio.gather(
            *(open_accounts(c, accounts[i :: len(conns)]) for i, c in enumerate(conns))
        )
        issued = await call(
            conns[0],
            "POST",
            f"/v1/markets/{market.market_id}/keys",
            operator_key,
            {"role": "operator"},
        )
        market.market_operator_key = issued["api_key"]
        book = await call(
            conns[0], "GET", f"/v1/markets/{market.market_id}/book/{symbol}", operator_key
        )
    finally:
        for conn in conns:
            await conn.close()
    market.band_lower_fen = book["band_lower_fen"]
    market.band_upper_fen = book["band_upper_fen"]
    market.reference_price_fen = book["reference_price_fen"]
    market.tick_fen = book["tick_fen"]
    market.lot_t = book["lot_t"]
    return market
