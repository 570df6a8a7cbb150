"""Price-time matching engine: instruments, order book, order lifecycle and events.

Pure and synchronous: no I/O, no clock, no randomness. Ids and timestamps come in with commands.
"""

from matching.codes import RejectCode
from matching.commands import (
    AmendOrder,
    CancelAccountOrders,
    CancelOrder,
    Command,
    NewOrder,
    SetReferencePrice,
    SetTradingState,
)
from matching.engine import MatchingEngine
from matching.events import (
    BookLevelChanged,
    CommandRejected,
    Event,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderReduced,
    ReferencePriceSet,
    TradeExecuted,
    TradingStateChanged,
)
from matching.instruments import Instrument, ModeRules, RuleDataError, instrument_from_rules
from matching.types import (
    AccountId,
    CancelReason,
    Matching,
    OrderId,
    OrderStatus,
    OrderType,
    Side,
    StpMode,
    Symbol,
    TradeId,
    TradingState,
)

__all__ = [
    "AccountId",
    "AmendOrder",
    "BookLevelChanged",
    "CancelAccountOrders",
    "CancelOrder",
    "CancelReason",
    "Command",
    "CommandRejected",
    "Event",
    "Instrument",
    "Matching",
    "MatchingEngine",
    "ModeRules",
    "NewOrder",
    "OrderAccepted",
    "OrderAmended",
    "OrderCancelled",
    "OrderId",
    "OrderReduced",
    "OrderStatus",
    "OrderType",
    "ReferencePriceSet",
    "RejectCode",
    "RuleDataError",
    "SetReferencePrice",
    "SetTradingState",
    "Side",
    "StpMode",
    "Symbol",
    "TradeExecuted",
    "TradeId",
    "TradingState",
    "TradingStateChanged",
    "instrument_from_rules",
]
