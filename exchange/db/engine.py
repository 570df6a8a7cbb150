"""The async engine: SQLite through aiosqlite by default (a file in the working directory, so
nothing needs a server), PostgreSQL through asyncpg when ``CARBONX_DATABASE_URL`` names one."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

DATABASE_URL_VARIABLE = "CARBONX_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./carbonx.db"


def database_url(environ: Mapping[str, str] | None = None) -> str:
    """``CARBONX_DATABASE_URL`` if set (e.g. ``postgresql+asyncpg://user@host:5432/db``), else
    the embedded SQLite file ``./carbonx.db``."""
    env = os.environ if environ is None else environ
    return env.get(DATABASE_URL_VARIABLE) or DEFAULT_DATABASE_URL


def create_engine(url: str | None = None, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``url`` (default: ``database_url()``); ``kwargs`` go to
    ``sqlalchemy.ext.asyncio.create_async_engine``. SQLite connections enforce foreign keys
    and, for a file, use write-ahead logging. A connection is tested as it leaves the pool
    (``pool_pre_ping``): after a failover every connection the pool held is dead, and each
    would otherwise fail its next request. Dispose of the engine when done with it."""
    url = url or database_url()
    kwargs.setdefault("pool_pre_ping", True)
    engine = _create_async_engine(url, **kwargs)
    if make_url(url).get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")  # an in-memory database keeps "memory"
    finally:
        cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on ``engine`` whose objects stay readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
