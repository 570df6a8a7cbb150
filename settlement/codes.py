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
    SettlementCode.DAY_NOT_AFTER_PREVIOUS: "A trading day opens after the previous one.",
    SettlementCode.DAY_NOT_CLOSED: "The previous trading day has not been closed and cleared.",
    SettlementCode.NO_TRADING_DAY: "No trading day is open.",
    SettlementCode.INVALID_CLOCK_STEP: "The market cannot move to that state from where it is.",
    SettlementCode.UNKNOWN_INSTRUMENT: "No instrument with this symbol is listed.",
    SettlementCode.OPERATION_NOT_ALLOWED: "Units are held and released by orders, not directly.",
    SettlementCode.PROVINCE_REQUIRED: "A covered entity's allocation comes through its province.",
}
