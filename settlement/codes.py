"""Refusal codes of settlement and the market's own commands, stable for clients.

Matching (``matching.codes.RejectCode``) and the registry (``registry_sim.codes.RegistryCode``)
have their own; a market outcome carries whichever refused the command.
"""

from __future__ import annotations

from enum import StrEnum


class SettlementCode(StrEnum):
    # -- accounts and cash
    UNKNOWN_ACCOUNT = "UNKNOWN_ACCOUNT"
    NOT_A_TRADING_ACCOUNT = "NOT_A_TRADING_ACCOUNT"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    INSUFFICIENT_WITHDRAWABLE = "INSUFFICIENT_WITHDRAWABLE"
    # -- orders
    INSUFFICIENT_UNITS = "INSUFFICIENT_UNITS"
    POSITION_LIMIT_EXCEEDED = "POSITION_LIMIT_EXCEEDED"
    CLIENT_ORDER_ID_CONFLICT = "CLIENT_ORDER_ID_CONFLICT"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    # -- auctions (拍卖)
    AUCTION_NOT_OFFERED = "AUCTION_NOT_OFFERED"
    AUCTION_BAD_NOTICE = "AUCTION_BAD_NOTICE"
    AUCTION_GONE = "AUCTION_GONE"
    AUCTION_WINDOW_CLOSED = "AUCTION_WINDOW_CLOSED"
    AUCTION_WINDOW_OPEN = "AUCTION_WINDOW_OPEN"
    AUCTION_BELOW_RESERVE = "AUCTION_BELOW_RESERVE"
    AUCTION_BID_SIZE = "AUCTION_BID_SIZE"
    AUCTION_OVER_CAP = "AUCTION_OVER_CAP"
    AUCTION_OWN_OFFER = "AUCTION_OWN_OFFER"
    AUCTION_BID_GONE = "AUCTION_BID_GONE"
    AUCTION_BIDS_BINDING = "AUCTION_BIDS_BINDING"
    AUCTION_FIXED_PRICE = "AUCTION_FIXED_PRICE"
    AUCTION_NOT_ELIGIBLE = "AUCTION_NOT_ELIGIBLE"
    AUCTION_OVER_NEED = "AUCTION_OVER_NEED"
    # -- block trades (大宗协议)
    BLOCK_NOT_OFFERED = "BLOCK_NOT_OFFERED"
    BLOCK_SESSION_CLOSED = "BLOCK_SESSION_CLOSED"
    BLOCK_BELOW_MINIMUM = "BLOCK_BELOW_MINIMUM"
    BLOCK_OUTSIDE_BAND = "BLOCK_OUTSIDE_BAND"
    BLOCK_DIRECTED_NOT_ALLOWED = "BLOCK_DIRECTED_NOT_ALLOWED"
    BLOCK_OWN_QUOTE = "BLOCK_OWN_QUOTE"
    BLOCK_NOT_COUNTERPARTY = "BLOCK_NOT_COUNTERPARTY"
    BLOCK_QUOTE_GONE = "BLOCK_QUOTE_GONE"
    BLOCK_NEGOTIATION_GONE = "BLOCK_NEGOTIATION_GONE"
    BLOCK_QTY_OVER_QUOTE = "BLOCK_QTY_OVER_QUOTE"
    BLOCK_NOT_YOUR_TURN = "BLOCK_NOT_YOUR_TURN"
    BLOCK_TERMS_CHANGED = "BLOCK_TERMS_CHANGED"
    # -- the trading day
    DAY_NOT_AFTER_PREVIOUS = "DAY_NOT_AFTER_PREVIOUS"
    DAY_NOT_CLOSED = "DAY_NOT_CLOSED"
    NO_TRADING_DAY = "NO_TRADING_DAY"
    INVALID_CLOCK_STEP = "INVALID_CLOCK_STEP"
    UNKNOWN_INSTRUMENT = "UNKNOWN_INSTRUMENT"
    # -- registry operations through the market
    OPERATION_NOT_ALLOWED = "OPERATION_NOT_ALLOWED"
    PROVINCE_REQUIRED = "PROVINCE_REQUIRED"


DESCRIPTIONS: dict[SettlementCode, str] = {
    SettlementCode.UNKNOWN_ACCOUNT: "No account with this id is open in this market.",
    SettlementCode.NOT_A_TRADING_ACCOUNT: "Only covered entities and participants trade.",
    SettlementCode.INVALID_AMOUNT: "Amounts are whole fen of at least 1.",
    SettlementCode.INSUFFICIENT_FUNDS: "A buy first holds price × quantity + fees of cash.",
    SettlementCode.INSUFFICIENT_WITHDRAWABLE: "Proceeds become withdrawable only from T+N.",
    SettlementCode.INSUFFICIENT_UNITS: "A sell holds available units first; units bought today "
    "become sellable from T+N.",
    SettlementCode.POSITION_LIMIT_EXCEEDED: "The order would take the position beyond its limit.",
    SettlementCode.CLIENT_ORDER_ID_CONFLICT: "Today's client order id names another order.",
    SettlementCode.UNKNOWN_ORDER: "No order with this id belongs to the account.",
    SettlementCode.BLOCK_NOT_OFFERED: "The market's rule set offers no block trading.",
    SettlementCode.BLOCK_SESSION_CLOSED: "Block quotes are posted and dealt in the block "
    "session only.",
    SettlementCode.BLOCK_BELOW_MINIMUM: "A block quote or deal is at least the block minimum.",
    SettlementCode.BLOCK_OUTSIDE_BAND: "A block price is within the block band around the "
    "previous listed close.",
    SettlementCode.BLOCK_DIRECTED_NOT_ALLOWED: "This market's block quotes cannot name a "
    "counterparty.",
    SettlementCode.BLOCK_OWN_QUOTE: "An account does not deal with its own block quote.",
    SettlementCode.BLOCK_NOT_COUNTERPARTY: "The quote is directed to another account, or the "
    "negotiation is between others.",
    SettlementCode.BLOCK_QUOTE_GONE: "The block quote was dealt, cancelled or has expired.",
    SettlementCode.BLOCK_NEGOTIATION_GONE: "The negotiation ended, was dealt or has expired.",
    SettlementCode.BLOCK_QTY_OVER_QUOTE: "The quantity exceeds what is left of the quote.",
    SettlementCode.BLOCK_NOT_YOUR_TURN: "The latest terms are yours: the other side confirms "
    "or counters.",
    SettlementCode.BLOCK_TERMS_CHANGED: "The other side countered: confirm the terms that stand.",
    SettlementCode.DAY_NOT_AFTER_PREVIOUS: "A trading day opens after the previous one.",
    SettlementCode.DAY_NOT_CLOSED: "The previous trading day has not been closed and cleared.",
    SettlementCode.NO_TRADING_DAY: "No trading day is open.",
    SettlementCode.INVALID_CLOCK_STEP: "The market cannot move to that state from where it is.",
    SettlementCode.UNKNOWN_INSTRUMENT: "No instrument with this symbol is listed.",
    SettlementCode.OPERATION_NOT_ALLOWED: "Units are held and released by orders, not directly.",
    SettlementCode.PROVINCE_REQUIRED: "A covered entity's allocation comes through its province.",
}
