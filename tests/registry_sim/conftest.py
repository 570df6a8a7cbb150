"""Fixtures and terse helpers for the registry tests.

``Reg`` wraps a ``Registry`` with one-line helpers (``r.entity("E1")``, ``r.issue("E1", 2024,
500)``) that fill in operation ids. ``r.ok(op)`` applies an operation and returns the ``Done``;
``r.refused(op, code)`` applies one that must be refused and checks that it changed nothing: the
state hash, the number of postings and every balance are the same before and after.

The standard projects cover every eligibility case of the shipped rule sets (docs/rules.md,
national: compliance; Guangdong pilot):

| project | kind | province | registered | inside ETS scope |
| --- | --- | --- | --- | --- |
| ``GD-WIND`` | CCER | Guangdong | 2024-03-01 (after 2024-01-22: eligible) | no |
| ``HB-SOLAR`` | CCER | Hubei | 2024-06-15 | no |
| ``GD-PH`` | PHCER | Guangdong | 2024-05-10 | no |
| ``IN-SCOPE`` | CCER | Hubei | 2024-04-01 | yes |
| ``MID`` | CCER | Hubei | 2020-05-01 (between 2017-03-14 and 2024-01-22) | no |
| ``OLD`` | CCER | Hubei | 2016-06-01 (before 2017-03-14: until 2024-12-31) | no |
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from registry_sim import (
    ISSUANCE,
    RETIRED,
    Account,
    AccountId,
    AccountKind,
    Done,
    HoldingState,
    Project,
    Refused,
    Registry,
    RegistryCode,
    Result,
    UnitCode,
    UnitKind,
    cea,
    load_rules,
    offset_unit,
)
from registry_sim.ops import (
    Assess,
    Cancel,
    IssueAllowances,
    IssueOffsets,
    Op,
    OpenAccount,
    RecordEmissions,
    RecordNetSales,
    RegisterProject,
    Surrender,
    Transfer,
    WithdrawSurrender,
)

AVAILABLE = HoldingState.AVAILABLE
PENDING = HoldingState.PENDING
FROZEN = HoldingState.FROZEN
HELD = HoldingState.HELD
C = RegistryCode

E1 = AccountId("E1")  # covered entity in Guangdong
E2 = AccountId("E2")  # covered entity in Hubei
GAS = AccountId("GAS")  # gas-fired covered entity in Hubei
P1 = AccountId("P1")  # a participant (investor), not a covered entity

# A surrender date within the deadline of compliance year 2024 (31 December 2025).
ON_2025 = dt.date(2025, 6, 15)  # before every shipped deadline for 2024 (Guangdong: 20 June)
PRICE = 6_000  # previous month's average price: CNY 60.00 in fen


def make_project(
    project_id: str,
    province: str,
    registered: dt.date,
    *,
    kind: UnitKind = UnitKind.CCER,
    inside_ets_scope: bool = False,
    methodology: str = "renewable",
) -> Project:
    return Project(
        project_id=project_id,
        kind=kind,
        methodology=methodology,
        province=province,
        start_date=registered - dt.timedelta(days=365),
        registration_date=registered,
        inside_ets_scope=inside_ets_scope,
    )


GD_WIND = make_project("GD-WIND", "Guangdong", dt.date(2024, 3, 1))
HB_SOLAR = make_project("HB-SOLAR", "Hubei", dt.date(2024, 6, 15), methodology="solar_thermal")
GD_PH = make_project("GD-PH", "Guangdong", dt.date(2024, 5, 10), kind=UnitKind.PHCER)
IN_SCOPE = make_project("IN-SCOPE", "Hubei", dt.date(2024, 4, 1), inside_ets_scope=True)
MID = make_project("MID", "Hubei", dt.date(2020, 5, 1), methodology="methane_use")
OLD = make_project("OLD", "Hubei", dt.date(2016, 6, 1), methodology="forestry_sink")
PROJECTS = (GD_WIND, HB_SOLAR, GD_PH, IN_SCOPE, MID, OLD)


def ccer(project: Project, vintage: int) -> UnitCode:
    return offset_unit(project, vintage).code


def cea_code(vintage: int) -> UnitCode:
    return cea(vintage).code


class Reg:
    """A registry plus helpers; every helper op gets a fresh id ``op-1``, ``op-2``, ..."""

    def __init__(self, ruleset: str, overrides: Mapping[str, Any] | None = None) -> None:
        self.registry = Registry(load_rules(ruleset, overrides))
        self._ids = itertools.count(1)

    def next_id(self, prefix: str = "op") -> str:
        return f"{prefix}-{next(self._ids)}"

    # -- raw

    def do(self, op: Op) -> Result:
        return self.registry.apply(op)

    def ok(self, op: Op) -> Done:
        result = self.registry.apply(op)
        assert isinstance(result, Done), result
        return result

    def refused(self, op: Op, code: RegistryCode) -> Refused:
        """Apply ``op``, which must be refused with ``code`` and change nothing."""
        before = self.snapshot()
        result = self.registry.apply(op)
        assert isinstance(result, Refused), result
        assert result.code is code, result
        assert result.op_id == op.op_id
        assert self.snapshot() == before, f"{code} changed the registry"
        return result

    def snapshot(self) -> tuple[object, ...]:
        registry = self.registry
        return (
            registry.state_hash(),
            len(registry.ledger.postings()),
            registry.ledger.balances(),
        )

    # -- set-up

    def entity(
        self,
        account_id: AccountId,
        province: str = "Hubei",
        *,
        gas_fired: bool = False,
        sector: str = "power",
    ) -> AccountId:
        account = Account(
            account_id,
            AccountKind.COVERED_ENTITY,
            f"Entity {account_id}",
            sector=sector,
            province=province,
            gas_fired=gas_fired,
        )
        self.ok(OpenAccount(self.next_id(), account))
        return account_id

    def participant(self, account_id: AccountId) -> AccountId:
        account = Account(account_id, AccountKind.PARTICIPANT, f"Participant {account_id}")
        self.ok(OpenAccount(self.next_id(), account))
        return account_id

    def projects(self, projects: Iterable[Project] = PROJECTS) -> None:
        for project in projects:
            self.ok(RegisterProject(self.next_id(), project))

    def emissions(self, account_id: AccountId, year: int, verified_t: int) -> None:
        self.ok(RecordEmissions(self.next_id(), account_id, year, verified_t))

    def net_sales(self, account_id: AccountId, net_sales_t: int) -> None:
        self.ok(RecordNetSales(self.next_id(), account_id, net_sales_t))

    def issue(self, account_id: AccountId, vintage: int, qty_t: int) -> Done:
        """Paid issuance of CEA ``vintage``: the simplest way to give an entity allowances."""
        return self.ok(IssueAllowances(self.next_id(), account_id, vintage, qty_t))

    def offsets(
        self, account_id: AccountId, project: Project, vintage: int, qty_t: int
    ) -> UnitCode:
        self.ok(IssueOffsets(self.next_id(), account_id, project.project_id, vintage, qty_t))
        return ccer(project, vintage)

    def transfer(self, source: AccountId, target: AccountId, unit: UnitCode, qty_t: int) -> Done:
        return self.ok(Transfer(self.next_id(), source, target, unit, qty_t))

    # -- compliance

    def surrender_op(
        self,
        account_id: AccountId,
        year: int,
        items: Iterable[tuple[UnitCode, int]],
        on: dt.date = ON_2025,
    ) -> Surrender:
        return Surrender(self.next_id(), account_id, year, tuple(items), on)

    def surrender(
        self,
        account_id: AccountId,
        year: int,
        items: Iterable[tuple[UnitCode, int]],
        on: dt.date = ON_2025,
    ) -> Done:
        return self.ok(self.surrender_op(account_id, year, items, on))

    def withdraw(self, account_id: AccountId, year: int) -> Done:
        return self.ok(WithdrawSurrender(self.next_id(), account_id, year))

    def assess(
        self, account_id: AccountId, year: int, price_fen: int = PRICE, on: dt.date | None = None
    ) -> Done:
        when = on if on is not None else self.registry.rules.compliance.deadline(year)
        return self.ok(Assess(self.next_id(), account_id, year, price_fen, when))

    def cancel(self, account_id: AccountId, unit: UnitCode, qty_t: int) -> Done:
        return self.ok(
            Cancel(self.next_id(), account_id, unit, qty_t, "Expo 2025 organisers", "neutral event")
        )

    # -- queries

    def bal(self, account_id: AccountId, unit: UnitCode, state: HoldingState = AVAILABLE) -> int:
        return self.registry.ledger.balance(account_id, unit, state)

    def issued(self, unit: UnitCode) -> int:
        return self.registry.ledger.issued(unit)

    def retired(self, unit: UnitCode) -> int:
        return self.registry.ledger.retired(unit)

    def held_outside_system(self, unit: UnitCode) -> int:
        """Units of ``unit`` in every account and state except issuance and retired."""
        return sum(
            qty
            for (owner, code, _state), qty in self.registry.ledger.balances().items()
            if code == unit and owner not in (ISSUANCE, RETIRED)
        )

    def assert_conserved(self) -> None:
        """Every unit ever issued is held somewhere or retired; no balance but issuance < 0."""
        ledger = self.registry.ledger
        for (owner, code, state), qty in ledger.balances().items():
            assert owner == ISSUANCE or qty >= 0, (owner, code, state, qty)
        for unit in ledger.units():
            assert self.held_outside_system(unit) + ledger.retired(unit) == ledger.issued(unit)


def national() -> Reg:
    """cn_national with the standard projects and entities E1 (Guangdong), E2 (Hubei), GAS
    (gas-fired, Hubei) and participant P1."""
    return _standard(Reg("cn_national"))


def guangdong() -> Reg:
    return _standard(Reg("guangdong_pilot"))


def eu() -> Reg:
    return _standard(Reg("eu_ets"))


def _standard(reg: Reg) -> Reg:
    reg.projects()
    reg.entity(E1, "Guangdong")
    reg.entity(E2, "Hubei")
    reg.entity(GAS, "Hubei", gas_fired=True)
    reg.participant(P1)
    return reg


@pytest.fixture
def cn() -> Reg:
    return national()


@pytest.fixture
def gd() -> Reg:
    return guangdong()


@pytest.fixture
def eu_reg() -> Reg:
    return eu()
