"""The instructor console's operations (issue 7): class markets made from scenarios, their
compliance cycle, announcements, the dashboard, results, seats and keys, and the replay.

* ``listScenarios`` (any key): the shipped scenarios a class can be made from
  (``exchange.api.classroom_scenarios``);
* ``createClassMarket`` (exchange-wide operator keys): a market from a scenario with its human
  seats as covered entities, keys for every seat and a new operator key for the class, the
  scenario's bots trading, the first trading day open (``exchange.api.classroom_setup``);
* ``getClassPhase`` (any key), ``advanceClassPhase`` (operators): the compliance cycle
  (``exchange.api.classroom_phases``);
* ``declareAbatement`` (a seat's own key): the abatement a trainee commits to this year,
  subtracted from its verified emissions at verification;
* ``postAnnouncement`` (operators), ``listAnnouncements`` (any key); each new announcement goes
  to the WebSocket channel ``announcements`` (``exchange.api.classroom_replay``);
* ``getClassDashboard`` (operators and observers), ``getClassResults`` (operators, JSON or
  ``?format=csv``) (``exchange.api.classroom_views``);
* ``listSeats``, ``issueSeatKeys`` (operators; ``?format=csv`` for printing);
* ``getReplay``, ``getReplayTimeline`` (operators): the market rebuilt from its journal as of
  a seq (``exchange.replay``, routes in ``exchange.api.classroom_replay``).

Operators are the class's operator keys and exchange-wide operator keys. A market that is not
a class answers the class operations with 404 ``NOT_A_CLASS``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field, model_validator

from exchange.api import classroom_replay, classroom_scenarios
from exchange.api import classroom_views as views
from exchange.api.auth import (
    CurrentPrincipal,
    Role,
    create_key,
    require,
    require_exchange_operator,
)
from exchange.api.classroom_phases import (
    advance,
    deadline,
    next_phase,
    restart_bots,
    submit_accepted,
)
from exchange.api.classroom_setup import (
    MAX_SEATS,
    ClassScenario,
    default_seats,
    draw_seats,
    read_scenario,
)
from exchange.api.classroom_store import (
    ClassState,
    Seat,
    revoke_account_keys,
)
from exchange.api.common import PROBLEMS, MarketId, hub_of, not_a_trading_day
from exchange.api.errors import ApiError
from exchange.api.market_data import last_trades
from exchange.api.markets import check_spec, create_market, opening
from exchange.api.models import Body, Reply
from exchange.runtime import MarketRuntime

if TYPE_CHECKING:
    from exchange.api.app import Hub

router = APIRouter(prefix="/v1", responses=PROBLEMS)
router.include_router(classroom_replay.router)  # announcements and the replay
router.include_router(classroom_scenarios.router)  # the shipped scenarios
M = "/markets/{market_id}"
MAX_YAML_CHARS = 200_000
CSV = "text/csv; charset=utf-8"
Format = Annotated[Literal["json", "csv"], Query()]


# ---------------------------------------------------------------------- bodies and replies


class NewClassMarket(Body):
    market_id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    scenario: Annotated[str | None, Field(pattern=r"^[a-z0-9_-]{1,60}$")] = None  # shipped
    yaml: Annotated[str | None, Field(min_length=1, max_length=MAX_YAML_CHARS)] = None
    seats: Annotated[int | None, Field(ge=1, le=MAX_SEATS)] = None  # default: the scenario's
    seed: Annotated[int | None, Field(ge=0, le=2**63 - 1)] = None  # default: the scenario's
    open_day: Annotated[dt.date | None, Field(strict=False)] = None  # default: its first day

    @model_validator(mode="after")
    def _one_source(self) -> NewClassMarket:
        if (self.scenario is None) == (self.yaml is None):
            raise ValueError("give exactly one of scenario (a shipped name) and yaml")
        return self


class SeatKey(Reply):
    seat: int
    account_id: str
    name: str
    profile: str  # the scenario firm whose profile the seat was given
    key: str | None = None


class BotView(Reply):
    account_id: str
    kind: str


class ClassMarket(Reply):
    market_id: str
    scenario: str
    seats: list[SeatKey]
    operator_key: str
    bots: list[BotView]
    phase: str
    compliance_year: int
    trading_day: dt.date | None


class ClassPhase(Reply):
    market_id: str
    phase: str
    compliance_year: int
    deadline: dt.date
    next_phase: str | None
    last_advance: dict[str, Any]


class PhaseAdvanced(ClassPhase):
    done: dict[str, Any]


class AbatementDeclaration(Body):
    qty_t: Annotated[int, Field(ge=0, le=2**53)]


class AbatementDeclared(Reply):
    account_id: str
    year: int
    abated_t: int
    max_t: int
    cost_fen: int


class Seats(Reply):
    market_id: str
    seats: list[SeatKey]


# ---------------------------------------------------------------------- lookups


def class_of(hub: Hub, market_id: str) -> tuple[MarketRuntime, ClassState, ClassScenario]:
    """The class market's runtime, state and scenario, or 404 (``UNKNOWN_MARKET``,
    ``NOT_A_CLASS``)."""
    runtime = hub.runtime(market_id)
    state = hub.classes.states.get(market_id)
    if state is None:
        raise ApiError(
            404, "NOT_A_CLASS", f"market {market_id!r} is not a class", market_id=market_id
        )
    scenario = hub.classes.scenarios.get(market_id)
    if scenario is None:
        scenario = hub.classes.scenarios[market_id] = ClassScenario.of(state)
    return runtime, state, scenario


def phase_view(
    runtime: MarketRuntime, state: ClassState, scenario: ClassScenario
) -> dict[str, Any]:
    return {
        "market_id": state.market_id,
        "phase": state.phase,
        "compliance_year": state.compliance_year,
        "deadline": deadline(state, runtime),
        "next_phase": next_phase(state, scenario),
        "last_advance": state.summary,
    }


def seat_view(seat: Seat, key: str | None = None) -> dict[str, Any]:
    return {
        "seat": seat.seat,
        "account_id": seat.account_id,
        "name": seat.name,
        "profile": seat.profile,
        "key": key,
    }


async def resume(hub: Hub) -> None:
    """At start-up: the hosted class markets' state, and their bots where they trade."""
    for state in await hub.classes.load(hub.engine, list(hub.markets)):
        if state.phase in ("trading", "verification", "surrender", "assessment"):
            runtime, _, scenario = class_of(hub, state.market_id)
            await restart_bots(hub.bots, runtime, state, scenario)


# ---------------------------------------------------------------------- the class


@router.post(
    "/markets/from-scenario",
    operation_id="createClassMarket",
    status_code=201,
    response_model=ClassMarket,
)
async def create_class_market(
    request: Request, body: NewClassMarket, who: CurrentPrincipal
) -> dict[str, Any]:
    """Create a class market from a scenario (exchange-wide operator keys only): its rules,
    firms and bots, ``seats`` trainees as covered entities with keys, a new operator key for
    the class, and its first trading day open."""
    require_exchange_operator(who)
    hub = hub_of(request)
    loaded, text = read_scenario(body.scenario, body.yaml)
    seed = loaded.spec.seed if body.seed is None else body.seed
    count = body.seats or default_seats(loaded)
    seats = draw_seats(loaded, count, seed)
    taken = {f.account_id for f in loaded.firms} | {a.account_id for a in loaded.agents}
    clash = sorted(s.account_id for s in seats if s.account_id in taken)
    if clash:
        problems = [f"seats: account id {a!r} is also a firm's or an agent's" for a in clash]
        raise ApiError(
            422, "INVALID_SCENARIO", "seat ids clash", scenario=loaded.name, problems=problems
        )
    scenario = ClassScenario.make(loaded, seats, seed)
    spec = scenario.market_spec(body.market_id)
    rules = check_spec(spec)
    year = loaded.years[0]
    day = body.open_day or scenario.year_days(year)[0]
    if not rules.calendar.is_trading_day(day):
        raise not_a_trading_day(day)
    runtime = await create_market(hub, spec)
    await submit_accepted(runtime, [*scenario.setup_commands(), *opening(day)])
    state = ClassState(body.market_id, loaded.name, text, seed, "trading", year, seats)
    await hub.classes.add(hub.engine, state)
    hub.classes.scenarios[body.market_id] = scenario
    keys = [
        await create_key(hub.engine, body.market_id, Role.PARTICIPANT, s.account_id) for s in seats
    ]
    operator_key = await create_key(hub.engine, body.market_id, Role.OPERATOR)
    await restart_bots(hub.bots, runtime, state, scenario)
    return {
        "market_id": body.market_id,
        "scenario": loaded.name,
        "seats": [seat_view(s, k) for s, k in zip(seats, keys, strict=True)],
        "operator_key": operator_key,
        "bots": [{"account_id": a.account_id, "kind": a.kind} for a in loaded.agents],
        "phase": state.phase,
        "compliance_year": year,
        "trading_day": runtime.market.trading_day,
    }


@router.get(M + "/class/phase", operation_id="getClassPhase", response_model=ClassPhase)
async def get_class_phase(
    request: Request, market_id: MarketId, who: CurrentPrincipal
) -> dict[str, Any]:
    """Where the class's compliance cycle stands, its surrender deadline and what follows."""
    return phase_view(*class_of(hub_of(request), market_id))


@router.post(
    M + "/class/phase/advance", operation_id="advanceClassPhase", response_model=PhaseAdvanced
)
async def advance_class_phase(
    request: Request, market_id: MarketId, who: CurrentPrincipal
) -> dict[str, Any]:
    """Move the class to its next phase and do what that implies (operators); ``done`` counts
    it (emissions recorded, surrenders, assessments and penalties, ...)."""
    require(who, Role.OPERATOR)
    hub = hub_of(request)
    runtime, state, scenario = class_of(hub, market_id)
    async with state.lock:
        before = (state.phase, state.compliance_year, dict(state.abatement_t))
        try:
            done = await advance(hub.bots, runtime, state, scenario)
        except BaseException:
            state.phase, state.compliance_year, state.abatement_t = before
            raise
        await hub.classes.save(hub.engine, state)
    return {**phase_view(runtime, state, scenario), "done": done}


@router.post(
    M + "/class/abatement",
    operation_id="declareAbatement",
    status_code=201,
    response_model=AbatementDeclared,
)
async def declare_abatement(
    request: Request, market_id: MarketId, body: AbatementDeclaration, who: CurrentPrincipal
) -> dict[str, Any]:
    """Declare the tonnes a seat cuts this year (its own key; until verification): they are
    taken off its verified emissions, at the cost its abatement curve gives."""
    require(who, Role.PARTICIPANT)
    hub = hub_of(request)
    runtime, state, scenario = class_of(hub, market_id)
    account = who.account_id or ""
    if state.seat_of(account) is None:
        raise ApiError(403, "FORBIDDEN", "only a seat declares abatement", account_id=account)
    async with state.lock:
        if state.phase not in ("allocation", "trading"):
            raise ApiError(
                409,
                "WRONG_CLASS_PHASE",
                "abatement is declared before verification",
                phase=state.phase,
                expected=["allocation", "trading"],
            )
        year = state.compliance_year
        most = scenario.max_abatement_t(account, year, runtime.market.trading_day)
        if body.qty_t > most:
            raise ApiError(
                409,
                "ABATEMENT_OVER_MAX",
                "more than the firm can cut",
                qty_t=body.qty_t,
                max_t=most,
            )
        state.abatement_t[account] = body.qty_t
        await hub.classes.save(hub.engine, state)
    cost = scenario.abatement_cost_fen(account, body.qty_t)
    return {
        "account_id": account,
        "year": year,
        "abated_t": body.qty_t,
        "max_t": most,
        "cost_fen": cost,
    }


# ---------------------------------------------------------------------- the dashboard, results


@router.get(M + "/class/dashboard", operation_id="getClassDashboard")
async def get_class_dashboard(
    request: Request, market_id: MarketId, who: CurrentPrincipal
) -> dict[str, Any]:
    """Prices and today's activity per instrument, the seats' participation today, and every
    covered entity's compliance position, best first (operators and observers)."""
    require(who, Role.OPERATOR, Role.OBSERVER)
    hub = hub_of(request)
    runtime, state, scenario = class_of(hub, market_id)
    market = runtime.market
    last = await last_trades(hub.engine, runtime)
    trades_today, placed = await views.today_activity(hub.engine, market)
    traded = await views.traded_by_account(hub.engine, market_id)
    prices = views.marks(market, last)
    return {
        "market_id": market_id,
        "phase": state.phase,
        "compliance_year": state.compliance_year,
        "trading_day": market.trading_day,
        "session": market.session,
        "last_seq": runtime.last_seq,
        "instruments": views.instruments(market, last),
        "trades_today": trades_today,
        "participation": views.participation(state, market, placed),
        "ranking": views.ranking(market, state, scenario, traded, prices),
    }


@router.get(
    M + "/class/results",
    operation_id="getClassResults",
    responses={200: {"content": {"text/csv": {}}}},
)
async def get_class_results(
    request: Request, market_id: MarketId, who: CurrentPrincipal, format: Format = "json"
) -> Any:
    """The compliance year's results per account (operators): outcome, penalty, trades,
    volume, cash change, abatement and its cost where known; ``?format=csv`` as CSV."""
    require(who, Role.OPERATOR)
    hub = hub_of(request)
    runtime, state, scenario = class_of(hub, market_id)
    market = runtime.market
    traded = await views.traded_by_account(hub.engine, market_id)
    prices = views.marks(market, await last_trades(hub.engine, runtime))
    rows = views.results(market, state, scenario, traded, prices)
    if format == "csv":
        return Response(views.as_csv(rows, views.RESULT_COLUMNS), media_type=CSV)
    return {"market_id": market_id, "compliance_year": state.compliance_year, "results": rows}


# ---------------------------------------------------------------------- seats and keys


@router.get(M + "/class/seats", operation_id="listSeats", response_model=Seats)
async def list_seats(
    request: Request, market_id: MarketId, who: CurrentPrincipal
) -> dict[str, Any]:
    """The class's seats and their accounts (operators)."""
    require(who, Role.OPERATOR)
    _, state, _ = class_of(hub_of(request), market_id)
    return {"market_id": market_id, "seats": [seat_view(s) for s in state.seats]}


@router.post(
    M + "/class/seats/keys",
    operation_id="issueSeatKeys",
    status_code=201,
    response_model=Seats,
    responses={201: {"content": {"text/csv": {}}}},
)
async def issue_seat_keys(
    request: Request, market_id: MarketId, who: CurrentPrincipal, format: Format = "json"
) -> Any:
    """A fresh key for every seat, the seats' old keys revoked (operators); ``?format=csv``
    for printing."""
    require(who, Role.OPERATOR)
    hub = hub_of(request)
    _, state, _ = class_of(hub, market_id)
    await revoke_account_keys(hub.engine, market_id, [s.account_id for s in state.seats])
    rows = [
        seat_view(s, await create_key(hub.engine, market_id, Role.PARTICIPANT, s.account_id))
        for s in state.seats
    ]
    if format == "csv":
        columns = ("seat", "account_id", "name", "profile", "key")
        return Response(views.as_csv(rows, columns), status_code=201, media_type=CSV)
    return {"market_id": market_id, "seats": rows}
