"""Rule sets shipped with carbonx, as data (TOML files beside this module).

Code reads rules from here; it does not hard-code them. A rule set is a plain nested mapping;
``load_ruleset`` applies per-market overrides by deep merge. The shared vocabulary
(``vocabulary/names.toml``: the words for methodologies and provinces) lies under every rule set,
which may override a word.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any


class UnknownRuleSetError(LookupError):
    """No rule set file of that name ships with carbonx."""


class UnknownRuleError(KeyError):
    """An override names a field that no shipped rule set has (a typo, most likely)."""

    def __init__(self, name: str, path: str) -> None:
        super().__init__(f"rule set {name!r}: {path}: unknown field")
        self.ruleset = name
        self.path = path
        self.reason = "unknown field"

    def __str__(self) -> str:
        return str(self.args[0])


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
    if overrides:
        _check_known(name, overrides, _known_fields(), "")
    return _merge(_read(name), overrides or {})


def _read(name: str) -> dict[str, Any]:
    text = resources.files(__name__).joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return _merge(copy.deepcopy(_vocabulary()), tomllib.loads(text))


@cache
def _vocabulary() -> dict[str, Any]:
    """The shared words every rule set reads (read once, handed out as copies)."""
    path = resources.files(__name__).joinpath("vocabulary", "names.toml")
    return tomllib.loads(path.read_text(encoding="utf-8"))


@cache
def _known_fields() -> dict[str, Any]:
    """Every field any shipped rule set has, as one tree: an override may set a field its own
    rule set leaves out (a [limits] table for the EU ETS), but not one carbonx doesn't know.
    Read once per process (the shipped files do not change); only read, never handed out."""
    known: dict[str, Any] = {}
    for name in available_rulesets():
        known = _merge(known, _read(name))
    return known


def _check_known(
    name: str, overrides: Mapping[str, Any], known: Mapping[str, Any], at: str
) -> None:
    for key, value in overrides.items():
        path = f"{at}.{key}" if at else str(key)
        if key not in known:
            raise UnknownRuleError(name, path)
        if isinstance(value, Mapping) and isinstance(known[key], Mapping):
            _check_known(name, value, known[key], path)
