"""The classroom's operations without a server: finding a class, the abatement rules, the
refusals of a new class, and a phase advance that fails (the market stand-in of conftest)."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from typing import Any, cast

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.classroom import service, setup, store
from exchange.classroom.errors import ClassroomError, Kind, MarketRefusedError
from exchange.classroom.lifecycle import ABATEMENT_PHASES, Phase
from exchange.classroom.phases import advance, submit_accepted
from exchange.classroom.room import Classroom, class_of
from exchange.classroom.setup import ClassScenario
from exchange.classroom.state import ClassState
from exchange.runtime import MarketRuntime
from tests.classroom.conftest import TINY, FakeRuntime, answer, make_room, make_scenario

NO_ENGINE = cast(AsyncEngine, None)  # the steps below refuse before they would write


@pytest.fixture
def saved(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Phase, int, dict[str, int]]]:
    """The states the classroom writes through (phase, year, abatement), instead of a
    database."""
    found: list[tuple[Phase, int, dict[str, int]]] = []

    async def save_class(engine: AsyncEngine, state: ClassState) -> None:
        found.append((state.phase, state.compliance_year, dict(state.abatement_t)))

    monkeypatch.setattr(store, "save_class", save_class)
    return found


def refusal(error: pytest.ExceptionInfo[Any]) -> tuple[str, Kind, dict[str, Any]]:
    return error.value.code, error.value.kind, error.value.details


# ---------------------------------------------------------------------- finding the class


def test_a_market_without_a_class_is_not_a_class(scenario: ClassScenario) -> None:
    with pytest.raises(ClassroomError) as refused:
        class_of(None, "demo")
    assert refusal(refused) == ("NOT_A_CLASS", Kind.NOT_FOUND, {"market_id": "demo"})
    room = make_room(scenario)
    assert class_of(room, "class1") is room


def test_a_stored_class_resolves_its_scenario_once(scenario: ClassScenario) -> None:
    room = Classroom(cast(MarketRuntime, FakeRuntime(scenario)), make_room(scenario).state)
    resolved = room.scenario
    assert resolved is room.scenario
    assert [s.account_id for s in resolved.seats] == [s.account_id for s in scenario.seats]
    assert resolved.firms.keys() == scenario.firms.keys()


# ---------------------------------------------------------------------- abatement


def _most(scenario: ClassScenario, account: str) -> int:
    firm = scenario.firms[account]
    return min(firm.curve.max_t, scenario.baseline_t(account, scenario.loaded.years[0], None))


def test_a_seat_declares_up_to_what_its_firm_can_cut(scenario: ClassScenario) -> None:
    state = make_room(scenario).state
    for seat in scenario.seats:
        most = _most(scenario, seat.account_id)
        assert service.check_abatement(state, scenario, seat.account_id, most, None) == most
        with pytest.raises(ClassroomError) as refused:
            service.check_abatement(state, scenario, seat.account_id, most + 1, None)
        details = {"qty_t": most + 1, "max_t": most}
        assert refusal(refused) == ("ABATEMENT_OVER_MAX", Kind.CONFLICT, details)
    # a seat with F2's profile is capped by its emissions (4000 t), not its curve (5000 t)
    assert {_most(scenario, s.account_id) for s in scenario.seats} <= {10_000, 4_000}


def test_only_a_seat_declares(scenario: ClassScenario) -> None:
    state = make_room(scenario).state
    for account in ("F1", "MM1", ""):
        with pytest.raises(ClassroomError) as refused:
            service.check_abatement(state, scenario, account, 1, None)
        assert refusal(refused) == ("FORBIDDEN", Kind.FORBIDDEN, {"account_id": account})
    state.phase = Phase.CLOSED  # the seat rule comes first
    with pytest.raises(ClassroomError, match="FORBIDDEN"):
        service.check_abatement(state, scenario, "F1", 1, None)


@pytest.mark.parametrize("phase", list(Phase))
def test_abatement_is_declared_before_verification(scenario: ClassScenario, phase: Phase) -> None:
    state = make_room(scenario, phase).state
    seat = scenario.seats[0].account_id
    if phase in ABATEMENT_PHASES:
        assert service.check_abatement(state, scenario, seat, 0, None) > 0
        return
    with pytest.raises(ClassroomError) as refused:
        service.check_abatement(state, scenario, seat, 0, None)
    details = {"phase": phase.value, "expected": ["allocation", "trading"]}
    assert refusal(refused) == ("WRONG_CLASS_PHASE", Kind.CONFLICT, details)


def test_a_declaration_is_stored_with_its_cost(
    scenario: ClassScenario, saved: list[tuple[Phase, int, dict[str, int]]]
) -> None:
    room = make_room(scenario)
    seat = scenario.seats[0].account_id
    declared = asyncio.run(service.declare_abatement(NO_ENGINE, room, seat, 1000))
    assert declared == {
        "account_id": seat,
        "year": 2026,
        "abated_t": 1000,
        "max_t": _most(scenario, seat),
        "cost_fen": scenario.abatement_cost_fen(seat, 1000),
    }
    assert declared["cost_fen"] > 0
    assert saved == [(Phase.TRADING, 2026, {seat: 1000})]
    with pytest.raises(ClassroomError, match="ABATEMENT_OVER_MAX"):
        asyncio.run(service.declare_abatement(NO_ENGINE, room, seat, 10**9))
    assert room.state.abatement_t == {seat: 1000}
    assert len(saved) == 1


# ---------------------------------------------------------------------- a new class


class NoHost:
    """A host the refusals never reach."""

    @property
    def engine(self) -> AsyncEngine:
        raise AssertionError("refused before the database")

    async def create_class_market(self, spec: Any, first_day: dt.date) -> MarketRuntime:
        raise AssertionError("refused before the market")

    def add_class(self, room: Classroom) -> None:
        raise AssertionError("refused before the class")


def test_an_unknown_scenario_is_refused() -> None:
    new = service.NewClass("class9", scenario="no_such_scenario")
    with pytest.raises(ClassroomError) as refused:
        asyncio.run(service.create_class(NoHost(), new))
    code, kind, details = refusal(refused)
    assert (code, kind, details["scenario"]) == ("UNKNOWN_SCENARIO", Kind.INVALID, new.scenario)
    assert "classroom_national" in details["available"]


def test_a_scenario_that_cannot_run_is_refused_with_its_problems() -> None:
    new = service.NewClass("class9", yaml=TINY.replace("baseline_t: 100000", "baseline_t: -1"))
    with pytest.raises(ClassroomError) as refused:
        asyncio.run(service.create_class(NoHost(), new))
    code, kind, details = refusal(refused)
    assert (code, kind, details["scenario"]) == ("INVALID_SCENARIO", Kind.INVALID, "tiny_class")
    assert details["problems"]
    assert all(isinstance(p, str) for p in details["problems"])


def test_a_scenario_past_a_limit_of_its_yaml_is_refused_with_the_limit() -> None:
    deep = "name: deep\nfirms: " + "[" * 100 + "]" * 100 + "\n"
    new = service.NewClass("class9", yaml=deep)
    with pytest.raises(ClassroomError) as refused:
        asyncio.run(service.create_class(NoHost(), new))
    assert refusal(refused) == (
        "INVALID_SCENARIO",
        Kind.INVALID,
        {
            "scenario": "scenario",
            "problems": ["line 2: nested more than 64 deep"],
            "limit": "depth",
            "limit_max": 64,
        },
    )


def test_the_scenario_is_read_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    readers: list[int] = []
    real = setup.read_scenario

    def read_scenario(name: str | None, text: str | None) -> Any:
        readers.append(threading.get_ident())
        return real(name, text)

    monkeypatch.setattr(service, "read_scenario", read_scenario)

    async def read() -> int:
        await service.read_scenario_off_loop(None, TINY)
        return threading.get_ident()

    loop_thread = asyncio.run(read())
    assert len(readers) == 1
    assert readers[0] != loop_thread


def test_a_scenario_not_read_in_time_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def read_scenario(name: str | None, text: str | None) -> Any:
        release.wait()  # the read that does not finish until the test is done with it

    monkeypatch.setattr(service, "read_scenario", read_scenario)

    async def read() -> None:
        try:
            await service.read_scenario_off_loop(None, TINY, timeout_s=0.01)
        finally:
            release.set()  # before asyncio.run waits for the worker thread

    with pytest.raises(ClassroomError) as refused:
        asyncio.run(read())
    code, kind, details = refusal(refused)
    assert (code, kind) == ("INVALID_SCENARIO", Kind.INVALID)
    assert (details["limit"], details["limit_max"]) == ("seconds", 0.01)
    assert details["problems"] == ["yaml: not read within 0.01 s"]


def test_seat_ids_that_clash_with_a_firm_are_refused() -> None:
    clashing = TINY.replace("{id: F1,", "{id: S004,")  # the scenario's 3 seats do not clash...
    new = service.NewClass("class9", yaml=clashing, seats=5)  # ... but a 4th and 5th would
    with pytest.raises(ClassroomError) as refused:
        asyncio.run(service.create_class(NoHost(), new))
    assert refusal(refused) == (
        "INVALID_SCENARIO",
        Kind.INVALID,
        {
            "scenario": "tiny_class",
            "problems": ["seats: account id 'S004' is also a firm's or an agent's"],
        },
    )


# ---------------------------------------------------------------------- advancing


def test_a_closed_class_does_not_advance(
    scenario: ClassScenario, saved: list[tuple[Phase, int, dict[str, int]]]
) -> None:
    room = make_room(scenario, Phase.CLOSED)
    with pytest.raises(ClassroomError) as refused:
        asyncio.run(service.advance_class(NO_ENGINE, room))
    assert refusal(refused) == ("CLASS_CLOSED", Kind.CONFLICT, {})
    assert room.state.phase is Phase.CLOSED
    assert saved == []


def _tried_next_year(scenario: ClassScenario, runtime: FakeRuntime) -> Classroom:
    """A class at assessment, with abatement declared, whose next year's allocation the
    market stand-in answers as told."""
    room = make_room(scenario, Phase.ASSESSMENT, runtime)
    room.state.abatement_t = {"S001": 5}
    return room


def _where_it_was(room: Classroom, runtime: FakeRuntime) -> None:
    assert runtime.submitted  # the next year's allocation was tried
    state = room.state
    assert (state.phase, state.compliance_year, state.abatement_t, state.year_start_day) == (
        Phase.ASSESSMENT,
        2026,
        {"S001": 5},
        0,
    )
    assert not state.lock.locked()


def test_a_stopped_market_leaves_the_class_where_it_was(
    scenario: ClassScenario, saved: list[tuple[Phase, int, dict[str, int]]]
) -> None:
    runtime = FakeRuntime(scenario, RuntimeError("the market stopped"))
    room = _tried_next_year(scenario, runtime)
    with pytest.raises(RuntimeError, match="the market stopped"):
        asyncio.run(service.advance_class(NO_ENGINE, room))
    _where_it_was(room, runtime)
    assert saved == []


def test_a_refusing_market_leaves_the_class_where_it_was(
    scenario: ClassScenario, saved: list[tuple[Phase, int, dict[str, int]]]
) -> None:
    runtime = FakeRuntime(scenario, answer("OP_ID_CONFLICT", op_id="x"))
    room = _tried_next_year(scenario, runtime)
    with pytest.raises(MarketRefusedError) as refused:
        asyncio.run(service.advance_class(NO_ENGINE, room))
    assert refusal(refused) == ("OP_ID_CONFLICT", Kind.REFUSED, {"op_id": "x"})
    _where_it_was(room, runtime)
    assert saved == []


def test_the_next_year_starts_after_assessment(
    scenario: ClassScenario, saved: list[tuple[Phase, int, dict[str, int]]]
) -> None:
    runtime = FakeRuntime(scenario, answer())
    runtime.market.day_index = 4  # four trading days opened so far
    room = make_room(scenario, Phase.ASSESSMENT, runtime)
    room.state.abatement_t = {"S001": 5}
    moved = asyncio.run(service.advance_class(NO_ENGINE, room))
    assert room.state.year_start_day == 4  # the new year's trading days come after them
    allocations = len(scenario.year_start_commands(2027))
    assert moved["phase"] == "allocation"
    assert moved["next_phase"] == "trading"
    assert moved["compliance_year"] == 2027
    assert moved["deadline"] == scenario.loaded.rules.compliance.deadline(2027)
    assert moved["done"] == {
        "from": "assessment",
        "to": "allocation",
        "compliance_year": 2027,
        "allocations": allocations,
    }
    assert moved["last_advance"] == moved["done"]
    assert saved == [(Phase.ALLOCATION, 2027, {})]
    assert len(runtime.submitted) == allocations


def test_the_last_year_closes_the_class(
    saved: list[tuple[Phase, int, dict[str, int]]],
) -> None:
    one_year = make_scenario(TINY.replace("years: 2", "years: 1"))
    room = make_room(one_year, Phase.ASSESSMENT)
    done = asyncio.run(advance(room))
    assert done == {
        "from": "assessment",
        "to": "closed",
        "compliance_year": 2026,
        "bots_stopped": 0,
    }
    assert room.state.phase is Phase.CLOSED


def test_a_refused_set_up_command_is_the_markets_refusal(scenario: ClassScenario) -> None:
    runtime = FakeRuntime(scenario, answer("PRICE_OUTSIDE_BAND", price_fen=1))
    with pytest.raises(MarketRefusedError) as refused:
        asyncio.run(submit_accepted(cast(MarketRuntime, runtime), [object()]))  # type: ignore[list-item]
    assert refusal(refused) == ("PRICE_OUTSIDE_BAND", Kind.REFUSED, {"price_fen": 1})
