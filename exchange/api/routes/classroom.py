"""The instructor console's operations (issue 7): class markets made from scenarios, their
compliance cycle, announcements, the dashboard, results, seats and keys, and the replay.

* ``listScenarios`` (any key): the shipped scenarios a class can be made from
  (``exchange.classroom.scenarios``);
* ``createClassMarket`` (exchange-wide operator keys): a market from a scenario with its human
  seats as covered entities, keys for every seat and a new operator key for the class, the
  scenario's bots; closed until the instructor starts its clock, which opens its first trading
  day (``exchange.classroom.service``);
* ``getClassPhase`` (any key), ``advanceClassPhase`` (operators): the compliance cycle
  (``exchange.classroom.lifecycle``, ``exchange.classroom.phases``);
* ``getMyClassSeat`` (any key; a seat's own firm, an operator's any account's): the class's
  clock, trading day n of N, what comes next, the surrender window, and the seat's firm
  (``exchange.classroom.my_class``); ``quoteAbatement`` (a seat's key): what an abatement
  would cost;
* ``declareAbatement`` (a seat's own key): the abatement a trainee commits to this year,
  subtracted from its verified emissions at verification;
* ``postAnnouncement`` (operators), ``listAnnouncements`` (any key); each new announcement goes
  to the WebSocket channel ``announcements`` (``exchange.api.routes.replay``);
* ``getClassDashboard`` (operators and observers), ``getClassResults`` (operators, JSON in fen
  or ``?format=csv`` in yuan, ``&lang=zh-CN|en``) (``exchange.classroom.views``,
  ``exchange.classroom.debrief``);
* ``listSeats``, ``issueSeatKeys`` (operators; ``?format=csv`` for printing);
* ``getReplay``, ``getReplayTimeline`` (operators): the market rebuilt from its journal as of
  a seq (``exchange.replay``, routes in ``exchange.api.routes.replay``).

Operators are the class's operator keys and exchange-wide operator keys. A market that is not
a class answers the class operations with 404 ``NOT_A_CLASS``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import Field, model_validator

from exchange.api.auth import may_see_account, require, require_exchange_operator
from exchange.api.clock_driver import ClockDriver
from exchange.api.common import PROBLEMS, known_account
from exchange.api.deps import CurrentPrincipal, HubDep, MarketId
from exchange.api.hub import Hub
from exchange.api.limits import body_max_bytes
from exchange.api.models import Body, Reply
from exchange.classroom import debrief, mrv_phase, my_class, service, store, views
from exchange.classroom.my_class import NOT_STARTED, ClockFacts, ClockState
from exchange.classroom.room import Classroom, class_of
from exchange.classroom.setup import MAX_SEATS
from exchange.clock import ClockMode
from exchange.keys import Principal, Role
from exchange.sim.scenario import SCENARIO_YAML_LIMITS

router = APIRouter(prefix="/v1", tags=["classroom"], responses=PROBLEMS)
M = "/markets/{market_id}"
MAX_YAML_CHARS = SCENARIO_YAML_LIMITS.chars_max
# The scenario's YAML travels inside a JSON string: every character escaped (\uXXXX, six
# bytes) still fits, with room for the other members.
SCENARIO_BODY_MAX_BYTES = 6 * MAX_YAML_CHARS + 64 * 1024
CSV = "text/csv; charset=utf-8"
Format = Annotated[Literal["json", "csv"], Query()]
Language = Annotated[Literal["zh-CN", "en"] | None, Query()]  # None: the rule set's


# ---------------------------------------------------------------------- bodies and replies


class NewClassMarket(Body):
    market_id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    scenario: Annotated[str | None, Field(pattern=r"^[a-z0-9_-]{1,60}$")] = None  # shipped
    yaml: Annotated[str | None, Field(min_length=1, max_length=MAX_YAML_CHARS)] = None
    seats: Annotated[int | None, Field(ge=1, le=MAX_SEATS)] = None  # default: the scenario's
    seed: Annotated[int | None, Field(ge=0, le=2**63 - 1)] = None  # default: the scenario's
    open_day: Annotated[dt.date | None, Field(strict=False)] = None  # default: its first day
    # The first n seats are gas-fired (燃气机组), the others not; default: as their profiles.
    gas_fired_seats: Annotated[int | None, Field(ge=0, le=MAX_SEATS)] = None
    # The MRV phase before verification, its seats verified by the instructor or the trainees
    # (each seat by the next); default: none.
    mrv: Literal["instructor", "trainees"] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> NewClassMarket:
        if (self.scenario is None) == (self.yaml is None):
            raise ValueError("give exactly one of scenario (a shipped name) and yaml")
        return self


class SeatKey(Reply):
    seat: int
    account_id: str
    name: str  # in English
    name_zh: str  # in Chinese
    profile: str  # the scenario firm whose profile the seat was given
    gas_fired: bool  # its units are gas-fired (燃气机组)
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
    mrv: str | None  # the MRV phase's verifiers ("instructor", "trainees"); None: no MRV phase
    trading_day: dt.date | None  # None: closed until the clock (or the instructor) opens it
    first_day: dt.date  # the trading day the class starts with


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


class ClassClock(Reply):
    state: Literal["not_started", "running", "paused", "stopped"]
    mode: str | None  # a running or paused clock's
    speed: float | None  # an accelerated clock's


class ClassNext(Reply):
    # start: the instructor starts the class's clock; trading_day: the year's next trading day
    # (day_number); phase: the instructor moves the class to ``phase``; end: nothing follows
    kind: Literal["start", "trading_day", "phase", "end"]
    day_number: int | None
    phase: str | None


class SeatAbatement(Reply):
    open: bool  # declared until verification (allocation and trading phases)
    declared_t: int
    max_t: int  # the most the firm can cut this year
    cost_fen: int  # of the declared tonnes, from the firm's curve
    marginal_cost_fen: int  # the last declared tonne's (the first's when none)


class SeatResult(Reply):
    complied: bool
    shortfall_t: int
    penalty_fen: int
    reference_price_fen: int | None
    abatement_cost_fen: int
    net_spend_fen: int  # units bought less units sold, fees included
    pnl_fen: int  # trading P&L at the last prices
    cost_fen: int  # the compliance cost: net spend + abatement cost + penalty


class SeatFirm(Reply):
    account_id: str
    seat: int | None  # None: a firm of the scenario's, not a seat
    name: str
    profile: str
    sector: str
    province: str
    sector_zh: str  # in Chinese (exchange.classroom.names), else as the scenario names it
    province_zh: str
    gas_fired: bool  # its units are gas-fired (燃气机组)
    # ... and verification's true-up tops it up to its verified emissions (a benchmark
    # allocation under rules with the gas top-up)
    gas_top_up: bool
    year: int
    baseline_t: int  # this year's emissions before abatement, the shocks so far
    projected_t: int  # verified, else baseline less the abatement declared
    verified: bool
    allocation_t: int  # allocated for the year so far
    surrendered_t: int
    usable_t: int  # available units a surrender for the year could use now
    position_t: int  # usable - (projected - surrendered): long above 0, short below
    shortfall_t: int | None  # the compliance projection's, as the compliance panel shows it
    abatement: SeatAbatement
    result: SeatResult | None  # once the year is assessed


class ClassSeatView(Reply):
    market_id: str
    phase: str
    compliance_year: int
    next_phase: str | None
    clock: ClassClock
    trading_day: dt.date | None
    session: str
    day_number: int  # trading days opened in the compliance year (0: none yet)
    days_in_year: int  # the scenario's trading days of the year
    days_left: int  # of those, after today
    deadline_day: int  # the surrender deadline: the end of this class trading day
    deadline_days_left: int  # class trading days after today up to the deadline
    next: ClassNext
    surrender_open: bool  # the surrender phase
    abatement_open: bool
    seat: SeatFirm | None  # None: no key's firm (an observer, an operator without account_id)


class AbatementQuote(Reply):
    account_id: str
    year: int
    qty_t: int
    cost_fen: int
    average_fen: int  # per tonne, rounded
    marginal_cost_fen: int  # the last tonne's
    max_t: int
    declared_t: int
    open: bool


# ---------------------------------------------------------------------- lookups


def room_of(hub: Hub, market_id: str) -> Classroom:
    """The class market's class, or 404 (``UNKNOWN_MARKET``, ``NOT_A_CLASS``)."""
    return class_of(hub.market(market_id).classroom, market_id)


def clock_facts(driver: ClockDriver | None) -> ClockFacts:
    """The class's clock: not started (never), stopped, paused or running."""
    clock = None if driver is None else driver.clock
    if driver is None or clock is None:
        return NOT_STARTED
    if not driver.running:
        return ClockFacts(ClockState.STOPPED)
    state = ClockState.PAUSED if clock.paused else ClockState.RUNNING
    speed = clock.speed if clock.mode is ClockMode.ACCELERATED else None
    return ClockFacts(state, clock.mode.value, speed)


def asked_account(hub: Hub, market_id: str, who: Principal, account_id: str | None) -> str | None:
    """The account a class read is about: ``account_id`` if given (participants their own
    only, observers none; 404 ``UNKNOWN_ACCOUNT``), else a participant key's own."""
    if account_id is None:
        return who.account_id if who.role is Role.PARTICIPANT else None
    may_see_account(who, account_id)
    return known_account(hub.runtime(market_id).market, account_id)


# ---------------------------------------------------------------------- the class


@router.post(
    "/markets/from-scenario",
    operation_id="createClassMarket",
    status_code=201,
    response_model=ClassMarket,
    openapi_extra=body_max_bytes(SCENARIO_BODY_MAX_BYTES),
)
async def create_class_market(
    hub: HubDep, body: NewClassMarket, who: CurrentPrincipal
) -> dict[str, Any]:
    """Create a class market from a scenario (exchange-wide operator keys only): its rules,
    firms and bots, ``seats`` trainees as covered entities with keys, a new operator key for
    the class. The class starts closed: nothing trades until its clock starts
    (``startClock``), whose first step opens ``first_day``."""
    require_exchange_operator(who)
    new = service.NewClass(**body.model_dump())
    return await service.create_class(hub, new)


@router.get(M + "/class/phase", operation_id="getClassPhase", response_model=ClassPhase)
async def get_class_phase(
    hub: HubDep, market_id: MarketId, who: CurrentPrincipal
) -> dict[str, Any]:
    """Where the class's compliance cycle stands, its surrender deadline and what follows."""
    return views.phase_view(room_of(hub, market_id))


@router.get(M + "/class/me", operation_id="getMyClassSeat", response_model=ClassSeatView)
async def get_my_class_seat(
    hub: HubDep,
    market_id: MarketId,
    who: CurrentPrincipal,
    account_id: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """Where the class stands for a seat (any key of the class): phase, clock, trading day n
    of N, what comes next, the surrender window and its deadline in class trading days; and
    the key's firm (operators: ``account_id``'s): emissions, allocation, what it holds, long
    or short, its abatement, and its result once assessed (docs/classroom.md)."""
    room = room_of(hub, market_id)
    account = asked_account(hub, market_id, who, account_id)
    clock = clock_facts(hub.market(market_id).clock)
    return await my_class.my_class(hub.engine, room, clock, account)


@router.get(M + "/class/abatement", operation_id="quoteAbatement", response_model=AbatementQuote)
async def quote_abatement(
    hub: HubDep,
    market_id: MarketId,
    who: CurrentPrincipal,
    qty_t: Annotated[int, Query(ge=0, le=2**53)],
    account_id: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """What cutting ``qty_t`` tonnes this year would cost a seat (its own key; operators:
    ``account_id``'s), from its firm's abatement curve: total, average and marginal cost, and
    the most it can cut."""
    room = room_of(hub, market_id)
    account = asked_account(hub, market_id, who, account_id) or ""
    return my_class.abatement_quote(room, account, qty_t)


@router.post(
    M + "/class/phase/advance", operation_id="advanceClassPhase", response_model=PhaseAdvanced
)
async def advance_class_phase(
    hub: HubDep, market_id: MarketId, who: CurrentPrincipal
) -> dict[str, Any]:
    """Move the class to its next phase and do what that implies (operators); ``done`` counts
    it (emissions recorded, surrenders, assessments and penalties, ...)."""
    require(who, Role.OPERATOR)
    room = room_of(hub, market_id)
    return await service.advance_class(hub.engine, room)


@router.post(
    M + "/class/abatement",
    operation_id="declareAbatement",
    status_code=201,
    response_model=AbatementDeclared,
)
async def declare_abatement(
    hub: HubDep, market_id: MarketId, body: AbatementDeclaration, who: CurrentPrincipal
) -> dict[str, Any]:
    """Declare the tonnes a seat cuts this year (its own key; until verification): they are
    taken off its verified emissions, at the cost its abatement curve gives."""
    require(who, Role.PARTICIPANT)
    room = room_of(hub, market_id)
    return await service.declare_abatement(hub.engine, room, who.account_id or "", body.qty_t)


# ---------------------------------------------------------------------- the dashboard, results


@router.get(M + "/class/dashboard", operation_id="getClassDashboard")
async def get_class_dashboard(
    hub: HubDep, market_id: MarketId, who: CurrentPrincipal
) -> dict[str, Any]:
    """Prices and today's activity per instrument, the seats' participation today, and every
    covered entity's compliance position, best first (operators and observers)."""
    require(who, Role.OPERATOR, Role.OBSERVER)
    room = room_of(hub, market_id)
    return await views.dashboard(hub.engine, room)


@router.get(
    M + "/class/results",
    operation_id="getClassResults",
    responses={200: {"content": {"text/csv": {}}}},
)
async def get_class_results(
    hub: HubDep,
    market_id: MarketId,
    who: CurrentPrincipal,
    format: Format = "json",
    lang: Language = None,
) -> Any:
    """The compliance year's results per account (operators): outcome, penalty, trades,
    volume, cash change, abatement and its cost where known, the compliance cost; amounts in
    fen. ``?format=csv``: the same as CSV in yuan with headers in ``lang`` (default: the rule
    set's language), UTF-8 with a byte-order mark."""
    require(who, Role.OPERATOR)
    room = room_of(hub, market_id)
    rows = await views.class_results(hub.engine, room)
    if format == "csv":
        rules = room.runtime.market.rules
        text = debrief.results_csv(rows, lang or rules.language, rules.currency)
        return Response(text, media_type=CSV)
    return {"market_id": market_id, "compliance_year": room.state.compliance_year, "results": rows}


# ---------------------------------------------------------------------- seats and keys


@router.get(M + "/class/seats", operation_id="listSeats", response_model=Seats)
async def list_seats(hub: HubDep, market_id: MarketId, who: CurrentPrincipal) -> dict[str, Any]:
    """The class's seats and their accounts (operators)."""
    require(who, Role.OPERATOR)
    room = room_of(hub, market_id)
    seats = [views.seat_view(s, room.scenario) for s in room.state.seats]
    return {"market_id": market_id, "seats": seats}


@router.post(
    M + "/class/seats/keys",
    operation_id="issueSeatKeys",
    status_code=201,
    response_model=Seats,
    responses={201: {"content": {"text/csv": {}}}},
)
async def issue_seat_keys(
    hub: HubDep, market_id: MarketId, who: CurrentPrincipal, format: Format = "json"
) -> Any:
    """A fresh key for every seat, the seats' old keys revoked (operators); ``?format=csv``
    for printing."""
    require(who, Role.OPERATOR)
    room = room_of(hub, market_id)
    rows = await service.issue_seat_keys(hub.engine, room)
    if format == "csv":
        return Response(views.as_csv(rows, views.SEAT_COLUMNS), status_code=201, media_type=CSV)
    return {"market_id": market_id, "seats": rows}


# ---------------------------------------------------------------------- the MRV phase

MrvVerifiers = Literal["instructor", "trainees"]
SeatPath = Annotated[str, Path(max_length=64)]


class ClassMrvSettings(Body):
    # None: the class has no MRV phase; else who verifies the seats' reports
    verifiers: MrvVerifiers | None


class ClassMrvCorrection(Body):
    # the month's carbon test (tC/t, or tC/10^4 Nm3 of gas); None: not measured (the default)
    carbon: Annotated[str | None, Field(pattern=r"^\d{1,3}(\.\d{1,6})?$")]


class ClassMrvMonths(Body):
    months: list[Annotated[int, Field(ge=1, le=12)]] | None = None  # None: every one it may


class ClassMrvReview(ClassMrvMonths):
    decision: Literal["pass", "return"]
    note: Annotated[str | None, Field(max_length=500)] = None


class ClassMrvFinding(Body):
    month: Annotated[int, Field(ge=1, le=12)]


@router.get(M + "/class/mrv", operation_id="getClassMrv")
async def get_class_mrv(hub: HubDep, market_id: MarketId, who: CurrentPrincipal) -> dict[str, Any]:
    """The class's MRV phase (docs/classroom.md "The MRV phase"): a seat's own year (months,
    flags, the default line, its report) and the seats it verifies (its key); every seat's data
    quality (operators)."""
    room = room_of(hub, market_id)
    if who.role is Role.OPERATOR:
        return await mrv_phase.overview(hub.engine, room)
    return await mrv_phase.my_view(hub.engine, room, who)


@router.get(M + "/class/mrv/seats/{account_id}", operation_id="getClassMrvSeat")
async def get_class_mrv_seat(
    hub: HubDep, market_id: MarketId, account_id: SeatPath, who: CurrentPrincipal
) -> dict[str, Any]:
    """One seat's MRV year: its own key, the seat that verifies it, operators."""
    room = room_of(hub, market_id)
    await mrv_phase.may_see(room.state, who, account_id)
    return await mrv_phase.seat_view(hub.engine, room, account_id)


@router.put(M + "/class/mrv/settings", operation_id="setClassMrv")
async def set_class_mrv(
    hub: HubDep, market_id: MarketId, body: ClassMrvSettings, who: CurrentPrincipal
) -> dict[str, Any]:
    """Switch the MRV phase on (who verifies: the instructor or the trainees) or off, before it
    begins; in it, change who verifies (operators)."""
    require(who, Role.OPERATOR)
    room = room_of(hub, market_id)
    async with room.state.lock:
        done = await mrv_phase.set_verifiers(hub.engine, room, body.verifiers)
        await store.save_class(hub.engine, room.state)
    return done


@router.put(M + "/class/mrv/months/{month}", operation_id="correctClassMrvMonth")
async def correct_class_mrv_month(
    hub: HubDep,
    market_id: MarketId,
    month: Annotated[int, Path(ge=1, le=12)],
    body: ClassMrvCorrection,
    who: CurrentPrincipal,
) -> dict[str, Any]:
    """A seat corrects a draft or returned month's carbon test (its own key): a value, or not
    measured (``carbon`` null: the guideline's default applies)."""
    require(who, Role.PARTICIPANT)
    room = room_of(hub, market_id)
    return await mrv_phase.correct(hub.engine, room, who, month, body.carbon)


@router.post(M + "/class/mrv/deposit", operation_id="depositClassMrv")
async def deposit_class_mrv(
    hub: HubDep, market_id: MarketId, body: ClassMrvMonths, who: CurrentPrincipal
) -> dict[str, Any]:
    """A seat deposits its months (its own key): those named, or every draft and returned one,
    each on the class's date for it; the checks' flags come back."""
    require(who, Role.PARTICIPANT)
    room = room_of(hub, market_id)
    return await mrv_phase.deposit(hub.engine, room, who, body.months)


@router.post(M + "/class/mrv/seats/{account_id}/review", operation_id="reviewClassMrv")
async def review_class_mrv(
    hub: HubDep,
    market_id: MarketId,
    account_id: SeatPath,
    body: ClassMrvReview,
    who: CurrentPrincipal,
) -> dict[str, Any]:
    """The instructor, as the authority, passes or returns a seat's deposited months (those
    named, or all of them) (operators)."""
    require(who, Role.OPERATOR)
    room = room_of(hub, market_id)
    return await mrv_phase.review(
        hub.engine, room, account_id, body.months, body.decision, body.note
    )


@router.post(M + "/class/mrv/seats/{account_id}/findings", operation_id="addClassMrvFinding")
async def add_class_mrv_finding(
    hub: HubDep,
    market_id: MarketId,
    account_id: SeatPath,
    body: ClassMrvFinding,
    who: CurrentPrincipal,
) -> dict[str, Any]:
    """The seat's verifier (the instructor's operator key, or the verifying seat's key) counts
    a month's carbon test at the default."""
    room = room_of(hub, market_id)
    return await mrv_phase.add_finding(hub.engine, room, who, account_id, body.month)


@router.post(M + "/class/mrv/seats/{account_id}/sign", operation_id="signClassMrv")
async def sign_class_mrv(
    hub: HubDep, market_id: MarketId, account_id: SeatPath, who: CurrentPrincipal
) -> dict[str, Any]:
    """The seat's verifier signs its year (every month passed)."""
    room = room_of(hub, market_id)
    return await mrv_phase.sign(hub.engine, room, who, account_id)
