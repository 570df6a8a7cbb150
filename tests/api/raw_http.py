"""HTTP/1.1 by hand over loopback sockets, for what a well-behaved client never does: headers
that never end, bodies sent slowly or too large, many connections held open."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any

READ_TIMEOUT_S = 10.0


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def open_connection(port: int, source: str = "127.0.0.1") -> socket.socket:
    """A connection to the server on 127.0.0.1 from the loopback address ``source``
    (127.0.0.2, ...: another client as far as the server can tell)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(READ_TIMEOUT_S)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def head(method: str, path: str, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_response(sock: socket.socket) -> RawResponse | None:
    """The response the server sends on ``sock`` (whole: it closes or gives a length), or
    None when it closes without one."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = _recv(sock)
        if not chunk:
            return None
        data += chunk
    top, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = top.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "-1"))
    while length < 0 or len(body) < length:
        chunk = _recv(sock)
        if not chunk:
            break
        body += chunk
    return RawResponse(int(status_line.split()[1]), headers, body)


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except ConnectionResetError:
        return b""


def send_until_answered(sock: socket.socket, chunks: Any) -> int:
    """Send ``chunks`` (bytes) until they run out or the server stops taking them (it
    answered and closed); the bytes sent."""
    sent = 0
    try:
        for chunk in chunks:
            sock.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    return sent
