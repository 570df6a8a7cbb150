"""What the server acknowledged to the campaign's clients, and everything else they saw.

An acknowledgement is a promise: the command is durable at the journal seq the reply names.
``Ledger`` keeps every one (orders, cancels, amendments, the trades they made) so that the
checks can look for each after every fault; and the answers that no fault excuses (a 5xx other
than the documented 503s, a socket closed for no reason) as ``anomalies``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from settlement.commands import AmendOrder, CancelOrder, MarketCommand, PlaceOrder

# 503s that tell the truth about a fault, retry later: always, and while the database is cut.
EXPECTED_503 = frozenset({"SERVER_BUSY", "NOT_READY"})
DATABASE_AWAY_503 = frozenset({"MARKET_RECONNECTING", "DATABASE_UNAVAILABLE"})


@dataclass(frozen=True, slots=True)
class Acked:
    """One acknowledged command: what the journal must hold at ``seq``."""

    seq: int
    op: str  # place, cancel, amend
    account: str
    order_id: int
    body: dict[str, Any]  # the request (place: the order; amend: the new price or quantity)

    def matches(self, command: MarketCommand) -> bool:
        """Whether the journal's command at ``seq`` is this one."""
        body = self.body
        if type(command) is PlaceOrder:
            placed = (command.symbol, command.side.value, command.qty_t, command.price_fen)
            return (
                self.op == "place"
                and command.account_id == self.account
                and placed == (body["symbol"], body["side"], body["qty_t"], body["price_fen"])
                and command.client_order_id == body.get("client_order_id")
            )
        if type(command) is CancelOrder:
            cancelled = (command.account_id, command.order_id)
            return self.op == "cancel" and cancelled == (self.account, self.order_id)
        if type(command) is AmendOrder:
            amended = (command.account_id, command.order_id, command.price_fen, command.qty_t)
            wanted = (self.account, self.order_id, body.get("price_fen"), body.get("qty_t"))
            return self.op == "amend" and amended == wanted
        return False


@dataclass
class Ledger:
    """Every acknowledgement of a run, and what else the clients met."""

    commands: dict[int, Acked] = field(default_factory=dict)  # by journal seq
    orders: dict[int, Acked] = field(default_factory=dict)  # placements, by order id
    cancels: dict[int, Acked] = field(default_factory=dict)  # by order id
    amends: int = 0
    trades: set[int] = field(default_factory=set)
    unanswered: int = 0  # ops whose connection died under them: done or not, nobody was told
    refusals: Counter[str] = field(default_factory=Counter)  # code: count
    anomalies: list[str] = field(default_factory=list)
    # Accounts whose cancel-on-disconnect socket died, not yet checked for live orders.
    dead_guarded: set[str] = field(default_factory=set)
    database_away: bool = False  # while a fault keeps the database from the server

    def acked(self, op: str, account: str, body: dict[str, Any], result: dict[str, Any]) -> None:
        """A successful reply to ``op`` (REST 200/201, or a socket's ``ok: true``)."""
        acked = Acked(result["seq"], op, account, result["order_id"], body)
        self.commands[acked.seq] = acked
        if op == "place" and not result["repeated"]:
            self.orders[acked.order_id] = acked
        elif op == "cancel":
            self.cancels[acked.order_id] = acked
        elif op == "amend":
            self.amends += 1
        self.trades.update(fill["trade_id"] for fill in result.get("fills", ()))

    def refused(self, where: str, status: int, code: str) -> None:
        """A refusal: counted by code, and an anomaly if no fault explains a server error."""
        self.refusals[code] += 1
        expected = EXPECTED_503 | (DATABASE_AWAY_503 if self.database_away else frozenset())
        if status >= 500 and not (status == 503 and code in expected):
            self.anomalies.append(f"{where}: {status} {code}")
        elif status == 422:  # the campaign's own requests are valid: a 422 is its bug
            self.anomalies.append(f"{where}: 422 {code}")

    def counts(self) -> dict[str, int]:
        return {
            "acked_orders": len(self.orders),
            "acked_cancels": len(self.cancels),
            "acked_amends": self.amends,
            "acked_trades": len(self.trades),
            "ops_unanswered": self.unanswered,
        }
