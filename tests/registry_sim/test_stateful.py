"""A Hypothesis state machine over the registry: random emissions, allocation (pre-allocation,
true-up, intensity, paid issuance), offset issuance, transfers, judicial freezes, holds,
surrenders (random items and the registry's own plan), withdrawals, cancellations,
assessments and retried operations, for three entities, a participant and six projects, under
``cn_national`` or ``guangdong_pilot``.

After every step:

- per unit type, the units held in every account and state (issuance and retired aside) plus
  the retired units equal the units issued, which is minus the issuance account's balance, and
  equal an issued count kept here from the operations' own numbers;
- no balance other than the issuance account's is negative;
- for every entity and year, the offsets surrendered never exceed the offset cap (national: 5 %
  of the obligation; Guangdong: 10 % of the previous year's emissions, at least 70 % local);
- pending balances and retired totals agree with a model kept here;
- a refused operation left the state hash unchanged (checked in ``do``), a retried one answers
  its first result and changes nothing, and the surrender plan is always accepted as a surrender;
- the state exported as plain values loads back into a registry with the same state hash.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from registry_sim import (
    ISSUANCE,
    RETIRED,
    AccountId,
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
    PreAllocate,
    RecordEmissions,
    RecordNetSales,
    ReleaseHold,
    Surrender,
    Transfer,
    TrueUpAllocation,
    Unfreeze,
    WithdrawSurrender,
)
from tests.registry_sim.conftest import (
    AVAILABLE,
    E1,
    E2,
    GAS,
    P1,
    PENDING,
    PROJECTS,
    Reg,
)

ENTITIES = (E1, E2, GAS)
ACCOUNTS = (E1, E2, GAS, P1)
YEARS = (2023, 2024, 2025, 2026)
VINTAGES = (2021, 2022, 2023, 2024, 2025, 2026)
PROJECT_BY_ID = {p.project_id: p for p in PROJECTS}
BP = 10_000

entities = st.sampled_from(ENTITIES)
accounts = st.sampled_from(ACCOUNTS)
years = st.sampled_from(YEARS)
vintages = st.sampled_from(VINTAGES)
projects = st.sampled_from(PROJECTS)
quantities = st.integers(1, 3_000)
emissions = st.integers(0, 12_000)
benchmarks = st.sampled_from(["0.8218", "0.392", "0.57", "0.9", "1.1"])
factor_lists = st.lists(st.sampled_from(["0.985", "1.05", "1", "0.95"]), max_size=2)
STATE_MOVES = {
    "freeze": (Freeze, AVAILABLE),
    "unfreeze": (Unfreeze, HoldingState.FROZEN),
    "hold": (Hold, AVAILABLE),
    "release": (ReleaseHold, HoldingState.HELD),
}


class RegistryMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.reg = Reg("cn_national")
        self.ids = 0
        self.done: list[tuple[Op, Done]] = []
        # models kept from the operations' own numbers
        self.issued: Counter[UnitCode] = Counter()
        self.retired: Counter[UnitCode] = Counter()
        self.verified: dict[tuple[AccountId, int], int] = {}
        self.allocated: set[tuple[AccountId, int]] = set()  # entity-years with an allocation
        self.pending: dict[tuple[AccountId, int], Counter[UnitCode]] = {}
        self.offsets: Counter[tuple[AccountId, int]] = Counter()  # pending or retired
        self.local: Counter[tuple[AccountId, int]] = Counter()
        self.assessed: set[tuple[AccountId, int]] = set()

    @initialize(ruleset=st.sampled_from(["cn_national", "guangdong_pilot"]), data=st.data())
    def open_market(self, ruleset: str, data: st.DataObject) -> None:
        self.reg = Reg(ruleset)
        self.reg.projects()
        self.reg.entity(E1, "Guangdong")
        self.reg.entity(E2, "Hubei")
        self.reg.entity(GAS, "Guangdong", gas_fired=True)
        self.reg.participant(P1)
        # most entity-years start with verified emissions; the rest may come later (or never)
        for entity in ENTITIES:
            for year in YEARS:
                if data.draw(st.integers(0, 3), label="has emissions"):
                    self.record_emissions(entity, year, data.draw(emissions, label="verified"))

    # ------------------------------------------------------------------ helpers

    @property
    def registry(self) -> Registry:
        return self.reg.registry

    def op_id(self) -> str:
        self.ids += 1
        return f"m-{self.ids}"

    def do(self, op: Op) -> Result:
        before = self.registry.state_hash()
        postings = len(self.registry.ledger.postings())
        result = self.registry.apply(op)
        if isinstance(result, Refused):
            assert self.registry.state_hash() == before, f"refused {result} changed the state"
            assert len(self.registry.ledger.postings()) == postings
        else:
            assert isinstance(result, Done)
            self.done.append((op, result))
        return result

    def available(self, account: AccountId, state: HoldingState = AVAILABLE) -> list[UnitCode]:
        return sorted(
            code
            for code, states in self.registry.holdings(account).items()
            if states.get(state, 0) > 0
        )

    def draw_unit(
        self, data: st.DataObject, account: AccountId, state: HoldingState = AVAILABLE
    ) -> UnitCode | None:
        units = self.available(account, state)
        if not units:
            return None
        return data.draw(st.sampled_from(units), label="unit")

    def draw_qty(
        self, data: st.DataObject, account: AccountId, unit: UnitCode, state: HoldingState
    ) -> int:
        """Often a small part of the balance (offset caps are small), up to a little over it."""
        held = self.registry.ledger.balance(account, unit, state)
        some = st.integers(1, max(1, held // 10)) | st.integers(1, held + 3)
        return data.draw(some, label="qty")

    def is_local(self, unit: UnitCode) -> bool:
        unit_type = next(u for u in self.registry.unit_types() if u.code == unit)
        local = self.registry.rules.compliance.local_province
        if unit_type.project_id is None or local is None:
            return False
        return PROJECT_BY_ID[unit_type.project_id].province == local

    def is_offset(self, unit: UnitCode) -> bool:
        return not unit.startswith("CEA")

    def note_allocation(self, entity: AccountId, year: int, result: Result) -> None:
        if isinstance(result, Done):
            self.issued[cea(year).code] += result.details.get("issued_t", 0)
            self.allocated.add((entity, year))

    # ------------------------------------------------------------------ emissions, allocation

    @rule(entity=entities, year=years, verified_t=emissions)
    def record_emissions(self, entity: AccountId, year: int, verified_t: int) -> None:
        result = self.do(RecordEmissions(self.op_id(), entity, year, verified_t))
        if isinstance(result, Done):
            assert (entity, year) not in self.verified
            self.verified[(entity, year)] = verified_t
        else:
            assert result.code is RegistryCode.EMISSIONS_ALREADY_RECORDED

    @rule(entity=entities, net_sales_t=st.integers(-1_000, 5_000))
    def record_net_sales(self, entity: AccountId, net_sales_t: int) -> None:
        assert isinstance(self.do(RecordNetSales(self.op_id(), entity, net_sales_t)), Done)

    @rule(entity=entities, year=years)
    def pre_allocate(self, entity: AccountId, year: int) -> None:
        result = self.do(PreAllocate(self.op_id(), entity, year))
        if (entity, year) in self.allocated:
            # a year is pre-allocated once; later changes are true-ups
            assert isinstance(result, Refused)
            assert result.code is RegistryCode.ALREADY_PRE_ALLOCATED
        elif (entity, year - 1) in self.verified:
            assert isinstance(result, Done)
            # docs/rules.md, national: 70 % of the previous year's emissions, rounded down
            assert result.details["allocation_t"] == self.verified[(entity, year - 1)] * 7 // 10
        self.note_allocation(entity, year, result)

    @rule(
        entity=entities,
        year=years,
        output=st.integers(0, 80_000),
        benchmark=benchmarks,
        factors=factor_lists,
    )
    def true_up(
        self, entity: AccountId, year: int, output: int, benchmark: str, factors: list[str]
    ) -> None:
        result = self.do(
            TrueUpAllocation(self.op_id(), entity, year, output, benchmark, tuple(factors))
        )
        if isinstance(result, Done):
            verified = self.verified[(entity, year)]
            rules = self.registry.rules.allocation
            # never below the gap cap (national: 80 % of verified emissions; Guangdong: none)
            assert result.details["final_t"] >= verified * rules.gap_cap_bp // 10_000
            if entity == GAS and rules.gas_fired_top_up:
                assert result.details["final_t"] >= verified
        self.note_allocation(entity, year, result)

    @rule(entity=entities, year=years, alpha_bp=st.integers(-400, 400))
    def allocate_by_intensity(self, entity: AccountId, year: int, alpha_bp: int) -> None:
        result = self.do(AllocateByIntensity(self.op_id(), entity, year, alpha_bp))
        if abs(alpha_bp) > 300:
            assert isinstance(result, Refused)
            assert result.code is RegistryCode.ALPHA_OUT_OF_RANGE
        self.note_allocation(entity, year, result)

    @rule(account=accounts, vintage=vintages, qty_t=quantities)
    def issue_allowances(self, account: AccountId, vintage: int, qty_t: int) -> None:
        result = self.do(IssueAllowances(self.op_id(), account, vintage, qty_t))
        assert isinstance(result, Done)
        self.issued[cea(vintage).code] += qty_t

    @rule(account=accounts, project=projects, vintage=vintages, qty_t=quantities)
    def issue_offsets(self, account: AccountId, project: Project, vintage: int, qty_t: int) -> None:
        op = IssueOffsets(self.op_id(), account, project.project_id, vintage, qty_t)
        result = self.do(op)
        assert isinstance(result, Done)
        self.issued[result.details["unit"]] += qty_t

    # ------------------------------------------------------------------ movements

    @rule(data=st.data(), source=accounts, receiver=accounts)
    def transfer(self, data: st.DataObject, source: AccountId, receiver: AccountId) -> None:
        unit = self.draw_unit(data, source)
        if unit is None:
            return
        qty = self.draw_qty(data, source, unit, AVAILABLE)
        held = self.registry.ledger.balance(source, unit)
        result = self.do(Transfer(self.op_id(), source, receiver, unit, qty))
        assert isinstance(result, Done) == (qty <= held)

    @rule(data=st.data(), account=accounts, into=st.sampled_from([ISSUANCE, RETIRED, None]))
    def touch_a_system_account(
        self, data: st.DataObject, account: AccountId, into: AccountId | None
    ) -> None:
        """Units leave SYS:RETIRED never, and enter it or SYS:ISSUANCE by no transfer."""
        if into is None:
            source, receiver = RETIRED, account
        else:
            source, receiver = account, into
        unit = self.draw_unit(data, source)
        if unit is None:
            return
        result = self.do(Transfer(self.op_id(), source, receiver, unit, 1))
        assert isinstance(result, Refused)
        assert result.code is RegistryCode.SYSTEM_ACCOUNT

    @rule(data=st.data(), account=accounts, move=st.sampled_from(sorted(STATE_MOVES)))
    def move_state(self, data: st.DataObject, account: AccountId, move: str) -> None:
        kind, source = STATE_MOVES[move]
        unit = self.draw_unit(data, account, source)
        if unit is None:
            return
        qty = self.draw_qty(data, account, unit, source)
        held = self.registry.ledger.balance(account, unit, source)
        op: Op
        if kind is Freeze or kind is Unfreeze:
            op = kind(self.op_id(), account, unit, qty, "(2025) court order")
        else:
            op = kind(self.op_id(), account, unit, qty)
        result = self.do(op)
        assert isinstance(result, Done) == (qty <= held)

    @rule(data=st.data(), account=accounts)
    def cancel(self, data: st.DataObject, account: AccountId) -> None:
        unit = self.draw_unit(data, account)
        if unit is None:
            return
        qty = self.draw_qty(data, account, unit, AVAILABLE)
        result = self.do(Cancel(self.op_id(), account, unit, qty, "a marathon", "neutrality"))
        if isinstance(result, Done):
            self.retired[unit] += qty

    # ------------------------------------------------------------------ compliance

    def on_dates(self, year: int) -> st.SearchStrategy[dt.date]:
        # the last day for old CCER (2024-12-31) and the day after, and dates inside Y+1
        return st.sampled_from(
            [
                dt.date(year + 1, 3, 31),
                dt.date(year + 1, 12, 31),
                dt.date(2024, 12, 31),
                dt.date(2025, 1, 1),
            ]
        )

    def note_surrender(self, op: Surrender) -> None:
        key = (op.account_id, op.year)
        for unit, qty in op.items:
            self.pending.setdefault(key, Counter())[unit] += qty
            if self.is_offset(unit):
                self.offsets[key] += qty
                if self.is_local(unit):
                    self.local[key] += qty

    @rule(data=st.data(), entity=entities, year=years)
    def surrender_random(self, data: st.DataObject, entity: AccountId, year: int) -> None:
        units = self.available(entity)
        if not units:
            return
        items = []
        for _ in range(data.draw(st.integers(1, 3), label="items")):
            unit = data.draw(st.sampled_from(units), label="unit")
            items.append((unit, self.draw_qty(data, entity, unit, AVAILABLE)))
        on = data.draw(self.on_dates(year), label="on")
        op = Surrender(self.op_id(), entity, year, tuple(items), on)
        if isinstance(self.do(op), Done):
            self.note_surrender(op)

    @rule(data=st.data(), entity=entities, year=years)
    def surrender_plan(self, data: st.DataObject, entity: AccountId, year: int) -> None:
        on = data.draw(self.on_dates(year), label="on")
        plan = self.registry.surrender_plan(entity, year, on)
        if not plan:
            return
        status = self.registry.compliance_status(entity, year, on=on)
        assert status.remaining_t is not None
        assert status.shortfall_t is not None
        assert sum(qty for _, qty in plan) == status.coverable_t <= status.remaining_t
        assert status.shortfall_t == status.remaining_t - status.coverable_t
        for unit, qty in plan:
            assert 0 < qty <= self.registry.ledger.balance(entity, unit)
        op = Surrender(self.op_id(), entity, year, plan, on)
        result = self.do(op)
        assert isinstance(result, Done), f"the plan {plan} was refused: {result}"
        self.note_surrender(op)

    @rule(entity=entities, year=years)
    def withdraw(self, entity: AccountId, year: int) -> None:
        result = self.do(WithdrawSurrender(self.op_id(), entity, year))
        key = (entity, year)
        if isinstance(result, Done):
            pending = self.pending.pop(key)
            assert sum(p.qty_t for p in result.postings) == sum(pending.values())
            self.offsets[key] -= sum(q for u, q in pending.items() if self.is_offset(u))
            self.local[key] -= sum(
                q for u, q in pending.items() if self.is_offset(u) and self.is_local(u)
            )
        elif key in self.verified and key not in self.assessed:
            assert result.code is RegistryCode.NOTHING_PENDING
            assert not self.pending.get(key)

    @rule(entity=entities, year=years, price_fen=st.integers(1, 12_000))
    def assess(self, entity: AccountId, year: int, price_fen: int) -> None:
        deadline = self.registry.rules.compliance.deadline(year)
        result = self.do(Assess(self.op_id(), entity, year, price_fen, deadline))
        key = (entity, year)
        if isinstance(result, Done):
            self.assessed.add(key)
            pending = self.pending.pop(key, Counter())
            self.retired.update(pending)
            record = result.details["record"]
            surrendered = record.allowances_t + record.offsets_t
            assert record.shortfall_t == max(0, self.verified[key] - surrendered)
            # docs/rules.md, national: 5 x the previous month's average price x the shortfall;
            # Guangdong: CNY 50,000 for any shortfall and twice the shortfall deducted
            shortfall = record.shortfall_t
            if self.registry.rules.name == "guangdong_pilot":
                assert record.penalty_fen == (5_000_000 if shortfall else 0)
                assert record.deduction_t == 2 * shortfall
            else:
                assert record.penalty_fen == 5 * price_fen * shortfall
            assert record.offsets_t == self.offsets[key]
        else:
            assert key not in self.verified or key in self.assessed

    # ------------------------------------------------------------------ retries

    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        if not self.done:
            return
        op, first = data.draw(st.sampled_from(self.done), label="earlier op")
        before = self.registry.state_hash()
        assert self.registry.apply(op) == first
        assert self.registry.state_hash() == before

    @rule(data=st.data())
    def reuse_an_id(self, data: st.DataObject) -> None:
        if not self.done:
            return
        op, _ = data.draw(st.sampled_from(self.done), label="earlier op")
        # year 1999 is never used by this machine: certainly a different op
        result = self.do(WithdrawSurrender(op.op_id, E2, 1999))
        assert isinstance(result, Refused)
        assert result.code is RegistryCode.OP_ID_CONFLICT

    # ------------------------------------------------------------------ invariants

    @invariant()
    def units_are_conserved(self) -> None:
        ledger = self.registry.ledger
        held: Counter[UnitCode] = Counter()
        for (owner, unit, state), qty in ledger.balances().items():
            if owner != ISSUANCE:
                assert qty >= 0, (owner, unit, state, qty)
            if owner not in (ISSUANCE, RETIRED):
                held[unit] += qty
        for unit in set(ledger.units()) | set(self.issued):
            assert held[unit] + ledger.retired(unit) == ledger.issued(unit), unit
            assert ledger.issued(unit) == -ledger.balance(ISSUANCE, unit)
            assert ledger.issued(unit) == self.issued[unit], unit
            assert ledger.retired(unit) == self.retired[unit], unit

    @invariant()
    def pending_units_match_the_surrenders(self) -> None:
        expected: Counter[tuple[AccountId, UnitCode]] = Counter()
        for (entity, _year), units in self.pending.items():
            for unit, qty in units.items():
                expected[(entity, unit)] += qty
        actual = Counter(
            {
                (owner, unit): qty
                for (owner, unit, state), qty in self.registry.ledger.balances().items()
                if state is PENDING
            }
        )
        assert actual == expected

    @invariant()
    def offsets_within_the_cap(self) -> None:
        compliance = self.registry.rules.compliance
        for entity in ENTITIES:
            for year in YEARS:
                key = (entity, year)
                offsets = self.registry.surrendered_t(entity, year)[1]
                assert offsets == self.offsets[key]
                if not offsets:
                    continue
                if compliance.offset_cap_basis == "obligation":
                    # national: 5 % of the obligation
                    basis = self.verified[key]
                else:
                    # Guangdong: 10 % of the previous year's emissions, >= 70 % local
                    basis = self.verified[(entity, year - 1)]
                    assert self.local[key] * BP >= compliance.local_min_share_bp * offsets
                assert offsets <= basis * compliance.offset_cap_bp // BP

    @invariant()
    def state_survives_export_and_load(self) -> None:
        state = self.registry.export_state()
        loaded = Registry.from_state(self.registry.rules, state)
        assert loaded.state_hash() == self.registry.state_hash()
        assert loaded.export_state() == state

    @invariant()
    def offsets_surrendered_are_eligible_kinds(self) -> None:
        kinds = set(self.registry.rules.compliance.offset_unit_kinds)
        for units in self.pending.values():
            for unit in units:
                unit_type = next(u for u in self.registry.unit_types() if u.code == unit)
                if unit_type.kind is not UnitKind.CEA:
                    assert unit_type.kind.value in kinds


# Runs of up to 60 steps: 100 in `make test` (drawn anew each time: CI keeps no example
# database), 1,000 in `make soak`.
RUNS, SOAK_RUNS = 100, 1_000


def machine_settings(runs: int) -> settings:
    return settings(
        max_examples=runs,
        stateful_step_count=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


RegistryMachine.TestCase.settings = machine_settings(RUNS)
TestRegistryMachine = RegistryMachine.TestCase


@pytest.mark.soak
def test_the_registry_machine_at_length() -> None:
    run_state_machine_as_test(RegistryMachine, settings=machine_settings(SOAK_RUNS))


def test_machine_rule_sets_differ() -> None:
    # the machine runs both markets; they must really differ in what it checks
    national = load_rules("cn_national").compliance
    guangdong = load_rules("guangdong_pilot").compliance
    assert (national.offset_cap_basis, national.offset_cap_bp) == ("obligation", 500)
    assert (guangdong.offset_cap_basis, guangdong.offset_cap_bp) == (
        "previous_year_emissions",
        1_000,
    )
