"""What the market reports: the operator's large-holder reports (大户报告,
``listLargeHolderReports``: each account whose position rose above the rule set's reporting
threshold, once a day at most) and each account's daily statements (日结单,
``listStatements``: its own, or any for operators). Both are written to the journal's tables
with the command or day end that made them and read from there
(``exchange.db.statements``): what a read returns is durable.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query

from exchange.api.auth import may_see_account, require
from exchange.api.common import PROBLEMS, known_account
from exchange.api.deps import AccountPath, CurrentPrincipal, HubDep, MarketId, Runtime
from exchange.api.registry_common import ACCOUNT, M
from exchange.api.registry_models import LargeHolderReports, Statements
from exchange.db import statements
from exchange.keys import Role

router = APIRouter(prefix="/v1", tags=["reports"], responses=PROBLEMS)


@router.get(
    M + "/large-holder-reports",
    operation_id="listLargeHolderReports",
    response_model=LargeHolderReports,
)
async def list_large_holder_reports(
    hub: HubDep, market_id: MarketId, who: CurrentPrincipal, runtime: Runtime
) -> dict[str, Any]:
    """The market's large-holder reports, most recent first (operators only): the account,
    the trading day, its position and the threshold it passed."""
    require(who, Role.OPERATOR)
    reports = await statements.large_holder_reports(hub.engine, market_id)
    return {"market_id": market_id, "reports": reports}


@router.get(ACCOUNT + "/statements", operation_id="listStatements", response_model=Statements)
async def list_statements(
    hub: HubDep,
    market_id: MarketId,
    account_id: AccountPath,
    who: CurrentPrincipal,
    runtime: Runtime,
    start: Annotated[dt.date | None, Query(alias="from")] = None,
    end: Annotated[dt.date | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """The account's daily statements, one per cleared trading day from ``from`` to ``to``
    (both included, either open), oldest first (its own, or any for operators): cash, holdings
    by unit and state, the day's trades and fees."""
    may_see_account(who, account_id)
    account = known_account(runtime.market, account_id)
    found = await statements.account_statements(hub.engine, market_id, account, start, end)
    return {"account_id": account_id, "statements": found}
