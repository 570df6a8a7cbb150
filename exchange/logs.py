"""Structured logs: ``configure_logging("json" | "text")`` and ``RequestLogMiddleware``.

In ``json`` each record is one JSON object a line: ``ts`` (UTC, ISO 8601), ``level``,
``logger``, ``msg`` and the record's extra fields (``log.info("...", extra={"market_id": m})``).
``text`` is the same for people. Every record of the process goes through the root logger
(uvicorn's and the runtime's too), so one format holds for all.

``RequestLogMiddleware`` logs one ``carbonx.access`` line per request: ``method``, ``path``
(the route's template, ``/v1/markets/{market_id}/orders/{order_id}``, never the raw URL and
never the query string), ``operation_id``, ``status``, ``duration_ms``, ``key_id`` (the key's
public name, see ``exchange.api.auth``) and ``market_id``. It replaces uvicorn's access log,
which writes raw URLs (a WebSocket's ``?key=`` included). Keys and ``Authorization`` headers are
never logged, and as a second guard both formatters mask anything that looks like a key
(``cx_...``) or a bearer token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import sys
import time
from typing import Any, Literal, TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

LogFormat = Literal["json", "text"]
FORMATS: tuple[LogFormat, ...] = ("json", "text")
ENV_VAR = "CARBONX_LOG_FORMAT"
KEY_ID_LENGTH = 12  # exchange.api.auth.key_id_of: the first 12 hex digits of the key's sha256

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


def _key_id(scope: Scope) -> str | None:
    """The public id of the request's bearer key, without keeping the key."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token:
                return hashlib.sha256(token.strip().encode()).hexdigest()[:KEY_ID_LENGTH]
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
        level = logging.ERROR if failed or server_error else logging.INFO
        access_log.log(level, "%s %s %s", method, path, status, extra=fields)
