"""The CCER project owner: sells the offsets its project was issued."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from exchange.agents.base import Action, Agent, Cancel, Firm, MarketView, Place, register
from exchange.agents.common import (
    cea_symbol,
    lot_qty,
    offset_symbols,
    price_in_band,
    random_price,
)
from matching.types import OrderType, Side

BP = 10_000


@register
class CcerSeller(Agent):
    """Offers its issued offsets (CCER, 国家核证自愿减排量) at a discount to allowances.

    Rule. Offsets can cover only a capped share of an obligation, so they trade below the
    allowance (CEA). At each wake-up, for every offset instrument it can sell, it replaces its
    offer with one at the allowance's price (its last price, else its reference) less
    ``discount_bp``, blurred by up to ``jitter_bp`` either way, on the tick and pulled inside
    the offset's band, but never below ``floor_fen`` (the project's own cost); with no allowance
    listed it anchors on the offset's own last price. Quantity: at most ``qty_t`` per
    offer, never more than it can sell.

    Parameters (defaults): ``discount_bp`` (1500); ``jitter_bp`` (300); ``qty_t`` (5000);
    ``floor_fen`` (0); ``wakeups_per_day``.
    """

    kind = "ccer_seller"
    wakeups_per_day = 4.0

    def __init__(
        self,
        account_id: str,
        firm: Firm | None = None,
        *,
        discount_bp: int = 1_500,
        jitter_bp: int = 300,
        qty_t: int = 5_000,
        floor_fen: int = 0,
        **params: Any,
    ) -> None:
        super().__init__(account_id, firm, **params)
        self.discount_bp = discount_bp
        self.jitter_bp = jitter_bp
        self.qty_t = qty_t
        self.floor_fen = floor_fen

    def act(self, view: MarketView, rng: random.Random) -> Iterable[Action]:
        cea = cea_symbol(view, view.compliance_year)
        anchor: int | None = None
        if cea is not None:
            anchor = view.last_price(cea) or view.instrument(cea).reference_price_fen
        resting = {o.symbol: o for o in view.open_orders() if o.side is Side.SELL}
        actions: list[Action] = []
        for symbol in offset_symbols(view):
            order = resting.get(symbol)
            freed_t = 0
            if order is not None:
                actions.append(Cancel(order.order_id))
                freed_t = order.leaves_t
            sellable = view.sellable_t(symbol) + freed_t
            if not sellable:
                continue
            info = view.instrument(symbol)
            if not info.tradable:
                continue
            base = anchor
            if base is None:
                base = view.last_price(symbol) or info.reference_price_fen
            target = base * (BP - self.discount_bp) / BP
            jitter = target * self.jitter_bp / BP
            # Pulled inside today's band (the band moves daily; the anchor may lie beyond it),
            # but never below the floor.
            low = price_in_band(max(self.floor_fen, target - jitter), info, up=True)
            high = price_in_band(target + jitter, info)
            price = random_price(rng, max(low, self.floor_fen), max(high, low), info)
            qty = lot_qty(min(self.qty_t, sellable), info)
            if price is not None and qty:
                actions.append(Place(symbol, Side.SELL, qty, price, OrderType.LIMIT))
        return actions
