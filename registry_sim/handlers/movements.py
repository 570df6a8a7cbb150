"""Unit movements: transfers between accounts; judicial freezes (司法冻结) and their release,
by the court's reference; holds for open sell orders and their release; voluntary cancellation
(自愿注销), which retires units for good in a beneficiary's name.

Every one is a single posting from an (account, state) to another, after the same checks
(``move``). Surrender moves units too, but for a compliance year (``handlers.surrender``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from registry_sim.codes import RefusalError, RegistryCode
from registry_sim.handlers.accounts import (
    CLOSED_ACCOUNTS,
    require_account,
    require_held,
    require_quantity,
    require_unit_type,
)
from registry_sim.model import RETIRED, AccountId, HoldingState, UnitCode
from registry_sim.ops import Cancel, Freeze, Hold, ReleaseHold, Transfer, Unfreeze
from registry_sim.outcomes import Done

if TYPE_CHECKING:
    from registry_sim.registry import Registry

AVAILABLE = HoldingState.AVAILABLE


def move(
    reg: Registry,
    op_id: str,
    account_id: AccountId,
    unit: UnitCode,
    qty_t: int,
    source: HoldingState,
    target: tuple[AccountId, HoldingState],
    *,
    retiring: bool = False,
) -> Done:
    require_account(reg, account_id)
    require_account(reg, target[0])
    # Units enter circulation only by issuance and leave it only by surrender or
    # cancellation: no ordinary movement starts or ends in those two accounts.
    if account_id in CLOSED_ACCOUNTS or (target[0] in CLOSED_ACCOUNTS and not retiring):
        raise RefusalError(RegistryCode.SYSTEM_ACCOUNT, account_id=account_id, to_account=target[0])
    require_unit_type(reg, unit)
    require_quantity(qty_t)
    require_held(reg, account_id, unit, source, qty_t)
    return Done(op_id, (reg.ledger.post(op_id, unit, qty_t, (account_id, source), target),))


def transfer(reg: Registry, op: Transfer) -> Done:
    target = (op.to_account, AVAILABLE)
    return move(reg, op.op_id, op.from_account, op.unit, op.qty_t, AVAILABLE, target)


def freeze(reg: Registry, op: Freeze) -> Done:
    target = (op.account_id, HoldingState.FROZEN)
    done = move(reg, op.op_id, op.account_id, op.unit, op.qty_t, AVAILABLE, target)
    key = (op.account_id, op.unit, op.reference)
    reg._freezes[key] = reg._freezes.get(key, 0) + op.qty_t
    return done


def unfreeze(reg: Registry, op: Unfreeze) -> Done:
    """Release units frozen under the same reference (a court's order), no more."""
    key = (op.account_id, op.unit, op.reference)
    frozen = reg._freezes.get(key, 0)
    if op.qty_t > frozen:
        raise RefusalError(
            RegistryCode.FREEZE_NOT_FOUND,
            reference=op.reference,
            frozen_t=frozen,
            requested_t=op.qty_t,
        )
    target = (op.account_id, AVAILABLE)
    done = move(reg, op.op_id, op.account_id, op.unit, op.qty_t, HoldingState.FROZEN, target)
    if frozen == op.qty_t:
        del reg._freezes[key]
    else:
        reg._freezes[key] = frozen - op.qty_t
    return done


def hold(reg: Registry, op: Hold) -> Done:
    target = (op.account_id, HoldingState.HELD)
    return move(reg, op.op_id, op.account_id, op.unit, op.qty_t, AVAILABLE, target)


def release_hold(reg: Registry, op: ReleaseHold) -> Done:
    target = (op.account_id, AVAILABLE)
    return move(reg, op.op_id, op.account_id, op.unit, op.qty_t, HoldingState.HELD, target)


def cancel(reg: Registry, op: Cancel) -> Done:
    done = move(
        reg,
        op.op_id,
        op.account_id,
        op.unit,
        op.qty_t,
        AVAILABLE,
        (RETIRED, AVAILABLE),
        retiring=True,
    )
    reg._cancellations.append(
        (op.op_id, op.account_id, op.unit, op.qty_t, op.beneficiary, op.purpose)
    )
    return Done(done.op_id, done.postings, {"beneficiary": op.beneficiary, "purpose": op.purpose})
