"""A seat's own view of its class (``getMyClassSeat``) and the cost of an abatement it weighs
(``quoteAbatement``).

The class: its phase, its clock (not started, running, paused, stopped: the gateway's facts,
``ClockFacts``), the trading day n of the N its compliance year has, what comes next, and the
surrender window with its deadline in class trading days. The seat: its firm's emissions,
allocation, what it holds for the year and whether that leaves it long or short, its abatement
and, once assessed, its result. docs/classroom.md defines every number; in short:

* trading day n: the trading days the market has opened since the compliance year began
  (``ClassState.year_start_day``), N: the scenario's trading days of the year;
* the surrender deadline: the end of class trading day N + the scenario's ``surrender_days``;
* projected emissions: the verified emissions once recorded, else the year's baseline (with
  the emission shocks so far) less the abatement declared, as verification will record them;
* position: the units a surrender could use now (``Registry.usable_t``) less what is still
  owed (projected emissions less what was surrendered): long above 0, short below;
* compliance cost, after assessment: net spend on units + abatement cost + penalty
  (``exchange.compliance_year.compliance_cost_fen``), as the dashboard ranks it and the
  results report it (``views.ranking_row``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from exchange import compliance_year
from exchange.classroom.errors import ClassroomError
from exchange.classroom.lifecycle import ABATEMENT_PHASES, Phase
from exchange.classroom.names import PROVINCES_ZH, SECTORS_ZH
from exchange.classroom.phases import next_phase
from exchange.classroom.room import Classroom
from exchange.classroom.views import marks, ranking_row
from exchange.db.trade_tape import last_trades
from exchange.db.trading_activity import traded_by_account
from registry_sim.model import AccountId
from settlement.reference import penalty_price


class ClockState(StrEnum):
    NOT_STARTED = "not_started"  # no clock has run on the market yet
    RUNNING = "running"
    PAUSED = "paused"  # time stands still and trading is halted
    STOPPED = "stopped"  # started once, stopped since (the day may be stepped by hand)


@dataclass(frozen=True, slots=True)
class ClockFacts:
    """The class's clock as the gateway runs it."""

    state: ClockState
    mode: str | None = None
    speed: float | None = None  # an accelerated clock's


NOT_STARTED = ClockFacts(ClockState.NOT_STARTED)


# ---------------------------------------------------------------------- the class


def class_days(room: Classroom) -> dict[str, Any]:
    """The class's trading day n of N in its compliance year, and its surrender deadline in
    class trading days (``deadline_day``) with the days left to it after today."""
    state, scenario, market = room.state, room.scenario, room.runtime.market
    days = len(scenario.year_days(state.compliance_year))
    number = max(0, market.day_index - state.year_start_day)
    deadline_day = days + scenario.loaded.spec.calendar.surrender_days
    return {
        "day_number": number,
        "days_in_year": days,
        "days_left": max(0, days - number),
        "deadline_day": deadline_day,
        "deadline_days_left": max(0, deadline_day - number),
    }


def what_next(room: Classroom, clock: ClockFacts, days: dict[str, Any]) -> dict[str, Any]:
    """What comes next for the trainee: the class's start (the instructor starts the clock),
    the next trading day of the year, the next phase (the instructor moves the class on), or
    nothing (closed)."""
    state, market = room.state, room.runtime.market
    target = next_phase(state, room.scenario)
    if state.phase is Phase.CLOSED or target is None:
        return {"kind": "end", "day_number": None, "phase": None}
    if clock.state is ClockState.NOT_STARTED and market.trading_day is None:
        return {"kind": "start", "day_number": None, "phase": None}
    trading = state.phase in (Phase.ALLOCATION, Phase.TRADING)
    if trading and days["day_number"] < days["days_in_year"]:
        return {"kind": "trading_day", "day_number": days["day_number"] + 1, "phase": None}
    return {"kind": "phase", "day_number": None, "phase": target.value}


def class_view(room: Classroom, clock: ClockFacts) -> dict[str, Any]:
    """Where the class stands, for any key of it."""
    state, market = room.state, room.runtime.market
    target = next_phase(state, room.scenario)
    days = class_days(room)
    return {
        "market_id": state.market_id,
        "phase": state.phase.value,
        "compliance_year": state.compliance_year,
        "next_phase": None if target is None else target.value,
        "clock": {"state": clock.state.value, "mode": clock.mode, "speed": clock.speed},
        "trading_day": market.trading_day,
        "session": market.session.value,
        **days,
        "next": what_next(room, clock, days),
        "surrender_open": state.phase is Phase.SURRENDER,
        "abatement_open": state.phase in ABATEMENT_PHASES,
    }


# ---------------------------------------------------------------------- the seat


def firm_view(room: Classroom, account_id: str) -> dict[str, Any] | None:
    """The firm of ``account_id`` this compliance year (None: no firm of the class's)."""
    state, scenario, market = room.state, room.scenario, room.runtime.market
    plan = scenario.firms.get(account_id)
    if plan is None:
        return None
    account = AccountId(account_id)
    registry = market.registry
    year = state.compliance_year
    today = market.trading_day
    on = today or market.rules.compliance.deadline(year)
    seat = state.seat_of(account_id)
    baseline = scenario.baseline_t(account_id, year, scenario.seen_on(year, today))
    abated = state.abatement_t.get(account_id, 0)
    verified = registry.verified(account, year)
    projected = (
        compliance_year.verified_emissions_t(baseline, abated) if verified is None else verified
    )
    projection = registry.compliance_projection(account, year, on, expected_obligation_t=projected)
    usable = registry.usable_t(account, year, on, projected)
    remaining = projection.remaining_t or 0
    curve = plan.curve
    return {
        "account_id": account_id,
        "seat": None if seat is None else seat.seat,
        "name": seat.name if seat else account_id,
        "profile": seat.profile if seat else account_id,
        "sector": plan.sector,
        "province": plan.province,
        "sector_zh": SECTORS_ZH.get(plan.sector, plan.sector),
        "province_zh": PROVINCES_ZH.get(plan.province, plan.province),
        "gas_fired": plan.gas_fired,
        "gas_top_up": plan.gas_fired
        and compliance_year.tops_up_gas_fired(scenario.loaded, market.rules.allocation),
        "year": year,
        "baseline_t": baseline,
        "projected_t": projected,
        "verified": verified is not None,
        "allocation_t": scenario.allocation_t(registry, account_id, year),
        "surrendered_t": projection.surrendered_t,
        "usable_t": usable,
        "position_t": usable - remaining,
        "shortfall_t": projection.shortfall_t,
        "abatement": {
            "open": state.phase in ABATEMENT_PHASES,
            "declared_t": abated,
            "max_t": scenario.max_abatement_t(account_id, year, scenario.seen_on(year, today)),
            "cost_fen": curve.cost_fen(abated),
            "marginal_cost_fen": round(curve.marginal_fen(abated)),
        },
    }


async def result_view(engine: AsyncEngine, room: Classroom, account_id: str) -> dict[str, Any]:
    """The seat's assessed year: outcome, shortfall, penalty, and its compliance cost as the
    dashboard ranks it (net spend on units + abatement cost + penalty), with its trading P&L
    at the last prices beside it."""
    state, scenario, runtime = room.state, room.scenario, room.runtime
    market = runtime.market
    record = market.registry.record(AccountId(account_id), state.compliance_year)
    assert record is not None
    traded = await traded_by_account(engine, room.market_id, account_id)
    prices = marks(market, await last_trades(engine, runtime))
    price = penalty_price(market, state.compliance_year).price_fen
    row = ranking_row(
        market, state, scenario, AccountId(account_id), traded.get(account_id), prices, price
    )
    return {
        "complied": record.shortfall_t == 0,
        "shortfall_t": record.shortfall_t,
        "penalty_fen": record.penalty_fen,
        "reference_price_fen": record.reference_price_fen,
        "abatement_cost_fen": row["abatement_cost_fen"],
        "net_spend_fen": traded[account_id].net_spend_fen() if account_id in traded else 0,
        "pnl_fen": row["pnl_fen"],
        "cost_fen": row["cost_fen"],
    }


async def my_class(
    engine: AsyncEngine, room: Classroom, clock: ClockFacts, account_id: str | None
) -> dict[str, Any]:
    """``ClassSeatView``: the class (``class_view``) and, for a firm's account, its firm
    (``firm_view``) with its result once assessed."""
    firm = None if account_id is None else firm_view(room, account_id)
    if firm is not None:
        year = room.state.compliance_year
        assessed = room.runtime.market.registry.record(AccountId(firm["account_id"]), year)
        firm["result"] = (
            None if assessed is None else await result_view(engine, room, firm["account_id"])
        )
    return {**class_view(room, clock), "seat": firm}


# ---------------------------------------------------------------------- abatement


def abatement_quote(room: Classroom, account_id: str, qty_t: int) -> dict[str, Any]:
    """What cutting ``qty_t`` tonnes this year would cost the seat, from its firm's curve:
    the total, the average and the marginal tonne's cost; more than the firm can cut is
    ``ABATEMENT_OVER_MAX``, as declaring it would be. Only a seat asks (``FORBIDDEN``)."""
    state, scenario = room.state, room.scenario
    if state.seat_of(account_id) is None:
        raise ClassroomError("FORBIDDEN", "only a seat weighs abatement", account_id=account_id)
    year = state.compliance_year
    most = scenario.max_abatement_t(
        account_id, year, scenario.seen_on(year, room.runtime.market.trading_day)
    )
    if qty_t > most:
        raise ClassroomError(
            "ABATEMENT_OVER_MAX", "more than the firm can cut", qty_t=qty_t, max_t=most
        )
    curve = scenario.firms[account_id].curve
    cost = curve.cost_fen(qty_t)
    return {
        "account_id": account_id,
        "year": year,
        "qty_t": qty_t,
        "cost_fen": cost,
        "average_fen": 0 if qty_t == 0 else (2 * cost + qty_t) // (2 * qty_t),  # rounded half up
        "marginal_cost_fen": round(curve.marginal_fen(qty_t)),
        "max_t": most,
        "declared_t": state.abatement_t.get(account_id, 0),
        "open": state.phase in ABATEMENT_PHASES,
    }
