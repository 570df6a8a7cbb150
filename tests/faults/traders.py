"""The campaign's traders: each an account, its key, a connection (REST, or a WebSocket with or
without cancel on disconnect) and a seeded stream of ops: limit orders near the touch (a share
crossing it), cancels and amendments of its own open orders, a client order id sent twice, and
(REST) a read of one of its acknowledged orders. Every acknowledgement goes to the ``Ledger``.

A trader works until its step is over; a connection the server drops ends its step early (a
SIGKILL, a revoked key), and it connects again at the next step. A trader with cancel on
disconnect sometimes drops its own socket without a close frame, as a crashed client would
(sometimes with an order just sent): its account is then owed an empty book
(``Ledger.dead_guarded``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from dataclasses import dataclass, field
from typing import Any

from loadtests.load_orders import OrderMaker
from loadtests.wire import HttpConnection, WebSocketClosedError, WsConnection
from tests.faults.ledger import Ledger
from tests.faults.system import HOST, REQUEST_TIMEOUT_S, System

CANCEL_SHARE = 0.15
AMEND_SHARE = 0.12
REPEAT_SHARE = 0.03  # a placement sent again with its client order id: answered as the first
READ_SHARE = 0.05  # REST: getOrder of one of the account's acknowledged orders
CLIENT_ID_SHARE = 0.3
DROP_SHARE = 0.01  # of a guarded socket's ops: the client vanishes instead
THINK_S = (0.004, 0.012)  # between a trader's ops: under its key's rate, as people are
BACKOFF_S = 0.05  # after a 503 or 429: the server asked to come back later
# What a socket's refusal would have been on REST, for the ledger's judgement.
WS_STATUS = {
    "INVALID_REQUEST": 422,
    "MARKET_RECONNECTING": 503,
    "MARKET_STOPPED": 503,
    "DATABASE_UNAVAILABLE": 503,
}
CONNECTION_ERRORS = (ConnectionError, OSError, asyncio.IncompleteReadError, WebSocketClosedError)


class DisconnectedError(Exception):
    """The server closed the trader's connection (its WebSocket close code, if any)."""

    def __init__(self, code: int | None = None) -> None:
        super().__init__(f"disconnected ({code})")
        self.code = code


@dataclass
class Trigger:
    """Counts the step's ops; set once ``at_ops`` were sent: the fault's moment."""

    at_ops: int
    sent: int = 0
    fired: asyncio.Event = field(default_factory=asyncio.Event)

    def count(self) -> None:
        self.sent += 1
        if self.sent >= self.at_ops:
            self.fired.set()


class Trader:
    def __init__(
        self,
        name: str,
        account: str,
        key: str,
        transport: str,
        guarded: bool,
        system: System,
        rng: random.Random,
    ) -> None:
        self.name = name
        self.account = account
        self.key = key
        self.transport = transport  # "rest" or "ws"
        self.guarded = guarded  # cancel on disconnect
        self.system = system
        self.rng = rng
        self.maker = OrderMaker(system.market, rng)
        self.http: HttpConnection | None = None
        self.ws: WsConnection | None = None
        self.placed = 0
        self.req_id = 0
        self.last_client_order: dict[str, Any] | None = None  # for a repeat, this trading day
        self.ops_done = 0
        self.close_code: int | None = None

    @property
    def connected(self) -> bool:
        return self.http is not None or self.ws is not None

    def __repr__(self) -> str:
        cod = ", cancel on disconnect" if self.guarded else ""
        return f"{self.name} ({self.account}, {self.transport}{cod})"

    # ------------------------------------------------------------------ connections

    async def connect(self) -> None:
        port, market_id = self.system.port, self.system.market.market_id
        if self.transport == "rest":
            self.http = await HttpConnection.open(HOST, port)
            return
        query = f"key={self.key}&market_id={market_id}&cancel_on_disconnect={int(self.guarded)}"
        ws = await WsConnection.open(HOST, port, f"/v1/ws?{query}")
        first = json.loads(await asyncio.wait_for(ws.recv(), REQUEST_TIMEOUT_S))
        if first.get("type") != "authed" or first["cancel_on_disconnect"] is not self.guarded:
            await ws.close()
            raise DisconnectedError(None)
        self.ws = ws

    def lost(self, ledger: Ledger) -> None:
        """The connection is gone (whoever ended it)."""
        if self.ws is not None and self.guarded:
            ledger.dead_guarded.add(self.account)
        self.http = self.ws = None

    async def close(self, ledger: Ledger) -> None:
        http, ws = self.http, self.ws
        self.lost(ledger)
        if http is not None:
            await http.close()
        if ws is not None:
            await ws.close()

    async def drop(self, ledger: Ledger) -> None:
        """Vanish: the socket's transport aborted, no close frame (a crashed client), half the
        time right after sending an order whose answer it will never read: the server must
        not leave that order live once it cancels the account's orders."""
        ws = self.ws
        assert ws is not None
        if self.rng.random() < 0.5:
            self.req_id += 1
            ws.send({"op": "place", "req_id": self.req_id, **self.maker.place()})
            await ws.drain()
            ledger.unanswered += 1
        ws.abort()
        self.lost(ledger)

    def new_day(self) -> None:
        """The day rolled: day orders expired, client order ids start afresh."""
        self.maker.open_orders.clear()
        self.last_client_order = None

    # ------------------------------------------------------------------ the step

    async def run(
        self, ledger: Ledger, trigger: Trigger, over: asyncio.Event, min_ops: int
    ) -> None:
        """Ops until the step is over and ``min_ops`` are done, or the connection is gone."""
        done = 0
        while self.connected and not (over.is_set() and done >= min_ops):
            if self.transport == "ws" and self.guarded and self.rng.random() < DROP_SHARE:
                await self.drop(ledger)
                return
            trigger.count()
            try:
                await self.act(ledger)
            except (*CONNECTION_ERRORS, DisconnectedError) as error:
                ledger.unanswered += not isinstance(error, DisconnectedError)
                self.close_code = getattr(error, "code", None)
                with contextlib.suppress(*CONNECTION_ERRORS):
                    await self.close(ledger)
                return
            done += 1
            self.ops_done += 1
            await asyncio.sleep(self.rng.uniform(*THINK_S))

    async def act(self, ledger: Ledger) -> None:
        """One op, chosen by the trader's stream, answered before the next."""
        rng, maker, account = self.rng, self.maker, self.account
        draw = rng.random()
        if maker.too_many_open(account) or draw < CANCEL_SHARE:
            order = maker.take_open(account)
            if order is not None:
                await self.op(ledger, "cancel", {"order_id": order.order_id})
                return
        elif draw < CANCEL_SHARE + AMEND_SHARE:
            order = maker.pick_open(account)
            if order is not None:
                change = maker.amendment(order)
                await self.op(ledger, "amend", {"order_id": order.order_id, **change})
                return
        elif draw < CANCEL_SHARE + AMEND_SHARE + REPEAT_SHARE and self.last_client_order:
            await self.op(ledger, "place", dict(self.last_client_order))
            return
        elif (
            draw < CANCEL_SHARE + AMEND_SHARE + REPEAT_SHARE + READ_SHARE
            and self.transport == "rest"
            and await self.read_order(ledger)
        ):
            return
        body = maker.place()
        if rng.random() < CLIENT_ID_SHARE:
            self.placed += 1
            body["client_order_id"] = f"{self.name}-{self.placed}"
        await self.op(ledger, "place", body)

    async def op(self, ledger: Ledger, op: str, body: dict[str, Any]) -> None:
        """Send one order op; record its acknowledgement or its refusal."""
        if self.transport == "rest":
            status, reply = await self.rest_op(op, body)
            ok, where = 200 <= status < 300, f"{self} {op} REST"
        else:
            status, reply = await self.ws_op(op, body)
            ok, where = status == 200, f"{self} {op} WebSocket"
        if not ok:
            code = reply.get("code", f"HTTP_{status}")
            ledger.refused(where, status, code)
            if status == 401:
                raise DisconnectedError(None)  # the key was revoked
            if status in (429, 503):
                await asyncio.sleep(BACKOFF_S)
            return
        self.acked(ledger, op, body, reply)

    def acked(self, ledger: Ledger, op: str, body: dict[str, Any], result: dict[str, Any]) -> None:
        if op == "place":
            first = ledger.orders.get(result["order_id"])
            if result["repeated"]:
                if first is None or first.body.get("client_order_id") != body["client_order_id"]:
                    ledger.anomalies.append(f"{self}: a repeat answered another order: {result}")
            else:
                self.maker.note_placed(self.account, body, result)
                if "client_order_id" in body:
                    self.last_client_order = body
        ledger.acked(op, self.account, body, result)

    async def read_order(self, ledger: Ledger) -> bool:
        """getOrder of one of the account's acknowledged orders, of any trading day."""
        mine = [o for o in ledger.orders.values() if o.account == self.account]
        if not mine:
            return False
        wanted = mine[self.rng.randrange(len(mine))]
        path = f"{self.system.market_path}/orders/{wanted.order_id}"
        status, reply = await self.rest("GET", path, None)
        if status != 200:
            ledger.refused(f"{self} getOrder {wanted.order_id}", status, reply.get("code", ""))
            if status == 401:
                raise DisconnectedError(None)  # the key was revoked
            if status not in (429, 503):
                ledger.anomalies.append(f"{self}: getOrder {wanted.order_id}: {status} {reply}")
            return True
        if (reply["account_id"], reply["side"]) != (self.account, wanted.body["side"]):
            ledger.anomalies.append(f"{self}: getOrder {wanted.order_id} answered {reply}")
        return True

    # ------------------------------------------------------------------ transports

    async def rest(self, method: str, path: str, body: Any) -> tuple[int, dict[str, Any]]:
        http = self.http
        if http is None:
            raise DisconnectedError(None)
        status, payload = await asyncio.wait_for(
            http.request(method, path, self.key, body), REQUEST_TIMEOUT_S
        )
        try:
            reply = json.loads(payload) if payload else {}
        except ValueError:  # not a problem document: an unhandled error's plain text
            reply = {"code": f"HTTP_{status}", "text": payload[:200].decode(errors="replace")}
        return status, reply

    async def rest_op(self, op: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        orders = f"{self.system.market_path}/orders"
        if op == "place":
            return await self.rest("POST", orders, body)
        order_id = body["order_id"]
        if op == "cancel":
            return await self.rest("DELETE", f"{orders}/{order_id}", None)
        change = {k: v for k, v in body.items() if k != "order_id"}
        return await self.rest("PATCH", f"{orders}/{order_id}", change)

    async def ws_op(self, op: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """(200, result) or (the REST status it stands for, error) of one socket op."""
        ws = self.ws
        if ws is None:
            raise DisconnectedError(None)
        self.req_id += 1
        ws.send({"op": op, "req_id": self.req_id, **body})
        await ws.drain()
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), REQUEST_TIMEOUT_S))
            kind = message.get("type")
            if kind == "reply" and message.get("req_id") == self.req_id:
                if message["ok"]:
                    return 200, message["result"]
                error = message["error"]
                return WS_STATUS.get(error["code"], 409), error
            if kind == "error" and message.get("code") == "UNAUTHENTICATED":
                raise DisconnectedError(None)  # revoked: the close comes next


async def close_all(traders: list[Trader], ledger: Ledger) -> None:
    for trader in traders:
        with contextlib.suppress(*CONNECTION_ERRORS):
            await trader.close(ledger)
