"""The registry (注册登记) of one market: accounts, projects, holdings, allocation, surrender,
cancellation and compliance, under one rule set.

``apply(op)`` validates an operation completely, then changes state; it returns ``Done`` with the
postings it made, or ``Refused`` with a stable code and the numbers behind it, having changed
nothing. Operation ids make every operation idempotent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from registry_sim import allocation
from registry_sim import state as registry_state
from registry_sim.codes import RefusalError, RegistryCode
from registry_sim.compliance import (
    SurrenderBook,
    check_surrender,
    is_local,
    offset_cap_t,
    plan_surrender,
)
from registry_sim.ledger import Ledger, Posting
from registry_sim.model import (
    FEES,
    ISSUANCE,
    NATIONAL,
    RETIRED,
    Account,
    AccountId,
    AccountKind,
    HoldingState,
    Project,
    UnitCode,
    UnitKind,
    UnitType,
    cea,
    offset_unit,
    provincial_authority,
)
from registry_sim.ops import (
    AllocateByIntensity,
    Assess,
    Cancel,
    Freeze,
    Hold,
    IssueAllowances,
    IssueOffsets,
    Op,
    OpenAccount,
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
from registry_sim.outcomes import ComplianceRecord, Done, Refused, Result
from registry_sim.rules import BP, RuleSet
from registry_sim.state import Cancellation, RegistryState, SurrenderEntry

__all__ = [
    "Cancellation",
    "ComplianceRecord",
    "ComplianceStatus",
    "Done",
    "Refused",
    "Registry",
    "RegistryState",
    "Result",
    "SurrenderEntry",
]

AVAILABLE = HoldingState.AVAILABLE
Details = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ComplianceStatus:
    """What a compliance panel shows for one entity and year."""

    account_id: AccountId
    year: int
    obligation_t: int | None
    allowances_t: int  # surrendered, pending or retired
    offsets_t: int
    pending_t: int
    offset_cap_t: int | None
    offset_cap_left_t: int | None
    shortfall_t: int | None
    projected_penalty_fen: int | None
    deadline: str
    assessed: ComplianceRecord | None
    deduction_owed_t: int


_CLOSED_ACCOUNTS = frozenset({ISSUANCE, RETIRED})

_SYSTEM_ACCOUNTS = (
    Account(ISSUANCE, AccountKind.ISSUANCE, "Issuance"),
    Account(NATIONAL, AccountKind.NATIONAL_AUTHORITY, "National authority"),
    Account(RETIRED, AccountKind.RETIRED, "Retired units"),
    Account(FEES, AccountKind.FEES, "Exchange fees"),
)


class Registry:
    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self.ledger = Ledger()
        self._accounts: dict[AccountId, Account] = {a.account_id: a for a in _SYSTEM_ACCOUNTS}
        self._projects: dict[str, Project] = {}
        self._units: dict[UnitCode, UnitType] = {}
        self._verified: dict[tuple[AccountId, int], int] = {}
        self._net_sales: dict[AccountId, int] = {}
        self._allocated: dict[tuple[AccountId, int], int] = {}
        self._allocated_total: dict[AccountId, int] = {}  # allocated_t's index, over all years
        self._deduction_owed: dict[AccountId, int] = {}
        self._surrenders = SurrenderBook()
        self._records: dict[tuple[AccountId, int], ComplianceRecord] = {}
        self._cancellations: list[tuple[str, AccountId, UnitCode, int, str, str]] = []
        self._freezes: dict[tuple[AccountId, UnitCode, str], int] = {}
        self._done: dict[str, tuple[Op, Done]] = {}
        self._handlers = self._make_handlers()

    def _make_handlers(self) -> dict[type, Callable[[Any], Done]]:
        return {
            OpenAccount: self._open_account,
            RegisterProject: self._register_project,
            RecordEmissions: self._record_emissions,
            RecordNetSales: self._record_net_sales,
            PreAllocate: self._pre_allocate,
            TrueUpAllocation: self._true_up,
            AllocateByIntensity: self._allocate_by_intensity,
            IssueAllowances: self._issue_allowances,
            IssueOffsets: self._issue_offsets,
            Transfer: self._transfer,
            Freeze: self._freeze,
            Unfreeze: self._unfreeze,
            Hold: self._hold,
            ReleaseHold: self._release_hold,
            Surrender: self._surrender,
            WithdrawSurrender: self._withdraw_surrender,
            Cancel: self._cancel,
            Assess: self._assess,
        }

    def __getstate__(self) -> dict[str, Any]:
        """Picklable state for a market's day-end snapshot: everything but the bound handlers
        and the allocation index, which ``__setstate__`` rebuilds (``registry_sim.state``)."""
        return registry_state.pickled(self)

    def __setstate__(self, state: dict[str, Any]) -> None:
        registry_state.unpickle(self, state)

    # ------------------------------------------------------------------ apply

    def apply(self, op: Op) -> Result:
        earlier = self._done.get(op.op_id)
        if earlier is not None:
            if earlier[0] == op:
                return earlier[1]
            return Refused(op.op_id, RegistryCode.OP_ID_CONFLICT, {"op_id": op.op_id})
        try:
            done = self._handlers[type(op)](op)
        except RefusalError as refusal:
            return Refused(op.op_id, refusal.code, refusal.details)
        self._done[op.op_id] = (op, done)
        return done

    # ------------------------------------------------------------------ accounts and projects

    def _open_account(self, op: OpenAccount) -> Done:
        account = op.account
        if account.account_id in self._accounts:
            raise RefusalError(RegistryCode.ACCOUNT_EXISTS, account_id=account.account_id)
        self._accounts[account.account_id] = account
        return Done(op.op_id)

    def _register_project(self, op: RegisterProject) -> Done:
        project = op.project
        if project.project_id in self._projects:
            raise RefusalError(RegistryCode.PROJECT_EXISTS, project_id=project.project_id)
        if project.kind is UnitKind.CEA:
            raise RefusalError(RegistryCode.UNKNOWN_UNIT_TYPE, kind=project.kind.value)
        self._projects[project.project_id] = project
        return Done(op.op_id)

    def _account(self, account_id: AccountId) -> Account:
        account = self._accounts.get(account_id)
        if account is None:
            raise RefusalError(RegistryCode.UNKNOWN_ACCOUNT, account_id=account_id)
        return account

    def _receiver(self, account_id: AccountId) -> Account:
        """An account that may receive newly issued units: any but issuance and retired."""
        account = self._account(account_id)
        if account_id in _CLOSED_ACCOUNTS:
            raise RefusalError(RegistryCode.SYSTEM_ACCOUNT, account_id=account_id)
        return account

    def _entity(self, account_id: AccountId) -> Account:
        account = self._account(account_id)
        if account.kind is not AccountKind.COVERED_ENTITY:
            raise RefusalError(
                RegistryCode.NOT_A_COVERED_ENTITY, account_id=account_id, kind=account.kind.value
            )
        return account

    def _unit(self, code: UnitCode) -> UnitType:
        unit = self._units.get(code)
        if unit is None:
            raise RefusalError(RegistryCode.UNKNOWN_UNIT_TYPE, unit=code)
        return unit

    @staticmethod
    def _quantity(qty_t: int) -> None:
        if qty_t < 1:
            raise RefusalError(RegistryCode.INVALID_QUANTITY, qty_t=qty_t)

    def _has(self, account_id: AccountId, unit: UnitCode, state: HoldingState, qty_t: int) -> None:
        held = self.ledger.balance(account_id, unit, state)
        if held < qty_t:
            raise RefusalError(
                RegistryCode.INSUFFICIENT_UNITS,
                account_id=account_id,
                unit=unit,
                state=state.value,
                held_t=held,
                requested_t=qty_t,
            )

    # ------------------------------------------------------------------ emissions

    def _record_emissions(self, op: RecordEmissions) -> Done:
        self._entity(op.account_id)
        if op.verified_t < 0:
            raise RefusalError(RegistryCode.INVALID_QUANTITY, qty_t=op.verified_t)
        if (op.account_id, op.year) in self._verified:
            raise RefusalError(
                RegistryCode.EMISSIONS_ALREADY_RECORDED,
                year=op.year,
                verified_t=self._verified[(op.account_id, op.year)],
            )
        self._verified[(op.account_id, op.year)] = op.verified_t
        return Done(op.op_id)

    def _record_net_sales(self, op: RecordNetSales) -> Done:
        self._entity(op.account_id)
        self._net_sales[op.account_id] = max(op.net_sales_t, 0)
        return Done(op.op_id)

    def verified(self, account_id: AccountId, year: int) -> int | None:
        return self._verified.get((account_id, year))

    def _verified_or_refuse(self, account_id: AccountId, year: int) -> int:
        verified = self._verified.get((account_id, year))
        if verified is None:
            raise RefusalError(RegistryCode.NO_VERIFIED_EMISSIONS, account_id=account_id, year=year)
        return verified

    # ------------------------------------------------------------------ allocation

    def _pre_allocate(self, op: PreAllocate) -> Done:
        self._entity(op.account_id)
        already = self._allocated.get((op.account_id, op.year))
        if already is not None:
            raise RefusalError(
                RegistryCode.ALREADY_PRE_ALLOCATED, year=op.year, allocated_t=already
            )
        previous = self._verified_or_refuse(op.account_id, op.year - 1)
        amount = allocation.pre_allocation_t(previous, self.rules.allocation)
        return self._allocate(op.op_id, op.account_id, op.year, amount, {"basis_t": previous})

    def _true_up(self, op: TrueUpAllocation) -> Done:
        account = self._entity(op.account_id)
        verified = self._verified_or_refuse(op.account_id, op.year)
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
        by_benchmark = allocation.benchmark_allocation_t(op.output, benchmark, factors)
        final = allocation.final_allocation_t(
            by_benchmark, verified, gas_fired=account.gas_fired, rules=self.rules.allocation
        )
        return self._settle_final(
            op.op_id, op.account_id, op.year, final, {"benchmark_t": by_benchmark}
        )

    def _allocate_by_intensity(self, op: AllocateByIntensity) -> Done:
        self._entity(op.account_id)
        rules = self.rules.allocation
        if not rules.alpha_min_bp <= op.alpha_bp <= rules.alpha_max_bp:
            raise RefusalError(
                RegistryCode.ALPHA_OUT_OF_RANGE,
                alpha_bp=op.alpha_bp,
                alpha_min_bp=rules.alpha_min_bp,
                alpha_max_bp=rules.alpha_max_bp,
            )
        verified = self._verified_or_refuse(op.account_id, op.year)
        final = allocation.intensity_allocation_t(verified, op.alpha_bp)
        return self._settle_final(op.op_id, op.account_id, op.year, final, {})

    def _settle_final(
        self, op_id: str, account_id: AccountId, year: int, final: int, extra: Details
    ) -> Done:
        """Issue or take back the difference between ``final`` and what ``year`` has had."""
        already = self._allocated.get((account_id, year), 0)
        extra = {**extra, "final_t": final, "already_allocated_t": already}
        if final >= already:
            return self._allocate(op_id, account_id, year, final - already, extra)
        excess = already - final
        unit = cea(year).code
        returned = min(excess, self.ledger.balance(account_id, unit))
        postings = []
        if returned:
            postings.append(
                self.ledger.post(
                    op_id, unit, returned, (account_id, AVAILABLE), (NATIONAL, AVAILABLE)
                )
            )
        owed = excess - returned
        if owed:
            self._deduction_owed[account_id] = self._deduction_owed.get(account_id, 0) + owed
        self._set_allocated(account_id, year, final)
        return Done(
            op_id, tuple(postings), {**extra, "returned_t": returned, "deduction_added_t": owed}
        )

    def _allocate(
        self, op_id: str, account_id: AccountId, year: int, amount: int, extra: Details
    ) -> Done:
        """Issue ``amount`` of vintage ``year`` through the national and provincial authority
        accounts to the entity, less any deduction it owes (from a past shortfall)."""
        owed = self._deduction_owed.get(account_id, 0)
        deducted = min(owed, amount)
        issued = amount - deducted
        if deducted:
            self._deduction_owed[account_id] = owed - deducted
        self._set_allocated(account_id, year, self._allocated.get((account_id, year), 0) + amount)
        unit = cea(year)
        self._units.setdefault(unit.code, unit)
        postings: list[Posting] = []
        if issued:
            province = provincial_authority(self._accounts[account_id].province or "unknown")
            if province not in self._accounts:
                self._accounts[province] = Account(
                    province, AccountKind.PROVINCIAL_AUTHORITY, f"Provincial authority {province}"
                )
            post = self.ledger.post
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

    def _issue_allowances(self, op: IssueAllowances) -> Done:
        self._receiver(op.account_id)
        self._quantity(op.qty_t)
        unit = cea(op.vintage)
        self._units.setdefault(unit.code, unit)
        post = self.ledger.post
        return Done(
            op.op_id,
            (
                post(op.op_id, unit.code, op.qty_t, (ISSUANCE, AVAILABLE), (NATIONAL, AVAILABLE)),
                post(
                    op.op_id, unit.code, op.qty_t, (NATIONAL, AVAILABLE), (op.account_id, AVAILABLE)
                ),
            ),
        )

    def _issue_offsets(self, op: IssueOffsets) -> Done:
        self._receiver(op.account_id)
        project = self._projects.get(op.project_id)
        if project is None:
            raise RefusalError(RegistryCode.UNKNOWN_PROJECT, project_id=op.project_id)
        self._quantity(op.qty_t)
        unit = offset_unit(project, op.vintage)
        self._units.setdefault(unit.code, unit)
        posting = self.ledger.post(
            op.op_id, unit.code, op.qty_t, (ISSUANCE, AVAILABLE), (op.account_id, AVAILABLE)
        )
        return Done(op.op_id, (posting,), {"unit": unit.code})

    # ------------------------------------------------------------------ movements

    def _move(
        self,
        op_id: str,
        account_id: AccountId,
        unit: UnitCode,
        qty_t: int,
        source: HoldingState,
        target: tuple[AccountId, HoldingState],
        *,
        retiring: bool = False,
    ) -> Done:
        self._account(account_id)
        self._account(target[0])
        # Units enter circulation only by issuance and leave it only by surrender or
        # cancellation: no ordinary movement starts or ends in those two accounts.
        if account_id in _CLOSED_ACCOUNTS or (target[0] in _CLOSED_ACCOUNTS and not retiring):
            raise RefusalError(
                RegistryCode.SYSTEM_ACCOUNT, account_id=account_id, to_account=target[0]
            )
        self._unit(unit)
        self._quantity(qty_t)
        self._has(account_id, unit, source, qty_t)
        return Done(op_id, (self.ledger.post(op_id, unit, qty_t, (account_id, source), target),))

    def _transfer(self, op: Transfer) -> Done:
        target = (op.to_account, AVAILABLE)
        return self._move(op.op_id, op.from_account, op.unit, op.qty_t, AVAILABLE, target)

    def _freeze(self, op: Freeze) -> Done:
        target = (op.account_id, HoldingState.FROZEN)
        done = self._move(op.op_id, op.account_id, op.unit, op.qty_t, AVAILABLE, target)
        key = (op.account_id, op.unit, op.reference)
        self._freezes[key] = self._freezes.get(key, 0) + op.qty_t
        return done

    def _unfreeze(self, op: Unfreeze) -> Done:
        """Release units frozen under the same reference (a court's order), no more."""
        key = (op.account_id, op.unit, op.reference)
        frozen = self._freezes.get(key, 0)
        if op.qty_t > frozen:
            raise RefusalError(
                RegistryCode.FREEZE_NOT_FOUND,
                reference=op.reference,
                frozen_t=frozen,
                requested_t=op.qty_t,
            )
        target = (op.account_id, AVAILABLE)
        done = self._move(op.op_id, op.account_id, op.unit, op.qty_t, HoldingState.FROZEN, target)
        if frozen == op.qty_t:
            del self._freezes[key]
        else:
            self._freezes[key] = frozen - op.qty_t
        return done

    def _hold(self, op: Hold) -> Done:
        target = (op.account_id, HoldingState.HELD)
        return self._move(op.op_id, op.account_id, op.unit, op.qty_t, AVAILABLE, target)

    def _release_hold(self, op: ReleaseHold) -> Done:
        target = (op.account_id, AVAILABLE)
        return self._move(op.op_id, op.account_id, op.unit, op.qty_t, HoldingState.HELD, target)

    def _cancel(self, op: Cancel) -> Done:
        done = self._move(
            op.op_id,
            op.account_id,
            op.unit,
            op.qty_t,
            AVAILABLE,
            (RETIRED, AVAILABLE),
            retiring=True,
        )
        self._cancellations.append(
            (op.op_id, op.account_id, op.unit, op.qty_t, op.beneficiary, op.purpose)
        )
        return Done(
            done.op_id, done.postings, {"beneficiary": op.beneficiary, "purpose": op.purpose}
        )

    # ------------------------------------------------------------------ surrender and compliance

    def _open_year(self, account_id: AccountId, year: int) -> int:
        """The obligation of an entity's year that is still open for surrender."""
        self._entity(account_id)
        if (account_id, year) in self._records:
            raise RefusalError(RegistryCode.ALREADY_ASSESSED, account_id=account_id, year=year)
        return self._verified_or_refuse(account_id, year)

    def _surrender(self, op: Surrender) -> Done:
        obligation = self._open_year(op.account_id, op.year)
        deadline = self.rules.compliance.deadline(op.year)
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
            units[code] = self._unit(code)
            self._quantity(qty)
        wanted: dict[UnitCode, int] = {}
        for code, qty in op.items:
            wanted[code] = wanted.get(code, 0) + qty
        for code, qty in wanted.items():
            self._has(op.account_id, code, AVAILABLE, qty)
        # The cap's basis may be another year's emissions: needed only when offsets are used.
        with_offsets = any(units[code].kind is not UnitKind.CEA for code in wanted)
        check_surrender(
            self.rules.compliance,
            year=op.year,
            on=op.on,
            items=[(units[code], qty) for code, qty in wanted.items()],
            projects=self._projects,
            obligation_t=obligation,
            offset_cap_t=self._offset_cap(op.account_id, op.year) if with_offsets else 0,
            book=self._surrenders,
            account_id=op.account_id,
            old_vintage_cap_t=self._old_vintage_cap(op.account_id),
        )
        postings = []
        for code, qty in wanted.items():
            postings.append(
                self.ledger.post(
                    op.op_id,
                    code,
                    qty,
                    (op.account_id, AVAILABLE),
                    (op.account_id, HoldingState.PENDING),
                )
            )
            self._surrenders.add(
                op.account_id,
                op.year,
                units[code],
                qty,
                is_local(units[code], self._projects, self.rules.compliance),
            )
        return Done(op.op_id, tuple(postings))

    def _withdraw_surrender(self, op: WithdrawSurrender) -> Done:
        self._open_year(op.account_id, op.year)
        pending = self._surrenders.pending(op.account_id, op.year)
        if not pending:
            raise RefusalError(RegistryCode.NOTHING_PENDING, account_id=op.account_id, year=op.year)
        postings = []
        for unit, qty in pending:
            postings.append(
                self.ledger.post(
                    op.op_id,
                    unit.code,
                    qty,
                    (op.account_id, HoldingState.PENDING),
                    (op.account_id, AVAILABLE),
                )
            )
        self._surrenders.withdraw(op.account_id, op.year)
        return Done(op.op_id, tuple(postings))

    def _assess(self, op: Assess) -> Done:
        obligation = self._open_year(op.account_id, op.year)
        deadline = self.rules.compliance.deadline(op.year)
        if op.on < deadline:
            raise RefusalError(
                RegistryCode.DEADLINE_NOT_REACHED,
                year=op.year,
                deadline=deadline.isoformat(),
                on=op.on.isoformat(),
            )
        penalty_rules = self.rules.penalty
        if op.reference_price_fen <= 0 and penalty_rules.kind == "price_multiple":
            raise RefusalError(
                RegistryCode.INVALID_PRICE, reference_price_fen=op.reference_price_fen
            )
        postings = []
        for unit, qty in self._surrenders.pending(op.account_id, op.year):
            postings.append(
                self.ledger.post(
                    op.op_id,
                    unit.code,
                    qty,
                    (op.account_id, HoldingState.PENDING),
                    (RETIRED, AVAILABLE),
                )
            )
        self._surrenders.retire(op.account_id, op.year)
        allowances, offsets = self._surrenders.totals(op.account_id, op.year)
        shortfall = max(0, obligation - allowances - offsets)
        penalty = self.penalty_fen(shortfall, op.reference_price_fen)
        deduction = shortfall if self.rules.allocation.deduct_shortfall_next_year else 0
        if deduction:
            self._deduction_owed[op.account_id] = (
                self._deduction_owed.get(op.account_id, 0) + deduction
            )
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
        self._records[(op.account_id, op.year)] = record
        return Done(op.op_id, tuple(postings), {"record": record})

    def penalty_fen(self, shortfall_t: int, reference_price_fen: int) -> int:
        """docs/rules.md, national: multiplier × previous month's average price × shortfall."""
        rules = self.rules.penalty
        if rules.kind == "fixed":
            return rules.fixed_fen_per_t * shortfall_t
        return rules.multiplier * reference_price_fen * shortfall_t

    def _offset_cap(self, account_id: AccountId, year: int) -> int:
        rules = self.rules.compliance
        if rules.offset_cap_basis == "obligation":
            basis = self._verified_or_refuse(account_id, year)
        else:
            basis = self._verified_or_refuse(account_id, year - 1)
        return offset_cap_t(basis, rules)

    def _old_vintage_cap(self, account_id: AccountId) -> int | None:
        old = self.rules.compliance.old_vintages
        if old is None:
            return None
        return (
            old.cap_base_t + self._net_sales.get(account_id, 0) * old.net_sales_multiplier_bp // BP
        )

    # ------------------------------------------------------------------ queries

    def account(self, account_id: AccountId) -> Account | None:
        return self._accounts.get(account_id)

    def knows(self, op_id: str) -> bool:
        """Whether an operation with this id has completed (a repeat changes nothing)."""
        return op_id in self._done

    def allocated_t(self, account_id: AccountId) -> int:
        """Allowances allocated to an entity over all years (net of true-ups)."""
        return self._allocated_total.get(account_id, 0)

    def _set_allocated(self, account_id: AccountId, year: int, total_t: int) -> None:
        before = self._allocated.get((account_id, year), 0)
        self._allocated[(account_id, year)] = total_t
        self._allocated_total[account_id] = (
            self._allocated_total.get(account_id, 0) + total_t - before
        )

    def _index_allocations(self) -> None:
        totals: dict[AccountId, int] = {}
        for (account_id, _), allocated in self._allocated.items():
            totals[account_id] = totals.get(account_id, 0) + allocated
        self._allocated_total = totals

    def accounts(self) -> list[Account]:
        return [self._accounts[k] for k in sorted(self._accounts)]

    def projects(self) -> list[Project]:
        return [self._projects[k] for k in sorted(self._projects)]

    def unit_types(self) -> list[UnitType]:
        return [self._units[k] for k in sorted(self._units)]

    def holdings(self, account_id: AccountId) -> dict[UnitCode, dict[HoldingState, int]]:
        return self.ledger.holdings(account_id)

    def deduction_owed(self, account_id: AccountId) -> int:
        return self._deduction_owed.get(account_id, 0)

    def record(self, account_id: AccountId, year: int) -> ComplianceRecord | None:
        return self._records.get((account_id, year))

    def surrendered_offsets(self, account_id: AccountId, year: int) -> int:
        return self._surrenders.totals(account_id, year)[1]

    def compliance_status(
        self, account_id: AccountId, year: int, reference_price_fen: int | None = None
    ) -> ComplianceStatus:
        obligation = self._verified.get((account_id, year))
        allowances, offsets = self._surrenders.totals(account_id, year)
        pending = sum(q for _, q in self._surrenders.pending(account_id, year))
        try:
            cap: int | None = self._offset_cap(account_id, year)
        except RefusalError:
            cap = None
        shortfall = None if obligation is None else max(0, obligation - allowances - offsets)
        penalty = None
        if shortfall is not None and (reference_price_fen or self.rules.penalty.kind == "fixed"):
            penalty = self.penalty_fen(shortfall, reference_price_fen or 0)
        return ComplianceStatus(
            account_id,
            year,
            obligation,
            allowances,
            offsets,
            pending,
            cap,
            None if cap is None else max(0, cap - offsets),
            shortfall,
            penalty,
            self.rules.compliance.deadline(year).isoformat(),
            self._records.get((account_id, year)),
            self._deduction_owed.get(account_id, 0),
        )

    def surrender_plan(
        self, account_id: AccountId, year: int, on: dt.date
    ) -> tuple[tuple[UnitCode, int], ...]:
        """The best legal surrender from current holdings: offsets up to the cap (local
        projects first where a local share is required), then eligible allowances, oldest
        vintage first. Empty when nothing can or need be surrendered, or the deadline has passed."""
        try:
            obligation = self._open_year(account_id, year)
        except RefusalError:
            return ()
        if on > self.rules.compliance.deadline(year):
            return ()
        try:
            cap = self._offset_cap(account_id, year)
        except RefusalError:
            cap = 0  # without the cap's basis, offsets cannot be used; allowances still can
        holdings = {
            self._units[code]: states.get(AVAILABLE, 0)
            for code, states in self.ledger.holdings(account_id).items()
        }
        return plan_surrender(
            self.rules.compliance,
            year=year,
            on=on,
            holdings=holdings,
            projects=self._projects,
            obligation_t=obligation,
            offset_cap_t=cap,
            book=self._surrenders,
            account_id=account_id,
            old_vintage_cap_t=self._old_vintage_cap(account_id),
        )

    def state_hash(self) -> str:
        """A digest of the registry's whole state; equal states hash equal."""
        return registry_state.state_hash(self)

    # ------------------------------------------------------------------ state as plain values

    def export_state(self) -> RegistryState:
        """Everything ``state_hash`` covers, as plain values (see ``RegistryState``)."""
        return registry_state.export_state(self)

    @classmethod
    def from_state(cls, rules: RuleSet, state: RegistryState) -> Registry:
        """The registry whose ``export_state()`` is ``state``, under ``rules``. Raises
        ``ValueError`` when ``state`` is not one a registry could have reached."""
        registry = cls(rules)
        registry_state.load_state(registry, state)
        return registry
