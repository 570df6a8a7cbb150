"""Settlement (结算): cash accounts and holds, delivery versus payment of fills, fees, T+N
availability, day-end clearing, position limits, and the ``Market`` that joins book, cash and
registry into one state changed by one command at a time. Pure and synchronous."""

from settlement.cash import CNY, OUTSIDE, CashLedger, CashState
from settlement.codes import DESCRIPTIONS, SettlementCode
from settlement.commands import (
    COMMAND_TYPES,
    AmendOrder,
    CancelAll,
    CancelOrder,
    CloseDay,
    Deposit,
    EndOfDay,
    Halt,
    MarketCommand,
    OpenDay,
    PlaceOrder,
    RegistryCommand,
    Resume,
    SetSession,
    Withdraw,
)
from settlement.market import Market
from settlement.outcome import Close, Fill, LargeHolderReport, MarketPosting, Outcome, Statement
from settlement.spec import MarketSpec

__all__ = [
    "CNY",
    "COMMAND_TYPES",
    "DESCRIPTIONS",
    "OUTSIDE",
    "AmendOrder",
    "CancelAll",
    "CancelOrder",
    "CashLedger",
    "CashState",
    "Close",
    "CloseDay",
    "Deposit",
    "EndOfDay",
    "Fill",
    "Halt",
    "LargeHolderReport",
    "Market",
    "MarketCommand",
    "MarketPosting",
    "MarketSpec",
    "OpenDay",
    "Outcome",
    "PlaceOrder",
    "RegistryCommand",
    "Resume",
    "SetSession",
    "SettlementCode",
    "Statement",
    "Withdraw",
]
