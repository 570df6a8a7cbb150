"""The price a compliance penalty is a multiple of: "the previous month's average price"
(docs/rules.md, national: penalty), one rule for a class, the API and the simulator.

The market keeps, per cleared trading day, the listed allowance volume and turnover of its
last ``penalty.reference_window_days`` days (``Market.reference_window``). The price is their
volume-weighted average (``registry_sim.projection.window_price_fen``); when nothing traded in
the window it is the last close: the reference price of the year's vintage if it is listed,
else of the latest vintage listed.
"""

from __future__ import annotations

from dataclasses import dataclass

from registry_sim.model import UnitKind
from registry_sim.projection import window_price_fen
from settlement.market import Market

WINDOW_VWAP = "window_vwap"
LAST_CLOSE = "last_close"


@dataclass(frozen=True, slots=True)
class PenaltyPrice:
    """A reference price and where it comes from; ``price_fen`` None: no allowance is listed
    and none traded, so a price multiple cannot be applied."""

    price_fen: int | None
    basis: str | None  # WINDOW_VWAP, LAST_CLOSE, or None without a price
    symbol: str | None  # LAST_CLOSE: the instrument whose close it is


def penalty_price(market: Market, year: int) -> PenaltyPrice:
    """The penalty reference price of compliance year ``year`` as the market stands."""
    window = market.reference_window
    price = window_price_fen(window)
    if price is not None:
        return PenaltyPrice(price, WINDOW_VWAP, None)
    listed = sorted(s for s in market.instruments if s.startswith(UnitKind.CEA.value))
    if not listed:
        return PenaltyPrice(None, None, None)
    symbol = f"{UnitKind.CEA.value}{year}"
    symbol = symbol if symbol in listed else listed[-1]
    close = market.engine.book_info(symbol).reference_price_fen
    return PenaltyPrice(close, LAST_CLOSE, symbol)
