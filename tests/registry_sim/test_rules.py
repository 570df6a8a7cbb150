"""Rule sets as data: the shipped files load, overrides merge, and a bad value is reported with
its dotted path and the reason (docs/rules.md)."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from typing import Any

import pytest

from matching import Matching
from registry_sim import RuleSet, RuleSetError, load_rules, parse_rules
from registry_sim.rules import (
    HoldingLimitFormula,
    OffsetWindow,
    OldVintageRules,
    holding_limit_t,
)
from registry_sim.rulesets import UnknownRuleSetError, available_rulesets, load_ruleset


def test_four_rule_sets_ship() -> None:
    assert available_rulesets() == ["ca_qc", "cn_national", "eu_ets", "guangdong_pilot"]


@pytest.mark.parametrize("name", ["ca_qc", "cn_national", "eu_ets", "guangdong_pilot"])
def test_every_shipped_rule_set_loads(name: str) -> None:
    rules = load_rules(name)
    assert isinstance(rules, RuleSet)
    assert rules.name == name
    assert rules.title
    assert rules.trading["lot_t"] == 1


def test_guangdong_opens_at_the_previous_close_and_the_nation_at_the_first_trade() -> None:
    guangdong = load_rules("guangdong_pilot").settlement
    assert (guangdong.open_method, guangdong.close_method, guangdong.close_min_volume_t) == (
        "previous_close",
        "vwap_or_open",
        100,
    )
    assert load_rules("cn_national").settlement.open_method == "first_trade"


def test_guangdong_has_its_own_deadline_penalty_and_no_national_allocation_rules() -> None:
    rules = load_rules("guangdong_pilot")
    assert rules.compliance.deadline(2024).isoformat() == "2025-06-20"
    p = rules.penalty
    assert (p.kind, p.fixed_fen_per_t, p.lump_sum_fen, p.deduction_multiple) == (
        "fixed",
        0,
        5_000_000,
        2,
    )
    assert (rules.allocation.gap_cap_bp, rules.allocation.gas_fired_top_up) == (0, False)
    national = load_rules("cn_national").penalty
    assert (national.lump_sum_fen, national.deduction_multiple) == (0, 1)
    eu = load_rules("eu_ets")
    assert eu.compliance.shortfall_carries_over
    assert not eu.allocation.deduct_shortfall_next_year


def test_cn_national_values() -> None:
    rules = load_rules("cn_national")
    assert rules.currency == "CNY"
    a = rules.allocation
    # docs/rules.md, national: pre-allocation 70 %, gap cap 80 %, gas top-up, α in [-3 %, +3 %]
    assert (a.pre_allocation_share_bp, a.gap_cap_bp) == (7_000, 8_000)
    assert a.gas_fired_top_up
    assert (a.alpha_min_bp, a.alpha_max_bp) == (-300, 300)
    assert a.deduct_shortfall_next_year
    c = rules.compliance
    # surrender for year Y by 31 December of Y+1
    assert c.deadline(2024) == dt.date(2025, 12, 31)
    # CCER may cover at most 5 % of the obligation
    assert (c.offset_cap_basis, c.offset_cap_bp) == ("obligation", 500)
    assert c.offset_unit_kinds == ("CCER",)
    assert c.exclude_inside_ets_scope
    assert c.allowed_methodologies == ()
    assert c.local_province is None
    assert c.local_min_share_bp == 0
    assert not c.borrowing
    assert c.offset_windows == (
        # the 2023 measures: started after 2012-11-08, reductions after 2020-09-22
        OffsetWindow(dt.date(2024, 1, 22), None, None, dt.date(2012, 11, 8), dt.date(2020, 9, 22)),
        OffsetWindow(None, dt.date(2017, 3, 14), dt.date(2024, 12, 31)),
    )
    # from 2025, vintages ≤ 2024 within 10,000 t + 1.5 × net sales
    assert c.old_vintages == OldVintageRules(
        2025, 2024, 10_000, 15_000, dt.date(2024, 1, 1), dt.date(2025, 12, 31)
    )
    p = rules.penalty
    assert (p.kind, p.multiplier, p.multiplier_min, p.multiplier_max) == (
        "price_multiple",
        5,
        5,
        10,
    )


def test_guangdong_values() -> None:
    c = load_rules("guangdong_pilot").compliance
    # offsets up to 10 % of the previous year's verified emissions, ≥ 70 % from Guangdong
    assert (c.offset_cap_basis, c.offset_cap_bp) == ("previous_year_emissions", 1_000)
    assert c.offset_unit_kinds == ("CCER", "PHCER")
    assert (c.local_province, c.local_min_share_bp) == ("Guangdong", 7_000)
    assert c.offset_windows == ()
    assert c.old_vintages is None


def test_eu_ets_values() -> None:
    rules = load_rules("eu_ets")
    assert rules.currency == "EUR"
    # surrender by 30 September; EUR 100 = 10,000 cents per missing tonne; no offsets
    assert rules.compliance.deadline(2024) == dt.date(2025, 9, 30)
    assert (rules.penalty.kind, rules.penalty.fixed_fen_per_t) == ("fixed", 10_000)
    assert rules.compliance.offset_cap_bp == 0
    assert rules.compliance.offset_unit_kinds == ()


def test_ca_qc_values() -> None:
    rules = load_rules("ca_qc")
    assert (rules.currency, rules.calendar.timezone, rules.language) == (
        "USD",
        "America/Los_Angeles",
        "en",
    )
    assert rules.calendar.weekdays == (0, 1, 2, 3, 4)
    assert rules.trading["tick_fen"] == 1
    assert rules.listed.matching.value == "price_time"
    assert rules.block is None
    assert rules.msr is None
    c = rules.compliance
    # surrender by 1 November of the following year
    assert c.deadline(2025) == dt.date(2026, 11, 1)
    # offsets: 4 % of the obligation for 2021-2025 emissions, 6 % from 2026; at least half
    # from projects in California
    assert (c.offset_cap_basis, c.offset_cap_bp_in(2025), c.offset_cap_bp_in(2026)) == (
        "obligation",
        400,
        600,
    )
    assert c.offset_cap_bp_in(2045) == 600
    assert (c.local_province, c.local_min_share_bp) == ("California", 5_000)
    # an untimely surrender: four times the shortfall, owed again; no fine, no deduction
    assert (c.shortfall_carries_over, c.shortfall_carry_multiple) == (True, 4)
    p = rules.penalty
    assert (p.kind, p.fixed_fen_per_t, p.lump_sum_fen) == ("fixed", 0, 0)
    assert not rules.allocation.deduct_shortfall_next_year
    assert rules.limits is not None
    assert rules.limits.position_limit_t == 9_452_250  # see the holding-limit test below
    assert rules.limits.report_threshold_t == rules.limits.position_limit_t
    assert not rules.limits.add_allocation
    a = rules.auction
    assert a is not None
    assert (a.pricing, a.tie_break, a.undersubscribed) == ("uniform", "pro_rata", "fill")
    assert (a.lot_t, a.min_bid_t, a.max_share_bp, a.covered_max_share_bp) == (
        1_000,
        1_000,
        400,
        2_500,
    )
    assert (a.collateral, a.results_lag_days) == ("guarantee", 5)
    assert (a.reserve.kind, a.reserve.by_year[-1]) == ("schedule", (2025, 2_587))  # USD 25.87
    assert (a.cancel_below_secondary_bp, a.unsold_to) == (None, "reserve")
    assert a.windows == ((dt.time(10), dt.time(13)),)


def test_the_ca_qc_holding_limit_worked_by_hand() -> None:
    # 2026 combined cap: California 254,000,000 t + Québec 49,090,000 t = 303,090,000 t
    # 10 % x 25,000,000 t = 2,500,000 t
    # 2.5 % x (303,090,000 - 25,000,000) t = 2.5 % x 278,090,000 t = 6,952,250 t
    # holding limit: 2,500,000 + 6,952,250 = 9,452,250 t
    formula = HoldingLimitFormula(25_000_000, 1_000, 250, 303_090_000)
    assert holding_limit_t(formula) == 9_452_250
    # a cap below the base: 10 % of it alone (1,000,000 t x 10 % = 100,000 t)
    assert holding_limit_t(HoldingLimitFormula(25_000_000, 1_000, 250, 1_000_000)) == 100_000
    # rounded down: 25,000,001 t -> 2,500,000 + 0.025 t
    assert holding_limit_t(HoldingLimitFormula(25_000_000, 1_000, 250, 25_000_001)) == 2_500_000


def test_a_market_may_move_the_cap_the_holding_limit_follows() -> None:
    # 2.5 % x (65,000,000 - 25,000,000) = 1,000,000 t above the base's 2,500,000 t
    overrides = {"limits": {"holding_limit": {"annual_cap_t": 65_000_000}}}
    limits = load_rules("ca_qc", overrides).limits
    assert limits is not None
    assert (limits.position_limit_t, limits.report_threshold_t) == (3_500_000, 3_500_000)
    with_threshold = load_rules("ca_qc", {"limits": {"report_threshold_t": 1_000_000}}).limits
    assert with_threshold is not None
    assert with_threshold.report_threshold_t == 1_000_000


@pytest.mark.parametrize("name", ["cn_national", "eu_ets", "guangdong_pilot"])
def test_other_rule_sets_keep_one_offset_cap_and_carry_one_for_one(name: str) -> None:
    c = load_rules(name).compliance
    assert c.offset_caps == ()
    assert {c.offset_cap_bp_in(year) for year in (2013, 2025, 2026, 2045)} == {c.offset_cap_bp}
    assert c.shortfall_carry_multiple == 1


def test_unknown_rule_set() -> None:
    with pytest.raises(UnknownRuleSetError, match="no rule set 'mars'"):
        load_rules("mars")


# ---------------------------------------------------------------- overrides


def test_override_replaces_one_value_and_keeps_the_rest_of_the_table() -> None:
    rules = load_rules("cn_national", {"compliance": {"offset_cap_bp": 1_000}})
    assert rules.compliance.offset_cap_bp == 1_000
    # the rest of [compliance] is the shipped file's
    assert rules.compliance.offset_cap_basis == "obligation"
    assert rules.compliance.offset_unit_kinds == ("CCER",)
    assert rules.compliance.deadline(2024) == dt.date(2025, 12, 31)
    assert len(rules.compliance.offset_windows) == 2
    assert rules.allocation.pre_allocation_share_bp == 7_000


def test_override_merges_nested_tables_key_by_key() -> None:
    rules = load_rules("cn_national", {"trading": {"modes": {"listed": {"band_bp": 500}}}})
    listed = rules.trading["modes"]["listed"]
    assert listed["band_bp"] == 500
    assert listed["max_qty_t"] == 99_999  # kept
    assert rules.trading["modes"]["block"]["band_bp"] == 3_000  # sibling table kept
    assert rules.trading["currency"] == "CNY"


def test_override_of_a_list_replaces_it() -> None:
    rules = load_rules("cn_national", {"compliance": {"offset_windows": []}})
    assert rules.compliance.offset_windows == ()


def test_draft_pre_allocation_share_by_override() -> None:
    # docs/rules.md: 50 % in the 2025-26 draft [D]
    rules = load_rules("cn_national", {"allocation": {"pre_allocation_share_bp": 5_000}})
    assert rules.allocation.pre_allocation_share_bp == 5_000
    assert rules.allocation.gap_cap_bp == 8_000


def test_overrides_do_not_leak_into_the_next_load() -> None:
    load_rules("cn_national", {"compliance": {"offset_cap_bp": 1_000}})
    assert load_rules("cn_national").compliance.offset_cap_bp == 500
    assert load_rules("guangdong_pilot").compliance.offset_cap_bp == 1_000


# ---------------------------------------------------------------- errors


def _expect_error(name: str, overrides: Mapping[str, Any], path: str, reason: str) -> None:
    with pytest.raises(RuleSetError) as info:
        load_rules(name, overrides)
    error = info.value
    assert isinstance(error, ValueError)
    assert error.ruleset == name
    assert error.path == path
    assert error.reason == reason
    assert str(error) == f"rule set {name!r}: {path}: {reason}"


def test_the_net_sales_period_is_two_dates_in_order() -> None:
    at = "compliance.old_vintages.net_sales_until"
    after = {"net_sales_from": dt.date(2026, 1, 1)}
    _expect_error(
        "cn_national",
        {"compliance": {"old_vintages": after}},
        at,
        ("must not be before net_sales_from"),
    )


@pytest.mark.parametrize("table", ["trading", "allocation", "compliance", "penalty"])
def test_missing_table(table: str) -> None:
    data = copy.deepcopy(load_ruleset("cn_national"))
    del data[table]
    with pytest.raises(RuleSetError) as info:
        parse_rules("cn_national", data)
    assert (info.value.path, info.value.reason) == (table, "missing table")


def test_missing_old_vintages_table_is_allowed_but_a_non_table_is_not() -> None:
    data = copy.deepcopy(load_ruleset("cn_national"))
    del data["compliance"]["old_vintages"]
    assert parse_rules("cn_national", data).compliance.old_vintages is None
    _expect_error(
        "cn_national",
        {"compliance": {"old_vintages": 2024}},
        "compliance.old_vintages",
        "expected a table",
    )


@pytest.mark.parametrize(
    ("overrides", "path", "reason"),
    [
        ({"penalty": 5}, "penalty", "expected a table"),
        (
            {"compliance": {"offset_cap_bp": "5 %"}},
            "compliance.offset_cap_bp",
            "expected a whole number, got '5 %'",
        ),
        (
            {"compliance": {"offset_cap_bp": 5.0}},
            "compliance.offset_cap_bp",
            "expected a whole number, got 5.0",
        ),
        (
            # a TOML boolean is not a number even though Python's bool is an int
            {"allocation": {"gap_cap_bp": True}},
            "allocation.gap_cap_bp",
            "expected a whole number, got True",
        ),
        (
            {"allocation": {"gas_fired_top_up": "yes"}},
            "allocation.gas_fired_top_up",
            "expected true or false, got 'yes'",
        ),
        (
            {"compliance": {"borrowing": 0}},
            "compliance.borrowing",
            "expected true or false, got 0",
        ),
        ({"trading": {"currency": 156}}, "trading.currency", "expected text, got 156"),
        (
            {"penalty": {"deduction_multiple": 0}},
            "penalty.deduction_multiple",
            "must be at least 1, got 0",
        ),
        (
            {"penalty": {"lump_sum_fen": -1}},
            "penalty.lump_sum_fen",
            "must be at least 0, got -1",
        ),
        (
            {"compliance": {"shortfall_carries_over": "yes"}},
            "compliance.shortfall_carries_over",
            "expected true or false, got 'yes'",
        ),
        (
            {"settlement": {"open_method": "last_trade"}},
            "settlement.open_method",
            "must be one of ['first_trade', 'previous_close'], got 'last_trade'",
        ),
        (
            {"compliance": {"offset_unit_kinds": "CCER"}},
            "compliance.offset_unit_kinds",
            "expected a list of text, got 'CCER'",
        ),
        (
            {"compliance": {"offset_windows": {"registered_after": "2024-01-22"}}},
            "compliance.offset_windows",
            "expected a list of tables",
        ),
        (
            {"compliance": {"offset_windows": ["2024-01-22"]}},
            "compliance.offset_windows[0]",
            "expected a table",
        ),
        (
            {"compliance": {"offset_windows": [{"registered_after": "2024-01-22"}]}},
            "compliance.offset_windows[0].registered_after",
            "expected a date (YYYY-MM-DD), got '2024-01-22'",
        ),
        (
            {
                "compliance": {
                    "offset_windows": [{}, {"usable_until": dt.datetime(2024, 12, 31, 23, 59)}]
                }
            },
            "compliance.offset_windows[1].usable_until",
            "expected a date (YYYY-MM-DD), got datetime.datetime(2024, 12, 31, 23, 59)",
        ),
        (
            {"compliance": {"local_province": 44}},
            "compliance.local_province",
            "expected text, got 44",
        ),
        (
            {"penalty": {"kind": "jail"}},
            "penalty.kind",
            "must be one of ['price_multiple', 'fixed'], got 'jail'",
        ),
        (
            {"compliance": {"offset_cap_basis": "next_year_emissions"}},
            "compliance.offset_cap_basis",
            "must be one of ['obligation', 'previous_year_emissions'], got 'next_year_emissions'",
        ),
    ],
)
def test_wrong_types(overrides: Mapping[str, Any], path: str, reason: str) -> None:
    _expect_error("cn_national", overrides, path, reason)


@pytest.mark.parametrize(
    ("overrides", "path", "reason"),
    [
        # docs/rules.md's example, word for word: 12,000 bp = 120 % > 100 %
        (
            {"compliance": {"offset_cap_bp": 12_000}},
            "compliance.offset_cap_bp",
            "must be at most 10000, got 12000",
        ),
        (
            {"compliance": {"offset_cap_bp": -1}},
            "compliance.offset_cap_bp",
            "must be at least 0, got -1",
        ),
        (
            {"allocation": {"pre_allocation_share_bp": 10_001}},
            "allocation.pre_allocation_share_bp",
            "must be at most 10000, got 10001",
        ),
        (
            {"allocation": {"gap_cap_bp": -100}},
            "allocation.gap_cap_bp",
            "must be at least 0, got -100",
        ),
        (
            # α = -100 % would allocate nothing at all: the lowest is -99.99 %
            {"allocation": {"alpha_min_bp": -10_000}},
            "allocation.alpha_min_bp",
            "must be at least -9999, got -10000",
        ),
        (
            {"allocation": {"alpha_min_bp": 400}},
            "allocation.alpha_min_bp",
            "must not exceed allocation.alpha_max_bp",
        ),
        (
            {"compliance": {"local_min_share_bp": 10_500}},
            "compliance.local_min_share_bp",
            "must be at most 10000, got 10500",
        ),
        (
            {"compliance": {"old_vintages": {"cap_base_t": -10_000}}},
            "compliance.old_vintages.cap_base_t",
            "must be at least 0, got -10000",
        ),
        (
            {"compliance": {"old_vintages": {"from_year": 0}}},
            "compliance.old_vintages.from_year",
            "must be at least 1, got 0",
        ),
        (
            {"penalty": {"fixed_fen_per_t": -1}},
            "penalty.fixed_fen_per_t",
            "must be at least 0, got -1",
        ),
    ],
)
def test_out_of_range(overrides: Mapping[str, Any], path: str, reason: str) -> None:
    _expect_error("cn_national", overrides, path, reason)


@pytest.mark.parametrize(
    "deadline",
    [
        "12/31",  # wrong separator
        "12-31-2025",  # a year is not part of it
        "13-01",  # no 13th month
        "02-29",  # not every year has 29 February
        "04-31",  # April has 30 days
        "end of year",
        "",
    ],
)
def test_bad_deadline(deadline: str) -> None:
    _expect_error(
        "cn_national",
        {"compliance": {"deadline": deadline}},
        "compliance.deadline",
        f"expected MM-DD, got {deadline!r}",
    )


def test_deadline_that_is_not_text() -> None:
    _expect_error(
        "cn_national",
        {"compliance": {"deadline": 1231}},
        "compliance.deadline",
        "expected text, got 1231",
    )


def test_deadline_override_moves_the_date() -> None:
    rules = load_rules("cn_national", {"compliance": {"deadline": "09-30"}})
    # year 2024 -> 30 September 2025
    assert rules.compliance.deadline(2024) == dt.date(2025, 9, 30)


@pytest.mark.parametrize("kind", ["VCS", "CEA", "ccer"])
def test_unknown_offset_unit_kind(kind: str) -> None:
    _expect_error(
        "cn_national",
        {"compliance": {"offset_unit_kinds": ["CCER", kind]}},
        "compliance.offset_unit_kinds",
        f"unknown offset unit kind {kind!r}",
    )


def test_offset_unit_kinds_phcer_is_known() -> None:
    rules = load_rules("cn_national", {"compliance": {"offset_unit_kinds": ["CCER", "PHCER"]}})
    assert rules.compliance.offset_unit_kinds == ("CCER", "PHCER")


def test_local_share_without_a_province() -> None:
    # cn_national has local_province = "": a 70 % local share then has no province to be local to
    _expect_error(
        "cn_national",
        {"compliance": {"local_min_share_bp": 7_000}},
        "compliance.local_province",
        "needed when local_min_share_bp is set",
    )
    _expect_error(
        "guangdong_pilot",
        {"compliance": {"local_province": ""}},
        "compliance.local_province",
        "needed when local_min_share_bp is set",
    )


def test_offset_cap_steps_are_in_order_of_year() -> None:
    steps = [{"from_year": 2026, "cap_bp": 600}, {"from_year": 2026, "cap_bp": 800}]
    _expect_error(
        "ca_qc",
        {"compliance": {"offset_caps": steps}},
        "compliance.offset_caps[1].from_year",
        "steps must be in order of year, one per year",
    )
    _expect_error(
        "ca_qc",
        {"compliance": {"offset_caps": [{"from_year": 2026, "cap_bp": 10_001}]}},
        "compliance.offset_caps[0].cap_bp",
        "must be at most 10000, got 10001",
    )


def test_a_carry_multiple_needs_the_shortfall_carried() -> None:
    _expect_error(
        "cn_national",
        {"compliance": {"shortfall_carry_multiple": 4}},
        "compliance.shortfall_carry_multiple",
        "needs shortfall_carries_over = true",
    )


def test_a_position_limit_or_a_holding_limit_not_both() -> None:
    _expect_error(
        "ca_qc",
        {"limits": {"position_limit_t": 1_000_000}},
        "limits.position_limit_t",
        "give it or limits.holding_limit, not both",
    )


def test_local_province_without_a_share_is_allowed() -> None:
    rules = load_rules("guangdong_pilot", {"compliance": {"local_min_share_bp": 0}})
    assert rules.compliance.local_province == "Guangdong"
    assert rules.compliance.local_min_share_bp == 0


@pytest.mark.parametrize(
    ("penalty", "reason"),
    [
        # docs/rules.md, national: 5-10 × the previous month's average price
        ({"multiplier": 11}, "must lie in [5, 10], got 11"),
        ({"multiplier": 4}, "must lie in [5, 10], got 4"),
        ({"multiplier": 7, "multiplier_max": 6}, "must lie in [5, 6], got 7"),
    ],
)
def test_penalty_multiplier_outside_its_range(penalty: Mapping[str, int], reason: str) -> None:
    _expect_error("cn_national", {"penalty": penalty}, "penalty.multiplier", reason)


@pytest.mark.parametrize("multiplier", [5, 7, 10])
def test_penalty_multiplier_inside_its_range(multiplier: int) -> None:
    rules = load_rules("cn_national", {"penalty": {"multiplier": multiplier}})
    assert rules.penalty.multiplier == multiplier


def test_missing_value_is_named() -> None:
    data = copy.deepcopy(load_ruleset("guangdong_pilot"))
    del data["compliance"]["local_min_share_bp"]
    with pytest.raises(RuleSetError) as info:
        parse_rules("guangdong_pilot", data)
    assert info.value.path == "compliance.local_min_share_bp"
    assert info.value.reason == "expected a whole number, got None"


def test_an_override_of_a_field_no_rule_set_has_is_refused() -> None:
    with pytest.raises(RuleSetError) as raised:
        load_rules("cn_national", {"compliance": {"offset_cap_bpp": 1000}})
    assert (raised.value.path, raised.value.reason) == (
        "compliance.offset_cap_bpp",
        "unknown field",
    )
    assert str(raised.value) == "rule set 'cn_national': compliance.offset_cap_bpp: unknown field"


def test_an_override_may_add_a_table_another_rule_set_has() -> None:
    eu = load_rules("eu_ets", {"limits": load_ruleset("cn_national")["limits"]})
    assert eu.limits == load_rules("cn_national").limits


def test_a_rule_set_names_its_language_and_english_is_the_default() -> None:
    assert [load_rules(n).language for n in ("cn_national", "guangdong_pilot", "eu_ets")] == [
        "zh-CN",
        "zh-CN",
        "en",
    ]
    data = copy.deepcopy(load_ruleset("eu_ets"))
    del data["language"]
    assert parse_rules("eu_ets", data).language == "en"
    data["language"] = "fr"
    with pytest.raises(RuleSetError) as raised:
        parse_rules("eu_ets", data)
    assert (raised.value.path, raised.value.reason) == (
        "language",
        "must be one of ['zh-CN', 'en'], got 'fr'",
    )


def test_how_listed_orders_meet() -> None:
    national = load_rules("cn_national").listed
    assert (national.matching, national.take_levels) == (Matching.BOTH, 5)
    assert (national.strict_price_priority, national.partial_take) == (False, True)
    assert national.crosses
    assert national.takes
    guangdong = load_rules("guangdong_pilot").listed
    assert (guangdong.take_levels, guangdong.strict_price_priority) == (1, True)
    eu = load_rules("eu_ets").listed
    assert (eu.matching, eu.take_levels) == (Matching.PRICE_TIME, 0)
    assert eu.crosses
    assert not eu.takes
    strict = load_rules("cn_national", listed_override(matching="point_select")).listed
    assert not strict.crosses
    assert strict.takes


def listed_override(**values: Any) -> dict[str, Any]:
    return {"trading": {"modes": {"listed": values}}}


@pytest.mark.parametrize(
    ("values", "path", "reason"),
    [
        (
            {"matching": "auction"},
            "trading.modes.listed.matching",
            "expected one of ['price_time', 'point_select', 'both'], got 'auction'",
        ),
        ({"take_levels": 0}, "trading.modes.listed.take_levels", "must be at least 1, got 0"),
        (
            {"strict_price_priority": True},
            "trading.modes.listed.strict_price_priority",
            "only the first quote at the best price may be taken, so take_levels must be 1, got 5",
        ),
        (
            {"partial_take": "yes"},
            "trading.modes.listed.partial_take",
            "expected true or false, got 'yes'",
        ),
    ],
)
def test_point_select_fields_are_checked(values: dict[str, Any], path: str, reason: str) -> None:
    with pytest.raises(RuleSetError) as info:
        load_rules("cn_national", listed_override(**values))
    assert (info.value.path, info.value.reason) == (path, reason)
