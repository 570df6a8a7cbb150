"""Identifier types and the small enums every other module of the engine speaks in.

Ids are plain ``int``/``str`` at run time (``NewType`` costs nothing on the hot path) but keep
mypy from mixing an order id with a trade id or a sequence number.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NewType

OrderId = NewType("OrderId", int)
TradeId = NewType("TradeId", int)
AccountId = NewType("AccountId", str)
Symbol = NewType("Symbol", str)


class Side(StrEnum):
    """Buy (买入) or sell (卖出)."""

    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    """How an order meets the book.

    LIMIT rests for the day; MARKET takes liquidity up to the band edge and cancels the rest;
    IOC takes what it can at its limit and cancels the rest; FOK fills in full at its limit or
    does nothing.
    """

    LIMIT = "limit"
    MARKET = "market"
    IOC = "ioc"
    FOK = "fok"


class Matching(StrEnum):
    """How the listed book's orders meet (docs/rules.md, ``matching``).

    PRICE_TIME: a marketable order crosses the book in price-time priority. POINT_SELECT
    (挂牌点选, 摘牌): a taker names one resting quote and trades at its price; orders that
    would cross are refused. BOTH: either way.
    """

    PRICE_TIME = "price_time"
    POINT_SELECT = "point_select"
    BOTH = "both"


class StpMode(StrEnum):
    """Self-trade prevention: what happens when an order would trade with its own account.

    The incoming (aggressing) order's mode decides.
    """

    CANCEL_NEWEST = "cancel_newest"
    CANCEL_OLDEST = "cancel_oldest"
    CANCEL_BOTH = "cancel_both"
    DECREMENT = "decrement"


class TradingState(StrEnum):
    """An instrument's trading state (交易状态).

    CLOSED: outside the trading day, the book is empty. PRE_OPEN: the day's reference price and
    band are set, orders are not yet taken. CONTINUOUS: continuous price-time matching.
    BREAK: the midday pause (休市), resting orders stay. HALTED: stopped by the operator (暂停).
    """

    CLOSED = "closed"
    PRE_OPEN = "pre_open"
    CONTINUOUS = "continuous"
    BREAK = "break"
    HALTED = "halted"


class CancelReason(StrEnum):
    """Why quantity left the book without trading."""

    USER = "user"
    IOC_REMAINDER = "ioc_remainder"
    FOK_NOT_FILLABLE = "fok_not_fillable"
    STP = "stp"
    EXPIRY = "expiry"
    HALT = "halt"
    KILL_SWITCH = "kill_switch"


class OrderStatus(StrEnum):
    """Where an order is in its life. See ``matching.lifecycle`` for the legal transitions."""

    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
