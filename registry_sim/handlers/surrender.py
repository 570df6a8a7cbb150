"""Surrender and assessment (清缴, 履约): an entity submits units for a compliance year, where
they wait, pending, until the assessment at the deadline; it may withdraw them until then. The
assessment retires what is pending and records the year's outcome: shortfall, penalty and the
deduction from next year's allocation.

Which units may cover a year, and how many, is ``registry_sim.compliance``'s to say; the caps
and the penalty come from the registry's compliance queries (``Registry._offset_cap``,
``Registry._old_vintage_cap``, ``Registry.penalty_fen``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from registry_sim.codes import RefusalError, RegistryCode
from registry_sim.compliance import check_surrender, is_local
from registry_sim.handlers.accounts import require_held, require_quantity, require_unit_type
from registry_sim.model import RETIRED, HoldingState, UnitCode, UnitKind
from registry_sim.ops import Assess, Surrender, WithdrawSurrender
from registry_sim.outcomes import ComplianceRecord, Done

if TYPE_CHECKING:
    from registry_sim.registry import Registry

AVAILABLE = HoldingState.AVAILABLE


def surrender(reg: Registry, op: Surrender) -> Done:
    obligation = reg._open_year(op.account_id, op.year)
    deadline = reg.rules.compliance.deadline(op.year)
    if op.on > deadline:
        raise RefusalError(
            RegistryCode.DEADLINE_PASSED,
            year=op.year,
            deadline=deadline.isoformat(),
            on=op.on.isoformat(),
        )
    if not op.items:
        raise RefusalError(RegistryCode.EMPTY_SURRENDER, year=op.year, items=0)
    units = {}
    for code, qty in op.items:
        units[code] = require_unit_type(reg, code)
        require_quantity(qty)
    wanted: dict[UnitCode, int] = {}
    for code, qty in op.items:
        wanted[code] = wanted.get(code, 0) + qty
    for code, qty in wanted.items():
        require_held(reg, op.account_id, code, AVAILABLE, qty)
    # The cap's basis may be another year's emissions: needed only when offsets are used.
    with_offsets = any(units[code].kind is not UnitKind.CEA for code in wanted)
    check_surrender(
        reg.rules.compliance,
        year=op.year,
        on=op.on,
        items=[(units[code], qty) for code, qty in wanted.items()],
        projects=reg._projects,
        obligation_t=obligation,
        offset_cap_t=reg._offset_cap(op.account_id, op.year) if with_offsets else 0,
        book=reg._surrenders,
        account_id=op.account_id,
        old_vintage_cap_t=reg._old_vintage_cap(op.account_id),
    )
    postings = []
    for code, qty in wanted.items():
        postings.append(
            reg.ledger.post(
                op.op_id,
                code,
                qty,
                (op.account_id, AVAILABLE),
                (op.account_id, HoldingState.PENDING),
            )
        )
        reg._surrenders.add(
            op.account_id,
            op.year,
            units[code],
            qty,
            is_local(units[code], reg._projects, reg.rules.compliance),
        )
    return Done(op.op_id, tuple(postings))


def withdraw_surrender(reg: Registry, op: WithdrawSurrender) -> Done:
    reg._open_year(op.account_id, op.year)
    pending = reg._surrenders.pending(op.account_id, op.year)
    if not pending:
        raise RefusalError(RegistryCode.NOTHING_PENDING, account_id=op.account_id, year=op.year)
    postings = []
    for unit, qty in pending:
        postings.append(
            reg.ledger.post(
                op.op_id,
                unit.code,
                qty,
                (op.account_id, HoldingState.PENDING),
                (op.account_id, AVAILABLE),
            )
        )
    reg._surrenders.withdraw(op.account_id, op.year)
    return Done(op.op_id, tuple(postings))


def assess(reg: Registry, op: Assess) -> Done:
    obligation = reg._open_year(op.account_id, op.year)
    deadline = reg.rules.compliance.deadline(op.year)
    if op.on < deadline:
        raise RefusalError(
            RegistryCode.DEADLINE_NOT_REACHED,
            year=op.year,
            deadline=deadline.isoformat(),
            on=op.on.isoformat(),
        )
    penalty_rules = reg.rules.penalty
    if op.reference_price_fen <= 0 and penalty_rules.kind == "price_multiple":
        raise RefusalError(RegistryCode.INVALID_PRICE, reference_price_fen=op.reference_price_fen)
    postings = []
    for unit, qty in reg._surrenders.pending(op.account_id, op.year):
        postings.append(
            reg.ledger.post(
                op.op_id,
                unit.code,
                qty,
                (op.account_id, HoldingState.PENDING),
                (RETIRED, AVAILABLE),
            )
        )
    reg._surrenders.retire(op.account_id, op.year)
    allowances, offsets = reg._surrenders.totals(op.account_id, op.year)
    shortfall = max(0, obligation - allowances - offsets)
    penalty = reg.penalty_fen(shortfall, op.reference_price_fen)
    deduction = 0
    if reg.rules.allocation.deduct_shortfall_next_year:  # national × 1, Guangdong × 2
        deduction = shortfall * penalty_rules.deduction_multiple
    if deduction:
        reg._deduction_owed[op.account_id] = reg._deduction_owed.get(op.account_id, 0) + deduction
    record = ComplianceRecord(
        op.account_id,
        op.year,
        obligation,
        allowances,
        offsets,
        shortfall,
        penalty,
        deduction,
        op.reference_price_fen,
    )
    reg._records[(op.account_id, op.year)] = record
    return Done(op.op_id, tuple(postings), {"record": record})
