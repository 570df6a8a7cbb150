"""The compliance cycle of a class, one phase at a time (``advanceClassPhase``).

allocation → trading → verification → surrender → assessment → (next year's) allocation, or
closed after the scenario's last year (the table: ``exchange.classroom.lifecycle``). Each step
submits what the phase change implies as ordinary journaled commands and answers counts of
what it did:

* allocation → trading: the year's first trading day opens (unless a clock runs the days),
  the bots start trading with the year's profiles;
* trading → verification: every covered entity's verified emissions (核查) are recorded: the
  scenario's baseline grown to the year, changed by the emission shocks scheduled so far,
  minus the abatement declared (seats) or decided by the firm's agent (bots); allocation is
  trued up where the scenario's method does that;
* verification → surrender: surrender (清缴) opens; the bots' firms surrender what their
  agents decide;
* surrender → assessment: every covered entity with verified emissions is assessed at the
  surrender deadline, at the penalty reference price (``exchange.compliance_year``, as a
  simulation does): pending units retire, shortfall and penalty are fixed by the registry;
* assessment → allocation of the next year (its allowances and CCER issued), or closed (the
  bots stop).

A step that fails halfway (the market stopped) leaves the phase where it was; advancing again
does only what is missing, since each operation has a fixed id the registry answers once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from exchange import compliance_year
from exchange.agents.base import Abate, SurrenderUnits
from exchange.agents.local import to_commands
from exchange.classroom import mrv_phase
from exchange.classroom.bots import start_bots, year_end_actions
from exchange.classroom.errors import MarketRefusedError
from exchange.classroom.lifecycle import Phase, following, next_step
from exchange.classroom.room import Classroom
from exchange.classroom.setup import ClassScenario
from exchange.classroom.state import ClassState
from exchange.clock import next_trading_day
from exchange.runtime import Ack, MarketRuntime
from exchange.sessions import opening
from registry_sim.model import AccountId
from settlement.commands import CloseDay, EndOfDay, MarketCommand, RegistryCommand


def next_phase(state: ClassState, scenario: ClassScenario) -> Phase | None:
    """The phase the class moves to next (None once it is closed)."""
    return following(
        state.phase, scenario.has_year(state.compliance_year + 1), state.mrv is not None
    )


def deadline(state: ClassState, runtime: MarketRuntime) -> dt.date:
    """The surrender deadline of the class's compliance year (the rule set's)."""
    return runtime.market.rules.compliance.deadline(state.compliance_year)


async def submit_accepted(runtime: MarketRuntime, commands: list[MarketCommand]) -> list[Ack]:
    """Submit and require every command accepted (they are the scenario's own: a refusal is
    a scenario the rules cannot host, passed on as the market's refusal)."""
    acks = await runtime.submit_many(commands)
    for ack in acks:
        if ack.outcome.code is not None:
            raise MarketRefusedError(ack.outcome.code, ack.outcome.details)
    return acks


async def advance(room: Classroom, engine: AsyncEngine | None = None) -> dict[str, Any]:
    """Move the class to its next phase (``CLASS_CLOSED`` after the last); what was done, as
    counts. The caller saves the state, or restores it if this raises. The MRV phase's steps
    need the database (``engine``: the MRV desk's rows)."""
    runtime, state, scenario = room.runtime, room.state, room.scenario
    target = next_step(
        state.phase, scenario.has_year(state.compliance_year + 1), state.mrv is not None
    )
    mrv_done: dict[str, Any] = {}
    if target is Phase.MRV or state.phase is Phase.MRV:
        if engine is None:
            raise ValueError("the MRV phase's steps need the database")
        if target is Phase.MRV:
            mrv_done = await mrv_phase.enter(engine, room)
        else:
            mrv_done = await mrv_phase.leave(engine, room)
    steps = {
        Phase.TRADING: _open_trading,
        Phase.VERIFICATION: _verify,
        Phase.SURRENDER: _open_surrender,
        Phase.ASSESSMENT: _assess,
    }
    if target is Phase.ALLOCATION:
        done = await _next_year(runtime, state, scenario)
    elif target is Phase.CLOSED:
        done = {"bots_stopped": await room.stop_bots()}
    elif target is Phase.MRV:
        done = {}
    else:
        done = await steps[target](runtime, state, scenario)
    done = {**mrv_done, **done}
    if target is Phase.TRADING:
        done["bots_started"] = await restart_bots(room)
    previous = state.phase
    state.phase = target
    state.summary = {
        "from": previous.value,
        "to": target.value,
        "compliance_year": state.compliance_year,
        **done,
    }
    return state.summary


async def restart_bots(room: Classroom) -> int:
    """(Re)start the scenario's agents as live bots for the class's year; how many run."""
    await room.stop_bots()
    runtime, state, scenario = room.runtime, room.state, room.scenario
    year = state.compliance_year
    specs = scenario.bot_specs(year, runtime.market.trading_day)
    if not specs:
        return 0
    room.bots = start_bots(
        runtime, specs, scenario.loaded, state.seed, year, scenario.year_days(year)
    )
    return len(specs)


async def _open_trading(
    runtime: MarketRuntime, state: ClassState, scenario: ClassScenario
) -> dict[str, Any]:
    """The year's first trading day: after the day the market stands on, in the year."""
    market = runtime.market
    if runtime.clock is not None:  # a clock runs the days: it will open the next one
        return {"day_opened": None}
    calendar = market.rules.calendar
    first = dt.date(state.compliance_year, 1, 1)
    day = first if calendar.is_trading_day(first) else next_trading_day(calendar, first)
    commands: list[MarketCommand] = []
    if market.trading_day is not None:
        day = max(day, next_trading_day(calendar, market.trading_day))
        if not market.day_closed:
            commands.append(CloseDay(0))
        if not market.day_cleared:
            commands.append(EndOfDay(0))
    await submit_accepted(runtime, [*commands, *opening(day)])
    return {"day_opened": day.isoformat()}


async def _verify(
    runtime: MarketRuntime, state: ClassState, scenario: ClassScenario
) -> dict[str, Any]:
    year = state.compliance_year
    registry = runtime.market.registry
    today = runtime.market.trading_day
    agents = {s.account_id: s for s in scenario.bot_specs(year, today) if s.firm is not None}
    commands: list[MarketCommand] = []
    verified_total = abated_total = recorded = 0
    for firm in scenario.loaded.firms:
        account = firm.account_id
        if registry.verified(AccountId(account), year) is not None:
            continue  # recorded by an earlier, interrupted advance
        most = scenario.max_abatement_t(account, year, today)
        if account in agents:
            actions = year_end_actions(agents[account], runtime, year, scenario.year_days(year))
            wanted = sum(a.qty_t for a in actions if isinstance(a, Abate) and a.year == year)
        else:
            wanted = state.abatement_t.get(account, 0)
        abated = compliance_year.abatement_t(wanted, most)
        state.abatement_t[account] = abated
        verified = compliance_year.verified_emissions_t(
            scenario.baseline_t(account, year, today), abated
        )
        verified_total += verified
        abated_total += abated
        ops = compliance_year.verification_ops(scenario.loaded, firm, year, verified)
        commands += [RegistryCommand(0, op) for op in ops]
        recorded += 1
    acks = await submit_accepted(runtime, commands)
    return {
        "emissions_recorded": recorded,
        "verified_t": verified_total,
        "abated_t": abated_total,
        "true_ups": len(acks) - recorded,
    }


async def _open_surrender(
    runtime: MarketRuntime, state: ClassState, scenario: ClassScenario
) -> dict[str, Any]:
    """Surrender opens; each bot firm surrenders what its agent decides, dated the trading day
    (at the latest the deadline)."""
    year = state.compliance_year
    market = runtime.market
    on = min(market.trading_day or deadline(state, runtime), deadline(state, runtime))
    commands: list[MarketCommand] = []
    quantities: list[int] = []  # tonnes each surrender submits
    for spec in scenario.bot_specs(year, market.trading_day):
        if spec.firm is None:
            continue
        for action in year_end_actions(spec, runtime, year, scenario.year_days(year)):
            if isinstance(action, SurrenderUnits) and action.year == year:
                op_id = f"class:surrender:{spec.account_id}:{year}"
                commands += to_commands(action, spec.account_id, 0, op_id=op_id, on=on)
                quantities.append(sum(qty for _, qty in action.items))
    acks = await runtime.submit_many(commands)
    refused: dict[str, int] = {}
    surrendered = 0
    for ack, qty_t in zip(acks, quantities, strict=True):
        code = ack.outcome.code
        if code is None:
            surrendered += qty_t
        else:
            refused[code] = refused.get(code, 0) + 1
    return {
        "bot_surrenders": len(acks) - sum(refused.values()),
        "bot_surrendered_t": surrendered,
        "refused": refused,
    }


async def _assess(
    runtime: MarketRuntime, state: ClassState, scenario: ClassScenario
) -> dict[str, Any]:
    """Assess every covered entity with verified emissions at the deadline, at the penalty
    reference price (``exchange.compliance_year``, as a simulation does)."""
    year = state.compliance_year
    market = runtime.market
    assessment = compliance_year.assessment(market, year, op_prefix="class:")
    await submit_accepted(runtime, [RegistryCommand(0, op) for op in assessment.ops])
    outcome = compliance_year.YearOutcome.of(compliance_year.records(market.registry, year))
    return {
        "assessed": len(assessment.ops),
        "complied": outcome.complied,
        "shortfall_t": outcome.shortfall_t,
        "total_penalty_fen": outcome.penalty_fen,
        "reference_price_fen": assessment.price.price_fen or 0,
    }


async def _next_year(
    runtime: MarketRuntime, state: ClassState, scenario: ClassScenario
) -> dict[str, Any]:
    """The next compliance year: its allocation and CCER issuance."""
    year = state.compliance_year + 1
    acks = await submit_accepted(runtime, scenario.year_start_commands(year))
    state.compliance_year = year
    state.abatement_t = {}
    state.year_start_day = runtime.market.day_index  # the year's trading days come after
    return {"allocations": len(acks)}
