"""What a login needs: who a key is (``getSession``), so that a trainee types only the key and
never the market, and the address trainees open (``getPublicAddress``), for the instructor's
login cards.

* ``getSession`` (any valid key): the key's market, role and account; an exchange-wide key
  (market ``*``) names no single market (``market_id`` null). A revoked key is told apart from
  an unknown one (401 ``KEY_REVOKED``), so the login screen can say which.
* ``getPublicAddress`` (operator keys): the server's public URL when it was given one
  (``CARBONX_PUBLIC_URL``, ``--public-url``), whether it listens on loopback only, and the base
  addresses it can be reached at on the host's interfaces (``exchange.api.addresses``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from exchange.api.addresses import candidate_urls, interface_ipv4s, is_loopback_host
from exchange.api.auth import principal, require
from exchange.api.common import PROBLEMS
from exchange.api.deps import CurrentPrincipal
from exchange.api.errors import ApiError
from exchange.api.models import Reply
from exchange.db.keys import is_revoked
from exchange.keys import Role

router = APIRouter(prefix="/v1", tags=["logins"], responses=PROBLEMS)
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))]


class KeySession(Reply):
    market_id: str | None  # null for an exchange-wide key: it acts in every market
    role: Literal["operator", "participant", "observer", "verifier"]
    account_id: str | None  # a participant key's trading account, a verifier's own seat
    key_id: str


class PublicAddress(Reply):
    public_url: str | None  # the base address the server was told trainees open
    listen_host: str | None  # what it listens on, when started by the carbonx command
    loopback_only: bool  # listening on loopback only: no trainee can reach it
    port: int | None  # the port this request came in on
    candidates: list[str]  # base addresses on this host's interfaces, to pick from


@router.get("/session", operation_id="getSession", response_model=KeySession)
async def get_session(request: Request, credentials: Bearer) -> dict[str, Any]:
    """Who the bearer key is: its market (null for an exchange-wide key), role and account."""
    try:
        who = await principal(request, credentials)
    except ApiError as refused:
        if credentials is None or refused.code != "UNAUTHENTICATED":
            raise
        if await is_revoked(request.app.state.hub.engine, credentials.credentials):
            raise ApiError(
                401,
                "KEY_REVOKED",
                "this API key was revoked: ask for a new one",
                headers={"WWW-Authenticate": "Bearer"},
            ) from None
        raise
    return {
        "market_id": None if who.exchange_wide else who.market_id,
        "role": who.role.value,
        "account_id": who.account_id,
        "key_id": who.key_id,
    }


@router.get("/public-address", operation_id="getPublicAddress", response_model=PublicAddress)
async def get_public_address(request: Request, who: CurrentPrincipal) -> dict[str, Any]:
    """The address for login cards and links (operator keys only)."""
    require(who, Role.OPERATOR)
    settings = request.app.state.settings
    listen_host: str | None = settings.listen_host
    server = request.scope.get("server")
    port = int(server[1]) if server and server[1] else None
    loopback_only = listen_host is not None and is_loopback_host(listen_host)
    interfaces = [] if loopback_only or port is None else interface_ipv4s()
    return {
        "public_url": settings.public_url,
        "listen_host": listen_host,
        "loopback_only": loopback_only,
        "port": port,
        "candidates": [] if port is None else candidate_urls(listen_host, port, interfaces),
    }
