"""A class as trainees live it, against a real ``carbonx demo`` process: it starts closed and
its clock opens it, nothing stamped before its start; a paused clock halts trading (the
trainees' orders and the bots) and resuming it restores it; a seat's own view of its class
and firm (``getMyClassSeat``) and the cost of an abatement (``quoteAbatement``) through a
compliance year, to its result."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from exchange.clock import day_schedule
from exchange.sim.scenario import parse_scenario
from registry_sim.rules import BP
from tests.api.conftest import client
from tests.api.server import DemoServer, start_demo
from tests.api.test_classroom import (
    RULES,
    TINY,
    advance,
    expected_verified_t,
    make_class,
    ok,
    profile_of,
    start_class,
)
from tests.api.test_gateway import assert_problem

FIRST_DAY = dt.date(2026, 3, 2)  # TINY's start
START_NS = day_schedule(RULES.calendar, FIRST_DAY)[0].ts_ns  # its pre-open: the class's start
SHARE_BP = 9000  # TINY's fixed allocation
WAIT_S = 10.0
POLL_S = 0.05
# TINY with bots on a fast day: 4 hours of sessions at 14,400× are a wall second, so each bot
# wakes about 60 times a second.
FAST = (
    TINY.replace("trading_days_per_year: 3}", "trading_days_per_year: 3, clock_speed: 14400}")
    + """agents:
  - {kind: market_maker, count: 1, id_prefix: MM, cash_fen: 2000000000, allowances_t: 60000,
     params: {half_spread_bp: 60, qty_t: 200}, wakeups_per_day: 60}
  - {kind: noise, count: 2, id_prefix: NOISE, cash_fen: 300000000, allowances_t: 10000,
     params: {qty_max_t: 50}, wakeups_per_day: 60}
"""
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    running = start_demo(tmp_path_factory.mktemp("class-live") / "demo.db")
    try:
        yield running
    finally:
        running.stop()


def place(c: httpx.Client, market: str, side: str, qty_t: int, price_fen: int) -> httpx.Response:
    body = {"symbol": "CEA2026", "side": side, "qty_t": qty_t, "price_fen": price_fen}
    return c.post(f"{market}/orders", json=body)


def last_trade_id(c: httpx.Client, market: str) -> int:
    trades = ok(c.get(f"{market}/trades", params={"limit": 1}))["trades"]
    return int(trades[0]["trade_id"]) if trades else 0


def wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(POLL_S)


# ---------------------------------------------------------------------- closed until started


def test_a_class_starts_closed_and_its_clock_opens_it(
    server: DemoServer, exchange_operator: httpx.Client
) -> None:
    made = make_class(exchange_operator)
    market = f"/v1/markets/{made['market_id']}"
    seat1, seat2 = made["seats"]
    assert (made["trading_day"], made["first_day"]) == (None, FIRST_DAY.isoformat())
    with (
        client(server, made["operator_key"]) as operator,
        client(server, seat1["key"]) as one,
        client(server, seat2["key"]) as two,
    ):
        clock = ok(operator.get(f"{market}/clock"))
        assert (clock["running"], clock["trading_day"], clock["session"]) == (False, None, "closed")
        assert clock["now_ns"] == START_NS  # the class's own time, not 1970's or the wall's
        assert ok(operator.get(f"{market}/replay", params={"seq": 1}))["ts_ns"] == START_NS
        news = ok(operator.post(f"{market}/announcements", json={"text": "Welcome"}), 201)
        assert news["ts_ns"] == START_NS  # the class's time, not the wall's
        refused = assert_problem(place(one, market, "buy", 100, 8000), 409, "INSTRUMENT_NOT_OPEN")
        assert refused["state"] == "closed"
        me = ok(one.get(f"{market}/class/me"))
        assert me["clock"] == {"state": "not_started", "mode": None, "speed": None}
        assert (me["day_number"], me["next"]["kind"]) == (0, "start")

        # The clock starts at the class's start, its pre-open: the first day opens at once.
        started = ok(operator.post(f"{market}/clock/start", json={"mode": "stepped"}))
        assert (started["now_ns"], started["trading_day"], started["session"]) == (
            START_NS,
            FIRST_DAY.isoformat(),
            "pre_open",
        )
        assert started["next_event"]["action"] == "session_open"
        opened = ok(operator.post(f"{market}/clock/advance", json={}))
        assert [e["action"] for e in opened["applied"]] == ["session_open"]
        me = ok(one.get(f"{market}/class/me"))
        assert me["clock"] == {"state": "running", "mode": "stepped", "speed": None}
        assert (me["trading_day"], me["day_number"], me["next"]["day_number"]) == (
            FIRST_DAY.isoformat(),
            1,
            2,
        )
        ok(place(one, market, "sell", 100, 8000), 201)
        crossed = ok(place(two, market, "buy", 100, 8000), 201)
        assert [f["qty_t"] for f in crossed["fills"]] == [100]

        trades = ok(one.get(f"{market}/trades"))["trades"]
        assert len(trades) == 1
        assert trades[0]["ts_ns"] >= START_NS
        bars = ok(one.get(f"{market}/bars/CEA2026", params={"interval": "1m"}))["bars"]
        assert bars
        assert min(b["start_ns"] for b in bars) >= START_NS  # the class starts on a minute
        timeline = ok(operator.get(f"{market}/replay/timeline"))
        stamps = [e["ts_ns"] for e in timeline["events"] + timeline["trade_minutes"]]
        assert stamps
        assert min(stamps) >= START_NS


# ---------------------------------------------------------------------- pause halts trading


def test_a_paused_clock_halts_orders_and_resuming_restores_them(
    server: DemoServer, exchange_operator: httpx.Client
) -> None:
    made = make_class(exchange_operator, yaml=TINY.replace("years: 1", "years: 2"))
    market = f"/v1/markets/{made['market_id']}"
    seat1, seat2 = made["seats"]
    with (
        client(server, made["operator_key"]) as operator,
        client(server, seat1["key"]) as one,
        client(server, seat2["key"]) as two,
    ):
        start_class(operator, made["market_id"])
        other = "CEA2027"  # the second year's vintage, listed from the start
        ok(operator.post(f"{market}/halt", json={"symbol": other}))  # the instructor's own
        ok(place(one, market, "sell", 100, 8000), 201)  # resting through the pause

        paused = ok(operator.post(f"{market}/clock/pause"))
        assert paused["paused"]
        assert ok(one.get(f"{market}/book/CEA2026"))["state"] == "halted"
        assert_problem(place(two, market, "buy", 100, 8000), 409, "INSTRUMENT_HALTED")
        assert_problem(operator.post(f"{market}/clock/advance", json={}), 409, "CLOCK_PAUSED")
        assert_problem(operator.post(f"{market}/session/close-day"), 409, "CLOCK_PAUSED")
        assert ok(two.get(f"{market}/class/me"))["clock"]["state"] == "paused"
        assert ok(operator.post(f"{market}/clock/pause"))["paused"]  # again: nothing changes
        assert last_trade_id(one, market) == 0

        resumed = ok(operator.post(f"{market}/clock/resume"))
        assert not resumed["paused"]
        assert ok(one.get(f"{market}/book/CEA2026"))["state"] == "continuous"
        assert ok(one.get(f"{market}/book/{other}"))["state"] == "halted"  # still the instructor's
        crossed = ok(place(two, market, "buy", 100, 8000), 201)
        assert [f["qty_t"] for f in crossed["fills"]] == [100]
        assert ok(two.get(f"{market}/class/me"))["clock"]["state"] == "running"

        ok(operator.post(f"{market}/clock/pause"))
        stopped = ok(operator.post(f"{market}/clock/stop"))  # a stop lifts the pause's halt
        assert not stopped["running"]
        assert ok(one.get(f"{market}/book/CEA2026"))["state"] == "continuous"
        assert ok(one.get(f"{market}/class/me"))["clock"]["state"] == "stopped"


def test_a_paused_clock_idles_the_bots_and_resuming_lets_them_trade(
    server: DemoServer, exchange_operator: httpx.Client
) -> None:
    made = make_class(exchange_operator, yaml=FAST)
    assert [b["kind"] for b in made["bots"]] == ["market_maker", "noise", "noise"]
    market = f"/v1/markets/{made['market_id']}"
    with client(server, made["operator_key"]) as operator:
        time.sleep(0.5)  # the bots' first wake-ups: before the start, nothing trades
        assert last_trade_id(operator, market) == 0
        start_class(operator, made["market_id"])
        wait_for(lambda: last_trade_id(operator, market) >= 3, "the bots' first trades")
        ok(operator.post(f"{market}/clock/pause"))
        paused_at = last_trade_id(operator, market)
        time.sleep(1.0)  # a bot's day: some 60 wake-ups each
        assert last_trade_id(operator, market) == paused_at
        ok(operator.post(f"{market}/clock/resume"))
        wait_for(lambda: last_trade_id(operator, market) > paused_at, "trades after resuming")


# ---------------------------------------------------------------------- a seat's own view


def test_a_seat_sees_its_class_and_its_firm_through_the_year(
    server: DemoServer, exchange_operator: httpx.Client
) -> None:
    made = make_class(exchange_operator)
    m = made["market_id"]
    market = f"/v1/markets/{m}"
    seat1, seat2 = made["seats"]
    profile = profile_of(seat1)
    firm = next(f for f in parse_scenario(TINY).firms if f.account_id == profile)
    allocation = firm.baseline_t * SHARE_BP // BP
    with (
        client(server, made["operator_key"]) as operator,
        client(server, seat1["key"]) as trainee,
    ):
        start_class(operator, m)
        me = ok(trainee.get(f"{market}/class/me"))
        assert (me["phase"], me["compliance_year"], me["next_phase"]) == (
            "trading",
            2026,
            "verification",
        )
        assert (me["day_number"], me["days_in_year"], me["days_left"]) == (1, 3, 2)
        assert (me["deadline_day"], me["deadline_days_left"]) == (5, 4)
        assert (me["surrender_open"], me["abatement_open"]) == (False, True)
        baseline = expected_verified_t(profile)  # with the first day's emission shock
        most = min(firm.curve.max_t, baseline)
        assert me["seat"] == {
            "account_id": seat1["account_id"],
            "seat": 1,
            "name": seat1["name"],
            "profile": profile,
            "sector": firm.sector,
            "province": firm.province,
            "sector_zh": "水泥",  # F2: cement in Hubei
            "province_zh": "湖北",
            "gas_fired": False,  # a cement works: no gas top-up
            "gas_top_up": False,
            "year": 2026,
            "baseline_t": baseline,
            "projected_t": baseline,
            "verified": False,
            "allocation_t": allocation,
            "surrendered_t": 0,
            "usable_t": allocation,
            "position_t": allocation - baseline,
            "shortfall_t": baseline - allocation,
            "abatement": {
                "open": True,
                "declared_t": 0,
                "max_t": most,
                "cost_fen": 0,
                "marginal_cost_fen": firm.curve.intercept_fen,
            },
            "result": None,
        }

        quote = ok(trainee.get(f"{market}/class/abatement", params={"qty_t": 1000}))
        assert (quote["cost_fen"], quote["max_t"], quote["open"]) == (
            firm.curve.cost_fen(1000),
            most,
            True,
        )
        over = trainee.get(f"{market}/class/abatement", params={"qty_t": most + 1})
        assert assert_problem(over, 409, "ABATEMENT_OVER_MAX")["max_t"] == most
        assert_problem(
            trainee.get(f"{market}/class/abatement", params={"qty_t": -1}), 422, "INVALID_REQUEST"
        )
        ok(trainee.post(f"{market}/class/abatement", json={"qty_t": 1000}), 201)
        declared = ok(trainee.get(f"{market}/class/me"))["seat"]
        assert (declared["projected_t"], declared["position_t"]) == (
            baseline - 1000,
            allocation - baseline + 1000,
        )
        assert declared["abatement"]["cost_fen"] == firm.curve.cost_fen(1000)

        # Whose view: a seat its own, an operator any account's, an observer none.
        other = seat2["account_id"]
        mine = trainee.get(f"{market}/class/me", params={"account_id": other})
        assert_problem(mine, 403, "FORBIDDEN")
        seen = ok(operator.get(f"{market}/class/me", params={"account_id": other}))
        assert seen["seat"]["account_id"] == other
        assert ok(operator.get(f"{market}/class/me"))["seat"] is None
        nobody = operator.get(f"{market}/class/me", params={"account_id": "NOPE"})
        assert_problem(nobody, 404, "UNKNOWN_ACCOUNT")
        observer_key = ok(operator.post(f"{market}/keys", json={"role": "observer"}), 201)
        with client(server, observer_key["api_key"]) as observer:
            assert ok(observer.get(f"{market}/class/me"))["seat"] is None

        assert advance(operator, m)["phase"] == "verification"
        verified = ok(trainee.get(f"{market}/class/me"))
        assert (verified["seat"]["verified"], verified["seat"]["projected_t"]) == (
            True,
            expected_verified_t(profile, 1000),
        )
        assert verified["abatement_open"] is False
        assert advance(operator, m)["phase"] == "surrender"
        window = ok(trainee.get(f"{market}/class/me"))
        assert (window["surrender_open"], window["next"]["phase"]) == (True, "assessment")
        units = {"unit": "CEA2026", "qty_t": allocation}
        body = {"year": 2026, "items": [units]}
        ok(trainee.post(f"{market}/accounts/{seat1['account_id']}/surrenders", json=body), 201)

        assert advance(operator, m)["phase"] == "assessment"
        result = ok(trainee.get(f"{market}/class/me"))["seat"]["result"]
        shortfall = expected_verified_t(profile, 1000) - allocation
        penalty = RULES.penalty.multiplier * 8000 * shortfall  # nothing traded: the reference
        assert result == {
            "complied": False,
            "shortfall_t": shortfall,
            "penalty_fen": penalty,
            "reference_price_fen": 8000,
            "abatement_cost_fen": firm.curve.cost_fen(1000),
            "net_spend_fen": 0,  # nothing traded
            "pnl_fen": 0,
            "cost_fen": penalty + firm.curve.cost_fen(1000),
        }
