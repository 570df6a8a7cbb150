"""What the registry operations take and answer (``getHoldings``, ``getSurrenderPlan``,
``allocate``, ``transferUnits``, ``issueOffsets``, ``assessCompliance``, ...), as TypedDicts
like ``types``. Enumerations (unit kind, order status) are their string values.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

from exchange.client.types import ComplianceRecord


class IssueAllocation(TypedDict):
    """Plain issuance (有偿发放, e.g. an auction's winner) of ``qty_t`` allowances of
    ``vintage``: bought, so never deducted from."""

    method: Literal["issue"]
    vintage: int
    qty_t: int
    request_id: NotRequired[str | None]


class FixedAllocation(TypedDict):
    """Free allocation (免费分配) of a fixed ``qty_t`` of vintage ``year``, less what the
    entity owes from an earlier shortfall."""

    method: Literal["fixed"]
    year: int
    qty_t: int
    request_id: NotRequired[str | None]


class PreAllocation(TypedDict):
    """Pre-allocation (预分配) of vintage ``year``: the rule set's share of year - 1's emissions."""

    method: Literal["pre_allocation"]
    year: int
    request_id: NotRequired[str | None]


class TrueUp(TypedDict):
    """Final allocation (核定): output × benchmark × factors (decimal text), issued or taken
    back against what ``year`` already had."""

    method: Literal["true_up"]
    year: int
    output: int
    benchmark: str
    factors: NotRequired[list[str]]  # default: none
    request_id: NotRequired[str | None]


class IntensityAllocation(TypedDict):
    """Steel, cement, aluminium: verified emissions × (1 + α), α in basis points."""

    method: Literal["intensity"]
    year: int
    alpha_bp: int
    request_id: NotRequired[str | None]


class UnitHolding(TypedDict):
    unit: str
    kind: str
    vintage: int
    project_id: str | None
    available_t: int
    held_t: int
    pending_t: int
    frozen_t: int
    locked_t: int
    sellable_t: int
    total_t: int


class KindTotals(TypedDict):
    available_t: int
    held_t: int
    pending_t: int
    frozen_t: int
    locked_t: int
    sellable_t: int
    total_t: int
    kind: str


class HoldingTotals(TypedDict):
    available_t: int
    held_t: int
    pending_t: int
    frozen_t: int
    locked_t: int
    sellable_t: int
    total_t: int


class Holdings(TypedDict):
    account_id: str
    units: list[UnitHolding]
    by_kind: list[KindTotals]
    totals: HoldingTotals


class PlanItem(TypedDict):
    unit: str
    kind: str
    vintage: int
    project_id: str | None
    qty_t: int


class SurrenderPlan(TypedDict):
    account_id: str
    year: int
    on: str
    deadline: str
    obligation_t: int
    surrendered_t: int
    remaining_t: int
    offset_cap_bp: int
    offset_cap_t: int
    offset_cap_left_t: int
    items: list[PlanItem]
    planned_allowances_t: int
    planned_offsets_t: int
    shortfall_after_plan_t: int
    reference_price_fen: int | None
    reference_price_basis: Literal["request", "window_vwap", "last_close"] | None
    reference_price_symbol: str | None
    penalty_kind: str
    penalty_multiplier: int
    projected_penalty_fen: int | None


class UnitsCancelled(TypedDict):
    op_id: str
    account_id: str
    unit: str
    qty_t: int
    beneficiary: str
    purpose: str
    serial: int  # its number in the retired register
    on: str | None


class CancellationView(TypedDict):
    serial: int
    op_id: str
    account_id: str
    account_name: str
    unit: str
    unit_name: dict[str, str]
    kind: str
    vintage: int
    project_id: str | None
    qty_t: int
    beneficiary: str
    purpose: str
    on: str | None


class RetiredRegister(TypedDict):
    market_id: str
    cancellations: list[CancellationView]
    total_t: int


class Cancellations(TypedDict):
    account_id: str
    cancellations: list[CancellationView]
    total_t: int


class LargeHolderReport(TypedDict):
    seq: int
    account_id: str
    trading_day: str
    position_t: int
    threshold_t: int


class LargeHolderReports(TypedDict):
    market_id: str
    reports: list[LargeHolderReport]


class Statement(TypedDict):
    trading_day: str
    cash_available_fen: int
    cash_held_fen: int
    cash_withdrawable_fen: int
    fees_fen: int
    trades: dict[str, dict[str, int]]
    holdings: dict[str, dict[str, int]]


class Statements(TypedDict):
    account_id: str
    statements: list[Statement]


class Certificate(TypedDict):
    certificate_no: str
    cancellation: CancellationView
    html: str


class Allocated(TypedDict):
    op_id: str
    account_id: str
    method: str
    unit: str
    allocation_t: int
    issued_t: int
    deducted_t: int
    returned_t: int
    deduction_added_t: int
    final_t: int | None
    basis_t: int | None


class Transferred(TypedDict):
    op_id: str
    from_account: str
    to_account: str
    unit: str
    qty_t: int


class FreezeDone(TypedDict):
    op_id: str
    account_id: str
    unit: str
    qty_t: int
    reference: str


class ProjectRegistered(TypedDict):
    op_id: str
    project_id: str
    kind: str
    methodology: str
    province: str
    start_date: str
    registration_date: str
    inside_ets_scope: bool


class NetSalesRecorded(TypedDict):
    op_id: str
    account_id: str
    source: Literal["request", "statements"]
    computed_t: int
    net_sales_t: int
    period_from: str | None
    period_until: str | None
    days_read: int
    old_vintage_cap_t: int


class OffsetsIssued(TypedDict):
    op_id: str
    project_id: str
    account_id: str
    unit: str
    vintage: int
    qty_t: int


class Assessment(TypedDict):
    year: int
    assessed: list[ComplianceRecord]
    total_penalty_fen: int


class ClientOrder(TypedDict):
    order_id: int
    account_id: str
    client_order_id: str
    trading_day: str
    symbol: str
    side: str
    order_type: str
    price_fen: int | None
    stp: str
    submitted_t: int
    filled_t: int
    leaves_t: int
    cancelled_t: int
    status: str
    cancel_reason: str | None


Allocation = IssueAllocation | FixedAllocation | PreAllocation | TrueUp | IntensityAllocation
