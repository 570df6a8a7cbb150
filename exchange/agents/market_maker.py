"""The market maker: two-sided quotes around the market, leaning against its inventory."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from exchange.agents.base import Action, CancelAll, Firm, MarketView, Place, register
from exchange.agents.common import SymbolTrader, affordable_t, lot_qty, own_orders, price_in_band
from matching.types import OrderType, Side

BP = 10_000


@register
class MarketMaker(SymbolTrader):
    """Quotes a bid and an ask around a reference price, skewed by its inventory.

    Rule. At each wake-up it withdraws its quotes and quotes again around the mid of the
    best bid and offer (the last price when a side is empty): bid at mid × (1 - half-spread
    + skew), ask at mid × (1 + half-spread + skew), where skew = -``skew_bp`` × (inventory -
    target) / ``max_inventory_t``: long, it lowers both quotes to sell more and buy less;
    short of its target, it raises them. Bounded: no bid once its inventory reaches
    ``max_inventory_t`` (nor one that could take it beyond), no ask beyond its sellable
    units, no bid beyond its cash; bid and ask always at least one tick apart, both inside
    the band.

    Parameters (defaults): ``half_spread_bp`` (50); ``qty_t`` (1000) per quote;
    ``max_inventory_t`` (20000); ``target_inventory_t`` (None: half the maximum);
    ``skew_bp`` (100); ``symbol`` (None: the allowance of the compliance year);
    ``fee_reserve_bp`` (100); ``wakeups_per_day``.
    """

    kind = "market_maker"
    wakeups_per_day = 40.0

    def __init__(
        self,
        account_id: str,
        firm: Firm | None = None,
        *,
        half_spread_bp: int = 50,
        qty_t: int = 1_000,
        max_inventory_t: int = 20_000,
        target_inventory_t: int | None = None,
        skew_bp: int = 100,
        symbol: str | None = None,
        fee_reserve_bp: int = 100,
        **params: Any,
    ) -> None:
        super().__init__(account_id, firm, **params)
        self.half_spread_bp = half_spread_bp
        self.qty_t = qty_t
        self.max_inventory_t = max_inventory_t
        self.target_inventory_t = (
            max_inventory_t // 2 if target_inventory_t is None else target_inventory_t
        )
        self.skew_bp = skew_bp
        self.symbol = symbol
        self.fee_reserve_bp = fee_reserve_bp

    def act(self, view: MarketView, rng: random.Random) -> Iterable[Action]:
        info = self.tradable_instrument(view)
        if info is None:
            return ()
        symbol = info.symbol
        _, freed_fen, freed_t = own_orders(view, symbol)
        actions: list[Action] = [CancelAll(symbol)] if freed_fen or freed_t else []
        bid_q, ask_q = view.best_bid(symbol), view.best_ask(symbol)
        if bid_q is not None and ask_q is not None:
            mid = (bid_q.price_fen + ask_q.price_fen) / 2
        else:
            mid = view.last_price(symbol) or info.reference_price_fen
        inventory = view.holding_t(symbol)
        skew = -self.skew_bp * (inventory - self.target_inventory_t) / max(1, self.max_inventory_t)
        half = self.half_spread_bp
        bid = price_in_band(mid * (BP - half + skew) / BP, info)
        ask = price_in_band(mid * (BP + half + skew) / BP, info, up=True)
        if ask - bid < info.tick_fen:  # squeezed against a band edge
            if ask + info.tick_fen <= info.band[1]:
                ask = bid + info.tick_fen
            else:
                bid = ask - info.tick_fen
        cash = view.cash_fen() + freed_fen
        bid_qty = lot_qty(
            min(
                self.qty_t,
                self.max_inventory_t - inventory,
                affordable_t(cash, bid, self.fee_reserve_bp),
            ),
            info,
        )
        if bid_qty and bid >= info.band[0]:
            actions.append(Place(symbol, Side.BUY, bid_qty, bid, OrderType.LIMIT))
        ask_qty = lot_qty(min(self.qty_t, view.sellable_t(symbol) + freed_t), info)
        if ask_qty and ask <= info.band[1]:
            actions.append(Place(symbol, Side.SELL, ask_qty, ask, OrderType.LIMIT))
        return actions
