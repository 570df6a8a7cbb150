"""The instructor console's operations (issue 7): class markets made from scenarios, their
compliance cycle, announcements, the dashboard, results, seats and keys, and the replay.

* ``listScenarios`` (any key): the shipped scenarios a class can be made from
  (``exchange.classroom.scenarios``);
* ``createClassMarket`` (exchange-wide operator keys): a market from a scenario with its human
  seats as covered entities, keys for every seat and a new operator key for the class, the
  scenario's bots trading, the first trading day open (``exchange.classroom.service``);
* ``getClassPhase`` (any key), ``advanceClassPhase`` (operators): the compliance cycle
  (``exchange.classroom.lifecycle``, ``exchange.classroom.phases``);
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

from fastapi import APIRouter, Query, Response
from pydantic import Field, model_validator

from exchange.api.auth import require, require_exchange_operator
from exchange.api.common import PROBLEMS
from exchange.api.deps import CurrentPrincipal, HubDep, MarketId
from exchange.api.hub import Hub
from exchange.api.models import Body, Reply
from exchange.classroom import debrief, service, views
from exchange.classroom.room import Classroom, class_of
from exchange.classroom.setup import MAX_SEATS
from exchange.keys import Role

router = APIRouter(prefix="/v1", tags=["classroom"], responses=PROBLEMS)
M = "/markets/{market_id}"
MAX_YAML_CHARS = 200_000
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


def room_of(hub: Hub, market_id: str) -> Classroom:
    """The class market's class, or 404 (``UNKNOWN_MARKET``, ``NOT_A_CLASS``)."""
    return class_of(hub.market(market_id).classroom, market_id)


# ---------------------------------------------------------------------- the class


@router.post(
    "/markets/from-scenario",
    operation_id="createClassMarket",
    status_code=201,
    response_model=ClassMarket,
)
async def create_class_market(
    hub: HubDep, body: NewClassMarket, who: CurrentPrincipal
) -> dict[str, Any]:
    """Create a class market from a scenario (exchange-wide operator keys only): its rules,
    firms and bots, ``seats`` trainees as covered entities with keys, a new operator key for
    the class, and its first trading day open."""
    require_exchange_operator(who)
    new = service.NewClass(**body.model_dump())
    return await service.create_class(hub, new)


@router.get(M + "/class/phase", operation_id="getClassPhase", response_model=ClassPhase)
async def get_class_phase(
    hub: HubDep, market_id: MarketId, who: CurrentPrincipal
) -> dict[str, Any]:
    """Where the class's compliance cycle stands, its surrender deadline and what follows."""
    return views.phase_view(room_of(hub, market_id))


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
    return {"market_id": market_id, "seats": [views.seat_view(s) for s in room.state.seats]}


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
