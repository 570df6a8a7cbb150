"""Registry, compliance and idempotent cash operations of the gateway, against a real
``carbonx demo`` process: holdings, the surrender plan, cancellation, allocation, transfers,
freezes, offset projects, the assessment, orders by client order id, and ``request_id``."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from exchange.runtime import MarketRuntime
from registry_sim.rules import BP, load_rules
from settlement.commands import CloseDay, EndOfDay
from tests.api.conftest import client
from tests.api.server import DemoServer, start_demo
from tests.api.test_gateway import assert_problem, place

M = "/v1/markets/demo"
YEAR = dt.date.today().year  # the demo's trading day is today (or just after)
RULES = load_rules("cn_national")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    running = start_demo(tmp_path_factory.mktemp("registry") / "demo.db")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def observer(server: DemoServer, operator: httpx.Client) -> Iterator[httpx.Client]:
    issued = ok(operator.post(f"{M}/keys", json={"role": "observer"}), 201)
    with client(server, issued["api_key"]) as c:
        yield c


@pytest.fixture(scope="module")
def anonymous(server: DemoServer) -> Iterator[httpx.Client]:
    with client(server, None) as c:
        yield c


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def open_account(operator: httpx.Client, account_id: str, kind: str = "participant") -> str:
    """A new account (a covered entity in Hubei, or a participant); its key."""
    body = {"account_id": account_id, "name": account_id, "kind": kind, "province": "Hubei"}
    return str(ok(operator.post(f"{M}/participants", json=body), 201)["api_key"])


def holding(c: httpx.Client, account_id: str, unit: str) -> dict[str, Any]:
    units = ok(c.get(f"{M}/accounts/{account_id}/holdings"))["units"]
    found: dict[str, Any] = next(u for u in units if u["unit"] == unit)
    return found


def test_allocate_transfer_and_freeze_show_in_holdings_exactly(operator: httpx.Client) -> None:
    open_account(operator, "R001")
    open_account(operator, "R002")
    grant = {"method": "issue", "vintage": YEAR, "qty_t": 10_000}
    issued = ok(operator.post(f"{M}/accounts/R001/allocations", json=grant), 201)
    assert (issued["unit"], issued["issued_t"], issued["allocation_t"]) == (
        f"CEA{YEAR}",
        10_000,
        10_000,
    )
    unit = f"CEA{YEAR}"
    move = {"from_account": "R001", "to_account": "R002", "unit": unit, "qty_t": 2_500}
    moved = ok(operator.post(f"{M}/transfers", json=move), 201)
    assert moved == {**moved, "from_account": "R001", "to_account": "R002", "qty_t": 2_500}
    court = {"unit": unit, "qty_t": 1_000, "reference": "court-2026-17"}
    ok(operator.post(f"{M}/accounts/R001/freezes", json=court), 201)
    r001 = holding(operator, "R001", unit)
    assert r001 == {
        "unit": unit,
        "kind": "CEA",
        "vintage": YEAR,
        "project_id": None,
        "available_t": 6_500,
        "held_t": 0,
        "pending_t": 0,
        "frozen_t": 1_000,
        "locked_t": 0,
        "sellable_t": 6_500,
        "total_t": 7_500,
    }
    assert holding(operator, "R002", unit)["available_t"] == 2_500
    ok(operator.post(f"{M}/accounts/R001/unfreezes", json={**court, "qty_t": 400}), 201)
    r001 = holding(operator, "R001", unit)
    assert (r001["available_t"], r001["frozen_t"]) == (6_900, 600)
    too_much = assert_problem(
        operator.post(f"{M}/accounts/R001/unfreezes", json={**court, "qty_t": 700}),
        409,
        "FREEZE_NOT_FOUND",
    )
    assert (too_much["frozen_t"], too_much["requested_t"]) == (600, 700)
    short = assert_problem(
        operator.post(f"{M}/transfers", json={**move, "qty_t": 7_000}), 409, "INSUFFICIENT_UNITS"
    )
    assert (short["held_t"], short["requested_t"], short["state"]) == (6_900, 7_000, "available")
    nobody = operator.post(f"{M}/transfers", json={**move, "to_account": "R404"})
    assert assert_problem(nobody, 404, "UNKNOWN_ACCOUNT")["account_id"] == "R404"


def test_units_bought_today_are_locked_until_t_plus_n(
    p001: httpx.Client, p002: httpx.Client
) -> None:
    before = holding(p001, "P001", "CEA2025")
    ok(place(p002, side="sell", qty_t=50, price_fen=6_000), 201)
    ok(place(p001, side="buy", qty_t=50, price_fen=6_000), 201)
    after = holding(p001, "P001", "CEA2025")
    assert after["available_t"] == before["available_t"] + 50
    assert after["locked_t"] == before["locked_t"] + 50  # docs/rules.md: sellable from T+1
    assert after["sellable_t"] == before["sellable_t"]
    body = ok(p001.get(f"{M}/accounts/P001/holdings"))
    assert body["totals"]["locked_t"] == after["locked_t"]
    assert body["by_kind"][0]["kind"] == "CEA"
    assert body["totals"]["total_t"] == sum(u["total_t"] for u in body["units"])


def test_who_may_do_what(
    p001: httpx.Client, observer: httpx.Client, anonymous: httpx.Client
) -> None:
    unit = {"unit": "CEA2025", "qty_t": 1}
    operator_only = [
        ("/accounts/P001/allocations", {"method": "issue", "vintage": 2025, "qty_t": 1}),
        ("/transfers", {"from_account": "P001", "to_account": "P002", **unit}),
        ("/accounts/P001/freezes", {**unit, "reference": "r"}),
        ("/accounts/P001/unfreezes", {**unit, "reference": "r"}),
        ("/accounts/P001/emissions", {"year": YEAR, "verified_t": 1}),
        ("/accounts/P001/deposits", {"amount_fen": 1, "ref": "r"}),
        (
            "/projects",
            {
                "project_id": "X1",
                "methodology": "renewable",
                "province": "Gansu",
                "start_date": "2024-01-01",
                "registration_date": "2024-03-01",
            },
        ),
        ("/projects/X1/issuances", {"account_id": "P001", "vintage": 2025, "qty_t": 1}),
        (f"/compliance/{YEAR - 2}/assessments", {}),
    ]
    for path, body in operator_only:
        for c in (p001, observer):
            assert_problem(c.post(M + path, json=body), 403, "FORBIDDEN")
        assert_problem(anonymous.post(M + path, json=body), 401, "UNAUTHENTICATED")
    cancel = {**unit, "beneficiary": "someone"}
    for path in ("/accounts/P002/holdings", f"/accounts/P002/compliance/{YEAR}/plan"):
        assert assert_problem(p001.get(M + path), 403, "FORBIDDEN")["account_id"] == "P002"
        assert_problem(observer.get(M + path), 403, "FORBIDDEN")
        assert_problem(anonymous.get(M + path), 401, "UNAUTHENTICATED")
    assert_problem(p001.post(f"{M}/accounts/P002/cancellations", json=cancel), 403, "FORBIDDEN")
    assert_problem(observer.post(f"{M}/accounts/P001/cancellations", json=cancel), 403, "FORBIDDEN")
    assert_problem(
        anonymous.post(f"{M}/accounts/P001/cancellations", json=cancel), 401, "UNAUTHENTICATED"
    )


def test_an_operator_cannot_cancel_a_participants_units(operator: httpx.Client) -> None:
    cancel = {"unit": "CEA2025", "qty_t": 1, "beneficiary": "someone"}
    assert_problem(operator.post(f"{M}/accounts/P001/cancellations", json=cancel), 403, "FORBIDDEN")


def test_own_units_are_cancelled_once_per_request_id(p002: httpx.Client) -> None:
    before = holding(p002, "P002", "CEA2025")
    cancel = {
        "unit": "CEA2025",
        "qty_t": 100,
        "beneficiary": "Green wedding 2026",
        "purpose": "offset the guests' travel",
        "request_id": "cancel-1",
    }
    first = ok(p002.post(f"{M}/accounts/P002/cancellations", json=cancel), 201)
    again = ok(p002.post(f"{M}/accounts/P002/cancellations", json=cancel), 200)
    assert first == again
    assert first == {**first, "unit": "CEA2025", "qty_t": 100, "beneficiary": "Green wedding 2026"}
    after = holding(p002, "P002", "CEA2025")
    assert after["available_t"] == before["available_t"] - 100
    other = {**cancel, "qty_t": 5}
    conflict = assert_problem(
        p002.post(f"{M}/accounts/P002/cancellations", json=other), 409, "OP_ID_CONFLICT"
    )
    assert conflict["request_id"] == "cancel-1"
    too_many = {**cancel, "qty_t": 10**9, "request_id": "cancel-2"}
    refused = assert_problem(
        p002.post(f"{M}/accounts/P002/cancellations", json=too_many), 409, "INSUFFICIENT_UNITS"
    )
    assert (refused["held_t"], refused["requested_t"]) == (after["available_t"], 10**9)
    assert holding(p002, "P002", "CEA2025") == after


def test_a_repeated_allocation_acts_once(operator: httpx.Client) -> None:
    open_account(operator, "R010")
    grant = {"method": "issue", "vintage": YEAR, "qty_t": 4_000, "request_id": "alloc-R010-1"}
    first = ok(operator.post(f"{M}/accounts/R010/allocations", json=grant), 201)
    again = ok(operator.post(f"{M}/accounts/R010/allocations", json=grant), 200)
    assert first == again
    assert holding(operator, "R010", f"CEA{YEAR}")["available_t"] == 4_000
    other = operator.post(f"{M}/accounts/R010/allocations", json={**grant, "qty_t": 4_001})
    assert assert_problem(other, 409, "OP_ID_CONFLICT")["request_id"] == "alloc-R010-1"
    assert holding(operator, "R010", f"CEA{YEAR}")["available_t"] == 4_000


def test_allocation_methods_follow_the_rule_set(operator: httpx.Client) -> None:
    open_account(operator, "E200", "covered_entity")
    emissions = f"{M}/accounts/E200/emissions"
    ok(operator.post(emissions, json={"year": YEAR - 1, "verified_t": 10_000}), 201)
    pre = {"method": "pre_allocation", "year": YEAR}
    got = ok(operator.post(f"{M}/accounts/E200/allocations", json=pre), 201)
    share = RULES.allocation.pre_allocation_share_bp  # 70 %
    assert (got["basis_t"], got["issued_t"]) == (10_000, 10_000 * share // BP) == (10_000, 7_000)
    again = assert_problem(
        operator.post(f"{M}/accounts/E200/allocations", json=pre), 409, "ALREADY_PRE_ALLOCATED"
    )
    assert again["allocated_t"] == 7_000
    ok(operator.post(emissions, json={"year": YEAR, "verified_t": 9_000}), 201)
    # 10,000 × 0.8 = 8,000 t, above the gap cap of 80 % × 9,000 = 7,200 t: 1,000 t more.
    true_up = {"method": "true_up", "year": YEAR, "output": 10_000, "benchmark": "0.8"}
    trued = ok(operator.post(f"{M}/accounts/E200/allocations", json=true_up), 201)
    assert (trued["final_t"], trued["allocation_t"], trued["issued_t"]) == (8_000, 1_000, 1_000)
    assert holding(operator, "E200", f"CEA{YEAR}")["available_t"] == 8_000
    open_account(operator, "E300", "covered_entity")
    ok(
        operator.post(f"{M}/accounts/E300/emissions", json={"year": YEAR, "verified_t": 10_000}),
        201,
    )
    intensity = {"method": "intensity", "year": YEAR, "alpha_bp": 200}
    by_intensity = ok(operator.post(f"{M}/accounts/E300/allocations", json=intensity), 201)
    assert by_intensity["issued_t"] == 10_200
    wide = {**intensity, "alpha_bp": RULES.allocation.alpha_max_bp + 1}
    refused = assert_problem(
        operator.post(f"{M}/accounts/E300/allocations", json=wide), 409, "ALPHA_OUT_OF_RANGE"
    )
    assert (refused["alpha_min_bp"], refused["alpha_max_bp"]) == (-300, 300)
    unknown = operator.post(f"{M}/accounts/E300/allocations", json={"method": "lottery"})
    assert_problem(unknown, 422, "INVALID_REQUEST")


def test_the_surrender_plan_respects_the_national_offset_cap(
    server: DemoServer, operator: httpx.Client
) -> None:
    key = open_account(operator, "E100", "covered_entity")
    grant = {"method": "issue", "vintage": YEAR, "qty_t": 15_000}
    ok(operator.post(f"{M}/accounts/E100/allocations", json=grant), 201)
    ok(
        operator.post(f"{M}/accounts/E100/emissions", json={"year": YEAR, "verified_t": 20_000}),
        201,
    )
    project = {
        "project_id": "FOREST-1",
        "methodology": "forestry_sink",
        "province": "Yunnan",
        "start_date": "2020-01-01",
        "registration_date": "2024-06-01",  # after 2024-01-22: eligible (docs/rules.md)
        "request_id": "forest-1",
    }
    registered = ok(operator.post(f"{M}/projects", json=project), 201)
    assert ok(operator.post(f"{M}/projects", json=project), 200) == registered
    assert registered["kind"] == "CCER"
    issue = {"account_id": "E100", "vintage": 2025, "qty_t": 3_000}
    issued = ok(operator.post(f"{M}/projects/FOREST-1/issuances", json=issue), 201)
    ccer = "CCER:FOREST-1:2025"
    assert (issued["unit"], issued["qty_t"]) == (ccer, 3_000)
    assert holding(operator, "E100", ccer)["project_id"] == "FOREST-1"
    # Balances name each unit for screens, the offset with its project (docs/rules.md, names).
    named = {
        h["unit"]: h["name"] for h in ok(operator.get(f"{M}/accounts/E100/balances"))["holdings"]
    }
    assert named[ccer] == {
        "zh-CN": "CCER 林业碳汇 云南 FOREST-1 2025",
        "en": "CCER forestry Yunnan FOREST-1 2025",
    }
    assert named[f"CEA{YEAR}"] == {"zh-CN": f"全国碳排放配额 {YEAR}", "en": f"CEA {YEAR}"}
    # By hand: the cap is 5 % of the 20,000 t obligation = 1,000 t of CCER; then all 15,000 t
    # of allowances; 20,000 - 16,000 = 4,000 t short, at 5 × CNY 65.00 a tonne.
    assert (RULES.compliance.offset_cap_bp, RULES.penalty.multiplier) == (500, 5)
    plan_path = f"{M}/accounts/E100/compliance/{YEAR}/plan"
    plan = ok(operator.get(plan_path, params={"reference_price_fen": 6_500}))
    assert [(i["unit"], i["qty_t"]) for i in plan["items"]] == [
        (ccer, 1_000),
        (f"CEA{YEAR}", 15_000),
    ]
    assert plan == {
        **plan,
        "obligation_t": 20_000,
        "surrendered_t": 0,
        "remaining_t": 20_000,
        "offset_cap_bp": 500,
        "offset_cap_t": 1_000,
        "offset_cap_left_t": 1_000,
        "planned_offsets_t": 1_000,
        "planned_allowances_t": 15_000,
        "shortfall_after_plan_t": 4_000,
        "reference_price_fen": 6_500,
        "penalty_multiplier": 5,
        "projected_penalty_fen": 5 * 6_500 * 4_000,
    }
    # Without a price: the listed allowance's reference price (the demo's CNY 60.00).
    assert ok(operator.get(plan_path))["projected_penalty_fen"] == 5 * 6_000 * 4_000
    with client(server, key) as e100:
        assert ok(e100.get(plan_path, params={"reference_price_fen": 6_500})) == plan
        items = [{"unit": i["unit"], "qty_t": i["qty_t"]} for i in plan["items"]]
        body = {"year": YEAR, "items": items, "request_id": "surrender-1"}
        done = ok(e100.post(f"{M}/accounts/E100/surrenders", json=body), 201)
        assert ok(e100.post(f"{M}/accounts/E100/surrenders", json=body), 200) == done
        assert (done["pending_t"], done["offsets_t"], done["shortfall_t"]) == (16_000, 1_000, 4_000)
        after = ok(e100.get(plan_path))
        assert (after["items"], after["remaining_t"], after["offset_cap_left_t"]) == ([], 4_000, 0)
        one_more = {"year": YEAR, "items": [{"unit": ccer, "qty_t": 1}]}
        capped = assert_problem(
            e100.post(f"{M}/accounts/E100/surrenders", json=one_more), 409, "OFFSET_CAP_EXCEEDED"
        )
        assert (capped["cap_t"], capped["used_t"], capped["requested_t"]) == (1_000, 1_000, 1)
    not_covered = operator.get(f"{M}/accounts/P001/compliance/{YEAR}/plan")
    assert assert_problem(not_covered, 409, "NOT_A_COVERED_ENTITY")["kind"] == "participant"
    open_account(operator, "E101", "covered_entity")
    no_emissions = operator.get(f"{M}/accounts/E101/compliance/{YEAR}/plan")
    assert assert_problem(no_emissions, 409, "NO_VERIFIED_EMISSIONS")["year"] == YEAR


def test_an_assessment_fixes_penalties_once(operator: httpx.Client) -> None:
    year = YEAR - 2  # its deadline (31 December of the next year) has passed
    open_account(operator, "E400", "covered_entity")
    ok(operator.post(f"{M}/accounts/E400/emissions", json={"year": year, "verified_t": 500}), 201)
    early = operator.post(f"{M}/compliance/{YEAR}/assessments", json={})
    assert assert_problem(early, 409, "DEADLINE_NOT_REACHED")["deadline"] == f"{YEAR + 1}-12-31"
    body = {"reference_price_fen": 7_000, "account_ids": ["E400"], "request_id": "assess-1"}
    first = ok(operator.post(f"{M}/compliance/{year}/assessments", json=body), 201)
    assert first["assessed"] == [
        {
            "account_id": "E400",
            "year": year,
            "obligation_t": 500,
            "allowances_t": 0,
            "offsets_t": 0,
            "shortfall_t": 500,
            "penalty_fen": 5 * 7_000 * 500,
            "deduction_t": 500,  # docs/rules.md, national: deducted from next year's allocation
            "reference_price_fen": 7_000,
        }
    ]
    assert first["total_penalty_fen"] == 17_500_000
    assert ok(operator.post(f"{M}/compliance/{year}/assessments", json=body), 200) == first
    status = ok(operator.get(f"{M}/accounts/E400/compliance/{year}"))
    assert (status["assessed"]["penalty_fen"], status["deduction_owed_t"]) == (17_500_000, 500)
    closed = operator.post(
        f"{M}/compliance/{year}/assessments", json={**body, "request_id": "assess-2"}
    )
    assert assert_problem(closed, 409, "ALREADY_ASSESSED")["account_id"] == "E400"


def test_a_fixed_allocation_takes_the_deduction_a_paid_issuance_does_not(
    operator: httpx.Client,
) -> None:
    """E401 emits 300 t in YEAR - 2 and surrenders nothing: 300 t are owed (national: the
    shortfall × 1). A paid issuance of 50 t gives 50 t and owes on; the next free allocation,
    a fixed 1,000 t of YEAR - 1, is issued less the 300 t: 700 t."""
    year = YEAR - 2
    open_account(operator, "E401", "covered_entity")
    ok(operator.post(f"{M}/accounts/E401/emissions", json={"year": year, "verified_t": 300}), 201)
    body = {"reference_price_fen": 7_000, "account_ids": ["E401"]}
    [record] = ok(operator.post(f"{M}/compliance/{year}/assessments", json=body), 201)["assessed"]
    assert (record["shortfall_t"], record["deduction_t"]) == (300, 300)
    allocations = f"{M}/accounts/E401/allocations"
    paid = {"method": "issue", "vintage": year + 1, "qty_t": 50}
    bought = ok(operator.post(allocations, json=paid), 201)
    assert (bought["issued_t"], bought["deducted_t"]) == (50, 0)
    fixed = {"method": "fixed", "year": year + 1, "qty_t": 1_000}
    allocated = ok(operator.post(allocations, json=fixed), 201)
    assert (allocated["allocation_t"], allocated["deducted_t"], allocated["issued_t"]) == (
        1_000,
        300,
        700,
    )
    status = ok(operator.get(f"{M}/accounts/E401/compliance/{year + 1}"))
    assert status["deduction_owed_t"] == 0


def test_a_repeated_deposit_acts_once(p001: httpx.Client, operator: httpx.Client) -> None:
    path = f"{M}/accounts/P001/deposits"
    before = ok(p001.get(f"{M}/accounts/P001/balances"))["cash"]["available_fen"]
    movement = {"amount_fen": 5_000, "ref": "wire-77", "request_id": "dep-77"}
    first = ok(operator.post(path, json=movement), 201)
    again = ok(operator.post(path, json=movement), 200)
    assert first == again
    assert first["cash"]["available_fen"] == before + 5_000
    assert ok(p001.get(f"{M}/accounts/P001/balances"))["cash"]["available_fen"] == before + 5_000
    conflict = assert_problem(
        operator.post(path, json={**movement, "amount_fen": 6_000}), 409, "REQUEST_ID_CONFLICT"
    )
    assert (conflict["operation"], conflict["amount_fen"], conflict["ref"]) == (
        "deposit",
        5_000,
        "wire-77",
    )
    withdrawal = f"{M}/accounts/P001/withdrawals"
    assert_problem(
        operator.post(withdrawal, json={**movement, "request_id": "dep-77"}),
        409,
        "REQUEST_ID_CONFLICT",
    )
    # A refused request does not use up its id.
    too_much = {"amount_fen": 10**15, "ref": "out-1", "request_id": "wd-1"}
    assert_problem(operator.post(withdrawal, json=too_much), 409, "INSUFFICIENT_WITHDRAWABLE")
    paid = ok(operator.post(withdrawal, json={**too_much, "amount_fen": 1_000}), 201)
    assert paid["cash"]["available_fen"] == before + 4_000


def test_concurrent_retries_of_one_deposit_act_once(
    p002: httpx.Client, operator: httpx.Client
) -> None:
    path = f"{M}/accounts/P002/deposits"
    before = ok(p002.get(f"{M}/accounts/P002/balances"))["cash"]["available_fen"]
    movement = {"amount_fen": 777, "ref": "wire-88", "request_id": "dep-88"}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: operator.post(path, json=movement), range(8)))
    assert sorted(a.status_code for a in answers) == [200] * 7 + [201]
    assert len({a.text for a in answers}) == 1
    assert ok(p002.get(f"{M}/accounts/P002/balances"))["cash"]["available_fen"] == before + 777


def test_an_order_is_found_by_its_client_order_id(
    p001: httpx.Client, p002: httpx.Client, operator: httpx.Client, observer: httpx.Client
) -> None:
    placed = ok(place(p001, price_fen=5_500, qty_t=30, client_order_id="lookup-1"), 201)
    path = f"{M}/orders/by-client-id/lookup-1"
    found = ok(p001.get(path))
    assert found == {
        **found,
        "order_id": placed["order_id"],
        "account_id": "P001",
        "client_order_id": "lookup-1",
        "symbol": "CEA2025",
        "side": "buy",
        "price_fen": 5_500,
        "submitted_t": 30,
        "leaves_t": 30,
        "status": "new",
    }
    assert ok(operator.get(path, params={"account_id": "P001"})) == found
    assert ok(p001.get(path, params={"trading_day": found["trading_day"]})) == found
    missing = assert_problem(p002.get(path), 404, "UNKNOWN_ORDER")
    assert missing["client_order_id"] == "lookup-1"
    assert_problem(p002.get(path, params={"account_id": "P001"}), 403, "FORBIDDEN")
    assert_problem(observer.get(path), 403, "FORBIDDEN")
    assert_problem(operator.get(path), 422, "INVALID_REQUEST")
    yesterday = dt.date.fromisoformat(found["trading_day"]) - dt.timedelta(days=1)
    assert_problem(
        p001.get(path, params={"trading_day": yesterday.isoformat()}), 404, "UNKNOWN_ORDER"
    )
    ok(p001.delete(f"{M}/orders/{placed['order_id']}"))
    assert ok(p001.get(path))["status"] == "cancelled"


async def _close_the_day(database: Path) -> None:
    runtime = await MarketRuntime.recover(f"sqlite+aiosqlite:///{database}", "demo")
    runtime.start()
    try:
        for command in (CloseDay(0), EndOfDay(0)):
            assert (await runtime.submit(command)).outcome.code is None
    finally:
        await runtime.stop()


def test_request_ids_and_past_orders_survive_a_restart(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    deposit = {"amount_fen": 2_500, "ref": "wire-9", "request_id": "dep-9"}
    grant = {"method": "issue", "vintage": YEAR, "qty_t": 300, "request_id": "grant-9"}
    first = start_demo(database)
    try:
        with client(first, first.keys["operator_key"]) as operator:
            deposited = ok(operator.post(f"{M}/accounts/P001/deposits", json=deposit), 201)
            granted = ok(operator.post(f"{M}/accounts/P001/allocations", json=grant), 201)
        with client(first, first.keys["participants"]["P001"]) as p001:
            ok(place(p001, price_fen=5_500, qty_t=10, client_order_id="old-1"), 201)
            day = ok(p001.get(f"{M}/orders/by-client-id/old-1"))["trading_day"]
    finally:
        first.stop()
    asyncio.run(_close_the_day(database))
    second = start_demo(database)  # opens the next trading day
    try:
        with client(second, second.keys["operator_key"]) as operator:
            again = ok(operator.post(f"{M}/accounts/P001/deposits", json=deposit), 200)
            assert {k: again[k] for k in ("seq", "amount_fen", "ref")} == {
                k: deposited[k] for k in ("seq", "amount_fen", "ref")
            }
            assert again["cash"]["available_fen"] == deposited["cash"]["available_fen"]
            assert ok(operator.post(f"{M}/accounts/P001/allocations", json=grant), 200) == granted
            assert holding(operator, "P001", f"CEA{YEAR}")["available_t"] == 300
        with client(second, second.keys["participants"]["P001"]) as p001:
            old = ok(p001.get(f"{M}/orders/by-client-id/old-1", params={"trading_day": day}))
            assert (old["submitted_t"], old["filled_t"], old["cancelled_t"]) == (10, 0, 10)
            assert (old["status"], old["cancel_reason"]) == ("cancelled", "expiry")
            assert_problem(p001.get(f"{M}/orders/by-client-id/old-1"), 404, "UNKNOWN_ORDER")
    finally:
        second.stop()
