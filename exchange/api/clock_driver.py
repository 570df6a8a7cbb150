"""The market clock as the gateway runs it (``exchange.api.routes.clock``): where the market
stands in its trading day, what a clock starting now must still do, and the ``ClockDriver``
that walks that schedule through ``MarketRuntime.run_clock``.

The clock starts from where the market stands, whatever opened its day: the market's state
(trading day, session, closed, cleared) says which of the day's steps are done, and the clock
runs only the rest, never before the last journaled market time. Planning is pure; only the
driver runs anything.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
from collections import deque
from collections.abc import Iterable, Iterator

from exchange.clock import (
    ClockAction,
    ClockEvent,
    MarketClock,
    day_schedule,
    local_date,
    next_trading_day,
)
from exchange.runtime import MarketRuntime
from matching.types import TradingState
from registry_sim.rules import CalendarRules
from settlement.commands import Halt, Resume
from settlement.market import Market

HISTORY = 256  # clock steps remembered, to tell an advance what it applied

# The market's session once a step of the day has been applied (DAY_END: the day is cleared).
_SESSION_AFTER = {
    ClockAction.PRE_OPEN: TradingState.PRE_OPEN,
    ClockAction.SESSION_OPEN: TradingState.CONTINUOUS,
    ClockAction.SESSION_BREAK: TradingState.BREAK,
    ClockAction.CLOSE: TradingState.CLOSED,
}


# --- where the market stands (pure) ---------------------------------------------------------


def _state(market: Market, symbol: str) -> TradingState:
    return market.engine.book_info(symbol).state


def _any_day(calendar: CalendarRules) -> CalendarRules:
    """The calendar's hours on every date: a day opened by hand may be one the calendar
    skips (the demo opens today's date, weekend or not), and it still has to close."""
    return dataclasses.replace(calendar, weekdays=tuple(range(7)), holidays=frozenset())


def day_position(
    calendar: CalendarRules, market: Market, last_ts_ns: int
) -> tuple[int | None, list[ClockEvent]]:
    """Where the market's state puts it in its trading day: the scheduled time of the last step
    the state shows done (None before any trading day) and the day's steps still to come.

    A session state can follow more than one step (continuous after each session's open); the
    latest one the journal's market time has passed wins, else the first.
    """
    day = market.trading_day
    if day is None:
        return None, []
    events = day_schedule(_any_day(calendar), day)
    if market.day_cleared:
        return events[-1].ts_ns, []
    session = TradingState.CLOSED if market.day_closed else market.session
    steps = [i for i, event in enumerate(events) if _SESSION_AFTER.get(event.action) is session]
    assert steps, f"a trading day open in session {session} matches no step of the day"
    passed = [i for i in steps if events[i].ts_ns <= last_ts_ns]
    done = passed[-1] if passed else steps[0]
    return events[done].ts_ns, events[done + 1 :]


def later_days(
    calendar: CalendarRules, after: dt.date | None, start_ns: int
) -> Iterator[ClockEvent]:
    """The steps of every trading day after ``after`` that has not ended by ``start_ns``.

    A day in progress at ``start_ns`` comes whole, from its pre-open: a market cannot trade in
    a session it never opened, so the clock catches those steps up at once.
    """
    first = local_date(calendar, start_ns) - dt.timedelta(days=1)
    if after is not None:
        first = max(first, after + dt.timedelta(days=1))
    day = first if calendar.is_trading_day(first) else next_trading_day(calendar, first)
    while True:
        events = day_schedule(calendar, day)
        if events[-1].ts_ns > start_ns:
            yield from events
        day = next_trading_day(calendar, day)


def clock_plan(
    calendar: CalendarRules, market: Market, last_ts_ns: int, start_ns: int
) -> Iterator[ClockEvent]:
    """What a clock starting at ``start_ns`` must still do: the rest of the open day, then
    the days after it."""
    _, rest = day_position(calendar, market, last_ts_ns)
    return itertools.chain(rest, later_days(calendar, market.trading_day, start_ns))


def earliest_start_ns(calendar: CalendarRules, market: Market, last_ts_ns: int) -> int | None:
    """The earliest market time a clock may start at (None: the market has no trading day
    yet, so only the journal's last time bounds it)."""
    position, _ = day_position(calendar, market, last_ts_ns)
    return None if position is None else max(position, last_ts_ns)


# --- the running clock ------------------------------------------------------------------------


class _Cursor:
    """The clock task's steps, with the next one visible. ``run_schedule`` asks for the next
    step only once the previous one is durable, which is when it counts as applied."""

    def __init__(self, events: Iterable[ClockEvent]) -> None:
        self._events = iter(events)
        self.next: ClockEvent | None = next(self._events, None)
        self.applied = 0
        self.history: deque[ClockEvent] = deque(maxlen=HISTORY)

    def __iter__(self) -> Iterator[ClockEvent]:
        while self.next is not None:
            event = self.next
            yield event
            self.applied += 1
            self.history.append(event)
            self.next = next(self._events, None)

    def due(self, ts_ns: int) -> bool:
        return self.next is not None and self.next.ts_ns <= ts_ns

    def since(self, applied: int) -> list[ClockEvent]:
        count = min(self.applied - applied, len(self.history))
        return list(self.history)[len(self.history) - count :]


SETTLE_POLL_S = 0.002
SETTLE_TIMEOUT_S = 5.0


class ClockDriver:
    """One market's clock as the gateway runs it: the ``MarketClock``, the task walking the
    schedule and a lock that keeps control operations from interleaving.

    A pause halts trading as well as time: every instrument in continuous trading is halted
    (a journaled ``Halt``, so an order is refused ``INSTRUMENT_HALTED`` and bots, which act
    only on a tradable instrument, idle), and resuming the clock, or stopping it, resumes
    exactly those (``paused_halts``); an instrument the instructor halted stays halted."""

    def __init__(self, runtime: MarketRuntime) -> None:
        self.runtime = runtime
        self.lock = asyncio.Lock()
        self.clock: MarketClock | None = None
        self.cursor: _Cursor | None = None
        self.paused_halts: set[str] = set()  # the instruments the pause halted
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, clock: MarketClock) -> None:
        """Run ``clock`` over what the market's state still needs, from the clock's time."""
        market = self.runtime.market
        events = clock_plan(market.rules.calendar, market, self.runtime.last_ts_ns, clock.now_ns())
        self.clock = clock
        self.cursor = _Cursor(events)
        self._task = self.runtime.run_clock(clock, self.cursor)

    async def halt(self) -> None:
        """Stop walking the schedule. A step it had queued is still applied, before anything
        submitted after this (the sequencer keeps arrival order)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def stop(self) -> None:
        """Stop the clock. It stays the runtime's, paused: market time stays where it stood
        and commands are stamped with it, rather than going back to the last journaled time.
        What a pause halted trades again (the instructor steps the day by hand now)."""
        await self.halt()
        if self.clock is not None:
            self.clock.pause()
        await self._release()

    async def pause(self) -> None:
        """Freeze market time (a step already due lands first) and halt every instrument in
        continuous trading; idempotent."""
        assert self.clock is not None
        self.clock.pause()
        await self.settle()
        market = self.runtime.market
        trading = [s for s in market.instruments if _state(market, s) is TradingState.CONTINUOUS]
        if not trading:
            return
        acks = await self.runtime.submit_many([Halt(0, symbol) for symbol in trading])
        self.paused_halts.update(s for s, a in zip(trading, acks, strict=True) if a.outcome.ok)

    async def resume(self) -> None:
        """Resume what the pause halted, then let market time flow again; idempotent."""
        assert self.clock is not None
        await self._release()
        self.clock.resume()

    async def _release(self) -> None:
        """Resume the instruments the pause halted that are halted still, in the market's
        session (a day closed meanwhile closed them: nothing to resume)."""
        symbols, self.paused_halts = sorted(self.paused_halts), set()
        market = self.runtime.market
        halted = [s for s in symbols if _state(market, s) is TradingState.HALTED]
        if halted and market.session in (TradingState.CONTINUOUS, TradingState.BREAK):
            await self.runtime.submit_many([Resume(0, symbol) for symbol in halted])

    async def settle(self, at_ns: int | None = None, timeout_s: float = SETTLE_TIMEOUT_S) -> None:
        """Wait until every step already due at ``at_ns`` (default: the clock's time, a paused
        one's) is durable, so a start or a pause answers with the market as it then stands.
        Bounded: a stuck market answers anyway."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while (
            self.running
            and self.clock is not None
            and self.cursor is not None
            and self.cursor.due(self.clock.now_ns() if at_ns is None else at_ns)
            and asyncio.get_running_loop().time() < deadline
        ):
            await asyncio.sleep(SETTLE_POLL_S)

    def now_ns(self) -> int:
        """The market's time: its clock's, running or stopped, else the last journaled."""
        clock, last_ns = self.runtime.clock, self.runtime.last_ts_ns
        return last_ns if clock is None else max(clock.now_ns(), last_ns)
