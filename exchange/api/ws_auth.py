"""Who a WebSocket is (``authenticate``), its frames (``receive``, ``parse``) and its close
codes. The protocol is ``exchange.api.ws``'s docstring.

A socket is authenticated once, by its first message or its URL. A key revoked later closes its
sockets (``exchange.api.open_sockets``); a revocation that commits while the key is being looked
up is caught by the key cache's ``generation`` (``Authed.generation``): the socket, once
registered, looks its key up again (``still_valid``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from exchange.api.auth import find_principal
from exchange.api.errors import DATABASE_RETRY_AFTER_S, ApiError, database_unavailable
from exchange.api.feed import Message
from exchange.api.hub import Hub
from exchange.db.keys import find_key
from exchange.db.outage import DatabaseError, database_away
from exchange.keys import EXCHANGE_WIDE, Principal, Role, key_cache, key_hash
from exchange.runtime import MarketRuntime

AUTH_TIMEOUT_S = 10.0
CLOSE_UNAUTHENTICATED = 4401  # a bad key at auth; "key revoked" later
CLOSE_FORBIDDEN = 4403
CLOSE_UNKNOWN_MARKET = 4404
CLOSE_SLOW_CONSUMER = 4008
CLOSE_RATE_LIMITED = 4429
CLOSE_TRY_AGAIN_LATER = 1013  # RFC 6455: the key could not be looked up, the database is away
REVOKED_REASON = "key revoked"


def error_message(code: str, detail: str, **numbers: Any) -> Message:
    return {"type": "error", "code": code, "detail": detail, **numbers}


async def receive(websocket: WebSocket) -> str | None:
    """The next frame's text; None for a binary frame (the protocol is JSON in text frames)."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text = message.get("text")
    return text if isinstance(text, str) else None


def parse(text: str) -> dict[str, Any] | None:
    """A message's JSON object; None for anything else (bad JSON, nesting deeper than the
    parser's recursion allows, an array, ...)."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


class RefusedError(Exception):
    """The socket may not go on: its message, and the code it is closed with."""

    def __init__(self, message: Message, close_code: int) -> None:
        super().__init__(message["code"])
        self.message = message
        self.close_code = close_code


async def refuse(websocket: WebSocket, refused: RefusedError) -> None:
    with contextlib.suppress(Exception):
        await websocket.send_json({"seq": 1, **refused.message})
        await websocket.close(refused.close_code)


@dataclasses.dataclass(frozen=True, slots=True)
class Authed:
    """An authenticated socket: who, in which market, and the key it is open with."""

    who: Principal
    runtime: MarketRuntime
    cancel_on_disconnect: bool
    key_hash: str
    key_market_id: str  # the key's own market: ``*`` for an exchange-wide key
    generation: int  # the key cache's before the key was looked up


async def authenticate(websocket: WebSocket, hub: Hub) -> tuple[Authed, str]:
    """The socket's key (from its URL or its first message), checked, with its market's
    runtime; and the key itself, for ``still_valid``. A refusal is a ``RefusedError``."""
    params = websocket.query_params
    key = params.get("key")
    market_id = params.get("market_id")
    cancel_on_disconnect = params.get("cancel_on_disconnect", "").lower() in ("1", "true")
    if key is None:
        try:
            first = await asyncio.wait_for(receive(websocket), AUTH_TIMEOUT_S)
        except TimeoutError:
            raise RefusedError(
                error_message("UNAUTHENTICATED", "no auth message"), CLOSE_UNAUTHENTICATED
            ) from None
        request = None if first is None else parse(first)
        if (
            request is None
            or request.get("op") != "auth"
            or not isinstance(request.get("key"), str)
        ):
            detail = 'the first message is {"op": "auth", "market_id": ..., "key": ...}'
            raise RefusedError(error_message("UNAUTHENTICATED", detail), CLOSE_UNAUTHENTICATED)
        key = request["key"]
        named = request.get("market_id")
        market_id = named if isinstance(named, str) else None
        cancel_on_disconnect = request.get("cancel_on_disconnect") is True
    generation = key_cache(hub.engine).generation
    try:
        who = await find_principal(websocket, key)
    except ApiError as refused:  # its address failed too often
        message = error_message(refused.code, refused.detail, **refused.numbers)
        raise RefusedError(message, CLOSE_RATE_LIMITED) from None
    except DatabaseError as error:
        if not database_away(error):
            raise
        away = database_unavailable()
        message = error_message(away.code, away.detail, retry_after_s=DATABASE_RETRY_AFTER_S)
        raise RefusedError(message, CLOSE_TRY_AGAIN_LATER) from None
    if who is None:
        message = error_message("UNAUTHENTICATED", "unknown or revoked API key")
        raise RefusedError(message, CLOSE_UNAUTHENTICATED)
    try:  # the auth message takes a token, as every message does
        websocket.app.state.limiter.check(who.key_id)
    except ApiError as refused:
        message = error_message(refused.code, refused.detail, **refused.numbers)
        raise RefusedError(message, CLOSE_RATE_LIMITED) from None
    key_market_id = EXCHANGE_WIDE if who.exchange_wide else who.market_id
    if who.exchange_wide:  # acts in whichever market it names, as REST's keys do
        if market_id is None:
            detail = "an exchange-wide key names the market: market_id"
            raise RefusedError(error_message("INVALID_MESSAGE", detail), CLOSE_UNKNOWN_MARKET)
        who = dataclasses.replace(who, market_id=market_id)
    elif market_id is not None and market_id != who.market_id:
        message = error_message("FORBIDDEN", "the key belongs to another market")
        raise RefusedError(message, CLOSE_FORBIDDEN)
    try:
        runtime = hub.runtime(who.market_id)
    except ApiError as unknown:
        raise RefusedError(
            error_message(unknown.code, unknown.detail), CLOSE_UNKNOWN_MARKET
        ) from None
    cancel_on_disconnect = cancel_on_disconnect and who.role is not Role.OBSERVER
    hashed = key_hash(key)
    return Authed(who, runtime, cancel_on_disconnect, hashed, key_market_id, generation), key


async def still_valid(hub: Hub, authed: Authed, key: str) -> bool:
    """Whether the socket's key is still valid, once the socket is registered with the hub's
    ``OpenSockets``: looked up again only when a revocation came since the first lookup."""
    if key_cache(hub.engine).generation == authed.generation:
        return True
    return await find_key(hub.engine, key) is not None
