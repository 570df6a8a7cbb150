"""Persistence: the async engine (SQLite by default, PostgreSQL by URL), the tables, Alembic
migrations (``exchange/db/migrations``), and saving and loading a market's registry."""

from exchange.db.engine import (
    DATABASE_URL_VARIABLE,
    DEFAULT_DATABASE_URL,
    create_engine,
    database_url,
    session_factory,
)
from exchange.db.registry_store import (
    MarketNotFoundError,
    RegistryStoreError,
    StoreConflictError,
    StoreIntegrityError,
    load_operation,
    load_registry,
    save_registry,
)
from exchange.db.tables import metadata

__all__ = [
    "DATABASE_URL_VARIABLE",
    "DEFAULT_DATABASE_URL",
    "MarketNotFoundError",
    "RegistryStoreError",
    "StoreConflictError",
    "StoreIntegrityError",
    "create_engine",
    "database_url",
    "load_operation",
    "load_registry",
    "metadata",
    "save_registry",
    "session_factory",
]
