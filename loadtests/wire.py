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
READ_BYTES = 1 << 16


class HttpError(RuntimeError):
    pass


class HttpConnection:
    """One keep-alive connection; requests on it are answered in order (open several for more)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str):
        self._reader = reader
        self._writer = writer
        self._host = host.encode()

    @classmethod
    async def open(cls, host: str, port: int, local_host: str | None = None) -> HttpConnection:
        """A connection to ``host:port``, from the address ``local_host`` if given (any of
        127.0.0.0/8 on loopback: a client at another address)."""
        local = None if local_host is None else (local_host, 0)
        reader, writer = await asyncio.open_connection(host, port, local_addr=local)
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
        self.send(method, path, key, json_body)
        return await self.response()

    def send(self, method: str, path: str, key: str | None = None, json_body: Any = None) -> None:
        """Queue one request; several may be sent before their responses are read (HTTP/1.1
        pipelining: the responses come in the order of the requests)."""
        body = None if json_body is None else json.dumps(json_body).encode()
        self._writer.write(self._head(method, path, key, body) + (body or b""))

    async def response(self) -> tuple[int, bytes]:
        """The next response: (status, body)."""
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
        self._buffer = bytearray()

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
        """The next text message. Frames are parsed out of a local buffer filled by one read of
        whatever has arrived, so a burst of small messages costs one await, not three each."""
        fragments: list[bytes] = []
        while True:
            frame = self._next_frame()
            if frame is None:
                chunk = await self._reader.read(READ_BYTES)
                if not chunk:
                    raise WebSocketClosedError(None)
                self._buffer += chunk
                continue
            final, opcode, payload = frame
            if opcode in (0x0, 0x1, 0x2):
                fragments.append(payload)
                if final:
                    return b"".join(fragments).decode()
            elif opcode == 0x9:
                self._writer.write(_frame(0xA, payload))
            elif opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise WebSocketClosedError(code)

    def _next_frame(self) -> tuple[bool, int, bytes] | None:
        """(final, opcode, payload) of the buffer's first whole frame, taken out of it."""
        buffer = self._buffer
        if len(buffer) < 2:
            return None
        b0, b1 = buffer[0], buffer[1]
        length, at = b1 & 0x7F, 2
        if length == 126:
            if len(buffer) < 4:
                return None
            (length,), at = struct.unpack_from("!H", buffer, 2), 4
        elif length == 127:
            if len(buffer) < 10:
                return None
            (length,), at = struct.unpack_from("!Q", buffer, 2), 10
        end = at + length  # servers never mask
        if len(buffer) < end:
            return None
        payload = bytes(buffer[at:end])
        del buffer[:end]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def abort(self) -> None:
        """Drop the connection without a close frame, as a client that crashed would."""
        self._writer.transport.abort()

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
