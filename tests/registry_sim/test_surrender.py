"""Surrender (清缴), the surrender plan and the compliance assessment (docs/rules.md, national:
compliance; Guangdong pilot; EU ETS; docs/rules.md [compliance] and [penalty])."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from registry_sim import (
    RETIRED,
    AccountId,
    ComplianceRecord,
    Project,
    UnitCode,
)
from registry_sim.compliance import offset_ineligibility
from registry_sim.model import offset_unit
from registry_sim.ops import AllocateFixed, Assess, Freeze, PreAllocate, WithdrawSurrender
from registry_sim.rules import load_rules
from tests.registry_sim.conftest import (
    AVAILABLE,
    E1,
    E2,
    FROZEN,
    GD_PH,
    GD_WIND,
    HB_SOLAR,
    IN_SCOPE,
    MID,
    OLD,
    ON_2025,
    PENDING,
    C,
    Reg,
    cea_code,
    eu,
    make_project,
    national,
)

CEA22 = cea_code(2022)
CEA23 = cea_code(2023)
CEA24 = cea_code(2024)
CEA25 = cea_code(2025)
ON_2026 = dt.date(2026, 6, 15)  # within every shipped deadline of compliance year 2025


# ---------------------------------------------------------------- national offset cap


def test_national_offset_cap_is_5_percent_of_the_obligation(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_100_000)
    wind = cn.offsets(E2, GD_WIND, 2024, 60_000)
    # 1,100,000 t x 5 % = 55,000 t of CCER at most
    status = cn.registry.compliance_status(E2, 2024)
    assert status.offset_cap_t == 55_000
    refusal = cn.refused(cn.surrender_op(E2, 2024, [(wind, 55_001)]), C.OFFSET_CAP_EXCEEDED)
    assert refusal.details == {"cap_t": 55_000, "used_t": 0, "requested_t": 55_001}
    cn.surrender(E2, 2024, [(wind, 55_000)])
    assert cn.registry.surrendered_t(E2, 2024)[1] == 55_000
    assert cn.registry.compliance_status(E2, 2024).offset_cap_left_t == 0


def test_national_offset_cap_counts_earlier_surrenders_of_the_year(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_100_000)
    wind = cn.offsets(E2, GD_WIND, 2024, 60_000)
    solar = cn.offsets(E2, HB_SOLAR, 2024, 60_000)
    cn.surrender(E2, 2024, [(wind, 50_000)])
    # 50,000 t used of 55,000 t: 5,001 t more is one too many, from any project
    refusal = cn.refused(cn.surrender_op(E2, 2024, [(solar, 5_001)]), C.OFFSET_CAP_EXCEEDED)
    assert refusal.details == {"cap_t": 55_000, "used_t": 50_000, "requested_t": 5_001}
    cn.surrender(E2, 2024, [(solar, 5_000)])
    assert cn.registry.surrendered_t(E2, 2024)[1] == 55_000


def test_national_offset_cap_rounds_down(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_039)
    wind = cn.offsets(E2, GD_WIND, 2024, 100)
    # 1,039 t x 5 % = 51.95 t -> 51 t
    cn.refused(cn.surrender_op(E2, 2024, [(wind, 52)]), C.OFFSET_CAP_EXCEEDED)
    cn.surrender(E2, 2024, [(wind, 51)])


def test_allowances_are_not_capped_with_the_offsets(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_100_000)
    wind = cn.offsets(E2, GD_WIND, 2024, 55_000)
    cn.issue(E2, 2024, 1_045_000)
    # 55,000 t CCER + 1,045,000 t CEA = 1,100,000 t, the whole obligation
    cn.surrender(E2, 2024, [(wind, 55_000), (CEA24, 1_045_000)])
    status = cn.registry.compliance_status(E2, 2024)
    assert (status.allowances_t, status.offsets_t, status.shortfall_t) == (1_045_000, 55_000, 0)
    assert status.pending_t == 1_100_000


# ---------------------------------------------------------------- Guangdong


def _guangdong_entity(gd: Reg) -> dict[str, UnitCode]:
    """E1 (Guangdong): 800,000 t in 2024, 900,000 t in 2025; 100,000 t each of local CCER,
    PHCER and Hubei CCER of vintage 2025."""
    gd.emissions(E1, 2024, 800_000)
    gd.emissions(E1, 2025, 900_000)
    return {
        "local": gd.offsets(E1, GD_WIND, 2025, 100_000),
        "phcer": gd.offsets(E1, GD_PH, 2025, 100_000),
        "other": gd.offsets(E1, HB_SOLAR, 2025, 100_000),
    }


def test_guangdong_cap_is_10_percent_of_the_previous_years_emissions(gd: Reg) -> None:
    units = _guangdong_entity(gd)
    # 2024: 800,000 t x 10 % = 80,000 t (not 2025's 900,000 t x 10 % = 90,000 t)
    assert gd.registry.compliance_status(E1, 2025).offset_cap_t == 80_000
    op = gd.surrender_op(E1, 2025, [(units["local"], 80_001)], ON_2026)
    refusal = gd.refused(op, C.OFFSET_CAP_EXCEEDED)
    assert refusal.details["cap_t"] == 80_000
    # 80,000 t is well above the national 5 % of 900,000 t = 45,000 t: Guangdong's cap applies
    gd.surrender(E1, 2025, [(units["local"], 80_000)], ON_2026)
    assert gd.registry.surrendered_t(E1, 2025)[1] == 80_000


def test_guangdong_local_share_of_70_percent_passes(gd: Reg) -> None:
    units = _guangdong_entity(gd)
    # 56,000 t local + 24,000 t Hubei = 80,000 t; 56,000 / 80,000 = 70 %
    gd.surrender(E1, 2025, [(units["local"], 56_000), (units["other"], 24_000)], ON_2026)
    assert gd.registry.surrendered_t(E1, 2025)[1] == 80_000


def test_guangdong_local_share_below_70_percent_is_refused(gd: Reg) -> None:
    units = _guangdong_entity(gd)
    # 50,000 t local + 30,000 t Hubei: 50,000 / 80,000 = 62.5 % < 70 %
    op = gd.surrender_op(E1, 2025, [(units["local"], 50_000), (units["other"], 30_000)], ON_2026)
    refusal = gd.refused(op, C.LOCAL_OFFSET_SHARE_TOO_LOW)
    assert refusal.details == {"local_t": 50_000, "offsets_t": 80_000, "min_share_bp": 7_000}


def test_guangdong_local_share_one_tonne_short(gd: Reg) -> None:
    units = _guangdong_entity(gd)
    # 6,999 local + 3,001 Hubei = 10,000 t; 6,999 x 10,000 < 7,000 x 10,000
    op = gd.surrender_op(E1, 2025, [(units["local"], 6_999), (units["other"], 3_001)], ON_2026)
    gd.refused(op, C.LOCAL_OFFSET_SHARE_TOO_LOW)


def test_guangdong_phcer_counts_as_local_offset(gd: Reg) -> None:
    units = _guangdong_entity(gd)
    # 36,000 t PHCER + 20,000 t Guangdong CCER = 56,000 t local; + 24,000 t Hubei = 80,000 t
    gd.surrender(
        E1,
        2025,
        [(units["phcer"], 36_000), (units["local"], 20_000), (units["other"], 24_000)],
        ON_2026,
    )
    assert gd.registry.surrendered_t(E1, 2025)[1] == 80_000


def test_guangdong_local_share_counts_the_years_earlier_surrenders(gd: Reg) -> None:
    units = _guangdong_entity(gd)
    # non-local first: 0 / 10,000 = 0 %
    gd.refused(
        gd.surrender_op(E1, 2025, [(units["other"], 10_000)], ON_2026),
        C.LOCAL_OFFSET_SHARE_TOO_LOW,
    )
    gd.surrender(E1, 2025, [(units["phcer"], 56_000)], ON_2026)
    # then 24,000 t Hubei: 56,000 / 80,000 = 70 %
    gd.surrender(E1, 2025, [(units["other"], 24_000)], ON_2026)
    # start again with 55,000 t local: 23,572 t from Hubei is one tonne too many
    gd.withdraw(E1, 2025)
    gd.surrender(E1, 2025, [(units["local"], 55_000)], ON_2026)
    op = gd.surrender_op(E1, 2025, [(units["other"], 23_572)], ON_2026)
    # 55,000 / 78,572 = 69.9996 % < 70 %
    gd.refused(op, C.LOCAL_OFFSET_SHARE_TOO_LOW)
    # 55,000 / 78,571 = 70.0003 %
    gd.surrender(E1, 2025, [(units["other"], 23_571)], ON_2026)


def test_guangdong_offsets_need_the_previous_years_emissions(gd: Reg) -> None:
    gd.emissions(E1, 2025, 900_000)  # no 2024 figure: no basis for the cap
    local = gd.offsets(E1, GD_WIND, 2025, 1_000)
    refusal = gd.refused(
        gd.surrender_op(E1, 2025, [(local, 1_000)], ON_2026), C.NO_VERIFIED_EMISSIONS
    )
    assert refusal.details["year"] == 2024
    # allowances do not need the offset cap's basis
    gd.issue(E1, 2025, 500_000)
    gd.surrender(E1, 2025, [(CEA25, 500_000)], ON_2026)
    assert gd.bal(E1, CEA25, PENDING) == 500_000


# ---------------------------------------------------------------- vintages


def test_banking_an_older_vintage_covers_a_later_year(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000)
    cn.issue(E2, 2022, 600)
    cn.issue(E2, 2024, 400)
    # CEA2022 and CEA2024 for 2024: 600 + 400 = 1,000 t
    cn.surrender(E2, 2024, [(CEA22, 600), (CEA24, 400)])
    assert cn.registry.compliance_status(E2, 2024).shortfall_t == 0


def test_borrowing_a_later_vintage_is_refused(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000)
    cn.issue(E2, 2024, 400)
    cn.issue(E2, 2025, 600)
    refusal = cn.refused(
        cn.surrender_op(E2, 2024, [(CEA24, 400), (CEA25, 600)]), C.VINTAGE_NOT_ELIGIBLE
    )
    assert refusal.details == {"unit": CEA25, "vintage": 2025, "year": 2024}


def test_borrowing_when_a_rule_set_allows_it() -> None:
    reg = Reg("cn_national", {"compliance": {"borrowing": True}})
    reg.entity(E2)
    reg.emissions(E2, 2024, 1_000)
    reg.issue(E2, 2025, 1_000)
    reg.surrender(E2, 2024, [(CEA25, 1_000)])
    assert reg.bal(E2, CEA25, PENDING) == 1_000


def _old_vintage_holder(cn: Reg, net_sales_t: int) -> None:
    cn.emissions(E2, 2025, 100_000)
    cn.net_sales(E2, net_sales_t)
    cn.issue(E2, 2023, 30_000)
    cn.issue(E2, 2024, 30_000)
    cn.issue(E2, 2025, 100_000)


def test_old_vintages_from_2025_within_the_conversion_cap(cn: Reg) -> None:
    _old_vintage_holder(cn, net_sales_t=20_000)
    # cap: 10,000 t + 1.5 x 20,000 t net sales = 40,000 t of vintages 2019-2024
    cn.surrender(E2, 2025, [(CEA23, 25_000), (CEA24, 15_000)], ON_2026)
    refusal = cn.refused(
        cn.surrender_op(E2, 2025, [(CEA24, 1)], ON_2026), C.OLD_VINTAGE_CAP_EXCEEDED
    )
    assert refusal.details == {"requested_t": 1, "used_t": 40_000, "cap_t": 40_000}
    # vintage 2025 is not old: the remaining 60,000 t
    cn.surrender(E2, 2025, [(CEA25, 60_000)], ON_2026)
    assert cn.registry.compliance_status(E2, 2025).shortfall_t == 0


def test_old_vintage_cap_in_one_surrender(cn: Reg) -> None:
    _old_vintage_holder(cn, net_sales_t=20_000)
    # 30,000 + 10,001 = 40,001 t > 40,000 t
    refusal = cn.refused(
        cn.surrender_op(E2, 2025, [(CEA23, 30_000), (CEA24, 10_001)], ON_2026),
        C.OLD_VINTAGE_CAP_EXCEEDED,
    )
    assert refusal.details == {"requested_t": 40_001, "used_t": 0, "cap_t": 40_000}


def test_old_vintage_cap_rounds_down_and_ignores_negative_net_sales(cn: Reg) -> None:
    _old_vintage_holder(cn, net_sales_t=1_001)
    # 10,000 t + 1.5 x 1,001 t = 11,501.5 t -> 11,501 t
    cn.refused(cn.surrender_op(E2, 2025, [(CEA24, 11_502)], ON_2026), C.OLD_VINTAGE_CAP_EXCEEDED)
    cn.surrender(E2, 2025, [(CEA24, 11_501)], ON_2026)
    cn.withdraw(E2, 2025)
    cn.net_sales(E2, -5_000)  # a net buyer: no extra room, the 10,000 t base remains
    refusal = cn.refused(
        cn.surrender_op(E2, 2025, [(CEA24, 10_001)], ON_2026), C.OLD_VINTAGE_CAP_EXCEEDED
    )
    assert refusal.details["cap_t"] == 10_000


def test_withdrawing_frees_old_vintage_room(cn: Reg) -> None:
    _old_vintage_holder(cn, net_sales_t=0)
    cn.surrender(E2, 2025, [(CEA24, 10_000)], ON_2026)  # the whole 10,000 t
    cn.withdraw(E2, 2025)
    cn.surrender(E2, 2025, [(CEA23, 10_000)], ON_2026)
    assert cn.bal(E2, CEA23, PENDING) == 10_000


def test_old_vintage_cap_is_one_budget_across_years(cn: Reg) -> None:
    _old_vintage_holder(cn, net_sales_t=0)
    cn.surrender(E2, 2025, [(CEA24, 10_000)], ON_2026)
    cn.assess(E2, 2025)
    cn.emissions(E2, 2026, 100_000)
    # 10,000 t of the 10,000 t cap were used for 2025: none left for 2026
    refusal = cn.refused(
        cn.surrender_op(E2, 2026, [(CEA23, 1)], dt.date(2027, 6, 30)),
        C.OLD_VINTAGE_CAP_EXCEEDED,
    )
    assert refusal.details["used_t"] == 10_000


def test_old_vintages_are_not_capped_before_2025(cn: Reg) -> None:
    cn.emissions(E2, 2024, 50_000)
    cn.issue(E2, 2019, 50_000)
    # year 2024 (in 2025): CEA2019 50,000 t, five times the 10,000 t base cap, is fine
    cn.surrender(E2, 2024, [(cea_code(2019), 50_000)])
    assert cn.registry.compliance_status(E2, 2024).shortfall_t == 0


# ---------------------------------------------------------------- offset eligibility

EDGE_AFTER = make_project("EDGE-AFTER", "Hubei", dt.date(2024, 1, 22))
JUST_AFTER = make_project("JUST-AFTER", "Hubei", dt.date(2024, 1, 23))
EDGE_BEFORE = make_project("EDGE-BEFORE", "Hubei", dt.date(2017, 3, 14))
JUST_BEFORE = make_project("JUST-BEFORE", "Hubei", dt.date(2017, 3, 13))


def _offset_case(project: Project, year: int) -> tuple[Reg, UnitCode]:
    reg = national()
    reg.projects([EDGE_AFTER, JUST_AFTER, EDGE_BEFORE, JUST_BEFORE])
    reg.emissions(E2, year, 100_000)
    return reg, reg.offsets(E2, project, year, 1_000)


@pytest.mark.parametrize(
    ("project", "year", "on", "reason"),
    [
        # inside the national ETS scope: never eligible
        (IN_SCOPE, 2024, ON_2025, "inside_ets_scope"),
        # registered 2020-05-01: between 2017-03-14 and 2024-01-22, in no window
        (MID, 2024, ON_2025, "registration_date"),
        # the window is "after 2024-01-22": the day itself is not after it
        (EDGE_AFTER, 2024, ON_2025, "registration_date"),
        # "before 2017-03-14": the day itself is not before it
        (EDGE_BEFORE, 2023, dt.date(2024, 6, 30), "registration_date"),
        # old CCER (registered 2016-06-01) after 2024-12-31
        (OLD, 2024, dt.date(2025, 1, 1), "registration_date"),
        (JUST_BEFORE, 2024, ON_2025, "registration_date"),
        # PHCER is the Guangdong pilot's unit, not the national market's
        (GD_PH, 2024, ON_2025, "unit_kind"),
    ],
)
def test_ineligible_ccer_is_refused_with_the_reason(
    project: Project, year: int, on: dt.date, reason: str
) -> None:
    reg, unit = _offset_case(project, year)
    refusal = reg.refused(reg.surrender_op(E2, year, [(unit, 1_000)], on), C.OFFSET_NOT_ELIGIBLE)
    assert refusal.details == {
        "unit": unit,
        "reason": reason,
        "registration_date": project.registration_date.isoformat(),
        "start_date": project.start_date.isoformat(),
        "vintage": year,
        "surrendered_on": on.isoformat(),
    }


@pytest.mark.parametrize(
    ("start", "vintage", "reason"),
    [
        # the 2023 measures: construction started after 2012-11-08; the day itself is not after
        (dt.date(2012, 11, 8), 2024, "start_date"),
        (dt.date(2012, 11, 9), 2024, None),
        # reductions generated after 2020-09-22: vintage 2019 ends before, 2020 after it
        (dt.date(2015, 1, 1), 2019, "reduction_date"),
        (dt.date(2015, 1, 1), 2020, None),
    ],
)
def test_new_ccer_counts_by_start_date_and_reduction_date(
    start: dt.date, vintage: int, reason: str | None
) -> None:
    project = dataclasses.replace(
        make_project("NEW-01", "Hubei", dt.date(2024, 6, 1)), start_date=start
    )
    unit = offset_unit(project, vintage)
    rules = load_rules("cn_national").compliance
    assert offset_ineligibility(unit, project, ON_2025, rules) == reason
    # Old CCER (registered before 2017-03-14, usable to 2024-12-31) predate these rules.
    old = dataclasses.replace(project, registration_date=dt.date(2016, 6, 1))
    assert offset_ineligibility(unit, old, dt.date(2024, 6, 30), rules) is None


@pytest.mark.parametrize(
    ("project", "year", "on"),
    [
        (GD_WIND, 2024, ON_2025),  # registered 2024-03-01
        (JUST_AFTER, 2024, ON_2025),  # 2024-01-23, the first eligible day
        (OLD, 2023, dt.date(2024, 12, 31)),  # old CCER on its last day
        (JUST_BEFORE, 2023, dt.date(2024, 12, 31)),  # 2017-03-13, the last old day
    ],
)
def test_eligible_ccer_is_accepted(project: Project, year: int, on: dt.date) -> None:
    reg, unit = _offset_case(project, year)
    reg.surrender(E2, year, [(unit, 1_000)], on)
    assert reg.bal(E2, unit, PENDING) == 1_000


def test_ccer_under_the_eu_ets_is_refused_as_unit_kind() -> None:
    reg = eu()
    reg.emissions(E2, 2024, 100_000)
    unit = reg.offsets(E2, GD_WIND, 2024, 1_000)
    refusal = reg.refused(reg.surrender_op(E2, 2024, [(unit, 1_000)]), C.OFFSET_NOT_ELIGIBLE)
    assert refusal.details["reason"] == "unit_kind"


def test_methodology_outside_the_allowed_list() -> None:
    reg = Reg("cn_national", {"compliance": {"allowed_methodologies": ["forestry_sink"]}})
    reg.projects([GD_WIND])
    reg.entity(E2)
    reg.emissions(E2, 2024, 100_000)
    unit = reg.offsets(E2, GD_WIND, 2024, 1_000)  # renewable
    refusal = reg.refused(reg.surrender_op(E2, 2024, [(unit, 1_000)]), C.OFFSET_NOT_ELIGIBLE)
    assert refusal.details["reason"] == "methodology"


def test_guangdong_phcer_and_ccer_are_both_eligible(gd: Reg) -> None:
    gd.emissions(E1, 2023, 100_000)
    gd.emissions(E1, 2024, 100_000)
    ph = gd.offsets(E1, GD_PH, 2024, 5_000)
    wind = gd.offsets(E1, GD_WIND, 2024, 5_000)
    # cap 100,000 t x 10 % = 10,000 t, all local
    gd.surrender(E1, 2024, [(ph, 5_000), (wind, 5_000)])
    assert gd.registry.surrendered_t(E1, 2024)[1] == 10_000


def test_guangdong_refuses_offsets_inside_the_ets_scope(gd: Reg) -> None:
    gd.emissions(E1, 2023, 100_000)
    gd.emissions(E1, 2024, 100_000)
    unit = gd.offsets(E1, IN_SCOPE, 2024, 1_000)
    refusal = gd.refused(gd.surrender_op(E1, 2024, [(unit, 1_000)]), C.OFFSET_NOT_ELIGIBLE)
    assert refusal.details["reason"] == "inside_ets_scope"


# ---------------------------------------------------------------- other refusals


def test_surrender_beyond_the_obligation(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000)
    cn.issue(E2, 2024, 2_000)
    cn.surrender(E2, 2024, [(CEA24, 600)])
    # 600 + 401 = 1,001 t > 1,000 t
    refusal = cn.refused(cn.surrender_op(E2, 2024, [(CEA24, 401)]), C.SURRENDER_EXCEEDS_OBLIGATION)
    assert refusal.details == {"obligation_t": 1_000, "surrendered_t": 600, "requested_t": 401}
    cn.surrender(E2, 2024, [(CEA24, 400)])
    assert cn.registry.compliance_status(E2, 2024).shortfall_t == 0


def test_surrender_needs_available_units(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000)
    cn.issue(E2, 2024, 500)
    refusal = cn.refused(cn.surrender_op(E2, 2024, [(CEA24, 501)]), C.INSUFFICIENT_UNITS)
    assert refusal.details == {
        "account_id": E2,
        "unit": CEA24,
        "state": "available",
        "held_t": 500,
        "requested_t": 501,
    }
    # two items of one unit type add up: 300 + 201 = 501 t > 500 t
    refusal = cn.refused(
        cn.surrender_op(E2, 2024, [(CEA24, 300), (CEA24, 201)]), C.INSUFFICIENT_UNITS
    )
    assert refusal.details["requested_t"] == 501


def test_frozen_units_cannot_be_surrendered(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000)
    cn.issue(E2, 2024, 500)
    cn.ok(Freeze(cn.next_id(), E2, CEA24, 200, "court order 7"))
    # 500 - 200 frozen = 300 available
    refusal = cn.refused(cn.surrender_op(E2, 2024, [(CEA24, 301)]), C.INSUFFICIENT_UNITS)
    assert refusal.details["held_t"] == 300
    assert cn.bal(E2, CEA24, FROZEN) == 200


def test_surrender_refusals_before_any_unit_is_looked_at(cn: Reg) -> None:
    cn.issue(E2, 2024, 500)
    cn.refused(cn.surrender_op(E2, 2024, [(CEA24, 1)]), C.NO_VERIFIED_EMISSIONS)
    cn.refused(cn.surrender_op(AccountId("P1"), 2024, [(CEA24, 1)]), C.NOT_A_COVERED_ENTITY)
    cn.refused(cn.surrender_op(AccountId("X"), 2024, [(CEA24, 1)]), C.UNKNOWN_ACCOUNT)
    cn.emissions(E2, 2024, 1_000)
    cn.refused(cn.surrender_op(E2, 2024, [(CEA24, 0)]), C.INVALID_QUANTITY)
    cn.refused(cn.surrender_op(E2, 2024, [(CEA23, 1)]), C.UNKNOWN_UNIT_TYPE)


def test_surrender_after_assessment_is_refused(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000)
    cn.issue(E2, 2024, 1_000)
    cn.surrender(E2, 2024, [(CEA24, 900)])
    cn.assess(E2, 2024)
    refusal = cn.refused(cn.surrender_op(E2, 2024, [(CEA24, 100)]), C.ALREADY_ASSESSED)
    assert refusal.details == {"account_id": E2, "year": 2024}
    cn.refused(WithdrawSurrender("w", E2, 2024), C.ALREADY_ASSESSED)
    cn.refused(Assess("again", E2, 2024, 6_000, dt.date(2025, 12, 31)), C.ALREADY_ASSESSED)


# ---------------------------------------------------------------- withdraw


def test_withdraw_returns_pending_units(cn: Reg) -> None:
    cn.emissions(E2, 2024, 100_000)
    cn.issue(E2, 2024, 80_000)
    wind = cn.offsets(E2, GD_WIND, 2024, 5_000)
    cn.surrender(E2, 2024, [(CEA24, 50_000), (wind, 5_000)])
    cn.surrender(E2, 2024, [(CEA24, 10_000)])
    assert cn.bal(E2, CEA24, PENDING) == 60_000
    assert cn.bal(E2, CEA24) == 20_000
    done = cn.withdraw(E2, 2024)
    # pending 60,000 t CEA and 5,000 t CCER back to available, one posting per unit type
    assert sorted((p.unit, p.qty_t, p.from_state, p.to_state) for p in done.postings) == sorted(
        [(CEA24, 60_000, PENDING, AVAILABLE), (wind, 5_000, PENDING, AVAILABLE)]
    )
    assert cn.bal(E2, CEA24) == 80_000
    assert cn.bal(E2, CEA24, PENDING) == 0
    assert cn.bal(E2, wind) == 5_000
    status = cn.registry.compliance_status(E2, 2024)
    assert (status.allowances_t, status.offsets_t, status.pending_t) == (0, 0, 0)
    # the offset cap's room is back: 100,000 x 5 % = 5,000 t
    assert status.offset_cap_left_t == 5_000
    refusal = cn.refused(WithdrawSurrender("w2", E2, 2024), C.NOTHING_PENDING)
    assert refusal.details == {"account_id": E2, "year": 2024}


def test_withdraw_one_year_leaves_another(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000)
    cn.emissions(E2, 2025, 1_000)
    cn.issue(E2, 2024, 2_000)
    cn.surrender(E2, 2024, [(CEA24, 700)])
    cn.surrender(E2, 2025, [(CEA24, 300)], ON_2026)
    cn.withdraw(E2, 2024)
    assert cn.bal(E2, CEA24, PENDING) == 300
    assert cn.registry.compliance_status(E2, 2025).pending_t == 300


# ---------------------------------------------------------------- the surrender plan


def _apply_plan(reg: Reg, account: AccountId, year: int, on: dt.date) -> None:
    plan = reg.registry.surrender_plan(account, year, on)
    assert plan
    reg.surrender(account, year, plan, on)


def test_plan_uses_offsets_to_the_cap_then_oldest_allowances(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_100_000)
    wind23 = cn.offsets(E2, GD_WIND, 2023, 30_000)
    wind24 = cn.offsets(E2, GD_WIND, 2024, 40_000)
    solar22 = cn.offsets(E2, HB_SOLAR, 2022, 10_000)
    in_scope = cn.offsets(E2, IN_SCOPE, 2021, 10_000)  # not eligible
    mid = cn.offsets(E2, MID, 2021, 10_000)  # not eligible
    cn.issue(E2, 2022, 30_000)
    cn.issue(E2, 2023, 500_000)
    cn.issue(E2, 2024, 1_000_000)
    cn.issue(E2, 2025, 100_000)  # a later vintage: not for 2024
    plan = cn.registry.surrender_plan(E2, 2024, ON_2025)
    # offsets: cap 1,100,000 x 5 % = 55,000 t, oldest vintage first:
    #   CCER 2022 10,000 + CCER 2023 30,000 + CCER 2024 15,000 = 55,000 t
    # allowances for the other 1,045,000 t, oldest first:
    #   CEA2022 30,000 + CEA2023 500,000 + CEA2024 515,000 = 1,045,000 t
    assert plan == (
        (solar22, 10_000),
        (wind23, 30_000),
        (wind24, 15_000),
        (CEA22, 30_000),
        (CEA23, 500_000),
        (CEA24, 515_000),
    )
    assert in_scope not in dict(plan)
    assert mid not in dict(plan)
    cn.surrender(E2, 2024, plan)
    status = cn.registry.compliance_status(E2, 2024)
    assert (status.offsets_t, status.allowances_t, status.shortfall_t) == (55_000, 1_045_000, 0)
    # nothing left to cover
    assert cn.registry.surrender_plan(E2, 2024, ON_2025) == ()


def test_plan_covers_only_what_is_left_after_earlier_surrenders(cn: Reg) -> None:
    cn.emissions(E2, 2024, 100_000)
    wind = cn.offsets(E2, GD_WIND, 2024, 10_000)
    cn.issue(E2, 2024, 200_000)
    cn.surrender(E2, 2024, [(wind, 2_000), (CEA24, 50_000)])
    plan = cn.registry.surrender_plan(E2, 2024, ON_2025)
    # cap 100,000 x 5 % = 5,000 t, 2,000 used: 3,000 t more CCER;
    # 100,000 - 52,000 - 3,000 = 45,000 t CEA
    assert plan == ((wind, 3_000), (CEA24, 45_000))
    _apply_plan(cn, E2, 2024, ON_2025)
    assert cn.registry.compliance_status(E2, 2024).shortfall_t == 0


def test_plan_with_too_few_units_covers_what_it_can(cn: Reg) -> None:
    cn.emissions(E2, 2024, 100_000)
    cn.issue(E2, 2024, 30_000)
    cn.issue(E2, 2024, 1)
    assert cn.registry.surrender_plan(E2, 2024, ON_2025) == ((CEA24, 30_001),)


def test_plan_old_ccer_depends_on_the_date(cn: Reg) -> None:
    cn.emissions(E2, 2024, 100_000)
    old = cn.offsets(E2, OLD, 2015, 10_000)
    cn.issue(E2, 2024, 100_000)
    # on 2024-12-31 the old CCER still counts: 100,000 x 5 % = 5,000 t
    assert cn.registry.surrender_plan(E2, 2024, dt.date(2024, 12, 31))[0] == (old, 5_000)
    # a day later it does not (the 2024 deadline, 2025-12-31, is still ahead)
    late = cn.registry.surrender_plan(E2, 2024, dt.date(2025, 1, 1))
    assert late == ((cea_code(2024), 100_000),)


def test_plan_respects_the_old_vintage_cap(cn: Reg) -> None:
    cn.emissions(E2, 2025, 150_000)
    cn.issue(E2, 2023, 8_000)
    cn.issue(E2, 2024, 50_000)
    cn.issue(E2, 2025, 200_000)
    # conversion cap 10,000 t + 1.5 x 0 = 10,000 t: CEA2023 8,000 + CEA2024 2,000,
    # then 150,000 - 10,000 = 140,000 t of CEA2025
    plan = cn.registry.surrender_plan(E2, 2025, ON_2026)
    assert plan == ((CEA23, 8_000), (CEA24, 2_000), (CEA25, 140_000))
    _apply_plan(cn, E2, 2025, ON_2026)


def test_plan_respects_the_guangdong_local_share(gd: Reg) -> None:
    gd.emissions(E1, 2024, 800_000)
    gd.emissions(E1, 2025, 900_000)
    local = gd.offsets(E1, GD_WIND, 2025, 30_000)
    ph = gd.offsets(E1, GD_PH, 2024, 20_000)
    other = gd.offsets(E1, HB_SOLAR, 2023, 100_000)
    gd.issue(E1, 2025, 1_000_000)
    plan = gd.registry.surrender_plan(E1, 2025, ON_2026)
    # local first (oldest first): PHCER 2024 20,000 + CCER 2025 30,000 = 50,000 t;
    # non-local while 70 % holds: 50,000 / 0.7 = 71,428.57 -> 71,428 t of offsets,
    # so 71,428 - 50,000 = 21,428 t from Hubei; 900,000 - 71,428 = 828,572 t CEA2025
    assert plan == ((ph, 20_000), (local, 30_000), (other, 21_428), (CEA25, 828_572))
    # the plan is legal, and one more non-local tonne would not be
    gd.surrender(E1, 2025, plan, ON_2026)
    gd.withdraw(E1, 2025)
    gd.refused(
        gd.surrender_op(E1, 2025, [(ph, 20_000), (local, 30_000), (other, 21_429)], ON_2026),
        C.LOCAL_OFFSET_SHARE_TOO_LOW,
    )


def test_plan_uses_the_whole_guangdong_cap_with_enough_local_units(gd: Reg) -> None:
    gd.emissions(E1, 2024, 800_000)
    gd.emissions(E1, 2025, 900_000)
    local = gd.offsets(E1, GD_WIND, 2025, 100_000)
    other = gd.offsets(E1, HB_SOLAR, 2025, 100_000)
    plan = gd.registry.surrender_plan(E1, 2025, ON_2026)
    # 80,000 t cap, all of it local: local units come first and fill it
    assert plan == ((local, 80_000),)
    assert other not in dict(plan)
    _apply_plan(gd, E1, 2025, ON_2026)


def test_plan_is_empty_when_assessed_or_unknown(cn: Reg) -> None:
    cn.issue(E2, 2024, 1_000)
    assert cn.registry.surrender_plan(E2, 2024, ON_2025) == ()  # no emissions yet
    cn.emissions(E2, 2024, 1_000)
    assert cn.registry.surrender_plan(E2, 2024, ON_2025) == ((CEA24, 1_000),)
    cn.assess(E2, 2024)
    assert cn.registry.surrender_plan(E2, 2024, ON_2025) == ()


def test_plan_without_the_offset_basis_still_proposes_allowances(gd: Reg) -> None:
    gd.emissions(E1, 2025, 900_000)  # no 2024 figure
    gd.issue(E1, 2025, 500_000)
    gd.surrender(E1, 2025, [(CEA25, 1)], ON_2026)  # legal: allowances need no offset basis
    gd.withdraw(E1, 2025)
    assert gd.registry.surrender_plan(E1, 2025, ON_2026) == ((CEA25, 500_000),)


# ---------------------------------------------------------------- assessment


def test_assessment_penalty_under_cn_national(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_100_000)
    cn.issue(E2, 2024, 880_000)
    wind = cn.offsets(E2, GD_WIND, 2024, 55_000)
    cn.surrender(E2, 2024, [(CEA24, 880_000), (wind, 55_000)])
    issued_before = cn.issued(CEA24)
    done = cn.assess(E2, 2024, price_fen=6_000)
    record = done.details["record"]
    # shortfall 1,100,000 - 880,000 - 55,000 = 165,000 t
    # penalty 5 x 6,000 fen (CNY 60.00) x 165,000 t = 4,950,000,000 fen (CNY 49,500,000)
    assert record == ComplianceRecord(
        account_id=E2,
        year=2024,
        obligation_t=1_100_000,
        allowances_t=880_000,
        offsets_t=55_000,
        shortfall_t=165_000,
        penalty_fen=4_950_000_000,
        deduction_t=165_000,
        reference_price_fen=6_000,
    )
    assert cn.registry.record(E2, 2024) == record
    # pending units retired: PENDING -> SYS:RETIRED
    assert sorted((p.unit, p.qty_t, p.from_state, p.to_account) for p in done.postings) == sorted(
        [(CEA24, 880_000, PENDING, RETIRED), (wind, 55_000, PENDING, RETIRED)]
    )
    assert cn.bal(E2, CEA24, PENDING) == 0
    assert cn.bal(E2, wind, PENDING) == 0
    assert cn.retired(CEA24) == 880_000
    assert cn.retired(wind) == 55_000
    assert cn.issued(CEA24) == issued_before  # retiring is not un-issuing
    # the deduction: recorded as owed, then taken from 2025's allocation:
    # 1,100,000 t x 70 % = 770,000 t - 165,000 t = 605,000 t issued
    assert cn.registry.deduction_owed(E2) == 165_000
    status = cn.registry.compliance_status(E2, 2024)
    assert status.assessed == record
    assert status.deduction_owed_t == 165_000
    pre = cn.ok(PreAllocate(cn.next_id(), E2, 2025))
    assert (pre.details["allocation_t"], pre.details["issued_t"]) == (770_000, 605_000)
    assert cn.bal(E2, CEA25) == 605_000
    cn.assert_conserved()


def test_projected_penalty_before_assessment(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000)
    cn.issue(E2, 2024, 700)
    cn.surrender(E2, 2024, [(CEA24, 700)])
    status = cn.registry.compliance_status(E2, 2024, reference_price_fen=8_550)
    # 5 x 8,550 fen x (1,000 - 700) t = 12,825,000 fen
    assert status.projected_penalty_fen == 12_825_000
    assert status.shortfall_t == 300
    assert status.deadline == "2025-12-31"
    assert status.assessed is None


def test_penalty_multiplier_is_configurable() -> None:
    reg = Reg("cn_national", {"penalty": {"multiplier": 10}})
    reg.entity(E2)
    reg.emissions(E2, 2024, 1_000)
    record = reg.assess(E2, 2024, price_fen=6_000).details["record"]
    # 10 x 6,000 fen x 1,000 t = 60,000,000 fen
    assert record.penalty_fen == 60_000_000


def test_penalty_under_eu_ets_is_eur_100_per_tonne(eu_reg: Reg) -> None:
    eu_reg.emissions(E2, 2024, 10_000)
    eu_reg.issue(E2, 2024, 9_750)
    eu_reg.surrender(E2, 2024, [(CEA24, 9_750)])
    # the price does not matter under a fixed penalty; 0 is accepted
    record = eu_reg.assess(E2, 2024, price_fen=0).details["record"]
    # shortfall 10,000 - 9,750 = 250 t; 250 t x 10,000 cents (EUR 100) = 2,500,000 cents
    assert record.shortfall_t == 250
    assert record.penalty_fen == 2_500_000
    # the missing 250 t must still be surrendered: not deducted from a free allocation an
    # auctioning installation never receives, but carried into 2025's obligation
    assert record.deduction_t == 0
    assert eu_reg.registry.deduction_owed(E2) == 0
    assert eu_reg.registry.compliance_status(E2, 2024).deadline == "2025-09-30"
    eu_reg.emissions(E2, 2025, 10_000)
    assert eu_reg.registry.obligation_t(E2, 2025) == 10_250
    assert eu_reg.registry.compliance_status(E2, 2025).obligation_t == 10_250
    eu_reg.issue(E2, 2025, 10_000)
    eu_reg.surrender(E2, 2025, [(cea_code(2025), 10_000)], ON_2026)
    later = eu_reg.assess(E2, 2025, price_fen=0).details["record"]
    # 10,250 - 10,000 = 250 t still missing: 2,500,000 cents again, carried on to 2026
    assert (later.obligation_t, later.shortfall_t, later.penalty_fen) == (10_250, 250, 2_500_000)


# ---------------------------------------------------------------- California-Québec

CA_FOREST = make_project("CA-FOREST", "California", dt.date(2024, 3, 1), methodology="us_forest")
OR_DAIRY = make_project("OR-DAIRY", "Oregon", dt.date(2024, 3, 1), methodology="livestock")
ON_2027 = dt.date(2027, 6, 15)  # before 1 November 2027, the deadline of compliance year 2026


def california(forest_t: int = 10_000) -> Reg:
    """ca_qc with E2, 100,000 t emitted in 2025 and in 2026, ``forest_t`` of offsets from a
    California project and 10,000 t from one outside the state, each of vintage 2025."""
    ca = Reg("ca_qc")
    ca.projects([CA_FOREST, OR_DAIRY])
    ca.entity(E2, "California")
    ca.emissions(E2, 2025, 100_000)
    ca.emissions(E2, 2026, 100_000)
    ca.offsets(E2, CA_FOREST, 2025, forest_t)
    ca.offsets(E2, OR_DAIRY, 2025, 10_000)
    return ca


def test_california_offsets_4_percent_for_2025_emissions_and_6_percent_from_2026() -> None:
    ca = california(forest_t=20_000)
    forest = offset_unit(CA_FOREST, 2025).code
    # 2025: 100,000 t x 4 % = 4,000 t
    assert ca.registry.compliance_status(E2, 2025).offset_cap_t == 4_000
    refusal = ca.refused(
        ca.surrender_op(E2, 2025, [(forest, 4_001)], ON_2026), C.OFFSET_CAP_EXCEEDED
    )
    assert refusal.details == {"cap_t": 4_000, "used_t": 0, "requested_t": 4_001}
    ca.surrender(E2, 2025, [(forest, 4_000)], ON_2026)
    # 2026 (AB 1207): 100,000 t x 6 % = 6,000 t
    assert ca.registry.compliance_status(E2, 2026).offset_cap_t == 6_000
    refusal = ca.refused(
        ca.surrender_op(E2, 2026, [(forest, 6_001)], ON_2027), C.OFFSET_CAP_EXCEEDED
    )
    assert refusal.details["cap_t"] == 6_000
    ca.surrender(E2, 2026, [(forest, 6_000)], ON_2027)
    assert ca.registry.surrendered_t(E2, 2026) == (0, 6_000)


def test_california_at_most_half_of_the_offsets_from_outside_the_state() -> None:
    ca = california()
    forest = offset_unit(CA_FOREST, 2025).code
    dairy = offset_unit(OR_DAIRY, 2025).code
    # 2026's 6,000 t: 2,999 t from California and 3,001 t from Oregon is more than half outside
    op = ca.surrender_op(E2, 2026, [(forest, 2_999), (dairy, 3_001)], ON_2027)
    refusal = ca.refused(op, C.LOCAL_OFFSET_SHARE_TOO_LOW)
    assert refusal.details == {"local_t": 2_999, "offsets_t": 6_000, "min_share_bp": 5_000}
    # 3,000 t each: half outside, the most allowed
    ca.surrender(E2, 2026, [(forest, 3_000), (dairy, 3_000)], ON_2027)
    assert ca.registry.surrendered_t(E2, 2026) == (0, 6_000)


def test_california_plan_takes_out_of_state_offsets_only_beside_as_many_local() -> None:
    ca = california(forest_t=2_500)
    ca.issue(E2, 2026, 100_000)
    forest = offset_unit(CA_FOREST, 2025).code
    dairy = offset_unit(OR_DAIRY, 2025).code
    # of the 6,000 t cap: the 2,500 t from California, then as many from Oregon (2,500 t,
    # half of 5,000 t), the rest allowances: 100,000 - 5,000 = 95,000 t
    plan = ca.registry.surrender_plan(E2, 2026, ON_2027)
    assert plan == ((forest, 2_500), (dairy, 2_500), (cea_code(2026), 95_000))


def test_california_untimely_surrender_is_four_times_the_shortfall() -> None:
    ca = Reg("ca_qc")
    ca.entity(E2, "California")
    ca.emissions(E2, 2025, 10_000)
    ca.issue(E2, 2025, 9_000)
    ca.surrender(E2, 2025, [(CEA25, 9_000)], ON_2026)
    assert ca.registry.compliance_status(E2, 2025).deadline == "2026-11-01"
    record = ca.assess(E2, 2025, price_fen=0).details["record"]
    # shortfall 1,000 t: no fine, no deduction ...
    assert (record.shortfall_t, record.penalty_fen, record.deduction_t) == (1_000, 0, 0)
    assert ca.registry.deduction_owed(E2) == 0
    # ... but 4 x 1,000 t = 4,000 t owed with 2026's obligation: 10,000 + 4,000 = 14,000 t
    ca.emissions(E2, 2026, 10_000)
    assert ca.registry.carried_t(E2, 2026) == 4_000
    assert ca.registry.obligation_t(E2, 2026) == 14_000
    assert ca.registry.compliance_status(E2, 2026).obligation_t == 14_000
    # the offset cap stays a share of the year's emissions: 10,000 t x 6 % = 600 t
    assert ca.registry.compliance_status(E2, 2026).offset_cap_t == 600


def test_guangdong_fines_cny_50000_and_deducts_twice_the_shortfall() -> None:
    gd = Reg("guangdong_pilot")
    gd.entity(E2)
    gd.emissions(E2, 2024, 1_000)
    gd.issue(E2, 2024, 700)
    gd.surrender(E2, 2024, [(CEA24, 700)])
    assert gd.registry.compliance_status(E2, 2024).deadline == "2025-06-20"
    record = gd.assess(E2, 2024, price_fen=6_000).details["record"]
    # shortfall 300 t: no price multiple, a CNY 50,000 fine (5,000,000 fen) and 2 × 300 t owed
    assert (record.shortfall_t, record.penalty_fen, record.deduction_t) == (300, 5_000_000, 600)
    done = gd.ok(AllocateFixed("fixed-25", E2, 2025, 1_000))
    assert (done.details["deducted_t"], done.details["issued_t"]) == (600, 400)
    assert gd.registry.penalty_fen(0, 6_000) == 0  # no shortfall, no fine


def test_a_fixed_allocation_is_issued_less_the_deduction_owed(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000)
    cn.issue(E2, 2024, 800)
    cn.surrender(E2, 2024, [(CEA24, 800)])
    record = cn.assess(E2, 2024).details["record"]
    assert (record.shortfall_t, record.deduction_t) == (200, 200)
    done = cn.ok(AllocateFixed("fixed-25", E2, 2025, 1_000))
    # 1,000 t allocated, 200 t of it deducted: 800 t issued, nothing owed any more
    assert (done.details["allocation_t"], done.details["deducted_t"]) == (1_000, 200)
    assert done.details["issued_t"] == 800
    assert cn.bal(E2, cea_code(2025)) == 800
    assert cn.registry.deduction_owed(E2) == 0
    assert cn.registry.allocation_t(E2, 2025) == 1_000


def test_no_shortfall_no_penalty(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000)
    cn.issue(E2, 2024, 1_000)
    cn.surrender(E2, 2024, [(CEA24, 1_000)])
    record = cn.assess(E2, 2024).details["record"]
    assert (record.shortfall_t, record.penalty_fen, record.deduction_t) == (0, 0, 0)
    assert cn.registry.deduction_owed(E2) == 0


def test_deduction_can_be_switched_off() -> None:
    reg = Reg("cn_national", {"allocation": {"deduct_shortfall_next_year": False}})
    reg.entity(E2)
    reg.emissions(E2, 2024, 1_000)
    record = reg.assess(E2, 2024).details["record"]
    # shortfall 1,000 t, penalty 5 x 6,000 x 1,000 = 30,000,000 fen, but no deduction
    assert (record.shortfall_t, record.penalty_fen, record.deduction_t) == (
        1_000,
        30_000_000,
        0,
    )
    assert reg.registry.deduction_owed(E2) == 0


def test_assessment_needs_a_positive_price_under_a_price_multiple(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000)
    for price in (0, -6_000):
        refusal = cn.refused(
            Assess(f"a{price}", E2, 2024, price, dt.date(2025, 12, 31)), C.INVALID_PRICE
        )
        assert refusal.details == {"reference_price_fen": price}


def test_assessment_of_one_year_leaves_the_next_open(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000)
    cn.emissions(E2, 2025, 1_000)
    cn.issue(E2, 2024, 2_000)
    cn.surrender(E2, 2025, [(CEA24, 400)], ON_2026)
    cn.assess(E2, 2024)
    # 2025's pending units are not retired by 2024's assessment
    assert cn.bal(E2, CEA24, PENDING) == 400
    assert cn.retired(CEA24) == 0
    assert cn.registry.record(E2, 2025) is None


def test_surrender_closes_at_the_deadline(cn: Reg) -> None:
    cn.emissions(E2, 2024, 1_000)
    cn.issue(E2, 2024, 1_000)
    # cn_national: surrender for 2024 by 31 December 2025
    assert cn.registry.surrender_plan(E2, 2024, dt.date(2025, 12, 31)) == ((cea_code(2024), 1_000),)
    assert cn.registry.surrender_plan(E2, 2024, dt.date(2026, 1, 1)) == ()
    refusal = cn.refused(
        cn.surrender_op(E2, 2024, [(cea_code(2024), 1_000)], dt.date(2026, 1, 1)),
        C.DEADLINE_PASSED,
    )
    assert refusal.details == {"year": 2024, "deadline": "2025-12-31", "on": "2026-01-01"}
