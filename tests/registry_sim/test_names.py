"""Display names of units from the rule set's ``[names]`` (docs/rules.md, names): an allowance
is its kind's name in the market and its vintage; an offset adds its project's methodology,
province and id; a word the rule set does not know shows as the registry wrote it."""

from __future__ import annotations

import dataclasses

import pytest

from registry_sim import RuleSetError, load_rules
from registry_sim.names import unit_name, unit_parts
from registry_sim.rules import LANGUAGES
from tests.registry_sim.conftest import GD_PH, HB_SOLAR, OLD, Reg, ccer, make_project

NATIONAL = load_rules("cn_national").names


def test_a_code_splits_into_kind_project_and_vintage() -> None:
    assert unit_parts("CEA2025") == ("CEA", None, 2025)
    assert unit_parts("CCER:FOR-HB-01:2025") == ("CCER", "FOR-HB-01", 2025)
    assert unit_parts("PHCER:GD:PH:2024") == ("PHCER", "GD:PH", 2024)
    assert unit_parts("CEA") is None
    assert unit_parts("cea2025") is None


def test_an_allowance_is_named_by_its_market() -> None:
    assert unit_name(NATIONAL, "CEA2025", None) == {
        "zh-CN": "全国碳排放配额 2025",
        "en": "CEA 2025",
    }
    eu = load_rules("eu_ets").names
    assert unit_name(eu, "CEA2025", None) == {"zh-CN": "欧盟碳排放配额 2025", "en": "EUA 2025"}
    guangdong = load_rules("guangdong_pilot").names
    assert unit_name(guangdong, "CEA2024", None)["zh-CN"] == "广东省碳排放配额 2024"


def test_an_offset_is_named_by_its_project() -> None:
    forestry = make_project(
        "FOR-HB-01", "Hubei", OLD.registration_date, methodology="forestry_sink"
    )
    assert unit_name(NATIONAL, "CCER:FOR-HB-01:2025", forestry) == {
        "zh-CN": "CCER 林业碳汇 湖北 FOR-HB-01 2025",
        "en": "CCER forestry Hubei FOR-HB-01 2025",
    }
    # Without the project (not registered in this market): its id and vintage only.
    assert unit_name(NATIONAL, "CCER:FOR-HB-01:2025", None) == dict.fromkeys(
        LANGUAGES, "CCER FOR-HB-01 2025"
    )


def test_california_quebec_names_a_cca_and_an_arboc() -> None:
    ca = load_rules("ca_qc").names
    assert unit_name(ca, "CEA2026", None) == {"zh-CN": "加州碳配额 2026", "en": "CCA 2026"}
    forest = make_project("CAFR-01", "California", OLD.registration_date, methodology="us_forest")
    assert unit_name(ca, "CCER:CAFR-01:2025", forest) == {
        "zh-CN": "加州合规抵消信用 美国森林 加利福尼亚 CAFR-01 2025",
        "en": "ARBOC U.S. forest California CAFR-01 2025",
    }


def test_unknown_words_show_as_written() -> None:
    odd = dataclasses.replace(HB_SOLAR, methodology="tidal_lagoon", province="Atlantis")
    assert unit_name(NATIONAL, "CCER:HB-SOLAR:2024", odd)["zh-CN"] == (
        "CCER tidal_lagoon Atlantis HB-SOLAR 2024"
    )
    assert unit_name(NATIONAL, "VER:X:2024", None)["en"] == "VER X 2024"
    assert unit_name(NATIONAL, "SOMETHING", None) == dict.fromkeys(LANGUAGES, "SOMETHING")


def test_a_market_may_rename_a_word() -> None:
    renamed = load_rules(
        "cn_national", {"names": {"kinds": {"CEA": {"zh-CN": "配额", "en": "Allowance"}}}}
    ).names
    assert unit_name(renamed, "CEA2026", None) == {"zh-CN": "配额 2026", "en": "Allowance 2026"}
    # The shared vocabulary stays under the override.
    assert renamed.provinces["Hubei"]["zh-CN"] == "湖北"


def test_every_rule_set_names_its_allowance_in_every_language() -> None:
    for name in ("ca_qc", "cn_national", "eu_ets", "guangdong_pilot"):
        names = load_rules(name).names
        assert set(names.kinds["CEA"]) == set(LANGUAGES)
        assert {"CCER", "PHCER"} <= set(names.kinds)


@pytest.mark.parametrize(
    ("overrides", "path", "reason"),
    [
        ({"kinds": {"CEA": {"zh-CN": "配额", "en": 5}}}, "names.kinds.CEA.en", "expected a name"),
        ({"kinds": {"CEA": {"zh-CN": "", "en": "x"}}}, "names.kinds.CEA.zh-CN", "expected a name"),
        ({"provinces": {"Hubei": "湖北"}}, "names.provinces.Hubei", "expected a table"),
        ({"methodologies": []}, "names.methodologies", "expected a table"),
    ],
)
def test_a_bad_name_is_refused_with_its_path(
    overrides: dict[str, object], path: str, reason: str
) -> None:
    with pytest.raises(RuleSetError) as info:
        load_rules("cn_national", {"names": overrides})
    assert info.value.path == path
    assert info.value.reason.startswith(reason)


def test_the_registry_names_its_units_with_their_projects() -> None:
    r = Reg("guangdong_pilot")
    r.projects([HB_SOLAR, GD_PH])
    registry = r.registry
    assert registry.unit_name(ccer(HB_SOLAR, 2024)) == {
        "zh-CN": "CCER 光热发电 湖北 HB-SOLAR 2024",
        "en": "CCER solar thermal Hubei HB-SOLAR 2024",
    }
    assert (
        registry.unit_name(ccer(GD_PH, 2024))["zh-CN"]
        == "碳普惠核证减排量 可再生能源 广东 GD-PH 2024"
    )
    # A code naming a registered project under another kind is not that project's.
    assert registry.unit_name("CCER:GD-PH:2024")["en"] == "CCER GD-PH 2024"
    assert registry.unit_name("CEA2025")["en"] == "GDEA 2025"
