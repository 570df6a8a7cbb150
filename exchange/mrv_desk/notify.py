"""Who is told of the MRV desk's changes, and what they are told.

The desk's state lives in the database, outside any market's journal, so its changes reach the
WebSocket channel ``mrv`` the way an announcement does: once a change is committed, the service
(``exchange.mrv_desk.service``) calls ``tell``, which hands a message to each listener of the
engine (the gateway's hub registers one per database: ``listeners(engine).append``). The desk
knows nothing of who listens; a listener never waits and a failing one does not undo or fail
the change. The messages:

* ``mrv_month``: ``event`` (``saved``, ``deposited``, ``passed``, ``returned``, ``locked``),
  ``account_id``, ``year``, ``month``, ``state``, ``flags`` (the rule ids of the last deposit's
  flags);
* ``mrv_finding``: a verifier's finding, ``account_id``, ``year``, ``month``, ``state`` and the
  ``finding`` as ``addMrvFinding`` answers it;
* ``mrv_report``: ``event`` (``signed``, ``returned``, ``objected``, ``decided``,
  ``published``), ``account_id``, ``year``, ``state``, ``verified_t``, ``objection`` (its
  status: ``open``, ``upheld``, ``dismissed``; null without one).

``board`` is the state those messages move, read from the database: a channel's first message.
"""

from __future__ import annotations

import json
import logging
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.db import tables as t
from exchange.mrv_desk import store

log = logging.getLogger("carbonx.mrv")

Message = dict[str, Any]
Listener = Callable[[str, Message], None]  # (market_id, message)

_listeners: weakref.WeakKeyDictionary[AsyncEngine, list[Listener]] = weakref.WeakKeyDictionary()


def listeners(engine: AsyncEngine) -> list[Listener]:
    """The listeners told of the changes made through ``engine``."""
    found = _listeners.get(engine)
    if found is None:
        found = _listeners[engine] = []
    return found


def tell(engine: AsyncEngine, market_id: str, message: Message) -> None:
    """Tell every listener of a committed change; a listener's failure is logged, never
    raised: the change stands."""
    for listener in list(_listeners.get(engine, ())):
        try:
            listener(market_id, message)
        except Exception:
            log.exception("an MRV listener failed on %s", message.get("type"))


def rule_ids(flags: list[dict[str, Any]]) -> list[str]:
    return [str(f["rule_id"]) for f in flags]


def month_message(row: store.MonthRow, event: str) -> Message:
    return {
        "type": "mrv_month",
        "event": event,
        "account_id": row.account_id,
        "year": row.year,
        "month": row.month,
        "state": row.state,
        "flags": rule_ids(row.flags),
    }


def finding_message(row: store.MonthRow, finding: dict[str, Any]) -> Message:
    return {
        "type": "mrv_finding",
        "account_id": row.account_id,
        "year": row.year,
        "month": row.month,
        "state": row.state,
        "finding": finding,
    }


def report_message(row: store.ReportRow, event: str) -> Message:
    objection = row.body.get("objection")
    return {
        "type": "mrv_report",
        "event": event,
        "account_id": row.account_id,
        "year": row.year,
        "state": row.state,
        "verified_t": row.verified_t,
        "objection": None if objection is None else objection["status"],
    }


async def locked(engine: AsyncEngine, market_id: str, account_id: str, year: int) -> None:
    """Tell of the year's months a publication locked (``store.save_report``)."""
    if not _listeners.get(engine):
        return
    for row in await store.months(engine, market_id, account_id, (year,)):
        if row.state == "locked":
            tell(engine, market_id, month_message(row, "locked"))


async def board(engine: AsyncEngine, market_id: str, accounts: list[str] | None) -> Message:
    """The months' and reports' states of ``accounts`` (None: every account), every year:
    ``{"months": [{"account_id", "year", "month", "state", "flags"}], "reports":
    [{"account_id", "year", "state", "verified_t", "objection"}]}``, in order."""
    m, r = t.mrv_months.c, t.mrv_reports.c
    months = select(m.account_id, m.year, m.month, m.state, m.flags).where(m.market_id == market_id)
    reports = select(r.account_id, r.year, r.state, r.verified_t, r.body).where(
        r.market_id == market_id
    )
    if accounts is not None:
        months = months.where(m.account_id.in_(accounts))
        reports = reports.where(r.account_id.in_(accounts))
    async with engine.connect() as conn:
        month_rows = (await conn.execute(months.order_by(m.account_id, m.year, m.month))).all()
        report_rows = (await conn.execute(reports.order_by(r.account_id, r.year))).all()
    return {
        "months": [
            {
                "account_id": row.account_id,
                "year": row.year,
                "month": row.month,
                "state": row.state,
                "flags": rule_ids(json.loads(row.flags)),
            }
            for row in month_rows
        ],
        "reports": [
            {
                "account_id": row.account_id,
                "year": row.year,
                "state": row.state,
                "verified_t": row.verified_t,
                "objection": (json.loads(row.body).get("objection") or {}).get("status"),
            }
            for row in report_rows
        ],
    }
