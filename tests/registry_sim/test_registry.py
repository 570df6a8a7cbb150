"""The registry as a whole: idempotent operation ids, refusals that change nothing, holding
states (judicial freeze, holds for sell orders), transfers, voluntary cancellation, and one
scenario for every refusal code."""

from __future__ import annotations

import datetime as dt
import pickle
from collections.abc import Callable
from typing import get_args

import pytest

from registry_sim import (
    DESCRIPTIONS,
    FEES,
    ISSUANCE,
    NATIONAL,
    RETIRED,
    Account,
    AccountId,
    AccountKind,
    Done,
    Refused,
    RegistryCode,
    UnitCode,
)
from registry_sim.handlers import HANDLERS
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
    RegisterProject,
    ReleaseHold,
    Transfer,
    TrueUpAllocation,
    Unfreeze,
    WithdrawSurrender,
)
from tests.registry_sim.conftest import (
    AVAILABLE,
    E1,
    E2,
    FROZEN,
    GD_WIND,
    HB_SOLAR,
    HELD,
    MID,
    ON_2025,
    P1,
    PENDING,
    C,
    Reg,
    cea_code,
    guangdong,
    national,
)

CEA23 = cea_code(2023)
CEA24 = cea_code(2024)
CEA25 = cea_code(2025)


# ---------------------------------------------------------------- idempotency


def test_same_op_twice_gives_the_same_result_and_one_set_of_postings(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000)
    op = IssueAllowances("buy-1", E2, 2024, 500)
    first = cn.ok(op)
    postings = len(cn.registry.ledger.postings())
    state = cn.registry.state_hash()
    second = cn.registry.apply(op)
    assert second == first
    assert len(cn.registry.ledger.postings()) == postings
    assert cn.registry.state_hash() == state
    # 500 t issued once, not 1,000 t
    assert cn.bal(E2, CEA24) == 500
    assert cn.issued(CEA24) == 500


@pytest.mark.parametrize("repeat", [2, 5])
def test_a_retried_surrender_and_assessment_count_once(cn: Reg, repeat: int) -> None:
    cn.emissions(E2, 2024, 1_000)
    cn.issue(E2, 2024, 1_000)
    surrender = cn.surrender_op(E2, 2024, [(CEA24, 600)])
    assess = Assess("assess-1", E2, 2024, 6_000, dt.date(2025, 12, 31))
    results = [cn.registry.apply(surrender) for _ in range(repeat)]
    assert all(r == results[0] for r in results)
    assert isinstance(results[0], Done)
    assert cn.bal(E2, CEA24, PENDING) == 600
    records = [cn.registry.apply(assess) for _ in range(repeat)]
    assert all(r == records[0] for r in records)
    assert cn.retired(CEA24) == 600
    record = cn.registry.record(E2, 2024)
    assert record is not None
    # 1,000 - 600 = 400 t short, owed once
    assert record.shortfall_t == 400
    assert cn.registry.deduction_owed(E2) == 400


def test_same_id_for_a_different_op_is_refused(cn: Reg) -> None:
    cn.ok(IssueAllowances("buy-1", E2, 2024, 500))
    refusal = cn.refused(IssueAllowances("buy-1", E2, 2024, 501), C.OP_ID_CONFLICT)
    assert refusal.details == {"op_id": "buy-1"}
    # even an op of another type
    cn.refused(RecordEmissions("buy-1", E2, 2024, 1_000), C.OP_ID_CONFLICT)
    assert cn.bal(E2, CEA24) == 500
    assert cn.registry.verified(E2, 2024) is None


def test_a_refused_op_id_is_not_used_up(cn: Reg) -> None:
    cn.refused(Transfer("t-1", E2, P1, CEA24, 10), C.UNKNOWN_UNIT_TYPE)
    cn.issue(E2, 2024, 10)
    # the same op, now possible, succeeds: a refusal changes nothing, so it cannot be
    # remembered as the op's answer (ops.py's "answers the first result" means a Done one)
    done = cn.ok(Transfer("t-1", E2, P1, CEA24, 10))
    assert done.postings[0].qty_t == 10
    assert cn.bal(P1, CEA24) == 10


# ---------------------------------------------------------------- refusals change nothing


def test_refusals_leave_the_state_hash_unchanged(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000)
    cn.issue(E2, 2024, 1_000)
    wind = cn.offsets(E2, GD_WIND, 2024, 100)
    cn.surrender(E2, 2024, [(CEA24, 100)])
    before = cn.registry.state_hash()
    refusals: list[Op] = [
        # an item refused after an earlier item of the same surrender passed its checks:
        # offsets beyond the cap of 1,000 t x 5 % = 50 t
        cn.surrender_op(E2, 2024, [(CEA24, 100), (wind, 51)]),
        # 100 surrendered + 850 + 50 + 1 = 1,001 t > 1,000 t
        cn.surrender_op(E2, 2024, [(CEA24, 850), (wind, 50), (CEA24, 1)]),
        Transfer("t", E2, P1, CEA24, 901),  # 1,000 - 100 pending = 900 t available
        Freeze("f", E2, CEA24, 0, "court"),
        Cancel("c", E2, wind, 101, "b", "p"),
        PreAllocate("p", E1, 2025),  # E1 has no 2024 emissions
        TrueUpAllocation("u", E2, 2024, 1_000, "0.8", ("1/0",)),
    ]
    results = [cn.registry.apply(op) for op in refusals]
    assert all(isinstance(r, Refused) for r in results), results
    assert cn.registry.state_hash() == before
    assert cn.registry.holdings(E2) == {
        CEA24: {AVAILABLE: 900, PENDING: 100},
        wind: {AVAILABLE: 100},
    }


def test_state_hash_sees_every_kind_of_change(cn: Reg) -> None:
    hashes = {cn.registry.state_hash()}
    cn.emissions(E2, 2024, 1_000)
    hashes.add(cn.registry.state_hash())
    cn.issue(E2, 2024, 1_000)
    hashes.add(cn.registry.state_hash())
    cn.ok(Freeze(cn.next_id(), E2, CEA24, 1, "court"))
    hashes.add(cn.registry.state_hash())
    cn.surrender(E2, 2024, [(CEA24, 10)])
    hashes.add(cn.registry.state_hash())
    cn.assess(E2, 2024)
    hashes.add(cn.registry.state_hash())
    assert len(hashes) == 6


def test_equal_histories_hash_equal() -> None:
    a, b = national(), national()
    for reg in (a, b):
        reg.emissions(E2, 2024, 1_000)
        reg.issue(E2, 2024, 700)
    assert a.registry.state_hash() == b.registry.state_hash()
    b.issue(E2, 2024, 1)
    assert a.registry.state_hash() != b.registry.state_hash()


# ---------------------------------------------------------------- dispatch and pickling


def test_every_operation_has_a_handler() -> None:
    assert set(HANDLERS) == set(get_args(Op))


def test_a_pickled_registry_carries_on_as_the_original(cn: Reg) -> None:
    """A market's day-end snapshot pickles its registry (docs/adr/0003)."""
    cn.emissions(E2, 2023, 1_000)
    cn.emissions(E2, 2024, 1_000)
    cn.ok(PreAllocate(cn.next_id(), E2, 2024))
    cn.ok(Freeze(cn.next_id(), E2, CEA24, 5, "court"))
    cn.surrender(E2, 2024, [(CEA24, 100)])
    cn.assess(E2, 2024)
    copy = pickle.loads(pickle.dumps(cn.registry))
    assert copy.state_hash() == cn.registry.state_hash()
    # the allocation index, left out of the pickle, is rebuilt
    assert copy.allocated_t(E2) == cn.registry.allocated_t(E2) > 0
    assert copy.deduction_owed(E2) == cn.registry.deduction_owed(E2) > 0
    more: list[Op] = [
        Unfreeze("u-1", E2, CEA24, 5, "court"),
        Unfreeze("u-2", E2, CEA24, 1, "court"),  # refused: nothing left frozen
        IssueAllowances("buy-1", E2, 2025, 10),
        TrueUpAllocation("t-1", E2, 2024, 1_000, "0.8"),
    ]
    for op in more:
        assert copy.apply(op) == cn.registry.apply(op)
        assert copy.state_hash() == cn.registry.state_hash()
    assert isinstance(copy.apply(more[1]), Refused)
    assert copy.allocated_t(E2) == cn.registry.allocated_t(E2)


# ---------------------------------------------------------------- holding states


def test_judicial_freeze_and_unfreeze(cn: Reg) -> None:
    cn.issue(E2, 2024, 1_000)
    done = cn.ok(Freeze(cn.next_id(), E2, CEA24, 300, "(2025) Hu 01 Zhi 123"))
    (posting,) = done.postings
    assert (posting.from_state, posting.to_state, posting.qty_t) == (AVAILABLE, FROZEN, 300)
    # 1,000 - 300 = 700 t available, 300 t frozen
    assert cn.registry.holdings(E2) == {CEA24: {AVAILABLE: 700, FROZEN: 300}}
    # frozen units cannot move
    cn.refused(Transfer("t", E2, P1, CEA24, 701), C.INSUFFICIENT_UNITS)
    cn.refused(Hold("h", E2, CEA24, 701), C.INSUFFICIENT_UNITS)
    cn.refused(Cancel("c", E2, CEA24, 701, "b", "p"), C.INSUFFICIENT_UNITS)
    refusal = cn.refused(Unfreeze("u", E2, CEA24, 301, "(2025) Hu 01 Zhi 123"), C.FREEZE_NOT_FOUND)
    assert (refusal.details["frozen_t"], refusal.details["requested_t"]) == (300, 301)
    # a freeze is released only under its own reference (the court's order)
    refusal = cn.refused(Unfreeze("v", E2, CEA24, 100, "another court"), C.FREEZE_NOT_FOUND)
    assert refusal.details["frozen_t"] == 0
    cn.ok(Unfreeze(cn.next_id(), E2, CEA24, 100, "(2025) Hu 01 Zhi 123"))
    cn.ok(Unfreeze(cn.next_id(), E2, CEA24, 200, "(2025) Hu 01 Zhi 123"))
    assert cn.registry.holdings(E2) == {CEA24: {AVAILABLE: 1_000}}
    cn.transfer(E2, P1, CEA24, 1_000)
    assert cn.bal(P1, CEA24) == 1_000


def test_freeze_needs_available_units(cn: Reg) -> None:
    cn.issue(E2, 2024, 100)
    cn.ok(Hold(cn.next_id(), E2, CEA24, 60))
    refusal = cn.refused(Freeze("f", E2, CEA24, 41, "court"), C.INSUFFICIENT_UNITS)
    assert refusal.details["held_t"] == 40


def test_hold_and_release(cn: Reg) -> None:
    cn.issue(P1, 2024, 1_000)
    done = cn.ok(Hold(cn.next_id(), P1, CEA24, 400))
    (posting,) = done.postings
    assert (posting.from_state, posting.to_state) == (AVAILABLE, HELD)
    assert cn.registry.holdings(P1) == {CEA24: {AVAILABLE: 600, HELD: 400}}
    cn.refused(Transfer("t", P1, E2, CEA24, 601), C.INSUFFICIENT_UNITS)
    refusal = cn.refused(ReleaseHold("r", P1, CEA24, 401), C.INSUFFICIENT_UNITS)
    assert refusal.details["state"] == "held"
    cn.ok(ReleaseHold(cn.next_id(), P1, CEA24, 150))
    # 600 + 150 = 750 t available, 250 t held
    assert cn.registry.holdings(P1) == {CEA24: {AVAILABLE: 750, HELD: 250}}


def test_held_units_cannot_be_surrendered(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000)
    cn.issue(E2, 2024, 1_000)
    cn.ok(Hold(cn.next_id(), E2, CEA24, 1_000))
    cn.refused(cn.surrender_op(E2, 2024, [(CEA24, 1)]), C.INSUFFICIENT_UNITS)
    assert cn.registry.surrender_plan(E2, 2024, ON_2025) == ()


def test_holding_states_are_per_account_and_unit(cn: Reg) -> None:
    cn.issue(E2, 2024, 100)
    cn.issue(E2, 2025, 100)
    cn.issue(P1, 2024, 100)
    cn.ok(Freeze(cn.next_id(), E2, CEA24, 100, "court"))
    assert cn.bal(E2, CEA25) == 100
    assert cn.bal(P1, CEA24) == 100
    cn.refused(Unfreeze("u", P1, CEA24, 1, "court"), C.FREEZE_NOT_FOUND)


# ---------------------------------------------------------------- transfers


def test_transfer_moves_available_units(cn: Reg) -> None:
    cn.issue(E2, 2024, 1_000)
    done = cn.transfer(E2, P1, CEA24, 250)
    (posting,) = done.postings
    assert (posting.from_account, posting.to_account, posting.qty_t) == (E2, P1, 250)
    # 1,000 - 250 = 750 t stay with E2
    assert (cn.bal(E2, CEA24), cn.bal(P1, CEA24)) == (750, 250)
    cn.transfer(P1, E1, CEA24, 250)
    assert (cn.bal(P1, CEA24), cn.bal(E1, CEA24)) == (0, 250)
    assert cn.issued(CEA24) == 1_000
    cn.assert_conserved()


def test_offsets_transfer_like_allowances(cn: Reg) -> None:
    wind = cn.offsets(P1, GD_WIND, 2024, 5_000)
    cn.transfer(P1, E2, wind, 5_000)
    assert cn.registry.holdings(E2) == {wind: {AVAILABLE: 5_000}}
    assert cn.registry.holdings(P1) == {}


def test_transfer_refusals(cn: Reg) -> None:
    cn.issue(E2, 2024, 100)
    cn.refused(Transfer("a", E2, AccountId("NOBODY"), CEA24, 1), C.UNKNOWN_ACCOUNT)
    cn.refused(Transfer("b", AccountId("NOBODY"), E2, CEA24, 1), C.UNKNOWN_ACCOUNT)
    cn.refused(Transfer("c", E2, P1, CEA23, 1), C.UNKNOWN_UNIT_TYPE)
    cn.refused(Transfer("d", E2, P1, CEA24, 0), C.INVALID_QUANTITY)
    cn.refused(Transfer("e", E2, P1, CEA24, -5), C.INVALID_QUANTITY)
    refusal = cn.refused(Transfer("f", E2, P1, CEA24, 101), C.INSUFFICIENT_UNITS)
    assert (refusal.details["held_t"], refusal.details["requested_t"]) == (100, 101)
    # units leave the issuance account only by issuance, never by transfer
    cn.refused(Transfer("g", ISSUANCE, P1, CEA24, 1), C.SYSTEM_ACCOUNT)


OUT_OF_RETIRED: dict[str, Op] = {
    "transfer": Transfer("out", RETIRED, P1, CEA24, 400),
    "freeze": Freeze("out", RETIRED, CEA24, 400, "court"),
    "hold": Hold("out", RETIRED, CEA24, 400),
    "cancel": Cancel("out", RETIRED, CEA24, 400, "someone else", "counted twice"),
}


@pytest.mark.parametrize("kind", list(OUT_OF_RETIRED))
def test_retired_units_can_never_move_again(cn: Reg, kind: str) -> None:
    cn.issue(E2, 2024, 1_000)
    cn.cancel(E2, CEA24, 400)
    refusal = cn.refused(OUT_OF_RETIRED[kind], C.SYSTEM_ACCOUNT)
    assert refusal.details["account_id"] == RETIRED
    assert cn.retired(CEA24) == 400
    assert len(cn.registry.export_state().cancellations) == 1


@pytest.mark.parametrize("target", [ISSUANCE, RETIRED])
def test_units_cannot_be_transferred_into_issuance_or_retired(cn: Reg, target: AccountId) -> None:
    cn.issue(E2, 2024, 1_000)
    refusal = cn.refused(Transfer("t", E2, target, CEA24, 100), C.SYSTEM_ACCOUNT)
    assert refusal.details["to_account"] == target
    # 1,000 t issued, all still with E2, none retired
    assert (cn.issued(CEA24), cn.bal(E2, CEA24), cn.retired(CEA24)) == (1_000, 1_000, 0)


ISSUED_INTO_SYSTEM: dict[str, Op] = {
    "offsets into retired": IssueOffsets("i", RETIRED, "GD-WIND", 2024, 100),
    "offsets into issuance": IssueOffsets("i", ISSUANCE, "GD-WIND", 2024, 100),
    "allowances into retired": IssueAllowances("i", RETIRED, 2024, 100),
    "allowances into issuance": IssueAllowances("i", ISSUANCE, 2024, 100),
}


@pytest.mark.parametrize("kind", list(ISSUED_INTO_SYSTEM))
def test_units_cannot_be_issued_into_issuance_or_retired(cn: Reg, kind: str) -> None:
    cn.refused(ISSUED_INTO_SYSTEM[kind], C.SYSTEM_ACCOUNT)


# ---------------------------------------------------------------- cancellation


def test_cancellation_retires_units_for_good(cn: Reg) -> None:
    cn.issue(E2, 2024, 5_000)
    wind = cn.offsets(E2, GD_WIND, 2024, 2_000)
    done = cn.cancel(E2, CEA24, 1_200)
    (posting,) = done.postings
    assert (posting.from_account, posting.to_account, posting.to_state) == (
        E2,
        RETIRED,
        AVAILABLE,
    )
    assert done.details == {"beneficiary": "Expo 2025 organisers", "purpose": "neutral event"}
    cn.cancel(E2, wind, 2_000)
    # CEA2024: 5,000 issued = 3,800 held + 1,200 retired; CCER: 2,000 = 0 + 2,000
    assert cn.bal(E2, CEA24) == 3_800
    assert cn.retired(CEA24) == 1_200
    assert cn.issued(CEA24) == cn.held_outside_system(CEA24) + cn.retired(CEA24) == 5_000
    assert cn.retired(wind) == 2_000
    assert cn.issued(wind) == 2_000
    assert cn.held_outside_system(wind) == 0
    # the cancelled units are gone from the entity: only 3,800 t can move
    refusal = cn.refused(Transfer("t", E2, P1, CEA24, 3_801), C.INSUFFICIENT_UNITS)
    assert refusal.details["held_t"] == 3_800
    cn.refused(Transfer("t2", E2, P1, wind, 1), C.INSUFFICIENT_UNITS)
    cn.refused(Cancel("c", E2, wind, 1, "b", "p"), C.INSUFFICIENT_UNITS)
    cn.assert_conserved()


def test_cancelled_units_do_not_count_for_compliance(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000)
    cn.issue(E2, 2024, 1_000)
    cn.cancel(E2, CEA24, 300)
    # only 1,000 - 300 = 700 t left to surrender
    assert cn.registry.surrender_plan(E2, 2024, ON_2025) == ((CEA24, 700),)
    cn.refused(cn.surrender_op(E2, 2024, [(CEA24, 701)]), C.INSUFFICIENT_UNITS)


def test_cancellation_needs_available_units(cn: Reg) -> None:
    cn.issue(E2, 2024, 100)
    cn.ok(Freeze(cn.next_id(), E2, CEA24, 100, "court"))
    cn.refused(Cancel("c", E2, CEA24, 1, "b", "p"), C.INSUFFICIENT_UNITS)
    cn.refused(Cancel("c0", E2, CEA24, 0, "b", "p"), C.INVALID_QUANTITY)


def test_retired_and_issued_across_surrender_and_cancellation(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000)
    cn.issue(E2, 2024, 3_000)
    cn.surrender(E2, 2024, [(CEA24, 1_000)])
    cn.cancel(E2, CEA24, 500)
    cn.assess(E2, 2024)
    # 3,000 issued = 1,500 held + (1,000 surrendered + 500 cancelled) retired
    assert cn.retired(CEA24) == 1_500
    assert cn.held_outside_system(CEA24) == 1_500
    assert cn.issued(CEA24) == 3_000
    cn.assert_conserved()


# ---------------------------------------------------------------- accounts and projects


def test_system_accounts_exist_from_the_start(cn: Reg) -> None:
    kinds = {a.account_id: a.kind for a in cn.registry.accounts()}
    assert kinds[ISSUANCE] is AccountKind.ISSUANCE
    assert kinds[NATIONAL] is AccountKind.NATIONAL_AUTHORITY
    assert kinds[RETIRED] is AccountKind.RETIRED
    assert kinds[FEES] is AccountKind.FEES
    assert kinds[E2] is AccountKind.COVERED_ENTITY
    assert kinds[P1] is AccountKind.PARTICIPANT


def test_offsets_are_issued_per_project_and_vintage(cn: Reg) -> None:
    done = cn.ok(IssueOffsets(cn.next_id(), P1, "GD-WIND", 2024, 3_000))
    (posting,) = done.postings
    assert done.details["unit"] == "CCER:GD-WIND:2024"
    assert (posting.from_account, posting.to_account) == (ISSUANCE, P1)
    cn.offsets(P1, GD_WIND, 2025, 1_000)
    codes = {u.code: (u.kind.value, u.vintage, u.project_id) for u in cn.registry.unit_types()}
    assert codes[UnitCode("CCER:GD-WIND:2024")] == ("CCER", 2024, "GD-WIND")
    assert codes[UnitCode("CCER:GD-WIND:2025")] == ("CCER", 2025, "GD-WIND")
    assert cn.issued(cn.offsets(P1, HB_SOLAR, 2024, 1)) == 1


# ---------------------------------------------------------------- every refusal code

Scenario = Callable[[Reg], Op]


def _emissions_then(op: Callable[[Reg], Op], account: AccountId = E2, year: int = 2024) -> Scenario:
    def scenario(reg: Reg) -> Op:
        reg.emissions(account, year, 1_000)
        return op(reg)

    return scenario


def _op_id_conflict(reg: Reg) -> Op:
    reg.ok(IssueAllowances("same", E2, 2024, 1))
    return IssueAllowances("same", E2, 2024, 2)


def _insufficient(reg: Reg) -> Op:
    reg.issue(E2, 2024, 10)
    return Transfer("x", E2, P1, CEA24, 11)


def _already_assessed(reg: Reg) -> Op:
    reg.emissions(E2, 2024, 1_000)
    reg.assess(E2, 2024)
    return WithdrawSurrender("x", E2, 2024)


def _vintage(reg: Reg) -> Op:
    reg.emissions(E2, 2024, 1_000)
    reg.issue(E2, 2025, 10)
    return reg.surrender_op(E2, 2024, [(CEA25, 10)])


def _old_vintage(reg: Reg) -> Op:
    reg.emissions(E2, 2025, 100_000)
    reg.issue(E2, 2024, 10_001)
    # conversion cap 10,000 t + 1.5 x 0 t
    return reg.surrender_op(E2, 2025, [(CEA24, 10_001)], dt.date(2026, 6, 30))


def _offset_not_eligible(reg: Reg) -> Op:
    reg.emissions(E2, 2024, 100_000)
    unit = reg.offsets(E2, MID, 2024, 10)
    return reg.surrender_op(E2, 2024, [(unit, 10)])


def _offset_cap(reg: Reg) -> Op:
    reg.emissions(E2, 2024, 1_000)
    unit = reg.offsets(E2, GD_WIND, 2024, 51)
    return reg.surrender_op(E2, 2024, [(unit, 51)])  # 1,000 x 5 % = 50 t


def _local_share(reg: Reg) -> Op:
    reg.emissions(E1, 2023, 1_000)
    reg.emissions(E1, 2024, 1_000)
    unit = reg.offsets(E1, HB_SOLAR, 2024, 10)
    return reg.surrender_op(E1, 2024, [(unit, 10)])  # 0 % local


def _exceeds(reg: Reg) -> Op:
    reg.emissions(E2, 2024, 1_000)
    reg.issue(E2, 2024, 1_001)
    return reg.surrender_op(E2, 2024, [(CEA24, 1_001)])


def _freeze_elsewhere(reg: Reg) -> Op:
    reg.issue(E2, 2024, 10)
    reg.ok(Freeze(reg.next_id(), E2, CEA24, 10, "court A"))
    return Unfreeze("x", E2, CEA24, 10, "court B")


def _pre_allocated(reg: Reg) -> Op:
    reg.emissions(E2, 2023, 1_000)
    reg.ok(PreAllocate(reg.next_id(), E2, 2024))  # 1,000 t x 70 % = 700 t
    return PreAllocate("x", E2, 2024)


REFUSALS: dict[RegistryCode, Scenario] = {
    C.OP_ID_CONFLICT: _op_id_conflict,
    C.ACCOUNT_EXISTS: lambda reg: OpenAccount("x", Account(E2, AccountKind.PARTICIPANT, "again")),
    C.UNKNOWN_ACCOUNT: lambda reg: RecordEmissions("x", AccountId("NOBODY"), 2024, 1),
    C.SYSTEM_ACCOUNT: lambda reg: Transfer("x", RETIRED, P1, CEA24, 1),
    C.NOT_A_COVERED_ENTITY: lambda reg: RecordEmissions("x", P1, 2024, 1),
    C.PROJECT_EXISTS: lambda reg: RegisterProject("x", GD_WIND),
    C.UNKNOWN_PROJECT: lambda reg: IssueOffsets("x", P1, "NO-SUCH", 2024, 1),
    C.UNKNOWN_UNIT_TYPE: lambda reg: Hold("x", P1, CEA23, 1),
    C.INVALID_QUANTITY: lambda reg: IssueAllowances("x", P1, 2024, 0),
    C.INSUFFICIENT_UNITS: _insufficient,
    C.EMISSIONS_ALREADY_RECORDED: _emissions_then(lambda reg: RecordEmissions("x", E2, 2024, 999)),
    C.NO_VERIFIED_EMISSIONS: lambda reg: AllocateByIntensity("x", E2, 2025, 0),
    C.ALPHA_OUT_OF_RANGE: _emissions_then(lambda reg: AllocateByIntensity("x", E2, 2024, 500)),
    C.INVALID_ALLOCATION_INPUT: _emissions_then(
        lambda reg: TrueUpAllocation("x", E2, 2024, 1_000, "zero")
    ),
    C.ALREADY_ASSESSED: _already_assessed,
    C.VINTAGE_NOT_ELIGIBLE: _vintage,
    C.OLD_VINTAGE_CAP_EXCEEDED: _old_vintage,
    C.OFFSET_NOT_ELIGIBLE: _offset_not_eligible,
    C.OFFSET_CAP_EXCEEDED: _offset_cap,
    C.LOCAL_OFFSET_SHARE_TOO_LOW: _local_share,
    C.SURRENDER_EXCEEDS_OBLIGATION: _exceeds,
    C.NOTHING_PENDING: _emissions_then(lambda reg: WithdrawSurrender("x", E2, 2024)),
    C.INVALID_PRICE: _emissions_then(lambda reg: Assess("x", E2, 2024, 0, dt.date(2025, 12, 31))),
    C.FREEZE_NOT_FOUND: _freeze_elsewhere,
    C.ALREADY_PRE_ALLOCATED: _pre_allocated,
    C.DEADLINE_PASSED: _emissions_then(
        lambda reg: reg.surrender_op(E2, 2024, [(CEA24, 1)], dt.date(2026, 1, 1))
    ),
    C.DEADLINE_NOT_REACHED: _emissions_then(
        lambda reg: Assess("x", E2, 2024, 6_000, dt.date(2025, 12, 30))
    ),
    C.EMPTY_SURRENDER: _emissions_then(lambda reg: reg.surrender_op(E2, 2024, [])),
}
GUANGDONG_SCENARIOS = {C.LOCAL_OFFSET_SHARE_TOO_LOW}


def test_every_code_has_a_description() -> None:
    assert set(DESCRIPTIONS) == set(RegistryCode)
    for code in RegistryCode:
        assert DESCRIPTIONS[code].strip(), code
        assert code.value == code.name  # stable public values


def test_every_code_has_a_scenario() -> None:
    assert set(REFUSALS) == set(RegistryCode)


@pytest.mark.parametrize("code", list(RegistryCode))
def test_every_code_is_produced(code: RegistryCode) -> None:
    reg = guangdong() if code in GUANGDONG_SCENARIOS else national()
    op = REFUSALS[code](reg)
    refusal = reg.refused(op, code)
    assert refusal.details, f"{code} explains itself with numbers"
    reg.assert_conserved()


def test_the_retired_register_lists_cancellations_with_their_day(cn: Reg) -> None:
    cn.issue(E2, 2024, 1_000)
    cn.issue(P1, 2024, 500)
    day = dt.date(2026, 3, 2)
    cn.ok(Cancel("c1", E2, CEA24, 300, "Expo 2026", "neutral event", day))
    cn.ok(Cancel("c2", P1, CEA24, 20, "A family", ""))  # an older journal: no day
    cn.ok(Cancel("c3", E2, CEA24, 1, "Office", "2025 travel", day))
    register = cn.registry.cancellations()
    assert [(serial, c.op_id, c.qty_t, on) for serial, c, on in register] == [
        (1, "c1", 300, day),
        (2, "c2", 20, None),
        (3, "c3", 1, day),
    ]
    own = cn.registry.cancellations(E2)
    assert [(serial, c.beneficiary, c.purpose) for serial, c, _ in own] == [
        (1, "Expo 2026", "neutral event"),
        (3, "Office", "2025 travel"),
    ]
