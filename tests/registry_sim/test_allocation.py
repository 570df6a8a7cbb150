"""Allocation (配额分配): pre-allocation, true-up from output × benchmark × factors, the gap cap,
the gas-fired top-up, intensity allocation, paid issuance and deductions (docs/rules.md, national:
allocation; docs/rules.md [allocation])."""

from __future__ import annotations

from registry_sim import (
    ISSUANCE,
    NATIONAL,
    AccountId,
    AccountKind,
    Done,
    HoldingState,
    provincial_authority,
)
from registry_sim.ops import (
    AllocateByIntensity,
    Freeze,
    IssueAllowances,
    PreAllocate,
    TrueUpAllocation,
)
from tests.registry_sim.conftest import (
    AVAILABLE,
    E1,
    E2,
    GAS,
    P1,
    C,
    Reg,
    cea_code,
)

CEA24 = cea_code(2024)
CEA25 = cea_code(2025)
HUBEI = provincial_authority("Hubei")


def pre_allocate(reg: Reg, account: AccountId, year: int) -> Done:
    return reg.ok(PreAllocate(reg.next_id(), account, year))


def true_up(
    reg: Reg, account: AccountId, year: int, output: int, benchmark: str, *factors: str
) -> Done:
    return reg.ok(TrueUpAllocation(reg.next_id(), account, year, output, benchmark, factors))


# ---------------------------------------------------------------- pre-allocation


def test_pre_allocation_is_70_percent_of_last_years_emissions_rounded_down(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_234_567)
    done = pre_allocate(cn, E2, 2025)
    # 1,234,567 t x 70 % = 864,196.9 t -> 864,196 t (rounded down)
    assert done.details["allocation_t"] == 864_196
    assert done.details["basis_t"] == 1_234_567
    assert done.details["issued_t"] == 864_196
    assert cn.bal(E2, CEA25) == 864_196
    assert cn.issued(CEA25) == 864_196
    assert (cn.registry.allocation_t(E2, 2025), cn.registry.allocation_t(E2, 2024)) == (864_196, 0)
    cn.assert_conserved()


def test_pre_allocation_with_the_draft_share() -> None:
    reg = Reg("cn_national", {"allocation": {"pre_allocation_share_bp": 5_000}})
    reg.entity(E2)
    reg.emissions(E2, 2024, 1_000_001)
    # 2025-26 draft [D]: 1,000,001 t x 50 % = 500,000.5 t -> 500,000 t
    assert pre_allocate(reg, E2, 2025).details["allocation_t"] == 500_000
    assert reg.bal(E2, CEA25) == 500_000


def test_pre_allocation_needs_last_years_emissions(cn: Reg) -> None:
    cn.emissions(E2, 2025, 1_000_000)  # this year's are not the basis
    refusal = cn.refused(PreAllocate("pre", E2, 2025), C.NO_VERIFIED_EMISSIONS)
    assert refusal.details == {"account_id": E2, "year": 2024}


def test_pre_allocation_only_for_covered_entities(cn: Reg) -> None:
    refusal = cn.refused(PreAllocate("pre", P1, 2025), C.NOT_A_COVERED_ENTITY)
    assert refusal.details["kind"] == "participant"


def test_allocation_postings_go_through_the_national_and_provincial_authorities(cn: Reg) -> None:
    cn.emissions(E2, 2024, 100_000)
    done = pre_allocate(cn, E2, 2025)
    # 100,000 t x 70 % = 70,000 t, in three postings
    chain = [
        (p.unit, p.qty_t, p.from_account, p.from_state, p.to_account, p.to_state)
        for p in done.postings
    ]
    assert chain == [
        (CEA25, 70_000, ISSUANCE, AVAILABLE, NATIONAL, AVAILABLE),
        (CEA25, 70_000, NATIONAL, AVAILABLE, HUBEI, AVAILABLE),
        (CEA25, 70_000, HUBEI, AVAILABLE, E2, AVAILABLE),
    ]
    assert all(p.op_id == done.op_id for p in done.postings)
    assert [p.posting_id for p in done.postings] == sorted(p.posting_id for p in done.postings)
    # the authorities pass the units on and keep none
    assert cn.bal(NATIONAL, CEA25) == 0
    assert cn.bal(HUBEI, CEA25) == 0
    assert cn.bal(ISSUANCE, CEA25) == -70_000
    account = cn.registry.account(HUBEI)
    assert account is not None
    assert account.kind is AccountKind.PROVINCIAL_AUTHORITY


def test_each_entity_gets_its_own_provinces_authority(cn: Reg) -> None:
    cn.emissions(E1, 2024, 10_000)
    done = pre_allocate(cn, E1, 2025)
    # E1 is in Guangdong: 10,000 t x 70 % = 7,000 t via SYS:PROVINCE:Guangdong
    guangdong = provincial_authority("Guangdong")
    assert [(p.from_account, p.to_account) for p in done.postings] == [
        (ISSUANCE, NATIONAL),
        (NATIONAL, guangdong),
        (guangdong, E1),
    ]
    assert cn.bal(E1, CEA25) == 7_000


def test_pre_allocation_of_a_year_is_issued_once(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000)
    pre_allocate(cn, E2, 2025)  # 1,000 t x 70 % = 700 t
    # a second pre-allocation may be refused, or issue nothing; it may not issue 700 t more
    cn.registry.apply(PreAllocate(cn.next_id(), E2, 2025))
    assert cn.bal(E2, CEA25) == 700
    assert cn.issued(CEA25) == 700


# ---------------------------------------------------------------- true-up


def test_true_up_issues_the_difference(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000_000)
    cn.emissions(E2, 2025, 1_000_000)
    pre_allocate(cn, E2, 2025)  # 1,000,000 t x 70 % = 700,000 t
    done = true_up(cn, E2, 2025, 1_000_000, "0.8218", "0.985")
    # 1,000,000 MWh x 0.8218 t/MWh x 0.985 = 809,473 t; above the gap cap of 800,000 t
    assert done.details["benchmark_t"] == 809_473
    assert done.details["final_t"] == 809_473
    assert done.details["already_allocated_t"] == 700_000
    # 809,473 - 700,000 = 109,473 t issued
    assert done.details["issued_t"] == 109_473
    assert [p.qty_t for p in done.postings] == [109_473] * 3
    assert cn.bal(E2, CEA25) == 809_473
    assert cn.issued(CEA25) == 809_473
    cn.assert_conserved()


def test_true_up_is_exact_then_rounded_down(cn: Reg) -> None:
    cn.emissions(E2, 2025, 1_000_000)
    done = true_up(cn, E2, 2025, 1_234_567, "0.8218", "1.05")
    # 1,234,567 x 0.8218 x 1.05 = 1,065,295.51863 t -> 1,065,295 t
    assert done.details["benchmark_t"] == 1_065_295
    assert cn.bal(E2, CEA25) == 1_065_295


def test_true_up_does_not_lose_a_tonne_to_binary_floating_point(cn: Reg) -> None:
    cn.emissions(E2, 2025, 700_000)
    done = true_up(cn, E2, 2025, 1_191_800, "0.57")
    # 1,191,800 x 0.57 = 679,326 t exactly (binary floats give 679,325.9999999999 -> 679,325)
    assert done.details["benchmark_t"] == 679_326
    assert cn.bal(E2, CEA25) == 679_326


def test_true_up_takes_back_an_excess_to_the_national_authority(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000_000)
    cn.emissions(E2, 2025, 600_000)
    pre_allocate(cn, E2, 2025)  # 1,000,000 t x 70 % = 700,000 t
    done = true_up(cn, E2, 2025, 1_000_000, "0.5")
    # 1,000,000 x 0.5 = 500,000 t; gap cap 600,000 x 80 % = 480,000 t does not bind
    # excess 700,000 - 500,000 = 200,000 t, all still held: returned, nothing owed
    assert done.details["final_t"] == 500_000
    assert done.details["returned_t"] == 200_000
    assert done.details["deduction_added_t"] == 0
    (posting,) = done.postings
    assert (posting.from_account, posting.to_account, posting.qty_t) == (E2, NATIONAL, 200_000)
    assert cn.bal(E2, CEA25) == 500_000
    assert cn.bal(NATIONAL, CEA25) == 200_000
    assert cn.registry.deduction_owed(E2) == 0
    cn.assert_conserved()


def test_true_up_excess_no_longer_held_becomes_a_deduction_owed(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000_000)
    cn.emissions(E2, 2025, 600_000)
    pre_allocate(cn, E2, 2025)  # 700,000 t
    cn.transfer(E2, P1, CEA25, 650_000)  # sold; 50,000 t left
    done = true_up(cn, E2, 2025, 1_000_000, "0.5")
    # excess 200,000 t; 50,000 t held are returned; 200,000 - 50,000 = 150,000 t owed
    assert done.details["returned_t"] == 50_000
    assert done.details["deduction_added_t"] == 150_000
    assert cn.bal(E2, CEA25) == 0
    assert cn.bal(NATIONAL, CEA25) == 50_000
    assert cn.registry.deduction_owed(E2) == 150_000
    assert cn.registry.compliance_status(E2, 2025).deduction_owed_t == 150_000
    # the next allocation pays it off: 2026 pre-allocation 600,000 x 70 % = 420,000 t,
    # 420,000 - 150,000 = 270,000 t issued
    nxt = pre_allocate(cn, E2, 2026)
    assert nxt.details["allocation_t"] == 420_000
    assert nxt.details["deducted_t"] == 150_000
    assert nxt.details["issued_t"] == 270_000
    assert cn.bal(E2, cea_code(2026)) == 270_000
    assert cn.registry.deduction_owed(E2) == 0
    cn.assert_conserved()


def test_take_back_only_touches_available_units(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000_000)
    cn.emissions(E2, 2025, 600_000)
    pre_allocate(cn, E2, 2025)  # 700,000 t
    cn.ok(Freeze(cn.next_id(), E2, CEA25, 600_000, "court order 1"))
    done = true_up(cn, E2, 2025, 1_000_000, "0.5")
    # excess 200,000 t; 100,000 t available returned, 100,000 t (frozen) owed
    assert done.details["returned_t"] == 100_000
    assert done.details["deduction_added_t"] == 100_000
    assert cn.bal(E2, CEA25, HoldingState.FROZEN) == 600_000


def test_second_true_up_settles_against_the_first(cn: Reg) -> None:
    cn.emissions(E2, 2025, 1_000_000)
    true_up(cn, E2, 2025, 1_000_000, "0.9")  # 900,000 t
    done = true_up(cn, E2, 2025, 1_000_000, "0.95")
    # 950,000 - 900,000 = 50,000 t more
    assert done.details["already_allocated_t"] == 900_000
    assert done.details["issued_t"] == 50_000
    assert cn.bal(E2, CEA25) == 950_000


def test_gap_cap_raises_allocation_to_80_percent_of_emissions(cn: Reg) -> None:
    cn.emissions(E2, 2025, 1_000_003)
    done = true_up(cn, E2, 2025, 1_000_000, "0.6")
    # benchmark 1,000,000 x 0.6 = 600,000 t < 1,000,003 x 80 % = 800,002.4 -> 800,002 t
    assert done.details["benchmark_t"] == 600_000
    assert done.details["final_t"] == 800_002
    assert cn.bal(E2, CEA25) == 800_002


def test_gap_cap_leaves_an_allocation_above_it_alone(cn: Reg) -> None:
    cn.emissions(E2, 2025, 1_000_000)
    done = true_up(cn, E2, 2025, 1_000_000, "0.8", "1.0001")
    # 1,000,000 x 0.8 x 1.0001 = 800,080 t >= 800,000 t
    assert done.details["final_t"] == 800_080


def test_gap_cap_is_configurable() -> None:
    reg = Reg("cn_national", {"allocation": {"gap_cap_bp": 0}})
    reg.entity(E2)
    reg.emissions(E2, 2025, 1_000_000)
    done = true_up(reg, E2, 2025, 1_000_000, "0.6")
    # no gap cap: 600,000 t stays 600,000 t
    assert done.details["final_t"] == 600_000


def test_gas_fired_units_are_topped_up_to_verified_emissions(cn: Reg) -> None:
    cn.emissions(GAS, 2025, 300_000)
    cn.emissions(E2, 2025, 300_000)
    gas = true_up(cn, GAS, 2025, 637_755, "0.392")
    coal = true_up(cn, E2, 2025, 637_755, "0.392")
    # 637,755 MWh x 0.392 = 249,999.96 t -> 249,999 t; gap cap 300,000 x 80 % = 240,000 t
    assert gas.details["benchmark_t"] == coal.details["benchmark_t"] == 249_999
    # gas-fired: topped up to 300,000 t; the coal unit keeps 249,999 t
    assert gas.details["final_t"] == 300_000
    assert coal.details["final_t"] == 249_999
    assert cn.bal(GAS, CEA25) == 300_000
    assert cn.bal(E2, CEA25) == 249_999


def test_gas_top_up_never_lowers_an_allocation(cn: Reg) -> None:
    cn.emissions(GAS, 2025, 300_000)
    done = true_up(cn, GAS, 2025, 1_000_000, "0.392")
    # 392,000 t > 300,000 t verified: kept
    assert done.details["final_t"] == 392_000


def test_true_up_needs_the_years_emissions(cn: Reg) -> None:
    refusal = cn.refused(TrueUpAllocation("t", E2, 2025, 1_000_000, "0.8"), C.NO_VERIFIED_EMISSIONS)
    assert refusal.details["year"] == 2025


def test_true_up_input_must_be_positive_numbers(cn: Reg) -> None:
    cn.emissions(E2, 2025, 1_000_000)
    for i, (output, benchmark, factors) in enumerate(
        [
            (1_000_000, "abc", ()),
            (1_000_000, "1/0", ()),
            (1_000_000, "0", ()),
            (1_000_000, "-0.8", ()),
            (1_000_000, "0.8", ("1.0", "0")),
            (1_000_000, "0.8", ("x",)),
            (-1, "0.8", ()),
        ]
    ):
        op = TrueUpAllocation(f"bad-{i}", E2, 2025, output, benchmark, factors)
        refusal = cn.refused(op, C.INVALID_ALLOCATION_INPUT)
        assert refusal.details["benchmark"] == benchmark


# ---------------------------------------------------------------- intensity (steel, cement, al)


def test_intensity_allocation_is_emissions_times_one_plus_alpha(cn: Reg) -> None:
    steel = cn.entity(AccountId("STEEL"), sector="steel")
    cn.emissions(steel, 2025, 1_234_567)
    done = cn.ok(AllocateByIntensity(cn.next_id(), steel, 2025, -150))
    # 1,234,567 t x (1 - 1.5 %) = 1,216,048.495 t -> 1,216,048 t
    assert done.details["final_t"] == 1_216_048
    assert cn.bal(steel, CEA25) == 1_216_048


def test_intensity_allocation_at_both_ends_of_alpha(cn: Reg) -> None:
    up = cn.entity(AccountId("CEMENT"), sector="cement")
    down = cn.entity(AccountId("ALU"), sector="aluminium")
    cn.emissions(up, 2025, 2_000_000)
    cn.emissions(down, 2025, 2_000_000)
    # 2,000,000 t x (1 + 3 %) = 2,060,000 t; x (1 - 3 %) = 1,940,000 t
    assert cn.ok(AllocateByIntensity(cn.next_id(), up, 2025, 300)).details["final_t"] == 2_060_000
    assert (
        cn.ok(AllocateByIntensity(cn.next_id(), down, 2025, -300)).details["final_t"] == 1_940_000
    )


def test_intensity_allocation_trues_up_a_pre_allocation(cn: Reg) -> None:
    steel = cn.entity(AccountId("STEEL"), sector="steel")
    cn.emissions(steel, 2024, 1_000_000)
    cn.emissions(steel, 2025, 900_000)
    pre_allocate(cn, steel, 2025)  # 700,000 t
    done = cn.ok(AllocateByIntensity(cn.next_id(), steel, 2025, 100))
    # 900,000 x 1.01 = 909,000 t; 909,000 - 700,000 = 209,000 t issued
    assert done.details["issued_t"] == 209_000
    assert cn.bal(steel, CEA25) == 909_000


def test_alpha_out_of_range(cn: Reg) -> None:
    cn.emissions(E2, 2025, 1_000_000)
    for alpha in (301, -301, 10_000):
        refusal = cn.refused(
            AllocateByIntensity(f"a{alpha}", E2, 2025, alpha), C.ALPHA_OUT_OF_RANGE
        )
        assert refusal.details == {"alpha_bp": alpha, "alpha_min_bp": -300, "alpha_max_bp": 300}


# ---------------------------------------------------------------- paid issuance


def test_paid_issuance_goes_from_issuance_through_the_national_authority(cn: Reg) -> None:
    done = cn.issue(P1, 2025, 5_000)
    assert [(p.from_account, p.to_account, p.qty_t) for p in done.postings] == [
        (ISSUANCE, NATIONAL, 5_000),
        (NATIONAL, P1, 5_000),
    ]
    assert cn.bal(P1, CEA25) == 5_000
    assert cn.issued(CEA25) == 5_000


def test_paid_issuance_is_not_reduced_by_a_deduction(cn: Reg) -> None:
    cn.emissions(E2, 2024, 10_000)
    cn.assess(E2, 2024)  # nothing surrendered: 10,000 t owed
    assert cn.registry.deduction_owed(E2) == 10_000
    cn.issue(E2, 2025, 4_000)  # bought at auction: delivered in full
    assert cn.bal(E2, CEA25) == 4_000
    assert cn.registry.deduction_owed(E2) == 10_000


def test_paid_issuance_refusals(cn: Reg) -> None:
    cn.refused(IssueAllowances("i0", E2, 2025, 0), C.INVALID_QUANTITY)
    cn.refused(IssueAllowances("i1", AccountId("NOBODY"), 2025, 10), C.UNKNOWN_ACCOUNT)


# ---------------------------------------------------------------- deductions


def test_shortfall_is_deducted_from_the_next_allocation(cn: Reg) -> None:
    cn.emissions(E2, 2024, 100_000)
    cn.issue(E2, 2024, 90_000)
    cn.surrender(E2, 2024, [(CEA24, 90_000)])
    record = cn.assess(E2, 2024).details["record"]
    # 100,000 - 90,000 = 10,000 t short
    assert record.shortfall_t == 10_000
    assert record.deduction_t == 10_000
    done = pre_allocate(cn, E2, 2025)
    # 100,000 t x 70 % = 70,000 t, less 10,000 t = 60,000 t issued
    assert done.details["allocation_t"] == 70_000
    assert done.details["deducted_t"] == 10_000
    assert done.details["issued_t"] == 60_000
    assert [p.qty_t for p in done.postings] == [60_000] * 3
    assert cn.bal(E2, CEA25) == 60_000
    assert cn.registry.deduction_owed(E2) == 0


def test_deduction_larger_than_the_allocation_carries_over(cn: Reg) -> None:
    cn.emissions(E2, 2024, 100_000)
    cn.assess(E2, 2024)  # 100,000 t short, all owed
    done = pre_allocate(cn, E2, 2025)
    # 70,000 t allocated, all 70,000 t deducted, nothing issued; 30,000 t still owed
    assert done.details["deducted_t"] == 70_000
    assert done.details["issued_t"] == 0
    assert done.postings == ()
    assert cn.bal(E2, CEA25) == 0
    assert cn.registry.deduction_owed(E2) == 30_000
    cn.emissions(E2, 2025, 100_000)
    done = true_up(cn, E2, 2025, 1_000_000, "0.1")
    # true-up: 100,000 t benchmark; 100,000 - 70,000 = 30,000 t more, all deducted
    assert done.details["deducted_t"] == 30_000
    assert done.details["issued_t"] == 0
    assert cn.registry.deduction_owed(E2) == 0


def test_deductions_are_per_entity(cn: Reg) -> None:
    cn.emissions(E1, 2024, 1_000)
    cn.emissions(E2, 2024, 1_000)
    cn.assess(E1, 2024)
    assert cn.registry.deduction_owed(E1) == 1_000
    assert cn.registry.deduction_owed(E2) == 0
    # E2: 1,000 t x 70 % = 700 t, nothing deducted
    assert pre_allocate(cn, E2, 2025).details["issued_t"] == 700
