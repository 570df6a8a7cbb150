"""Scenario files: every shipped one loads; bad ones fail naming the field and the reason."""

from __future__ import annotations

import textwrap

import pytest

from exchange.sim.scenario import (
    ScenarioError,
    load_scenario,
    parse_scenario,
    shipped_scenarios,
    text_in,
)

GOOD = """
name: tiny
seed: 5
calendar: {start: 2026-01-05, trading_days_per_year: 3}
market: {reference_price_fen: 6000}
allocation: {method: fixed, share_bp: 9000}
firms:
  - id: F1
    sector: power
    province: Hubei
    baseline_t: 100000
    cash_fen: 100000000
    curve: {intercept_fen: 1000, slope_fen_per_t: 0.5, max_t: 20000}
firm_groups:
  - {count: 5, id_prefix: G, sector: power, provinces: [Hubei, Hunan], output: [1, 10],
     baseline_t: [1000, 2000], intercept_fen: [0, 100], slope_fen_per_t: [0.1, 0.2],
     max_abatement_bp: [1000, 2000], cash_fen: [1000, 2000]}
agents:
  - {kind: noise, count: 2, cash_fen: 1000000, allowances_t: 100}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(textwrap.dedent(text))
    return caught.value.problems


def test_every_shipped_scenario_loads() -> None:
    names = shipped_scenarios()
    assert {"classroom_national", "equilibrium_check", "guangdong_pilot", "national_power"} <= set(
        names
    )
    for name in names:
        assert load_scenario(name).firms


def test_a_good_scenario_resolves_firms_and_agents() -> None:
    s = parse_scenario(GOOD)
    assert [f.account_id for f in s.firms] == ["F1", "G0001", "G0002", "G0003", "G0004", "G0005"]
    kinds = [(a.account_id, a.kind, a.firm) for a in s.agents]
    assert kinds[0] == ("F1", "firm", "F1")  # firms get a compliance agent by default
    assert kinds[-2:] == [("NOISE001", "noise", None), ("NOISE002", "noise", None)]
    assert all(1000 <= f.baseline_t <= 2000 for f in s.firms[1:])


def test_firm_groups_are_generated_from_the_scenario_seed() -> None:
    first, again = parse_scenario(GOOD), parse_scenario(GOOD)
    assert first.firms == again.firms
    other = parse_scenario(GOOD.replace("seed: 5", "seed: 6"))
    assert [f.baseline_t for f in other.firms[1:]] != [f.baseline_t for f in first.firms[1:]]


def test_a_bad_number_names_its_path() -> None:
    bad = GOOD.replace("slope_fen_per_t: 0.5", "slope_fen_per_t: 0")
    assert problems(bad) == ["firms[0].curve.slope_fen_per_t: must be > 0, got 0"]
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(bad)
    assert (
        str(caught.value) == "scenario 'tiny': firms[0].curve.slope_fen_per_t: must be > 0, got 0"
    )


def test_every_problem_is_reported_at_once() -> None:
    bad = GOOD.replace("baseline_t: 100000", "baseline_t: -5").replace(
        "province: Hubei", "provinec: Hubei"
    )
    found = problems(bad)
    assert "firms[0].baseline_t: must be > 0, got -5" in found
    assert "firms[0].provinec: unknown field" in found
    assert "firms[0].province: required field is missing" in found


def test_unknown_agent_kind_and_parameters() -> None:
    found = problems(GOOD.replace("kind: noise", "kind: oracle"))
    assert any(p.startswith("agents[0].kind: unknown agent kind 'oracle'") for p in found)
    found = problems(GOOD.replace("allowances_t: 100}", "allowances_t: 100, params: {qty: 5}}"))
    assert len(found) == 1
    assert found[0].startswith("agents[0].params: ")
    assert "qty" in found[0]


def test_rule_overrides_are_validated_by_the_rule_set() -> None:
    bad = GOOD.replace(
        "seed: 5",
        "seed: 5\nrules: {name: cn_national, overrides: {compliance: {offset_cap_bp: 20000}}}",
    )
    assert problems(bad) == [
        "rules.overrides.compliance.offset_cap_bp: must be at most 10000, got 20000"
    ]
    assert problems(GOOD.replace("seed: 5", "seed: 5\nrules: {name: mars}"))[0].startswith(
        "rules.name: "
    )


def test_events_are_checked() -> None:
    bad = GOOD + textwrap.dedent(
        """
        events:
          - {day: 2, kind: rule_change, overrides: {trading: {tick_fen: 5}}}
          - {kind: news, text: hello}
        """
    )
    found = problems(bad)
    assert any(p.startswith("events[0]: a rule change may touch only") for p in found)
    assert "events[1]: give exactly one of day and date" in found
    # Cross-checks run once the file's shape is right.
    bad = GOOD + textwrap.dedent(
        """
        events:
          - {day: 1, kind: emission_shock, firms: [NOPE], change_bp: 100}
          - {day: 1, kind: rule_change, overrides: {penalty: {multiplier: 50}}}
        """
    )
    found = problems(bad)
    assert "events[0].firms: no firm 'NOPE'" in found
    assert any(p.startswith("events[1].overrides.penalty.multiplier: must lie in") for p in found)


def test_allocation_and_ids_are_cross_checked() -> None:
    found = problems(
        GOOD.replace(
            "method: fixed, share_bp: 9000", "method: benchmark, benchmarks: {steel: '1.5'}"
        )
    )
    assert found == ["allocation.benchmarks: no benchmark for sectors ['power']"]
    found = problems(GOOD.replace("count: 2, cash_fen", "accounts: [F1], cash_fen"))
    assert found == ["agents: account id 'F1' is also used in firms"]


def test_not_yaml_and_not_a_mapping() -> None:
    assert problems("name: [unclosed\n")[0].startswith("line ")
    assert problems("- just a list\n") == ["(top level): expected a mapping of fields"]
    assert "calendar: required field is missing" in problems(
        "name: x\nmarket: {reference_price_fen: 1}\nallocation: {method: fixed, share_bp: 1}\n"
    )


def test_unknown_scenario_name() -> None:
    with pytest.raises(ScenarioError, match="no shipped scenario"):
        load_scenario("no_such_scenario")


def test_a_title_and_a_description_are_text_or_text_per_language() -> None:
    good = GOOD.replace("seed: 5", "seed: 5\ntitle: {en: Tiny, zh-CN: 小}\ndescription: Both.")
    spec = parse_scenario(good).spec
    assert text_in(spec.title, "zh-CN") == "小"
    assert text_in(spec.title, "en") == "Tiny"
    assert text_in(spec.description, "zh-CN") == text_in(spec.description, "en") == "Both."
    bad = GOOD.replace("seed: 5", "seed: 5\ntitle: {en: Tiny, fr: Petit}\ndescription: 5")
    assert problems(bad) == [
        "title: expected text, or text per language (zh-CN, en): {'en': 'Tiny', 'fr': 'Petit'}",
        "description: expected text, or text per language (zh-CN, en): 5",
    ]
