"""The classroom's operations, as the gateway calls them: making a class from a scenario,
moving it through its compliance cycle, the seats' abatement, the seats' keys, and taking the
hosted classes back at start-up.

The gateway resolves who asks and which market (its own refusals); these answer the class's
rules with ``ClassroomError`` and hand back plain data for the gateway to reply with. What
they need of the gateway is a ``ClassHost``: the database and a way to create a market.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.classroom import making, store
from exchange.classroom.errors import ClassroomError
from exchange.classroom.lifecycle import ABATEMENT_PHASES, BOT_PHASES, Phase
from exchange.classroom.phases import advance, restart_bots, submit_accepted
from exchange.classroom.room import Classroom
from exchange.classroom.setup import ClassScenario, default_seats, draw_seats, read_scenario
from exchange.classroom.state import ClassState
from exchange.classroom.views import phase_view, seat_view
from exchange.db.keys import create_key, revoke_account_keys
from exchange.faults import kill_point
from exchange.keys import Role
from exchange.runtime import MarketRuntime
from exchange.sim.scenario import LoadedScenario
from settlement.spec import MarketSpec

# Reading a scenario within SCENARIO_YAML_LIMITS takes well under a second; this only bounds
# what the limits do not foresee.
SCENARIO_READ_TIMEOUT_S = 10.0


class ClassHost(Protocol):
    """What the classroom needs of the gateway that hosts it."""

    @property
    def engine(self) -> AsyncEngine: ...

    async def create_class_market(self, spec: MarketSpec, first_day: dt.date) -> MarketRuntime:
        """Create and host the market of ``spec`` (its rules checked, ``first_day`` one its
        calendar trades on), its market time at the class's start (``class_start_ns``), its
        day not opened; or refuse as a ``createMarket`` would."""
        ...

    def add_class(self, room: Classroom) -> None:
        """Host the class (its market is hosted already)."""
        ...


@dataclass(frozen=True, slots=True)
class NewClass:
    """What ``createClassMarket`` asks for: exactly one of ``scenario`` (a shipped name) and
    ``yaml``; the seats, seed and first day default to the scenario's."""

    market_id: str
    scenario: str | None = None
    yaml: str | None = None
    seats: int | None = None
    seed: int | None = None
    open_day: dt.date | None = None
    gas_fired_seats: int | None = None  # the first n seats gas-fired; None: as their profiles
    mrv: str | None = None  # the MRV phase, its seats verified by "instructor" or "trainees"


async def read_scenario_off_loop(
    name: str | None, yaml_text: str | None, timeout_s: float = SCENARIO_READ_TIMEOUT_S
) -> tuple[LoadedScenario, str]:
    """``read_scenario`` in a worker thread: the event loop, and every market it serves, goes
    on meanwhile. The text's limits (``SCENARIO_YAML_LIMITS``) bound the work; past
    ``timeout_s`` the class is refused (``INVALID_SCENARIO``, limit ``seconds``) while the
    thread finishes in the background."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(read_scenario, name, yaml_text), timeout_s)
    except TimeoutError:
        raise ClassroomError(
            "INVALID_SCENARIO",
            f"the scenario was not read within {timeout_s} s",
            scenario=name or "scenario",
            problems=[f"yaml: not read within {timeout_s} s"],
            limit="seconds",
            limit_max=timeout_s,
        ) from None


async def create_class(host: ClassHost, new: NewClass) -> dict[str, Any]:
    """Create a class market from a scenario: its rules, firms and bots, the seats as covered
    entities with keys, a new operator key for the class. What ``ClassMarket`` answers.

    The class starts closed: its set-up (accounts, cash, allocation) is journaled at its start
    time (``class_start_ns``, the first day's pre-open) and no trading day is open, so an order
    is refused (``INSTRUMENT_NOT_OPEN``) and the bots, which act only in continuous trading,
    wait. The instructor starts the class by starting its clock, whose first step opens the
    first day (or by opening the day by hand)."""
    loaded, text = await read_scenario_off_loop(new.scenario, new.yaml)
    seed = loaded.spec.seed if new.seed is None else new.seed
    count = new.seats or default_seats(loaded)
    seats = draw_seats(loaded, count, seed, new.gas_fired_seats)
    taken = {f.account_id for f in loaded.firms} | {a.account_id for a in loaded.agents}
    clash = sorted(s.account_id for s in seats if s.account_id in taken)
    if clash:
        problems = [f"seats: account id {a!r} is also a firm's or an agent's" for a in clash]
        raise ClassroomError(
            "INVALID_SCENARIO", "seat ids clash", scenario=loaded.name, problems=problems
        )
    scenario = ClassScenario.make(loaded, seats, seed)
    year = loaded.years[0]
    day = new.open_day or scenario.year_days(year)[0]
    runtime = await host.create_class_market(scenario.market_spec(new.market_id), day)
    await submit_accepted(runtime, scenario.setup_commands())
    state = ClassState(
        new.market_id, loaded.name, text, seed, Phase.TRADING, year, seats, mrv=new.mrv
    )
    await store.add_class(host.engine, state)
    room = Classroom(runtime, state, scenario)
    host.add_class(room)
    engine = host.engine
    keys = [await create_key(engine, new.market_id, Role.PARTICIPANT, s.account_id) for s in seats]
    operator_key = await create_key(engine, new.market_id, Role.OPERATOR)
    kill_point("class-made")  # the crash tests' moment: all written but the end of making
    await making.finish(engine, new.market_id)  # whole: a crash no longer removes it
    await restart_bots(room)
    return {
        "market_id": new.market_id,
        "scenario": loaded.name,
        "seats": [seat_view(s, scenario, k) for s, k in zip(seats, keys, strict=True)],
        "operator_key": operator_key,
        "bots": [{"account_id": a.account_id, "kind": a.kind} for a in loaded.agents],
        "phase": state.phase.value,
        "compliance_year": year,
        "mrv": state.mrv,
        "trading_day": runtime.market.trading_day,
        "first_day": day,
    }


async def advance_class(engine: AsyncEngine, room: Classroom) -> dict[str, Any]:
    """Move the class to its next phase and do what that implies, one advance at a time; the
    phase as ``phase_view`` has it, with ``done``. A step that fails leaves the class's phase,
    year and abatement as they were."""
    state = room.state
    async with state.lock:
        before = (state.phase, state.compliance_year, dict(state.abatement_t), state.year_start_day)
        facts = dict(state.mrv_facts)
        try:
            done = await advance(room, engine)
        except BaseException:
            state.phase, state.compliance_year, state.abatement_t, state.year_start_day = before
            state.mrv_facts = facts
            raise
        await store.save_class(engine, state)
    return {**phase_view(room), "done": done}


# ---------------------------------------------------------------------- abatement


def check_abatement(
    state: ClassState, scenario: ClassScenario, account_id: str, qty_t: int, today: dt.date | None
) -> int:
    """The most the seat ``account_id`` may declare this year, once its declaration of
    ``qty_t`` passes the class's rules: a seat's (``FORBIDDEN``), before verification
    (``WRONG_CLASS_PHASE``), at most what its firm can cut (``ABATEMENT_OVER_MAX``)."""
    check_seat(state, account_id)
    if state.phase not in ABATEMENT_PHASES:
        raise ClassroomError(
            "WRONG_CLASS_PHASE",
            "abatement is declared before verification",
            phase=state.phase.value,
            expected=[p.value for p in ABATEMENT_PHASES],
        )
    year = state.compliance_year
    most = scenario.max_abatement_t(account_id, year, scenario.seen_on(year, today))
    if qty_t > most:
        raise ClassroomError(
            "ABATEMENT_OVER_MAX", "more than the firm can cut", qty_t=qty_t, max_t=most
        )
    return most


def check_seat(state: ClassState, account_id: str) -> None:
    """Only a seat declares abatement (``FORBIDDEN``)."""
    if state.seat_of(account_id) is None:
        raise ClassroomError("FORBIDDEN", "only a seat declares abatement", account_id=account_id)


async def declare_abatement(
    engine: AsyncEngine, room: Classroom, account_id: str, qty_t: int
) -> dict[str, Any]:
    """The seat's abatement this year (``check_abatement``), stored: it is taken off the
    seat's verified emissions, at the cost its abatement curve gives. What
    ``AbatementDeclared`` answers."""
    state, scenario = room.state, room.scenario
    async with state.lock:
        today = room.runtime.market.trading_day
        most = check_abatement(state, scenario, account_id, qty_t, today)
        year = state.compliance_year
        state.abatement_t[account_id] = qty_t
        await store.save_class(engine, state)
    return {
        "account_id": account_id,
        "year": year,
        "abated_t": qty_t,
        "max_t": most,
        "cost_fen": scenario.abatement_cost_fen(account_id, qty_t),
    }


# ---------------------------------------------------------------------- seats' keys


async def issue_seat_keys(engine: AsyncEngine, room: Classroom) -> list[dict[str, Any]]:
    """A fresh key for every seat, the seats' old keys revoked; each seat with its key."""
    market_id, seats = room.market_id, room.state.seats
    await revoke_account_keys(engine, market_id, [s.account_id for s in seats])
    return [
        seat_view(
            s, room.scenario, await create_key(engine, market_id, Role.PARTICIPANT, s.account_id)
        )
        for s in seats
    ]


# ---------------------------------------------------------------------- start-up


async def resume(engine: AsyncEngine, runtimes: Mapping[str, MarketRuntime]) -> list[Classroom]:
    """At start-up: the classes among the hosted markets, their bots running where the class
    trades."""
    rooms = [
        Classroom(runtimes[s.market_id], s) for s in await store.load_classes(engine, [*runtimes])
    ]
    for room in rooms:
        if room.state.phase in BOT_PHASES:
            await restart_bots(room)
    return rooms
