"""The market clock and the calendar's schedule: exact ts_ns values from the shipped rule sets
(UTC expectations computed with ``calendar.timegm``, independently of zoneinfo), and the clock
driven by a fake wall source and a fake sleep so no test sleeps or reads the real clock."""

from __future__ import annotations

import asyncio
import calendar as cal
import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.clock import (
    NS_PER_S,
    ClockAction,
    ClockEvent,
    ClockMode,
    MarketClock,
    day_schedule,
    events_after,
    next_trading_day,
    run_schedule,
    schedule,
    trading_days,
)
from registry_sim import load_rules

CN = load_rules("cn_national").calendar
EU = load_rules("eu_ets").calendar
MINUTE_NS = 60 * NS_PER_S

DAY_ACTIONS = [
    ClockAction.PRE_OPEN,
    ClockAction.SESSION_OPEN,
    ClockAction.SESSION_BREAK,
    ClockAction.SESSION_OPEN,
    ClockAction.CLOSE,
    ClockAction.DAY_END,
]


def utc_ns(year: int, month: int, day: int, hour: int, minute: int) -> int:
    return cal.timegm((year, month, day, hour, minute, 0)) * NS_PER_S


class FakeWall:
    """A monotonic wall source that only moves when a test (or the fake sleep) moves it."""

    def __init__(self) -> None:
        self.ns = 5 * NS_PER_S

    def __call__(self) -> int:
        return self.ns

    def advance_s(self, seconds: float) -> None:
        self.ns += round(seconds * NS_PER_S)


class FakeSleep:
    """Advances the fake wall instead of sleeping; ``on_sleep`` lets a test act mid-wait."""

    def __init__(self, wall: FakeWall, on_sleep: Callable[[int], None] | None = None) -> None:
        self.wall = wall
        self.calls: list[float] = []
        self.on_sleep = on_sleep

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.wall.advance_s(seconds)
        if self.on_sleep is not None:
            self.on_sleep(len(self.calls))


class Recorder:
    """The runtime's submit: records the event with the market and wall time it was seen at."""

    def __init__(self, clock: MarketClock, wall: FakeWall) -> None:
        self.clock = clock
        self.wall = wall
        self.seen: list[tuple[ClockEvent, int, int]] = []

    async def __call__(self, event: ClockEvent) -> None:
        self.seen.append((event, self.clock.now_ns(), self.wall.ns))


# --- trading days ---------------------------------------------------------------------------


def test_october_golden_week_does_not_trade() -> None:
    for day in range(1, 8):
        assert not CN.is_trading_day(dt.date(2026, 10, day))
    assert trading_days(CN, dt.date(2026, 10, 1), dt.date(2026, 10, 7)) == []


def test_days_after_golden_week_trade_and_weekends_do_not() -> None:
    assert dt.date(2026, 10, 8).weekday() == 3  # Thursday
    assert trading_days(CN, dt.date(2026, 9, 28), dt.date(2026, 10, 13)) == [
        dt.date(2026, 9, 28),
        dt.date(2026, 9, 29),
        dt.date(2026, 9, 30),
        dt.date(2026, 10, 8),
        dt.date(2026, 10, 9),
        # 10-10 and 10-11 are Saturday and Sunday
        dt.date(2026, 10, 12),
        dt.date(2026, 10, 13),
    ]


def test_trading_days_is_inclusive_and_empty_when_reversed() -> None:
    day = dt.date(2026, 10, 8)
    assert trading_days(CN, day, day) == [day]
    assert trading_days(CN, day, day - dt.timedelta(days=1)) == []


def test_next_trading_day_across_weekend_and_holiday() -> None:
    assert next_trading_day(CN, dt.date(2026, 10, 9)) == dt.date(2026, 10, 12)  # Fri → Mon
    assert next_trading_day(CN, dt.date(2026, 10, 10)) == dt.date(2026, 10, 12)  # Sat → Mon
    assert next_trading_day(CN, dt.date(2026, 9, 30)) == dt.date(2026, 10, 8)  # golden week
    assert next_trading_day(CN, dt.date(2026, 10, 8)) == dt.date(2026, 10, 9)  # strictly after


def test_next_trading_day_gives_up_on_a_calendar_without_trading_days() -> None:
    closed = dataclasses.replace(CN, weekdays=())
    with pytest.raises(ValueError, match="no trading day"):
        next_trading_day(closed, dt.date(2026, 1, 1))


# --- one day --------------------------------------------------------------------------------


def test_cn_national_day_schedule_in_utc() -> None:
    day = dt.date(2026, 10, 8)
    events = day_schedule(CN, day)
    assert events == [
        ClockEvent(utc_ns(2026, 10, 8, 1, 15), ClockAction.PRE_OPEN, day),
        ClockEvent(utc_ns(2026, 10, 8, 1, 30), ClockAction.SESSION_OPEN, day),
        ClockEvent(utc_ns(2026, 10, 8, 3, 30), ClockAction.SESSION_BREAK, day),
        ClockEvent(utc_ns(2026, 10, 8, 5, 0), ClockAction.SESSION_OPEN, day),
        ClockEvent(utc_ns(2026, 10, 8, 7, 0), ClockAction.CLOSE, day),
        ClockEvent(utc_ns(2026, 10, 8, 7, 30), ClockAction.DAY_END, day),
    ]
    assert events[0].ts_ns == 1_791_422_100_000_000_000  # 2026-10-08T01:15:00Z, by hand


def test_day_schedule_refuses_a_non_trading_day() -> None:
    with pytest.raises(ValueError, match="not a trading day"):
        day_schedule(CN, dt.date(2026, 10, 1))


def test_eu_ets_across_the_march_dst_change() -> None:
    friday, monday = dt.date(2026, 3, 27), dt.date(2026, 3, 30)  # clocks go forward on the 29th
    assert next_trading_day(EU, friday) == monday
    winter = {e.action: e.ts_ns for e in day_schedule(EU, friday)}
    summer = {e.action: e.ts_ns for e in day_schedule(EU, monday)}
    assert winter[ClockAction.SESSION_OPEN] == utc_ns(2026, 3, 27, 7, 0)  # 08:00 CET
    assert summer[ClockAction.SESSION_OPEN] == utc_ns(2026, 3, 30, 6, 0)  # 08:00 CEST
    assert winter[ClockAction.PRE_OPEN] == utc_ns(2026, 3, 27, 6, 45)
    assert summer[ClockAction.DAY_END] == utc_ns(2026, 3, 30, 16, 30)
    # a single session: no break, straight from open to close
    assert [e.action for e in day_schedule(EU, monday)] == [
        ClockAction.PRE_OPEN,
        ClockAction.SESSION_OPEN,
        ClockAction.CLOSE,
        ClockAction.DAY_END,
    ]


def test_coinciding_times_keep_logical_order_and_strictly_increasing_ts() -> None:
    tied = dataclasses.replace(
        CN,
        pre_open=dt.time(9, 30),  # = first open
        sessions=((dt.time(9, 30), dt.time(11, 30)), (dt.time(11, 30), dt.time(15, 0))),
        day_end=dt.time(15, 0),  # = last close
    )
    events = day_schedule(tied, dt.date(2026, 10, 8))
    assert [e.action for e in events] == DAY_ACTIONS
    ts = [e.ts_ns for e in events]
    assert ts == [
        utc_ns(2026, 10, 8, 1, 30),
        utc_ns(2026, 10, 8, 1, 30) + 1,
        utc_ns(2026, 10, 8, 3, 30),
        utc_ns(2026, 10, 8, 3, 30) + 1,
        utc_ns(2026, 10, 8, 7, 0),
        utc_ns(2026, 10, 8, 7, 0) + 1,
    ]
    # a restart right after CLOSE was journaled still finds DAY_END
    after_close = next(events_after(tied, ts[4]))
    assert after_close.action is ClockAction.DAY_END


# --- many days ------------------------------------------------------------------------------


def test_schedule_bounded_covers_each_trading_day() -> None:
    events = list(schedule(CN, dt.date(2026, 9, 30), dt.date(2026, 10, 9)))
    assert [e.trading_day for e in events[::6]] == [
        dt.date(2026, 9, 30),
        dt.date(2026, 10, 8),
        dt.date(2026, 10, 9),
    ]
    assert [e.action for e in events] == DAY_ACTIONS * 3
    assert all(a.ts_ns < b.ts_ns for a, b in itertools.pairwise(events))


def test_schedule_unbounded_is_lazy_and_starts_on_the_next_trading_day() -> None:
    events = schedule(CN, dt.date(2026, 10, 3))  # a Saturday inside the holiday
    first_two_days = list(itertools.islice(events, 12))
    assert {e.trading_day for e in first_two_days} == {dt.date(2026, 10, 8), dt.date(2026, 10, 9)}
    assert next(events).trading_day == dt.date(2026, 10, 12)


def test_events_after_mid_day_gives_the_rest_of_the_day_then_the_next() -> None:
    lunch_ns = utc_ns(2026, 10, 9, 4, 0)  # Friday 12:00 Shanghai, in the midday break
    upcoming = list(itertools.islice(events_after(CN, lunch_ns), 4))
    friday, monday = dt.date(2026, 10, 9), dt.date(2026, 10, 12)
    assert upcoming == [
        ClockEvent(utc_ns(2026, 10, 9, 5, 0), ClockAction.SESSION_OPEN, friday),
        ClockEvent(utc_ns(2026, 10, 9, 7, 0), ClockAction.CLOSE, friday),
        ClockEvent(utc_ns(2026, 10, 9, 7, 30), ClockAction.DAY_END, friday),
        ClockEvent(utc_ns(2026, 10, 12, 1, 15), ClockAction.PRE_OPEN, monday),
    ]


def test_events_after_is_strict_and_handles_the_utc_date_boundary() -> None:
    open_ns = utc_ns(2026, 10, 9, 1, 30)
    assert next(events_after(CN, open_ns)).ts_ns == utc_ns(2026, 10, 9, 3, 30)
    # 23:50 UTC on the 8th is 07:50 on the 9th in Shanghai: the 9th's pre-open is next
    late_ns = utc_ns(2026, 10, 8, 23, 50)
    assert next(events_after(CN, late_ns)) == ClockEvent(
        utc_ns(2026, 10, 9, 1, 15), ClockAction.PRE_OPEN, dt.date(2026, 10, 9)
    )


# --- the market clock -----------------------------------------------------------------------


def make_clock(
    mode: ClockMode, speed: float = 1.0, start_ns: int = 1_000 * NS_PER_S
) -> tuple[MarketClock, FakeWall]:
    wall = FakeWall()
    return MarketClock(mode, start_ns, speed=speed, wall_ns=wall), wall


def test_accelerated_60_makes_a_wall_second_a_market_minute() -> None:
    clock, wall = make_clock(ClockMode.ACCELERATED, speed=60)
    start = clock.now_ns()
    assert start == 1_000 * NS_PER_S
    wall.advance_s(1)
    assert clock.now_ns() == start + MINUTE_NS
    wall.advance_s(0.5)
    assert clock.now_ns() == start + 90 * NS_PER_S


def test_realtime_follows_the_wall_rate_and_has_no_other_speed() -> None:
    clock, wall = make_clock(ClockMode.REALTIME)
    wall.advance_s(2.5)
    assert clock.now_ns() == 1_002_500_000_000
    with pytest.raises(ValueError, match="speed 1"):
        MarketClock(ClockMode.REALTIME, 0, speed=2, wall_ns=wall)
    with pytest.raises(ValueError, match="accelerated"):
        clock.set_speed(2)


def test_pause_freezes_and_resume_continues_from_where_it_stood() -> None:
    clock, wall = make_clock(ClockMode.ACCELERATED, speed=60)
    wall.advance_s(1)
    clock.pause()
    frozen = clock.now_ns()
    assert clock.paused
    wall.advance_s(100)
    assert clock.now_ns() == frozen
    clock.pause()  # idempotent: no re-anchoring that would lose or add time
    clock.resume()
    assert not clock.paused
    assert clock.now_ns() == frozen
    wall.advance_s(1)
    assert clock.now_ns() == frozen + MINUTE_NS


def test_set_speed_reanchors_without_a_jump() -> None:
    clock, wall = make_clock(ClockMode.ACCELERATED, speed=60)
    wall.advance_s(10)
    before = clock.now_ns()
    clock.set_speed(120)
    assert clock.now_ns() == before
    assert clock.speed == 120
    wall.advance_s(1)
    assert clock.now_ns() == before + 120 * NS_PER_S


def test_set_speed_while_paused_takes_effect_on_resume() -> None:
    clock, wall = make_clock(ClockMode.ACCELERATED, speed=60)
    clock.pause()
    frozen = clock.now_ns()
    wall.advance_s(5)
    clock.set_speed(10)
    assert clock.now_ns() == frozen
    clock.resume()
    wall.advance_s(1)
    assert clock.now_ns() == frozen + 10 * NS_PER_S


@pytest.mark.parametrize("speed", [0, -1, float("nan"), float("inf")])
def test_set_speed_refuses_non_positive_speeds(speed: float) -> None:
    clock, _ = make_clock(ClockMode.ACCELERATED, speed=60)
    with pytest.raises(ValueError, match="speed"):
        clock.set_speed(speed)
    assert clock.speed == 60
    with pytest.raises(ValueError, match="speed"):
        make_clock(ClockMode.ACCELERATED, speed=speed)


def test_stepped_moves_only_by_advance_to_and_never_back() -> None:
    clock, wall = make_clock(ClockMode.STEPPED)
    start = clock.now_ns()
    wall.advance_s(3600)
    assert clock.now_ns() == start
    clock.advance_to(start + 5)
    assert clock.now_ns() == start + 5
    clock.advance_to(start + 5)  # standing still is not going back
    with pytest.raises(ValueError, match="cannot go back"):
        clock.advance_to(start + 4)
    assert clock.now_ns() == start + 5


def test_advance_to_is_refused_by_a_flowing_clock() -> None:
    clock, _ = make_clock(ClockMode.ACCELERATED, speed=60)
    with pytest.raises(ValueError, match="advance_to"):
        clock.advance_to(clock.now_ns() + MINUTE_NS)


def test_wall_delay_s_in_each_mode() -> None:
    clock, wall = make_clock(ClockMode.ACCELERATED, speed=60)
    now = clock.now_ns()
    assert clock.wall_delay_s(now + MINUTE_NS) == 1.0
    assert clock.wall_delay_s(now) == 0
    assert clock.wall_delay_s(now - 1) == 0
    wall.advance_s(0.25)
    assert clock.wall_delay_s(now + MINUTE_NS) == 0.75
    clock.set_speed(120)
    assert clock.wall_delay_s(now + MINUTE_NS) == 0.375
    clock.pause()
    assert clock.wall_delay_s(now + MINUTE_NS) is None
    assert clock.wall_delay_s(now) == 0  # already reached: pausing does not un-reach it

    stepped, _ = make_clock(ClockMode.STEPPED)
    assert stepped.wall_delay_s(stepped.now_ns() + 1) is None
    assert stepped.wall_delay_s(stepped.now_ns()) == 0

    discrete, _ = make_clock(ClockMode.DISCRETE)
    assert discrete.wall_delay_s(discrete.now_ns() + 10**18) == 0
    discrete.pause()
    assert discrete.wall_delay_s(discrete.now_ns() + 1) is None


_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("wall"), st.integers(0, 10**12)),
        st.tuples(st.just("pause"), st.just(0)),
        st.tuples(st.just("resume"), st.just(0)),
        st.tuples(st.just("speed"), st.integers(1, 10_000)),
    ),
    max_size=40,
)


@given(ops=_OPS)
def test_market_time_never_goes_backwards(ops: list[tuple[str, int]]) -> None:
    clock, wall = make_clock(ClockMode.ACCELERATED, speed=60)
    last = clock.now_ns()
    for op, value in ops:
        if op == "wall":
            wall.ns += value
        elif op == "pause":
            clock.pause()
        elif op == "resume":
            clock.resume()
        else:
            clock.set_speed(value / 7)
        now = clock.now_ns()
        assert now >= last
        if op != "wall":
            assert now == last  # a control change alone never moves market time
        last = now


# --- run_schedule ---------------------------------------------------------------------------


def test_run_schedule_submits_in_order_at_the_right_market_times() -> None:
    events = day_schedule(CN, dt.date(2026, 10, 8))
    clock, wall = make_clock(ClockMode.ACCELERATED, speed=60, start_ns=events[0].ts_ns - MINUTE_NS)
    sleep = FakeSleep(wall)
    submit = Recorder(clock, wall)
    asyncio.run(run_schedule(clock, events, submit, sleep=sleep, poll_s=30.0))
    assert [seen[0] for seen in submit.seen] == events
    assert [seen[1] for seen in submit.seen] == [e.ts_ns for e in events]
    # 09:14 to 15:30 is 376 market minutes: at ×60, 376 wall seconds
    assert wall.ns - 5 * NS_PER_S == 376 * NS_PER_S
    assert max(sleep.calls) <= 30.0


def test_run_schedule_sleeps_in_slices_of_at_most_poll_s() -> None:
    clock, wall = make_clock(ClockMode.REALTIME)
    event = ClockEvent(clock.now_ns() + 10 * NS_PER_S, ClockAction.PRE_OPEN, dt.date(2026, 1, 5))
    sleep = FakeSleep(wall)
    submit = Recorder(clock, wall)
    asyncio.run(run_schedule(clock, [event], submit, sleep=sleep, poll_s=3.0))
    assert sleep.calls == [3.0, 3.0, 3.0, 1.0]
    assert submit.seen[0][1] == event.ts_ns


def test_run_schedule_discrete_jumps_without_sleeping() -> None:
    events = list(schedule(CN, dt.date(2026, 10, 8), dt.date(2026, 10, 9)))
    clock, wall = make_clock(ClockMode.DISCRETE, start_ns=0)
    sleep = FakeSleep(wall)
    submit = Recorder(clock, wall)
    asyncio.run(run_schedule(clock, events, submit, sleep=sleep))
    assert sleep.calls == []
    assert [seen[0] for seen in submit.seen] == events
    assert [seen[1] for seen in submit.seen] == [e.ts_ns for e in events]
    assert clock.now_ns() == events[-1].ts_ns


def test_pausing_delays_a_submission() -> None:
    clock, wall = make_clock(ClockMode.REALTIME)
    start_wall = wall.ns
    event = ClockEvent(clock.now_ns() + 10 * NS_PER_S, ClockAction.CLOSE, dt.date(2026, 1, 5))
    clock.pause()

    def resume_after_30_s(calls: int) -> None:
        if calls == 30:
            clock.resume()

    sleep = FakeSleep(wall, on_sleep=resume_after_30_s)
    submit = Recorder(clock, wall)
    asyncio.run(run_schedule(clock, [event], submit, sleep=sleep, poll_s=1.0))
    assert sleep.calls[:30] == [1.0] * 30  # polling while paused
    assert submit.seen[0][1] == event.ts_ns
    assert submit.seen[0][2] - start_wall == 40 * NS_PER_S  # 30 s paused + 10 s running


def test_stepped_run_waits_for_the_instructor() -> None:
    clock, wall = make_clock(ClockMode.STEPPED)
    event = ClockEvent(clock.now_ns() + MINUTE_NS, ClockAction.SESSION_OPEN, dt.date(2026, 1, 5))

    def step_on_fifth_poll(calls: int) -> None:
        if calls == 5:
            clock.advance_to(event.ts_ns)

    sleep = FakeSleep(wall, on_sleep=step_on_fifth_poll)
    submit = Recorder(clock, wall)
    asyncio.run(run_schedule(clock, [event], submit, sleep=sleep, poll_s=0.5))
    assert len(sleep.calls) == 5
    assert [seen[0] for seen in submit.seen] == [event]


def test_run_schedule_stops_cleanly_when_cancelled() -> None:
    clock, wall = make_clock(ClockMode.STEPPED)
    event = ClockEvent(clock.now_ns() + 1, ClockAction.PRE_OPEN, dt.date(2026, 1, 5))
    submit = Recorder(clock, wall)
    polls: list[float] = []

    async def yielding_sleep(seconds: float) -> None:
        polls.append(seconds)
        await asyncio.sleep(0)  # hand control back, as a real sleep would

    async def main() -> None:
        task = asyncio.create_task(run_schedule(clock, [event], submit, sleep=yielding_sleep))
        while len(polls) < 3:
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert task.cancelled()

    asyncio.run(main())
    assert submit.seen == []
    assert len(polls) >= 3


def test_run_schedule_refuses_a_non_positive_poll() -> None:
    clock, wall = make_clock(ClockMode.DISCRETE)
    with pytest.raises(ValueError, match="poll_s"):
        asyncio.run(run_schedule(clock, [], Recorder(clock, wall), poll_s=0))
