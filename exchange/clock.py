"""The market clock and the trading calendar's schedule.

The market runtime journals clock changes (pre-open, session open, break, close, day end) as
commands so that replay reproduces them; this module only decides *when* they happen. Market
time is an integer ``ts_ns``: nanoseconds since the Unix epoch (UTC) of the market's own clock,
which in class runs faster than, or independently of, the wall clock (docs/architecture.md, "Time").

Two halves, deliberately separate:

* the schedule (``trading_days`` … ``events_after``) is pure: a function of the rule set's
  ``CalendarRules`` and dates, so the same calendar always yields the same ``ts_ns`` values;
* ``MarketClock`` and ``run_schedule`` map wall time to market time. The wall source and the
  sleep are injected, so tests never sleep and a headless run goes as fast as the CPU allows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import itertools
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from zoneinfo import ZoneInfo

from registry_sim.rules import CalendarRules

NS_PER_S = 1_000_000_000
MAX_SEARCH_DAYS = 366  # a calendar with no trading day in a year is a broken calendar
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class ClockAction(enum.StrEnum):
    """What the runtime does when a scheduled moment arrives (journaled as a command)."""

    PRE_OPEN = "pre_open"  # publish the day's reference prices; state pre-open
    SESSION_OPEN = "session_open"  # continuous trading
    SESSION_BREAK = "session_break"  # midday pause (休市) between two sessions
    CLOSE = "close"  # after the last session: day orders expire
    DAY_END = "day_end"  # day-end clearing


@dataclass(frozen=True, slots=True)
class ClockEvent:
    """One scheduled moment; ``trading_day`` is the local date it belongs to, so the runtime
    need not convert ``ts_ns`` back through the time zone."""

    ts_ns: int
    action: ClockAction
    trading_day: dt.date


# --- the trading calendar -------------------------------------------------------------------


def trading_days(calendar: CalendarRules, start: dt.date, end: dt.date) -> list[dt.date]:
    """The trading days from ``start`` to ``end``, both inclusive (empty if ``end < start``)."""
    return list(_bounded_trading_days(calendar, start, end))


def next_trading_day(calendar: CalendarRules, day: dt.date) -> dt.date:
    """The first trading day strictly after ``day``.

    The search is bounded so that a calendar without trading days (every weekday removed, or a
    holiday list gone wrong) fails loudly instead of hanging the market.
    """
    for offset in range(1, MAX_SEARCH_DAYS + 1):
        candidate = day + dt.timedelta(days=offset)
        if calendar.is_trading_day(candidate):
            return candidate
    raise ValueError(f"no trading day within {MAX_SEARCH_DAYS} days after {day.isoformat()}")


def _bounded_trading_days(
    calendar: CalendarRules, start: dt.date, end: dt.date
) -> Iterator[dt.date]:
    """Lazily, so that a long bounded schedule does not materialise years of days up front."""
    day = start
    while day <= end:
        if calendar.is_trading_day(day):
            yield day
        day += dt.timedelta(days=1)


def _unbounded_trading_days(calendar: CalendarRules, start: dt.date) -> Iterator[dt.date]:
    """Forever, but through ``next_trading_day`` so a calendar without trading days raises
    rather than spinning silently."""
    day = start if calendar.is_trading_day(start) else next_trading_day(calendar, start)
    while True:
        yield day
        day = next_trading_day(calendar, day)


# --- one day's schedule ---------------------------------------------------------------------


def _day_plan(calendar: CalendarRules) -> list[tuple[dt.time, ClockAction]]:
    """The day in its logical order, which is the order the runtime's state machine needs
    regardless of what the clock times say."""
    if not calendar.sessions:
        raise ValueError("the calendar has no trading sessions")
    plan = [(calendar.pre_open, ClockAction.PRE_OPEN)]
    last = len(calendar.sessions) - 1
    for i, (opens, closes) in enumerate(calendar.sessions):
        plan.append((opens, ClockAction.SESSION_OPEN))
        plan.append((closes, ClockAction.CLOSE if i == last else ClockAction.SESSION_BREAK))
    plan.append((calendar.day_end, ClockAction.DAY_END))
    return plan


def day_schedule(calendar: CalendarRules, day: dt.date) -> list[ClockEvent]:
    """The clock events of one trading day, with strictly increasing ``ts_ns``.

    Events are ordered by (local time, place in the day's logical order). Where two coincide
    (``day_end`` equal to the last close, a session closing the instant the next opens,
    ``pre_open`` equal to the first open) or a DST gap would reorder them, the later event is
    placed 1 ns after the earlier one. That keeps ``ts_ns`` alone a total order, so
    ``events_after(ts_ns)`` after a restart never skips an event that shared a time with the
    last one journaled (e.g. DAY_END after CLOSE).
    """
    if not calendar.is_trading_day(day):
        raise ValueError(f"{day.isoformat()} is not a trading day")
    events: list[ClockEvent] = []
    previous_ns: int | None = None
    for at, action in _day_plan(calendar):
        ts_ns = calendar.ts_ns(day, at)
        if previous_ns is not None and ts_ns <= previous_ns:
            ts_ns = previous_ns + 1
        events.append(ClockEvent(ts_ns, action, day))
        previous_ns = ts_ns
    return events


def day_start_ns(calendar: CalendarRules, day: dt.date) -> tuple[int, int]:
    """``day``'s pre-open and its first session's open in market time, trading day or not
    (a market without a clock may be opened on any date): the market time of a day without a
    clock (``exchange.runtime``)."""
    if not calendar.sessions:
        raise ValueError("the calendar has no trading sessions")
    pre_open = calendar.ts_ns(day, calendar.pre_open)
    opens = calendar.ts_ns(day, calendar.sessions[0][0])
    return pre_open, max(pre_open, opens)


# --- the schedule over many days ------------------------------------------------------------


def schedule(
    calendar: CalendarRules, start: dt.date, end: dt.date | None = None
) -> Iterator[ClockEvent]:
    """Every trading day's events from ``start`` (inclusive) to ``end`` (inclusive), lazily;
    forever when ``end`` is None, because a market runs until someone stops it."""
    days = (
        _unbounded_trading_days(calendar, start)
        if end is None
        else _bounded_trading_days(calendar, start, end)
    )
    for day in days:
        yield from day_schedule(calendar, day)


def local_date(calendar: CalendarRules, ts_ns: int) -> dt.date:
    """The calendar-local date of a market time (microsecond resolution is enough for a date)."""
    utc = _EPOCH + dt.timedelta(microseconds=ts_ns // 1_000)
    return utc.astimezone(ZoneInfo(calendar.timezone)).date()


def events_after(calendar: CalendarRules, ts_ns: int) -> Iterator[ClockEvent]:
    """The schedule's events strictly after ``ts_ns``: what comes next when a market restarts
    mid-day. Starts a day early so that no event of the current trading day is missed whatever
    the offset between local and UTC dates."""
    start = local_date(calendar, ts_ns) - dt.timedelta(days=1)
    return itertools.dropwhile(lambda event: event.ts_ns <= ts_ns, schedule(calendar, start))


# --- the market clock -----------------------------------------------------------------------


class ClockMode(enum.StrEnum):
    """How market time relates to wall time (docs/architecture.md, "Time")."""

    REALTIME = "realtime"  # advances with the wall clock, speed 1
    ACCELERATED = "accelerated"  # advances ``speed`` × the wall clock
    STEPPED = "stepped"  # moves only when the instructor steps it (``advance_to``)
    DISCRETE = "discrete"  # headless: jumps straight to the next event (``advance_to``)


_FLOWING = frozenset({ClockMode.REALTIME, ClockMode.ACCELERATED})


class MarketClock:
    """Maps wall time to market time.

    Flowing modes (REALTIME, ACCELERATED) keep an anchor: market time ``anchor_ns`` at wall
    time ``anchor_wall_ns``, advancing at ``speed`` from there. Every change (pause, resume,
    speed) re-anchors at the current market time, which is what keeps market time continuous
    and never going backwards. REALTIME starts at ``start_ts_ns`` and then follows the wall
    source's rate; pass ``time.time_ns()`` as the start to make it read as real time. The wall
    source must be monotonic (the default is), since market time is derived from its deltas.

    The speed is kept as an exact fraction so that ``now_ns`` and ``wall_delay_s`` agree to the
    nanosecond over long runs, where float products of large ns values would drift.
    """

    def __init__(
        self,
        mode: ClockMode,
        start_ts_ns: int,
        speed: float = 1.0,
        wall_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self._mode = ClockMode(mode)
        _check_speed(speed)
        if self._mode is ClockMode.REALTIME and speed != 1:
            raise ValueError(f"a realtime clock runs at speed 1, not {speed}; use ACCELERATED")
        self._speed = Fraction(speed)
        self._wall_ns = wall_ns
        self._anchor_ns = start_ts_ns
        self._anchor_wall_ns = wall_ns()
        self._paused = False

    @property
    def mode(self) -> ClockMode:
        return self._mode

    @property
    def speed(self) -> float:
        return float(self._speed)

    @property
    def paused(self) -> bool:
        return self._paused

    def now_ns(self) -> int:
        """The current market time."""
        if self._paused or self._mode not in _FLOWING:
            return self._anchor_ns
        return self._anchor_ns + math.floor(self._elapsed_wall_ns() * self._speed)

    def pause(self) -> None:
        """Freeze market time where it stands (idempotent)."""
        if not self._paused:
            self._reanchor()
            self._paused = True

    def resume(self) -> None:
        """Let market time flow again from where it stood, not from where it would have been."""
        if self._paused:
            self._anchor_wall_ns = self._wall_ns()
            self._paused = False

    def set_speed(self, speed: float) -> None:
        """Change the acceleration without a jump: the market time of the change is kept."""
        _check_speed(speed)
        if self._mode is not ClockMode.ACCELERATED:
            raise ValueError(f"only an accelerated clock has a speed to set, not {self._mode}")
        self._reanchor()
        self._speed = Fraction(speed)

    def advance_to(self, ts_ns: int) -> None:
        """Step market time forward (STEPPED, DISCRETE); going back would break replay order."""
        if self._mode in _FLOWING:
            raise ValueError(f"a {self._mode} clock moves by itself; advance_to is for stepping")
        if ts_ns < self._anchor_ns:
            raise ValueError(f"market time cannot go back from {self._anchor_ns} to {ts_ns}")
        self._anchor_ns = ts_ns

    def wall_delay_s(self, ts_ns: int) -> float | None:
        """Wall seconds until market time reaches ``ts_ns`` at the current speed.

        0 if already reached, or in DISCRETE mode (the next event is always reached at once).
        None while paused or in STEPPED mode: it will not happen by itself, so a waiter should
        poll rather than sleep for a computed time.
        """
        remaining_ns = ts_ns - self.now_ns()
        if remaining_ns <= 0:
            return 0.0
        if self._paused or self._mode is ClockMode.STEPPED:
            return None
        if self._mode is ClockMode.DISCRETE:
            return 0.0
        # the smallest elapsed wall time at which floor(elapsed × speed) reaches the target
        needed_wall_ns = math.ceil((ts_ns - self._anchor_ns) / self._speed)
        return max(0, needed_wall_ns - self._elapsed_wall_ns()) / NS_PER_S

    def _elapsed_wall_ns(self) -> int:
        return max(0, self._wall_ns() - self._anchor_wall_ns)

    def _reanchor(self) -> None:
        self._anchor_ns = self.now_ns()
        self._anchor_wall_ns = self._wall_ns()


def _check_speed(speed: float) -> None:
    if not (speed > 0 and math.isfinite(speed)):
        raise ValueError(f"speed must be a positive finite number, got {speed}")


# --- driving the schedule -------------------------------------------------------------------


async def run_schedule(
    clock: MarketClock,
    events: Iterable[ClockEvent],
    submit: Callable[[ClockEvent], Awaitable[object]],
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    poll_s: float = 0.05,
) -> None:
    """Submit each event, in order, once the clock has reached it.

    Waiting is done in slices of at most ``poll_s`` and the delay is recomputed after each, so
    a pause, resume, step or speed change made meanwhile takes effect within one slice. In
    DISCRETE mode the clock is moved to the event instead (no sleep unless paused). Nothing is
    held across an ``await`` that cancellation could leave half-done, so ``task.cancel()``
    simply stops it.
    """
    if not poll_s > 0:
        raise ValueError(f"poll_s must be positive, got {poll_s}")
    for event in events:
        await _wait_for(clock, event.ts_ns, sleep, poll_s)
        if clock.mode is ClockMode.DISCRETE and clock.now_ns() < event.ts_ns:
            clock.advance_to(event.ts_ns)
        await submit(event)


async def _wait_for(
    clock: MarketClock,
    ts_ns: int,
    sleep: Callable[[float], Awaitable[object]],
    poll_s: float,
) -> None:
    while True:
        delay_s = clock.wall_delay_s(ts_ns)
        if delay_s == 0:
            return
        await sleep(poll_s if delay_s is None else min(delay_s, poll_s))
