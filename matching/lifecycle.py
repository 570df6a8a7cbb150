"""The order and instrument lifecycles as tables: which status or state may follow which.

The engine moves instruments only along ``STATE_TRANSITIONS`` and refuses anything else. Order
statuses are derived from quantities (see ``Order.status``); the property tests check every
observed change of status against ``ORDER_TRANSITIONS``.
"""

from __future__ import annotations

from matching.types import OrderStatus, TradingState

_S = TradingState

STATE_TRANSITIONS: dict[TradingState, frozenset[TradingState]] = {
    _S.CLOSED: frozenset({_S.PRE_OPEN}),
    _S.PRE_OPEN: frozenset({_S.CONTINUOUS, _S.HALTED, _S.CLOSED}),
    _S.CONTINUOUS: frozenset({_S.BREAK, _S.HALTED, _S.CLOSED}),
    _S.BREAK: frozenset({_S.CONTINUOUS, _S.HALTED, _S.CLOSED}),
    _S.HALTED: frozenset({_S.CONTINUOUS, _S.BREAK, _S.CLOSED}),
}

_O = OrderStatus

ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    _O.NEW: frozenset({_O.NEW, _O.PARTIALLY_FILLED, _O.FILLED, _O.CANCELLED}),
    _O.PARTIALLY_FILLED: frozenset({_O.PARTIALLY_FILLED, _O.FILLED, _O.CANCELLED}),
    _O.FILLED: frozenset({_O.FILLED}),
    _O.CANCELLED: frozenset({_O.CANCELLED}),
}

TERMINAL_STATUSES = frozenset({_O.FILLED, _O.CANCELLED})
