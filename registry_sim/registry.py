"""The registry (注册登记) of one market: accounts, projects, holdings, allocation, surrender,
cancellation and compliance, under one rule set.

``apply(op)`` validates an operation completely, then changes state; it returns ``Done`` with the
postings it made, or ``Refused`` with a stable code and the numbers behind it, having changed
nothing. Operation ids make every operation idempotent.

Here are the registry's state, ``apply`` and the queries. The operations are handled in
``registry_sim.handlers``, one module per group (accounts and projects, allocation, unit
movements, surrender and assessment); the state as a whole (its hash, its export as plain values
and its pickle) is ``registry_sim.state``'s.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from registry_sim import names, projection
from registry_sim import state as registry_state
from registry_sim.codes import RefusalError, RegistryCode
from registry_sim.compliance import SurrenderBook, offset_cap_t
from registry_sim.handlers import HANDLERS
from registry_sim.handlers.accounts import SYSTEM_ACCOUNTS, require_entity
from registry_sim.ledger import Ledger
from registry_sim.model import (
    Account,
    AccountId,
    AccountKind,
    HoldingState,
    Project,
    UnitCode,
    UnitType,
)
from registry_sim.ops import Op
from registry_sim.outcomes import ComplianceRecord, Done, Refused, Result
from registry_sim.projection import ComplianceProjection
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


@dataclass(frozen=True, slots=True)
class ComplianceStatus:
    """What a compliance panel shows for one entity and year: the registry's projection
    (``registry_sim.projection``) with the deadline and what is owed from earlier years."""

    account_id: AccountId
    year: int
    obligation_t: int | None
    allowances_t: int  # surrendered, pending or retired
    offsets_t: int
    pending_t: int
    remaining_t: int | None  # the obligation less what was surrendered
    coverable_t: int  # what available units can legally cover of the rest today
    offset_cap_t: int | None
    offset_cap_left_t: int | None
    shortfall_t: int | None  # what would still be missing after surrendering that
    projected_penalty_fen: int | None
    deadline: str
    assessed: ComplianceRecord | None
    deduction_owed_t: int


class Registry:
    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self.ledger = Ledger()
        self._accounts: dict[AccountId, Account] = {a.account_id: a for a in SYSTEM_ACCOUNTS}
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

    def __getstate__(self) -> dict[str, Any]:
        """Picklable state for a market's day-end snapshot: everything but the allocation
        index, which ``__setstate__`` rebuilds (``registry_sim.state.pickled``)."""
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
            done = HANDLERS[type(op)](self, op)
        except RefusalError as refusal:
            return Refused(op.op_id, refusal.code, refusal.details)
        self._done[op.op_id] = (op, done)
        return done

    # ------------------------------------------------------------------ emissions and open years
    # (for the handlers and the compliance queries alike)

    def verified(self, account_id: AccountId, year: int) -> int | None:
        return self._verified.get((account_id, year))

    def _verified_or_refuse(self, account_id: AccountId, year: int) -> int:
        verified = self._verified.get((account_id, year))
        if verified is None:
            raise RefusalError(RegistryCode.NO_VERIFIED_EMISSIONS, account_id=account_id, year=year)
        return verified

    def carried_t(self, account_id: AccountId, year: int) -> int:
        """What ``year``'s obligation carries from the year before: its assessed shortfall
        times ``shortfall_carry_multiple`` (EU 1; California's untimely surrender 4), where the
        rule set carries a shortfall over; else 0."""
        rules = self.rules.compliance
        if not rules.shortfall_carries_over:
            return 0
        record = self._records.get((account_id, year - 1))
        return 0 if record is None else record.shortfall_t * rules.shortfall_carry_multiple

    def obligation_t(self, account_id: AccountId, year: int) -> int | None:
        """What an entity must surrender for ``year``: its verified emissions plus what a
        shortfall carries over (``carried_t``); None before verification."""
        verified = self._verified.get((account_id, year))
        return None if verified is None else verified + self.carried_t(account_id, year)

    def _open_year(self, account_id: AccountId, year: int) -> int:
        """The obligation of an entity's year that is still open for surrender."""
        require_entity(self, account_id)
        if (account_id, year) in self._records:
            raise RefusalError(RegistryCode.ALREADY_ASSESSED, account_id=account_id, year=year)
        return self._verified_or_refuse(account_id, year) + self.carried_t(account_id, year)

    # ------------------------------------------------------------------ compliance rules

    def penalty_fen(self, shortfall_t: int, reference_price_fen: int) -> int:
        """docs/rules.md, national: multiplier × previous month's average price × shortfall."""
        penalty = projection.penalty_fen(self.rules.penalty, shortfall_t, reference_price_fen)
        assert penalty is not None
        return penalty

    def _offset_cap(self, account_id: AccountId, year: int) -> int:
        rules = self.rules.compliance
        if rules.offset_cap_basis == "obligation":
            basis = self._verified_or_refuse(account_id, year)
        else:
            basis = self._verified_or_refuse(account_id, year - 1)
        return offset_cap_t(basis, rules, year)

    def offset_cap_t(
        self, account_id: AccountId, year: int, expected_obligation_t: int | None = None
    ) -> int | None:
        """The entity's offset cap for ``year``; None while its basis is not known (with the
        obligation as basis, ``expected_obligation_t`` stands in for it before verification)."""
        rules = self.rules.compliance
        if rules.offset_cap_basis == "obligation":
            basis = self._verified.get((account_id, year), expected_obligation_t)
        else:
            basis = self._verified.get((account_id, year - 1))
        return None if basis is None else offset_cap_t(basis, rules, year)

    def net_sales_t(self, account_id: AccountId) -> int:
        """The entity's recorded net allowance sales for the old-vintage cap (0 if none)."""
        return self._net_sales.get(account_id, 0)

    def old_vintage_cap_t(self, account_id: AccountId) -> int | None:
        """docs/rules.md, national: compliance (old vintages): the conversion cap,
        ``cap_base_t`` + multiplier × net sales; None where the rule set has no such cap."""
        return self._old_vintage_cap(account_id)

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

    def allocation_t(self, account_id: AccountId, year: int) -> int:
        """Allowances allocated to an entity for ``year`` so far (pre-allocation and true-ups)."""
        return self._allocated.get((account_id, year), 0)

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

    def unit_name(self, code: str) -> dict[str, str]:
        """What screens call the unit ``code``, in each language (``registry_sim.names``):
        an offset is named with its project's methodology and province once registered."""
        project = None
        parts = names.unit_parts(code)
        if parts is not None and parts[1] is not None:
            found = self._projects.get(parts[1])
            project = found if found is not None and found.kind.value == parts[0] else None
        return names.unit_name(self.rules.names, code, project)

    def cancellations(
        self, account_id: AccountId | None = None
    ) -> list[tuple[int, Cancellation, dt.date | None]]:
        """The retired register's voluntary cancellations (自愿注销), of one account or all, in
        the order made: (serial from 1, the cancellation, the day it was made if recorded)."""
        found = []
        for serial, row in enumerate(self._cancellations, 1):
            cancellation = Cancellation(*row)
            if account_id is None or cancellation.account_id == account_id:
                op = self._done[cancellation.op_id][0]
                found.append((serial, cancellation, getattr(op, "on", None)))
        return found

    def unit_types(self) -> list[UnitType]:
        return [self._units[k] for k in sorted(self._units)]

    def holdings(self, account_id: AccountId) -> dict[UnitCode, dict[HoldingState, int]]:
        return self.ledger.holdings(account_id)

    def deduction_owed(self, account_id: AccountId) -> int:
        return self._deduction_owed.get(account_id, 0)

    def record(self, account_id: AccountId, year: int) -> ComplianceRecord | None:
        return self._records.get((account_id, year))

    def surrendered_t(self, account_id: AccountId, year: int) -> tuple[int, int]:
        """(allowances, offsets) surrendered for the year, pending or retired."""
        return self._surrenders.totals(account_id, year)

    def compliance_projection(
        self,
        account_id: AccountId,
        year: int,
        on: dt.date,
        reference_price_fen: int | None = None,
        expected_obligation_t: int | None = None,
    ) -> ComplianceProjection:
        """The compliance projection (``registry_sim.projection``) of an entity's year as of
        ``on``, its penalty priced at ``reference_price_fen``; before verification
        ``expected_obligation_t`` (if given) stands in for the verified emissions."""
        verified = self._verified.get((account_id, year))
        found = self._accounts.get(account_id)
        covered = found is not None and found.kind is AccountKind.COVERED_ENTITY
        obligation = verified if verified is not None else expected_obligation_t
        if obligation is not None:
            obligation += self.carried_t(account_id, year)
        holdings = self._available(account_id)
        return projection.project(
            self.rules,
            account_id=account_id,
            year=year,
            on=on,
            obligation_t=obligation if covered else None,
            verified=verified is not None,
            record=self._records.get((account_id, year)),
            holdings=holdings,
            projects=self._projects,
            book=self._surrenders,
            offset_cap_t=self.offset_cap_t(account_id, year, obligation),
            old_vintage_cap_t=self._old_vintage_cap(account_id),
            reference_price_fen=reference_price_fen,
        )

    def usable_t(
        self, account_id: AccountId, year: int, on: dt.date, obligation_t: int | None
    ) -> int:
        """The entity's available units that a surrender for ``year`` could use on ``on``
        (``projection.usable_t``), under the offset cap of ``obligation_t`` (the verified
        emissions once recorded)."""
        return projection.usable_t(
            self.rules,
            account_id=account_id,
            year=year,
            on=on,
            holdings=self._available(account_id),
            projects=self._projects,
            book=self._surrenders,
            offset_cap_t=self.offset_cap_t(account_id, year, obligation_t),
            old_vintage_cap_t=self._old_vintage_cap(account_id),
        )

    def _available(self, account_id: AccountId) -> dict[UnitType, int]:
        return {
            self._units[code]: states.get(AVAILABLE, 0)
            for code, states in self.ledger.holdings(account_id).items()
        }

    def compliance_status(
        self,
        account_id: AccountId,
        year: int,
        reference_price_fen: int | None = None,
        *,
        on: dt.date | None = None,
    ) -> ComplianceStatus:
        """The entity's projection for ``year`` as a compliance panel shows it; ``on`` is the
        day a surrender would carry (default: the deadline, the last day one can)."""
        deadline = self.rules.compliance.deadline(year)
        p = self.compliance_projection(
            account_id, year, deadline if on is None else on, reference_price_fen
        )
        return ComplianceStatus(
            account_id,
            year,
            p.obligation_t,
            p.allowances_t,
            p.offsets_t,
            p.pending_t,
            p.remaining_t,
            p.plan_allowances_t + p.plan_offsets_t,
            p.offset_cap_t,
            p.offset_cap_left_t,
            p.shortfall_t,
            p.projected_penalty_fen,
            deadline.isoformat(),
            p.assessed,
            self._deduction_owed.get(account_id, 0),
        )

    def surrender_plan(
        self, account_id: AccountId, year: int, on: dt.date
    ) -> tuple[tuple[UnitCode, int], ...]:
        """The best legal surrender from current holdings: offsets up to the cap (local
        projects first where a local share is required), then eligible allowances, oldest
        vintage first. Empty when nothing can or need be surrendered, or the deadline has passed."""
        return self.compliance_projection(account_id, year, on).plan

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
