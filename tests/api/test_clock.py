"""The market clock and the trading session through the gateway (issue 5): first the pure
planning of what a clock still has to do, then the operations against a real ``carbonx demo``
process.

The API tests do not depend on their order: each starts without a clock, and those that need
a known place in the day open a fresh trading day by hand first.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx
import pytest

from exchange.api.clock_driver import clock_plan, day_position, later_days
from exchange.clock import ClockAction, ClockEvent, day_schedule, next_trading_day
from matching.types import TradingState
from registry_sim.rules import load_rules
from settlement.commands import CloseDay, EndOfDay, MarketCommand, OpenDay, SetSession
from settlement.market import Market
from settlement.spec import MarketSpec
from tests.api.conftest import client
from tests.api.server import DemoServer, start_demo
from tests.api.test_gateway import assert_problem, book, place

M = "/v1/markets/demo"
CALENDAR = load_rules("cn_national").calendar  # the demo market's rule set
A = ClockAction
FRIDAY, SATURDAY, MONDAY = dt.date(2026, 10, 9), dt.date(2026, 10, 10), dt.date(2026, 10, 12)
POLL_S = 0.01
WAIT_S = 30.0


# --- planning (pure) --------------------------------------------------------------------------


def market_after(*commands: MarketCommand) -> Market:
    market = Market(MarketSpec("t", "cn_national", (("CEA2025", 6000),)))
    for command in commands:
        outcome = market.apply(command)
        assert outcome.code is None, (command, outcome.code)
    return market


def actions(events: Iterable[ClockEvent], n: int) -> list[tuple[ClockAction, dt.date]]:
    return [(e.action, e.trading_day) for e in itertools.islice(events, n)]


def test_a_market_without_a_trading_day_has_no_position() -> None:
    assert day_position(CALENDAR, market_after(), 0) == (None, [])


def test_an_open_session_continues_with_the_rest_of_its_day_then_the_next() -> None:
    market = market_after(OpenDay(0, FRIDAY), SetSession(0, TradingState.CONTINUOUS))
    friday = day_schedule(CALENDAR, FRIDAY)
    position, rest = day_position(CALENDAR, market, 0)
    assert (position, rest) == (friday[1].ts_ns, friday[2:])  # the morning session's open
    plan = clock_plan(CALENDAR, market, 0, friday[1].ts_ns)
    assert actions(plan, 5) == [
        (A.SESSION_BREAK, FRIDAY),
        (A.SESSION_OPEN, FRIDAY),
        (A.CLOSE, FRIDAY),
        (A.DAY_END, FRIDAY),
        (A.PRE_OPEN, MONDAY),
    ]


def test_the_journal_time_tells_which_session_is_open() -> None:
    market = market_after(OpenDay(0, FRIDAY), SetSession(0, TradingState.CONTINUOUS))
    afternoon_open = day_schedule(CALENDAR, FRIDAY)[3]
    position, rest = day_position(CALENDAR, market, afternoon_open.ts_ns + 1)
    assert position == afternoon_open.ts_ns
    assert [e.action for e in rest] == [A.CLOSE, A.DAY_END]


def test_a_closed_day_clears_and_a_cleared_day_waits_for_the_next() -> None:
    closed = market_after(OpenDay(0, FRIDAY), CloseDay(0))
    friday = day_schedule(CALENDAR, FRIDAY)
    assert day_position(CALENDAR, closed, 0) == (friday[-2].ts_ns, friday[-1:])
    cleared = market_after(OpenDay(0, FRIDAY), CloseDay(0), EndOfDay(0))
    position, rest = day_position(CALENDAR, cleared, 0)
    assert (position, rest) == (friday[-1].ts_ns, [])
    assert actions(clock_plan(CALENDAR, cleared, 0, friday[-1].ts_ns), 1) == [(A.PRE_OPEN, MONDAY)]


def test_a_day_the_calendar_skips_still_closes_when_opened_by_hand() -> None:
    market = market_after(OpenDay(0, SATURDAY))
    position, rest = day_position(CALENDAR, market, 0)
    assert position is not None
    assert [(e.action, e.trading_day) for e in rest][-1] == (A.DAY_END, SATURDAY)
    assert actions(clock_plan(CALENDAR, market, 0, position), 6)[-1] == (A.PRE_OPEN, MONDAY)


def test_a_day_in_progress_is_caught_up_from_its_pre_open() -> None:
    monday = day_schedule(CALENDAR, MONDAY)
    mid_morning = monday[1].ts_ns + 3600 * 10**9
    assert next(later_days(CALENDAR, None, mid_morning)) == monday[0]
    after_day_end = monday[-1].ts_ns
    assert next(later_days(CALENDAR, FRIDAY, after_day_end)).trading_day == dt.date(2026, 10, 13)


# --- the operations ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    running = start_demo(tmp_path_factory.mktemp("clock") / "demo.db")
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


@pytest.fixture
def no_clock(operator: httpx.Client) -> Iterator[None]:
    """The test starts, and leaves the market, without a clock."""
    stop(operator)
    yield
    stop(operator)


def stop(operator: httpx.Client) -> None:
    response = operator.post(f"{M}/clock/stop")
    assert response.status_code in (200, 409), response.text
    if response.status_code == 409:
        assert response.json()["code"] == "CLOCK_NOT_RUNNING"


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def clock_of(c: httpx.Client) -> dict[str, Any]:
    body: dict[str, Any] = ok(c.get(f"{M}/clock"))
    return body


def fresh_day(operator: httpx.Client) -> dict[str, Any]:
    """Close and clear whatever day is open and open the next one by hand: pre-open."""
    clock = clock_of(operator)
    if clock["trading_day"] is not None and not clock["day_closed"]:
        ok(operator.post(f"{M}/session/close-day"))
    if not clock["day_cleared"]:
        ok(operator.post(f"{M}/session/end-of-day"))
    opened: dict[str, Any] = ok(operator.post(f"{M}/session/open-day", json={}))["clock"]
    assert (opened["session"], opened["day_closed"], opened["day_cleared"]) == (
        "pre_open",
        False,
        False,
    )
    return opened


def watch(
    operator: httpx.Client, sessions: list[str], until: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """Poll the clock until ``until`` holds, noting each change of session in ``sessions``."""
    deadline = time.monotonic() + WAIT_S
    while True:
        clock = clock_of(operator)
        if clock["session"] != sessions[-1]:
            sessions.append(clock["session"])
        if until(clock):
            return clock
        assert time.monotonic() < deadline, (sessions, clock)
        time.sleep(POLL_S)


def test_every_key_reads_the_clock(
    operator: httpx.Client, p001: httpx.Client, observer: httpx.Client, no_clock: None
) -> None:
    seen = [clock_of(c) for c in (operator, p001, observer)]
    first = seen[0]
    assert all(s == first for s in seen)
    assert (first["market_id"], first["running"], first["mode"], first["next_event"]) == (
        "demo",
        False,
        None,
        None,
    )
    assert first["timezone"] == CALENDAR.timezone
    assert first["now"].endswith("+08:00")
    assert first["session"] == book(p001)["state"]


def test_only_operators_drive_the_clock_and_the_session(
    p001: httpx.Client, observer: httpx.Client, no_clock: None
) -> None:
    calls = [
        ("/clock/start", {"mode": "stepped"}),
        ("/clock/stop", None),
        ("/clock/pause", None),
        ("/clock/resume", None),
        ("/clock/speed", {"speed": 10}),
        ("/clock/advance", {"to": "next_event"}),
        ("/session/open-day", {}),
        ("/session", {"state": "continuous"}),
        ("/session/close-day", None),
        ("/session/end-of-day", None),
    ]
    for c in (p001, observer):
        for path, body in calls:
            refused = assert_problem(c.post(M + path, json=body), 403, "FORBIDDEN")
            assert refused["role"] in ("participant", "observer")
    assert not clock_of(p001)["running"]


def test_clock_requests_are_checked(operator: httpx.Client, no_clock: None) -> None:
    for body in (
        {"mode": "accelerated"},  # no speed
        {"mode": "stepped", "speed": 10},  # a speed for a clock that has none
        {"mode": "accelerated", "speed": 0},
        {"mode": "accelerated", "speed": 10_000_000},
        {"mode": "discrete"},  # headless runs only
        {"mode": "stepped", "start_ns": "1"},
    ):
        assert_problem(operator.post(f"{M}/clock/start", json=body), 422, "INVALID_REQUEST")
    for path in ("/clock/pause", "/clock/resume", "/clock/stop"):
        assert_problem(operator.post(M + path), 409, "CLOCK_NOT_RUNNING")
    assert_problem(
        operator.post(f"{M}/clock/advance", json={"to": "next_event"}), 409, "CLOCK_NOT_RUNNING"
    )
    assert_problem(operator.post(f"{M}/clock/speed", json={"speed": 5}), 409, "CLOCK_NOT_RUNNING")
    early = assert_problem(
        operator.post(f"{M}/clock/start", json={"mode": "stepped", "start_ns": 0}),
        409,
        "CLOCK_BACKWARDS",
    )
    assert (early["to_ns"], early["market_ns"] > 0) == (0, True)
    assert not clock_of(operator)["running"]


def test_an_accelerated_clock_runs_the_day(operator: httpx.Client, no_clock: None) -> None:
    day = fresh_day(operator)["trading_day"]
    started = ok(operator.post(f"{M}/clock/start", json={"mode": "accelerated", "speed": 20_000}))
    assert (started["running"], started["mode"], started["speed"]) == (True, "accelerated", 20_000)
    assert started["next_event"]["action"] == "session_open"
    again = assert_problem(
        operator.post(f"{M}/clock/start", json={"mode": "stepped"}), 409, "CLOCK_RUNNING"
    )
    assert again["mode"] == "accelerated"
    by_hand = assert_problem(operator.post(f"{M}/session/close-day"), 409, "CLOCK_RUNNING")
    assert by_hand["mode"] == "accelerated"

    sessions = [started["session"]]
    # The clock moves its next event on once the day end is durable; the market is cleared as
    # soon as the command is applied, a moment before.
    cleared = watch(
        operator, sessions, lambda c: c["day_cleared"] and c["next_event"]["action"] != "day_end"
    )
    assert sessions == ["pre_open", "continuous", "break", "continuous", "closed"]
    assert cleared["trading_day"] == day
    assert cleared["next_event"]["action"] == "pre_open"

    faster = ok(operator.post(f"{M}/clock/speed", json={"speed": 400_000}))
    assert faster["speed"] == 400_000
    assert faster["now_ns"] >= cleared["now_ns"]
    next_day = watch(operator, sessions, lambda c: c["trading_day"] != day)
    assert next_day["trading_day"] > day
    assert dt.date.fromisoformat(next_day["trading_day"]).weekday() < 5

    paused = ok(operator.post(f"{M}/clock/pause"))
    assert paused["paused"]
    time.sleep(0.2)  # 0.2 s at this speed is a day of market time: nothing may move
    still = clock_of(operator)
    assert (still["now_ns"], still["session"], still["next_event"]) == (
        paused["now_ns"],
        paused["session"],
        paused["next_event"],
    )
    resumed = ok(operator.post(f"{M}/clock/resume"))
    assert not resumed["paused"]
    watch(operator, sessions, lambda c: c["now_ns"] > paused["now_ns"])
    assert_problem(
        operator.post(f"{M}/clock/advance", json={"to": "next_event"}), 409, "WRONG_CLOCK_MODE"
    )

    stopped = ok(operator.post(f"{M}/clock/stop"))
    assert (stopped["running"], stopped["mode"], stopped["next_event"]) == (False, None, None)
    assert stopped["now_ns"] >= paused["now_ns"]


def test_a_stepped_clock_applies_exactly_the_next_event(
    operator: httpx.Client, p001: httpx.Client, p002: httpx.Client, no_clock: None
) -> None:
    fresh_day(operator)
    started = ok(operator.post(f"{M}/clock/start", json={"mode": "stepped"}))
    upcoming = started["next_event"]
    assert (started["mode"], upcoming["action"]) == ("stepped", "session_open")
    assert started["now_ns"] < upcoming["ts_ns"]
    time.sleep(0.1)
    assert clock_of(operator)["now_ns"] == started["now_ns"]  # a stepped clock waits

    step = ok(operator.post(f"{M}/clock/advance", json={"to": "next_event"}))
    assert step["applied"] == [upcoming]
    now = step["clock"]["now_ns"]
    assert (now, step["clock"]["session"]) == (upcoming["ts_ns"], "continuous")
    assert step["clock"]["next_event"]["action"] == "session_break"

    # REST commands carry the clock's market time.
    price = book(p001)["reference_price_fen"]
    ok(place(p001, side="sell", price_fen=price), 201)
    ok(place(p002, side="buy", price_fen=price), 201)
    trade = ok(p001.get(f"{M}/trades", params={"limit": 1}))["trades"][0]
    assert trade["ts_ns"] == now

    back = assert_problem(
        operator.post(f"{M}/clock/advance", json={"to": now - 1}), 409, "CLOCK_BACKWARDS"
    )
    assert (back["market_ns"], back["to_ns"]) == (now, now - 1)
    assert_problem(operator.post(f"{M}/clock/speed", json={"speed": 5}), 409, "WRONG_CLOCK_MODE")

    lunch = step["clock"]["next_event"]["ts_ns"]
    to_time = ok(operator.post(f"{M}/clock/advance", json={"to": lunch + 1}))
    assert [e["action"] for e in to_time["applied"]] == ["session_break"]
    assert (to_time["clock"]["now_ns"], to_time["clock"]["session"]) == (lunch + 1, "break")
    day_end = ok(operator.post(f"{M}/clock/advance", json={"to": lunch + 5 * 3600 * 10**9}))
    assert [e["action"] for e in day_end["applied"]] == ["session_open", "close", "day_end"]
    assert day_end["clock"]["day_cleared"]


def test_the_session_by_hand(operator: httpx.Client, no_clock: None) -> None:
    opened = fresh_day(operator)
    day = dt.date.fromisoformat(opened["trading_day"])
    assert_problem(
        operator.post(f"{M}/session", json={"state": "pre_open"}), 422, "INVALID_REQUEST"
    )
    assert (
        ok(operator.post(f"{M}/session", json={"state": "continuous"}))["clock"]["session"]
        == "continuous"
    )
    assert ok(operator.post(f"{M}/session", json={"state": "break"}))["clock"]["session"] == "break"
    closed = ok(operator.post(f"{M}/session/close-day"))
    assert (closed["clock"]["session"], closed["clock"]["day_closed"]) == ("closed", True)
    assert_problem(operator.post(f"{M}/session/close-day"), 409, "NO_TRADING_DAY")
    assert_problem(operator.post(f"{M}/session/open-day", json={}), 409, "DAY_NOT_CLOSED")
    cleared = ok(operator.post(f"{M}/session/end-of-day"))
    assert cleared["clock"]["day_cleared"]
    assert cleared["seq"] > closed["seq"]
    assert_problem(operator.post(f"{M}/session/end-of-day"), 409, "NO_TRADING_DAY")
    assert_problem(
        operator.post(f"{M}/session", json={"state": "continuous"}), 409, "NO_TRADING_DAY"
    )

    sunday = day + dt.timedelta(days=6 - day.weekday())
    skipped = assert_problem(
        operator.post(f"{M}/session/open-day", json={"trading_day": sunday.isoformat()}),
        409,
        "NOT_A_TRADING_DAY",
    )
    assert skipped["trading_day"] == sunday.isoformat()
    again = assert_problem(
        operator.post(f"{M}/session/open-day", json={"trading_day": day.isoformat()}),
        409,
        "DAY_NOT_AFTER_PREVIOUS",
    )
    assert (again["trading_day"], again["previous"]) == (day.isoformat(), day.isoformat())
    following = ok(operator.post(f"{M}/session/open-day", json={}))["clock"]
    assert following["trading_day"] == next_trading_day(CALENDAR, day).isoformat()


def test_a_stepped_clock_replans_after_a_step_by_hand(
    operator: httpx.Client, no_clock: None
) -> None:
    fresh_day(operator)
    ok(operator.post(f"{M}/session", json={"state": "continuous"}))
    started = ok(operator.post(f"{M}/clock/start", json={"mode": "stepped"}))
    assert started["next_event"]["action"] == "session_break"  # the open is not repeated
    closed = ok(operator.post(f"{M}/session/close-day"))
    assert closed["clock"]["running"]
    assert closed["clock"]["next_event"]["action"] == "day_end"
    step = ok(operator.post(f"{M}/clock/advance", json={"to": "next_event"}))
    assert [e["action"] for e in step["applied"]] == ["day_end"]
    assert step["clock"]["day_cleared"]
    assert step["clock"]["next_event"]["action"] == "pre_open"
