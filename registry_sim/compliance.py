"""Surrender rules (清缴): which units may cover a compliance year, and how many.

docs/rules.md, national: allowances of vintage ≤ Y cover year Y (banking) and later vintages do not
(no borrowing); from 2025 old vintages count only within a conversion cap; offsets cover at most
a share of the obligation (national: 5 % of the allowances to be surrendered; Guangdong: 10 % of
the previous year's emissions, at least 70 % of them from local projects; California: 4 %, 6 % from
2026 emissions, at least half of them from projects in the state), and only eligible
offsets count (not inside the ETS scope, registered in an eligible window). Every cap is rounded
down to whole tonnes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from registry_sim.codes import RefusalError, RegistryCode
from registry_sim.model import AccountId, Project, UnitCode, UnitKind, UnitType
from registry_sim.rules import BP, ComplianceRules


@dataclass(slots=True)
class _Entry:
    unit: UnitType
    qty_t: int
    local: bool
    retired: bool


class SurrenderBook:
    """Units surrendered per entity and year: pending (withdrawable) or retired."""

    def __init__(self) -> None:
        self._entries: dict[tuple[AccountId, int], list[_Entry]] = {}

    def add(self, account: AccountId, year: int, unit: UnitType, qty_t: int, local: bool) -> None:
        self._entries.setdefault((account, year), []).append(_Entry(unit, qty_t, local, False))

    def _of(self, account: AccountId, year: int) -> list[_Entry]:
        return self._entries.get((account, year), [])

    def pending(self, account: AccountId, year: int) -> list[tuple[UnitType, int]]:
        """Pending quantities per unit type, in unit code order."""
        totals: dict[str, tuple[UnitType, int]] = {}
        for e in self._of(account, year):
            if not e.retired:
                unit, qty = totals.get(e.unit.code, (e.unit, 0))
                totals[e.unit.code] = (unit, qty + e.qty_t)
        return [totals[code] for code in sorted(totals)]

    def withdraw(self, account: AccountId, year: int) -> None:
        kept = [e for e in self._of(account, year) if e.retired]
        self._entries[(account, year)] = kept

    def retire(self, account: AccountId, year: int) -> None:
        for e in self._of(account, year):
            e.retired = True

    def totals(self, account: AccountId, year: int) -> tuple[int, int]:
        """(allowances, offsets) surrendered for the year, pending or retired."""
        allowances = offsets = 0
        for e in self._of(account, year):
            if e.unit.kind is UnitKind.CEA:
                allowances += e.qty_t
            else:
                offsets += e.qty_t
        return allowances, offsets

    def local_offsets(self, account: AccountId, year: int) -> int:
        return sum(e.qty_t for e in self._of(account, year) if e.local)

    def old_vintages_used(self, account: AccountId, from_year: int, max_vintage: int) -> int:
        return sum(
            e.qty_t
            for (owner, year), entries in self._entries.items()
            if owner == account and year >= from_year
            for e in entries
            if e.unit.kind is UnitKind.CEA and e.unit.vintage <= max_vintage
        )

    def entries(self) -> list[tuple[AccountId, int, UnitType, int, bool, bool]]:
        """(account, year, unit, qty, local, retired) of every entry, by account and year."""
        return [
            (account, year, e.unit, e.qty_t, e.local, e.retired)
            for (account, year) in sorted(self._entries)
            for e in self._entries[(account, year)]
        ]

    def snapshot(self) -> list[tuple[object, ...]]:
        return [
            (key, e.unit.code, e.qty_t, e.local, e.retired)
            for key in sorted(self._entries)
            for e in self._entries[key]
        ]


def offset_cap_t(basis_t: int, rules: ComplianceRules, year: int) -> int:
    """The offset cap of compliance year ``year``: the year's share of ``basis_t`` (California:
    4 % of the obligation for 2025 emissions, 6 % from 2026)."""
    return basis_t * rules.offset_cap_bp_in(year) // BP


def offset_ineligibility(
    unit: UnitType, project: Project, on: dt.date, rules: ComplianceRules
) -> str | None:
    """Why an offset unit may not be surrendered (a stable reason), or None if it may."""
    if unit.kind.value not in rules.offset_unit_kinds:
        return "unit_kind"
    if rules.exclude_inside_ets_scope and project.inside_ets_scope:
        return "inside_ets_scope"
    if rules.allowed_methodologies and project.methodology not in rules.allowed_methodologies:
        return "methodology"
    windows = [w for w in rules.offset_windows if w.admits(project.registration_date, on)]
    if rules.offset_windows and not windows:
        return "registration_date"
    if windows and not any(w.admits_start(project.start_date) for w in windows):
        return "start_date"
    if windows and not any(
        w.admits_start(project.start_date) and w.admits_vintage(unit.vintage) for w in windows
    ):
        return "reduction_date"
    return None


def is_local(unit: UnitType, projects: Mapping[str, Project], rules: ComplianceRules) -> bool:
    """Whether an offset unit comes from a project in the rule set's local province."""
    if unit.project_id is None or rules.local_province is None:
        return False
    return projects[unit.project_id].province == rules.local_province


def _old(unit: UnitType, year: int, rules: ComplianceRules) -> bool:
    old = rules.old_vintages
    return (
        old is not None
        and year >= old.from_year
        and unit.kind is UnitKind.CEA
        and unit.vintage <= old.max_vintage
    )


def check_surrender(
    rules: ComplianceRules,
    *,
    year: int,
    on: dt.date,
    items: Iterable[tuple[UnitType, int]],
    projects: Mapping[str, Project],
    obligation_t: int,
    offset_cap_t: int,
    book: SurrenderBook,
    account_id: AccountId,
    old_vintage_cap_t: int | None,
) -> None:
    """Raise the first rule a surrender breaks, in a fixed order (docs/rules.md)."""
    items = list(items)
    for unit, _qty in items:
        if unit.kind is UnitKind.CEA:
            if unit.vintage > year and not rules.borrowing:
                raise RefusalError(
                    RegistryCode.VINTAGE_NOT_ELIGIBLE,
                    unit=unit.code,
                    vintage=unit.vintage,
                    year=year,
                )
            continue
        assert unit.project_id is not None
        project = projects[unit.project_id]
        reason = offset_ineligibility(unit, project, on, rules)
        if reason is not None:
            raise RefusalError(
                RegistryCode.OFFSET_NOT_ELIGIBLE,
                unit=unit.code,
                reason=reason,
                registration_date=project.registration_date.isoformat(),
                start_date=project.start_date.isoformat(),
                vintage=unit.vintage,
                surrendered_on=on.isoformat(),
            )
    old_requested = sum(qty for unit, qty in items if _old(unit, year, rules))
    if old_requested and rules.old_vintages is not None and old_vintage_cap_t is not None:
        old = rules.old_vintages
        used = book.old_vintages_used(account_id, old.from_year, old.max_vintage)
        if used + old_requested > old_vintage_cap_t:
            raise RefusalError(
                RegistryCode.OLD_VINTAGE_CAP_EXCEEDED,
                requested_t=old_requested,
                used_t=used,
                cap_t=old_vintage_cap_t,
            )
    allowances, offsets = book.totals(account_id, year)
    requested = sum(qty for _, qty in items)
    if allowances + offsets + requested > obligation_t:
        raise RefusalError(
            RegistryCode.SURRENDER_EXCEEDS_OBLIGATION,
            obligation_t=obligation_t,
            surrendered_t=allowances + offsets,
            requested_t=requested,
        )
    offsets_requested = sum(qty for unit, qty in items if unit.kind is not UnitKind.CEA)
    if offsets_requested and offsets + offsets_requested > offset_cap_t:
        raise RefusalError(
            RegistryCode.OFFSET_CAP_EXCEEDED,
            cap_t=offset_cap_t,
            used_t=offsets,
            requested_t=offsets_requested,
        )
    if rules.local_min_share_bp and offsets_requested:
        local = book.local_offsets(account_id, year) + sum(
            qty for unit, qty in items if is_local(unit, projects, rules)
        )
        total = offsets + offsets_requested
        if local * BP < rules.local_min_share_bp * total:
            raise RefusalError(
                RegistryCode.LOCAL_OFFSET_SHARE_TOO_LOW,
                local_t=local,
                offsets_t=total,
                min_share_bp=rules.local_min_share_bp,
            )


def plan_surrender(
    rules: ComplianceRules,
    *,
    year: int,
    on: dt.date,
    holdings: Mapping[UnitType, int],
    projects: Mapping[str, Project],
    obligation_t: int,
    offset_cap_t: int,
    book: SurrenderBook,
    account_id: AccountId,
    old_vintage_cap_t: int | None,
) -> tuple[tuple[UnitCode, int], ...]:
    """The surrender that covers as much of what is left as current holdings legally can:
    eligible offsets up to the cap (local ones first where a local share is required), then
    eligible allowances, oldest vintage first."""
    allowances, offsets = book.totals(account_id, year)
    left = obligation_t - allowances - offsets
    plan: list[tuple[UnitCode, int]] = []
    if left <= 0:
        return ()

    def by_age(unit: UnitType) -> tuple[int, str]:
        return unit.vintage, unit.code

    offset_room = max(0, offset_cap_t - offsets)
    eligible_offsets = [
        u
        for u, qty in holdings.items()
        if qty > 0
        and u.kind is not UnitKind.CEA
        and u.project_id is not None
        and offset_ineligibility(u, projects[u.project_id], on, rules) is None
    ]
    local_units = sorted((u for u in eligible_offsets if is_local(u, projects, rules)), key=by_age)
    other_units = sorted(
        (u for u in eligible_offsets if not is_local(u, projects, rules)), key=by_age
    )
    local_total = book.local_offsets(account_id, year)
    offsets_total = offsets
    for unit in local_units + other_units:
        take = min(holdings[unit], offset_room, left)
        if rules.local_min_share_bp and not is_local(unit, projects, rules):
            # Non-local units only while local ones keep their required share.
            share = rules.local_min_share_bp
            most_total = local_total * BP // share if share else offsets_total + take
            take = min(take, max(0, most_total - offsets_total))
        if take <= 0:
            continue
        plan.append((unit.code, take))
        offset_room -= take
        left -= take
        offsets_total += take
        if is_local(unit, projects, rules):
            local_total += take
    old_room = None
    if rules.old_vintages is not None and old_vintage_cap_t is not None:
        used = book.old_vintages_used(
            account_id, rules.old_vintages.from_year, rules.old_vintages.max_vintage
        )
        old_room = max(0, old_vintage_cap_t - used)
    allowance_units = sorted(
        (
            u
            for u, qty in holdings.items()
            if qty > 0 and u.kind is UnitKind.CEA and (u.vintage <= year or rules.borrowing)
        ),
        key=by_age,
    )
    for unit in allowance_units:
        take = min(holdings[unit], left)
        if old_room is not None and _old(unit, year, rules):
            take = min(take, old_room)
            old_room -= take
        if take <= 0:
            continue
        plan.append((unit.code, take))
        left -= take
    return tuple(plan)
