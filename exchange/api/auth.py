"""Bearer API keys and roles.

A key is ``cx_`` + 32 random bytes (URL-safe base64); the database keeps only its sha256, so a
stolen table lets no one in. Each key belongs to one market and has a role: ``operator`` may do
everything, ``participant`` acts on its own trading account only, ``observer`` reads public
market data. A missing or unknown key is a 401; a known key asking beyond its role, or for
another participant's account, a 403.

A key's id (``key_id``) is the first 12 hex digits of its hash: it names the key for
``revokeKey`` without revealing it, and needs no column of its own. Every authenticated request
takes a token from its key's bucket (``exchange.api.ratelimit``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.api.errors import ApiError
from exchange.db import tables as t

KEY_PREFIX = "cx_"
KEY_BYTES = 32
KEY_ID_LENGTH = 12


class Role(StrEnum):
    OPERATOR = "operator"
    PARTICIPANT = "participant"
    OBSERVER = "observer"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: the key's market, role and (for a participant) account."""

    market_id: str
    role: Role
    account_id: str | None
    key_id: str = ""


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_id_of(key: str) -> str:
    """The key's public name: the first 12 hex digits of its hash."""
    return key_hash(key)[:KEY_ID_LENGTH]


async def create_key(
    engine: AsyncEngine, market_id: str, role: Role, account_id: str | None = None
) -> str:
    """Mint a key, store its hash and return the key itself (shown once, never stored)."""
    if (role is Role.PARTICIPANT) != (account_id is not None):
        raise ValueError("a participant key names its account, and only a participant key does")
    key = new_key()
    created_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    async with engine.begin() as conn:
        await conn.execute(
            insert(t.api_keys).values(
                key_hash=key_hash(key),
                market_id=market_id,
                account_id=account_id,
                role=role.value,
                created_at=created_at,
                revoked=False,
            )
        )
    return key


async def find_key(engine: AsyncEngine, key: str) -> Principal | None:
    k = t.api_keys.c
    query = select(k.market_id, k.role, k.account_id).where(
        k.key_hash == key_hash(key), k.revoked.is_(False)
    )
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        return None
    return Principal(row.market_id, Role(row.role), row.account_id, key_id_of(key))


async def revoke_key(engine: AsyncEngine, market_id: str, key_id: str) -> bool:
    """Revoke the market's key(s) whose hash starts with ``key_id``; False when none is known.
    Revoking a revoked key again is not an error."""
    k = t.api_keys.c
    query = (
        update(t.api_keys)
        .where(k.market_id == market_id, k.key_hash.startswith(key_id.lower(), autoescape=True))
        .values(revoked=True)
    )
    async with engine.begin() as conn:
        result = await conn.execute(query)
    return result.rowcount > 0


_bearer = HTTPBearer(auto_error=False)


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, "UNAUTHENTICATED", detail, headers={"WWW-Authenticate": "Bearer"})


async def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The key's owner, for the market named in the path."""
    if credentials is None:
        raise _unauthorized("an API key is required: Authorization: Bearer <key>")
    engine: AsyncEngine = request.app.state.hub.engine
    found = await find_key(engine, credentials.credentials)
    if found is None:
        raise _unauthorized("unknown or revoked API key")
    market_id = request.path_params.get("market_id")
    if market_id is not None and market_id != found.market_id:
        raise ApiError(403, "FORBIDDEN", "the key belongs to another market")
    request.app.state.limiter.check(found.key_id)
    return found


CurrentPrincipal = Annotated[Principal, Depends(principal)]


def require(who: Principal, *roles: Role) -> None:
    if who.role not in roles:
        raise ApiError(
            403, "FORBIDDEN", f"a {who.role.value} key may not do this", role=who.role.value
        )


def trading_account(who: Principal) -> str:
    """The account a participant key trades for."""
    require(who, Role.PARTICIPANT)
    assert who.account_id is not None  # the table's check constraint
    return who.account_id


def may_see_account(who: Principal, account_id: str) -> None:
    """Operators see every account, participants their own, observers none."""
    if who.role is Role.OPERATOR:
        return
    if who.role is Role.PARTICIPANT and who.account_id == account_id:
        return
    raise ApiError(403, "FORBIDDEN", "not your account", account_id=account_id)
