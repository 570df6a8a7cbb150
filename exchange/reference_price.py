"""The price a projected or assessed penalty is priced with when none is given: a stand-in for
"the previous month's average price" (docs/rules.md), the reference price of a listed allowance.
Read from the market's memory, so the gateway and the classroom price alike."""

from __future__ import annotations

from registry_sim.model import UnitKind
from settlement.market import Market


def listed_reference(market: Market, year: int) -> tuple[str, int] | None:
    """A stand-in for the previous month's average price: the reference price (the last close)
    of the year's vintage if it is listed, else of the latest listed allowance; with its
    symbol."""
    listed = sorted(s for s in market.instruments if s.startswith(UnitKind.CEA.value))
    if not listed:
        return None
    symbol = f"{UnitKind.CEA.value}{year}"
    symbol = symbol if symbol in listed else listed[-1]
    return symbol, market.engine.book_info(symbol).reference_price_fen


def listed_reference_price_fen(market: Market, year: int) -> int | None:
    """``listed_reference``'s price."""
    found = listed_reference(market, year)
    return None if found is None else found[1]
