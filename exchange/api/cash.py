"""Deposits and withdrawals (``deposit``, ``withdraw``), once per ``request_id``.

Settlement does not deduplicate cash refs, so the gateway does (``CashRequests``): the
command's ref carries a token of the request id, ``<client ref> rq:<token>`` (client refs have
no space), so after a restart the market's postings say which requests were done. A retry
answers 200 with the first answer; the same ``request_id`` for a different movement is
``REQUEST_ID_CONFLICT``. A movement without a request id is simply made.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.api.common import cash_view
from exchange.api.errors import ApiError, accepted
from exchange.api.hub import hub_of
from exchange.api.models import CashMovement
from exchange.db.postings import marked_cash_postings
from exchange.runtime import Ack, MarketRuntime
from registry_sim.model import AccountId
from settlement.commands import Deposit, Withdraw
from settlement.market import Market

REQUEST_MARK = " rq:"  # a command's ref: "<client ref> rq:<token>"
TOKEN_HEX = 32

CashCommand = type[Deposit] | type[Withdraw]


async def move_cash(
    request: Request,
    runtime: MarketRuntime,
    account: AccountId,
    body: CashMovement,
    command: CashCommand,
) -> tuple[dict[str, Any], bool]:
    """Deposit or withdraw (``CashMoved``): (the answer, whether it repeats an earlier one)."""
    if body.request_id is not None:
        return await cash_requests(request).move(request, runtime, account, body, command)
    ack = accepted(await runtime.submit(command(0, account, body.amount_fen, body.ref)))
    return _moved(account, ack.seq, body.amount_fen, body.ref, runtime.market), False


def _moved(
    account: AccountId,
    seq: int,
    amount_fen: int,
    ref: str,
    market: Market,
    cash: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The ``CashMoved`` reply; ``cash`` as it stood then, else as it stands now."""
    return {
        "account_id": account,
        "seq": seq,
        "amount_fen": amount_fen,
        "ref": ref,
        "cash": cash if cash is not None else cash_view(market, account),
    }


def request_token(request_id: str) -> str:
    """A fixed-length token of a request id, to fit the journal's ref columns."""
    return hashlib.sha256(request_id.encode()).hexdigest()[:TOKEN_HEX]


@dataclasses.dataclass(frozen=True, slots=True)
class CashDone:
    """A deposit or withdrawal made under a request id: what the first answer said."""

    kind: str
    amount_fen: int
    ref: str
    seq: int
    cash: dict[str, int] | None  # None when read back from the journal after a restart


CashEntry = asyncio.Future[CashDone | None]  # None: the attempt was refused; a retry may run


class CashRequests:
    """Deposits and withdrawals made under a ``request_id``, per market and account.

    The journal's postings say which requests were done before this process (read once per
    market); this process then keeps each request from the moment it is queued, so that a
    concurrent retry waits for the first one's answer.
    """

    def __init__(self) -> None:
        self._markets: dict[str, dict[tuple[str, str], CashEntry]] = {}
        self._loading = asyncio.Lock()

    async def move(
        self,
        request: Request,
        runtime: MarketRuntime,
        account: AccountId,
        body: CashMovement,
        command: CashCommand,
    ) -> tuple[dict[str, Any], bool]:
        """Deposit or withdraw once per request id: (the answer, whether it repeats one)."""
        assert body.request_id is not None
        known = await self._known(request, runtime.market_id)
        key = (account, request_token(body.request_id))
        kind = "deposit" if command is Deposit else "withdraw"
        while (pending := known.get(key)) is not None:
            done = await asyncio.shield(pending)
            if done is not None:
                return _cash_repeat(runtime.market, account, body, kind, done), True
        ref = f"{body.ref}{REQUEST_MARK}{key[1]}"
        queued = runtime.submit_nowait(command(0, account, body.amount_fen, ref))
        entry: CashEntry = asyncio.get_running_loop().create_future()
        known[key] = entry

        def settle(future: asyncio.Future[Ack]) -> None:
            # A callback, not code after an await: it runs even if this request goes away.
            ok = not future.cancelled() and future.exception() is None
            ack = future.result() if ok else None
            if ack is None or ack.outcome.code is not None:
                del known[key]
                entry.set_result(None)
                return
            cash = cash_view(runtime.market, account)
            entry.set_result(CashDone(kind, body.amount_fen, body.ref, ack.seq, cash))

        queued.add_done_callback(settle)
        accepted(await asyncio.shield(queued))
        done = await asyncio.shield(entry)
        assert done is not None
        return _cash_repeat(runtime.market, account, body, kind, done), False

    async def _known(self, request: Request, market_id: str) -> dict[tuple[str, str], CashEntry]:
        known = self._markets.get(market_id)
        if known is None:
            async with self._loading:
                known = self._markets.get(market_id)
                if known is None:
                    known = await _journaled_requests(hub_of(request).engine, market_id)
                    self._markets[market_id] = known
        return known


async def _journaled_requests(
    engine: AsyncEngine, market_id: str
) -> dict[tuple[str, str], CashEntry]:
    """The cash movements made under a request id, from the market's postings."""
    rows = await marked_cash_postings(engine, market_id, REQUEST_MARK)
    loop = asyncio.get_running_loop()
    known: dict[tuple[str, str], CashEntry] = {}
    for row in rows:
        kind, _, rest = row.ref.partition(":")
        ref, _, token = rest.rpartition(REQUEST_MARK)
        account = row.to_account if kind == "deposit" else row.from_account
        entry: CashEntry = loop.create_future()
        entry.set_result(CashDone(kind, row.amount, ref, row.seq, None))
        known[(account, token)] = entry
    return known


def _cash_repeat(
    market: Market, account: AccountId, body: CashMovement, kind: str, done: CashDone
) -> dict[str, Any]:
    """The answer to a request id already used: the first answer, or a conflict."""
    if (done.kind, done.amount_fen, done.ref) != (kind, body.amount_fen, body.ref):
        raise ApiError(
            409,
            "REQUEST_ID_CONFLICT",
            "this request_id was used for a different cash movement",
            request_id=body.request_id,
            operation=done.kind,
            amount_fen=done.amount_fen,
            ref=done.ref,
        )
    return _moved(account, done.seq, done.amount_fen, done.ref, market, done.cash)


def cash_requests(request: Request) -> CashRequests:
    """The app's ``CashRequests`` (made on first use)."""
    state = request.app.state
    if not hasattr(state, "cash_requests"):
        state.cash_requests = CashRequests()
    requests: CashRequests = state.cash_requests
    return requests
