"""Rule sets shipped with carbonx, as data (TOML files beside this module).

Code reads rules from here; it does not hard-code them. A rule set is a plain nested mapping;
``load_ruleset`` applies per-market overrides by deep merge.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any


class UnknownRuleSetError(LookupError):
    """No rule set file of that name ships with carbonx."""


def available_rulesets() -> list[str]:
    files = resources.files(__name__)
    return sorted(p.name.removesuffix(".toml") for p in files.iterdir() if p.name.endswith(".toml"))


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_ruleset(name: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The rule set ``name`` (e.g. ``cn_national``) with ``overrides`` merged in."""
    if name not in available_rulesets():
        raise UnknownRuleSetError(f"no rule set {name!r}; shipped: {available_rulesets()}")
    text = resources.files(__name__).joinpath(f"{name}.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    return _merge(data, overrides or {})
