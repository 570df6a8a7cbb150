"""``WebSocket /v1/ws``: market data, own account feeds and order entry. This docstring is the
protocol's reference (docs/api-ws.md has examples).

**Auth.** The first message is ``{"op": "auth", "market_id": "demo", "key": "cx_...",
"cancel_on_disconnect": false}``, or the key comes on the URL (``?key=&market_id=
&cancel_on_disconnect=1``). It is answered ``{"type": "authed", "role", "account_id",
"cancel_on_disconnect"}``; a bad key ``{"type": "error", "code": "UNAUTHENTICATED"}`` and a
close with 4401 (4403: the key's market is another, 4404: the market is not hosted here,
4429: ``RATE_LIMITED``, the key's bucket has no token for the ``auth`` (below) or the client's
address failed too many key lookups, as on REST: ``exchange.api.auth``; 1013:
``DATABASE_UNAVAILABLE``, the key had to be looked up while the database cannot be reached).

**Revocation.** The key is checked once, at auth; when it is revoked later (``revokeKey``, or
``issueSeatKeys`` for the seats' old keys), every socket open with it stops at once: its
channels send nothing more, what is queued is not sent, what it sends is not acted on, and it
gets ``{"type": "error", "code": "UNAUTHENTICATED", "detail": "the API key was revoked"}`` and a
close with 4401 "key revoked" (``exchange.api.open_sockets``). Orders it placed stay, unless it
asked for cancel on disconnect.

**Messages.** Every server message carries ``seq``: 1, 2, 3, ... per connection, without gaps;
those that come from a command carry its journal sequence number ``market_seq``. Client
messages are JSON objects with an ``op``, in text frames; a message that is not one (a binary
frame, bad JSON, nesting deeper than the parser takes, no or unknown ``op``, a ``req_id`` that
is not a string of at most 64 characters or an integer) is answered ``{"type": "error", "code":
"INVALID_MESSAGE", "detail"}`` and the connection stays open.

**Rate limit.** Every message (``auth``, ``ping`` and malformed ones included; a ``batch`` one
per op) takes a token from the key's bucket, the one its REST requests take from
(``exchange.api.ratelimit``). A message that finds none is not acted on: it is answered
``RATE_LIMITED`` with ``limit_per_s``, ``burst`` and ``retry_after_s`` (an order op's or a
batch's as its ``reply``, any other as an ``error`` with its ``req_id``), and the server reads
nothing more from the socket until the bucket holds a token again: a client that floods is
paced at its key's rate (what it sends beyond waits in its own buffers), every other message of
the flood that is read finds the bucket empty and is refused, and other clients do not wait
for it. An ``auth`` that finds no token is refused (``RATE_LIMITED``) and closed with 4429.

**Subscriptions.** ``{"op": "subscribe" | "unsubscribe", "channel": ..., "req_id"?}``, answered
``{"type": "subscribed" | "unsubscribed", "channel"}`` or ``{"type": "error", "code",
"channel"}`` (``INVALID_REQUEST``: no such channel; ``UNKNOWN_INSTRUMENT``; ``FORBIDDEN``).
Public channels:

* ``trades``: every trade (no account ids), each a ``trade`` message with the ``commit_ns``
  (wall-clock ns) of the commit that made it durable; with ``"batch": true`` a ``trades``
  message per commit instead, ``"trades": [...]`` holding that commit's ``trade`` messages
  (without ``seq``), plus any later commit's while it is still queued;
* ``announcements``: each new instructor announcement, ``{"type": "announcement", "id",
  "ts_ns", "text", "level"}`` (``postAnnouncement``; no ``market_seq``);
* ``auctions``: first an ``auction_board`` (``listAuctions``' reply as an observer sees it),
  then each ``auction`` step: ``event`` ``published`` with the ``notice`` (its terms, the
  reserve price included), ``cleared`` or ``cancelled`` with the ``result``'s published
  figures (no awards: a bidder reads its own with ``listAuctionResults``). Bids are sealed:
  none is told (a participant bids on the socket with the bid ops below);
* ``book:<symbol>`` (option ``"depth"``: 1-50 levels, default 5): a ``book_snapshot`` of that
  many levels a side (``bids``, ``asks``: ``price_fen``, ``qty_t``, ``order_count``, best
  first), then after each command that changed those levels a ``book_delta`` (``depth``,
  ``bids``, ``asks``) with every level whose place in the view changed: set the levels it
  gives, remove those with ``qty_t`` 0 (gone, or pushed below the depth). A level that comes
  into the depth as better ones go is sent too, so the view is ``getBook`` at that depth as of
  the delta's ``market_seq`` (``exchange.api.book_feed``). Deltas with ``market_seq`` at or
  below the snapshot's are in it already; subscribing again (another depth) sends a new
  snapshot;
* ``ticker:<symbol>``: a ``ticker`` now and after every trade: the trade (``trade_id``,
  ``last_price_fen``, ``last_qty_t``, ``ts_ns``), the day's ``open_fen``, ``high_fen``,
  ``low_fen``, ``volume_t``, and the best bid and ask after the command that traded;
* ``bars:<symbol>:1m``: the current one-minute bar of market time (``start_ts_ns``, OHLC,
  ``volume_t``, ``trade_count``), now if there is one and after every trade; a trade in a
  later minute starts a bar with a new ``start_ts_ns``.

Private channels: a participant's own account; an operator names one, as ``"account_id"`` or
as ``<channel>:<account_id>`` (observers have none; another participant's account is
``FORBIDDEN``):

* ``orders``: the account's order events (``accepted``, ``cancelled``, ``amended``,
  ``reduced``) and its side of each fill;
* ``fills``: the account's side of each trade: ``mode`` (``listed``; ``block`` for a block
  deal, below), ``trade_id``, ``order_id``, ``price_fen``, ``qty_t``, ``leaves_t``,
  ``fee_fen``;
* ``balances``: a snapshot now, then after every command that moved the account's cash or
  units: ``cash`` (``available_fen``, ``held_fen``) and ``units`` by state;
* ``compliance`` (option ``"year"``, default the compliance year still open on the trading
  day): the position now, then after each emissions report, surrender, withdrawal of a
  surrender or assessment of the account (for that operation's year);
* ``statements``: the account's daily statement (``listStatements``' items) as each day ends.

The MRV desk: ``mrv``, each key the accounts ``listMrvMonths`` lets it read (a participant
its own, a verifier those assigned to it when each change is told, operators all; observers
``FORBIDDEN``): first an ``mrv_board`` (``account_ids``, every ``months`` item's ``state`` and
``flags`` rule ids, every ``reports`` item's ``state``, ``verified_t``, ``objection``), read
once the subscription is on (changes told meanwhile follow it); then each committed change
(``exchange.mrv_desk.notify``), without ``market_seq``: ``mrv_month`` (``event`` ``saved``,
``deposited``, ``passed``, ``returned``, ``locked``; ``account_id``, ``year``, ``month``,
``state``, ``flags``), ``mrv_finding`` (``month``, ``state``, ``finding``), ``mrv_report``
(``event`` ``signed``, ``returned``, ``objected``, ``decided``, ``published``; ``state``,
``verified_t``, ``objection``).

Operators only: ``large_holders``, each large-holder report as it is made (the
``listLargeHolderReports`` items, ``type`` ``large_holder_report``, their ``seq`` as
``market_seq``).

Block agreement trades: ``block``, each key its own view (``exchange.api.block``): first a
``block_board`` (``listBlockQuotes``' reply, and a participant's open ``negotiations`` as
``listBlockNegotiations`` has them) as of its ``market_seq`` (messages at or below it are in it
already); then each board change, a ``block_quote`` with its ``event`` (``posted``,
``cancelled``, ``dealt``, ``done``, ``closed``, ``expired``) and the ``quote`` as that key sees
it, to every key that sees the quote (a public one: all; a directed one: its two parties and
operators); each negotiation step, a ``block_negotiation`` (``opened``, ``countered``,
``ended``, ``expired``, ``dealt``) with the ``negotiation`` as each party sees it, to its two
parties only; each deal, a ``block_deal`` (``listBlockDeals``' item) to its buyer and seller.
Each side of a deal is also told on its ``fills`` and ``orders`` channels as a ``fill`` with
``mode`` ``block`` (``deal_id``, ``quote_id``, ``negotiation_id``; no order), and its
``balances`` move as for a listed fill. The ``trades`` channel carries listed trades only.
A participant deals on the socket as on REST with the block ops below.

**Order entry.** ``place`` (the ``placeOrder`` body), ``cancel`` (``order_id``), ``amend``
(``order_id``, ``price_fen``?, ``qty_t``?), ``cancel_all`` (``symbol``?), ``take`` (the
``takeQuote`` body with the quote's ``order_id``; answered as ``place``), each with a
client-chosen ``req_id`` and, for operators, the ``account_id`` to act for. Block ops, a
participant's own (as their REST operations: operators and observers are ``FORBIDDEN``):
``block_post`` (the ``postBlockQuote`` body), ``block_cancel`` (``quote_id``), ``block_accept``
(``quote_id``, ``qty_t``?), ``block_open`` (``quote_id``, ``price_fen``, ``qty_t``),
``block_counter``, ``block_confirm`` (``negotiation_id``, ``price_fen``, ``qty_t``) and
``block_end`` (``negotiation_id``), answered with their REST replies; auction bid ops, the
same way: ``bid_submit`` (``auction_id``, ``price_fen``, ``qty_t``: ``submitBid``),
``bid_amend`` (``bid_id``, ``price_fen``, ``qty_t``: ``amendBid``) and ``bid_withdraw``
(``bid_id``: ``withdrawBid``). They validate, refuse and answer like REST
(``exchange.api.orders``), idempotent ``client_order_id`` included, and are answered once
durable: ``{"type": "reply", "req_id", "ok": true, "result"}``
or ``{"type": "reply", "req_id", "ok": false, "error": {"code", "detail", ...numbers}}``. Ops
are pipelined: a client may send many without waiting; replies come as commands commit (in
journal order), each with its ``req_id``. ``{"op": "batch", "req_id", "ops": [...]}`` carries up
to 100 order ops (each as above, without ``req_id``): each is validated alone, the valid ones
are journaled consecutively, and one reply comes when all are durable: ``{"type": "reply",
"req_id", "ok": true, "results": [{"ok": true, "result"} | {"ok": false, "error"}, ...]}`` in
the ops' order (a bad ``ops`` list: ``ok: false``, ``INVALID_REQUEST`` with ``max_ops``).
``{"op": "ping", "req_id"?}`` is answered ``pong``.

**Cancel on disconnect.** With ``cancel_on_disconnect``, when the socket closes for any reason
the server cancels every open order of the participant's account (an operator's: of each
account it placed orders for on this socket), as ``cancelAllOrders`` would. It is journaled
(``exchange.disconnects``): ``authed`` answers once the participant's registration is durable,
and if the server dies with the socket open, its restart cancels those orders before it serves.

**Flow.** Market data is published after the commit (durable before market data). Each
connection has a bounded queue (``CARBONX_WS_QUEUE_SIZE``); tickers and bars are conflated while
queued (a newer one replaces the unsent one), and a symbol's book deltas merge into one (each
level's newest value, the newest ``market_seq``: still the view as of that seq) (see
``exchange.api.ws_queue``). When the queue is full anyway the connection is dropped: it is sent
``{"type": "dropped", "reason": "slow consumer"}`` and closed with 4008. After ``heartbeat_s``
without a message the server sends ``{"type": "heartbeat"}``.

**Close codes.** 1000 normal; 4008 slow consumer; 4401 a bad key at auth, or the key revoked
("key revoked"); 4403 the key's market is another; 4404 the market is not hosted here; 4429
rate limited at auth; 1013 the database away at auth (try again later).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.websockets import WebSocketState

from exchange import disconnects
from exchange.api import auction, block, orders
from exchange.api.auction_models import NewBid
from exchange.api.auth import trading_account
from exchange.api.block_models import BlockAcceptance, BlockTerms, NewBlockQuote
from exchange.api.errors import ApiError, unavailable
from exchange.api.feed import (
    BLOCK,
    MRV,
    MRV_OPERATOR,
    MRV_VERIFIER,
    AccountState,
    Connection,
    Ending,
    Feed,
    Message,
    SymbolState,
    bar_start_ns,
    block_key,
    block_viewer,
    compliance_message,
    current_compliance_year,
    encode,
    is_mrv,
)
from exchange.api.hub import hub_of
from exchange.api.models import Body, NewOrder, OrderAmendment, Symbol, TakeRequest
from exchange.api.ratelimit import RateLimiter
from exchange.api.ws_auth import (
    CLOSE_SLOW_CONSUMER,
    CLOSE_UNAUTHENTICATED,
    REVOKED_REASON,
    Authed,
    RefusedError,
    authenticate,
    parse,
    receive,
    refuse,
    still_valid,
)
from exchange.api.ws_auth import error_message as _error
from exchange.db.trade_tape import last_minute_trades
from exchange.keys import Principal, Role
from exchange.mrv_desk import notify as mrv_notify
from exchange.mrv_desk import store as mrv_store
from exchange.runtime import Ack, MarketRuntime, MarketStoppedError
from registry_sim.model import AccountId
from settlement.commands import MarketCommand
from settlement.market import Market

__all__ = ["Connection", "Feed", "router"]

log = logging.getLogger("carbonx.api.ws")

router = APIRouter()

DROP_GRACE_S = 5.0  # a dropped reader has this long to take its "dropped" before we leave
TOKEN_MARGIN_S = 0.001  # a refused socket sleeps this beyond its token: a timer may wake early
BOOK_DEPTH = 5
MAX_BOOK_DEPTH = 50
MAX_REQ_ID_CHARS = 64
PRIVATE_CHANNELS = ("orders", "fills", "balances", "compliance", "statements")
BLOCK_OPS = (
    "block_post",
    "block_cancel",
    "block_accept",
    "block_open",
    "block_counter",
    "block_confirm",
    "block_end",
)
BID_OPS = ("bid_submit", "bid_amend", "bid_withdraw")
OWN_OPS = (*BLOCK_OPS, *BID_OPS)  # a participant's own account only, as on REST
ORDER_OPS = ("place", "cancel", "amend", "cancel_all", "take", *OWN_OPS)
MAX_BATCH_OPS = 100  # order ops in one batch message


class _CancelBody(Body):
    order_id: Annotated[int, Field(ge=1, le=2**63 - 1)]


class _AmendBody(OrderAmendment):
    order_id: Annotated[int, Field(ge=1, le=2**63 - 1)]


class _TakeBody(TakeRequest):
    order_id: Annotated[int, Field(ge=1, le=2**63 - 1)]  # the quote's


class _CancelAllBody(Body):
    symbol: Symbol | None = None


_Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class _BlockQuoteRef(Body):
    quote_id: _Id


class _BlockAccept(BlockAcceptance):
    quote_id: _Id


class _BlockOpen(BlockTerms):
    quote_id: _Id


class _BlockStep(BlockTerms):
    negotiation_id: _Id


class _BlockEnd(Body):
    negotiation_id: _Id


class _BidSubmit(NewBid):
    auction_id: _Id


class _BidAmend(NewBid):
    bid_id: _Id


class _BidRef(Body):
    bid_id: _Id


def _invalid(error: ValidationError) -> ApiError:
    errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()]
    return ApiError(422, "INVALID_REQUEST", "the request does not match the schema", errors=errors)


# ---------------------------------------------------------------------- the socket


@router.websocket("/v1/ws")
async def websocket_feed(websocket: WebSocket) -> None:
    await websocket.accept()
    hub = hub_of(websocket)
    try:
        authed, key = await authenticate(websocket, hub)
    except RefusedError as refused:
        await refuse(websocket, refused)
        return
    except WebSocketDisconnect:
        return
    session = _Session(websocket, authed, hub.feed)
    hub.sockets.add(authed.key_hash, authed.key_market_id, session)
    try:
        if not await still_valid(hub, authed, key):  # revoked while it was looked up
            message = _error("UNAUTHENTICATED", "unknown or revoked API key")
            await refuse(websocket, RefusedError(message, CLOSE_UNAUTHENTICATED))
            return
        del key
        await session.run()
    finally:
        hub.sockets.remove(authed.key_hash, session)


async def _send_loop(websocket: WebSocket, connection: Connection, heartbeat_s: float) -> None:
    seq = 0
    queue = connection.queue
    while True:
        try:  # a waiting message needs no timer (wait_for's costs a task a message)
            item = queue.get_nowait()
        except asyncio.QueueEmpty:
            try:
                item = await asyncio.wait_for(queue.get(), heartbeat_s)
            except TimeoutError:
                item = {"type": "heartbeat"}
        message = connection.take(item)
        seq += 1
        if connection.dropped:
            await websocket.send_json({"type": "dropped", "reason": "slow consumer", "seq": seq})
            await websocket.close(CLOSE_SLOW_CONSUMER)
            return
        await websocket.send_text(encode(message, seq))
        if type(message) is Ending:
            await websocket.close(message.code, message.reason)
            return


async def _stop_watch(connection: Connection) -> None:
    """Ends ``DROP_GRACE_S`` after a drop or an end: a reader that never reads again is let
    go."""
    await connection.stopped_event.wait()
    await asyncio.sleep(DROP_GRACE_S)


class _Session:
    """One authenticated connection: its receive loop, its ops, and what it leaves behind."""

    def __init__(self, websocket: WebSocket, authed: Authed, feed: Feed) -> None:
        who = authed.who
        self.websocket = websocket
        self.who = who
        self.runtime = authed.runtime
        self.feed = feed
        self.market_feed = feed.market(who.market_id)
        self.limiter: RateLimiter = websocket.app.state.limiter
        self.connection = Connection(who, feed.queue_size)
        self.cancel_on_disconnect = authed.cancel_on_disconnect
        self.traded_for: set[AccountId] = set()  # accounts an operator placed orders for
        self.session_id = disconnects.new_session_id()

    async def run(self) -> None:
        who, connection = self.who, self.connection
        if self.cancel_on_disconnect and who.account_id is not None:
            try:  # durable before the client is told so
                await disconnects.arm(self.runtime, self.session_id, who.account_id)
            except MarketStoppedError:
                self.cancel_on_disconnect = False  # a stopped market takes no order either
        connection.push(
            {
                "type": "authed",
                "role": who.role.value,
                "account_id": who.account_id,
                "cancel_on_disconnect": self.cancel_on_disconnect,
            }
        )
        tasks = (
            asyncio.create_task(_send_loop(self.websocket, connection, self.feed.heartbeat_s)),
            asyncio.create_task(self._receive_loop()),
            asyncio.create_task(_stop_watch(connection)),
        )
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.feed.forget(connection)
            self._cancel_orders_left()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.websocket.application_state is WebSocketState.CONNECTED:
                code, reason = 1000, None
                if connection.dropped:
                    code = CLOSE_SLOW_CONSUMER
                elif connection.ending is not None:
                    code, reason = connection.ending.code, connection.ending.reason
                with contextlib.suppress(Exception):
                    await self.websocket.close(code, reason)

    def revoke(self) -> None:
        """Its key was revoked (``exchange.api.open_sockets``): its channels stop now, what is
        queued is not sent, and the socket is closed after one last error."""
        self.feed.forget(self.connection)
        message = _error("UNAUTHENTICATED", "the API key was revoked")
        self.connection.end(message, CLOSE_UNAUTHENTICATED, REVOKED_REASON, discard=True)

    def _cancel_orders_left(self) -> None:
        if not self.cancel_on_disconnect:
            return
        accounts = self.traded_for
        if self.who.account_id is not None:
            accounts = {AccountId(self.who.account_id)}
        future = disconnects.end(self.runtime, self.session_id, accounts)
        if future is not None:  # else the market is stopping: its next start cancels
            future.add_done_callback(_log_cancel_on_disconnect)

    async def _receive_loop(self) -> None:
        while True:
            try:
                text = await receive(self.websocket)
            except (WebSocketDisconnect, RuntimeError):
                return
            if self.connection.ending is None:  # a socket being closed reads, but does nothing
                await self._handle(text)

    async def _handle(self, text: str | None) -> None:
        request = None if text is None else parse(text)
        if not self._take_token(request):
            # Read nothing more until the bucket holds a token: a flood waits in the
            # sender's buffers, paced at the key's rate, instead of costing a refusal each.
            await asyncio.sleep(self.limiter.until_token_s(self.who.key_id) + TOKEN_MARGIN_S)
            return
        if text is None:
            detail = "messages are JSON objects in text frames, not binary frames"
            self.connection.push(_error("INVALID_MESSAGE", detail))
            return
        if request is None:
            self.connection.push(_error("INVALID_MESSAGE", "a message is a JSON object"))
            return
        op = request.get("op")
        req_id = request.get("req_id")
        if req_id is not None and not _valid_req_id(req_id):
            detail = f"req_id is a string of at most {MAX_REQ_ID_CHARS} characters or an integer"
            self.connection.push(_error("INVALID_MESSAGE", detail))
            return
        if op in ORDER_OPS:
            if req_id is None:
                detail = f"the {op} op needs a req_id to answer"
                self.connection.push(_error("INVALID_MESSAGE", detail, op=op))
                return
            self._order_op(op, req_id, request)
        elif op == "batch":
            if req_id is None:
                self.connection.push(
                    _error("INVALID_MESSAGE", "the batch op needs a req_id", op=op)
                )
                return
            self._batch_op(req_id, request)
        elif op in ("subscribe", "unsubscribe"):
            await self._subscription(op, request)
        elif op == "ping":
            self.connection.push({"type": "pong", "req_id": req_id})
        else:
            ops = f"subscribe, unsubscribe, {', '.join(ORDER_OPS)}, batch, ping"
            self.connection.push(_error("INVALID_MESSAGE", f"op is one of {ops}", op=op))

    def _take_token(self, request: dict[str, Any] | None) -> bool:
        """Take a token from the key's bucket for a message; without one, answer
        ``RATE_LIMITED`` (an order op's or a batch's reply, else an error)."""
        try:
            self.limiter.check(self.who.key_id)
            return True
        except ApiError as error:
            refused = error
        op = None if request is None else request.get("op")
        req_id = None if request is None else request.get("req_id")
        if not _valid_req_id(req_id):
            req_id = None
        if req_id is not None and (op in ORDER_OPS or op == "batch"):
            self.connection.push(_reply_error(req_id, refused))
            return False
        echo: dict[str, Any] = {} if req_id is None else {"req_id": req_id}
        if request is not None and isinstance(request.get("channel"), str):
            echo["channel"] = request["channel"]
        self.connection.push(_error(refused.code, refused.detail, **refused.numbers, **echo))
        return False

    # ------------------------------------------------------------------ order entry

    def _prepare(
        self, op: str, request: dict[str, Any], token: bool = False
    ) -> tuple[MarketCommand, Callable[[Ack], dict[str, Any]]]:
        """An order op's command and how to answer its ack (with ``token``, a token from the
        key's bucket taken first: a batch's later ops); an ApiError when it is refused before
        the market."""
        fields = {k: v for k, v in request.items() if k not in ("op", "req_id", "account_id")}
        named = request.get("account_id")
        if token:
            self.limiter.check(self.who.key_id)
        if named is not None and not isinstance(named, str):
            raise ApiError(422, "INVALID_REQUEST", "account_id is a string")
        if op in OWN_OPS:
            account = AccountId(trading_account(self.who))  # a participant's own, as on REST
            if named is not None and named != account:
                raise ApiError(403, "FORBIDDEN", "not your account", account_id=named)
            if op in BID_OPS:
                return _bid_command(op, account, fields, self.runtime.now_ns())
            return _block_command(op, account, fields, self.runtime.market)
        account = orders.order_account(self.who, self.runtime.market, named)
        command, answer = _order_command(op, account, fields, self.runtime.market)
        if self.who.role is Role.OPERATOR and account not in self.traded_for:
            if self.cancel_on_disconnect:
                disconnects.arm_before_order(self.runtime, self.session_id, account)
            self.traded_for.add(account)
        return command, answer

    def _batch_op(self, req_id: str | int, request: dict[str, Any]) -> None:
        """Up to ``MAX_BATCH_OPS`` order ops in one message: each validated as alone, the valid
        ones submitted together (consecutive in the journal), one reply once all are durable
        with a result per op, in order."""
        ops = request.get("ops")
        if not isinstance(ops, list) or not 1 <= len(ops) <= MAX_BATCH_OPS:
            detail = f"ops is a list of 1 to {MAX_BATCH_OPS} order ops"
            error = ApiError(422, "INVALID_REQUEST", detail, max_ops=MAX_BATCH_OPS)
            self.connection.push(_reply_error(req_id, error))
            return
        results: list[Message] = [{} for _ in ops]
        commands: list[MarketCommand] = []
        pending: list[tuple[int, Callable[[Ack], dict[str, Any]]]] = []
        for n, item in enumerate(ops):
            try:
                op = item.get("op") if isinstance(item, dict) else None
                if op not in ORDER_OPS:
                    detail = f"each op is an object with an op of {', '.join(ORDER_OPS)}"
                    raise ApiError(422, "INVALID_REQUEST", detail, index=n)
                command, answer = self._prepare(op, item, token=n > 0)  # op 0: the message's
            except ApiError as error:
                results[n] = _result_error(error)
                continue
            commands.append(command)
            pending.append((n, answer))
        connection = self.connection
        if not commands:
            connection.push({"type": "reply", "req_id": req_id, "ok": True, "results": results})
            return
        try:
            future = self.runtime.submit_many(commands)
        except MarketStoppedError as stopped:
            self.connection.push(_reply_error(req_id, unavailable(stopped)))
            return

        def reply(done: asyncio.Future[list[Ack]]) -> None:
            if done.cancelled():
                return
            if done.exception() is not None:
                connection.push(_reply_error(req_id, _stopped()))
                return
            for (n, answer), ack in zip(pending, done.result(), strict=True):
                try:
                    results[n] = {"ok": True, "result": answer(ack)}
                except ApiError as error:
                    results[n] = _result_error(error)
            connection.push({"type": "reply", "req_id": req_id, "ok": True, "results": results})

        future.add_done_callback(reply)

    def _order_op(self, op: str, req_id: str | int, request: dict[str, Any]) -> None:
        """Validate, submit without waiting, and answer when the command is durable."""
        try:
            command, answer = self._prepare(op, request)
            future = self.runtime.submit_nowait(command)
        except ApiError as error:
            self.connection.push(_reply_error(req_id, error))
            return
        except MarketStoppedError as stopped:
            self.connection.push(_reply_error(req_id, unavailable(stopped)))
            return
        connection = self.connection

        def reply(done: asyncio.Future[Ack]) -> None:
            if done.cancelled():
                return
            failure = done.exception()
            if failure is not None:
                connection.push(_reply_error(req_id, _stopped()))
                return
            try:
                result = answer(done.result())
            except ApiError as error:
                connection.push(_reply_error(req_id, error))
                return
            connection.push({"type": "reply", "req_id": req_id, "ok": True, "result": result})

        future.add_done_callback(reply)

    # ------------------------------------------------------------------ subscriptions

    async def _subscription(self, op: str, request: dict[str, Any]) -> None:
        channel = request.get("channel")
        req_id = request.get("req_id")
        echo = {} if req_id is None else {"req_id": req_id}
        connection = self.connection
        if not isinstance(channel, str):
            detail = 'expected {"op": "subscribe" | "unsubscribe", "channel": ...}'
            connection.push(_error("INVALID_MESSAGE", detail, **echo))
            return
        try:
            key = _channel_key(self.who, self.runtime, channel, request.get("account_id"))
            options = _options(key, request)
        except ApiError as error:
            numbers = {**error.numbers, **echo, "channel": channel}
            connection.push(_error(error.code, error.detail, **numbers))
            return
        if op == "unsubscribe":
            self.feed.unsubscribe(connection, key)
            connection.push({"type": "unsubscribed", "channel": channel, **echo})
            return
        if is_mrv(key):
            await self._subscribe_mrv(key, channel, echo)
            return
        await self._seed(key)
        self.feed.subscribe(connection, key, options.get("year"), options.get("depth", 0))
        if key == "trades":
            connection.batch_trades = bool(options.get("batch"))
        connection.push({"type": "subscribed", "channel": channel, **echo})
        first = self._first_message(key, options)
        if first is not None:
            connection.push(first)

    async def _subscribe_mrv(self, key: str, channel: str, echo: dict[str, Any]) -> None:
        """Subscribe to ``mrv`` and send its ``mrv_board``, read from the database once the
        subscription is on; changes told meanwhile wait and follow the board (each carries
        its state, so one the board holds already changes nothing)."""
        connection, held = self.connection, self.market_feed.mrv_held
        held[connection] = []
        self.feed.subscribe(connection, key)
        connection.push({"type": "subscribed", "channel": channel, **echo})
        try:
            board = await _mrv_board(hub_of(self.websocket).engine, self.who, key)
        except Exception:
            log.exception("the mrv board was not read")
            held.pop(connection, None)
            self.feed.unsubscribe(connection, key)
            detail = "the MRV board could not be read: subscribe again"
            connection.push(_error("DATABASE_UNAVAILABLE", detail, channel=channel, **echo))
            return
        waiting = held.pop(connection, [])
        connection.push(board)
        for message in waiting:
            connection.push(message)

    async def _seed(self, key: str) -> None:
        """Make the state a book, ticker, bars or balances channel follows, if none exists
        yet, and wait until a symbol's bar holds the journal's trades."""
        market_feed = self.market_feed
        market = self.runtime.market
        last_seq = self.runtime.last_seq
        market_feed.market = market
        kind, _, rest = key.partition(":")
        if kind == "balances" and rest not in market_feed.accounts:
            market_feed.accounts[rest] = AccountState(market, rest, last_seq)
        if kind == "book":
            market_feed.book(market, rest, last_seq)
        if kind in ("ticker", "bars"):
            symbol = _symbol_of(kind, rest)
            state = market_feed.symbols.get(symbol)
            if state is None:
                book = market_feed.book(market, symbol, last_seq)
                state = SymbolState(market, book, last_seq, market_feed.published_seq)
                market_feed.symbols[symbol] = state
                try:
                    state.seed_bar(await self._journal_trades(symbol, state.bar_seed_seq))
                finally:
                    state.bar_ready.set()
            await state.bar_ready.wait()

    async def _journal_trades(
        self, symbol: str, up_to_seq: int
    ) -> list[tuple[int, int, int, int, int]]:
        """The trades of the minute of the symbol's last trade at or below ``up_to_seq`` (a
        published command: committed, so in the table), oldest first."""
        engine = hub_of(self.websocket).engine
        market_id = self.who.market_id
        return await last_minute_trades(engine, market_id, symbol, up_to_seq, bar_start_ns)

    def _first_message(self, key: str, options: dict[str, int]) -> Message | None:
        """What a subscription starts with: a snapshot, where the channel has one."""
        market_feed = self.market_feed
        market = self.runtime.market
        kind, _, rest = key.partition(":")
        if kind == "book":
            return _snapshot(self.runtime, rest, options["depth"])
        if kind == "ticker":
            state = market_feed.symbols[rest]
            return state.ticker(max(state.seed_seq, market_feed.published_seq))
        if kind == "bars":
            symbol, _, interval = rest.rpartition(":")
            return market_feed.symbols[symbol].bar_message(interval)
        if kind == "balances":
            return market_feed.accounts[rest].message()
        if kind + ":" == BLOCK:
            return _block_board(self.runtime, block_viewer(key))
        if key == "auctions":
            board = auction.board(market, block.PUBLIC, self.runtime.now_ns())
            return {"type": "auction_board", "market_seq": self.runtime.last_seq, **board}
        if kind == "compliance":
            year = options.get("year") or current_compliance_year(market)
            if year is None:
                return None
            return compliance_message(market, rest, year, self.runtime.last_seq)
        return None


def _valid_req_id(req_id: Any) -> bool:
    if isinstance(req_id, bool):
        return False
    return isinstance(req_id, int) or (isinstance(req_id, str) and len(req_id) <= MAX_REQ_ID_CHARS)


def _order_command(
    op: str, account: AccountId, fields: dict[str, Any], market: Market
) -> tuple[MarketCommand, Callable[[Ack], dict[str, Any]]]:
    """The market command for an order op, and how to answer its ack."""
    try:
        if op == "place":
            command = orders.place_command(account, NewOrder.model_validate(fields))
            return command, lambda ack: orders.placed(ack, market)
        if op == "cancel":
            body = _CancelBody.model_validate(fields)
            return orders.cancel_command(account, body.order_id), orders.cancelled
        if op == "amend":
            amend = _AmendBody.model_validate(fields)
            return orders.amend_command(account, amend.order_id, amend), orders.amended
        if op == "take":
            take = _TakeBody.model_validate(fields)
            taken = orders.take_command(account, take.order_id, take)
            return taken, lambda ack: orders.placed(ack, market)
        cancel_all = _CancelAllBody.model_validate(fields)
        return orders.cancel_all_command(account, cancel_all.symbol), orders.all_cancelled
    except ValidationError as error:
        raise _invalid(error) from None


def _block_command(
    op: str, account: AccountId, fields: dict[str, Any], market: Market
) -> tuple[MarketCommand, Callable[[Ack], dict[str, Any]]]:
    """The market command for a block op, and how to answer its ack (as its REST route)."""
    try:
        if op == "block_post":
            body = NewBlockQuote.model_validate(fields)
            return block.post_command(account, body), lambda ack: block.posted(ack, market)
        if op == "block_cancel":
            ref = _BlockQuoteRef.model_validate(fields)
            return block.cancel_command(account, ref.quote_id), block.cancelled
        if op == "block_accept":
            take = _BlockAccept.model_validate(fields)
            accept = block.accept_command(account, take.quote_id, take.qty_t)
            return accept, lambda ack: block.dealt(ack, market)
        if op == "block_open":
            terms = _BlockOpen.model_validate(fields)
            command = block.open_command(account, terms.quote_id, terms.price_fen, terms.qty_t)
            return command, lambda ack: block.negotiated(ack, account)
        if op == "block_end":
            end = _BlockEnd.model_validate(fields)
            return block.end_command(account, end.negotiation_id), block.ended
        step = _BlockStep.model_validate(fields)
        n, price, qty = step.negotiation_id, step.price_fen, step.qty_t
        if op == "block_counter":
            command = block.counter_command(account, n, price, qty)
            return command, lambda ack: block.negotiated(ack, account)
        return block.confirm_command(account, n, price, qty), lambda ack: block.dealt(ack, market)
    except ValidationError as error:
        raise _invalid(error) from None


def _bid_command(
    op: str, account: AccountId, fields: dict[str, Any], now_ns: int
) -> tuple[MarketCommand, Callable[[Ack], dict[str, Any]]]:
    """The market command for an auction bid op, and how to answer its ack (as its REST
    route: ``submitBid``, ``amendBid``, ``withdrawBid``)."""
    try:
        if op == "bid_submit":
            new = _BidSubmit.model_validate(fields)
            command = auction.bid_command(now_ns, account, new.auction_id, new)
            return command, lambda ack: auction.placed(ack, new, account)
        if op == "bid_amend":
            amend = _BidAmend.model_validate(fields)
            amended = auction.amend_command(now_ns, account, amend.bid_id, amend)
            return amended, lambda ack: auction.amended(ack, amend.bid_id, amend, account)
        ref = _BidRef.model_validate(fields)
        return auction.withdraw_command(now_ns, account, ref.bid_id), auction.withdrawn
    except ValidationError as error:
        raise _invalid(error) from None


def _reply_error(req_id: str | int, error: ApiError) -> Message:
    return {"type": "reply", "req_id": req_id, **_result_error(error)}


def _result_error(error: ApiError) -> Message:
    return {"ok": False, "error": {"code": error.code, "detail": error.detail, **error.numbers}}


def _stopped() -> ApiError:
    return ApiError(503, "MARKET_STOPPED", "the market is not running")


def _log_cancel_on_disconnect(done: asyncio.Future[list[Ack]]) -> None:
    if done.cancelled() or done.exception() is not None:
        log.warning("cancel on disconnect not done: %r", done)
        return
    for ack in done.result():
        if ack.outcome.code is not None:
            log.warning("cancel on disconnect refused: %s", ack.outcome)


def _channel_key(who: Principal, runtime: MarketRuntime, channel: str, named: Any = None) -> str:
    """The feed's key for a channel the key may see; an ApiError when it may not."""
    if channel in ("trades", "announcements", "auctions"):
        return channel
    if channel == "block":  # each key its own view of the board (exchange.api.block)
        return block_key(block.viewer_of(who))
    if channel == "mrv":  # each key the accounts it may read on the MRV desk
        return _mrv_key(who)
    if channel == "large_holders":
        if who.role is not Role.OPERATOR:
            raise ApiError(403, "FORBIDDEN", "large-holder reports are the operators'")
        return channel
    kind, _, rest = channel.partition(":")
    if kind in ("book", "ticker", "bars"):
        # A symbol may hold colons itself (CCER:<project>:<vintage>): a bar's interval is the
        # part after the last one.
        symbol = _symbol_of(kind, rest)
        if kind == "bars" and (not symbol or rest in runtime.market.instruments):
            raise ApiError(422, "INVALID_REQUEST", "channels: bars:<symbol>:1m")
        if symbol not in runtime.market.instruments:
            raise ApiError(404, "UNKNOWN_INSTRUMENT", f"no instrument {symbol!r}", symbol=symbol)
        interval = rest.rpartition(":")[2]
        if kind == "bars" and interval != "1m":
            raise ApiError(422, "INVALID_REQUEST", "bar intervals: 1m", interval=interval)
        return channel
    if kind in PRIVATE_CHANNELS:
        if named is not None and not isinstance(named, str):
            raise ApiError(422, "INVALID_REQUEST", "account_id is a string")
        account = rest or named
        if rest and named is not None and named != rest:
            raise ApiError(422, "INVALID_REQUEST", "two accounts named", account_id=named)
        return f"{kind}:{_private_account(who, runtime, account)}"
    channels = (
        "trades, announcements, auctions, large_holders, block, mrv, book:<symbol>, "
        "ticker:<symbol>, "
        "bars:<symbol>:1m, " + ", ".join(PRIVATE_CHANNELS)
    )
    raise ApiError(422, "INVALID_REQUEST", f"channels: {channels}")


def _mrv_key(who: Principal) -> str:
    """The ``mrv`` channel's key: a participant's own account, a verifier's assigned ones,
    every account for operators; an observer has none."""
    if who.role is Role.OPERATOR:
        return MRV_OPERATOR
    if who.role is Role.VERIFIER:
        return MRV_VERIFIER + who.key_id
    if who.role is Role.PARTICIPANT and who.account_id is not None:
        return MRV + who.account_id
    raise ApiError(403, "FORBIDDEN", "an observer has no MRV channel", role=who.role.value)


async def _mrv_board(engine: AsyncEngine, who: Principal, key: str) -> Message:
    """The ``mrv`` channel's first message: the months' and reports' states of the accounts
    the key may read (``exchange.mrv_desk.notify.board``)."""
    accounts: list[str] | None = None
    if key.startswith(MRV_VERIFIER):
        accounts = await mrv_store.assigned(engine, who.market_id, who.key_id)
    elif key != MRV_OPERATOR:
        accounts = [key.removeprefix(MRV)]
    board = await mrv_notify.board(engine, who.market_id, accounts)
    return {"type": "mrv_board", "account_ids": accounts, **board}


def _symbol_of(kind: str, rest: str) -> str:
    """The instrument a market data channel names: ``book:<symbol>``, ``ticker:<symbol>``,
    ``bars:<symbol>:<interval>``."""
    return rest.rpartition(":")[0] if kind == "bars" else rest


def _private_account(who: Principal, runtime: MarketRuntime, account: str | None) -> str:
    """The account of a private channel: a participant's own, the one an operator names."""
    if who.role is Role.PARTICIPANT:
        assert who.account_id is not None
        if account not in (None, who.account_id):
            raise ApiError(403, "FORBIDDEN", "not your account", account_id=account)
        return who.account_id
    if who.role is not Role.OPERATOR:
        raise ApiError(403, "FORBIDDEN", "an observer has no private channels", role=who.role.value)
    if account is None:
        raise ApiError(422, "INVALID_REQUEST", "an operator names the account: account_id")
    if runtime.market.registry.account(AccountId(account)) is None:
        raise ApiError(404, "UNKNOWN_ACCOUNT", f"no account {account!r}", account_id=account)
    return account


class _BookOptions(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    depth: Annotated[int, Field(ge=1, le=MAX_BOOK_DEPTH)] = BOOK_DEPTH


class _TradesOptions(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    batch: bool = False


class _ComplianceOptions(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    year: Annotated[int, Field(ge=2000, le=2100)] | None = None


def _options(key: str, request: dict[str, Any]) -> dict[str, int]:
    """A subscription's options: the book's ``depth``, the compliance ``year``, whether
    ``trades`` come in batches."""
    try:
        if key.startswith("book:"):
            return {"depth": _BookOptions.model_validate(request).depth}
        if key.startswith("compliance:"):
            year = _ComplianceOptions.model_validate(request).year
            return {} if year is None else {"year": year}
        if key == "trades":
            return {"batch": 1} if _TradesOptions.model_validate(request).batch else {}
    except ValidationError as error:
        raise _invalid(error) from None
    return {}


def _block_board(runtime: MarketRuntime, viewer: block.Viewer) -> Message:
    """The ``block`` channel's first message: the board as ``viewer`` sees it (``BlockBoard``)
    and a participant's open negotiations, as of ``market_seq``."""
    market = runtime.market
    board = block.board(market, viewer, runtime.now_ns())
    account = viewer.account_id
    mine = [] if account is None else block.negotiations(market, account)
    return {"type": "block_board", "market_seq": runtime.last_seq, **board, "negotiations": mine}


def _snapshot(runtime: MarketRuntime, symbol: str, depth: int) -> Message:
    engine = runtime.market.engine
    info = engine.book_info(symbol)
    levels = engine.depth(symbol, depth)
    return {
        "type": "book_snapshot",
        "market_seq": runtime.last_seq,
        "symbol": symbol,
        "state": info.state,
        "depth": depth,
        "bids": [level._asdict() for level in levels.bids],
        "asks": [level._asdict() for level in levels.asks],
    }
