"""Lean HTTP/1.1 and WebSocket clients for the load tests, on bare asyncio streams.

The load generator shares two cores with the server under test, so its cost per request must
be a small fraction of the server's: httpx spends ~150 µs of CPU per request, these clients a
few tens. They speak just enough of each protocol for carbonx's API on loopback: keep-alive
HTTP/1.1 with ``Content-Length`` bodies (no chunked encoding, no TLS, no redirects), and
RFC 6455 text frames (masked from the client, no extensions, no fragmentation on send).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import struct
from typing import Any

_CRLF = b"\r\n"


class HttpError(RuntimeError):
    pass


class HttpConnection:
    """One keep-alive connection; requests on it are sequential (open several for more)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str):
        self._reader = reader
        self._writer = writer
        self._host = host.encode()

    @classmethod
    async def open(cls, host: str, port: int) -> HttpConnection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, f"{host}:{port}")

    def _head(self, method: str, path: str, key: str | None, body: bytes | None) -> bytes:
        lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + self._host]
        if key is not None:
            lines.append(b"Authorization: Bearer " + key.encode())
        if body is not None:
            lines.append(b"Content-Type: application/json")
            lines.append(b"Content-Length: " + str(len(body)).encode())
        return _CRLF.join(lines) + _CRLF + _CRLF

    async def request(
        self, method: str, path: str, key: str | None = None, json_body: Any = None
    ) -> tuple[int, bytes]:
        """Send one request and read its whole response: (status, body)."""
        body = None if json_body is None else json.dumps(json_body).encode()
        self._writer.write(self._head(method, path, key, body) + (body or b""))
        reader = self._reader
        status_line = await reader.readuntil(_CRLF)
        status = int(status_line.split(b" ", 2)[1])
        length = 0
        while True:
            line = await reader.readuntil(_CRLF)
            if line == _CRLF:
                break
            name, _, value = line.partition(b":")
            lowered = name.lower()
            if lowered == b"content-length":
                length = int(value)
            elif lowered == b"transfer-encoding":
                raise HttpError("chunked responses are not supported by this client")
        payload = await reader.readexactly(length) if length else b""
        return status, payload

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()


class WebSocketClosedError(RuntimeError):
    def __init__(self, code: int | None) -> None:
        super().__init__(f"websocket closed ({code})")
        self.code = code


class WsConnection:
    """A client WebSocket: ``send(obj)`` and ``recv() -> str`` (text frames; pings answered)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, host: str, port: int, path: str) -> WsConnection:
        reader, writer = await asyncio.open_connection(host, port)
        nonce = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {nonce}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = await reader.readuntil(_CRLF + _CRLF)
        if not head.startswith(b"HTTP/1.1 101"):
            writer.close()
            raise HttpError(f"websocket upgrade refused: {head.splitlines()[0]!r}")
        return cls(reader, writer)

    def send(self, message: Any) -> None:
        """Queue one text frame (the write is flushed by the event loop)."""
        self._writer.write(_frame(0x1, json.dumps(message).encode()))

    async def drain(self) -> None:
        await self._writer.drain()

    async def recv(self) -> str:
        reader = self._reader
        while True:
            b0, b1 = await reader.readexactly(2)
            opcode = b0 & 0x0F
            length = b1 & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await reader.readexactly(8))
            payload = await reader.readexactly(length)  # servers never mask
            if opcode == 0x1 or opcode == 0x0:
                if not b0 & 0x80:
                    payload += await self._continuation()
                return payload.decode()
            if opcode == 0x9:
                self._writer.write(_frame(0xA, payload))
            elif opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise WebSocketClosedError(code)

    async def _continuation(self) -> bytes:
        parts = []
        while True:
            b0, b1 = await self._reader.readexactly(2)
            length = b1 & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await self._reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await self._reader.readexactly(8))
            parts.append(await self._reader.readexactly(length))
            if b0 & 0x80:
                return b"".join(parts)

    async def close(self) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            self._writer.write(_frame(0x8, struct.pack("!H", 1000)))
            self._writer.close()
            await self._writer.wait_closed()


def _frame(opcode: int, payload: bytes) -> bytes:
    """A final client frame. The mask is all zeros: RFC 6455 requires a client to mask, not
    the mask to be secret, and XOR with zeros saves the generator the work on loopback."""
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return header + b"\0\0\0\0" + payload
