"""Accounts and projects (开户, 项目登记): opening an account, registering an offset project,
and the checks every operation group makes of the accounts, unit types and quantities it
names. A check returns what it looked up, or raises the ``RefusalError`` that ``apply`` turns
into a ``Refused``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from registry_sim.codes import RefusalError, RegistryCode
from registry_sim.model import (
    FEES,
    ISSUANCE,
    NATIONAL,
    RETIRED,
    Account,
    AccountId,
    AccountKind,
    HoldingState,
    UnitCode,
    UnitKind,
    UnitType,
)
from registry_sim.ops import OpenAccount, RegisterProject
from registry_sim.outcomes import Done

if TYPE_CHECKING:
    from registry_sim.registry import Registry

# Units enter circulation only from the issuance account and leave it only into the retired one.
CLOSED_ACCOUNTS = frozenset({ISSUANCE, RETIRED})

# The accounts every registry opens with.
SYSTEM_ACCOUNTS = (
    Account(ISSUANCE, AccountKind.ISSUANCE, "Issuance"),
    Account(NATIONAL, AccountKind.NATIONAL_AUTHORITY, "National authority"),
    Account(RETIRED, AccountKind.RETIRED, "Retired units"),
    Account(FEES, AccountKind.FEES, "Exchange fees"),
)


def open_account(reg: Registry, op: OpenAccount) -> Done:
    account = op.account
    if account.account_id in reg._accounts:
        raise RefusalError(RegistryCode.ACCOUNT_EXISTS, account_id=account.account_id)
    reg._accounts[account.account_id] = account
    return Done(op.op_id)


def register_project(reg: Registry, op: RegisterProject) -> Done:
    project = op.project
    if project.project_id in reg._projects:
        raise RefusalError(RegistryCode.PROJECT_EXISTS, project_id=project.project_id)
    if project.kind is UnitKind.CEA:
        raise RefusalError(RegistryCode.UNKNOWN_UNIT_TYPE, kind=project.kind.value)
    reg._projects[project.project_id] = project
    return Done(op.op_id)


# ---------------------------------------------------------------------- checks


def require_account(reg: Registry, account_id: AccountId) -> Account:
    account = reg._accounts.get(account_id)
    if account is None:
        raise RefusalError(RegistryCode.UNKNOWN_ACCOUNT, account_id=account_id)
    return account


def require_receiver(reg: Registry, account_id: AccountId) -> Account:
    """An account that may receive newly issued units: any but issuance and retired."""
    account = require_account(reg, account_id)
    if account_id in CLOSED_ACCOUNTS:
        raise RefusalError(RegistryCode.SYSTEM_ACCOUNT, account_id=account_id)
    return account


def require_entity(reg: Registry, account_id: AccountId) -> Account:
    """A covered entity's (重点排放单位) account."""
    account = require_account(reg, account_id)
    if account.kind is not AccountKind.COVERED_ENTITY:
        raise RefusalError(
            RegistryCode.NOT_A_COVERED_ENTITY, account_id=account_id, kind=account.kind.value
        )
    return account


def require_unit_type(reg: Registry, code: UnitCode) -> UnitType:
    unit = reg._units.get(code)
    if unit is None:
        raise RefusalError(RegistryCode.UNKNOWN_UNIT_TYPE, unit=code)
    return unit


def require_quantity(qty_t: int) -> None:
    if qty_t < 1:
        raise RefusalError(RegistryCode.INVALID_QUANTITY, qty_t=qty_t)


def require_held(
    reg: Registry, account_id: AccountId, unit: UnitCode, state: HoldingState, qty_t: int
) -> None:
    """``account_id`` holds at least ``qty_t`` of ``unit`` in ``state``."""
    held = reg.ledger.balance(account_id, unit, state)
    if held < qty_t:
        raise RefusalError(
            RegistryCode.INSUFFICIENT_UNITS,
            account_id=account_id,
            unit=unit,
            state=state.value,
            held_t=held,
            requested_t=qty_t,
        )
