"""The registry's operation handlers, by group, and the table ``Registry.apply`` dispatches on.

- ``accounts``: opening accounts, registering projects, and the checks all groups share;
- ``allocation``: verified emissions, allocation (配额分配) and issuance of allowances and offsets;
- ``movements``: transfers, judicial freezes (冻结), holds and voluntary cancellation (注销);
- ``surrender``: surrender (清缴), its withdrawal and the compliance assessment.

A handler is a function ``(registry, op) -> Done``: it checks everything first, raising
``RefusalError`` before any change, then changes the registry's state. Handlers are the
registry's own code split by group: they read and write its private attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from registry_sim.handlers import accounts, allocation, movements, surrender
from registry_sim.ops import (
    AllocateByIntensity,
    AllocateFixed,
    Assess,
    Cancel,
    Freeze,
    Hold,
    IssueAllowances,
    IssueOffsets,
    OpenAccount,
    OweDeduction,
    PreAllocate,
    RecordEmissions,
    RecordNetSales,
    RegisterProject,
    ReleaseHold,
    Surrender,
    Transfer,
    TrueUpAllocation,
    Unfreeze,
    WithdrawSurrender,
)
from registry_sim.outcomes import Done

if TYPE_CHECKING:
    from registry_sim.registry import Registry

HANDLERS: Mapping[type, Callable[[Registry, Any], Done]] = {
    OpenAccount: accounts.open_account,
    RegisterProject: accounts.register_project,
    RecordEmissions: allocation.record_emissions,
    RecordNetSales: allocation.record_net_sales,
    OweDeduction: allocation.owe_deduction,
    PreAllocate: allocation.pre_allocate,
    TrueUpAllocation: allocation.true_up,
    AllocateByIntensity: allocation.allocate_by_intensity,
    AllocateFixed: allocation.allocate_fixed,
    IssueAllowances: allocation.issue_allowances,
    IssueOffsets: allocation.issue_offsets,
    Transfer: movements.transfer,
    Freeze: movements.freeze,
    Unfreeze: movements.unfreeze,
    Hold: movements.hold,
    ReleaseHold: movements.release_hold,
    Surrender: surrender.surrender,
    WithdrawSurrender: surrender.withdraw_surrender,
    Cancel: movements.cancel,
    Assess: surrender.assess,
}
