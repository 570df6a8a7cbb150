"""getComplianceStatus prices the projected penalty: at ``?reference_price_fen`` when given,
else at the penalty reference price getSurrenderPlan uses too (the volume-weighted price of the
rule set's window of cleared trading days, else the last close of the listed allowance), and
says which; against a real ``carbonx demo`` process, whose first day has not been cleared, so
the window is empty and the basis is the last close. The projected shortfall is what would
still be missing after surrendering everything the entity's units legally cover."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from exchange.client import Client, InvalidRequestError
from registry_sim.rules import load_rules
from tests.api.conftest import client
from tests.api.server import DemoServer, start_demo
from tests.api.test_gateway import assert_problem

M = "/v1/markets/demo"
YEAR = dt.date.today().year  # the demo's trading day is today (or just after)
UNIT = f"CEA{YEAR}"
RULES = load_rules("cn_national")  # the demo's rule set


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    running = start_demo(tmp_path_factory.mktemp("penalty") / "demo.db")
    try:
        yield running
    finally:
        running.stop()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def covered_entity(operator: httpx.Client, account_id: str, allocated_t: int) -> str:
    """A covered entity with ``allocated_t`` allowances of this year's vintage; its key."""
    body = {"account_id": account_id, "name": account_id, "kind": "covered_entity"}
    key = str(
        ok(operator.post(f"{M}/participants", json={**body, "province": "Hubei"}), 201)["api_key"]
    )
    grant = {"method": "issue", "vintage": YEAR, "qty_t": allocated_t}
    ok(operator.post(f"{M}/accounts/{account_id}/allocations", json=grant), 201)
    return key


def listed_allowance(operator: httpx.Client) -> tuple[str, int]:
    """The default basis, from the market's own listing: this year's allowance if it is
    listed, else the latest listed one, and its reference price."""
    rows = ok(operator.get(f"{M}/instruments"))["instruments"]
    prices = {r["symbol"]: r["reference_price_fen"] for r in rows if r["unit_kind"] == "CEA"}
    symbol = UNIT if UNIT in prices else max(prices)
    return symbol, int(prices[symbol])


def test_the_projected_penalty_is_multiplier_times_price_times_shortfall(
    server: DemoServer, operator: httpx.Client
) -> None:
    key = covered_entity(operator, "PEN1", 1_200)
    path = f"{M}/accounts/PEN1/compliance/{YEAR}"
    symbol, price_fen = listed_allowance(operator)
    multiplier = RULES.penalty.multiplier
    assert RULES.penalty.kind == "price_multiple"

    # Before verification there is no shortfall to price, but the basis is named already.
    early = ok(operator.get(path))
    assert (early["shortfall_t"], early["projected_penalty_fen"]) == (None, None)
    assert early["reference_price_basis"] == "last_close"

    ok(operator.post(f"{M}/accounts/PEN1/emissions", json={"year": YEAR, "verified_t": 2_000}), 201)
    status = ok(operator.get(path))
    # By hand: 2,000 t verified, nothing surrendered, 1,200 t held that count: 800 t short
    # at 5 × the last close.
    assert status == {
        **status,
        "obligation_t": 2_000,
        "remaining_t": 2_000,
        "coverable_t": 1_200,
        "shortfall_t": 800,
        "reference_price_fen": price_fen,
        "reference_price_basis": "last_close",
        "reference_price_symbol": symbol,
        "penalty_kind": "price_multiple",
        "penalty_multiplier": multiplier,
        "projected_penalty_fen": multiplier * price_fen * 800,
    }
    asked = ok(operator.get(path, params={"reference_price_fen": 7_300}))
    assert asked == {
        **status,
        "reference_price_fen": 7_300,
        "reference_price_basis": "request",
        "reference_price_symbol": None,
        "projected_penalty_fen": multiplier * 7_300 * 800,
    }

    # The plan prices on the same default basis, and leaves the same shortfall.
    plan = ok(operator.get(f"{path}/plan"))
    basis = ("reference_price_fen", "reference_price_basis", "reference_price_symbol")
    assert {k: plan[k] for k in basis} == {k: status[k] for k in basis}
    assert (plan["shortfall_after_plan_t"], plan["projected_penalty_fen"]) == (
        800,
        status["projected_penalty_fen"],
    )

    # After a surrender of 1,200 t the participant's own view shows the same 800 t short,
    # now with nothing left to cover it.
    with client(server, key) as own:
        items = [{"unit": UNIT, "qty_t": 1_200}]
        surrendered = ok(
            own.post(f"{M}/accounts/PEN1/surrenders", json={"year": YEAR, "items": items}), 201
        )
        assert surrendered["projected_penalty_fen"] == multiplier * price_fen * 800
        mine = ok(own.get(path))
        assert (mine["remaining_t"], mine["coverable_t"]) == (800, 0)
        assert (mine["shortfall_t"], mine["projected_penalty_fen"]) == (
            800,
            multiplier * price_fen * 800,
        )


def test_the_clients_pass_the_reference_price(server: DemoServer, operator: httpx.Client) -> None:
    covered_entity(operator, "PEN2", 100)
    ok(operator.post(f"{M}/accounts/PEN2/emissions", json={"year": YEAR, "verified_t": 300}), 201)
    with Client(server.base_url, server.keys["operator_key"], "demo") as sync:
        given = sync.get_compliance_status("PEN2", YEAR, reference_price_fen=9_000)
        default = sync.get_compliance_status("PEN2", YEAR)
        with pytest.raises(InvalidRequestError) as refused:
            sync.get_compliance_status("PEN2", YEAR, reference_price_fen=0)
    multiplier = RULES.penalty.multiplier
    assert (given["projected_penalty_fen"], given["reference_price_basis"]) == (
        multiplier * 9_000 * 200,  # 300 t owed, 100 t held
        "request",
    )
    assert default["projected_penalty_fen"] == multiplier * listed_allowance(operator)[1] * 200
    assert refused.value.status == 422


def test_a_bad_reference_price_is_a_problem(operator: httpx.Client) -> None:
    path = f"{M}/accounts/P001/compliance/{YEAR}"
    for bad in ("0", "-5", "lots"):
        problem = assert_problem(
            operator.get(path, params={"reference_price_fen": bad}), 422, "INVALID_REQUEST"
        )
        assert problem["errors"], problem
