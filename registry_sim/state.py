"""A registry's state as a whole: its digest (``state_hash``), its export as plain values for the
shell to store (``RegistryState``) and the registry loaded back from them, and what a pickle of
it holds (a market's day-end snapshot pickles its registry; docs/adr/0003).

``Registry.state_hash``, ``Registry.export_state``, ``Registry.from_state`` and the registry's
``__getstate__`` and ``__setstate__`` are these functions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from registry_sim.ledger import Posting
from registry_sim.model import ISSUANCE, Account, AccountId, Project, UnitCode, UnitType
from registry_sim.ops import Freeze, Op, Unfreeze
from registry_sim.outcomes import ComplianceRecord, Done

if TYPE_CHECKING:
    from registry_sim.registry import Registry


@dataclass(frozen=True, slots=True)
class SurrenderEntry:
    """Units an entity submitted for a compliance year: pending, or retired by the assessment."""

    account_id: AccountId
    year: int
    unit: UnitCode
    qty_t: int
    local: bool
    retired: bool


@dataclass(frozen=True, slots=True)
class Cancellation:
    """A voluntary cancellation (自愿注销), in a beneficiary's name."""

    op_id: str
    account_id: AccountId
    unit: UnitCode
    qty_t: int
    beneficiary: str
    purpose: str


@dataclass(frozen=True, slots=True)
class RegistryState:
    """The whole state of a registry as plain values, for the shell to store and load
    (``Registry.export_state`` and ``Registry.from_state``). Holdings are not listed: they
    are what the postings add up to. ``operations`` are in the order they were applied."""

    rules: str
    accounts: tuple[Account, ...]
    projects: tuple[Project, ...]
    unit_types: tuple[UnitType, ...]
    postings: tuple[Posting, ...]
    verified: tuple[tuple[AccountId, int, int], ...]  # (account, year, verified_t)
    net_sales: tuple[tuple[AccountId, int], ...]
    allocated: tuple[tuple[AccountId, int, int], ...]  # (account, year, allocated_t)
    deduction_owed: tuple[tuple[AccountId, int], ...]
    surrenders: tuple[SurrenderEntry, ...]  # per (account, year), in the order submitted
    records: tuple[ComplianceRecord, ...]
    cancellations: tuple[Cancellation, ...]  # in the order made
    operations: tuple[tuple[Op, Done], ...]


def state_hash(reg: Registry) -> str:
    """A digest of the registry's whole state; equal states hash equal."""
    digest = hashlib.sha256()

    def feed(label: str, value: object) -> None:
        digest.update(f"{label}={value!r}\n".encode())

    feed("rules", reg.rules.name)
    for account in reg.accounts():
        feed("account", account)
    for project in reg.projects():
        feed("project", project)
    for unit in reg.unit_types():
        feed("unit", unit)
    feed("balances", sorted(reg.ledger.balances().items()))
    feed("postings", len(reg.ledger.postings()))
    feed("verified", sorted(reg._verified.items()))
    feed("net_sales", sorted(reg._net_sales.items()))
    feed("allocated", sorted(reg._allocated.items()))
    feed("owed", sorted(reg._deduction_owed.items()))
    feed("surrenders", reg._surrenders.snapshot())
    feed("records", sorted(reg._records.items()))
    feed("cancellations", reg._cancellations)
    feed("freezes", sorted(reg._freezes.items()))
    feed("ops", sorted(reg._done))
    return digest.hexdigest()


# ---------------------------------------------------------------------- plain values


def export_state(reg: Registry) -> RegistryState:
    """Everything ``state_hash`` covers, as plain values (see ``RegistryState``)."""
    return RegistryState(
        rules=reg.rules.name,
        accounts=tuple(reg.accounts()),
        projects=tuple(reg.projects()),
        unit_types=tuple(reg.unit_types()),
        postings=tuple(reg.ledger.postings()),
        verified=tuple((a, y, t) for (a, y), t in sorted(reg._verified.items())),
        net_sales=tuple(sorted(reg._net_sales.items())),
        allocated=tuple((a, y, t) for (a, y), t in sorted(reg._allocated.items())),
        deduction_owed=tuple(sorted(reg._deduction_owed.items())),
        surrenders=tuple(
            SurrenderEntry(account, year, unit.code, qty, local, retired)
            for account, year, unit, qty, local, retired in reg._surrenders.entries()
        ),
        records=tuple(reg._records[key] for key in sorted(reg._records)),
        cancellations=tuple(Cancellation(*c) for c in reg._cancellations),
        operations=tuple(reg._done.values()),
    )


def load_state(registry: Registry, state: RegistryState) -> None:
    """Make ``registry``, new and empty, the one whose ``export_state()`` is ``state``. Raises
    ``ValueError`` when ``state`` is not one a registry under its rules could have reached."""
    rules = registry.rules
    if state.rules != rules.name:
        raise ValueError(f"state of rule set {state.rules!r}, given {rules.name!r}")
    registry._accounts = {a.account_id: a for a in state.accounts}
    registry._projects = {p.project_id: p for p in state.projects}
    registry._units = {u.code: u for u in state.unit_types}
    for p in state.postings:
        held = registry.ledger.balance(p.from_account, p.unit, p.from_state)
        overdrawn = held < p.qty_t and p.from_account != ISSUANCE
        if p.qty_t <= 0 or p.unit not in registry._units or overdrawn:
            raise ValueError(f"posting {p.posting_id}: {p.qty_t} t of {p.unit!r} cannot be")
        source, target = (p.from_account, p.from_state), (p.to_account, p.to_state)
        if registry.ledger.post(p.op_id, p.unit, p.qty_t, source, target) != p:
            raise ValueError(f"posting {p.posting_id} is out of sequence")
    registry._verified = {(a, y): t for a, y, t in state.verified}
    registry._net_sales = dict(state.net_sales)
    registry._allocated = {(a, y): t for a, y, t in state.allocated}
    registry._index_allocations()
    registry._deduction_owed = dict(state.deduction_owed)
    retired: dict[tuple[AccountId, int], set[bool]] = {}
    for s in state.surrenders:
        unit = registry._units.get(s.unit)
        if unit is None:
            raise ValueError(f"surrender of unknown unit {s.unit!r}")
        registry._surrenders.add(s.account_id, s.year, unit, s.qty_t, s.local)
        retired.setdefault((s.account_id, s.year), set()).add(s.retired)
    for (account, year), flags in retired.items():
        if flags == {True, False}:
            raise ValueError(f"surrender of {account} for {year} is partly retired")
        if flags == {True}:
            registry._surrenders.retire(account, year)
    registry._records = {(r.account_id, r.year): r for r in state.records}
    registry._cancellations = [
        (c.op_id, c.account_id, c.unit, c.qty_t, c.beneficiary, c.purpose)
        for c in state.cancellations
    ]
    for op, done in state.operations:
        if op.op_id != done.op_id or op.op_id in registry._done:
            raise ValueError(f"operation {op.op_id!r} is repeated or mismatched")
        registry._done[op.op_id] = (op, done)
        # Judicial freezes by reference are what the freeze operations add up to.
        if isinstance(op, Freeze | Unfreeze):
            key = (op.account_id, op.unit, op.reference)
            change = op.qty_t if isinstance(op, Freeze) else -op.qty_t
            left = registry._freezes.get(key, 0) + change
            if left < 0:
                raise ValueError(f"operation {op.op_id!r} releases more than was frozen")
            registry._freezes[key] = left
            if not left:
                del registry._freezes[key]


# ---------------------------------------------------------------------- pickling


def pickled(reg: Registry) -> dict[str, Any]:
    """What a pickle of the registry holds: its attributes but the allocation index, which
    ``unpickle`` rebuilds. (Registries pickled before the handlers moved to
    ``registry_sim.handlers`` hold the same attributes: their bound handlers were left out.)"""
    state = dict(reg.__dict__)
    del state["_allocated_total"]
    return state


def unpickle(reg: Registry, state: dict[str, Any]) -> None:
    reg.__dict__.update(state)
    reg._index_allocations()
