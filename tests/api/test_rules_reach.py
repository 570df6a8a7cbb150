"""Rules the domain has, reached through the API (issue 16, "out of reach"), with worked numbers,
against a real ``carbonx demo`` process: a market's effective rules, withdrawing a pending
surrender, self-trade prevention per order, CCER eligibility by dates, gas-fired entities, net
sales for the old-vintage cap, the retired register with its certificate, and large-holder
reports and daily statements."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from exchange.client import AsyncClient, Client, ForbiddenError
from tests.api.conftest import client
from tests.api.server import DemoServer, start_demo
from tests.api.test_gateway import assert_problem

WAIT_S = 5.0
OPEN_DAY = "2026-03-02"  # a Monday, no holiday in cn_national's calendar
MARKET = "reach"
M = f"/v1/markets/{MARKET}"
CEA24, CEA25 = "CEA2024", "CEA2025"
# A 10 % offset cap, a large-holder report above 5,000 t, and this market's year as the period of
# net sales for the old-vintage cap.
NET_SALES_PERIOD = {"net_sales_from": "2026-01-01", "net_sales_until": "2026-12-31"}
OVERRIDES = {
    "compliance": {"offset_cap_bp": 1_000, "old_vintages": NET_SALES_PERIOD},
    "limits": {"report_threshold_t": 5_000},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    running = start_demo(tmp_path_factory.mktemp("reach") / "demo.db", {"CARBONX_DEMO_BOTS": "0"})
    try:
        yield running
    finally:
        running.stop()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture(scope="module")
def exchange(server: DemoServer) -> Iterator[httpx.Client]:
    """The exchange-wide operator key, with the test's market created."""
    with client(server, server.keys["exchange_operator_key"]) as c:
        listed = [{"symbol": s, "reference_price_fen": 8_000} for s in (CEA24, CEA25)]
        market = {
            "market_id": MARKET,
            "rule_set": "cn_national",
            "overrides": OVERRIDES,
            "instruments": listed,
            "open_day": OPEN_DAY,
        }
        ok(c.post("/v1/markets", json=market), 201)
        yield c


def open_account(
    server: DemoServer, exchange: httpx.Client, account_id: str, **fields: Any
) -> httpx.Client:
    """A new account in the test's market (a covered entity unless ``kind`` says otherwise),
    and a client with its key."""
    body = {
        "account_id": account_id,
        "name": account_id,
        "kind": "covered_entity",
        "province": "Hubei",
    }
    body.update(fields)
    key = ok(exchange.post(f"{M}/participants", json=body), 201)["api_key"]
    return client(server, key)


# ---------------------------------------------------------------------- 3. effective rules


def test_a_market_s_effective_rules_are_the_rule_set_with_its_overrides(
    server: DemoServer, exchange: httpx.Client
) -> None:
    market = ok(exchange.get(M))
    assert market["overrides"] == OVERRIDES  # getMarket: the overrides alone
    rules = ok(exchange.get(f"{M}/rules"))
    assert (rules["market_id"], rules["rule_set"], rules["overrides"]) == (
        MARKET,
        "cn_national",
        OVERRIDES,
    )
    effective = rules["rules"]
    # The overridden values ...
    assert effective["compliance"]["offset_cap_bp"] == 1_000
    assert effective["limits"]["report_threshold_t"] == 5_000
    # ... beside the shipped ones they left alone, dates as ISO text.
    assert effective["compliance"]["deadline"] == "12-31"
    assert effective["limits"]["position_limit_t"] == 1_000_000
    assert effective["trading"]["modes"]["listed"]["band_bp"] == 1_000
    assert effective["compliance"]["offset_windows"][1]["usable_until"] == "2024-12-31"
    assert "2026-10-01" in effective["calendar"]["holidays"]
    with Client(server.base_url, server.keys["exchange_operator_key"], MARKET) as python:
        assert python.get_market_rules() == rules
    assert_problem(exchange.get("/v1/markets/nowhere/rules"), 404, "UNKNOWN_MARKET")


# ---------------------------------------------------------------------- 1. withdraw a surrender


def test_a_pending_surrender_is_withdrawn_whole_and_only_once(
    server: DemoServer, exchange: httpx.Client
) -> None:
    grant = [{"vintage": 2025, "qty_t": 10_000}]
    with open_account(server, exchange, "W1", allowances=grant) as w1:
        ok(
            exchange.post(f"{M}/accounts/W1/emissions", json={"year": 2025, "verified_t": 8_000}),
            201,
        )
        items = [{"unit": CEA25, "qty_t": 6_000}]
        surrendered = ok(
            w1.post(f"{M}/accounts/W1/surrenders", json={"year": 2025, "items": items}), 201
        )
        assert (surrendered["pending_t"], surrendered["remaining_t"]) == (6_000, 2_000)
        withdrawal = f"{M}/accounts/W1/surrenders/2025/withdrawal"
        body = {"request_id": "w-1"}
        back = ok(w1.post(withdrawal, json=body), 201)
        assert (back["pending_t"], back["allowances_t"], back["remaining_t"]) == (0, 0, 8_000)
        units = ok(w1.get(f"{M}/accounts/W1/holdings"))["totals"]
        assert (units["available_t"], units["pending_t"]) == (10_000, 0)
        assert ok(w1.post(withdrawal, json=body), 200) == back  # the same request, once
        nothing = assert_problem(w1.post(withdrawal, json={}), 409, "NOTHING_PENDING")
        assert (nothing["account_id"], nothing["year"]) == ("W1", 2025)
        # Only the account's own key withdraws its surrender.
        assert_problem(exchange.post(withdrawal, json={}), 403, "FORBIDDEN")
        with Client(server.base_url, _key(w1), MARKET) as python:
            python.surrender("W1", 2025, [{"unit": CEA25, "qty_t": 1_000}])
            status = python.withdraw_surrender("W1", 2025)
            assert (status["pending_t"], status["remaining_t"]) == (0, 8_000)


def _key(c: httpx.Client) -> str:
    return str(c.headers["Authorization"]).removeprefix("Bearer ")


# ---------------------------------------------------------------------- 2. self-trade prevention


def test_each_order_carries_its_own_self_trade_prevention_mode(
    server: DemoServer, exchange: httpx.Client
) -> None:
    cash = 100_000_000
    grant = [{"vintage": 2025, "qty_t": 1_000}]
    with open_account(
        server, exchange, "S1", kind="participant", cash_fen=cash, allowances=grant
    ) as s1:
        orders = f"{M}/orders"
        resting = {"symbol": CEA25, "side": "sell", "qty_t": 300, "price_fen": 8_000}
        buy = {"symbol": CEA25, "side": "buy", "qty_t": 100, "price_fen": 8_000}

        def order(order_id: int) -> dict[str, Any]:
            return dict(ok(s1.get(f"{orders}/{order_id}")))

        # decrement: 100 t taken off both, no trade; the resting sell keeps 200 t.
        sell = ok(s1.post(orders, json=resting), 201)["order_id"]
        dec = ok(s1.post(orders, json={**buy, "stp": "decrement"}), 201)
        assert dec["fills"] == []
        assert (order(sell)["leaves_t"], order(sell)["status"]) == (200, "new")
        assert (order(dec["order_id"])["stp"], order(dec["order_id"])["cancel_reason"]) == (
            "decrement",
            "stp",
        )
        # cancel_oldest: the resting 200 t go, the buy then rests whole.
        old = ok(s1.post(orders, json={**buy, "stp": "cancel_oldest"}), 201)["order_id"]
        assert (order(sell)["status"], order(sell)["cancel_reason"]) == ("cancelled", "stp")
        assert (order(old)["leaves_t"], order(old)["status"]) == (100, "new")
        # cancel_both: a sell into that buy cancels both.
        both = ok(s1.post(orders, json={**resting, "stp": "cancel_both"}), 201)["order_id"]
        assert order(old)["cancel_reason"] == order(both)["cancel_reason"] == "stp"
        # The default stays cancel_newest: the new order goes, the resting one stays.
        kept = ok(s1.post(orders, json=resting), 201)["order_id"]
        newest = ok(s1.post(orders, json=buy), 201)["order_id"]
        assert (order(newest)["stp"], order(newest)["cancel_reason"]) == ("cancel_newest", "stp")
        assert order(kept)["leaves_t"] == 300
        bad = assert_problem(s1.post(orders, json={**buy, "stp": "wash"}), 422, "INVALID_REQUEST")
        assert bad["errors"][0]["loc"][-1] == "stp"
        with Client(server.base_url, _key(s1), MARKET) as python:
            placed = python.place_order(CEA25, "buy", 50, 8_000, stp="cancel_oldest")
            assert order(placed["order_id"])["stp"] == "cancel_oldest"
            assert order(kept)["cancel_reason"] == "stp"
        s1.delete(f"{orders}")


# ---------------------------------------------------------------------- 4. CCER by dates


def test_new_ccer_count_only_if_started_after_2012_11_08_with_reductions_after_2020_09_22(
    server: DemoServer, exchange: httpx.Client
) -> None:
    with open_account(server, exchange, "C1") as c1:
        # 2025 emissions 100,000 t: the offset cap (10 % in this market) is 10,000 t.
        emissions = {"year": 2025, "verified_t": 100_000}
        ok(exchange.post(f"{M}/accounts/C1/emissions", json=emissions), 201)
        for project_id, start in (("EARLY", "2012-11-08"), ("LATER", "2012-11-09")):
            project = {
                "project_id": project_id,
                "methodology": "renewable",
                "province": "Hubei",
                "start_date": start,
                "registration_date": "2024-06-01",
            }
            ok(exchange.post(f"{M}/projects", json=project), 201)
        for project_id, vintage in (("EARLY", 2024), ("LATER", 2019), ("LATER", 2020)):
            issue = {"account_id": "C1", "vintage": vintage, "qty_t": 1_000}
            ok(exchange.post(f"{M}/projects/{project_id}/issuances", json=issue), 201)
        surrenders = f"{M}/accounts/C1/surrenders"

        def surrender(unit: str) -> httpx.Response:
            return c1.post(
                surrenders, json={"year": 2025, "items": [{"unit": unit, "qty_t": 1_000}]}
            )

        early = assert_problem(surrender("CCER:EARLY:2024"), 409, "OFFSET_NOT_ELIGIBLE")
        assert (early["reason"], early["start_date"]) == ("start_date", "2012-11-08")
        old = assert_problem(surrender("CCER:LATER:2019"), 409, "OFFSET_NOT_ELIGIBLE")
        assert (old["reason"], old["vintage"]) == ("reduction_date", 2019)
        counted = ok(surrender("CCER:LATER:2020"), 201)
        assert (counted["offsets_t"], counted["offset_cap_left_t"]) == (1_000, 9_000)
        window = ok(exchange.get(f"{M}/rules"))["rules"]["compliance"]["offset_windows"][0]
        assert (window["started_after"], window["reductions_after"]) == ("2012-11-08", "2020-09-22")


# ---------------------------------------------------------------------- 5. gas-fired entities


def test_a_gas_fired_entity_is_topped_up_to_its_verified_emissions(
    server: DemoServer, exchange: httpx.Client
) -> None:
    base = f"{M}/participants"
    gas = {"account_id": "G1", "name": "Gas plant", "kind": "covered_entity", "province": "Hubei"}
    opened = ok(exchange.post(base, json={**gas, "sector": "power", "gas_fired": True}), 201)
    assert (opened["sector"], opened["gas_fired"], opened["kind"]) == (
        "power",
        True,
        "covered_entity",
    )
    coal = {**gas, "account_id": "K1", "name": "Coal plant", "sector": "power"}
    assert ok(exchange.post(base, json=coal), 201)["gas_fired"] is False
    # Both emitted 100,000 t in 2025; output 100,000 MWh × benchmark 0.7 t/MWh = 70,000 t.
    true_up = {"method": "true_up", "year": 2025, "output": 100_000, "benchmark": "0.7"}
    finals = {}
    for account in ("G1", "K1"):
        emitted = {"year": 2025, "verified_t": 100_000}
        ok(exchange.post(f"{M}/accounts/{account}/emissions", json=emitted), 201)
        allocated = ok(exchange.post(f"{M}/accounts/{account}/allocations", json=true_up), 201)
        finals[account] = (allocated["final_t"], allocated["issued_t"])
    # Gas-fired: topped up to its verified emissions; coal: raised to the 80 % gap cap.
    assert finals == {"G1": (100_000, 100_000), "K1": (80_000, 80_000)}
    participant = {**gas, "account_id": "X1", "kind": "participant", "gas_fired": True}
    refused = assert_problem(exchange.post(base, json=participant), 422, "INVALID_REQUEST")
    assert "gas-fired" in refused["errors"][0]["msg"]
    with Client(server.base_url, server.keys["exchange_operator_key"], MARKET) as python:
        reply = python.create_participant(
            "G2", "Gas 2", kind="covered_entity", province="Hubei", sector="power", gas_fired=True
        )
        assert (reply["account_id"], reply["gas_fired"]) == ("G2", True)


# ---------------------------------------------------------------------- 6. net sales


def test_net_sales_from_the_statements_raise_the_old_vintage_cap(
    server: DemoServer, exchange: httpx.Client
) -> None:
    cash = 1_000_000_000
    own = [{"vintage": 2024, "qty_t": 20_000}, {"vintage": 2025, "qty_t": 10_000}]
    entity = open_account(server, exchange, "N1", cash_fen=cash, allowances=own)
    buyer_units = [{"vintage": 2025, "qty_t": 5_000}]
    buyer = open_account(
        server, exchange, "B1", kind="participant", cash_fen=cash, allowances=buyer_units
    )
    with entity, buyer:
        orders = f"{M}/orders"
        order = {"symbol": CEA25, "order_type": "limit", "price_fen": 8_000}
        # N1 sells 4,000 t and buys 1,000 t back today: net sales 3,000 t.
        ok(buyer.post(orders, json={**order, "side": "buy", "qty_t": 4_000}), 201)
        sold = ok(entity.post(orders, json={**order, "side": "sell", "qty_t": 4_000}), 201)
        assert sum(f["qty_t"] for f in sold["fills"]) == 4_000
        ok(buyer.post(orders, json={**order, "side": "sell", "qty_t": 1_000}), 201)
        bought = ok(entity.post(orders, json={**order, "side": "buy", "qty_t": 1_000}), 201)
        assert sum(f["qty_t"] for f in bought["fills"]) == 1_000
        ok(exchange.post(f"{M}/session/close-day"))
        ok(exchange.post(f"{M}/session/end-of-day"))
        ok(exchange.post(f"{M}/session/open-day", json={"trading_day": "2026-03-03"}))
        recorded = ok(exchange.post(f"{M}/accounts/N1/net-sales", json={}), 201)
        assert recorded == {
            **recorded,
            "source": "statements",
            "computed_t": 3_000,
            "net_sales_t": 3_000,
            "period_from": "2026-01-01",
            "period_until": "2026-12-31",
            "days_read": 1,
            "old_vintage_cap_t": 14_500,  # 10,000 t + 1.5 × 3,000 t
        }
        emitted = {"year": 2025, "verified_t": 20_000}
        ok(exchange.post(f"{M}/accounts/N1/emissions", json=emitted), 201)
        surrenders = f"{M}/accounts/N1/surrenders"

        def old(qty_t: int) -> httpx.Response:
            items = [{"unit": CEA24, "qty_t": qty_t}]
            return entity.post(surrenders, json={"year": 2025, "items": items})

        over = assert_problem(old(14_501), 409, "OLD_VINTAGE_CAP_EXCEEDED")
        assert (over["cap_t"], over["requested_t"], over["used_t"]) == (14_500, 14_501, 0)
        assert ok(old(14_500), 201)["pending_t"] == 14_500
        # A net buyer counts 0; a figure given replaces the computed one.
        with Client(server.base_url, server.keys["exchange_operator_key"], MARKET) as python:
            given = python.record_net_sales("N1", 2_000)
            assert (given["source"], given["old_vintage_cap_t"]) == ("request", 13_000)
            bought_more = python.record_net_sales("N1", -500)
            assert (bought_more["net_sales_t"], bought_more["old_vintage_cap_t"]) == (0, 10_000)
        not_entity = assert_problem(
            exchange.post(f"{M}/accounts/B1/net-sales", json={}), 409, "NOT_A_COVERED_ENTITY"
        )
        assert not_entity["account_id"] == "B1"


# ---------------------------------------------------------------------- 8. the retired register


def test_cancellations_are_read_back_and_certified_in_both_languages(
    server: DemoServer, exchange: httpx.Client
) -> None:
    grant = [{"vintage": 2025, "qty_t": 1_000}]
    holder = open_account(server, exchange, "V1", kind="participant", allowances=grant)
    other = open_account(server, exchange, "V2", kind="participant")
    with holder, other:
        cancel = f"{M}/accounts/V1/cancellations"
        expo = {"unit": CEA25, "qty_t": 300, "beneficiary": "Expo <2026>", "purpose": "neutral"}
        made = ok(holder.post(cancel, json=expo), 201)
        assert (made["serial"], made["on"], made["qty_t"]) == (1, "2026-03-03", 300)
        family = {"unit": CEA25, "qty_t": 25, "beneficiary": "A family"}
        assert ok(holder.post(cancel, json=family), 201)["serial"] == 2
        own = ok(holder.get(cancel))
        assert (own["total_t"], [c["qty_t"] for c in own["cancellations"]]) == (325, [300, 25])
        first = own["cancellations"][0]
        assert first == {
            **first,
            "account_id": "V1",
            "unit": CEA25,
            "unit_name": {"zh-CN": "全国碳排放配额 2025", "en": "CEA 2025"},
            "beneficiary": "Expo <2026>",
            "purpose": "neutral",
            "on": "2026-03-03",
        }
        # The register is public: another participant reads it, not the certificate.
        register = ok(other.get(f"{M}/retired"))
        assert [
            (c["serial"], c["account_id"], c["beneficiary"]) for c in register["cancellations"]
        ] == [
            (1, "V1", "Expo <2026>"),
            (2, "V1", "A family"),
        ]
        assert register["total_t"] == 325
        assert ok(holder.get(f"{M}/accounts/V1/holdings"))["totals"]["total_t"] == 675
        certificate = f"{M}/retired/1/certificate"
        assert_problem(other.get(certificate), 403, "FORBIDDEN")
        assert_problem(other.get(f"{M}/accounts/V1/cancellations"), 403, "FORBIDDEN")
        shown = ok(holder.get(certificate))
        assert shown["certificate_no"] == "REACH-C000001"
        page = holder.get(certificate, params={"format": "html"})
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert page.text == shown["html"]
        for text in (
            "注销证明",
            "Cancellation certificate",
            "REACH-C000001",
            "2026-03-03",
            "300 吨",
        ):
            assert text in page.text
        assert "Expo &lt;2026&gt;" in page.text
        assert "<2026>" not in page.text
        assert_problem(holder.get(f"{M}/retired/99/certificate"), 404, "UNKNOWN_CANCELLATION")
        with Client(server.base_url, _key(holder), MARKET) as python:
            assert python.list_cancellations("V1") == own
            assert python.get_retired_register() == register
            assert (
                python.get_cancellation_certificate(2)["cancellation"]["beneficiary"] == "A family"
            )


# ---------------------------------------------------------------------- 7. reports and statements


def test_large_holder_reports_and_daily_statements_are_kept_and_read_back(
    server: DemoServer, exchange: httpx.Client
) -> None:
    """Reads what the net-sales test's day (2026-03-02) left: B1 bought 4,000 t onto its own
    5,000 t, and N1 (30,000 t, no allocation) sold 4,000 t and bought 1,000 t back, each at
    CNY 80.00, in a market that reports positions above 5,000 t."""
    reports = ok(exchange.get(f"{M}/large-holder-reports"))["reports"]
    found = {
        (r["account_id"], r["trading_day"], r["position_t"], r["threshold_t"]) for r in reports
    }
    assert found == {("B1", "2026-03-02", 9_000, 5_000), ("N1", "2026-03-02", 27_000, 5_000)}
    statements = ok(exchange.get(f"{M}/accounts/N1/statements", params={"from": "2026-03-02"}))
    (day,) = statements["statements"]
    assert day == {
        "trading_day": "2026-03-02",
        "cash_available_fen": 1_000_000_000 - 8_000_000 + 32_000_000,
        "cash_held_fen": 0,
        "cash_withdrawable_fen": 1_000_000_000 - 8_000_000,  # proceeds withdrawable from T+1
        "fees_fen": 0,
        "trades": {
            CEA25: {
                "bought_t": 1_000,
                "bought_fen": 8_000_000,
                "sold_t": 4_000,
                "sold_fen": 32_000_000,
            }
        },
        "holdings": {CEA24: {"available": 20_000}, CEA25: {"available": 7_000}},
    }
    assert ok(exchange.get(f"{M}/accounts/N1/statements", params={"to": "2026-03-01"})) == {
        "account_id": "N1",
        "statements": [],
    }
    with Client(server.base_url, _key(open_account(server, exchange, "R7")), MARKET) as own:
        assert own.list_statements("R7")["statements"] == []  # opened after that day's end
        for call in (lambda: own.list_large_holder_reports(), lambda: own.list_statements("N1")):
            with pytest.raises(ForbiddenError):
                call()
    with Client(server.base_url, server.keys["exchange_operator_key"], MARKET) as operator:
        assert operator.list_large_holder_reports()["reports"] == reports
        assert operator.list_statements("N1", dt.date(2026, 3, 2))["statements"] == [day]


def test_reports_and_statements_come_over_the_websocket_as_they_are_made(
    server: DemoServer, exchange: httpx.Client
) -> None:
    operator_key = ok(exchange.post(f"{M}/keys", json={"role": "operator"}), 201)["api_key"]
    ok(exchange.post(f"{M}/session", json={"state": "continuous"}))  # 2026-03-03 opens
    big = [{"vintage": 2025, "qty_t": 6_000}]
    holder = open_account(
        server, exchange, "H1", kind="participant", cash_fen=10**8, allowances=big
    )
    small = [{"vintage": 2025, "qty_t": 100}]
    seller = open_account(server, exchange, "H2", kind="participant", allowances=small)

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        operator = AsyncClient(server.base_url, operator_key, MARKET)
        own = AsyncClient(server.base_url, _key(holder), MARKET)
        async with operator, own, operator.stream() as desk, own.stream() as mine:
            await desk.subscribe("large_holders")
            await mine.subscribe("statements")
            with pytest.raises(ForbiddenError):
                await mine.subscribe("large_holders")
            order = {"symbol": CEA25, "order_type": "limit", "qty_t": 100, "price_fen": 8_000}
            ok(seller.post(f"{M}/orders", json={**order, "side": "sell"}), 201)
            await own.place_order(CEA25, "buy", 100, 8_000)  # 6,000 + 100 t > 5,000 t
            reports = [await next_of(desk, "large_holder_report")]
            await operator.close_day()
            await operator.end_of_day()
            return reports, [await next_of(mine, "statement")]

    with holder, seller:
        (report,), (statement,) = asyncio.run(scenario())
    assert (report["account_id"], report["position_t"], report["threshold_t"]) == (
        "H1",
        6_100,
        5_000,
    )
    assert report["trading_day"] == "2026-03-03"
    assert (statement["trading_day"], statement["trades"][CEA25]["bought_t"]) == ("2026-03-03", 100)
    assert statement["holdings"][CEA25] == {"available": 6_100}
    assert statement["cash_available_fen"] == 10**8 - 800_000
    durable = ok(exchange.get(f"{M}/large-holder-reports"))["reports"][0]
    fields = ("account_id", "trading_day", "position_t", "threshold_t")
    assert durable == {"seq": report["market_seq"], **{k: report[k] for k in fields}}


async def next_of(stream: Any, kind: str) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = await stream.next(WAIT_S)
        if message["type"] == kind:
            return message
