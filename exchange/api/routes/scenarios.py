"""``listScenarios`` (any valid key): the scenarios that ship with carbonx, summed up for the
instructor's "new class" form (``exchange.classroom.scenarios``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter

from exchange.api.common import PROBLEMS
from exchange.api.deps import CurrentPrincipal
from exchange.api.models import Reply
from exchange.classroom.scenarios import shipped_summaries

router = APIRouter(prefix="/v1", tags=["scenarios"], responses=PROBLEMS)


class ScenarioSummary(Reply):
    name: str
    title: str  # in English; the name when the scenario has no title
    title_zh: str  # in Chinese (the English one when the scenario gives no Chinese title)
    description: str  # in English
    description_zh: str  # in Chinese (likewise)
    rule_set: str
    start: dt.date
    years: int
    trading_days_per_year: int  # the first compliance year's
    firms: int  # covered firms, listed and generated (firm_groups)
    bots: int  # the scenario's agents, the firms' own included
    seats_default: int  # the seats createClassMarket gives a class when none are asked for
    reference_price_fen: int  # the allowances' first reference price
    # Whether verification's true-up tops a gas-fired firm (or seat) up to its verified
    # emissions: a benchmark allocation under rules with the gas top-up.
    gas_fired_top_up: bool


class Scenarios(Reply):
    scenarios: list[ScenarioSummary]


@router.get("/scenarios", operation_id="listScenarios", response_model=Scenarios)
async def list_scenarios(who: CurrentPrincipal) -> dict[str, Any]:
    """The shipped scenarios a class can be made from (any valid key), by name."""
    return {"scenarios": shipped_summaries()}
