"""The registry operations' request bodies and replies (``exchange.api.routes.registry``).

Bodies follow ``exchange.api.models``: strict, closed and bounded; quantities in tonnes, money
in fen. A mutating body may carry a ``request_id`` for an idempotent retry
(``exchange.api.registry_common``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from exchange.api.models import (
    MAX_AMOUNT,
    AccountIdText,
    Body,
    ComplianceRecord,
    Reply,
    RequestId,
    Tonnes,
    UnitText,
    Year,
)
from registry_sim.model import UnitKind

# ---------------------------------------------------------------------- request bodies


def _iso_date(value: object) -> dt.date:
    """Dates as ISO text only (bodies are strict, and JSON has no date type)."""
    if not isinstance(value, str):
        raise ValueError("a date is ISO text, YYYY-MM-DD")
    return dt.date.fromisoformat(value)


DateText = Annotated[dt.date, BeforeValidator(_iso_date)]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]
OFFSET_KINDS = [k.value for k in UnitKind if k is not UnitKind.CEA]
OffsetKind = Annotated[str, Field(pattern=f"^({'|'.join(OFFSET_KINDS)})$")]
Reference = Annotated[str, Field(pattern=r"^[\x21-\x7e]{1,64}$")]  # a court order's number


class CancellationRequest(Body):
    unit: UnitText
    qty_t: Tonnes
    beneficiary: Text200
    purpose: Annotated[str, Field(max_length=500)] = ""
    request_id: RequestId | None = None


class IssueAllocation(Body):
    """Plain issuance (有偿发放, e.g. an auction's winner) of ``qty_t`` allowances of
    ``vintage``: bought, so never deducted from."""

    method: Literal["issue"]
    vintage: Year
    qty_t: Tonnes
    request_id: RequestId | None = None


class FixedAllocation(Body):
    """Free allocation (免费分配) of a fixed ``qty_t`` of vintage ``year`` to a covered entity,
    less what it owes from an earlier shortfall (the next-year deduction)."""

    method: Literal["fixed"]
    year: Year
    qty_t: Tonnes
    request_id: RequestId | None = None


class PreAllocation(Body):
    """Pre-allocation (预分配) of vintage ``year``: the rule set's share of year - 1's emissions."""

    method: Literal["pre_allocation"]
    year: Year
    request_id: RequestId | None = None


class TrueUp(Body):
    """Final allocation (核定): output × benchmark × factors (decimal text), issued or taken
    back against what ``year`` already had."""

    method: Literal["true_up"]
    year: Year
    output: Annotated[int, Field(ge=0, le=MAX_AMOUNT)]
    benchmark: Annotated[str, Field(pattern=r"^[0-9]{1,12}(\.[0-9]{1,12})?$")]
    factors: list[Annotated[str, Field(pattern=r"^[0-9]{1,12}(\.[0-9]{1,12})?$")]] = Field(
        default_factory=list, max_length=10
    )
    request_id: RequestId | None = None


class IntensityAllocation(Body):
    """Steel, cement, aluminium: verified emissions × (1 + α), α in basis points."""

    method: Literal["intensity"]
    year: Year
    alpha_bp: Annotated[int, Field(ge=-10_000, le=10_000)]
    request_id: RequestId | None = None


AllocationRequest = Annotated[
    IssueAllocation | FixedAllocation | PreAllocation | TrueUp | IntensityAllocation,
    Field(discriminator="method"),
]


class TransferRequest(Body):
    from_account: AccountIdText
    to_account: AccountIdText
    unit: UnitText
    qty_t: Tonnes
    request_id: RequestId | None = None


class FreezeRequest(Body):
    unit: UnitText
    qty_t: Tonnes
    reference: Reference
    request_id: RequestId | None = None


class ProjectRegistration(Body):
    project_id: AccountIdText
    kind: OffsetKind = UnitKind.CCER.value
    methodology: Annotated[str, Field(min_length=1, max_length=64)]
    province: Annotated[str, Field(min_length=1, max_length=64)]
    start_date: DateText
    registration_date: DateText
    inside_ets_scope: bool = False
    request_id: RequestId | None = None


class NetSalesRequest(Body):
    """An entity's net allowance sales for the old-vintage cap: the figure given, or (left
    out) computed from its daily statements over the rule set's period."""

    net_sales_t: Annotated[int, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT)] | None = None
    request_id: RequestId | None = None


class OffsetIssuance(Body):
    account_id: AccountIdText
    vintage: Year
    qty_t: Tonnes
    request_id: RequestId | None = None


class AssessmentRequest(Body):
    # The previous month's average price (docs/rules.md, national: penalty); default: the
    # penalty reference price (the window's volume-weighted price, else the last close).
    reference_price_fen: Annotated[int, Field(ge=1, le=MAX_AMOUNT)] | None = None
    account_ids: list[AccountIdText] | None = Field(default=None, max_length=1_000)
    request_id: RequestId | None = None


# ---------------------------------------------------------------------- replies


class UnitHolding(Reply):
    unit: str
    kind: UnitKind
    vintage: int
    project_id: str | None
    available_t: int
    held_t: int  # for open sell orders
    pending_t: int  # surrendered, awaiting the assessment
    frozen_t: int  # judicial freeze
    locked_t: int  # available but bought within T+N: not yet sellable
    sellable_t: int
    total_t: int


class HoldingTotals(Reply):
    available_t: int
    held_t: int
    pending_t: int
    frozen_t: int
    locked_t: int
    sellable_t: int
    total_t: int


class KindTotals(HoldingTotals):
    kind: UnitKind


class Holdings(Reply):
    account_id: str
    units: list[UnitHolding]
    by_kind: list[KindTotals]
    totals: HoldingTotals


class PlanItem(Reply):
    unit: str
    kind: UnitKind
    vintage: int
    project_id: str | None
    qty_t: int


class SurrenderPlan(Reply):
    account_id: str
    year: int
    on: str  # the market's trading day, the date a surrender would carry
    deadline: str
    obligation_t: int
    surrendered_t: int  # already surrendered for the year, pending or retired
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
    projected_penalty_fen: int | None  # None: no reference price to compute it with


class UnitsCancelled(Reply):
    op_id: str
    account_id: str
    unit: str
    qty_t: int
    beneficiary: str
    purpose: str
    serial: int  # its number in the retired register (getCancellationCertificate)
    on: str | None  # the market's trading day it was made on


class CancellationView(Reply):
    serial: int
    op_id: str
    account_id: str
    account_name: str
    unit: str
    unit_name: dict[str, str]  # language → display name
    kind: UnitKind
    vintage: int
    project_id: str | None
    qty_t: int
    beneficiary: str
    purpose: str
    on: str | None  # None: made before the day was recorded


class RetiredRegister(Reply):
    market_id: str
    cancellations: list[CancellationView]
    total_t: int


class Cancellations(Reply):
    account_id: str
    cancellations: list[CancellationView]
    total_t: int


class LargeHolderReport(Reply):
    seq: int  # the journal seq of the command that made it
    account_id: str
    trading_day: str
    position_t: int
    threshold_t: int


class LargeHolderReports(Reply):
    market_id: str
    reports: list[LargeHolderReport]


class Statement(Reply):
    trading_day: str
    cash_available_fen: int
    cash_held_fen: int
    cash_withdrawable_fen: int
    fees_fen: int
    trades: dict[str, dict[str, int]]  # symbol → bought_t, bought_fen, sold_t, sold_fen
    holdings: dict[str, dict[str, int]]  # unit → state → tonnes


class Statements(Reply):
    account_id: str
    statements: list[Statement]


class Certificate(Reply):
    certificate_no: str
    cancellation: CancellationView
    html: str  # the bilingual page (?format=html answers it alone)


class Allocated(Reply):
    op_id: str
    account_id: str
    method: str
    unit: str
    allocation_t: int  # what the method decided to add (true-up: the change)
    issued_t: int
    deducted_t: int  # withheld against a past shortfall
    returned_t: int  # a true-up below what was allocated: units taken back
    deduction_added_t: int  # ... and what could not be taken back, deducted next time
    final_t: int | None
    basis_t: int | None  # pre-allocation: last year's verified emissions


class Transferred(Reply):
    op_id: str
    from_account: str
    to_account: str
    unit: str
    qty_t: int


class FreezeDone(Reply):
    op_id: str
    account_id: str
    unit: str
    qty_t: int
    reference: str


class ProjectRegistered(Reply):
    op_id: str
    project_id: str
    kind: UnitKind
    methodology: str
    province: str
    start_date: str
    registration_date: str
    inside_ets_scope: bool


class NetSalesRecorded(Reply):
    op_id: str
    account_id: str
    source: Literal["request", "statements"]
    computed_t: int  # as given, or sold less bought over the period (negative: a net buyer)
    net_sales_t: int  # what counts: never below 0
    period_from: str | None  # the rule set's period (the statements read), None if given
    period_until: str | None
    days_read: int  # cleared trading days with a statement in the period
    old_vintage_cap_t: int  # cap_base_t + multiplier × net_sales_t


class OffsetsIssued(Reply):
    op_id: str
    project_id: str
    account_id: str
    unit: str
    vintage: int
    qty_t: int


class Assessment(Reply):
    year: int
    assessed: list[ComplianceRecord]
    total_penalty_fen: int
