"""The market clock and the trading session, for an instructor (issue 5).

``getClock`` reads the clock (any key of the market); everything else is for operators.
``startClock`` runs a ``MarketClock`` through a ``ClockDriver`` (``exchange.api.clock_driver``):
from then on the runtime stamps every command, REST orders included, with the clock's market
time, and the calendar's steps (pre-open, sessions, close, day end) are journaled as the
commands ``runtime.clock_command`` makes. A stepped clock moves only by ``advanceClock``.

With no clock, or a stepped one, the instructor may also step the day by hand (``openDay``,
``setSession``, ``closeDay``, ``endOfDay``): the same commands, journaled the same way. A
running stepped clock then re-plans from the market's new state, so it never repeats a step
the instructor took.

``pauseClock`` stops time and trading together: the instruments in continuous trading are
halted until ``resumeClock`` (or ``stopClock``); a paused clock is neither stepped nor has its
session stepped by hand (``CLOCK_PAUSED``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from exchange.api.auth import require
from exchange.api.clock_driver import ClockDriver, earliest_start_ns
from exchange.api.common import PROBLEMS
from exchange.api.deps import CurrentPrincipal, HubDep, MarketId
from exchange.api.errors import ApiError, accepted
from exchange.api.hub import Hub
from exchange.api.market_specs import not_a_trading_day
from exchange.api.models import Body
from exchange.clock import (
    NS_PER_S,
    ClockAction,
    ClockEvent,
    ClockMode,
    MarketClock,
    local_date,
    next_trading_day,
)
from exchange.keys import Principal, Role
from exchange.runtime import Ack
from matching.types import TradingState
from registry_sim.rules import CalendarRules
from settlement.commands import CloseDay, EndOfDay, MarketCommand, OpenDay, SetSession
from settlement.market import Market

MAX_SPEED = 1_000_000  # a trading year in about a minute: beyond that the steps crowd
# Market times up to 2100, so that every scheduled ts_ns fits the journal's BIGINT.
MAX_TS_NS = 4_102_444_800 * NS_PER_S  # 2100-01-01T00:00Z
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
ADVANCE_TIMEOUT_S = 10.0  # an advance answers with what was applied by then
ADVANCE_POLL_S = 0.01


# --- bodies and replies -----------------------------------------------------------------------

MarketTime = Annotated[int, Field(ge=0, le=MAX_TS_NS)]
Speed = Annotated[float, Field(gt=0, le=MAX_SPEED)]
TradingDay = Annotated[dt.date, Field(strict=False, ge=FIRST_DAY, le=LAST_DAY)]


class ClockStart(Body):
    mode: Literal["realtime", "accelerated", "stepped"]
    speed: Speed | None = None  # accelerated only: market seconds per wall second
    start_ns: MarketTime | None = None  # default: where the market stands

    @model_validator(mode="after")
    def _speed_for_accelerated(self) -> ClockStart:
        if (self.mode == "accelerated") != (self.speed is not None):
            raise ValueError("an accelerated clock needs a speed, and only an accelerated one")
        return self


class ClockSpeed(Body):
    speed: Speed


class ClockAdvance(Body):
    to: Literal["next_event"] | MarketTime = "next_event"


class DayOpening(Body):
    trading_day: TradingDay | None = None  # default: the calendar's next trading day


class SessionChange(Body):
    state: Literal["continuous", "break"]  # what settlement's SetSession accepts


class ClockEventView(BaseModel):
    action: ClockAction
    ts_ns: int
    at: str  # ISO 8601 in the calendar's time zone
    trading_day: dt.date


class ClockView(BaseModel):
    market_id: str
    running: bool
    mode: ClockMode | None
    speed: float | None
    paused: bool
    now_ns: int
    now: str
    timezone: str
    trading_day: dt.date | None
    session: TradingState
    day_closed: bool
    day_cleared: bool
    next_event: ClockEventView | None


class ClockAdvanced(BaseModel):
    applied: list[ClockEventView]
    clock: ClockView


class SessionStepped(BaseModel):
    seq: int
    clock: ClockView


# --- the operations ---------------------------------------------------------------------------

router = APIRouter(prefix="/v1/markets/{market_id}", tags=["clock"], responses=PROBLEMS)


def _driver(hub: Hub, market_id: str) -> ClockDriver:
    """The market's ``ClockDriver`` (made on first use, and anew for a new runtime)."""
    hosted = hub.market(market_id)
    driver = hosted.clock
    if driver is None or driver.runtime is not hosted.runtime:
        driver = hosted.clock = ClockDriver(hosted.runtime)
    return driver


@contextlib.asynccontextmanager
async def _operating(hub: Hub, market_id: str, who: Principal) -> AsyncIterator[ClockDriver]:
    """An operator's hold on the market's clock: its driver, under the lock that keeps control
    operations from interleaving."""
    require(who, Role.OPERATOR)
    driver = _driver(hub, market_id)
    async with driver.lock:
        yield driver


def _iso(calendar: CalendarRules, ts_ns: int) -> str:
    utc = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=ts_ns // 1_000)
    return utc.astimezone(ZoneInfo(calendar.timezone)).isoformat()


def _event(calendar: CalendarRules, event: ClockEvent) -> dict[str, Any]:
    return {
        "action": event.action,
        "ts_ns": event.ts_ns,
        "at": _iso(calendar, event.ts_ns),
        "trading_day": event.trading_day,
    }


def _view(driver: ClockDriver) -> dict[str, Any]:
    runtime = driver.runtime
    market = runtime.market
    calendar = market.rules.calendar
    clock = driver.clock if driver.running else None
    now_ns = driver.now_ns()
    upcoming = driver.cursor.next if clock is not None and driver.cursor is not None else None
    return {
        "market_id": runtime.market_id,
        "running": clock is not None,
        "mode": None if clock is None else clock.mode,
        "speed": None if clock is None else clock.speed,
        "paused": clock is not None and clock.paused,
        "now_ns": now_ns,
        "now": _iso(calendar, now_ns),
        "timezone": calendar.timezone,
        "trading_day": market.trading_day,
        "session": market.session,
        "day_closed": market.day_closed,
        "day_cleared": market.day_cleared,
        "next_event": None if upcoming is None else _event(calendar, upcoming),
    }


def _running(driver: ClockDriver) -> MarketClock:
    """The running clock, or 409 CLOCK_NOT_RUNNING."""
    if not driver.running or driver.clock is None:
        raise ApiError(409, "CLOCK_NOT_RUNNING", "no clock runs in this market")
    return driver.clock


def _mode(clock: MarketClock, expected: ClockMode) -> None:
    if clock.mode is not expected:
        raise ApiError(
            409,
            "WRONG_CLOCK_MODE",
            f"only a {expected.value} clock does this",
            mode=clock.mode.value,
            expected=expected.value,
        )


def _not_paused(clock: MarketClock) -> None:
    """A paused clock stands still, its trading halted: stepping it, or the session by hand,
    waits for ``resumeClock`` (409 CLOCK_PAUSED)."""
    if clock.paused:
        raise ApiError(
            409,
            "CLOCK_PAUSED",
            "the clock is paused: resume it first",
            mode=clock.mode.value,
        )


def _backwards(market_ns: int, to_ns: int) -> ApiError:
    return ApiError(
        409,
        "CLOCK_BACKWARDS",
        "market time never goes back",
        market_ns=market_ns,
        to_ns=to_ns,
    )


@router.get("/clock", operation_id="getClock", response_model=ClockView)
async def get_clock(hub: HubDep, market_id: MarketId, who: CurrentPrincipal) -> dict[str, Any]:
    """The market's time, trading day, session and next scheduled step (any key)."""
    return _view(_driver(hub, market_id))


@router.post("/clock/start", operation_id="startClock", response_model=ClockView)
async def start_clock(
    hub: HubDep, market_id: MarketId, body: ClockStart, who: CurrentPrincipal
) -> dict[str, Any]:
    """Start the market's clock from where the market stands (or ``start_ns``, not before).
    A real-time clock, or one on a market without a trading day, starts at the wall's time;
    a class's at the class's own time, whatever the mode: its first start opens its first
    trading day at once (docs/classroom.md). The steps due at the start are applied before
    the reply."""
    own_time = hub.market(market_id).classroom is not None
    async with _operating(hub, market_id, who) as driver:
        if driver.running:
            assert driver.clock is not None
            raise ApiError(
                409,
                "CLOCK_RUNNING",
                "a clock runs in this market already",
                mode=driver.clock.mode.value,
                paused=driver.clock.paused,
            )
        runtime = driver.runtime
        calendar = runtime.market.rules.calendar
        earliest = earliest_start_ns(calendar, runtime.market, runtime.last_ts_ns)
        floor_ns = max(driver.now_ns(), earliest or 0)
        mode = ClockMode(body.mode)
        if body.start_ns is not None:
            if body.start_ns < floor_ns:
                raise _backwards(floor_ns, body.start_ns)
            start_ns = body.start_ns
        elif not own_time and (earliest is None or mode is ClockMode.REALTIME):
            start_ns = max(floor_ns, time.time_ns())  # real time, or no day to start from
        else:
            start_ns = floor_ns
        driver.start(MarketClock(mode, start_ns, body.speed or 1.0))
        await driver.settle(start_ns)  # the steps due at the start (a class's pre-open) land first
        return _view(driver)


@router.post("/clock/stop", operation_id="stopClock", response_model=ClockView)
async def stop_clock(hub: HubDep, market_id: MarketId, who: CurrentPrincipal) -> dict[str, Any]:
    """Stop the clock (to restart it in another mode, or to step the day by hand); what a
    pause halted trades again."""
    async with _operating(hub, market_id, who) as driver:
        _running(driver)
        await driver.stop()
        return _view(driver)


@router.post("/clock/pause", operation_id="pauseClock", response_model=ClockView)
async def pause_clock(hub: HubDep, market_id: MarketId, who: CurrentPrincipal) -> dict[str, Any]:
    """Freeze market time and halt trading (idempotent): every instrument in continuous
    trading is halted, so orders are refused ``INSTRUMENT_HALTED`` and bots idle; a step
    already due lands before the reply."""
    async with _operating(hub, market_id, who) as driver:
        _running(driver)
        await driver.pause()
        return _view(driver)


@router.post("/clock/resume", operation_id="resumeClock", response_model=ClockView)
async def resume_clock(hub: HubDep, market_id: MarketId, who: CurrentPrincipal) -> dict[str, Any]:
    """Resume the trading the pause halted and let market time flow again from where it
    stood (idempotent)."""
    async with _operating(hub, market_id, who) as driver:
        _running(driver)
        await driver.resume()
        return _view(driver)


@router.post("/clock/speed", operation_id="setClockSpeed", response_model=ClockView)
async def set_clock_speed(
    hub: HubDep, market_id: MarketId, body: ClockSpeed, who: CurrentPrincipal
) -> dict[str, Any]:
    """Change an accelerated clock's speed without a jump in market time."""
    async with _operating(hub, market_id, who) as driver:
        clock = _running(driver)
        _mode(clock, ClockMode.ACCELERATED)
        clock.set_speed(body.speed)
        return _view(driver)


@router.post("/clock/advance", operation_id="advanceClock", response_model=ClockAdvanced)
async def advance_clock(
    hub: HubDep, market_id: MarketId, body: ClockAdvance, who: CurrentPrincipal
) -> dict[str, Any]:
    """Step a stepped clock to its next scheduled step, or to a market time, and answer once
    the steps due by then are applied (or after ``ADVANCE_TIMEOUT_S``, with those that are)."""
    async with _operating(hub, market_id, who) as driver:
        clock = _running(driver)
        _mode(clock, ClockMode.STEPPED)
        _not_paused(clock)
        cursor = driver.cursor
        assert cursor is not None
        if body.to == "next_event":
            if cursor.next is None:  # the schedule is unbounded: only a failed task ends it
                raise ApiError(409, "CLOCK_NOT_RUNNING", "the clock has no step left")
            target_ns = max(cursor.next.ts_ns, clock.now_ns())
        else:
            target_ns = body.to
            if target_ns < clock.now_ns():
                raise _backwards(clock.now_ns(), target_ns)
        applied = cursor.applied
        clock.advance_to(target_ns)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ADVANCE_TIMEOUT_S
        while driver.running and cursor.due(target_ns) and loop.time() < deadline:
            await asyncio.sleep(ADVANCE_POLL_S)
        calendar = driver.runtime.market.rules.calendar
        return {
            "applied": [_event(calendar, event) for event in cursor.since(applied)],
            "clock": _view(driver),
        }


# --- the session by hand ----------------------------------------------------------------------


async def _step_by_hand(driver: ClockDriver, command: MarketCommand) -> dict[str, Any]:
    """Journal one of the clock's commands for the instructor: with no clock, or under a
    stepped one, which then re-plans from the market's new state."""
    clock = driver.clock if driver.running else None
    if clock is not None and clock.mode is not ClockMode.STEPPED:
        raise ApiError(
            409,
            "CLOCK_RUNNING",
            "the clock runs the session: stop it, or use a stepped clock",
            mode=clock.mode.value,
            paused=clock.paused,
        )
    if clock is not None:
        _not_paused(clock)
        await driver.halt()
    try:
        ack: Ack = await driver.runtime.submit(command)
    finally:
        if clock is not None:
            driver.start(clock)
    return {"seq": accepted(ack).seq, "clock": _view(driver)}


@router.post("/session/open-day", operation_id="openDay", response_model=SessionStepped)
async def open_day(
    hub: HubDep, market_id: MarketId, body: DayOpening, who: CurrentPrincipal
) -> dict[str, Any]:
    """Open a trading day (pre-open): by default the calendar's next one (a class's first:
    its first day)."""
    own_time = hub.market(market_id).classroom is not None
    async with _operating(hub, market_id, who) as driver:
        market = driver.runtime.market
        calendar = market.rules.calendar
        day = body.trading_day
        if day is None:
            day = _next_day(calendar, market, driver, own_time)
        elif not calendar.is_trading_day(day):
            raise not_a_trading_day(day)
        return await _step_by_hand(driver, OpenDay(0, day))


def _next_day(
    calendar: CalendarRules, market: Market, driver: ClockDriver, own_time: bool
) -> dt.date:
    """The trading day after the market's, or the first from the market's date on (without a
    clock, outside a class: the later of it and the wall's)."""
    if market.trading_day is not None:
        return next_trading_day(calendar, market.trading_day)
    wall = not (driver.running or own_time)
    now_ns = max(driver.now_ns(), time.time_ns()) if wall else driver.now_ns()
    today = local_date(calendar, now_ns)
    return today if calendar.is_trading_day(today) else next_trading_day(calendar, today)


@router.post("/session", operation_id="setSession", response_model=SessionStepped)
async def set_session(
    hub: HubDep, market_id: MarketId, body: SessionChange, who: CurrentPrincipal
) -> dict[str, Any]:
    """Open continuous trading, or break between two sessions (halted books stay halted)."""
    async with _operating(hub, market_id, who) as driver:
        return await _step_by_hand(driver, SetSession(0, TradingState(body.state)))


@router.post("/session/close-day", operation_id="closeDay", response_model=SessionStepped)
async def close_day(hub: HubDep, market_id: MarketId, who: CurrentPrincipal) -> dict[str, Any]:
    """Close the trading day: books close, day orders expire."""
    async with _operating(hub, market_id, who) as driver:
        return await _step_by_hand(driver, CloseDay(0))


@router.post("/session/end-of-day", operation_id="endOfDay", response_model=SessionStepped)
async def end_of_day(hub: HubDep, market_id: MarketId, who: CurrentPrincipal) -> dict[str, Any]:
    """Day-end clearing (日终清算) of a closed day: the close, tomorrow's reference price."""
    async with _operating(hub, market_id, who) as driver:
        return await _step_by_hand(driver, EndOfDay(0))
