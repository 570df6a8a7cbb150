"""``exchange.client`` (REST, sync and async, and the WebSocket stream) against a real
``carbonx demo`` process, and the client's retry rules against a fake transport."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from exchange.client import (
    AsyncClient,
    CarbonxError,
    Client,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    Operation,
    RateLimitedError,
    RefusedError,
    RetryPolicy,
    SequenceGapError,
    Stream,
    UnauthenticatedError,
)
from tests.api.server import DemoServer, start_demo

SYMBOL = "CEA2025"
WAIT_S = 5.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    running = start_demo(tmp_path_factory.mktemp("client") / "demo.db")
    try:
        yield running
    finally:
        running.stop()


def keyed(server: DemoServer, who: str, **options: Any) -> Client:
    key = server.keys["operator_key"] if who == "operator" else server.keys["participants"][who]
    return Client(server.base_url, key, server.keys["market_id"], **options)


@pytest.fixture(scope="module")
def p001(server: DemoServer) -> Iterator[Client]:
    with keyed(server, "P001") as client:
        yield client


@pytest.fixture(scope="module")
def p002(server: DemoServer) -> Iterator[Client]:
    with keyed(server, "P002") as client:
        yield client


@pytest.fixture(autouse=True)
def no_resting_orders(p001: Client, p002: Client) -> Iterator[None]:
    """Each test starts and ends with an empty book of demo orders."""
    yield
    p001.cancel_all_orders()
    p002.cancel_all_orders()


def test_the_sync_client_places_amends_lists_and_cancels(p001: Client) -> None:
    placed = p001.place_order(SYMBOL, "buy", 10, 5900)
    assert (placed["status"], placed["repeated"], placed["fills"]) == ("new", False, [])
    order_id = placed["order_id"]
    amended = p001.amend_order(order_id, price_fen=5910, qty_t=20)
    assert (amended["order_id"], amended["status"]) == (order_id, "amended")
    order = p001.get_order(order_id)
    assert (order["price_fen"], order["leaves_t"], order["status"]) == (5910, 20, "new")
    assert order_id in [o["order_id"] for o in p001.list_orders()["orders"]]
    assert {"price_fen": 5910, "qty_t": 20, "order_count": 1} in p001.get_book(SYMBOL)["bids"]
    cancelled = p001.cancel_order(order_id)
    assert (cancelled["order_id"], cancelled["status"]) == (order_id, "cancelled")
    assert p001.get_order(order_id)["status"] == "cancelled"
    assert order_id not in [o["order_id"] for o in p001.list_orders()["orders"]]
    ready = p001.readiness()
    assert ready["status"] == "ready"
    assert [(m["market_id"], m["state"]) for m in ready["markets"]] == [("demo", "running")]


def test_the_async_client_trades_and_sees_its_fills(server: DemoServer) -> None:
    async def scenario() -> tuple[Any, Any, Any, Any]:
        p001, p002 = (keyed_async(server, who) for who in ("P001", "P002"))
        async with p001, p002:
            resting = await p001.place_order(SYMBOL, "buy", 10, 5990)
            crossing = await p002.place_order(SYMBOL, "sell", 10, 5990, order_type="ioc")
            fill = (await p001.list_fills(symbol=SYMBOL, limit=1))["fills"][0]
            tape = (await p002.list_trades(symbol=SYMBOL, limit=1))["trades"][0]
            return resting, crossing, fill, tape

    resting, crossing, fill, tape = asyncio.run(scenario())
    (trade,) = crossing["fills"]
    assert (trade["price_fen"], trade["qty_t"]) == (5990, 10)
    assert (fill["trade_id"], fill["order_id"], fill["side"]) == (
        trade["trade_id"],
        resting["order_id"],
        "buy",
    )
    assert (tape["trade_id"], tape["aggressor"]) == (trade["trade_id"], "sell")


def keyed_async(server: DemoServer, who: str) -> AsyncClient:
    key = server.keys["participants"][who]
    return AsyncClient(server.base_url, key, server.keys["market_id"])


def test_a_refusal_raises_with_its_code_and_numbers(p001: Client) -> None:
    with pytest.raises(RefusedError) as refused:
        p001.place_order(SYMBOL, "buy", 10, 9000)
    error = refused.value
    assert (error.status, error.code, error.operation_id) == (
        409,
        "PRICE_OUTSIDE_BAND",
        "placeOrder",
    )
    assert error["price_fen"] == 9000
    book = p001.get_book(SYMBOL)
    assert (error["band_lower_fen"], error["band_upper_fen"]) == (
        book["band_lower_fen"],
        book["band_upper_fen"],
    )
    with pytest.raises(NotFoundError) as unknown:
        p001.get_order(987654)
    assert (unknown.value.code, unknown.value["order_id"]) == ("UNKNOWN_ORDER", 987654)
    with pytest.raises(InvalidRequestError) as invalid:
        p001.list_trades(limit=501)
    assert invalid.value.numbers["errors"][0]["loc"] == ["query", "limit"]


def test_unauthenticated_and_forbidden_keys_raise(server: DemoServer, p001: Client) -> None:
    with (
        Client(server.base_url, "cx_not-a-key", "demo") as stranger,
        pytest.raises(UnauthenticatedError) as unknown,
    ):
        stranger.get_book(SYMBOL)
    assert (unknown.value.status, unknown.value.code) == (401, "UNAUTHENTICATED")
    with pytest.raises(ForbiddenError) as forbidden:
        p001.get_balances("P002")
    assert (forbidden.value.code, forbidden.value["account_id"]) == ("FORBIDDEN", "P002")
    with keyed(server, "operator") as operator:
        issued = operator.issue_key("observer")
        with Client(server.base_url, issued["api_key"], "demo") as observer:
            assert observer.get_book(SYMBOL)["symbol"] == SYMBOL
            with pytest.raises(ForbiddenError) as role:
                observer.place_order(SYMBOL, "buy", 10, 5900)
            assert role.value["role"] == "observer"
            assert operator.revoke_key(issued["key_id"])["revoked"] is True
            with pytest.raises(UnauthenticatedError):
                observer.get_book(SYMBOL)


class LosesFirstReply(httpx.HTTPTransport):
    """Delivers every request but loses the first reply, as a dropped connection would."""

    def __init__(self) -> None:
        super().__init__()
        self.sent = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        response = super().handle_request(request)
        if self.sent == 1:
            response.close()
            raise httpx.ReadError("connection lost", request=request)
        return response


def test_a_retried_order_is_placed_once(server: DemoServer, p001: Client) -> None:
    flaky = LosesFirstReply()
    with keyed(server, "P001", transport=flaky, retry=RetryPolicy(backoff_s=0)) as client:
        placed = client.place_order(SYMBOL, "buy", 10, 5800, retry=True)
    assert flaky.sent == 2
    assert placed["repeated"] is True  # the first request reached the market
    mine = [o for o in p001.list_orders()["orders"] if o["price_fen"] == 5800]
    assert [o["order_id"] for o in mine] == [placed["order_id"]]
    lossy = LosesFirstReply()
    with keyed(server, "P001", transport=lossy) as client, pytest.raises(httpx.ReadError):
        client.place_order(SYMBOL, "buy", 10, 5810)  # no retry=True: not repeatable
    assert lossy.sent == 1


def rate_limited_then(status: int, retry_after: str, limited: int) -> httpx.MockTransport:
    """A fake gateway: ``limited`` 429s with ``Retry-After``, then ``status``."""
    seen: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(1)
        if len(seen) <= limited:
            problem = {"status": 429, "code": "RATE_LIMITED", "detail": "slow down"}
            problem |= {"limit_per_s": 5, "burst": 5, "retry_after_s": int(float(retry_after))}
            return httpx.Response(429, json=problem, headers={"Retry-After": retry_after})
        return httpx.Response(status, json={"status": "ok"})

    return httpx.MockTransport(answer)


def test_429_is_retried_only_when_asked_and_within_bounds() -> None:
    with (
        Client("http://x", "k", transport=rate_limited_then(200, "0", 1)) as client,
        pytest.raises(RateLimitedError) as limited,
    ):
        client.health()  # retries are off by default
    assert (limited.value.code, limited.value["limit_per_s"], limited.value.retry_after_s) == (
        "RATE_LIMITED",
        5,
        0.0,
    )
    twice = RetryPolicy(rate_limited=2)
    with Client("http://x", "k", retry=twice, transport=rate_limited_then(200, "0", 2)) as client:
        assert client.health() == {"status": "ok"}
    with (
        Client("http://x", "k", retry=twice, transport=rate_limited_then(200, "0", 3)) as client,
        pytest.raises(RateLimitedError),
    ):
        client.health()  # a third 429 is beyond the bound
    patient = RetryPolicy(rate_limited=5, max_wait_s=1.0)
    with (
        Client("http://x", "k", retry=patient, transport=rate_limited_then(200, "60", 1)) as c,
        pytest.raises(RateLimitedError) as far,
    ):
        c.health()  # Retry-After beyond max_wait_s: raised at once, not waited for
    assert far.value.retry_after_s == 60.0


def test_the_stream_receives_a_trade_it_caused_with_gapless_seq(server: DemoServer) -> None:
    async def scenario() -> tuple[Stream, list[dict[str, Any]], Any]:
        p001, p002 = keyed_async(server, "P001"), keyed_async(server, "P002")
        async with p001, p002, p001.stream() as ws:
            assert (ws.role, ws.account_id) == ("participant", "P001")
            await ws.subscribe("trades")
            await ws.subscribe("orders")
            with pytest.raises(NotFoundError) as unknown:
                await ws.subscribe("book:CEA1999")
            assert unknown.value["symbol"] == "CEA1999"
            resting = await p001.place_order(SYMBOL, "buy", 10, 5980)
            crossing = await p002.place_order(SYMBOL, "sell", 10, 5980)
            seen: list[dict[str, Any]] = []
            while not any(m["type"] == "trade" for m in seen):
                seen.append(await ws.next(WAIT_S))
            while not any(m["type"] == "fill" for m in seen):
                seen.append(await ws.next(WAIT_S))
            return ws, seen, (resting, crossing)

    ws, seen, (resting, crossing) = asyncio.run(scenario())
    trade_id = crossing["fills"][0]["trade_id"]
    trade = next(m for m in seen if m["type"] == "trade")
    assert (trade["trade_id"], trade["price_fen"], trade["qty_t"]) == (trade_id, 5980, 10)
    fill = next(m for m in seen if m["type"] == "fill")
    assert (fill["order_id"], fill["side"], fill["trade_id"]) == (
        resting["order_id"],
        "buy",
        trade_id,
    )
    seqs = [m["seq"] for m in seen]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # and none lost before them
    assert ws.gaps == []
    assert ws.last_seq == seqs[-1]


def test_a_sequence_gap_raises_or_is_flagged() -> None:
    strict = Stream("http://x", "k", "demo")
    strict._check_seq({"seq": 1})
    with pytest.raises(SequenceGapError) as gap:
        strict._check_seq({"seq": 3})
    assert (gap.value.expected, gap.value.got) == (2, 3)
    lenient = Stream("http://x", "k", "demo", on_gap="flag")
    for seq in (1, 2, 5, 6):
        lenient._check_seq({"seq": seq})
    assert (lenient.gaps, lenient.last_seq) == ([(3, 5)], 6)


def snake(operation_id: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()


def test_every_operation_of_the_server_has_a_client_method(server: DemoServer) -> None:
    """Reads the running server's OpenAPI document, so a new endpoint without a client method
    fails here."""
    document = httpx.get(server.base_url + "/openapi.json", timeout=WAIT_S).json()
    served = {
        op["operationId"]
        for path in document["paths"].values()
        for op in path.values()
        if isinstance(op, dict) and "operationId" in op
    }
    assert {"placeOrder", "getBook", "health"} <= served
    for client in (Client, AsyncClient):
        methods = {
            name: getattr(client, name)
            for name in dir(client)
            if isinstance(getattr(client, name), Operation)
        }
        known = {method.operation_id: name for name, method in methods.items()}
        missing = sorted(served - known.keys())
        assert not missing, f"{client.__name__} has no method for {missing}"
        assert {snake(op): op for op in served} == {name: op for op, name in known.items()}


def test_a_server_error_without_a_problem_body_still_raises() -> None:
    def gateway_down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>bad gateway</html>")

    with (
        Client("http://x", "k", "demo", transport=httpx.MockTransport(gateway_down)) as client,
        pytest.raises(CarbonxError) as error,
    ):
        client.get_book(SYMBOL)
    assert (error.value.status, error.value.code) == (502, "HTTP_502")
    assert "bad gateway" in error.value.detail


def test_orders_over_the_stream_answer_like_rest(server: DemoServer) -> None:
    async def scenario() -> tuple[Any, Any, Any, RefusedError, Any]:
        async with keyed_async(server, "P001").stream() as ws:
            placed = await ws.place(SYMBOL, "buy", 10, 5700, client_order_id="ws-order-1")
            again = await ws.place(SYMBOL, "buy", 10, 5700, client_order_id="ws-order-1")
            with pytest.raises(RefusedError) as refused:
                await ws.place(SYMBOL, "buy", 10, 9000)
            cancelled = await ws.cancel(placed["order_id"])
            pong = await ws.ping()
            return placed, again, cancelled, refused.value, pong

    placed, again, cancelled, refused, pong = asyncio.run(scenario())
    assert (placed["status"], placed["repeated"]) == ("new", False)
    assert (again["order_id"], again["repeated"]) == (placed["order_id"], True)
    assert (refused.code, refused["price_fen"], refused.status) == ("PRICE_OUTSIDE_BAND", 9000, 409)
    assert refused["band_upper_fen"] < 9000
    assert (cancelled["order_id"], cancelled["status"]) == (placed["order_id"], "cancelled")
    assert pong["type"] == "pong"


def test_new_market_data_and_clock_operations_reach_their_routes(p001: Client) -> None:
    """A sample of the operations beyond order entry, to check paths and arguments."""
    market = p001.get_market()
    assert (market["market_id"], SYMBOL in market["instruments"]) == ("demo", True)
    assert SYMBOL in [i["symbol"] for i in p001.list_instruments()["instruments"]]
    quote = p001.get_quote(SYMBOL)
    assert (quote["symbol"], quote["band_upper_fen"]) == (
        SYMBOL,
        p001.get_book(SYMBOL)["band_upper_fen"],
    )
    assert p001.get_bars(SYMBOL, "1m", limit=5)["interval"] == "1m"
    assert len(p001.get_book(SYMBOL, depth=1)["bids"]) <= 1
    holdings = p001.get_holdings("P001")
    assert holdings["account_id"] == "P001"
    assert holdings["totals"]["total_t"] > 0
    placed = p001.place_order(SYMBOL, "buy", 10, 5600, client_order_id="by-client-id-1")
    found = p001.get_order_by_client_id("by-client-id-1")
    assert (found["order_id"], found["client_order_id"]) == (placed["order_id"], "by-client-id-1")


def test_the_client_imports_nothing_from_the_server() -> None:
    """The client must work installed alone: only its own modules, httpx and websockets."""
    root = Path(__file__).resolve().parents[2] / "exchange" / "client"
    imported = {
        m.group(1)
        for source in root.glob("*.py")
        for m in re.finditer(r"^(?:from|import) ([\w.]+)", source.read_text(), re.MULTILINE)
    }
    ours = {name for name in imported if name.split(".")[0] in FIRST_PARTY}
    assert "exchange.client.transport" in ours
    assert {name for name in ours if not name.startswith("exchange.client")} == set()


FIRST_PARTY = {"exchange", "matching", "registry_sim", "settlement"}
