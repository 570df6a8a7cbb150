"""Opening a trading day by hand, when no clock runs the market's days: the commands that open
the day and its continuous session (``createMarket`` with ``open_day``, a class's first day).
A clock does the same through its schedule (``exchange.clock``)."""

from __future__ import annotations

import datetime as dt

from matching.types import TradingState
from settlement.commands import MarketCommand, OpenDay, SetSession


def opening(day: dt.date) -> list[MarketCommand]:
    """What opens a trading day and its continuous session (no clock runs yet)."""
    return [OpenDay(0, day), SetSession(0, TradingState.CONTINUOUS)]
