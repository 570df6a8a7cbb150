"""The HTTP server in front of the gateway: ``serve(app, host, port, ServerSettings())``.

uvicorn serves the app. What it lacks against slow or greedy clients is added here, in a
subclass of its httptools protocol (``GuardedHttpProtocol``), with these limits from the
environment (``CARBONX_`` + the field's name in capitals; docs/operations.md):

* ``header_timeout_s``: a request's headers must be complete this long after the connection
  opens or the request's first byte arrives, else 408 ``REQUEST_TIMEOUT`` and the connection
  closes. Without it, 1,100 connections that never finished their headers held every file the
  process may open and locked every other client out.
* ``body_timeout_s``: the body must be complete this long after the headers, else the same.
* ``header_max_bytes``: the bytes a request may send before its headers are complete, else
  431 ``HEADERS_TOO_LARGE`` (httptools itself sets no bound).
* ``connections_max``: connections open at once (HTTP and WebSocket), by default the open-file
  limit less ``FILES_RESERVED`` for the database, logs and the listening socket; one more is
  answered 503 ``SERVER_BUSY`` and closed at once, so the process never runs out of files.
* ``connections_per_client_max``: connections open at once from one client address (0: no
  cap); one more is answered 429 ``TOO_MANY_CONNECTIONS`` and closed. Behind a reverse proxy
  every client has the proxy's address: raise it, or set 0 and cap clients at the proxy.
* uvicorn's own: ``keepalive_timeout_s`` (an idle keep-alive connection is closed) and
  ``ws_message_max_bytes`` (a larger WebSocket message closes the socket with 1009).

The body's size limit is the app's (``exchange.api.limits``), where the route is known.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import resource
import sys
from collections import Counter
from http import HTTPStatus
from typing import Any, ClassVar, Literal

import uvicorn
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.utils import get_remote_addr

from exchange.api.errors import PROBLEM_JSON, ApiError, problem_body

log = logging.getLogger("carbonx.server")

# Files the process needs besides its connections: the database's (SQLite's file, journal and
# WAL, or PostgreSQL's pool of up to 15), the logs, the listening socket, the event loop's own.
FILES_RESERVED = 100
CONNECTIONS_MIN = 16
SUMMARY_EVERY_S = 10.0  # refused connections and timeouts are logged as a count this often

Waiting = Literal["headers", "body"]


class ServerSettings(BaseSettings):
    """From the environment with the ``CARBONX_`` prefix (``CARBONX_HEADER_TIMEOUT_S``, ...)."""

    model_config = SettingsConfigDict(env_prefix="CARBONX_")

    header_timeout_s: float = Field(default=10.0, gt=0)
    body_timeout_s: float = Field(default=30.0, gt=0)
    keepalive_timeout_s: int = Field(default=5, ge=1)
    header_max_bytes: int = Field(default=32 * 1024, ge=1024)
    connections_max: int | None = Field(default=None, ge=1)  # None: open-file limit - reserved
    connections_per_client_max: int = Field(default=256, ge=0)  # 0: no cap
    ws_message_max_bytes: int = Field(default=128 * 1024, ge=1024)


def open_files_max() -> int:
    """The process's open-file limit (soft: what it may open now)."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def connections_max(settings: ServerSettings, files_max: int) -> int:
    """The connections the server keeps open at most: the setting, but never so many that the
    process would run out of files (then a warning says so)."""
    most = max(CONNECTIONS_MIN, files_max - FILES_RESERVED)
    wanted = settings.connections_max
    if wanted is None:
        return most
    if wanted > most:
        log.warning(
            "CARBONX_CONNECTIONS_MAX=%d is over what %d open files allow; using %d "
            "(raise the limit with ulimit -n)",
            wanted,
            files_max,
            most,
        )
        return most
    return wanted


def raw_problem(error: ApiError) -> bytes:
    """A whole HTTP/1.1 response carrying ``error`` that closes the connection: for answers
    the server gives without the app (no request, or one it will not finish reading)."""
    body = json.dumps(problem_body(error), separators=(",", ":")).encode()
    lines = [
        f"HTTP/1.1 {error.status} {HTTPStatus(error.status).phrase}",
        f"content-type: {PROBLEM_JSON}",
        f"content-length: {len(body)}",
        "connection: close",
        *(f"{name}: {value}" for name, value in error.headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class ConnectionGuard:
    """What every connection of one server shares: the caps, and one sweep a tick that times
    out the connections whose deadline has passed."""

    def __init__(self, settings: ServerSettings, connections_max: int) -> None:
        self.settings = settings
        self.connections_max = connections_max
        self.watched: set[GuardedHttpProtocol] = set()
        self.tick_s = min(
            1.0, max(0.05, min(settings.header_timeout_s, settings.body_timeout_s) / 4)
        )
        self.counts: Counter[str] = Counter()  # refusals and timeouts since the last summary
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_summary = 0.0

    def admit(self, host: str | None, connections: set[Any]) -> ApiError | None:
        """None to serve a new connection from ``host``, else the refusal to answer it with;
        ``connections`` are the server's open ones (uvicorn's, WebSockets included)."""
        if len(connections) >= self.connections_max:
            self.counts["server_busy"] += 1
            return ApiError(
                503,
                "SERVER_BUSY",
                "the server has as many connections open as it may",
                headers={"Retry-After": "1"},
                connections_max=self.connections_max,
            )
        cap = self.settings.connections_per_client_max
        if cap and host is not None and _from(host, connections) >= cap:
            self.counts["too_many_connections"] += 1
            return ApiError(
                429,
                "TOO_MANY_CONNECTIONS",
                "this address has as many connections open as it may",
                headers={"Retry-After": "1"},
                connections_per_client_max=cap,
            )
        return None

    def watch(self, protocol: GuardedHttpProtocol) -> None:
        self.watched.add(protocol)
        if self._loop is None:
            self._loop = protocol.loop
            self._last_summary = self._loop.time()
            self._loop.call_later(self.tick_s, self._sweep)

    def unwatch(self, protocol: GuardedHttpProtocol) -> None:
        self.watched.discard(protocol)

    def _sweep(self) -> None:
        assert self._loop is not None
        now = self._loop.time()
        for protocol in [p for p in self.watched if p.deadline is not None and p.deadline <= now]:
            protocol.time_out()
        if self.counts and now - self._last_summary >= SUMMARY_EVERY_S:
            log.warning(
                "connections refused or timed out in the last %.0f s: %s",
                now - self._last_summary,
                dict(self.counts),
                extra=dict(self.counts),
            )
            self.counts.clear()
            self._last_summary = now
        self._loop.call_later(self.tick_s, self._sweep)


def _from(host: str, connections: set[Any]) -> int:
    """How many of ``connections`` come from ``host``."""
    count = 0
    for connection in connections:
        client = getattr(connection, "client", None)
        if client is not None and client[0] == host:
            count += 1
    return count


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for each request's headers and body, a
    bound on the headers' bytes, and the guard's caps on connections. ``guarded_protocol``
    makes one class per server, bound to its guard."""

    guard: ClassVar[ConnectionGuard]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline: float | None = None  # loop time by which ``waiting`` must be done
        self.waiting: Waiting | None = None
        self.header_bytes = 0
        self.refused = False

    # -- connections

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        client = get_remote_addr(transport)
        refusal = self.guard.admit(client[0] if client else None, self.connections)
        if refusal is not None:
            self.refused = True
            self.transport = transport
            transport.write(raw_problem(refusal))
            transport.close()
            return
        super().connection_made(transport)
        self._expect("headers")
        self.guard.watch(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.unwatch(self)
        if not self.refused:
            super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        # The WebSocket protocol takes the transport over; its own pings watch it from now.
        self.guard.unwatch(self)
        self._expect(None)
        super().handle_websocket_upgrade()

    # -- requests

    def data_received(self, data: bytes) -> None:
        if self.waiting == "headers":
            self.header_bytes += len(data)
        super().data_received(data)
        most = self.guard.settings.header_max_bytes
        if self.waiting == "headers" and self.header_bytes > most:
            self.guard.counts["headers_too_large"] += 1
            self._answer_and_close(
                ApiError(
                    431,
                    "HEADERS_TOO_LARGE",
                    f"the request's headers are over {most} bytes",
                    header_max_bytes=most,
                )
            )

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.waiting is None:  # the next request of a keep-alive connection
            self._expect("headers")

    def on_headers_complete(self) -> None:
        self._expect("body")  # first: an upgrade returns early
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._expect(None)

    def _expect(self, waiting: Waiting | None) -> None:
        self.waiting = waiting
        settings = self.guard.settings
        if waiting is None:
            self.deadline = None
            return
        timeout_s = settings.header_timeout_s if waiting == "headers" else settings.body_timeout_s
        self.deadline = self.loop.time() + timeout_s
        self.header_bytes = 0

    def time_out(self) -> None:
        """The guard's sweep found the deadline passed: answer 408 and close."""
        settings = self.guard.settings
        waiting = self.waiting or "headers"
        timeout_s = settings.header_timeout_s if waiting == "headers" else settings.body_timeout_s
        self.guard.counts[f"{waiting}_timeout"] += 1
        self._answer_and_close(
            ApiError(
                408,
                "REQUEST_TIMEOUT",
                f"the request's {waiting} did not arrive within {timeout_s} s",
                waiting_for=waiting,
                timeout_s=timeout_s,
            )
        )

    def _answer_and_close(self, error: ApiError) -> None:
        waiting = self.waiting
        self.guard.unwatch(self)
        self._expect(None)
        if self.transport.is_closing():
            return
        cycle = self.cycle
        answer = True
        if waiting == "body" and cycle is not None and not cycle.response_complete:
            # The app has this request: it gets a disconnect, and its answer goes nowhere.
            answer = not cycle.response_started
            cycle.disconnected = True
            cycle.message_event.set()
        if answer:
            self.transport.write(raw_problem(error))
        self.transport.close()


def guarded_protocol(guard: ConnectionGuard) -> type[GuardedHttpProtocol]:
    """A ``GuardedHttpProtocol`` class whose connections share ``guard``."""
    return type("GuardedHttpProtocol", (GuardedHttpProtocol,), {"guard": guard})


def serve(app: Any, host: str, port: int, settings: ServerSettings | None = None) -> None:
    """Serve ``app`` until a signal stops it, within ``settings``' limits."""
    settings = settings or ServerSettings()
    guard = ConnectionGuard(settings, connections_max(settings, open_files_max()))
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=guarded_protocol(guard),
        timeout_keep_alive=settings.keepalive_timeout_s,
        ws_max_size=settings.ws_message_max_bytes,
        log_level="info",
        log_config=None,  # exchange.logs' handler and format
        access_log=False,  # exchange.logs.RequestLogMiddleware logs requests without keys
    )
    log.info(
        "limits: %d connections (%s per client), headers %.0f s and %d bytes, body %.0f s, "
        "keep-alive %d s",
        guard.connections_max,
        settings.connections_per_client_max or "no cap",
        settings.header_timeout_s,
        settings.header_max_bytes,
        settings.body_timeout_s,
        settings.keepalive_timeout_s,
    )
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(3)  # uvicorn's STARTUP_FAILURE, as uvicorn.run exits
