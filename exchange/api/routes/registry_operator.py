"""The registry's operators' operations (operators only): record verified emissions, allocate
(配额分配), transfer, freeze and unfreeze (司法冻结), register offset projects and issue their
units (CCER), record an entity's net sales for the old-vintage cap, and assess a compliance
year. The participants' side is
``exchange.api.routes.registry``.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from exchange.api.common import PROBLEMS, known_account, open_trading_day
from exchange.api.deps import (
    AccountPath,
    CurrentPrincipal,
    HubDep,
    MarketId,
    OperatorRuntime,
    YearPath,
)
from exchange.api.errors import ApiError, accepted, refusal
from exchange.api.limits import body_max_bytes
from exchange.api.models import ComplianceStatus, EmissionsReport
from exchange.api.registry_common import (
    ACCOUNT,
    REPEATED,
    M,
    apply_op,
    compliance_view,
    open_year,
    request_op_id,
)
from exchange.api.registry_models import (
    Allocated,
    AllocationRequest,
    Assessment,
    AssessmentRequest,
    FixedAllocation,
    FreezeDone,
    FreezeRequest,
    IntensityAllocation,
    IssueAllocation,
    NetSalesRecorded,
    NetSalesRequest,
    OffsetIssuance,
    OffsetsIssued,
    PreAllocation,
    ProjectRegistered,
    ProjectRegistration,
    Transferred,
    TransferRequest,
    TrueUp,
)
from exchange.db import statements
from exchange.runtime import MarketRuntime
from registry_sim.codes import RegistryCode
from registry_sim.model import AccountId, AccountKind, Project, UnitCode, UnitKind
from registry_sim.ops import (
    AllocateByIntensity,
    AllocateFixed,
    Assess,
    Freeze,
    IssueAllowances,
    IssueOffsets,
    Op,
    PreAllocate,
    RecordEmissions,
    RecordNetSales,
    RegisterProject,
    Transfer,
    TrueUpAllocation,
    Unfreeze,
)
from registry_sim.registry import Registry
from settlement.commands import RegistryCommand
from settlement.reference import penalty_price

router = APIRouter(prefix="/v1", tags=["registry operator"], responses=PROBLEMS)

ProjectPath = Annotated[str, Path(max_length=128)]


@router.post(
    ACCOUNT + "/emissions",
    operation_id="recordEmissions",
    status_code=201,
    response_model=ComplianceStatus,
    responses=REPEATED,
)
async def record_emissions(
    response: Response,
    market_id: MarketId,
    account_id: AccountPath,
    body: EmissionsReport,
    who: CurrentPrincipal,
    runtime: OperatorRuntime,
) -> dict[str, Any]:
    """Record a covered entity's verified emissions for a year (operators only): its
    obligation."""
    account = known_account(runtime.market, account_id)
    op_id = request_op_id(account, body.request_id, "emissions")
    op = RecordEmissions(op_id, account, body.year, body.verified_t)
    await apply_op(runtime, op, body.request_id, response)
    return compliance_view(runtime.market, account, body.year)


@router.post(
    ACCOUNT + "/net-sales",
    operation_id="recordNetSales",
    status_code=201,
    response_model=NetSalesRecorded,
    responses=REPEATED,
)
async def record_net_sales(
    hub: HubDep,
    response: Response,
    market_id: MarketId,
    account_id: AccountPath,
    body: NetSalesRequest,
    who: CurrentPrincipal,
    runtime: OperatorRuntime,
) -> dict[str, Any]:
    """Record a covered entity's net allowance sales for the old-vintage conversion cap
    (``cap_base_t`` + multiplier × net sales; operators only): ``net_sales_t`` as given, or,
    left out, allowances sold less bought over the rule set's period as the entity's daily
    statements give them (``NO_NET_SALES_PERIOD`` when the rule set has no period)."""
    market = runtime.market
    account = known_account(market, account_id)
    old = market.rules.compliance.old_vintages
    period = (old.net_sales_from, old.net_sales_until) if old is not None else (None, None)
    days = 0
    if body.net_sales_t is not None:
        computed, source = body.net_sales_t, "request"
        period = (None, None)
    else:
        start, end = period
        if start is None or end is None:
            raise ApiError(
                409,
                "NO_NET_SALES_PERIOD",
                "the rule set gives no period to compute net sales over: give net_sales_t",
                rule_set=market.spec.rules,
            )
        allowances = [s for s in market.instruments if s.startswith(UnitKind.CEA.value)]
        computed, days = await statements.net_sales_t(
            hub.engine, market_id, account, start, end, allowances
        )
        source = "statements"
    op_id = request_op_id(account, body.request_id, "net-sales")
    await apply_op(runtime, RecordNetSales(op_id, account, computed), body.request_id, response)
    registry = market.registry
    return {
        "op_id": op_id,
        "account_id": account,
        "source": source,
        "computed_t": computed,
        "net_sales_t": registry.net_sales_t(account),
        "period_from": None if period[0] is None else period[0].isoformat(),
        "period_until": None if period[1] is None else period[1].isoformat(),
        "days_read": days,
        "old_vintage_cap_t": registry.old_vintage_cap_t(account) or 0,
    }


def _allocation_op(op_id: str, account: AccountId, body: Any) -> tuple[Op, int]:
    """The registry operation of an allocation request, and the vintage it issues."""
    if isinstance(body, IssueAllocation):
        return IssueAllowances(op_id, account, body.vintage, body.qty_t), body.vintage
    if isinstance(body, FixedAllocation):
        return AllocateFixed(op_id, account, body.year, body.qty_t), body.year
    if isinstance(body, PreAllocation):
        return PreAllocate(op_id, account, body.year), body.year
    if isinstance(body, TrueUp):
        factors = tuple(body.factors)
        return TrueUpAllocation(op_id, account, body.year, body.output, body.benchmark, factors), (
            body.year
        )
    assert isinstance(body, IntensityAllocation)
    return AllocateByIntensity(op_id, account, body.year, body.alpha_bp), body.year


@router.post(
    ACCOUNT + "/allocations",
    operation_id="allocate",
    status_code=201,
    response_model=Allocated,
    responses=REPEATED,
)
async def allocate(
    response: Response,
    market_id: MarketId,
    account_id: AccountPath,
    body: AllocationRequest,
    who: CurrentPrincipal,
    runtime: OperatorRuntime,
) -> dict[str, Any]:
    """Allocate allowances (operators only), by ``method``: ``issue`` a quantity of a vintage
    (paid issuance, never deducted from), ``fixed`` a free allocation of a quantity,
    ``pre_allocation`` from last year's emissions, ``true_up`` from output × benchmark, or
    ``intensity`` from this year's emissions × (1 + α); all by the rule set's numbers."""
    account = known_account(runtime.market, account_id)
    op_id = request_op_id(account, body.request_id, "allocate")
    op, vintage = _allocation_op(op_id, account, body)
    details = (await apply_op(runtime, op, body.request_id, response)).outcome.details
    issued = details.get("issued_t", getattr(op, "qty_t", 0))
    return {
        "op_id": op_id,
        "account_id": account_id,
        "method": body.method,
        "unit": f"{UnitKind.CEA.value}{vintage}",
        "allocation_t": details.get("allocation_t", issued),
        "issued_t": issued,
        "deducted_t": details.get("deducted_t", 0),
        "returned_t": details.get("returned_t", 0),
        "deduction_added_t": details.get("deduction_added_t", 0),
        "final_t": details.get("final_t"),
        "basis_t": details.get("basis_t"),
    }


@router.post(
    M + "/transfers",
    operation_id="transferUnits",
    status_code=201,
    response_model=Transferred,
    responses=REPEATED,
)
async def transfer_units(
    response: Response,
    market_id: MarketId,
    body: TransferRequest,
    who: CurrentPrincipal,
    runtime: OperatorRuntime,
) -> dict[str, Any]:
    """Move available units from one account to another (operators only)."""
    source = known_account(runtime.market, body.from_account)
    target = known_account(runtime.market, body.to_account)
    op_id = request_op_id(source, body.request_id, "transfer")
    op = Transfer(op_id, source, target, UnitCode(body.unit), body.qty_t)
    await apply_op(runtime, op, body.request_id, response)
    return {
        "op_id": op_id,
        "from_account": source,
        "to_account": target,
        "unit": body.unit,
        "qty_t": body.qty_t,
    }


async def _freeze_or_unfreeze(
    response: Response,
    runtime: MarketRuntime,
    account_id: str,
    body: FreezeRequest,
    make: type[Freeze] | type[Unfreeze],
) -> dict[str, Any]:
    account = known_account(runtime.market, account_id)
    op_id = request_op_id(account, body.request_id, make.__name__.lower())
    op = make(op_id, account, UnitCode(body.unit), body.qty_t, body.reference)
    await apply_op(runtime, op, body.request_id, response)
    return {
        "op_id": op_id,
        "account_id": account_id,
        "unit": body.unit,
        "qty_t": body.qty_t,
        "reference": body.reference,
    }


@router.post(
    ACCOUNT + "/freezes",
    operation_id="freezeUnits",
    status_code=201,
    response_model=FreezeDone,
    responses=REPEATED,
)
async def freeze_units(
    response: Response,
    market_id: MarketId,
    account_id: AccountPath,
    body: FreezeRequest,
    who: CurrentPrincipal,
    runtime: OperatorRuntime,
) -> dict[str, Any]:
    """Judicial freeze (司法冻结) of available units under a court order's ``reference``
    (operators only)."""
    return await _freeze_or_unfreeze(response, runtime, account_id, body, Freeze)


@router.post(
    ACCOUNT + "/unfreezes",
    operation_id="unfreezeUnits",
    status_code=201,
    response_model=FreezeDone,
    responses=REPEATED,
)
async def unfreeze_units(
    response: Response,
    market_id: MarketId,
    account_id: AccountPath,
    body: FreezeRequest,
    who: CurrentPrincipal,
    runtime: OperatorRuntime,
) -> dict[str, Any]:
    """Release units frozen under the same ``reference``, no more (operators only)."""
    return await _freeze_or_unfreeze(response, runtime, account_id, body, Unfreeze)


@router.post(
    M + "/projects",
    operation_id="registerProject",
    status_code=201,
    response_model=ProjectRegistered,
    responses=REPEATED,
)
async def register_project(
    response: Response,
    market_id: MarketId,
    body: ProjectRegistration,
    who: CurrentPrincipal,
    runtime: OperatorRuntime,
) -> dict[str, Any]:
    """Register an offset project (operators only); its units are then issued by
    ``issueOffsets``. Eligibility for compliance is the rule set's (window, scope)."""
    project = Project(
        body.project_id,
        UnitKind(body.kind),
        body.methodology,
        body.province,
        body.start_date,
        body.registration_date,
        body.inside_ets_scope,
    )
    op_id = request_op_id(f"project:{body.project_id}", body.request_id, "project")
    await apply_op(runtime, RegisterProject(op_id, project), body.request_id, response)
    return {
        "op_id": op_id,
        "project_id": project.project_id,
        "kind": project.kind,
        "methodology": project.methodology,
        "province": project.province,
        "start_date": project.start_date.isoformat(),
        "registration_date": project.registration_date.isoformat(),
        "inside_ets_scope": project.inside_ets_scope,
    }


@router.post(
    M + "/projects/{project_id}/issuances",
    operation_id="issueOffsets",
    status_code=201,
    response_model=OffsetsIssued,
    responses=REPEATED,
)
async def issue_offsets(
    response: Response,
    market_id: MarketId,
    project_id: ProjectPath,
    body: OffsetIssuance,
    who: CurrentPrincipal,
    runtime: OperatorRuntime,
) -> dict[str, Any]:
    """Issue units of a registered project's vintage to an account (operators only)."""
    account = known_account(runtime.market, body.account_id)
    op_id = request_op_id(account, body.request_id, "offsets")
    op = IssueOffsets(op_id, account, project_id, body.vintage, body.qty_t)
    ack = await apply_op(runtime, op, body.request_id, response)
    return {
        "op_id": op_id,
        "project_id": project_id,
        "account_id": account,
        "unit": ack.outcome.details["unit"],
        "vintage": body.vintage,
        "qty_t": body.qty_t,
    }


def _assessed_accounts(
    registry: Registry, year: int, named: list[str] | None, op_id: Any
) -> list[AccountId]:
    """The entities an assessment covers: those named (each must have an open year), or every
    covered entity with verified emissions for ``year`` not yet assessed; and, either way,
    those this request assessed already (a retry)."""
    if named is not None:
        accounts = []
        for name in dict.fromkeys(named):
            account = AccountId(name)
            if registry.account(account) is None:
                raise refusal(RegistryCode.UNKNOWN_ACCOUNT, {"account_id": name})
            if not registry.knows(op_id(account)):
                open_year(registry, account, year)
            accounts.append(account)
        return accounts
    return [
        a.account_id
        for a in registry.accounts()
        if a.kind is AccountKind.COVERED_ENTITY
        and registry.verified(a.account_id, year) is not None
        and (registry.record(a.account_id, year) is None or registry.knows(op_id(a.account_id)))
    ]


@router.post(
    M + "/compliance/{year}/assessments",
    operation_id="assessCompliance",
    status_code=201,
    response_model=Assessment,
    responses=REPEATED,
    # Up to 1,000 account ids of 64 characters: more than the default body limit.
    openapi_extra=body_max_bytes(128 * 1024),
)
async def assess_compliance(
    response: Response,
    market_id: MarketId,
    year: YearPath,
    body: AssessmentRequest,
    who: CurrentPrincipal,
    runtime: OperatorRuntime,
) -> dict[str, Any]:
    """Assess compliance year ``year`` at its deadline (operators only): pending surrenders are
    retired; each entity's shortfall, penalty (docs/rules.md: multiplier × the previous month's
    average price × shortfall) and next year's deduction are fixed."""
    market = runtime.market
    registry = market.registry
    on = open_trading_day(market)
    deadline = registry.rules.compliance.deadline(year)
    if on < deadline:
        details = {"year": year, "deadline": deadline.isoformat(), "on": on.isoformat()}
        raise refusal(RegistryCode.DEADLINE_NOT_REACHED, details)
    price = body.reference_price_fen or penalty_price(market, year).price_fen or 0

    def op_id(account: AccountId) -> str:
        return request_op_id(account, body.request_id, f"assess:{year}")

    accounts = _assessed_accounts(registry, year, body.account_ids, op_id)
    # A retried request's entities are assessed already: their records are the answer.
    todo = [a for a in accounts if not registry.knows(op_id(a))]
    commands = [RegistryCommand(0, Assess(op_id(a), a, year, price, on)) for a in todo]
    for ack in await runtime.submit_many(commands):
        accepted(ack)
    if not todo:
        response.status_code = 200
    records = [registry.record(a, year) for a in accounts]
    assessed = [dataclasses.asdict(r) for r in records if r is not None]
    total = sum(r["penalty_fen"] for r in assessed)
    return {"year": year, "assessed": assessed, "total_penalty_fen": total}
