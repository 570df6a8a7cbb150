"""Small helpers every agent uses to make orders the market accepts: prices on the tick and
inside today's band, quantities in whole lots within the order limits, cheap random draws.

Everything here reads the instrument's own numbers (``InstrumentInfo``) from the view, never
a constant, so the same agent trades correctly under any rule set.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from exchange.agents.base import Agent, InstrumentInfo, MarketView, OpenOrder
from matching.types import Side

CEA_PREFIX = "CEA"


def price_in_band(price_fen: float, info: InstrumentInfo, *, up: bool = False) -> int:
    """``price_fen`` on the tick (down for a buyer's limit, ``up`` for a seller's), then
    pulled inside today's band."""
    tick = info.tick_fen
    ticks = -int(-price_fen // tick) if up else int(price_fen // tick)
    lower, upper = info.band
    return min(upper, max(lower, ticks * tick))


def random_price(
    rng: random.Random, low_fen: float, high_fen: float, info: InstrumentInfo
) -> int | None:
    """A price drawn uniformly on the tick grid of [low, high] ∩ band, or None if that is
    empty (the agent then has no acceptable price today)."""
    tick = info.tick_fen
    lower, upper = info.band
    lo = max(lower, -int(-low_fen // tick) * tick)
    hi = min(upper, int(high_fen // tick) * tick)
    if lo > hi:
        return None
    return lo + int(rng.random() * ((hi - lo) // tick + 1)) * tick


def price_range(low_fen: float, high_fen: float, info: InstrumentInfo) -> tuple[int, int] | None:
    """[low, high] ∩ band on the tick grid, or None if empty."""
    tick = info.tick_fen
    lower, upper = info.band
    lo = max(lower, -int(-low_fen // tick) * tick)
    hi = min(upper, int(high_fen // tick) * tick)
    return (lo, hi) if lo <= hi else None


def lot_qty(qty_t: float, info: InstrumentInfo) -> int:
    """``qty_t`` rounded down to whole lots and capped at the order maximum; 0 when it is
    below the order minimum (the caller then places nothing)."""
    lot = info.lot_t
    qty = min(int(qty_t) // lot * lot, info.max_qty_t // lot * lot)
    return qty if qty >= info.min_qty_t else 0


def affordable_t(cash_fen: int, price_fen: int, reserve_bp: int) -> int:
    """Tonnes ``cash_fen`` buys at ``price_fen``, keeping ``reserve_bp`` (basis points of the
    notional) aside for fees the view does not show."""
    if price_fen <= 0:
        return 0
    return cash_fen * 10_000 // (price_fen * (10_000 + reserve_bp))


def cea_symbol(view: MarketView, year: int) -> str | None:
    """The allowance to trade for compliance year ``year``: that vintage if listed, else the
    latest listed vintage before it (borrowing forward is not assumed)."""
    best: tuple[int, str] | None = None
    for info in view.instruments():
        symbol = info.symbol
        if not symbol.startswith(CEA_PREFIX):
            continue
        try:
            vintage = int(symbol[len(CEA_PREFIX) :])
        except ValueError:
            continue
        if vintage == year:
            return symbol
        if vintage < year and (best is None or vintage > best[0]):
            best = (vintage, symbol)
    return None if best is None else best[1]


def offset_symbols(view: MarketView) -> list[str]:
    """Listed offset instruments (CCER, PHCER): every symbol that is not an allowance."""
    return [i.symbol for i in view.instruments() if not i.symbol.startswith(CEA_PREFIX)]


def own_orders(view: MarketView, symbol: str) -> tuple[Sequence[OpenOrder], int, int]:
    """The account's open orders on ``symbol``, with what cancelling them frees: the cash its
    buys hold (fen) and the units its sells hold (t)."""
    orders = [o for o in view.open_orders() if o.symbol == symbol]
    freed_fen = sum(o.leaves_t * (o.price_fen or 0) for o in orders if o.side is Side.BUY)
    freed_t = sum(o.leaves_t for o in orders if o.side is not Side.BUY)
    return orders, freed_fen, freed_t


class SymbolTrader(Agent):
    """An agent trading one instrument: its ``symbol`` parameter, else the allowance of the
    compliance year at its first wake-up (then kept)."""

    symbol: str | None = None

    def tradable_instrument(self, view: MarketView) -> InstrumentInfo | None:
        """Its instrument, settled on at the first call, or None when none is listed or it is
        not in continuous trading now (the agent then does nothing)."""
        symbol = self.symbol or cea_symbol(view, view.compliance_year)
        if symbol is None:
            return None
        self.symbol = symbol
        info = view.instrument(symbol)
        return info if info.tradable else None
