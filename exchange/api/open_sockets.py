"""The open WebSockets of one gateway by their API key, so that revoking a key closes them.

``OpenSockets.revoked`` is a listener of the database's key cache
(``exchange.keys.KeyCache.listeners``, registered by the ``Hub``): ``exchange.db.keys`` calls it
once a revocation (``revokeKey``, the old seat keys of ``issueSeatKeys``) is committed, with the
market and the hash prefix it revoked, and every socket of those keys is told to close
(``exchange.api.ws``: 4401 "key revoked"). A socket is registered by the hash of its key and
the key's own market (``*`` for an exchange-wide key), the two a revocation names.
"""

from __future__ import annotations

from typing import Protocol


class Revocable(Protocol):
    def revoke(self) -> None:
        """The socket's key was revoked: close it."""


class OpenSockets:
    def __init__(self) -> None:
        self._by_key: dict[str, tuple[str, set[Revocable]]] = {}  # hash: (key's market, ...)

    def add(self, key_hash: str, key_market_id: str, socket: Revocable) -> None:
        self._by_key.setdefault(key_hash, (key_market_id, set()))[1].add(socket)

    def remove(self, key_hash: str, socket: Revocable) -> None:
        entry = self._by_key.get(key_hash)
        if entry is None:
            return
        entry[1].discard(socket)
        if not entry[1]:
            del self._by_key[key_hash]

    def revoked(self, market_id: str, key_id: str) -> None:
        """Close the sockets of the market's keys whose hash starts with ``key_id``."""
        prefix = key_id.lower()
        for hashed, (key_market_id, sockets) in list(self._by_key.items()):
            if key_market_id == market_id and hashed.startswith(prefix):
                for socket in list(sockets):
                    socket.revoke()

    def __len__(self) -> int:
        return sum(len(sockets) for _, sockets in self._by_key.values())
