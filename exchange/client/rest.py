"""``AsyncClient`` and ``Client``: the same operations (``Operations``) over an async or a
sync transport.

    async with AsyncClient("http://127.0.0.1:8000", key, "demo") as client:
        placed = await client.place_order("CEA2025", "buy", 100, 6000)

    with Client("http://127.0.0.1:8000", key, "demo") as client:
        placed = client.place_order("CEA2025", "buy", 100, 6000)

A refusal raises ``CarbonxError`` (``exchange.client.errors``). ``RetryPolicy`` bounds the
retries of 429s (off by default) and of repeatable orders after a connection error.
"""

from __future__ import annotations

from typing import Any

from exchange.client.operations import Operations
from exchange.client.transport import AsyncTransport, SyncTransport
from exchange.client.ws import Stream


class AsyncClient(Operations, AsyncTransport):
    """The async client (``httpx.AsyncClient``); ``stream()`` opens the WebSocket."""

    def stream(self, **options: Any) -> Stream:
        """``async with client.stream() as ws:``: the market's WebSocket, authenticated with
        this client's key (see ``Stream`` for the options)."""
        if self.market_id is None:
            raise ValueError("a stream needs the client's market_id")
        return Stream(self.base_url, self.key, self.market_id, **options)


class Client(Operations, SyncTransport):
    """The sync client (``httpx.Client``), for scripts and notebooks."""
