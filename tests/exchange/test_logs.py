"""``exchange.logs``: the JSON and text formats, the request log middleware, and a real
``carbonx demo`` whose JSON log has one request line per request and no key."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from exchange.logs import (
    JsonFormatter,
    RequestLogMiddleware,
    TextFormatter,
    _json_line,
    _text_line,
    access_lines,
    configure_logging,
    log_format,
    redact,
)
from tests.api.server import DemoServer, start_demo

KEY = "cx_" + "k" * 43
KEY_ID = hashlib.sha256(KEY.encode()).hexdigest()[:12]  # its public name


def record(msg: str, *args: Any, **extra: Any) -> logging.LogRecord:
    made = logging.LogRecord("carbonx.test", logging.INFO, __file__, 1, msg, args, None)
    made.__dict__.update(extra)
    return made


def test_json_is_one_object_a_line_with_the_extra_fields() -> None:
    line = JsonFormatter().format(record("market %s open", "demo", market_id="demo", seq=9))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry.keys() == {"ts", "level", "logger", "msg", "market_id", "seq"}
    assert (entry["level"], entry["logger"], entry["msg"]) == (
        "INFO",
        "carbonx.test",
        "market demo open",
    )
    assert (entry["market_id"], entry["seq"]) == ("demo", 9)
    assert entry["ts"].endswith("+00:00")


def test_keys_and_bearer_tokens_are_masked_in_both_formats() -> None:
    leaky = record("auth %s", f"Bearer {KEY}", url=f"/v1/ws?key={KEY}")
    for formatter in (JsonFormatter(), TextFormatter()):
        line = formatter.format(leaky)
        assert KEY not in line
        assert "cx_***" in line
    assert redact("Authorization: bearer abc.def") == "Authorization: bearer ***"
    assert redact("cx_short is fine, seq 12") == "cx_short is fine, seq 12"


def test_the_format_comes_from_the_option_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CARBONX_LOG_FORMAT", raising=False)
    assert log_format(None, "text") == "text"
    monkeypatch.setenv("CARBONX_LOG_FORMAT", "json")
    assert log_format(None, "text") == "json"
    assert log_format("text", "json") == "text"
    with pytest.raises(ValueError, match="yaml"):
        log_format("yaml", "json")


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Configure logging into a buffer; restore the root logger afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    buffer = io.StringIO()
    configure_logging("json", stream=buffer)
    try:
        yield buffer
    finally:
        access_lines.detach()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        logging.getLogger("uvicorn.access").disabled = False


def test_the_middleware_logs_the_route_template_and_operation(captured: io.StringIO) -> None:
    app = FastAPI()
    app.add_middleware(RequestLogMiddleware)

    @app.get("/v1/markets/{market_id}/orders/{order_id}", operation_id="getOrder")
    async def get_order(market_id: str, order_id: int) -> dict[str, int]:
        return {"order_id": order_id}

    @app.get("/boom", operation_id="boom")
    async def boom() -> None:
        raise RuntimeError("broken")

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            headers = {"Authorization": f"Bearer {KEY}"}
            assert (await client.get("/v1/markets/demo/orders/7?x=1", headers=headers)).is_success
            assert (await client.get("/boom")).status_code == 500

    asyncio.run(scenario())
    access_lines.flush()  # access lines are written in batches
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "carbonx.access"]
    # An error is written at once; the other lines follow in their batch.
    failed, ok = sorted(access, key=lambda line: line["status"], reverse=True)
    assert ok == {
        **ok,
        "method": "GET",
        "path": "/v1/markets/{market_id}/orders/{order_id}",
        "operation_id": "getOrder",
        "status": 200,
        "market_id": "demo",
        "key_id": KEY_ID,
    }
    assert isinstance(ok["duration_ms"], float)
    assert (failed["status"], failed["level"], failed["operation_id"]) == (500, "ERROR", "boom")
    assert KEY not in captured.getvalue()
    assert not any("x=1" in json.dumps(line) for line in access)  # no query strings


def test_a_websocket_closed_normally_is_logged_at_info(captured: io.StringIO) -> None:
    async def closes_normally(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1000})

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        pass

    scope: Scope = {"type": "websocket", "path": "/v1/ws", "headers": []}
    asyncio.run(RequestLogMiddleware(closes_normally)(scope, receive, send))
    access_lines.flush()  # access lines are written in batches
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    (closed,) = [line for line in lines if line["logger"] == "carbonx.access"]
    assert (closed["method"], closed["status"], closed["level"]) == ("WS", 1000, "INFO")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    database = tmp_path_factory.mktemp("logs") / "demo.db"
    running = start_demo(database, {"CARBONX_LOG_FORMAT": "json"})
    try:
        yield running
    finally:
        running.stop()


def test_a_json_server_logs_each_request_once_and_never_a_key(server: DemoServer) -> None:
    operator = {"Authorization": f"Bearer {server.keys['operator_key']}"}
    issued = httpx.post(
        server.base_url + "/v1/markets/demo/keys",
        json={"role": "participant", "account_id": "P001"},
        headers=operator,
        timeout=10.0,
    ).json()
    key = issued["api_key"]  # never printed by the server: only this test knows it
    order = {"symbol": "CEA2025", "side": "buy", "qty_t": 10, "price_fen": 9999}
    refused = httpx.post(
        server.base_url + "/v1/markets/demo/orders",
        json=order,
        headers={"Authorization": f"Bearer {key}"},
        timeout=10.0,
    )
    assert refused.status_code == 409
    server.stop()  # flushes the log
    text = server.log.read_text()
    assert key not in text
    entries = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert entries, text
    assert {e["logger"] for e in entries} >= {"carbonx.api", "carbonx.access", "uvicorn.error"}
    assert any(e["msg"].startswith("market demo open at seq") for e in entries)
    orders = [e for e in entries if e.get("operation_id") == "placeOrder"]
    assert len(orders) == 1
    (line,) = orders
    assert line == {
        **line,
        "logger": "carbonx.access",
        "method": "POST",
        "path": "/v1/markets/{market_id}/orders",
        "status": 409,
        "key_id": issued["key_id"],
        "market_id": "demo",
    }
    assert line["duration_ms"] >= 0
    for entry in entries:
        assert all(k.lower() != "authorization" for k in entry)


def test_batched_access_lines_read_as_the_formatters_write_them() -> None:
    fields = {"method": "POST", "path": "/v1/markets/{market_id}/orders", "status": 201}
    record = logging.LogRecord("carbonx.access", logging.INFO, "", 0, "POST /x 201", None, None)
    record.__dict__.update(fields)
    created = record.created
    assert _json_line(created, "POST /x 201", fields) == JsonFormatter().format(record) + "\n"
    assert _text_line(created, "POST /x 201", fields) == TextFormatter().format(record) + "\n"


def test_access_lines_wait_for_their_batch(captured: io.StringIO) -> None:
    async def serve() -> list[str]:
        access_lines.add("GET /healthz 200", {"status": 200})
        before = captured.getvalue()
        await asyncio.sleep(access_lines.FLUSH_S * 3)
        return [before, captured.getvalue()]

    before, after = asyncio.run(serve())
    assert before == ""
    assert json.loads(after)["msg"] == "GET /healthz 200"
    access_lines.add("GET /healthz 200", {"status": 200})  # no event loop: written at once
    assert len(captured.getvalue().splitlines()) == 2


def test_a_new_event_loop_gets_its_own_flush(captured: io.StringIO) -> None:
    """A loop that ends with lines waiting leaves its timer behind; the next loop's lines
    must not wait on it."""

    async def log_and_leave() -> None:
        access_lines.add("GET /a 200", {"status": 200})

    asyncio.run(log_and_leave())  # ends before its flush: the line waits

    async def log_and_wait() -> None:
        access_lines.add("GET /b 200", {"status": 200})
        await asyncio.sleep(access_lines.FLUSH_S * 3)

    asyncio.run(log_and_wait())
    assert [json.loads(line)["msg"] for line in captured.getvalue().splitlines()] == [
        "GET /a 200",
        "GET /b 200",
    ]
