"""Reads of an account's daily statements (日结单, ``market_statements``: one per trading
account and cleared trading day, written by day-end clearing) and what is computed from them:
the account's net allowance sales over a period, for the old-vintage conversion cap
(docs/rules.md, national: compliance); and of the market's large-holder reports (大户报告,
``market_large_holder_reports``: one per account whose position rose above the reporting
threshold, at most once a day).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.db import tables as t

STATEMENTS_MAX = 400  # statements one read answers at most (more than a year of trading days)


async def account_statements(
    engine: AsyncEngine,
    market_id: str,
    account_id: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int = STATEMENTS_MAX,
) -> list[dict[str, Any]]:
    """The account's statements from ``start`` to ``end`` (both included, either open), oldest
    first, at most ``limit``: each ``{"trading_day": ..., **body}``."""
    c = t.market_statements.c
    query = select(c.trading_day, c.body).where(
        c.market_id == market_id, c.account_id == account_id
    )
    if start is not None:
        query = query.where(c.trading_day >= start.isoformat())
    if end is not None:
        query = query.where(c.trading_day <= end.isoformat())
    query = query.order_by(c.trading_day).limit(limit)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [{"trading_day": row.trading_day, **json.loads(row.body)} for row in rows]


async def net_sales_t(
    engine: AsyncEngine,
    market_id: str,
    account_id: str,
    start: dt.date,
    end: dt.date,
    symbols: Collection[str],
) -> tuple[int, int]:
    """(net sales, cleared trading days read): the tonnes of ``symbols`` (the allowances) the
    account sold less those it bought on the cleared trading days from ``start`` to ``end``,
    as its statements give them."""
    statements = await account_statements(engine, market_id, account_id, start, end, limit=10**6)
    net = 0
    for statement in statements:
        for symbol, day in statement["trades"].items():
            if symbol in symbols:
                net += int(day["sold_t"]) - int(day["bought_t"])
    return net, len(statements)


async def large_holder_reports(
    engine: AsyncEngine, market_id: str, limit: int = STATEMENTS_MAX
) -> list[dict[str, Any]]:
    """The market's large-holder reports (大户报告), most recent first, at most ``limit``."""
    c = t.market_large_holder_reports.c
    query = (
        select(c.seq, c.account_id, c.trading_day, c.position_t, c.threshold_t)
        .where(c.market_id == market_id)
        .order_by(c.seq.desc(), c.account_id)
        .limit(limit)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [row._asdict() for row in rows]
