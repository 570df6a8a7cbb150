"""Cancel on disconnect, journaled: a WebSocket session that asked for it has its account's
orders cancelled when it ends, and when it dies with the process.

A session with ``cancel_on_disconnect`` is *armed* for an account (a participant's own at
``auth``; an operator's for each account it places an order for) before any order of it is
journaled: the guard ``(session, account, "armed")`` goes into the journal's open batch
(``MarketRuntime.note_guards``), so it is durable no later than the first order it guards.
When the socket closes, the session's ``CancelAll`` commands are submitted with the guards
``(session, account, "ended")``, journaled in the batch of the last of them: the cancels and
the end are durable together. A session that was armed and never ended died with its process
(a SIGKILL, a power cut, a market that stopped): ``cancel_dead`` at start-up, before any
request is served, cancels every open order of the accounts it guarded and ends it, in the
same way. The guards are rows of ``market_disconnect_guards`` (``exchange.db.tables``), beside
the journal's commands; replay does not need them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.db.disconnect_guards import ARMED, ENDED, armed_not_ended
from exchange.runtime import Ack, MarketRuntime, MarketStoppedError
from matching.events import OrderCancelled
from registry_sim.model import AccountId
from settlement.commands import CancelAll

log = logging.getLogger("carbonx.disconnects")


def new_session_id() -> str:
    """A session's id, unique across processes and restarts."""
    return uuid.uuid4().hex


async def arm(runtime: MarketRuntime, session_id: str, account: str) -> None:
    """Guard the account's orders by the session, and return once that is durable (a
    participant's session, before it is told ``cancel_on_disconnect: true``)."""
    await runtime.note_guards([(session_id, account, ARMED)])


def arm_before_order(runtime: MarketRuntime, session_id: str, account: str) -> None:
    """Guard the account's orders by the session, before an order for it is submitted: the
    guard is journaled in the same batch as the order or an earlier one, so nothing waits.
    A stopped market takes no order either: nothing to guard."""
    with contextlib.suppress(MarketStoppedError):
        runtime.note_guards([(session_id, account, ARMED)])


def end(
    runtime: MarketRuntime, session_id: str, accounts: Collection[str]
) -> asyncio.Future[list[Ack]] | None:
    """The session is over: cancel the accounts' open orders and end its guards, durable
    together. Queued even while the market reconnects to its database. None when the market
    is stopped: the guards stay armed, and the next start-up cancels (``cancel_dead``)."""
    if not accounts:
        return None
    ordered = sorted(accounts)
    try:
        return runtime.submit_many(
            [CancelAll(0, AccountId(account), None) for account in ordered],
            wait_for_database=True,
            guards=[(session_id, account, ENDED) for account in ordered],
        )
    except MarketStoppedError:
        return None


async def cancel_dead(
    runtime: MarketRuntime,
    url: str | AsyncEngine,
    *,
    connect_args: Mapping[str, Any] | None = None,
) -> int:
    """At start-up, before serving: cancel the open orders of every account a session that
    died guarded, and end those sessions. The number of orders cancelled."""
    dead = await armed_not_ended(url, runtime.market_id, connect_args=connect_args)
    if not dead:
        return 0
    accounts = sorted({account for _, account in dead})
    acks = await runtime.submit_many(
        [CancelAll(0, AccountId(account), None) for account in accounts],
        wait_for_database=True,
        guards=[(session, account, ENDED) for session, account in dead],
    )
    cancelled = sum(1 for ack in acks for e in ack.outcome.events if type(e) is OrderCancelled)
    log.warning(
        "market %s: %d sessions with cancel on disconnect died with the process: "
        "%d orders of %d accounts cancelled",
        runtime.market_id,
        len({session for session, _ in dead}),
        cancelled,
        len(accounts),
    )
    return cancelled
