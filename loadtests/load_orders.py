"""The order flow the load phases send: limit orders near the touch of the market's one
instrument, a share of them crossing it, and cancels and amends of each account's own open
orders. Prices and quantities come from the instrument's band, tick and lot (read from the
server, so from the rule set), never from constants of ours."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from loadtests.load_setup import LoadMarket

PASSIVE_TICKS = 10  # resting orders spread over this many ticks behind the touch
CROSS_TICKS = 4  # a crossing order reaches this many ticks into the other side
CROSS_SHARE = 0.12  # of placed orders, the ones that cross (and trade)
MAX_LOTS = 10
MAX_OPEN = 40  # an account's open orders kept in view; beyond this it cancels


@dataclass(slots=True)
class OpenOrder:
    order_id: int
    side: str
    price_fen: int
    qty_t: int


@dataclass
class OrderMaker:
    """Seeded order bodies for one market; tracks each account's open orders as its replies
    tell (an order another account filled later may be gone: its cancel is refused, 4xx)."""

    market: LoadMarket
    rng: random.Random
    open_orders: dict[str, list[OpenOrder]] = field(default_factory=dict)
    counter: int = 0

    def _in_band(self, price_fen: int) -> int:
        m = self.market
        return max(m.band_lower_fen, min(m.band_upper_fen, price_fen))

    def _price(self, ticks: int) -> int:
        return self._in_band(self.market.reference_price_fen + ticks * self.market.tick_fen)

    def place(self) -> dict[str, Any]:
        """A limit order: resting near the touch, or (``CROSS_SHARE``) crossing it."""
        rng = self.rng
        side = "buy" if rng.random() < 0.5 else "sell"
        crossing = rng.random() < CROSS_SHARE
        if side == "buy":
            ticks = rng.randint(0, CROSS_TICKS) if crossing else -rng.randint(1, PASSIVE_TICKS)
        else:
            ticks = -rng.randint(1, CROSS_TICKS) if crossing else rng.randint(0, PASSIVE_TICKS - 1)
        self.counter += 1
        return {
            "symbol": self.market.symbol,
            "side": side,
            "order_type": "limit",
            "qty_t": self.market.lot_t * rng.randint(1, MAX_LOTS),
            "price_fen": self._price(ticks),
        }

    def note_placed(self, account: str, body: dict[str, Any], result: dict[str, Any]) -> None:
        filled = sum(fill["qty_t"] for fill in result.get("fills", ()))
        if filled < body["qty_t"]:
            self.open_orders.setdefault(account, []).append(
                OpenOrder(result["order_id"], body["side"], body["price_fen"], body["qty_t"])
            )

    def take_open(self, account: str) -> OpenOrder | None:
        """One of the account's open orders, forgotten here (it is being cancelled)."""
        mine = self.open_orders.get(account)
        if not mine:
            return None
        return mine.pop(self.rng.randrange(len(mine)))

    def pick_open(self, account: str) -> OpenOrder | None:
        mine = self.open_orders.get(account)
        return mine[self.rng.randrange(len(mine))] if mine else None

    def amendment(self, order: OpenOrder) -> dict[str, Any]:
        """Half quantity reductions by a lot, half a one-tick move away from the touch."""
        lot = self.market.lot_t
        if order.qty_t > lot and self.rng.random() < 0.5:
            order.qty_t -= lot
            return {"qty_t": order.qty_t}
        step = -self.market.tick_fen if order.side == "buy" else self.market.tick_fen
        price = self._in_band(order.price_fen + step)
        if price == order.price_fen:
            price -= step
        order.price_fen = price
        return {"price_fen": price}

    def too_many_open(self, account: str) -> bool:
        return len(self.open_orders.get(account, ())) > MAX_OPEN
