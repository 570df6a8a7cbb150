"""Registry operations. Each carries an ``op_id``: applying a completed operation again answers
its first result and changes nothing; reusing an id for a different operation is refused. A
refused operation does not use up its id: sent again once the refusal's cause is gone, it runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from registry_sim.model import Account, AccountId, Project, UnitCode


@dataclass(frozen=True, slots=True)
class OpenAccount:
    op_id: str
    account: Account


@dataclass(frozen=True, slots=True)
class RegisterProject:
    op_id: str
    project: Project


@dataclass(frozen=True, slots=True)
class RecordEmissions:
    """Verified emissions (核查排放量) of a covered entity for ``year``."""

    op_id: str
    account_id: AccountId
    year: int
    verified_t: int


@dataclass(frozen=True, slots=True)
class OweDeduction:
    """An allocation cut the authority orders (the 2024 Regulation, Art. 22: an entity that
    will not correct false data loses part of next year's allocation): ``qty_t`` added to
    what the entity owes, deducted from its next allocation as a shortfall's deduction is."""

    op_id: str
    account_id: AccountId
    qty_t: int


@dataclass(frozen=True, slots=True)
class RecordNetSales:
    """The entity's net allowance sales in the conversion period (for the old-vintage cap)."""

    op_id: str
    account_id: AccountId
    net_sales_t: int


@dataclass(frozen=True, slots=True)
class PreAllocate:
    """Pre-allocation (预分配) of vintage ``year``: a share of year - 1's verified emissions."""

    op_id: str
    account_id: AccountId
    year: int


@dataclass(frozen=True, slots=True)
class TrueUpAllocation:
    """Final allocation (核定) for ``year`` from output × benchmark × factors, issued or taken
    back against what was already allocated. Benchmark and factors are decimal text."""

    op_id: str
    account_id: AccountId
    year: int
    output: int
    benchmark: str
    factors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AllocateByIntensity:
    """Steel, cement, aluminium: verified emissions × (1 + α), α in basis points."""

    op_id: str
    account_id: AccountId
    year: int
    alpha_bp: int


@dataclass(frozen=True, slots=True)
class AllocateFixed:
    """Free allocation (免费分配) of a fixed ``qty_t`` of vintage ``year`` (a scenario's
    baseline × share, a class's grant): like every allocation, issued less what the entity owes
    from an earlier shortfall (docs/rules.md, next-year deduction)."""

    op_id: str
    account_id: AccountId
    year: int
    qty_t: int


@dataclass(frozen=True, slots=True)
class IssueAllowances:
    """Paid issuance (有偿发放), e.g. to an auction's winner."""

    op_id: str
    account_id: AccountId
    vintage: int
    qty_t: int


@dataclass(frozen=True, slots=True)
class IssueOffsets:
    """Issue offset units of a registered project's vintage to an account."""

    op_id: str
    account_id: AccountId
    project_id: str
    vintage: int
    qty_t: int


@dataclass(frozen=True, slots=True)
class Transfer:
    op_id: str
    from_account: AccountId
    to_account: AccountId
    unit: UnitCode
    qty_t: int


@dataclass(frozen=True, slots=True)
class Freeze:
    """Judicial freeze (司法冻结) of available units."""

    op_id: str
    account_id: AccountId
    unit: UnitCode
    qty_t: int
    reference: str


@dataclass(frozen=True, slots=True)
class Unfreeze:
    op_id: str
    account_id: AccountId
    unit: UnitCode
    qty_t: int
    reference: str


@dataclass(frozen=True, slots=True)
class Hold:
    """Hold available units for an open sell order."""

    op_id: str
    account_id: AccountId
    unit: UnitCode
    qty_t: int


@dataclass(frozen=True, slots=True)
class ReleaseHold:
    op_id: str
    account_id: AccountId
    unit: UnitCode
    qty_t: int


@dataclass(frozen=True, slots=True)
class Surrender:
    """Submit units for compliance year ``year`` (清缴). They wait, pending, until the
    assessment retires them; they can be withdrawn until then."""

    op_id: str
    account_id: AccountId
    year: int
    items: tuple[tuple[UnitCode, int], ...]
    on: dt.date


@dataclass(frozen=True, slots=True)
class WithdrawSurrender:
    op_id: str
    account_id: AccountId
    year: int


@dataclass(frozen=True, slots=True)
class Cancel:
    """Voluntary cancellation (自愿注销): units retired for good in a beneficiary's name, on
    the market's trading day ``on`` (None in journals written before it was recorded)."""

    op_id: str
    account_id: AccountId
    unit: UnitCode
    qty_t: int
    beneficiary: str
    purpose: str
    on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Assess:
    """Compliance assessment at the deadline: retire what is pending, set shortfall, penalty
    and next year's deduction. ``reference_price_fen`` is the previous month's average price."""

    op_id: str
    account_id: AccountId
    year: int
    reference_price_fen: int
    on: dt.date


Op = (
    OpenAccount
    | RegisterProject
    | RecordEmissions
    | RecordNetSales
    | OweDeduction
    | PreAllocate
    | TrueUpAllocation
    | AllocateByIntensity
    | AllocateFixed
    | IssueAllowances
    | IssueOffsets
    | Transfer
    | Freeze
    | Unfreeze
    | Hold
    | ReleaseHold
    | Surrender
    | WithdrawSurrender
    | Cancel
    | Assess
)
