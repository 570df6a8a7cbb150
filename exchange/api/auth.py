"""Bearer API keys on the HTTP side: who is asking (``principal``, the dependency behind
``exchange.api.deps.CurrentPrincipal``) and what a role may do.

The keys themselves, their roles and owners are ``exchange.keys``'s; minting, finding and
revoking them in the database ``exchange.db.keys``'s. A missing or unknown key is a 401; a
known key asking beyond its role, or for another participant's account, a 403. An
exchange-wide key (market ``*``) acts in every market with its role, as if it were that
market's key, and an exchange-wide operator key alone may create markets (``createMarket``).
Every authenticated request takes a token from its key's bucket (``exchange.api.ratelimit``).

A key not in memory costs a database lookup (``find_principal``, for REST and the WebSocket's
auth alike): a lookup that finds no valid key is charged to the client's address, and an
address out of tokens is answered 429 ``RATE_LIMITED`` before its next lookup, so guessing keys
is slow and costs the database little. Keys found, and keys not found, are answered from memory
(``exchange.keys.KeyCache``) and charge nothing.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import HTTPConnection

from exchange.api.errors import ApiError
from exchange.api.ratelimit import RateLimiter
from exchange.db.keys import find_key, in_memory
from exchange.keys import Principal, Role

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
    found = await find_principal(request, credentials.credentials)
    if found is None:
        raise _unauthorized("unknown or revoked API key")
    market_id = request.path_params.get("market_id")
    if found.exchange_wide and market_id is not None:
        found = dataclasses.replace(found, market_id=market_id)
    elif market_id is not None and market_id != found.market_id:
        raise ApiError(403, "FORBIDDEN", "the key belongs to another market")
    request.app.state.limiter.check(found.key_id)
    return found


async def find_principal(connection: HTTPConnection, key: str) -> Principal | None:
    """The owner of a valid key; None for an unknown or revoked one. A database lookup from an
    address whose failed lookups used up its bucket is refused first (429 ``RATE_LIMITED``);
    a lookup that finds nothing is charged to the address."""
    engine: AsyncEngine = connection.app.state.hub.engine  # (the hub's module imports this)
    if in_memory(engine, key):
        return await find_key(engine, key)
    failures: RateLimiter = connection.app.state.auth_failures
    address = connection.client.host if connection.client is not None else ""
    failures.check_available(address)
    found = await find_key(engine, key)
    if found is None:
        failures.charge(address)
    return found


def require(who: Principal, *roles: Role) -> None:
    if who.role not in roles:
        raise ApiError(
            403, "FORBIDDEN", f"a {who.role.value} key may not do this", role=who.role.value
        )


def require_exchange_operator(who: Principal) -> None:
    """Only an exchange-wide (``*``) operator key passes: what acts beyond one market."""
    if not (who.exchange_wide and who.role is Role.OPERATOR):
        raise ApiError(
            403,
            "FORBIDDEN",
            "only an exchange-wide operator key (market '*') may do this",
            role=who.role.value,
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
