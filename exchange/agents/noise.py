"""The noise trader: small random orders that keep a book moving."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from exchange.agents.base import Action, Cancel, Firm, MarketView, Place, register
from exchange.agents.common import SymbolTrader, affordable_t, lot_qty, own_orders, random_price
from matching.types import OrderType, Side

BP = 10_000


@register
class NoiseTrader(SymbolTrader):
    """Random small orders, bounded.

    Rule. At each wake-up it cancels its resting order, tosses a coin for the side, draws a
    quantity uniformly from one lot to ``qty_max_t`` (whole lots, within the order limits),
    and sends a market order with probability ``market_bp`` / 10000, else a limit order at a
    price drawn uniformly within ``spread_bp`` of the last price (on the tick, inside the
    band). Bounded: never more than its cash (a market buy is costed at the band's upper
    edge, where it may trade), never more than its sellable units, and its position stays
    within ``max_position_t`` of where it started.

    Parameters (defaults): ``qty_max_t`` (50); ``market_bp`` (2000); ``spread_bp`` (200);
    ``max_position_t`` (None: 20 × ``qty_max_t``); ``symbol`` (None: the allowance of the
    compliance year); ``fee_reserve_bp`` (100); ``wakeups_per_day``.
    """

    kind = "noise"
    wakeups_per_day = 20.0

    def __init__(
        self,
        account_id: str,
        firm: Firm | None = None,
        *,
        qty_max_t: int = 50,
        market_bp: int = 2_000,
        spread_bp: int = 200,
        max_position_t: int | None = None,
        symbol: str | None = None,
        fee_reserve_bp: int = 100,
        **params: Any,
    ) -> None:
        super().__init__(account_id, firm, **params)
        self.qty_max_t = qty_max_t
        self.market_bp = market_bp
        self.spread_bp = spread_bp
        self.max_position_t = 20 * qty_max_t if max_position_t is None else max_position_t
        self.symbol = symbol
        self.fee_reserve_bp = fee_reserve_bp
        self._start_t: int | None = None

    def act(self, view: MarketView, rng: random.Random) -> Iterable[Action]:
        info = self.tradable_instrument(view)
        if info is None:
            return ()
        symbol = info.symbol
        holding = view.holding_t(symbol)
        if self._start_t is None:
            self._start_t = holding
        orders, freed_fen, freed_t = own_orders(view, symbol)
        actions: list[Action] = [Cancel(order.order_id) for order in orders]
        lots = max(1, self.qty_max_t // info.lot_t)
        qty = (1 + int(rng.random() * lots)) * info.lot_t
        buy = rng.random() < 0.5
        market = rng.random() * BP < self.market_bp
        price: int | None = None
        if not market:
            last = view.last_price(symbol) or info.reference_price_fen
            spread = last * self.spread_bp / BP
            price = random_price(rng, last - spread, last + spread, info)
            if price is None:
                return actions
        position = holding - self._start_t
        if buy:
            room = self.max_position_t - position
            cost = info.band[1] if price is None else price
            qty = min(
                qty, room, affordable_t(view.cash_fen() + freed_fen, cost, self.fee_reserve_bp)
            )
        else:
            room = self.max_position_t + position
            qty = min(qty, room, view.sellable_t(symbol) + freed_t)
        qty = lot_qty(qty, info)
        if qty:
            side = Side.BUY if buy else Side.SELL
            kind = OrderType.MARKET if market else OrderType.LIMIT
            actions.append(Place(symbol, side, qty, price, kind))
        return actions
