"""Structured logs: ``configure_logging("json" | "text")`` and ``RequestLogMiddleware``.

In ``json`` each record is one JSON object a line: ``ts`` (UTC, ISO 8601), ``level``,
``logger``, ``msg`` and the record's extra fields (``log.info("...", extra={"market_id": m})``).
``text`` is the same for people. Every record of the process goes through the root logger
(uvicorn's and the runtime's too), so one format holds for all.

``RequestLogMiddleware`` logs one ``carbonx.access`` line per request: ``method``, ``path``
(the route's template, ``/v1/markets/{market_id}/orders/{order_id}``, never the raw URL and
never the query string), ``operation_id``, ``status``, ``duration_ms``, ``key_id`` (the key's
public name, see ``exchange.keys``) and ``market_id``. It replaces uvicorn's access log,
which writes raw URLs (a WebSocket's ``?key=`` included). Keys and ``Authorization`` headers are
never logged, and as a second guard both formatters mask anything that looks like a key
(``cx_...``) or a bearer token.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import re
import sys
import time
from typing import Any, Literal, TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exchange.keys import key_id_of

LogFormat = Literal["json", "text"]
FORMATS: tuple[LogFormat, ...] = ("json", "text")
ENV_VAR = "CARBONX_LOG_FORMAT"


access_log = logging.getLogger("carbonx.access")

# The attributes every LogRecord has: the rest are the caller's extra fields.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's coloured copy of msg
    "taskName",
}
_SECRETS = re.compile(r"(cx_)[A-Za-z0-9_\-]{8,}|((?i:bearer)\s+)\S+")


def redact(text: str) -> str:
    """Mask API keys (``cx_...``) and bearer tokens."""
    return _SECRETS.sub(lambda m: (m.group(1) or m.group(2)) + "***", text)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name, value in _extras(record).items():
            entry.setdefault(name, value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str, ensure_ascii=False))


class TextFormatter(logging.Formatter):
    """``ts level logger msg key=value ...``: for people at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extras = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        return redact(f"{text} {extras}" if extras else text)


def log_format(given: str | None, default: LogFormat) -> LogFormat:
    """The format asked for: ``given`` (a CLI option), else ``CARBONX_LOG_FORMAT``, else
    ``default``."""
    chosen = given or os.environ.get(ENV_VAR) or default
    if chosen not in FORMATS:
        raise ValueError(f"log format {chosen!r}: choose one of {', '.join(FORMATS)}")
    return chosen


def configure_logging(
    fmt: LogFormat = "text", level: int = logging.INFO, stream: TextIO | None = None
) -> None:
    """Send every record to ``stream`` (stderr) in ``fmt``. Uvicorn's loggers propagate to
    the root; its access log is off (``RequestLogMiddleware`` writes ours)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    access_lines.attach(handler, fmt, level)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True


class AccessLines:
    """The access log's fast path. A request only appends its fields; the lines are
    formatted and written together, ``FLUSH_S`` later or once ``BATCH_LINES`` wait, with one
    write to the handler's stream. Measured on the load run (docs/BENCHMARKS.md), a
    ``logging`` record per request cost the gateway about a fifth of its order throughput.

    The lines are the ones ``JsonFormatter``/``TextFormatter`` would write for a
    ``carbonx.access`` record (same fields, same order). An error (a 5xx, an exception) goes
    through ``logging`` at once, as do all lines while no handler is attached (a program that
    did not call ``configure_logging``). ``flush()`` writes what waits; the gateway calls it
    on shutdown."""

    FLUSH_S = 0.1
    BATCH_LINES = 256

    def __init__(self) -> None:
        self._handler: logging.StreamHandler[TextIO] | None = None
        self._format: LogFormat = "json"
        self._waiting: list[tuple[float, str, dict[str, Any]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None

    def attach(self, handler: logging.StreamHandler[TextIO], fmt: LogFormat, level: int) -> None:
        self.flush()
        # Only when access lines at INFO are wanted at all; otherwise logging decides.
        self._handler = handler if level <= logging.INFO else None
        self._format = fmt

    def detach(self) -> None:
        """Write what waits; from now on access lines go through ``logging``."""
        self.flush()
        self._handler = None

    def add(self, message: str, fields: dict[str, Any]) -> None:
        if self._handler is None or access_log.disabled:
            access_log.info(message, extra=fields)
            return
        self._waiting.append((time.time(), message, fields))
        if len(self._waiting) >= self.BATCH_LINES:
            self.flush()
        else:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()
                return
            # A loop that ended with lines waiting leaves its timer behind: not this loop's.
            if self._timer is None or self._timer_loop is not loop:
                self._timer = loop.call_later(self.FLUSH_S, self.flush)
                self._timer_loop = loop

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiting, self._waiting = self._waiting, []
        handler = self._handler
        if not waiting or handler is None:
            return
        line = _json_line if self._format == "json" else _text_line
        text = "".join(line(created, message, fields) for created, message, fields in waiting)
        with handler.lock or contextlib.nullcontext():
            try:
                handler.stream.write(text)
                handler.flush()
            except (OSError, ValueError):  # a closed stream: nowhere left to log
                pass


def _json_line(created: float, message: str, fields: dict[str, Any]) -> str:
    entry: dict[str, Any] = {
        "ts": dt.datetime.fromtimestamp(created, dt.UTC).isoformat(timespec="milliseconds"),
        "level": "INFO",
        "logger": access_log.name,
        "msg": message,
    }
    entry.update(fields)
    return redact(json.dumps(entry, default=str, ensure_ascii=False)) + "\n"


def _text_line(created: float, message: str, fields: dict[str, Any]) -> str:
    at = dt.datetime.fromtimestamp(created).strftime("%Y-%m-%d %H:%M:%S")
    millis = int(created % 1 * 1000)
    extras = " ".join(f"{k}={v}" for k, v in fields.items())
    return redact(f"{at},{millis:03d} INFO {access_log.name} {message} {extras}") + "\n"


access_lines = AccessLines()


def _key_id(scope: Scope) -> str | None:
    """The public id of the request's bearer key, without keeping the key."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token:
                return key_id_of(token.strip())
    return None


class RequestLogMiddleware:
    """Log each HTTP request (and each WebSocket session) as one ``carbonx.access`` line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500 if scope["type"] == "http" else 1000

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "websocket.close":
                status = message.get("code", 1000)
            await send(message)

        failed = False
        try:
            await self.app(scope, receive, send_and_note)
        except Exception:
            failed = True
            status = 500
            raise
        finally:
            self._log(scope, status, (time.perf_counter() - started) * 1000, failed)

    @staticmethod
    def _log(scope: Scope, status: int, duration_ms: float, failed: bool) -> None:
        route = scope.get("route")
        path = getattr(route, "path", None) or scope.get("path", "")
        method = scope.get("method", "WS") if scope["type"] == "http" else "WS"
        fields = {
            "method": method,
            "path": path,
            "operation_id": getattr(route, "operation_id", None),
            "status": status,
            "duration_ms": round(duration_ms, 3),
            "key_id": _key_id(scope),
            "market_id": scope.get("path_params", {}).get("market_id"),
        }
        # HTTP: a 5xx is the server's fault; WebSocket close codes are not HTTP statuses, and
        # only 1011 (internal error) is.
        server_error = status >= 500 if scope["type"] == "http" else status == 1011
        if failed or server_error:
            access_log.error("%s %s %s", method, path, status, extra=fields)
        else:
            access_lines.add(f"{method} {path} {status}", fields)
