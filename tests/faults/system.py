"""The system under test: a database of its own, a real ``carbonx serve`` on loopback, and a
market with funded traders made through the API; plus the operator's hands on all three (kill
and restart the process, cut the database's connections, revoke and issue keys).

The server runs with its limits tightened so that a fault meets them within a step: a header
timeout of three seconds, 32 connections per client address, 400 requests a second per key (a
trader pauses between its ops and sends fewer than 250: only a flood meets the limit).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from exchange.cli import issue_key
from exchange.db.journal_store import prepare_database
from exchange.keys import Role, key_id_of
from loadtests.load_setup import POSTGRES_URL, LoadMarket, dsn, fresh_database, setup_market
from loadtests.wire import HttpConnection
from tests.api.server import DemoServer, start_serve

HOST = "127.0.0.1"
TRADERS = 6  # accounts that trade; one more account belongs to the flooding client
RATE_LIMIT_PER_S = 400
AUTH_FAILURES_PER_S, AUTH_FAILURES_BURST = 2, 20  # an address's failed key lookups (defaults)
HEADER_TIMEOUT_S = 3  # tight, but a loaded machine (two test workers) must not trip it in set-up
CONNECTIONS_PER_CLIENT_MAX = 32
SERVER_ENV = {
    "CARBONX_RATE_LIMIT_PER_S": str(RATE_LIMIT_PER_S),
    "CARBONX_RATE_LIMIT_BURST": str(RATE_LIMIT_PER_S),
    "CARBONX_AUTH_FAILURES_PER_S": str(AUTH_FAILURES_PER_S),
    "CARBONX_AUTH_FAILURES_BURST": str(AUTH_FAILURES_BURST),
    "CARBONX_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
    "CARBONX_CONNECTIONS_PER_CLIENT_MAX": str(CONNECTIONS_PER_CLIENT_MAX),
}
REQUEST_TIMEOUT_S = 30.0
SHUTDOWN_COMPLETE = "Application shutdown complete"


class ApiError(AssertionError):
    """A request the campaign's operator made was refused (or never answered)."""


@dataclass
class System:
    backend: str
    url: str  # the database's SQLAlchemy URL
    workdir: Path
    server: DemoServer
    exchange_key: str = ""  # exchange-wide operator: creates the market
    market: LoadMarket = field(default_factory=lambda: LoadMarket("", "", ""))
    restarts: int = 0

    @property
    def port(self) -> int:
        port = urlsplit(self.server.base_url).port
        assert port is not None
        return port

    @property
    def market_path(self) -> str:
        return f"/v1/markets/{self.market.market_id}"

    @property
    def operator_key(self) -> str:
        """The market's own operator key: day rolls, keys, reads of any account."""
        return self.market.market_operator_key

    @property
    def database_name(self) -> str:
        return make_url(self.url).database or ""

    # ------------------------------------------------------------------ the process

    async def start_server(self) -> None:
        self.server = await asyncio.to_thread(start_serve, self.url, self.workdir, {}, SERVER_ENV)

    def kill(self) -> None:
        """SIGKILL: nothing drains, nothing is flushed."""
        self.server.kill()

    def stop(self) -> None:
        """SIGTERM: uvicorn stops taking requests, the markets drain, the process exits."""
        self.server.stop()

    def stopped_cleanly(self) -> bool:
        """Whether the last stop ended in the orderly way (uvicorn ends by raising SIGTERM
        again, so the exit code is -15, after it has said the shutdown is complete)."""
        code = self.server.process.returncode
        return code in (0, -signal.SIGTERM) and SHUTDOWN_COMPLETE in self.log_tail(2_000)

    async def restart(self) -> None:
        await self.start_server()
        self.restarts += 1

    def log_tail(self, chars: int = 1_500) -> str:
        return self.server.log.read_text(errors="replace")[-chars:]

    # ------------------------------------------------------------------ requests

    async def request(
        self, method: str, path: str, key: str | None = None, body: Any = None
    ) -> tuple[int, Any]:
        """One request on a connection of its own: (status, JSON body or None)."""
        conn = await HttpConnection.open(HOST, self.port)
        try:
            status, payload = await asyncio.wait_for(
                conn.request(method, path, key, body), REQUEST_TIMEOUT_S
            )
        finally:
            await conn.close()
        return status, json.loads(payload) if payload else None

    async def operate(self, method: str, path: str, body: Any = None) -> Any:
        """An operator's request under the market's path that must succeed."""
        status, reply = await self.request(method, self.market_path + path, self.operator_key, body)
        if not 200 <= status < 300:
            raise ApiError(f"{method} {path}: {status} {reply}")
        return reply

    async def revoke(self, key: str) -> None:
        await self.operate("DELETE", f"/keys/{key_id_of(key)}")

    async def new_participant_key(self, account: str) -> str:
        reply = await self.operate("POST", "/keys", {"role": "participant", "account_id": account})
        key: str = reply["api_key"]
        return key

    # ------------------------------------------------------------------ the database

    async def cut_database(self) -> int:
        """Refuse new connections to the run's PostgreSQL database and terminate the server's
        backends (as a failover would); the number terminated."""
        admin = await asyncpg.connect(dsn(POSTGRES_URL))
        try:
            await admin.execute(f'ALTER DATABASE "{self.database_name}" ALLOW_CONNECTIONS false')
            rows = await admin.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                self.database_name,
            )
        finally:
            await admin.close()
        return len(rows)

    async def restore_database(self) -> None:
        admin = await asyncpg.connect(dsn(POSTGRES_URL))
        try:
            await admin.execute(f'ALTER DATABASE "{self.database_name}" ALLOW_CONNECTIONS true')
        finally:
            await admin.close()


@contextlib.asynccontextmanager
async def _database(backend: str, workdir: Path, name: str) -> AsyncIterator[str]:
    """A database of the run's own: a SQLite file in ``workdir``, or a fresh PostgreSQL
    database (dropped afterwards)."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / (name + '.db')}"
        return
    async with fresh_database(name) as url:
        yield url


@contextlib.asynccontextmanager
async def system_up(backend: str, workdir: Path, name: str) -> AsyncIterator[System]:
    """The database, the server on it, and a market with ``TRADERS`` + 1 funded accounts;
    the server stopped on the way out whatever happened."""
    async with _database(backend, workdir, name) as url:
        await prepare_database(url)
        exchange_key = await issue_key(url, "*", Role.OPERATOR, None)
        server = await asyncio.to_thread(start_serve, url, workdir, {}, SERVER_ENV)
        system = System(backend, url, workdir, server, exchange_key)
        try:
            system.market = await setup_market(system.port, exchange_key, TRADERS + 1)
            yield system
        finally:
            system.server.stop()
