"""The instructor console's operations (issue 7) against a real ``carbonx demo`` process.

Most tests make a class of their own from a tiny scenario without bots (``TINY``), so that
every number is known; one makes the shipped ``classroom_national`` class with its bots.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from exchange.sim.scenario import load_scenario, parse_scenario
from registry_sim.rules import BP, load_rules
from tests.api.conftest import client
from tests.api.server import DemoServer, start_demo
from tests.api.test_gateway import assert_problem

RULES = load_rules("cn_national")
POWER_SHOCK_BP = 300  # classroom_national's emission shock of day 4
WAIT_S = 10.0
TINY = """
name: tiny_class
seed: 11
rules: {name: cn_national}
calendar: {start: 2026-03-02, years: 1, trading_days_per_year: 3}
market: {reference_price_fen: 8000}
allocation: {method: fixed, share_bp: 9000}
firm_agent: {kind: null}
firms:
  - {id: F1, sector: power, province: Hubei, baseline_t: 100000, cash_fen: 100000000,
     curve: {intercept_fen: 2000, slope_fen_per_t: 1.0, max_t: 10000}}
  - {id: F2, sector: cement, province: Hubei, baseline_t: 50000, growth_bp: 200,
     cash_fen: 100000000, curve: {intercept_fen: 3000, slope_fen_per_t: 2.0, max_t: 5000}}
seats: {count: 2, id_prefix: S, cash_fen: 200000000}
events:
  - {day: 1, kind: emission_shock, sector: power, change_bp: 500}
  - {day: 3, kind: emission_shock, sector: cement, change_bp: 1000}
"""
# Benchmark allocation of one power firm: 100,000 MWh × 0.5 t/MWh = 50,000 t by the benchmark,
# 60,000 t emitted last year and this (no growth, no shock): pre-allocated 70 % of 60,000 t.
GAS = """
name: gas_class
seed: 5
rules: {name: cn_national}
calendar: {start: 2026-03-02, years: 1, trading_days_per_year: 2}
market: {reference_price_fen: 8000}
allocation: {method: benchmark, benchmarks: {power: "0.5"}}
firm_agent: {kind: null}
firms:
  - {id: F1, sector: power, province: Hubei, output: 100000, baseline_t: 60000,
     cash_fen: 100000000, curve: {intercept_fen: 2000, slope_fen_per_t: 1.0, max_t: 10000}}
seats: {count: 3, id_prefix: G}
"""
names = (f"class{n}" for n in itertools.count(1))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    running = start_demo(tmp_path_factory.mktemp("classroom") / "demo.db")
    try:
        yield running
    finally:
        running.stop()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def make_class(c: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"market_id": next(names), "yaml": TINY, **fields}
    made: dict[str, Any] = ok(c.post("/v1/markets/from-scenario", json=body), 201)
    return made


def yuan(fen: int) -> str:
    """Fen as the results CSV writes them, worked out here independently."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def results_csv(c: httpx.Client, market: str, lang: str | None) -> list[dict[str, str]]:
    """getClassResults as CSV (``lang`` None: the default), checked to be UTF-8 with a BOM."""
    params = {"format": "csv"} | ({} if lang is None else {"lang": lang})
    served = c.get(f"{market}/class/results", params=params)
    assert served.status_code == 200, served.text
    assert served.headers["content-type"] == "text/csv; charset=utf-8"
    assert served.content.startswith(b"\xef\xbb\xbf")  # so that Excel reads it as UTF-8
    return list(csv.DictReader(io.StringIO(served.content.decode("utf-8-sig"))))


def advance(c: httpx.Client, market_id: str) -> dict[str, Any]:
    done: dict[str, Any] = ok(c.post(f"/v1/markets/{market_id}/class/phase/advance"))
    return done


def start_class(operator: httpx.Client, market_id: str) -> dict[str, Any]:
    """Start the class on a stepped clock (which opens its first day: pre-open) and step it
    into the first continuous session."""
    clock = f"/v1/markets/{market_id}/clock"
    started = ok(operator.post(f"{clock}/start", json={"mode": "stepped"}))
    assert (started["session"], started["next_event"]["action"]) == ("pre_open", "session_open")
    stepped: dict[str, Any] = ok(operator.post(f"{clock}/advance", json={}))
    assert stepped["clock"]["session"] == "continuous", stepped
    return stepped


def expected_verified_t(profile: str, abated_t: int = 0) -> int:
    """A TINY entity's 2026 emissions on the first trading day: its baseline, changed by the
    day-1 power shock (the day-3 cement shock is still ahead), minus its abatement."""
    firm = next(f for f in parse_scenario(TINY).firms if f.account_id == profile)
    baseline = firm.baseline_t
    if firm.sector == "power":
        baseline = baseline * (BP + 500) // BP
    return baseline - abated_t


def profile_of(seat: dict[str, Any]) -> str:
    """The TINY firm a seat's profile came from."""
    profile: str = seat["profile"]
    assert profile in ("F1", "F2")
    assert f"({'power' if profile == 'F1' else 'cement'}, Hubei)" in seat["name"]
    assert f"（{'发电' if profile == 'F1' else '水泥'}，湖北）" in seat["name_zh"]
    return profile


# ---------------------------------------------------------------------- classroom_national


def test_a_class_from_classroom_national_has_seats_with_obligations(
    server: DemoServer, exchange_operator: httpx.Client
) -> None:
    made = ok(
        exchange_operator.post(
            "/v1/markets/from-scenario",
            json={"market_id": "national", "scenario": "classroom_national", "seats": 5},
        ),
        201,
    )
    scenario = load_scenario("classroom_national")
    assert (made["scenario"], made["phase"], made["compliance_year"]) == (
        "classroom_national",
        "trading",
        2026,
    )
    assert [s["seat"] for s in made["seats"]] == [1, 2, 3, 4, 5]
    assert len(made["bots"]) == len(scenario.agents)
    # Closed until the clock starts: no day open, and its first day is the scenario's.
    assert made["trading_day"] is None
    assert made["first_day"] == scenario.spec.calendar.start.isoformat()
    seats = made["seats"]
    market = "/v1/markets/national"
    with client(server, seats[0]["key"]) as seat:  # a seat's key works, for its own account
        status = ok(seat.get(f"{market}/accounts/{seats[0]['account_id']}/compliance/2026"))
        assert status["obligation_t"] is None  # not verified yet
        assert_problem(
            seat.get(f"{market}/accounts/{seats[1]['account_id']}/compliance/2026"),
            403,
            "FORBIDDEN",
        )
        holdings = ok(seat.get(f"{market}/accounts/{seats[0]['account_id']}/holdings"))
        profile = next(f for f in scenario.firms if f.account_id == seats[0]["profile"])
        share_bp = scenario.spec.allocation.share_bp
        assert scenario.spec.seats is not None
        assert share_bp is not None
        allocation = profile.baseline_t * share_bp // BP  # the scenario's fixed allocation
        assert holdings["totals"]["total_t"] == allocation + scenario.spec.seats.allowances_t
    with client(server, made["operator_key"]) as operator:
        dashboard = ok(operator.get(f"{market}/class/dashboard"))
        by_account = {row["account_id"]: row for row in dashboard["ranking"]}
        assert len(by_account) == len(scenario.firms) + 5  # every covered entity, seats too
        verified = advance(operator, "national")
        assert verified["phase"] == "verification"
        assert verified["done"]["emissions_recorded"] == len(scenario.firms) + 5
        firms = {f.account_id: f for f in scenario.firms}
        for seat_made in seats:
            row = by_account[seat_made["account_id"]]
            assert row["seat"] == seat_made["seat"]
            assert row["obligation_t"] > 0
            status = ok(
                operator.get(f"{market}/accounts/{seat_made['account_id']}/compliance/2026")
            )
            # No seat declared abatement, and no day opened: verification counts every
            # emission shock of the year, the power sector's of day 4 too.
            firm = firms[seat_made["profile"]]
            assert firm.sector == "power"
            assert status["obligation_t"] == firm.baseline_t * (BP + POWER_SHOCK_BP) // BP
        ok(operator.post(f"{market}/class/phase/advance"))
        ok(operator.post(f"{market}/class/phase/advance"))
        closed = advance(operator, "national")
        assert (closed["phase"], closed["done"]["bots_stopped"]) == ("closed", len(scenario.agents))
        # The clock never started: the bots, which ran all along, never traded.
        assert ok(operator.get(f"{market}/trades"))["trades"] == []


# ---------------------------------------------------------------------- a whole year


def test_a_year_of_phases_records_emissions_and_assesses_penalties(
    server: DemoServer, exchange_operator: httpx.Client
) -> None:
    made = make_class(exchange_operator)
    m = made["market_id"]
    market = f"/v1/markets/{m}"
    seat1, seat2 = made["seats"]
    assert made["bots"] == []
    with (
        client(server, made["operator_key"]) as operator,
        client(server, seat1["key"]) as trainee,
    ):
        start_class(operator, m)
        phase = ok(operator.get(f"{market}/class/phase"))
        assert phase == {
            "market_id": m,
            "phase": "trading",
            "compliance_year": 2026,
            "deadline": RULES.compliance.deadline(2026).isoformat(),
            "next_phase": "verification",
            "last_advance": {},
        }
        firm = next(f for f in parse_scenario(TINY).firms if f.account_id == profile_of(seat1))
        too_much = trainee.post(f"{market}/class/abatement", json={"qty_t": firm.curve.max_t + 1})
        assert assert_problem(too_much, 409, "ABATEMENT_OVER_MAX")["max_t"] == firm.curve.max_t
        declared = ok(trainee.post(f"{market}/class/abatement", json={"qty_t": 1000}), 201)
        assert declared["cost_fen"] == firm.curve.cost_fen(1000)

        done = advance(operator, m)["done"]
        assert done["emissions_recorded"] == 4  # two firms, two seats
        verified = {}
        for account, profile, abated in [
            ("F1", "F1", 0),
            ("F2", "F2", 0),
            (seat1["account_id"], profile_of(seat1), 1000),
            (seat2["account_id"], profile_of(seat2), 0),
        ]:
            status = ok(operator.get(f"{market}/accounts/{account}/compliance/2026"))
            assert status["obligation_t"] == expected_verified_t(profile, abated), account
            verified[account] = status["obligation_t"]
        assert done["verified_t"] == sum(verified.values())
        late = trainee.post(f"{market}/class/abatement", json={"qty_t": 10})
        assert assert_problem(late, 409, "WRONG_CLASS_PHASE")["phase"] == "verification"

        assert advance(operator, m)["phase"] == "surrender"
        allocation = firm.baseline_t * 9000 // BP  # TINY's fixed share of the baseline
        units = {"unit": "CEA2026", "qty_t": allocation}
        body = {"year": 2026, "items": [units]}
        ok(trainee.post(f"{market}/accounts/{seat1['account_id']}/surrenders", json=body), 201)

        assessed = advance(operator, m)
        assert assessed["phase"] == "assessment"
        assert assessed["next_phase"] == "closed"
        price = assessed["done"]["reference_price_fen"]
        assert price == 8000  # CEA2026's reference price: nothing traded
        total = 0
        for account, emitted in verified.items():
            record = ok(operator.get(f"{market}/accounts/{account}/compliance/2026"))["assessed"]
            surrendered = allocation if account == seat1["account_id"] else 0
            assert record["shortfall_t"] == emitted - surrendered
            assert record["penalty_fen"] == RULES.penalty.multiplier * price * record["shortfall_t"]
            total += record["penalty_fen"]
        assert assessed["done"]["total_penalty_fen"] == total
        assert assessed["done"]["assessed"] == 4
        assert assessed["done"]["complied"] == 0

        results = ok(operator.get(f"{market}/class/results"))
        rows = {r["account_id"]: r for r in results["results"]}
        assert rows[seat1["account_id"]]["penalty_fen"] == (
            RULES.penalty.multiplier * price * (verified[seat1["account_id"]] - allocation)
        )
        assert rows[seat1["account_id"]]["abatement_cost_fen"] == firm.curve.cost_fen(1000)
        parsed = results_csv(operator, market, "en")
        assert [r["Account"] for r in parsed] == [r["account_id"] for r in results["results"]]
        for line in parsed:
            row = rows[line["Account"]]
            assert line["Penalty (CNY)"] == yuan(row["penalty_fen"])
            assert int(line["Shortfall (t)"]) == row["shortfall_t"]
            assert line["Complied"] == "no"
            assert line["Cash now (CNY)"] == yuan(row["cash_fen"])
            cost = row["penalty_fen"] + (row["abatement_cost_fen"] or 0)  # nothing traded
            assert row["compliance_cost_fen"] == cost
            assert line["Compliance cost (CNY)"] == yuan(cost)

        assert advance(operator, m)["phase"] == "closed"
        assert_problem(operator.post(f"{market}/class/phase/advance"), 409, "CLASS_CLOSED")


# ---------------------------------------------------------------------- gas-fired seats


def test_gas_fired_seats_are_topped_up_to_their_verified_emissions(
    server: DemoServer, exchange_operator: httpx.Client
) -> None:
    made = make_class(exchange_operator, yaml=GAS, gas_fired_seats=2)
    m = made["market_id"]
    market = f"/v1/markets/{m}"
    assert [(s["account_id"], s["gas_fired"]) for s in made["seats"]] == [
        ("G001", True),
        ("G002", True),
        ("G003", False),
    ]
    with (
        client(server, made["operator_key"]) as operator,
        client(server, made["seats"][1]["key"]) as g002,
    ):
        listed = ok(operator.get(f"{market}/class/seats"))["seats"]
        assert [s["gas_fired"] for s in listed] == [True, True, False]
        start_class(operator, m)
        # Pre-allocated 70 % of last year's 60,000 t.
        firm = ok(g002.get(f"{market}/class/me"))["seat"]
        assert (firm["gas_fired"], firm["gas_top_up"], firm["allocation_t"]) == (True, True, 42_000)
        ok(g002.post(f"{market}/class/abatement", json={"qty_t": 1_000}), 201)
        ranking = ok(operator.get(f"{market}/class/dashboard"))["ranking"]
        assert {r["account_id"]: r["gas_fired"] for r in ranking} == {
            "F1": False,
            "G001": True,
            "G002": True,
            "G003": False,
        }
        assert advance(operator, m)["phase"] == "verification"

        def seat(account_id: str) -> dict[str, Any]:
            found: dict[str, Any] = ok(
                operator.get(f"{market}/class/me", params={"account_id": account_id})
            )["seat"]
            return found

        # Gas-fired: max(50,000 by the benchmark, verified) = the verified emissions (60,000 t;
        # G002 abated 1,000 t: 59,000 t). Not gas-fired: max(50,000, 80 % × 60,000 = 48,000).
        finals = {a: seat(a)["allocation_t"] for a in ("G001", "G002", "G003", "F1")}
        assert finals == {"G001": 60_000, "G002": 59_000, "G003": 50_000, "F1": 50_000}
        assert (seat("G002")["projected_t"], seat("G002")["verified"]) == (59_000, True)
        assert (seat("G003")["gas_fired"], seat("G003")["gas_top_up"]) == (False, False)
        # The true-up issued the difference: 60,000 - 42,000 and 50,000 - 42,000.
        holdings = ok(operator.get(f"{market}/accounts/G001/holdings"))["totals"]
        assert holdings["available_t"] == 60_000
        assert ok(operator.get(f"{market}/accounts/G003/holdings"))["totals"]["available_t"] == (
            50_000
        )
    too_many = exchange_operator.post(
        "/v1/markets/from-scenario",
        json={"market_id": next(names), "yaml": GAS, "seats": 2, "gas_fired_seats": 3},
    )
    refused = assert_problem(too_many, 422, "TOO_MANY_GAS_FIRED_SEATS")
    assert (refused["gas_fired_seats"], refused["seats"]) == (3, 2)
    # Without a number of seats, the scenario's three are the bound.
    default = exchange_operator.post(
        "/v1/markets/from-scenario",
        json={"market_id": next(names), "yaml": GAS, "gas_fired_seats": 4},
    )
    assert assert_problem(default, 422, "TOO_MANY_GAS_FIRED_SEATS")["seats"] == 3
    # A fixed allocation tops no one up: the flag is kept, the top-up is not promised.
    fixed = make_class(exchange_operator, gas_fired_seats=1)
    with client(server, fixed["seats"][0]["key"]) as s001:
        firm = ok(s001.get(f"/v1/markets/{fixed['market_id']}/class/me"))["seat"]
        assert (firm["gas_fired"], firm["gas_top_up"]) == (True, False)


# ---------------------------------------------------------------------- trades: dashboard, replay


def order(c: httpx.Client, market_id: str, side: str, qty_t: int, price_fen: int) -> Any:
    body = {"symbol": "CEA2026", "side": side, "qty_t": qty_t, "price_fen": price_fen}
    return ok(c.post(f"/v1/markets/{market_id}/orders", json=body), 201)


def test_dashboard_and_replay_after_known_trades(
    server: DemoServer, exchange_operator: httpx.Client
) -> None:
    made = make_class(exchange_operator)
    m = made["market_id"]
    seat1, seat2 = made["seats"]
    with (
        client(server, made["operator_key"]) as operator,
        client(server, seat1["key"]) as one,
        client(server, seat2["key"]) as two,
    ):
        start_class(operator, m)
        before = ok(operator.get(f"/v1/markets/{m}/class/dashboard"))
        assert before["trades_today"] == 0
        assert before["participation"] == {"seats": 2, "placed_order": 0, "traded": 0}
        resting = order(one, m, "sell", 100, 8000)
        crossing = order(two, m, "buy", 100, 8000)
        assert [f["qty_t"] for f in crossing["fills"]] == [100]
        order(two, m, "sell", 10, 8100)
        order(one, m, "buy", 10, 8100)
        dashboard = ok(operator.get(f"/v1/markets/{m}/class/dashboard"))
        cea = next(i for i in dashboard["instruments"] if i["symbol"] == "CEA2026")
        assert (cea["last_price_fen"], cea["open_fen"], cea["high_fen"], cea["low_fen"]) == (
            8100,
            8000,
            8100,
            8000,
        )
        assert cea["volume_t"] == 110
        assert dashboard["trades_today"] == 2
        assert dashboard["participation"] == {"seats": 2, "placed_order": 2, "traded": 2}
        rows = {r["account_id"]: r for r in dashboard["ranking"]}
        # Marked at 8100: seat 1 sold 90 t net for 800,000 - 81,000 fen; seat 2 bought them.
        fee = RULES.settlement.fee_bp_buy + RULES.settlement.fee_bp_sell
        assert fee == 0  # the national fee levels are 0: P&L is the trades' alone
        assert rows[seat1["account_id"]]["pnl_fen"] == -90 * 8100 + 800_000 - 81_000
        assert rows[seat2["account_id"]]["pnl_fen"] == 90 * 8100 - 800_000 + 81_000
        cash = ok(one.get(f"/v1/markets/{m}/accounts/{seat1['account_id']}/balances"))["cash"]
        assert rows[seat1["account_id"]]["cash_fen"] == cash["available_fen"] + cash["held_fen"]
        order_key = [(r["shortfall_t"] > 0, r["cost_fen"]) for r in dashboard["ranking"]]
        assert order_key == sorted(order_key)  # complying first, then the cheapest
        # The cost so far: net spend on units (no abatement declared) and projected penalty.
        for seat, net_spend in [(seat1, -800_000 + 81_000), (seat2, 800_000 - 81_000)]:
            row = rows[seat["account_id"]]
            assert row["cost_fen"] == net_spend + row["projected_penalty_fen"]
            assert (row["name"], row["name_zh"]) == (seat["name"], seat["name_zh"])

        at_rest = ok(operator.get(f"/v1/markets/{m}/replay", params={"seq": resting["seq"]}))
        book = next(b for b in at_rest["books"] if b["symbol"] == "CEA2026")
        assert book["asks"] == [{"price_fen": 8000, "qty_t": 100, "order_count": 1}]
        assert at_rest["trades"] == []
        assert at_rest["seq"] == resting["seq"]
        assert at_rest["trading_day"] == "2026-03-02"
        assert at_rest["session"] == "continuous"
        traded = ok(operator.get(f"/v1/markets/{m}/replay", params={"seq": crossing["seq"]}))
        book = next(b for b in traded["books"] if b["symbol"] == "CEA2026")
        assert book["asks"] == []
        assert book["bids"] == []
        assert [(t["price_fen"], t["qty_t"]) for t in traded["trades"]] == [(8000, 100)]
        first = ok(operator.get(f"/v1/markets/{m}/replay", params={"seq": 1}))
        assert first["trading_day"] is None
        assert first["trades"] == []
        assert first["last_seq"] >= crossing["seq"] + 2
        timeline = ok(operator.get(f"/v1/markets/{m}/replay/timeline"))
        kinds = [e["kind"] for e in timeline["events"]]
        assert kinds == ["open_day", "set_session"]
        assert sum(minute["count"] for minute in timeline["trade_minutes"]) == 2


def test_results_as_a_csv_in_yuan_in_either_language(
    server: DemoServer, exchange_operator: httpx.Client
) -> None:
    """Seat 1 sells 100 t at 80.00 to seat 2 and buys 10 t back at 81.00; its row, worked by
    hand, in the Chinese CSV (the national rule set's language, so the default too) and in
    the English one."""
    made = make_class(exchange_operator)
    m = made["market_id"]
    market = f"/v1/markets/{m}"
    seat1, seat2 = made["seats"]
    with (
        client(server, made["operator_key"]) as operator,
        client(server, seat1["key"]) as one,
        client(server, seat2["key"]) as two,
    ):
        start_class(operator, m)
        order(one, m, "sell", 100, 8000)
        order(two, m, "buy", 100, 8000)
        order(two, m, "sell", 10, 8100)
        order(one, m, "buy", 10, 8100)
        served = ok(operator.get(f"{market}/class/results"))["results"]
        row = next(r for r in served if r["account_id"] == seat1["account_id"])
        assert (row["name"], row["name_zh"]) == (seat1["name"], seat1["name_zh"])
        assert row["net_spend_fen"] == row["compliance_cost_fen"] == -800_000 + 81_000
        assert row["pnl_fen"] == -90 * 8100 + 719_000  # -10,000 marked at the last price
        cash = ok(one.get(f"{market}/accounts/{seat1['account_id']}/balances"))["cash"]
        cash_fen = cash["available_fen"] + cash["held_fen"]
        assert row["cash_fen"] == cash_fen

        chinese = results_csv(operator, market, "zh-CN")
        assert results_csv(operator, market, None) == chinese  # cn_national's language
        line = next(r for r in chinese if r["账户"] == seat1["account_id"])
        assert line == {
            "账户": seat1["account_id"],
            "名称": seat1["name_zh"],
            "席位": "1",
            "角色": "学员",
            "履约年度": "2026",
            "是否已核定": "否",
            "是否履约": "",  # not assessed
            "履约义务（吨）": "",  # not verified
            "已清缴（吨）": "0",
            "缺口（吨）": "",
            "罚款（元）": "",
            "成交笔数": "2",
            "成交量（吨）": "110",
            "买入（吨）": "10",
            "卖出（吨）": "100",
            "手续费（元）": "0.00",
            "期初资金（元）": "2000000.00",
            "当前资金（元）": yuan(cash_fen),
            "资金变化（元）": yuan(cash_fen - 200_000_000),
            "交易盈亏（按最新价，元）": "-100.00",
            "减排量（吨）": "",
            "减排成本（元）": "",
            "买卖净支出（元）": "-7190.00",
            "履约成本（元）": "-7190.00",
        }
        assert seat1["name_zh"].startswith("席位 1（")
        english = results_csv(operator, market, "en")
        line = next(r for r in english if r["Account"] == seat1["account_id"])
        assert (line["Name"], line["Role"], line["Assessed"]) == (seat1["name"], "Trainee", "no")
        assert line["Compliance cost (CNY)"] == "-7190.00"
        assert line["Trading P&L at last price (CNY)"] == "-100.00"
        bad = operator.get(f"{market}/class/results", params={"format": "csv", "lang": "fr"})
        assert_problem(bad, 422, "INVALID_REQUEST")


# ---------------------------------------------------------------------- announcements


def test_announcements_arrive_on_the_socket_and_survive_a_restart(tmp_path: Path) -> None:
    database = tmp_path / "restart.db"
    running = start_demo(database)
    try:
        with client(running, running.keys["exchange_operator_key"]) as wide:
            made = make_class(wide)
        m = made["market_id"]
        url = running.base_url.replace("http://", "ws://") + "/v1/ws"
        with (
            client(running, made["operator_key"]) as operator,
            connect(url, open_timeout=WAIT_S) as socket,
        ):
            socket.send(json.dumps({"op": "auth", "market_id": m, "key": made["seats"][0]["key"]}))
            assert json.loads(socket.recv(WAIT_S))["type"] == "authed"
            socket.send(json.dumps({"op": "subscribe", "channel": "announcements"}))
            assert json.loads(socket.recv(WAIT_S))["type"] == "subscribed"
            posted = ok(
                operator.post(
                    f"/v1/markets/{m}/announcements",
                    json={"text": "热浪预警: power demand up", "level": "warning"},
                ),
                201,
            )
            message = json.loads(socket.recv(WAIT_S))
            assert message["type"] == "announcement"
            assert {k: message[k] for k in ("id", "ts_ns", "text", "level")} == {
                k: posted[k] for k in ("id", "ts_ns", "text", "level")
            }
            ok(operator.post(f"/v1/markets/{m}/announcements", json={"text": "second"}), 201)
            advance(operator, m)
    finally:
        running.stop()
    restarted = start_demo(database)
    try:
        with client(restarted, made["seats"][1]["key"]) as seat:
            listed = ok(seat.get(f"/v1/markets/{m}/announcements"))["announcements"]
            assert [(a["text"], a["level"]) for a in listed] == [
                ("second", "info"),
                ("热浪预警: power demand up", "warning"),
            ]
            assert len(ok(seat.get(f"/v1/markets/{m}/announcements?limit=1"))["announcements"]) == 1
            phase = ok(seat.get(f"/v1/markets/{m}/class/phase"))
            assert (phase["phase"], phase["last_advance"]["emissions_recorded"]) == (
                "verification",
                4,
            )
    finally:
        restarted.stop()


# ---------------------------------------------------------------------- seats, keys, refusals


def test_seat_keys_are_reissued_and_the_old_ones_revoked(
    server: DemoServer, exchange_operator: httpx.Client
) -> None:
    made = make_class(exchange_operator)
    m = made["market_id"]
    for old in made["seats"]:  # each old key used, so the server has it cached
        with client(server, old["key"]) as c:
            assert ok(c.get(f"/v1/markets/{m}/class/phase"))["market_id"] == m
    ws = server.base_url.replace("http://", "ws://") + "/v1/ws"
    with contextlib.ExitStack() as sockets:  # a socket open with each old key, following it
        old_sockets = []
        for old in made["seats"]:
            socket = sockets.enter_context(connect(ws, open_timeout=WAIT_S))
            socket.send(json.dumps({"op": "auth", "market_id": m, "key": old["key"]}))
            assert json.loads(socket.recv(WAIT_S))["type"] == "authed"
            socket.send(json.dumps({"op": "subscribe", "channel": "orders"}))
            assert json.loads(socket.recv(WAIT_S))["type"] == "subscribed"
            old_sockets.append(socket)
        with client(server, made["operator_key"]) as operator:
            ok(operator.post(f"/v1/markets/{m}/class/seats/keys"), 201)
        for socket in old_sockets:  # each closed: 4401, after one last error
            told = json.loads(socket.recv(WAIT_S))
            assert (told["type"], told["code"]) == ("error", "UNAUTHENTICATED")
            with pytest.raises(ConnectionClosed):
                socket.recv(WAIT_S)
            assert socket.protocol.close_rcvd is not None
            assert (socket.protocol.close_rcvd.code, socket.protocol.close_rcvd.reason) == (
                4401,
                "key revoked",
            )
    with client(server, made["operator_key"]) as operator:
        seats = ok(operator.get(f"/v1/markets/{m}/class/seats"))["seats"]
        assert [(s["seat"], s["account_id"], s["profile"], s["key"]) for s in seats] == [
            (s["seat"], s["account_id"], s["profile"], None) for s in made["seats"]
        ]
        issued = operator.post(f"/v1/markets/{m}/class/seats/keys", params={"format": "csv"})
        assert issued.status_code == 201
        assert issued.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(issued.text)))
        assert [r["account_id"] for r in rows] == [s["account_id"] for s in made["seats"]]
    for old, new in zip(made["seats"], rows, strict=True):
        with client(server, old["key"]) as c:
            assert_problem(c.get(f"/v1/markets/{m}/class/phase"), 401, "UNAUTHENTICATED")
        with client(server, new["key"]) as c:
            path = f"/v1/markets/{m}/accounts/{new['account_id']}/compliance/2026"
            assert ok(c.get(path))["account_id"] == new["account_id"]


def test_only_operators_run_the_class(server: DemoServer, exchange_operator: httpx.Client) -> None:
    made = make_class(exchange_operator)
    m = f"/v1/markets/{made['market_id']}"
    operator_only = [
        ("post", f"{m}/class/phase/advance", None),
        ("get", f"{m}/class/results", None),
        ("get", f"{m}/class/seats", None),
        ("post", f"{m}/class/seats/keys", None),
        ("get", f"{m}/replay?seq=1", None),
        ("get", f"{m}/replay/timeline", None),
        ("post", f"{m}/announcements", {"text": "hello"}),
        ("get", f"{m}/class/dashboard", None),
    ]
    with client(server, made["seats"][0]["key"]) as seat, client(server, None) as nobody:
        for method, path, body in operator_only:
            assert_problem(seat.request(method, path, json=body), 403, "FORBIDDEN")
            assert_problem(nobody.request(method, path, json=body), 401, "UNAUTHENTICATED")
        assert ok(seat.get(f"{m}/class/phase"))["phase"] == "trading"  # any key reads it
    with client(server, made["operator_key"]) as operator:
        observer_key = ok(operator.post(f"{m}/keys", json={"role": "observer"}), 201)["api_key"]
        new_class = {"market_id": "by-a-class-key", "scenario": "classroom_national"}
        refused = operator.post("/v1/markets/from-scenario", json=new_class)
        assert_problem(refused, 403, "FORBIDDEN")  # an exchange-wide operator key only
    with client(server, observer_key) as observer:
        assert ok(observer.get(f"{m}/class/dashboard"))["participation"]["seats"] == 2
        assert_problem(observer.post(f"{m}/class/phase/advance"), 403, "FORBIDDEN")
        assert_problem(observer.post(f"{m}/class/abatement", json={"qty_t": 1}), 403, "FORBIDDEN")


def test_bad_class_requests_are_problems(
    server: DemoServer, exchange_operator: httpx.Client
) -> None:
    create = "/v1/markets/from-scenario"
    both = {"market_id": "x1", "scenario": "classroom_national", "yaml": TINY}
    assert_problem(exchange_operator.post(create, json=both), 422, "INVALID_REQUEST")
    unknown = exchange_operator.post(create, json={"market_id": "x1", "scenario": "nope"})
    assert "classroom_national" in assert_problem(unknown, 422, "UNKNOWN_SCENARIO")["available"]
    broken = exchange_operator.post(
        create,
        json={"market_id": "x1", "yaml": TINY.replace("baseline_t: 100000", "baseline_t: 0")},
    )
    problems = assert_problem(broken, 422, "INVALID_SCENARIO")["problems"]
    assert any("baseline_t" in p for p in problems)
    saturday = exchange_operator.post(
        create, json={"market_id": "x1", "yaml": TINY, "open_day": "2026-03-07"}
    )
    assert assert_problem(saturday, 409, "NOT_A_TRADING_DAY")["trading_day"] == "2026-03-07"
    too_many = exchange_operator.post(create, json={"market_id": "x1", "yaml": TINY, "seats": 201})
    assert_problem(too_many, 422, "INVALID_REQUEST")
    made = make_class(exchange_operator)
    again = exchange_operator.post(create, json={"market_id": made["market_id"], "yaml": TINY})
    assert_problem(again, 409, "MARKET_EXISTS")
    not_class = exchange_operator.get("/v1/markets/demo/class/phase")
    assert assert_problem(not_class, 404, "NOT_A_CLASS")["market_id"] == "demo"
    long_text = {"text": "x" * 2001}
    assert_problem(
        exchange_operator.post("/v1/markets/demo/announcements", json=long_text),
        422,
        "INVALID_REQUEST",
    )
