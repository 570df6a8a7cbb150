"""The zero-intelligence constrained trader (Gode and Sunder, 1993)."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from exchange.agents.base import Action, Cancel, Firm, MarketView, Place, register
from exchange.agents.common import SymbolTrader, affordable_t, lot_qty, own_orders, random_price
from matching.types import OrderType, Side

BP = 10_000


@register
class ZeroIntelligenceTrader(SymbolTrader):
    """ZI-C: a buyer with a private value or a seller with a private cost, and no strategy.

    Rule. At each wake-up it replaces its order with a new limit order at a price drawn
    uniformly on the tick grid from [band low, value] (a buyer) or [cost, band high] (a
    seller): random, but never at a loss and always inside today's band. Quantities are whole
    lots within the order limits, never beyond its cash (a buyer) or its sellable units (a
    seller), and in total never beyond ``units_t``.

    Parameters (defaults): ``side`` "buy" or "sell" ("buy"); ``limit_fen`` the value or cost
    in fen, or ``limit_bp`` (10000) the same relative to the reference price at its first
    wake-up, then fixed; ``qty_t`` (100) per order; ``units_t`` (None: no limit) to trade in
    all; ``symbol`` (None: the allowance of the compliance year); ``fee_reserve_bp`` (100)
    cash kept aside for fees; ``wakeups_per_day``.
    """

    kind = "zic"
    wakeups_per_day = 10.0

    def __init__(
        self,
        account_id: str,
        firm: Firm | None = None,
        *,
        side: str = "buy",
        limit_fen: int | None = None,
        limit_bp: int = BP,
        qty_t: int = 100,
        units_t: int | None = None,
        symbol: str | None = None,
        fee_reserve_bp: int = 100,
        **params: Any,
    ) -> None:
        super().__init__(account_id, firm, **params)
        self.side = Side(side)
        self.limit_fen = limit_fen
        self.limit_bp = limit_bp
        self.qty_t = qty_t
        self.units_t = units_t
        self.symbol = symbol
        self.fee_reserve_bp = fee_reserve_bp
        self._start_t: int | None = None  # its holding at the first wake-up

    def act(self, view: MarketView, rng: random.Random) -> Iterable[Action]:
        info = self.tradable_instrument(view)
        if info is None:
            return ()
        symbol = info.symbol
        holding = view.holding_t(symbol)
        if self._start_t is None:
            self._start_t = holding
        if self.limit_fen is None:
            self.limit_fen = info.reference_price_fen * self.limit_bp // BP
        orders, freed_fen, freed_t = own_orders(view, symbol)
        actions: list[Action] = [Cancel(order.order_id) for order in orders]
        qty = self.qty_t
        if self.units_t is not None:
            done = holding - self._start_t if self.side is Side.BUY else self._start_t - holding
            qty = min(qty, self.units_t - done)
        if self.side is Side.BUY:
            price = random_price(rng, info.band[0], self.limit_fen, info)
            if price is None:
                return actions
            cash = view.cash_fen() + freed_fen
            qty = min(qty, affordable_t(cash, price, self.fee_reserve_bp))
        else:
            price = random_price(rng, self.limit_fen, info.band[1], info)
            if price is None:
                return actions
            qty = min(qty, view.sellable_t(symbol) + freed_t)
        qty = lot_qty(qty, info)
        if qty:
            actions.append(Place(symbol, self.side, qty, price, OrderType.LIMIT))
        return actions
