"""MRV over the API (docs/mrv.md "Over the API") under ``/v1/markets/{market_id}/mrv``: an
operator puts a unit's monitoring plan (``putMrvUnit``), assigns verifiers
(``assignVerifier``, ``unassignVerifier``), reviews deposited months (``reviewMrvMonth``) and
returns or publishes signed reports (``returnVerification``, ``publishVerification``); the
account's own key (or an operator) saves and deposits months (``putMrvMonth``,
``depositMrvMonth``); an assigned verifier adds findings (``addMrvFinding``) and signs the year
(``signVerification``); all three read the year (``listMrvMonths``). Each route maps its request
to ``exchange.mrv_desk.service``; refusals are ``MrvDeskError``s (docs/api-errors.md).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from exchange.api.common import PROBLEMS, known_account
from exchange.api.deps import AccountPath, CurrentPrincipal, HubDep, MarketId, Runtime, YearPath
from exchange.api.errors import accepted
from exchange.api.mrv_models import (
    MrvCreditRecord,
    MrvFinding,
    MrvFindingAdded,
    MrvMonth,
    MrvMonthData,
    MrvObjection,
    MrvObjectionDecision,
    MrvPenalties,
    MrvPenalty,
    MrvPenaltyEntry,
    MrvPublished,
    MrvReport,
    MrvReview,
    MrvUnit,
    MrvUnitPlan,
    MrvYear,
    ReportNote,
    VerifierAccounts,
    VerifierAssignment,
)
from exchange.db.keys import key_by_id
from exchange.mrv_desk import enforcement, service
from exchange.mrv_desk.store import UnitRow
from registry_sim.model import AccountId

router = APIRouter(prefix="/v1/markets/{market_id}/mrv", tags=["mrv"], responses=PROBLEMS)

MonthPath = Annotated[int, Path(ge=1, le=12)]
KeyIdPath = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")]
ACCOUNT = "/accounts/{account_id}"
YEAR = ACCOUNT + "/years/{year}"
MONTH = YEAR + "/months/{month}"


@router.put(ACCOUNT + "/unit", operation_id="putMrvUnit", response_model=MrvUnit)
async def put_mrv_unit(
    hub: HubDep,
    market_id: MarketId,
    account_id: AccountPath,
    body: MrvUnitPlan,
    who: CurrentPrincipal,
    runtime: Runtime,
) -> Any:
    """An account's monitoring plan (operators): capacity, kind, coal type, the allocation's
    benchmark (t/MWh) and, optionally, a guideline version instead of the data year's."""
    known_account(runtime.market, account_id)
    plan = UnitRow(
        account_id, body.capacity_mw, body.kind, body.coal, body.benchmark, body.guideline_id
    )
    return await service.put_unit(hub.engine, who, plan)


@router.put(MONTH, operation_id="putMrvMonth", response_model=MrvMonth)
async def put_mrv_month(
    hub: HubDep,
    market_id: MarketId,
    account_id: AccountPath,
    year: YearPath,
    month: MonthPath,
    body: MrvMonthData,
    who: CurrentPrincipal,
    runtime: Runtime,
) -> Any:
    """Save a month's data as a draft (the account's own key, or an operator): fuels with their
    tests and meters, generation, heat, hours, load, purchased and grid electricity."""
    known_account(runtime.market, account_id)
    data = body.model_dump()
    return await service.put_month(hub.engine, who, account_id, year, month, data)


@router.post(MONTH + "/deposit", operation_id="depositMrvMonth", response_model=MrvMonth)
async def deposit_mrv_month(
    hub: HubDep,
    market_id: MarketId,
    account_id: AccountPath,
    year: YearPath,
    month: MonthPath,
    who: CurrentPrincipal,
    runtime: Runtime,
) -> Any:
    """Deposit a saved month on the market clock's date (the account's own key, or an
    operator): the data-quality checks' flags and the calculated emissions."""
    return await service.deposit_month(hub.engine, who, runtime, account_id, year, month)


@router.post(MONTH + "/review", operation_id="reviewMrvMonth", response_model=MrvMonth)
async def review_mrv_month(
    hub: HubDep,
    market_id: MarketId,
    account_id: AccountPath,
    year: YearPath,
    month: MonthPath,
    body: MrvReview,
    who: CurrentPrincipal,
    runtime: Runtime,
) -> Any:
    """The authority's review of a deposited month (operators): pass, or return to correct."""
    return await service.review_month(
        hub.engine, who, account_id, year, month, body.decision, body.note
    )


@router.get(YEAR, operation_id="listMrvMonths", response_model=MrvYear)
async def list_mrv_months(
    hub: HubDep,
    market_id: MarketId,
    account_id: AccountPath,
    year: YearPath,
    who: CurrentPrincipal,
    runtime: Runtime,
) -> Any:
    """The account's months of a year (state, flags, findings, emissions with their sources)
    and the year's summary by its guideline (the account's key, an assigned verifier,
    operators)."""
    return await service.list_months(hub.engine, who, account_id, year)


@router.post(
    "/verifiers/{key_id}/accounts", operation_id="assignVerifier", response_model=VerifierAccounts
)
async def assign_verifier(
    hub: HubDep,
    market_id: MarketId,
    key_id: KeyIdPath,
    body: VerifierAssignment,
    who: CurrentPrincipal,
    runtime: Runtime,
) -> Any:
    """Assign a verifier key to accounts (operators); never to its own account or to one whose
    data it deposited."""
    for account_id in body.account_ids:
        known_account(runtime.market, account_id)
    verifier = await key_by_id(hub.engine, market_id, key_id)
    return await service.assign_verifier(hub.engine, who, verifier, key_id, body.account_ids)


@router.delete(
    "/verifiers/{key_id}/accounts/{account_id}",
    operation_id="unassignVerifier",
    response_model=VerifierAccounts,
)
async def unassign_verifier(
    hub: HubDep,
    market_id: MarketId,
    key_id: KeyIdPath,
    account_id: AccountPath,
    who: CurrentPrincipal,
    runtime: Runtime,
) -> Any:
    """Take an account from a verifier key (operators); the accounts it keeps."""
    return await service.unassign_verifier(hub.engine, who, key_id, account_id)


@router.post(MONTH + "/findings", operation_id="addMrvFinding", response_model=MrvFindingAdded)
async def add_mrv_finding(
    hub: HubDep,
    market_id: MarketId,
    account_id: AccountPath,
    year: YearPath,
    month: MonthPath,
    body: MrvFinding,
    who: CurrentPrincipal,
    runtime: Runtime,
) -> Any:
    """A finding of the assigned verifier that forces a conservative treatment: a test's
    carbon at the default, or a meter as uncalibrated; the emissions before and after."""
    finding = body.model_dump(exclude_none=True)
    return await service.add_finding(hub.engine, who, account_id, year, month, finding)


@router.post(YEAR + "/report", operation_id="signVerification", response_model=MrvReport)
async def sign_verification(
    hub: HubDep,
    market_id: MarketId,
    account_id: AccountPath,
    year: YearPath,
    who: CurrentPrincipal,
    runtime: Runtime,
) -> Any:
    """Sign the year's verification report (the assigned verifier), all twelve months passed."""
    signed_on = service.market_date(runtime)
    return await service.sign_report(hub.engine, who, account_id, year, signed_on)


@router.post(
    YEAR + "/report/objection", operation_id="objectToVerification", response_model=MrvReport
)
async def object_to_verification(
    hub: HubDep,
    market_id: MarketId,
    account_id: AccountPath,
    year: YearPath,
    body: MrvObjection,
    who: CurrentPrincipal,
    runtime: Runtime,
) -> Any:
    """Object to the signed report (the entity's own key), within 7 working days of the
    signing; it is not published until the authority decides."""
    return await service.object_to_report(hub.engine, who, runtime, account_id, year, body.reason)


@router.post(
    YEAR + "/report/objection/decision", operation_id="decideObjection", response_model=MrvReport
)
async def decide_objection(
    hub: HubDep,
    market_id: MarketId,
    account_id: AccountPath,
    year: YearPath,
    body: MrvObjectionDecision,
    who: CurrentPrincipal,
    runtime: Runtime,
) -> Any:
    """Decide an open objection (operators), within 10 working days: upheld, the report goes
    back to its verifier; dismissed, it stands."""
    upheld = body.decision == "upheld"
    return await service.decide_objection(
        hub.engine, who, runtime, account_id, year, upheld, body.note
    )


@router.post(YEAR + "/report/return", operation_id="returnVerification", response_model=MrvReport)
async def return_verification(
    hub: HubDep,
    market_id: MarketId,
    account_id: AccountPath,
    year: YearPath,
    body: ReportNote,
    who: CurrentPrincipal,
    runtime: Runtime,
) -> Any:
    """Return a signed report to its verifier (operators)."""
    return await service.return_report(hub.engine, who, account_id, year, body.note)


@router.post(
    YEAR + "/report/publish", operation_id="publishVerification", response_model=MrvPublished
)
async def publish_verification(
    hub: HubDep,
    market_id: MarketId,
    account_id: AccountPath,
    year: YearPath,
    who: CurrentPrincipal,
    runtime: Runtime,
) -> Any:
    """Publish a signed report (operators): verified emissions into the registry, allocation
    trued up from verified generation × the unit's benchmark; the registry's figures. A repeat
    answers the same figures and does nothing again."""
    report, acks, again = await service.publish_report(hub.engine, who, runtime, account_id, year)
    for ack in acks:
        accepted(ack)
    trueup = acks[1].outcome.details
    registry = runtime.market.registry
    account = AccountId(account_id)
    return {
        "report": report,
        "verified_t": registry.verified(account, year),
        "allocated_t": registry.allocation_t(account, year),
        "issued_t": 0 if again else trueup.get("issued_t", 0),
        "returned_t": 0 if again else trueup.get("returned_t", 0),
        "deduction_added_t": 0 if again else trueup.get("deduction_added_t", 0),
    }


# ---------------------------------------------------------------------- enforcement


@router.post(
    ACCOUNT + "/penalties",
    operation_id="recordMrvPenalty",
    response_model=MrvPenalty,
    status_code=201,
)
async def record_mrv_penalty(
    hub: HubDep,
    market_id: MarketId,
    account_id: AccountPath,
    body: MrvPenaltyEntry,
    who: CurrentPrincipal,
    runtime: Runtime,
) -> Any:
    """Record a penalty of the 2024 Regulation in the account's credit record (operators),
    dated by the market clock's local date: the fine within its article's range for the gains;
    for Art. 22 optionally next year's allocation cut (50-100 % of its base), recorded but not
    taken in the registry."""
    known_account(runtime.market, account_id)
    penalty = enforcement.Penalty(**body.model_dump())
    return await enforcement.record_penalty(hub.engine, who, runtime, account_id, penalty)


@router.get(ACCOUNT + "/penalties", operation_id="listMrvPenalties", response_model=MrvCreditRecord)
async def list_mrv_penalties(
    hub: HubDep,
    market_id: MarketId,
    account_id: AccountPath,
    who: CurrentPrincipal,
    runtime: Runtime,
) -> Any:
    """The account's credit record in order, with its totals (the account's key, operators)."""
    return await enforcement.credit_record(hub.engine, who, account_id)


@router.get("/penalties", operation_id="listPublishedMrvPenalties", response_model=MrvPenalties)
async def list_published_mrv_penalties(
    hub: HubDep, market_id: MarketId, who: CurrentPrincipal, runtime: Runtime
) -> Any:
    """Every penalty recorded in the market, by date: published (Art. 27), any key reads it."""
    return await enforcement.published_penalties(hub.engine, who)
