"""Allocation and issuance (配额分配, 签发): the verified emissions and net sales that allocation
and compliance rest on; pre-allocation, the true-up (核定) and intensity allocation, which issue
the allowances of a vintage through the national and provincial authority accounts or take
back what was allocated too much; paid issuance of allowances; issuance of offsets.

The arithmetic is ``registry_sim.allocation``'s; here are the checks and the postings.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

from registry_sim.allocation import (
    benchmark_allocation_t,
    final_allocation_t,
    intensity_allocation_t,
    pre_allocation_t,
)
from registry_sim.codes import RefusalError, RegistryCode
from registry_sim.handlers.accounts import require_entity, require_quantity, require_receiver
from registry_sim.ledger import Posting
from registry_sim.model import (
    ISSUANCE,
    NATIONAL,
    Account,
    AccountId,
    AccountKind,
    HoldingState,
    cea,
    offset_unit,
    provincial_authority,
)
from registry_sim.ops import (
    AllocateByIntensity,
    AllocateFixed,
    IssueAllowances,
    IssueOffsets,
    OweDeduction,
    PreAllocate,
    RecordEmissions,
    RecordNetSales,
    TrueUpAllocation,
)
from registry_sim.outcomes import Done

if TYPE_CHECKING:
    from registry_sim.registry import Registry

AVAILABLE = HoldingState.AVAILABLE
Details = dict[str, Any]


# ---------------------------------------------------------------------- emissions


def record_emissions(reg: Registry, op: RecordEmissions) -> Done:
    require_entity(reg, op.account_id)
    if op.verified_t < 0:
        raise RefusalError(RegistryCode.INVALID_QUANTITY, qty_t=op.verified_t)
    if (op.account_id, op.year) in reg._verified:
        raise RefusalError(
            RegistryCode.EMISSIONS_ALREADY_RECORDED,
            year=op.year,
            verified_t=reg._verified[(op.account_id, op.year)],
        )
    reg._verified[(op.account_id, op.year)] = op.verified_t
    return Done(op.op_id)


def owe_deduction(reg: Registry, op: OweDeduction) -> Done:
    """An ordered allocation cut: owed, and taken from the entity's next allocation."""
    require_entity(reg, op.account_id)
    if op.qty_t <= 0:
        raise RefusalError(RegistryCode.INVALID_QUANTITY, qty_t=op.qty_t)
    owed = reg._deduction_owed.get(op.account_id, 0) + op.qty_t
    reg._deduction_owed[op.account_id] = owed
    return Done(op.op_id, (), {"deduction_added_t": op.qty_t, "deduction_owed_t": owed})


def record_net_sales(reg: Registry, op: RecordNetSales) -> Done:
    require_entity(reg, op.account_id)
    reg._net_sales[op.account_id] = max(op.net_sales_t, 0)
    return Done(op.op_id)


# ---------------------------------------------------------------------- allocation


def pre_allocate(reg: Registry, op: PreAllocate) -> Done:
    require_entity(reg, op.account_id)
    already = reg._allocated.get((op.account_id, op.year))
    if already is not None:
        raise RefusalError(RegistryCode.ALREADY_PRE_ALLOCATED, year=op.year, allocated_t=already)
    previous = reg._verified_or_refuse(op.account_id, op.year - 1)
    amount = pre_allocation_t(previous, reg.rules.allocation)
    return allocate(reg, op.op_id, op.account_id, op.year, amount, {"basis_t": previous})


def true_up(reg: Registry, op: TrueUpAllocation) -> Done:
    account = require_entity(reg, op.account_id)
    verified = reg._verified_or_refuse(op.account_id, op.year)
    try:
        benchmark = Fraction(op.benchmark)
        factors = tuple(Fraction(f) for f in op.factors)
    except (ValueError, ZeroDivisionError):
        raise RefusalError(
            RegistryCode.INVALID_ALLOCATION_INPUT,
            benchmark=op.benchmark,
            factors=list(op.factors),
        ) from None
    if op.output < 0 or benchmark <= 0 or any(f <= 0 for f in factors):
        raise RefusalError(
            RegistryCode.INVALID_ALLOCATION_INPUT,
            output=op.output,
            benchmark=op.benchmark,
            factors=list(op.factors),
        )
    by_benchmark = benchmark_allocation_t(op.output, benchmark, factors)
    final = final_allocation_t(
        by_benchmark, verified, gas_fired=account.gas_fired, rules=reg.rules.allocation
    )
    return settle_final(reg, op.op_id, op.account_id, op.year, final, {"benchmark_t": by_benchmark})


def allocate_by_intensity(reg: Registry, op: AllocateByIntensity) -> Done:
    require_entity(reg, op.account_id)
    rules = reg.rules.allocation
    if not rules.alpha_min_bp <= op.alpha_bp <= rules.alpha_max_bp:
        raise RefusalError(
            RegistryCode.ALPHA_OUT_OF_RANGE,
            alpha_bp=op.alpha_bp,
            alpha_min_bp=rules.alpha_min_bp,
            alpha_max_bp=rules.alpha_max_bp,
        )
    verified = reg._verified_or_refuse(op.account_id, op.year)
    final = intensity_allocation_t(verified, op.alpha_bp)
    return settle_final(reg, op.op_id, op.account_id, op.year, final, {})


def allocate_fixed(reg: Registry, op: AllocateFixed) -> Done:
    require_entity(reg, op.account_id)
    require_quantity(op.qty_t)
    return allocate(reg, op.op_id, op.account_id, op.year, op.qty_t, {})


def settle_final(
    reg: Registry, op_id: str, account_id: AccountId, year: int, final: int, extra: Details
) -> Done:
    """Issue or take back the difference between ``final`` and what ``year`` has had."""
    already = reg._allocated.get((account_id, year), 0)
    extra = {**extra, "final_t": final, "already_allocated_t": already}
    if final >= already:
        return allocate(reg, op_id, account_id, year, final - already, extra)
    excess = already - final
    unit = cea(year).code
    returned = min(excess, reg.ledger.balance(account_id, unit))
    postings = []
    if returned:
        postings.append(
            reg.ledger.post(op_id, unit, returned, (account_id, AVAILABLE), (NATIONAL, AVAILABLE))
        )
    owed = excess - returned
    if owed:
        reg._deduction_owed[account_id] = reg._deduction_owed.get(account_id, 0) + owed
    reg._set_allocated(account_id, year, final)
    return Done(
        op_id, tuple(postings), {**extra, "returned_t": returned, "deduction_added_t": owed}
    )


def allocate(
    reg: Registry, op_id: str, account_id: AccountId, year: int, amount: int, extra: Details
) -> Done:
    """Issue ``amount`` of vintage ``year`` through the national and provincial authority
    accounts to the entity, less any deduction it owes (from a past shortfall)."""
    owed = reg._deduction_owed.get(account_id, 0)
    deducted = min(owed, amount)
    issued = amount - deducted
    if deducted:
        reg._deduction_owed[account_id] = owed - deducted
    reg._set_allocated(account_id, year, reg._allocated.get((account_id, year), 0) + amount)
    unit = cea(year)
    reg._units.setdefault(unit.code, unit)
    postings: list[Posting] = []
    if issued:
        province = provincial_authority(reg._accounts[account_id].province or "unknown")
        if province not in reg._accounts:
            reg._accounts[province] = Account(
                province, AccountKind.PROVINCIAL_AUTHORITY, f"Provincial authority {province}"
            )
        post = reg.ledger.post
        postings.append(
            post(op_id, unit.code, issued, (ISSUANCE, AVAILABLE), (NATIONAL, AVAILABLE))
        )
        postings.append(
            post(op_id, unit.code, issued, (NATIONAL, AVAILABLE), (province, AVAILABLE))
        )
        postings.append(
            post(op_id, unit.code, issued, (province, AVAILABLE), (account_id, AVAILABLE))
        )
    details = {**extra, "allocation_t": amount, "deducted_t": deducted, "issued_t": issued}
    return Done(op_id, tuple(postings), details)


# ---------------------------------------------------------------------- issuance


def issue_allowances(reg: Registry, op: IssueAllowances) -> Done:
    require_receiver(reg, op.account_id)
    require_quantity(op.qty_t)
    unit = cea(op.vintage)
    reg._units.setdefault(unit.code, unit)
    post = reg.ledger.post
    return Done(
        op.op_id,
        (
            post(op.op_id, unit.code, op.qty_t, (ISSUANCE, AVAILABLE), (NATIONAL, AVAILABLE)),
            post(op.op_id, unit.code, op.qty_t, (NATIONAL, AVAILABLE), (op.account_id, AVAILABLE)),
        ),
    )


def issue_offsets(reg: Registry, op: IssueOffsets) -> Done:
    require_receiver(reg, op.account_id)
    project = reg._projects.get(op.project_id)
    if project is None:
        raise RefusalError(RegistryCode.UNKNOWN_PROJECT, project_id=op.project_id)
    require_quantity(op.qty_t)
    unit = offset_unit(project, op.vintage)
    reg._units.setdefault(unit.code, unit)
    posting = reg.ledger.post(
        op.op_id, unit.code, op.qty_t, (ISSUANCE, AVAILABLE), (op.account_id, AVAILABLE)
    )
    return Done(op.op_id, (posting,), {"unit": unit.code})
