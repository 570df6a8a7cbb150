"""listScenarios (issue 7): the shipped scenarios for the instructor's "new class" form, to any
valid key, against a real ``carbonx demo`` process; what it says is checked against the YAML
files themselves and the rule set's calendar."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from exchange.client import AsyncClient, Client
from exchange.clock import trading_days
from exchange.sim.scenario import load_scenario, shipped_scenarios, text_in
from tests.api.conftest import client
from tests.api.server import DemoServer, start_demo
from tests.api.test_gateway import assert_problem


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    running = start_demo(tmp_path_factory.mktemp("scenarios") / "demo.db")
    try:
        yield running
    finally:
        running.stop()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def listed(server: DemoServer, key: str) -> dict[str, dict[str, Any]]:
    with client(server, key) as c:
        rows = ok(c.get("/v1/scenarios"))["scenarios"]
    return {row["name"]: row for row in rows}


def test_every_shipped_scenario_is_listed_with_its_facts(server: DemoServer) -> None:
    rows = listed(server, server.keys["participants"]["P001"])
    assert sorted(rows) == shipped_scenarios()
    spec = load_scenario("classroom_national").spec
    assert rows["classroom_national"] == {
        "name": "classroom_national",
        "title": text_in(spec.title, "en"),
        "title_zh": text_in(spec.title, "zh-CN"),
        "description": text_in(spec.description, "en"),
        "description_zh": text_in(spec.description, "zh-CN"),
        "rule_set": "cn_national",
        "start": "2026-03-02",
        "years": 1,
        "trading_days_per_year": 8,  # the file caps the year at 8 days
        "firms": 40,  # one firm group of 40
        "bots": rows["classroom_national"]["bots"],
        "seats_default": 30,
        "reference_price_fen": 8000,
        "gas_fired_top_up": False,  # a fixed allocation: no true-up to top anyone up
    }
    # Benchmark allocation under the national rules tops gas-fired units up; Guangdong's rules
    # have no gas top-up.
    assert rows["national_power"]["gas_fired_top_up"] is True
    assert rows["guangdong_pilot"]["gas_fired_top_up"] is False
    assert rows["guangdong_pilot"]["rule_set"] == "guangdong_pilot"
    assert rows["guangdong_pilot"]["firms"] == 80 + 70 + 40 + 30 + 30  # five firm groups
    assert rows["equilibrium_check"]["seats_default"] == 1  # no seats: a class gets one
    for name, row in rows.items():
        loaded = load_scenario(name)
        assert row["bots"] == len(loaded.agents)
        assert row["description"]  # every shipped scenario says what it is, in both languages
        assert row["description_zh"] != row["description"]
        assert row["title_zh"] != row["title"]


def test_an_uncapped_year_has_every_trading_day_of_the_calendar(server: DemoServer) -> None:
    row = listed(server, server.keys["operator_key"])["national_power"]
    loaded = load_scenario("national_power")
    assert loaded.spec.calendar.trading_days_per_year is None
    start = loaded.spec.calendar.start
    days = trading_days(loaded.rules.calendar, start, dt.date(start.year, 12, 31))
    assert row["trading_days_per_year"] == len(days)
    assert 200 < len(days) < 260  # a working year less the holidays
    assert row["firms"] == 1500 + 600 + sum(g.count for g in loaded.spec.firm_groups[2:])


def test_any_valid_key_may_list_and_no_key_may_not(server: DemoServer) -> None:
    with client(server, server.keys["operator_key"]) as operator:
        observer_key = ok(operator.post("/v1/markets/demo/keys", json={"role": "observer"}), 201)
    keys = [server.keys["exchange_operator_key"], observer_key["api_key"]]
    expected = listed(server, server.keys["operator_key"])
    for key in keys:
        assert listed(server, key) == expected
    with client(server, None) as anonymous:
        assert_problem(anonymous.get("/v1/scenarios"), 401, "UNAUTHENTICATED")
    with client(server, "cx_not_a_key") as stranger:
        assert_problem(stranger.get("/v1/scenarios"), 401, "UNAUTHENTICATED")


def test_both_clients_list_the_scenarios(server: DemoServer) -> None:
    key = server.keys["participants"]["P002"]
    with Client(server.base_url, key) as sync:
        names = [row["name"] for row in sync.list_scenarios()["scenarios"]]

    async def listed_async() -> list[str]:
        async with AsyncClient(server.base_url, key) as client_:
            reply = await client_.list_scenarios()
        return [row["name"] for row in reply["scenarios"]]

    assert names == asyncio.run(listed_async()) == shipped_scenarios()


def test_a_listed_name_and_its_default_seats_make_a_class(server: DemoServer) -> None:
    row = listed(server, server.keys["exchange_operator_key"])["classroom_national"]
    with client(server, server.keys["exchange_operator_key"]) as c:
        body = {"market_id": "from-list", "scenario": row["name"]}
        made = ok(c.post("/v1/markets/from-scenario", json=body), 201)
    assert len(made["seats"]) == row["seats_default"]
