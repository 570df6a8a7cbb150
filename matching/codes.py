"""Stable refusal codes, grouped by the stage of validation that raises them.

The string values are part of the public API (REST problem documents, journal, UI) and never
change meaning. Checks run in the order of this file, so a command with several faults is
refused with the first one listed here.
"""

from __future__ import annotations

from enum import StrEnum


class RejectCode(StrEnum):
    # -- instrument and trading state
    UNKNOWN_INSTRUMENT = "UNKNOWN_INSTRUMENT"
    INVALID_STATE_TRANSITION = "INVALID_STATE_TRANSITION"
    REFERENCE_PRICE_LOCKED = "REFERENCE_PRICE_LOCKED"
    INVALID_REFERENCE_PRICE = "INVALID_REFERENCE_PRICE"

    # -- order identity and ownership
    DUPLICATE_ORDER_ID = "DUPLICATE_ORDER_ID"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    NOT_OWNER = "NOT_OWNER"
    ORDER_NOT_OPEN = "ORDER_NOT_OPEN"

    # -- session
    INSTRUMENT_HALTED = "INSTRUMENT_HALTED"
    INSTRUMENT_NOT_OPEN = "INSTRUMENT_NOT_OPEN"

    # -- quantity
    AMEND_NO_CHANGE = "AMEND_NO_CHANGE"
    QTY_OUTSIDE_LIMITS = "QTY_OUTSIDE_LIMITS"
    QTY_OFF_LOT = "QTY_OFF_LOT"
    AMEND_QTY_NOT_ABOVE_FILLED = "AMEND_QTY_NOT_ABOVE_FILLED"

    # -- price
    PRICE_REQUIRED = "PRICE_REQUIRED"
    PRICE_NOT_ALLOWED = "PRICE_NOT_ALLOWED"
    PRICE_OFF_TICK = "PRICE_OFF_TICK"
    PRICE_OUTSIDE_BAND = "PRICE_OUTSIDE_BAND"

    # -- how orders meet: point-select (摘牌) only
    ORDER_TYPE_NOT_ALLOWED = "ORDER_TYPE_NOT_ALLOWED"
    ORDER_WOULD_CROSS = "ORDER_WOULD_CROSS"

    # -- taking a quote (摘牌)
    POINT_SELECT_NOT_OFFERED = "POINT_SELECT_NOT_OFFERED"
    QUOTE_NOT_FOUND = "QUOTE_NOT_FOUND"
    SELF_TAKE = "SELF_TAKE"
    TAKE_OVER_QUOTE = "TAKE_OVER_QUOTE"
    PARTIAL_TAKE_NOT_ALLOWED = "PARTIAL_TAKE_NOT_ALLOWED"
    QUOTE_OUTSIDE_TAKE_LEVELS = "QUOTE_OUTSIDE_TAKE_LEVELS"
    QUOTE_NOT_FIRST = "QUOTE_NOT_FIRST"


DESCRIPTIONS: dict[RejectCode, str] = {
    RejectCode.UNKNOWN_INSTRUMENT: "No instrument with this symbol is listed in the market.",
    RejectCode.INVALID_STATE_TRANSITION: "The instrument cannot move from its state to that one.",
    RejectCode.REFERENCE_PRICE_LOCKED: "The reference price changes only while closed or pre-open.",
    RejectCode.INVALID_REFERENCE_PRICE: "A reference price must be positive and on the tick.",
    RejectCode.DUPLICATE_ORDER_ID: "An order with this id was already submitted in this market.",
    RejectCode.UNKNOWN_ORDER: "No order with this id exists in this market.",
    RejectCode.NOT_OWNER: "The order belongs to another account.",
    RejectCode.ORDER_NOT_OPEN: "The order is already filled or cancelled.",
    RejectCode.INSTRUMENT_HALTED: "Trading in the instrument is halted.",
    RejectCode.INSTRUMENT_NOT_OPEN: "The instrument is not in continuous trading.",
    RejectCode.AMEND_NO_CHANGE: "The amendment changes neither price nor quantity.",
    RejectCode.QTY_OUTSIDE_LIMITS: "The quantity is outside the mode's minimum and maximum.",
    RejectCode.QTY_OFF_LOT: "The quantity is not a whole number of lots.",
    RejectCode.AMEND_QTY_NOT_ABOVE_FILLED: "The new quantity must exceed what is already filled.",
    RejectCode.PRICE_REQUIRED: "Limit, IOC and FOK orders need a price.",
    RejectCode.PRICE_NOT_ALLOWED: "Market orders carry no price; they trade up to the band edge.",
    RejectCode.PRICE_OFF_TICK: "The price is not a whole number of ticks.",
    RejectCode.PRICE_OUTSIDE_BAND: "The price is outside today's price band.",
    RejectCode.ORDER_TYPE_NOT_ALLOWED: "Under point-select only, orders are limit orders that "
    "rest; market, IOC and FOK orders are refused.",
    RejectCode.ORDER_WOULD_CROSS: "Under point-select only, an order may not cross the book: "
    "take the quote instead.",
    RejectCode.POINT_SELECT_NOT_OFFERED: "The market's rule set offers no point-select (摘牌).",
    RejectCode.QUOTE_NOT_FOUND: "No quote with this id rests in the book: it was filled, "
    "cancelled or never there.",
    RejectCode.SELF_TAKE: "An account does not take its own quote.",
    RejectCode.TAKE_OVER_QUOTE: "The quantity exceeds the quote's open quantity.",
    RejectCode.PARTIAL_TAKE_NOT_ALLOWED: "The rule set lets a quote be taken only whole.",
    RejectCode.QUOTE_OUTSIDE_TAKE_LEVELS: "The quote is not among the counter side's best price "
    "levels that may be taken.",
    RejectCode.QUOTE_NOT_FIRST: "Under price-time priority only the first quote at the best "
    "price may be taken.",
}
