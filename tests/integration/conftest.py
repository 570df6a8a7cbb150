"""Real databases for the integration tests.

Every test that takes ``database`` (or ``empty_database``) runs twice: on SQLite, a file in the
test's temporary directory, and on PostgreSQL, in a schema of its own that is dropped afterwards
(``CARBONX_TEST_POSTGRES_URL``, default ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``).
``database`` is migrated to the newest Alembic revision, as a deployment would be.

Without a reachable PostgreSQL the PostgreSQL runs are skipped, except under CI (``CI`` set and
not false), where they fail: CI must test both databases.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.db.engine import create_engine
from exchange.db.migrations import upgrade

POSTGRES_URL_VARIABLE = "CARBONX_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT_S = 5


@dataclass(frozen=True)
class Database:
    """A database for one test: open engines on it with ``async with database.engine()``."""

    backend: str  # "sqlite" or "postgresql"
    url: str
    connect_args: dict[str, Any] = field(default_factory=dict)

    @asynccontextmanager
    async def engine(self) -> AsyncIterator[AsyncEngine]:
        engine = create_engine(self.url, connect_args=self.connect_args)
        try:
            yield engine
        finally:
            await engine.dispose()


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


async def _unreachable(url: str) -> str | None:
    """Why PostgreSQL at ``url`` cannot be used, or None if it can."""
    engine = create_engine(url, connect_args={"timeout": CONNECT_TIMEOUT_S})
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (OSError, TimeoutError, SQLAlchemyError) as error:
        return f"{type(error).__name__}: {error}"
    finally:
        await engine.dispose()
    return None


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get(POSTGRES_URL_VARIABLE) or DEFAULT_POSTGRES_URL
    problem = asyncio.run(_unreachable(url))
    if problem is not None:
        message = f"PostgreSQL at {url} cannot be reached ({problem})"
        if in_ci():
            pytest.fail(
                f"{message}. CI runs the integration tests on PostgreSQL too: start a server "
                f"or point {POSTGRES_URL_VARIABLE} at one.",
                pytrace=False,
            )
        pytest.skip(f"{message}; under CI this fails")
    return url


async def _execute(url: str, *statements: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database without tables, on each backend."""
    if request.param == "sqlite":
        yield Database("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'carbonx.db'}")
        return
    url: str = request.getfixturevalue("postgres_url")
    schema = f"carbonx_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_execute(url, f'CREATE SCHEMA "{schema}"'))
    try:
        yield Database("postgresql", url, {"server_settings": {"search_path": schema}})
    finally:
        asyncio.run(_execute(url, f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def database(empty_database: Database) -> Database:
    """A database migrated by Alembic to the newest revision, on each backend."""

    async def migrate() -> None:
        async with empty_database.engine() as engine:
            await upgrade(engine)

    asyncio.run(migrate())
    return empty_database
