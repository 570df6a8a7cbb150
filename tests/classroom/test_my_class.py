"""A seat's own view of its class (exchange.classroom.my_class) over a real market without a
server: closed until its first day opens, trading day n of N and what comes next, the
surrender deadline in class trading days, the seat's firm in numbers, and abatement quotes."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, cast

import pytest

from exchange.classroom.errors import ClassroomError
from exchange.classroom.lifecycle import Phase
from exchange.classroom.my_class import (
    NOT_STARTED,
    ClockFacts,
    ClockState,
    abatement_quote,
    class_view,
    firm_view,
)
from exchange.classroom.phases import advance
from exchange.classroom.room import Classroom
from exchange.classroom.setup import ClassScenario
from exchange.runtime import MarketRuntime
from exchange.sessions import opening
from matching.types import OrderType, Side
from registry_sim.model import AccountId
from registry_sim.rules import BP
from settlement import Market, MarketCommand
from settlement.commands import CloseDay, EndOfDay, PlaceOrder
from tests.classroom.conftest import MarketNow, make_state

RUNNING = ClockFacts(ClockState.RUNNING, "accelerated", 36.0)
SHARE_BP = 9000  # TINY's fixed allocation share


def submit(runtime: MarketNow, commands: list[MarketCommand]) -> list[Any]:
    acks = asyncio.run(runtime.submit_many(commands))
    assert [a.outcome.code for a in acks] == [None] * len(acks), [a.outcome for a in acks]
    return acks


def new_class(scenario: ClassScenario) -> Classroom:
    """A class as ``createClassMarket`` leaves it: set up, no trading day open."""
    runtime = MarketNow(Market(scenario.market_spec("class1")))
    submit(runtime, scenario.setup_commands())
    return Classroom(cast(MarketRuntime, runtime), make_state(scenario), scenario)


def next_day(room: Classroom) -> dt.date:
    """Close the open day (if any) and open the calendar's next one, in continuous trading."""
    runtime = cast(MarketNow, room.runtime)
    market = runtime.market
    days = room.scenario.year_days(room.state.compliance_year)
    if market.trading_day is None:
        day = days[0]
    else:
        submit(runtime, [CloseDay(0), EndOfDay(0)])
        later = [d for d in room.scenario.schedule[-1] + days if d > market.trading_day]
        day = min(later) if later else market.trading_day + dt.timedelta(days=1)
        while not market.rules.calendar.is_trading_day(day):
            day += dt.timedelta(days=1)
    submit(runtime, opening(day))
    return day


def test_a_new_class_is_closed_until_its_first_day_opens(scenario: ClassScenario) -> None:
    room = new_class(scenario)
    view = class_view(room, NOT_STARTED)
    assert view == {
        "market_id": "class1",
        "phase": "trading",
        "compliance_year": 2026,
        "next_phase": "verification",
        "clock": {"state": "not_started", "mode": None, "speed": None},
        "trading_day": None,
        "session": "closed",
        "day_number": 0,
        "days_in_year": 3,
        "days_left": 3,
        "deadline_day": 5,  # the year's 3 trading days and the scenario's default 2
        "deadline_days_left": 5,
        "next": {"kind": "start", "day_number": None, "phase": None},
        "surrender_open": False,
        "abatement_open": True,
    }
    seat = AccountId(scenario.seats[0].account_id)
    order = PlaceOrder(0, seat, "CEA2026", Side.BUY, OrderType.LIMIT, 100, 8000)
    (ack,) = asyncio.run(cast(MarketNow, room.runtime).submit_many([order]))
    assert ack.outcome.code == "INSTRUMENT_NOT_OPEN"


def test_trading_day_n_of_n_and_what_comes_next(scenario: ClassScenario) -> None:
    room = new_class(scenario)
    first = next_day(room)
    assert first == scenario.year_days(2026)[0]
    view = class_view(room, RUNNING)
    assert view["clock"] == {"state": "running", "mode": "accelerated", "speed": 36.0}
    assert (view["trading_day"], view["session"]) == (first, "continuous")
    assert (view["day_number"], view["days_left"], view["deadline_days_left"]) == (1, 2, 4)
    assert view["next"] == {"kind": "trading_day", "day_number": 2, "phase": None}
    next_day(room)
    next_day(room)
    last = class_view(room, RUNNING)
    assert (last["day_number"], last["days_left"], last["deadline_days_left"]) == (3, 0, 2)
    assert last["next"] == {"kind": "phase", "day_number": None, "phase": "verification"}
    next_day(room)  # the clock runs on past the year's days
    after = class_view(room, ClockFacts(ClockState.PAUSED, "accelerated", 36.0))
    assert (after["day_number"], after["days_left"], after["deadline_days_left"]) == (4, 0, 1)
    assert after["clock"]["state"] == "paused"
    room.state.phase = Phase.SURRENDER
    surrender = class_view(room, RUNNING)
    assert (surrender["surrender_open"], surrender["abatement_open"]) == (True, False)
    assert surrender["next"] == {"kind": "phase", "day_number": None, "phase": "assessment"}
    room.state.phase = Phase.CLOSED
    assert class_view(room, RUNNING)["next"]["kind"] == "end"


def test_the_seat_s_firm_in_numbers(scenario: ClassScenario) -> None:
    room = new_class(scenario)
    next_day(room)
    seat = scenario.seats[0]
    plan = scenario.firms[seat.account_id]
    baseline = plan.baseline_t  # TINY schedules no emission shock
    allocation = baseline * SHARE_BP // BP
    most = min(plan.curve.max_t, baseline)
    firm = firm_view(room, seat.account_id)
    assert firm == {
        "account_id": seat.account_id,
        "seat": 1,
        "name": seat.name,
        "profile": seat.profile,
        "sector": plan.sector,
        "province": plan.province,
        "sector_zh": "水泥",  # F2: cement in Hubei
        "province_zh": "湖北",
        "gas_fired": False,
        "gas_top_up": False,  # TINY allocates fixed amounts: no true-up
        "year": 2026,
        "baseline_t": baseline,
        "projected_t": baseline,
        "verified": False,
        "allocation_t": allocation,
        "surrendered_t": 0,
        "usable_t": allocation,  # no CCER, no other vintage
        "position_t": allocation - baseline,  # short: the allocation is 90 % of it
        "shortfall_t": baseline - allocation,
        "abatement": {
            "open": True,
            "declared_t": 0,
            "max_t": most,
            "cost_fen": 0,
            "marginal_cost_fen": plan.curve.intercept_fen,
        },
    }
    cut = most // 2
    room.state.abatement_t[seat.account_id] = cut
    declared = firm_view(room, seat.account_id)
    assert declared is not None
    assert (declared["projected_t"], declared["position_t"]) == (
        baseline - cut,
        allocation - baseline + cut,
    )
    assert declared["abatement"]["cost_fen"] == plan.curve.cost_fen(cut)
    assert declared["abatement"]["marginal_cost_fen"] == round(plan.curve.marginal_fen(cut))

    asyncio.run(advance(room))  # verification records the emissions less the abatement
    verified = firm_view(room, seat.account_id)
    assert verified is not None
    assert (verified["verified"], verified["projected_t"]) == (True, baseline - cut)
    assert verified["abatement"]["open"] is False
    assert firm_view(room, "NOBODY") is None  # no firm of the class's


def test_an_abatement_quote_is_the_curve_s(scenario: ClassScenario) -> None:
    room = new_class(scenario)
    seat = scenario.seats[0].account_id
    curve = scenario.firms[seat].curve
    most = min(curve.max_t, scenario.firms[seat].baseline_t)
    quote = abatement_quote(room, seat, 300)
    cost = curve.cost_fen(300)
    assert quote == {
        "account_id": seat,
        "year": 2026,
        "qty_t": 300,
        "cost_fen": cost,
        "average_fen": (2 * cost + 300) // 600,
        "marginal_cost_fen": round(curve.marginal_fen(300)),
        "max_t": most,
        "declared_t": 0,
        "open": True,
    }
    assert abatement_quote(room, seat, 0)["average_fen"] == 0
    with pytest.raises(ClassroomError) as over:
        abatement_quote(room, seat, most + 1)
    assert (over.value.code, over.value.details) == (
        "ABATEMENT_OVER_MAX",
        {"qty_t": most + 1, "max_t": most},
    )
    with pytest.raises(ClassroomError) as bot_firm:
        abatement_quote(room, "F1", 1)
    assert bot_firm.value.code == "FORBIDDEN"


def test_the_next_year_counts_its_own_trading_days(scenario: ClassScenario) -> None:
    room = new_class(scenario)
    next_day(room)
    next_day(room)
    room.state.phase = Phase.ASSESSMENT
    asyncio.run(advance(room))  # the next year's allocation
    assert (room.state.compliance_year, room.state.year_start_day) == (2027, 2)
    view = class_view(room, RUNNING)
    assert (view["phase"], view["day_number"], view["days_left"]) == ("allocation", 0, 3)
    assert view["next"] == {"kind": "trading_day", "day_number": 1, "phase": None}
    next_day(room)
    assert class_view(room, RUNNING)["day_number"] == 1
    seat = scenario.seats[0].account_id
    firm = firm_view(room, seat)
    assert firm is not None
    baseline = scenario.baseline_t(seat, 2027, None)
    assert (firm["year"], firm["allocation_t"]) == (2027, baseline * SHARE_BP // BP)
