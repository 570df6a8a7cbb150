"""A new market's spec checked before it is created: its rule set with the overrides (JSON
made rule set data), its instruments' reference prices, and the problems that refuse it. For
``createMarket`` and for a class's market alike.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from exchange.api.errors import ApiError
from matching.instruments import RuleDataError, instrument_from_rules
from registry_sim.rules import RuleSet, RuleSetError, load_rules
from registry_sim.rulesets import available_rulesets, load_ruleset
from settlement.market import Market
from settlement.spec import MarketSpec

# Overrides come as JSON; a rule set is TOML data. Dates arrive as ISO text.
MAX_OVERRIDE_DEPTH = 8
MAX_OVERRIDE_VALUES = 1000
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def invalid_rules(rule_set: str, path: str, reason: str) -> ApiError:
    return ApiError(
        422,
        "INVALID_RULES",
        f"rule set {rule_set!r} with these overrides: {path}: {reason}",
        rule_set=rule_set,
        path=path,
        reason=reason,
    )


def rule_data(value: Any, rule_set: str, path: str = "overrides", depth: int = 0) -> Any:
    """JSON overrides as rule set data: ISO date text becomes a date (as in TOML); a number
    that is not whole is refused here, since no rule takes one and the journal stores none."""
    if depth > MAX_OVERRIDE_DEPTH:
        raise invalid_rules(rule_set, path, f"nested deeper than {MAX_OVERRIDE_DEPTH}")
    if isinstance(value, Mapping):
        return {k: rule_data(v, rule_set, f"{path}.{k}", depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [rule_data(v, rule_set, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
    if isinstance(value, str) and ISO_DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise invalid_rules(rule_set, path, f"not a date: {value!r}") from None
    if value is None or isinstance(value, bool | int | str):
        return value
    raise invalid_rules(rule_set, path, f"expected a whole number, text or true/false: {value!r}")


def rule_json(value: Any) -> Any:
    """Rule set data as JSON (``rule_data``'s inverse): a date becomes ISO text."""
    if isinstance(value, Mapping):
        return {str(k): rule_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rule_json(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def effective_rules(spec: MarketSpec) -> dict[str, Any]:
    """The market's rule set with its overrides merged in, as JSON: every value the market
    runs by (the shipped file's, or the override's where one is set)."""
    effective: dict[str, Any] = rule_json(load_ruleset(spec.rules, spec.overrides))
    return effective


def count_values(value: Any) -> int:
    if isinstance(value, Mapping):
        return 1 + sum(count_values(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(count_values(v) for v in value)
    return 1


def _data_error(error: RuleDataError) -> tuple[str, str]:
    """(path, reason) of matching's rule data error, whose message is ``path: reason``."""
    path, _, reason = str(error).partition(": ")
    return path, reason


def check_spec(spec: MarketSpec) -> RuleSet:
    """The spec's rule set, validated with its overrides and instruments, or the problem:
    ``UNKNOWN_RULE_SET``, ``INVALID_RULES`` (the field path and the reason), or
    ``INVALID_REQUEST`` for a reference price off the tick."""
    name = spec.rules
    if name not in available_rulesets():
        raise ApiError(
            422,
            "UNKNOWN_RULE_SET",
            f"no rule set {name!r} ships with carbonx",
            rule_set=name,
            available=available_rulesets(),
        )
    try:
        rules = load_rules(name, spec.overrides)
        instrument = instrument_from_rules("check", rules.trading)
    except RuleSetError as error:
        raise invalid_rules(name, error.path, error.reason) from None
    except RuleDataError as error:
        raise invalid_rules(name, *_data_error(error)) from None
    try:
        ZoneInfo(rules.calendar.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        reason = f"unknown time zone {rules.calendar.timezone!r}"
        raise invalid_rules(name, "timezone", reason) from None
    for i, (symbol, price_fen) in enumerate(spec.instruments):
        if price_fen % instrument.tick_fen:
            loc = ["body", "instruments", i, "reference_price_fen"]
            msg = f"{symbol}: {price_fen} is not a whole number of ticks of {instrument.tick_fen}"
            errors = [{"loc": loc, "msg": msg, "type": "off_tick"}]
            raise ApiError(422, "INVALID_REQUEST", msg, errors=errors)
    try:
        Market(spec, rules)  # everything else a market needs from its rules
    except (ValueError, TypeError, KeyError) as error:
        raise invalid_rules(name, "", str(error)) from None
    return rules


def not_a_trading_day(day: dt.date) -> ApiError:
    """The problem for a date the market's calendar does not trade on (as ``openDay``)."""
    return ApiError(
        409,
        "NOT_A_TRADING_DAY",
        "the calendar does not trade on that date",
        trading_day=day.isoformat(),
    )
