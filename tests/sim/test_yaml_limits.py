"""YAML read within limits (``exchange.sim.yaml_limits``): what ``yaml.safe_load`` makes of
the text, or the first limit it passes, named, with its value and line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from exchange.sim.scenario import SCENARIO_DIR, SCENARIO_YAML_LIMITS
from exchange.sim.yaml_limits import YamlLimitError, YamlLimits, load_limited

LIMITS = YamlLimits(chars_max=10_000, aliases_max=5, depth_max=4, nodes_max=100)


def refused(text: str, limits: YamlLimits = LIMITS) -> YamlLimitError:
    with pytest.raises(YamlLimitError) as error:
        load_limited(text, limits)
    return error.value


def alias_bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


def test_within_the_limits_it_is_safe_load() -> None:
    text = "base: &b {tick: 1, lot: 1}\nfirst: *b\nsecond: [1, [2, [3]]]\n"
    assert load_limited(text, LIMITS) == yaml.safe_load(text)


@pytest.mark.parametrize("path", sorted(SCENARIO_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_the_shipped_scenarios_are_well_within(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert load_limited(text, SCENARIO_YAML_LIMITS) == yaml.safe_load(text)


def test_an_alias_bomb_is_refused_by_its_expanded_nodes() -> None:
    bomb = alias_bomb(9)  # 9**9 nodes in under 500 bytes
    error = refused(bomb, SCENARIO_YAML_LIMITS)
    assert (error.limit, error.limit_max) == ("nodes", SCENARIO_YAML_LIMITS.nodes_max)
    assert error.line == 6  # a5: 9**6 nodes, the first past 200,000
    assert str(error) == "line 6: more than 200000 nodes once its aliases are expanded"


def test_expanded_nodes_count_every_use_of_an_alias() -> None:
    # b is 11 nodes and c 1 + 5 * 11; with the keys and the mapping, 70 in all.
    text = "a: &b [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nc: [*b, *b, *b, *b, *b]\n"
    assert load_limited(text, YamlLimits(10_000, 100, 4, 70))["c"][4] == list(range(1, 11))
    error = refused(text, YamlLimits(10_000, 100, 4, 69))
    assert (error.limit, error.limit_max, error.line) == ("nodes", 69, 1)  # the whole mapping


def test_too_many_aliases() -> None:
    error = refused("a: &a 1\nb: [*a, *a, *a, *a, *a, *a]\n")
    assert (error.limit, error.limit_max, error.line) == ("aliases", 5, 2)


def test_nesting_deeper_than_the_limit() -> None:
    assert load_limited("a: [[[1]]]", LIMITS) == {"a": [[[1]]]}  # 4 deep with the mapping
    error = refused("a: [[[[1]]]]")
    assert (error.limit, error.limit_max, error.line) == ("depth", 4, 1)


def test_thousands_deep_is_refused_not_a_recursion_error() -> None:
    error = refused("[" * 50_000 + "]" * 50_000, YamlLimits(200_000, 5, 64, 1_000))
    assert error.limit == "depth"


def test_an_alias_inside_what_it_names() -> None:
    error = refused("a: &a [1, *a]\n")
    assert (error.limit, error.line) == ("cycle", 1)


def test_too_many_characters() -> None:
    error = refused("x" * 10_001)
    assert (error.limit, error.limit_max, error.line) == ("chars", 10_000, None)
    assert str(error) == "yaml: 10001 characters, over 10000"


def test_a_syntax_error_is_still_yamls() -> None:
    with pytest.raises(yaml.YAMLError):
        load_limited("a: [1, 2\n", LIMITS)
    with pytest.raises(yaml.YAMLError):
        load_limited("a: *undefined\n", LIMITS)
