"""Whether a database error is the database being away rather than a bug: a connection cut
(a failover, ``pg_terminate_backend``), refused (the server restarting, or not accepting
connections), or lost. The gateway answers a request that met one 503
``DATABASE_UNAVAILABLE`` (retry shortly), where it would otherwise answer 500; the journal
writer's own blips are ``journal_store.is_transient``'s.
"""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.exc import DBAPIError

from exchange.db.journal_store import is_transient

# What a read through SQLAlchemy raises, named here so that the gateway catches it without
# importing the database layer's library (tests/test_layering.py).
DatabaseError = DBAPIError

# PostgreSQL's "database ... is not currently accepting connections" (SQLSTATE 55000): what a
# connection meets while the database is closed to connections, as in a failover's switch.
REFUSED: tuple[type[Exception], ...] = (asyncpg.exceptions.ObjectNotInPrerequisiteStateError,)


def database_away(error: BaseException) -> bool:
    """Whether ``error`` (raised by a read through SQLAlchemy, or by the driver) means that
    the database cannot be reached just now."""
    if not isinstance(error, DBAPIError):
        return is_transient(error)
    if error.connection_invalidated:
        return True
    # SQLAlchemy's adapter wraps the driver's own error: asyncpg's is the adapter's cause.
    for cause in (error.orig, getattr(error.orig, "__cause__", None)):
        if cause is not None and (is_transient(cause) or isinstance(cause, REFUSED)):
            return True
    return False
