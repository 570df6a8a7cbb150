"""The scenarios that ship with carbonx (``scenarios/*.yaml``), summed up for the instructor's
"new class" form (``listScenarios``): what each is, under which rule set, how many firms and
bots, the seats a class gets by default, the trading days of a compliance year, and whether
verification tops a gas-fired seat up to its verified emissions (``gas_fired_top_up``).

Titles and descriptions come in English (``title``, ``description``) and Chinese
(``title_zh``, ``description_zh``); a scenario that gives one text for both, or one language
only, has the same text in both; one without a title is titled by its name.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from exchange.classroom.setup import default_seats, parse
from exchange.clock import trading_days
from exchange.compliance_year import tops_up_gas_fired
from exchange.sim.scenario import LoadedScenario, scenario_path, shipped_scenarios, text_in


def summary(loaded: LoadedScenario) -> dict[str, Any]:
    """One scenario as the form lists it. Without a cap on trading days a year has every
    trading day of the rule set's calendar from the scenario's start to 31 December."""
    spec = loaded.spec
    start = spec.calendar.start
    days = len(trading_days(loaded.rules.calendar, start, dt.date(start.year, 12, 31)))
    if spec.calendar.trading_days_per_year is not None:
        days = min(days, spec.calendar.trading_days_per_year)
    return {
        "name": loaded.name,
        "title": text_in(spec.title, "en") or loaded.name,
        "title_zh": text_in(spec.title, "zh-CN") or loaded.name,
        "description": text_in(spec.description, "en"),
        "description_zh": text_in(spec.description, "zh-CN"),
        "rule_set": spec.rules.name,
        "start": start,
        "years": spec.calendar.years,
        "trading_days_per_year": days,
        "firms": len(loaded.firms),
        "bots": len(loaded.agents),
        "seats_default": default_seats(loaded),
        "reference_price_fen": spec.market.reference_price_fen,
        "gas_fired_top_up": tops_up_gas_fired(loaded, loaded.rules.allocation),
    }


def shipped_summaries() -> list[dict[str, Any]]:
    """``summary`` of every shipped scenario, by name. The files are read each time, so an
    edited scenario is listed as it now reads; each text is parsed once."""
    texts = {name: scenario_path(name).read_text(encoding="utf-8") for name in shipped_scenarios()}
    return [_shipped_summary(name, text) for name, text in texts.items()]


@functools.lru_cache(maxsize=64)
def _shipped_summary(name: str, text: str) -> dict[str, Any]:
    """``summary`` of a shipped scenario's text, parsed once while the text is the same (a
    parse takes tens of milliseconds, on the event loop)."""
    return summary(parse(text, name))
