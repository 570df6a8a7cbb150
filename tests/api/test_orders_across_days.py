"""``getOrder`` across a day roll: the market forgets finished orders at each day's end, and an
order of an earlier trading day, with or without a client order id, is read back from the
journal (exchange.db.order_history.past_order) for as long as the journal holds it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.server import DemoServer, start_demo
from tests.api.test_gateway import assert_problem, place

M = "/v1/markets/demo"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    running = start_demo(tmp_path_factory.mktemp("across-days") / "demo.db")
    try:
        yield running
    finally:
        running.stop()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def roll_the_day(operator: httpx.Client) -> None:
    """Close the day, clear it, open the next and its continuous session."""
    ok(operator.post(f"{M}/session/close-day"))
    ok(operator.post(f"{M}/session/end-of-day"))
    ok(operator.post(f"{M}/session/open-day", json={}))
    ok(operator.post(f"{M}/session", json={"state": "continuous"}))


def test_orders_of_an_earlier_day_are_read_by_id(
    server: DemoServer, p001: httpx.Client, p002: httpx.Client, operator: httpx.Client
) -> None:
    resting = ok(place(p001, price_fen=5_900, qty_t=100), 201)["order_id"]  # no client id
    traded = ok(place(p001, price_fen=5_950, qty_t=100, client_order_id="roll-1"), 201)
    sold = ok(place(p002, side="sell", price_fen=5_950, qty_t=40), 201)
    assert sold["fills"] == [{**sold["fills"][0], "qty_t": 40}]
    today = ok(p001.get(f"{M}/orders/{resting}"))
    assert today["priority"] is not None
    day = ok(p001.get("/v1/markets/demo"))["trading_day"]

    roll_the_day(operator)
    assert ok(p001.get("/v1/markets/demo"))["trading_day"] > day

    expired = ok(p001.get(f"{M}/orders/{resting}"))
    assert expired == {
        **today,
        "status": "cancelled",
        "cancel_reason": "expiry",
        "leaves_t": 0,
        "cancelled_t": 100,
        "priority": None,
    }
    partly = ok(p001.get(f"{M}/orders/{traded['order_id']}"))
    assert (partly["submitted_t"], partly["filled_t"], partly["cancelled_t"]) == (100, 40, 60)
    assert (partly["status"], partly["account_id"]) == ("cancelled", "P001")
    filled = ok(p002.get(f"{M}/orders/{sold['order_id']}"))
    assert (filled["status"], filled["filled_t"], filled["leaves_t"]) == ("filled", 40, 0)
    assert ok(operator.get(f"{M}/orders/{resting}"))["order_id"] == resting  # operators: any
    # Another participant's order stays invisible, on any day.
    body = assert_problem(p002.get(f"{M}/orders/{resting}"), 404, "UNKNOWN_ORDER")
    assert "account_id" not in body
    assert_problem(p001.get(f"{M}/orders/999999"), 404, "UNKNOWN_ORDER")


def test_a_repeated_client_order_id_after_the_days_end_answers_no_status(
    p001: httpx.Client, operator: httpx.Client
) -> None:
    """Between the day's end and the next open the market has let its finished orders go but
    still knows the day's client order ids: a repeat answers the order, its status None."""
    first = ok(place(p001, price_fen=5_900, qty_t=10, client_order_id="late-1"), 201)
    assert (first["status"], first["cancel_reason"]) == ("new", None)
    ok(operator.post(f"{M}/session/close-day"))
    ok(operator.post(f"{M}/session/end-of-day"))
    again = ok(place(p001, price_fen=5_900, qty_t=10, client_order_id="late-1"), 200)
    assert (again["order_id"], again["repeated"], again["status"]) == (
        first["order_id"],
        True,
        None,
    )
    ok(operator.post(f"{M}/session/open-day", json={}))
    ok(operator.post(f"{M}/session", json={"state": "continuous"}))
