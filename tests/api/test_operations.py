"""The gateway's order management, trade tape, operator controls, cash and compliance
operations, against a real ``carbonx demo`` process."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.conftest import client
from tests.api.server import DemoServer, start_demo
from tests.api.test_gateway import assert_problem, book, place

M = "/v1/markets/demo"
YEAR = dt.date.today().year  # the demo's trading day is today (or just after)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    running = start_demo(tmp_path_factory.mktemp("operations") / "demo.db")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def observer(server: DemoServer, operator: httpx.Client) -> Iterator[httpx.Client]:
    issued = operator.post(f"{M}/keys", json={"role": "observer"})
    assert issued.status_code == 201, issued.text
    with client(server, issued.json()["api_key"]) as c:
        yield c


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_amend_an_own_order(p001: httpx.Client, p002: httpx.Client, observer: httpx.Client) -> None:
    order_id = ok(place(p001, price_fen=5900), 201)["order_id"]
    amended = ok(p001.patch(f"{M}/orders/{order_id}", json={"qty_t": 150, "price_fen": 5910}))
    assert (amended["order_id"], amended["status"], amended["fills"]) == (order_id, "amended", [])
    order = ok(p001.get(f"{M}/orders/{order_id}"))
    assert (order["price_fen"], order["leaves_t"]) == (5910, 150)
    body = assert_problem(
        p002.patch(f"{M}/orders/{order_id}", json={"qty_t": 200}), 404, "UNKNOWN_ORDER"
    )
    assert body == {**body, "order_id": order_id}
    assert "account_id" not in body
    assert_problem(observer.patch(f"{M}/orders/{order_id}", json={"qty_t": 200}), 403, "FORBIDDEN")
    outside = assert_problem(
        p001.patch(f"{M}/orders/{order_id}", json={"price_fen": 9000}), 409, "PRICE_OUTSIDE_BAND"
    )
    assert outside["price_fen"] == 9000
    assert outside["band_upper_fen"] < 9000
    assert_problem(
        p001.patch(f"{M}/orders/{order_id}", json={"qty_t": "9"}), 422, "INVALID_REQUEST"
    )
    ok(p001.delete(f"{M}/orders/{order_id}"))


def test_list_own_open_orders(
    p001: httpx.Client, p002: httpx.Client, operator: httpx.Client, observer: httpx.Client
) -> None:
    order_id = ok(place(p001, price_fen=5800), 201)["order_id"]
    own = ok(p001.get(f"{M}/orders"))
    assert own["account_id"] == "P001"
    assert order_id in [o["order_id"] for o in own["orders"]]
    assert all(o["account_id"] == "P001" for o in own["orders"])
    assert order_id not in [o["order_id"] for o in ok(p002.get(f"{M}/orders"))["orders"]]
    body = assert_problem(p002.get(f"{M}/orders", params={"account_id": "P001"}), 403, "FORBIDDEN")
    assert body["account_id"] == "P001"
    assert_problem(observer.get(f"{M}/orders"), 403, "FORBIDDEN")
    seen = ok(operator.get(f"{M}/orders", params={"account_id": "P001"}))
    assert order_id in [o["order_id"] for o in seen["orders"]]
    assert_problem(operator.get(f"{M}/orders"), 422, "INVALID_REQUEST")
    unknown = operator.get(f"{M}/orders", params={"account_id": "P404"})
    assert assert_problem(unknown, 404, "UNKNOWN_ACCOUNT")["account_id"] == "P404"
    ok(p001.delete(f"{M}/orders/{order_id}"))


def test_the_days_orders_whatever_became_of_them(p001: httpx.Client, p002: httpx.Client) -> None:
    cancelled = ok(place(p001, price_fen=5810, qty_t=15), 201)["order_id"]
    ok(p001.delete(f"{M}/orders/{cancelled}"))
    resting = ok(place(p001, price_fen=5820, qty_t=25), 201)["order_id"]
    open_ids = [o["order_id"] for o in ok(p001.get(f"{M}/orders"))["orders"]]
    assert resting in open_ids
    assert cancelled not in open_ids
    listed = ok(p001.get(f"{M}/orders", params={"status": "all"}))
    assert listed["account_id"] == "P001"
    ids = [o["order_id"] for o in listed["orders"]]
    assert ids == sorted(ids)  # oldest first
    by_id = {o["order_id"]: o for o in listed["orders"]}
    gone = by_id[cancelled]
    assert (gone["status"], gone["cancel_reason"], gone["cancelled_t"]) == ("cancelled", "user", 15)
    assert (by_id[resting]["status"], by_id[resting]["leaves_t"]) == ("new", 25)
    assert not {
        o["order_id"] for o in ok(p002.get(f"{M}/orders", params={"status": "all"}))["orders"]
    } & {cancelled, resting}
    refused = p001.get(f"{M}/orders", params={"status": "closed"})
    assert_problem(refused, 422, "INVALID_REQUEST")
    ok(p001.delete(f"{M}/orders/{resting}"))


def test_cancel_all_is_a_kill_switch_for_the_own_account(
    p001: httpx.Client, p002: httpx.Client, observer: httpx.Client
) -> None:
    sells = [ok(place(p002, side="sell", qty_t=10, price_fen=p), 201) for p in (6400, 6410)]
    mine = ok(place(p001, price_fen=5700), 201)["order_id"]
    assert_problem(p001.delete(f"{M}/orders", params={"account_id": "P002"}), 403, "FORBIDDEN")
    assert_problem(observer.delete(f"{M}/orders"), 403, "FORBIDDEN")
    unknown = p002.delete(f"{M}/orders", params={"symbol": "CEA1999"})
    assert assert_problem(unknown, 404, "UNKNOWN_INSTRUMENT")["symbol"] == "CEA1999"
    done = ok(p002.delete(f"{M}/orders", params={"symbol": "CEA2025"}))
    assert (done["account_id"], done["cancelled"]) == ("P002", 2)
    assert ok(p002.get(f"{M}/orders"))["orders"] == []
    assert not {6400, 6410} & {a["price_fen"] for a in book(p002)["asks"]}
    assert all(ok(p002.get(f"{M}/orders/{s['order_id']}"))["status"] == "cancelled" for s in sells)
    assert ok(p001.get(f"{M}/orders/{mine}"))["status"] == "new"  # another's order stays
    assert ok(p002.delete(f"{M}/orders"))["cancelled"] == 0
    assert ok(p001.delete(f"{M}/orders"))["cancelled"] >= 1


def test_trades_are_public_and_fills_are_own(
    p001: httpx.Client, p002: httpx.Client, operator: httpx.Client, observer: httpx.Client
) -> None:
    ok(place(p001, price_fen=5990, qty_t=20), 201)
    trade = ok(place(p002, side="sell", price_fen=5990, qty_t=20), 201)["fills"][0]
    tape = ok(observer.get(f"{M}/trades"))["trades"]
    assert tape[0] == {**tape[0], **trade, "symbol": "CEA2025", "aggressor": "sell"}
    assert not any("account" in name for name in tape[0])
    assert [t["trade_id"] for t in tape] == sorted((t["trade_id"] for t in tape), reverse=True)
    assert len(ok(observer.get(f"{M}/trades", params={"limit": 1}))["trades"]) == 1
    assert_problem(observer.get(f"{M}/trades", params={"limit": 501}), 422, "INVALID_REQUEST")
    bought = ok(p001.get(f"{M}/fills"))["fills"][0]
    sold = ok(p002.get(f"{M}/fills"))["fills"][0]
    assert (bought["trade_id"], bought["side"], bought["qty_t"]) == (trade["trade_id"], "buy", 20)
    assert (sold["trade_id"], sold["side"], sold["price_fen"]) == (trade["trade_id"], "sell", 5990)
    assert bought["fee_fen"] >= 0
    assert bought["order_id"] != sold["order_id"]
    assert_problem(p001.get(f"{M}/fills", params={"account_id": "P002"}), 403, "FORBIDDEN")
    assert_problem(observer.get(f"{M}/fills"), 403, "FORBIDDEN")
    seen = ok(operator.get(f"{M}/fills", params={"account_id": "P002"}))["fills"]
    assert seen[0] == sold


def test_an_operator_halts_and_resumes_trading(
    p001: httpx.Client, operator: httpx.Client, observer: httpx.Client
) -> None:
    for c in (p001, observer):
        assert_problem(c.post(f"{M}/halt", json={}), 403, "FORBIDDEN")
        assert_problem(c.post(f"{M}/resume", json={}), 403, "FORBIDDEN")
    unknown = operator.post(f"{M}/halt", json={"symbol": "CEA1999"})
    assert assert_problem(unknown, 404, "UNKNOWN_INSTRUMENT")["symbol"] == "CEA1999"
    resting = ok(place(p001, price_fen=5600), 201)["order_id"]
    halted = ok(operator.post(f"{M}/halt", json={"symbol": "CEA2025", "cancel_resting": True}))
    assert halted["books"] == [{"symbol": "CEA2025", "state": "halted"}]
    assert ok(p001.get(f"{M}/orders/{resting}"))["status"] == "cancelled"
    refused = assert_problem(place(p001, price_fen=6000), 409, "INSTRUMENT_HALTED")
    assert refused["state"] == "halted"
    resumed = ok(operator.post(f"{M}/resume", json={}))
    assert resumed["books"] == [{"symbol": "CEA2025", "state": "continuous"}]
    ok(p001.delete(f"{M}/orders/{ok(place(p001, price_fen=5600), 201)['order_id']}"))


def test_an_operator_moves_cash(
    p001: httpx.Client, operator: httpx.Client, observer: httpx.Client
) -> None:
    movement = {"amount_fen": 12_345, "ref": "wire-1"}
    for c in (p001, observer):
        assert_problem(c.post(f"{M}/accounts/P001/deposits", json=movement), 403, "FORBIDDEN")
        assert_problem(c.post(f"{M}/accounts/P001/withdrawals", json=movement), 403, "FORBIDDEN")
    before = ok(p001.get(f"{M}/accounts/P001/balances"))["cash"]
    deposited = ok(operator.post(f"{M}/accounts/P001/deposits", json=movement), 201)
    assert deposited["cash"]["available_fen"] == before["available_fen"] + 12_345
    assert (deposited["account_id"], deposited["amount_fen"]) == ("P001", 12_345)
    too_much = {"amount_fen": 10**15, "ref": "wire-2"}
    body = assert_problem(
        operator.post(f"{M}/accounts/P001/withdrawals", json=too_much),
        409,
        "INSUFFICIENT_WITHDRAWABLE",
    )
    assert body["requested_fen"] == 10**15
    assert 0 < body["withdrawable_fen"] < 10**15
    paid = ok(operator.post(f"{M}/accounts/P001/withdrawals", json=movement), 201)
    assert paid["cash"]["available_fen"] == before["available_fen"]
    unknown = operator.post(f"{M}/accounts/P404/deposits", json=movement)
    assert assert_problem(unknown, 404, "UNKNOWN_ACCOUNT")["account_id"] == "P404"
    zero = operator.post(f"{M}/accounts/P001/deposits", json={"amount_fen": 0, "ref": "x"})
    assert_problem(zero, 422, "INVALID_REQUEST")


def test_a_covered_entity_surrenders_for_its_obligation(
    server: DemoServer, p001: httpx.Client, operator: httpx.Client, observer: httpx.Client
) -> None:
    entity = {
        "account_id": "E001",
        "name": "Power plant",
        "kind": "covered_entity",
        "province": "Guangdong",
        "allowances": [{"vintage": YEAR, "qty_t": 1_000}],
    }
    key = ok(operator.post(f"{M}/participants", json=entity), 201)["api_key"]
    status = f"{M}/accounts/E001/compliance/{YEAR}"
    emissions = f"{M}/accounts/E001/emissions"
    surrenders = f"{M}/accounts/E001/surrenders"
    report = {"year": YEAR, "verified_t": 800}
    items = {"year": YEAR, "items": [{"unit": f"CEA{YEAR}", "qty_t": 500}]}
    for c in (p001, observer):
        assert_problem(c.get(status), 403, "FORBIDDEN")
        assert_problem(c.post(emissions, json=report), 403, "FORBIDDEN")
        assert_problem(c.post(surrenders, json=items), 403, "FORBIDDEN")
    assert_problem(operator.post(surrenders, json=items), 403, "FORBIDDEN")
    assert ok(operator.get(status))["obligation_t"] is None
    recorded = ok(operator.post(emissions, json=report), 201)
    # It holds more than it owes: 800 t left to surrender, none of it short.
    assert (recorded["obligation_t"], recorded["remaining_t"], recorded["shortfall_t"]) == (
        800,
        800,
        0,
    )
    again = assert_problem(
        operator.post(emissions, json={**report, "verified_t": 1}),
        409,
        "EMISSIONS_ALREADY_RECORDED",
    )
    assert (again["year"], again["verified_t"]) == (YEAR, 800)
    not_covered = operator.post(f"{M}/accounts/P001/emissions", json=report)
    assert assert_problem(not_covered, 409, "NOT_A_COVERED_ENTITY")["account_id"] == "P001"
    with client(server, key) as e001:
        too_many = {"year": YEAR, "items": [{"unit": f"CEA{YEAR}", "qty_t": 900}]}
        refused = assert_problem(
            e001.post(surrenders, json=too_many), 409, "SURRENDER_EXCEEDS_OBLIGATION"
        )
        assert (refused["obligation_t"], refused["requested_t"]) == (800, 900)
        done = ok(e001.post(surrenders, json=items), 201)
        assert (done["pending_t"], done["allowances_t"], done["remaining_t"]) == (500, 500, 300)
        assert (done["coverable_t"], done["shortfall_t"]) == (300, 0)
        assert ok(e001.get(status)) == done
        assert ok(operator.get(status)) == done
        holding = ok(e001.get(f"{M}/accounts/E001/balances"))["holdings"][0]
        assert (holding["available_t"], holding["pending_t"]) == (500, 500)
        empty = e001.post(surrenders, json={"year": YEAR, "items": []})
        assert_problem(empty, 422, "INVALID_REQUEST")


def test_cancelling_a_cancelled_order_names_the_orders_status(p001: httpx.Client) -> None:
    order_id = ok(place(p001, price_fen=5400), 201)["order_id"]
    ok(p001.delete(f"/v1/markets/demo/orders/{order_id}"))
    again = assert_problem(
        p001.delete(f"/v1/markets/demo/orders/{order_id}"), 409, "ORDER_NOT_OPEN"
    )
    assert (again["order_id"], again["order_status"], again["status"]) == (
        order_id,
        "cancelled",
        409,
    )
