"""The registry (注册登记) and compliance (履约) operations of the gateway: the reads and a
participant's own operations here, the operators' in ``exchange.api.routes.registry_operator``.

Participants read their own holdings, compliance position and surrender plan, surrender (清缴),
withdraw a surrender still pending, and cancel (自愿注销) their own units; operators allocate
(配额分配), transfer, freeze and unfreeze (司法冻结), register offset projects and issue their
units (CCER), record emissions and assess a compliance year. Every registry refusal is a 409
(404 for ``UNKNOWN_ACCOUNT``) with the registry's stable code and numbers. Retries with a
``request_id`` act once (``exchange.api.registry_common``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from exchange.api.auth import may_see_account
from exchange.api.common import PROBLEMS, known_account, open_trading_day
from exchange.api.deps import (
    AccountPath,
    CurrentPrincipal,
    HubDep,
    MarketId,
    YearPath,
)
from exchange.api.models import (
    MAX_AMOUNT,
    ComplianceStatus,
    SurrenderRequest,
    WithdrawalRequest,
)
from exchange.api.registry_common import (
    ACCOUNT,
    REPEATED,
    apply_op,
    compliance_view,
    own_account,
    request_op_id,
    surrender_plan_view,
)
from exchange.api.registry_models import (
    CancellationRequest,
    Holdings,
    SurrenderPlan,
    UnitsCancelled,
)
from registry_sim.model import HoldingState, UnitCode
from registry_sim.ops import Cancel, Surrender, WithdrawSurrender
from settlement.market import Market

router = APIRouter(prefix="/v1", tags=["registry"], responses=PROBLEMS)

STATES = tuple(HoldingState)


def _totals(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    names = [f"{s.value}_t" for s in STATES] + ["locked_t", "sellable_t", "total_t"]
    return {name: sum(row[name] for row in rows) for name in names}


# ---------------------------------------------------------------------- reads


@router.get(ACCOUNT + "/holdings", operation_id="getHoldings", response_model=Holdings)
async def get_holdings(
    hub: HubDep, market_id: MarketId, account_id: AccountPath, who: CurrentPrincipal
) -> dict[str, Any]:
    """The account's units (its own, or any for operators), per unit type and state, with the
    part bought within T+N that cannot be sold yet (``locked_t``); totals per kind and all."""
    may_see_account(who, account_id)
    return await hub.runtime(market_id).read(lambda market: _holdings(market, account_id))


def _holdings(market: Market, account_id: str) -> dict[str, Any]:
    account = known_account(market, account_id)
    types = {u.code: u for u in market.registry.unit_types()}
    units: list[dict[str, Any]] = []
    for code, by_state in sorted(market.registry.holdings(account).items()):
        unit = types[code]
        amounts = {f"{s.value}_t": by_state.get(s, 0) for s in STATES}
        sellable = market.sellable_t(account, code)
        units.append(
            {
                "unit": code,
                "kind": unit.kind,
                "vintage": unit.vintage,
                "project_id": unit.project_id,
                **amounts,
                "locked_t": amounts["available_t"] - sellable,
                "sellable_t": sellable,
                "total_t": sum(amounts.values()),
            }
        )
    kinds = sorted({row["kind"] for row in units})
    by_kind = [{"kind": k, **_totals([r for r in units if r["kind"] == k])} for k in kinds]
    return {"account_id": account_id, "units": units, "by_kind": by_kind, "totals": _totals(units)}


@router.get(
    ACCOUNT + "/compliance/{year}",
    operation_id="getComplianceStatus",
    response_model=ComplianceStatus,
)
async def get_compliance_status(
    hub: HubDep,
    market_id: MarketId,
    account_id: AccountPath,
    year: YearPath,
    who: CurrentPrincipal,
    reference_price_fen: Annotated[int | None, Query(ge=1, le=MAX_AMOUNT)] = None,
) -> dict[str, Any]:
    """The account's compliance position for ``year`` (its own, or any for operators): what is
    left to surrender (``remaining_t``), what its available units can legally cover of it
    (``coverable_t``), what would still be short after that (``shortfall_t``) and the penalty
    that would cost at ``reference_price_fen`` (default: the penalty reference price, the
    volume-weighted price of the rule set's window of trading days, else the last close, as in
    getSurrenderPlan); ``reference_price_basis`` says which."""
    may_see_account(who, account_id)
    return await hub.runtime(market_id).read(
        lambda market: compliance_view(
            market, known_account(market, account_id), year, reference_price_fen
        )
    )


@router.get(
    ACCOUNT + "/compliance/{year}/plan",
    operation_id="getSurrenderPlan",
    response_model=SurrenderPlan,
)
async def get_surrender_plan(
    hub: HubDep,
    market_id: MarketId,
    account_id: AccountPath,
    year: YearPath,
    who: CurrentPrincipal,
    reference_price_fen: Annotated[int | None, Query(ge=1, le=MAX_AMOUNT)] = None,
) -> dict[str, Any]:
    """What the registry would surrender today from the account's available units: offsets up
    to the rule set's cap, then eligible allowances, oldest first; what would still be short,
    and the penalty that would cost at ``reference_price_fen`` (default: the penalty reference
    price, as in getComplianceStatus)."""
    may_see_account(who, account_id)

    def plan(market: Market) -> dict[str, Any]:
        account = known_account(market, account_id)
        on = open_trading_day(market)
        return surrender_plan_view(market, account, year, on, reference_price_fen)

    return await hub.runtime(market_id).read(plan)


# ---------------------------------------------------------------------- a participant's own


@router.post(
    ACCOUNT + "/surrenders",
    operation_id="surrender",
    status_code=201,
    response_model=ComplianceStatus,
    responses=REPEATED,
)
async def surrender(
    hub: HubDep,
    response: Response,
    market_id: MarketId,
    account_id: AccountPath,
    body: SurrenderRequest,
    who: CurrentPrincipal,
) -> dict[str, Any]:
    """Surrender own units for a compliance year, dated the market's trading day; they stay
    pending until the assessment."""
    own_account(who, account_id)
    runtime = hub.runtime(market_id)
    account = known_account(runtime.market, account_id)
    on = open_trading_day(runtime.market)
    items = tuple((UnitCode(item.unit), item.qty_t) for item in body.items)
    op_id = request_op_id(account, body.request_id, "surrender")
    op = Surrender(op_id, account, body.year, items, on)
    await apply_op(runtime, op, body.request_id, response)
    return compliance_view(runtime.market, account, body.year)


@router.post(
    ACCOUNT + "/surrenders/{year}/withdrawal",
    operation_id="withdrawSurrender",
    status_code=201,
    response_model=ComplianceStatus,
    responses=REPEATED,
)
async def withdraw_surrender(
    hub: HubDep,
    response: Response,
    market_id: MarketId,
    account_id: AccountPath,
    year: YearPath,
    body: WithdrawalRequest,
    who: CurrentPrincipal,
) -> dict[str, Any]:
    """Withdraw everything the account surrendered for ``year`` that is still pending (not yet
    assessed): the units go back to available (``NOTHING_PENDING`` when none wait)."""
    own_account(who, account_id)
    runtime = hub.runtime(market_id)
    account = known_account(runtime.market, account_id)
    op_id = request_op_id(account, body.request_id, "withdraw")
    await apply_op(runtime, WithdrawSurrender(op_id, account, year), body.request_id, response)
    return compliance_view(runtime.market, account, year)


@router.post(
    ACCOUNT + "/cancellations",
    operation_id="cancelUnits",
    status_code=201,
    response_model=UnitsCancelled,
    responses=REPEATED,
)
async def cancel_units(
    hub: HubDep,
    response: Response,
    market_id: MarketId,
    account_id: AccountPath,
    body: CancellationRequest,
    who: CurrentPrincipal,
) -> dict[str, Any]:
    """Cancel (retire for good, 自愿注销) own available units in a beneficiary's name."""
    own_account(who, account_id)
    runtime = hub.runtime(market_id)
    account = known_account(runtime.market, account_id)
    op_id = request_op_id(account, body.request_id, "cancel")
    unit = UnitCode(body.unit)
    on = runtime.market.trading_day
    op = Cancel(op_id, account, unit, body.qty_t, body.beneficiary, body.purpose, on)
    await apply_op(runtime, op, body.request_id, response)
    made = [
        (serial, day)
        for serial, c, day in runtime.market.registry.cancellations(account)
        if c.op_id == op_id
    ]
    serial, day = made[0]
    return {
        "op_id": op_id,
        "account_id": account_id,
        "unit": unit,
        "qty_t": body.qty_t,
        "beneficiary": body.beneficiary,
        "purpose": body.purpose,
        "serial": serial,
        "on": None if day is None else day.isoformat(),
    }


# What the app includes: the reads and a participant's own operations, and the operators'.
