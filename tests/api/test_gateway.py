"""The REST gateway against a real ``carbonx demo`` process (uvicorn on loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import client
from tests.api.server import DemoServer, start_demo

BUY_100 = {"symbol": "CEA2025", "side": "buy", "order_type": "limit", "qty_t": 100}
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api") / "demo.db"


@pytest.fixture(scope="module")
def server(database: Path) -> Iterator[DemoServer]:
    running = start_demo(database)
    try:
        yield running
    finally:
        running.stop()


def book(c: httpx.Client) -> dict[str, Any]:
    response = c.get("/v1/markets/demo/book/CEA2025")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def place(c: httpx.Client, **order: Any) -> httpx.Response:
    return c.post("/v1/markets/demo/orders", json={**BUY_100, **order})


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert (body["status"], body["code"]) == (status, code)
    assert {"type", "title", "detail"} <= body.keys()
    return body


def test_healthz_needs_no_key(server: DemoServer) -> None:
    with client(server, None) as c:
        assert c.get("/healthz").json() == {"status": "ok"}


def test_the_demo_order_rests_in_the_book(p001: httpx.Client) -> None:
    response = place(p001, price_fen=5990)
    assert response.status_code == 201, response.text
    placed = response.json()
    assert (placed["status"], placed["fills"]) == ("new", [])
    assert {"price_fen": 5990, "qty_t": 100, "order_count": 1} in book(p001)["bids"]
    order = p001.get(f"/v1/markets/demo/orders/{placed['order_id']}").json()
    assert (order["account_id"], order["leaves_t"], order["status"]) == ("P001", 100, "new")


def test_a_repeated_client_order_id_places_one_order(p001: httpx.Client) -> None:
    first = place(p001, price_fen=5980, client_order_id="same-1")
    again = place(p001, price_fen=5980, client_order_id="same-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["order_id"] == first.json()["order_id"]
    assert again.json()["repeated"] is True
    level = next(b for b in book(p001)["bids"] if b["price_fen"] == 5980)
    assert (level["qty_t"], level["order_count"]) == (100, 1)


def test_an_order_that_ends_at_once_answers_its_final_status(p001: httpx.Client) -> None:
    low, high = book(p001)["band_lower_fen"], book(p001)["band_upper_fen"]
    ioc = place(p001, order_type="ioc", price_fen=low).json()  # no seller that low
    assert (ioc["status"], ioc["cancel_reason"], ioc["fills"]) == ("cancelled", "ioc_remainder", [])
    fok = place(p001, order_type="fok", price_fen=low).json()
    assert (fok["status"], fok["cancel_reason"]) == ("cancelled", "fok_not_fillable")
    # P001's own ask at the top of the band, then its buy there: self-trade prevention
    # (cancel the newest, the default) cancels the buy instead of trading with itself.
    ask = place(p001, side="sell", price_fen=high, qty_t=1).json()
    assert (ask["status"], ask["cancel_reason"]) == ("new", None)
    stp = place(p001, price_fen=high, qty_t=1, client_order_id="stp-1").json()
    assert (stp["status"], stp["cancel_reason"], stp["fills"]) == ("cancelled", "stp", [])
    again = place(p001, price_fen=high, qty_t=1, client_order_id="stp-1").json()
    assert (again["repeated"], again["status"], again["cancel_reason"]) == (
        True,
        "cancelled",
        "stp",
    )
    order = p001.get(f"/v1/markets/demo/orders/{stp['order_id']}").json()
    assert (order["status"], order["cancel_reason"]) == ("cancelled", "stp")
    p001.delete(f"/v1/markets/demo/orders/{ask['order_id']}")


def test_another_participants_order_and_balances_stay_invisible(
    p001: httpx.Client, p002: httpx.Client
) -> None:
    order_id = place(p001, price_fen=5970).json()["order_id"]
    assert_problem(p002.get(f"/v1/markets/demo/orders/{order_id}"), 404, "UNKNOWN_ORDER")
    body = assert_problem(p002.delete(f"/v1/markets/demo/orders/{order_id}"), 404, "UNKNOWN_ORDER")
    assert body["order_id"] == order_id
    assert_problem(p002.get("/v1/markets/demo/accounts/P001/balances"), 403, "FORBIDDEN")
    assert any(b["price_fen"] == 5970 for b in book(p001)["bids"])  # still resting
    cancelled = p001.delete(f"/v1/markets/demo/orders/{order_id}")
    assert cancelled.status_code == 200
    assert not any(b["price_fen"] == 5970 for b in book(p001)["bids"])


def test_own_balances_show_cash_and_allowances(p002: httpx.Client) -> None:
    response = p002.get("/v1/markets/demo/accounts/P002/balances")
    assert response.status_code == 200, response.text
    balances = response.json()
    assert balances["cash"]["available_fen"] + balances["cash"]["held_fen"] > 0
    cea = next(h for h in balances["holdings"] if h["unit"] == "CEA2025")
    assert cea["available_t"] + cea["held_t"] == 10_000


def test_roles_and_keys_are_checked(server: DemoServer, p001: httpx.Client) -> None:
    participant = {"account_id": "P009", "name": "Someone"}
    assert_problem(p001.post("/v1/markets/demo/participants", json=participant), 403, "FORBIDDEN")
    with client(server, None) as anonymous:
        response = anonymous.post("/v1/markets/demo/orders", json={**BUY_100, "price_fen": 6000})
        assert_problem(response, 401, "UNAUTHENTICATED")
        assert response.headers["www-authenticate"] == "Bearer"
    with client(server, "cx_not-a-key") as stranger:
        assert_problem(stranger.get("/v1/markets/demo/book/CEA2025"), 401, "UNAUTHENTICATED")


def test_malformed_input_is_a_422_problem(p001: httpx.Client) -> None:
    headers = {"Content-Type": "application/json"}
    broken = p001.post("/v1/markets/demo/orders", content=b'{"symbol": ', headers=headers)
    assert_problem(broken, 422, "INVALID_REQUEST")
    as_text = place(p001, qty_t="100", price_fen=6000)  # strict: a string is not a quantity
    body = assert_problem(as_text, 422, "INVALID_REQUEST")
    assert ["body", "qty_t"] in [e["loc"] for e in body["errors"]]
    assert_problem(place(p001, qty_t=2**70, price_fen=6000), 422, "INVALID_REQUEST")
    assert_problem(place(p001, price_fen=6000, colour="red"), 422, "INVALID_REQUEST")
    assert_problem(p001.delete(f"/v1/markets/demo/orders/{2**64}"), 422, "INVALID_REQUEST")
    assert_problem(p001.get("/v1/markets/demo/orders/first"), 422, "INVALID_REQUEST")


def test_a_price_outside_the_band_is_a_409_with_the_band(p001: httpx.Client) -> None:
    body = assert_problem(place(p001, price_fen=9000), 409, "PRICE_OUTSIDE_BAND")
    assert body["price_fen"] == 9000
    assert body["band_lower_fen"] < body["reference_price_fen"] < body["band_upper_fen"] < 9000


def test_a_crossing_sell_trades(p001: httpx.Client, p002: httpx.Client) -> None:
    best_bid = book(p001)["bids"][0]
    sell = {"side": "sell", "qty_t": 30, "price_fen": best_bid["price_fen"]}
    response = place(p002, **sell)
    assert response.status_code == 201, response.text
    fills = response.json()["fills"]
    assert [(f["price_fen"], f["qty_t"]) for f in fills] == [(best_bid["price_fen"], 30)]
    assert book(p001)["bids"][0]["qty_t"] == best_bid["qty_t"] - 30


def test_an_operator_opens_a_participant_who_can_trade(
    server: DemoServer, operator: httpx.Client
) -> None:
    new = {
        "account_id": "P003",
        "name": "New trader",
        "cash_fen": 1_000_000,
        "allowances": [{"vintage": 2025, "qty_t": 500}],
    }
    response = operator.post("/v1/markets/demo/participants", json=new)
    assert response.status_code == 201, response.text
    key = response.json()["api_key"]
    assert_problem(operator.post("/v1/markets/demo/participants", json=new), 409, "ACCOUNT_EXISTS")
    with client(server, key) as p003:
        balances = p003.get("/v1/markets/demo/accounts/P003/balances").json()
        assert balances["cash"]["available_fen"] == 1_000_000
        assert balances["holdings"][0]["available_t"] == 500
        assert place(p003, qty_t=1, price_fen=6000).status_code == 201


def metrics(server: DemoServer) -> dict[str, float]:
    """``GET /metrics`` (no key) as ``{name: value}`` for market ``demo``."""
    response = httpx.get(server.base_url + "/metrics", timeout=10.0)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    values: dict[str, float] = {}
    for line in response.text.splitlines():
        if line.startswith("#"):
            continue
        sample, value = line.rsplit(" ", 1)
        name, labels = sample.split("{", 1)
        assert labels == 'market="demo"}', line
        values[name] = float(value)
    return values


def test_metrics_count_an_order(server: DemoServer, p001: httpx.Client) -> None:
    text = httpx.get(server.base_url + "/metrics", timeout=10.0).text
    assert "# TYPE carbonx_commands_total counter" in text
    assert "# HELP carbonx_queue_depth " in text
    before = metrics(server)
    expected = {
        "carbonx_commands_total",
        "carbonx_orders_total",
        "carbonx_trades_total",
        "carbonx_queue_depth",
        "carbonx_commits_total",
        "carbonx_commit_seconds_sum",
        "carbonx_commit_seconds_max",
        "carbonx_commit_latency_p99_ms",
    }
    assert expected <= before.keys()
    placed = place(p001, price_fen=5950)
    assert placed.status_code == 201, placed.text
    after = metrics(server)
    assert after["carbonx_commands_total"] >= before["carbonx_commands_total"] + 1
    assert after["carbonx_orders_total"] == placed.json()["order_id"]
    assert after["carbonx_orders_total"] > before["carbonx_orders_total"]
    assert after["carbonx_commits_total"] > before["carbonx_commits_total"]
    assert after["carbonx_commit_seconds_sum"] > before["carbonx_commit_seconds_sum"]
    assert 0 < after["carbonx_commit_seconds_max"] <= after["carbonx_commit_seconds_sum"]
    assert after["carbonx_commit_latency_p99_ms"] > 0
    assert after["carbonx_queue_depth"] == 0  # nothing waits once the order is answered
    assert after["carbonx_trades_total"] >= before["carbonx_trades_total"]
    assert "metrics" not in str(p001.get("/openapi.json").json()["paths"])


def test_an_observer_key_reads_but_does_not_trade(
    server: DemoServer, operator: httpx.Client
) -> None:
    response = operator.post("/v1/markets/demo/keys", json={"role": "observer"})
    assert response.status_code == 201, response.text
    issued = response.json()
    assert (issued["role"], issued["account_id"]) == ("observer", None)
    assert len(issued["key_id"]) == 12
    with client(server, issued["api_key"]) as observer:
        assert book(observer)["symbol"] == "CEA2025"
        assert_problem(place(observer, price_fen=6000), 403, "FORBIDDEN")
        assert_problem(observer.get("/v1/markets/demo/accounts/P001/balances"), 403, "FORBIDDEN")
        body = assert_problem(
            observer.post("/v1/markets/demo/keys", json={"role": "observer"}), 403, "FORBIDDEN"
        )
        assert body["role"] == "observer"


def test_only_an_operator_issues_keys_and_participant_keys_need_a_trading_account(
    operator: httpx.Client, p001: httpx.Client
) -> None:
    assert_problem(p001.post("/v1/markets/demo/keys", json={"role": "observer"}), 403, "FORBIDDEN")
    keys = "/v1/markets/demo/keys"
    assert_problem(operator.post(keys, json={"role": "participant"}), 422, "INVALID_REQUEST")
    with_account = {"role": "observer", "account_id": "P001"}
    assert_problem(operator.post(keys, json=with_account), 422, "INVALID_REQUEST")
    unknown = {"role": "participant", "account_id": "P404"}
    body = assert_problem(operator.post(keys, json=unknown), 404, "UNKNOWN_ACCOUNT")
    assert body["account_id"] == "P404"
    assert_problem(operator.post(keys, json={"role": "auditor"}), 422, "INVALID_REQUEST")


def test_a_revoked_key_is_refused(server: DemoServer, operator: httpx.Client) -> None:
    issued = operator.post(
        "/v1/markets/demo/keys", json={"role": "participant", "account_id": "P002"}
    )
    assert issued.status_code == 201, issued.text
    key_id, key = issued.json()["key_id"], issued.json()["api_key"]
    with client(server, key) as second_p002:
        assert place(second_p002, qty_t=1, price_fen=5900).status_code == 201
        revoked = operator.delete(f"/v1/markets/demo/keys/{key_id}")
        assert revoked.status_code == 200, revoked.text
        assert revoked.json() == {"key_id": key_id, "revoked": True}
        book_response = second_p002.get("/v1/markets/demo/book/CEA2025")
        assert_problem(book_response, 401, "UNAUTHENTICATED")
        assert book_response.headers["www-authenticate"] == "Bearer"
    assert operator.delete(f"/v1/markets/demo/keys/{key_id}").status_code == 200  # again: fine
    body = assert_problem(operator.delete("/v1/markets/demo/keys/0123456789ab"), 404, "UNKNOWN_KEY")
    assert body["key_id"] == "0123456789ab"
    assert_problem(operator.delete("/v1/markets/demo/keys/not-a-key-id"), 422, "INVALID_REQUEST")
    with client(server, server.keys["participants"]["P002"]) as p002:  # the other key still works
        assert book(p002)["symbol"] == "CEA2025"


def test_a_restarted_demo_recovers_the_market_with_fresh_keys(
    server: DemoServer, database: Path, p001: httpx.Client
) -> None:
    before = book(p001)
    trades = p001.get("/v1/markets/demo/trades").json()["trades"]
    fills = p001.get("/v1/markets/demo/fills").json()["fills"]
    assert trades
    assert fills
    old_key = server.keys["participants"]["P001"]
    server.stop()
    assert "Application shutdown complete" in server.log.read_text()  # the market drained
    again = start_demo(database)
    try:
        assert again.keys["participants"]["P001"] != old_key
        with client(again, again.keys["participants"]["P001"]) as c:
            after = book(c)
            assert c.get("/v1/markets/demo/trades").json()["trades"] == trades  # the journal's
            assert c.get("/v1/markets/demo/fills").json()["fills"] == fills
        assert (after["bids"], after["asks"]) == (before["bids"], before["asks"])
    finally:
        again.stop()
