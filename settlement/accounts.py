"""A ``Market``'s commands on accounts rather than orders: cash brought in and taken out
(deposit, withdrawal, T+N withdrawable: docs/settlement.md, "Cash" and "Availability") and the
registry's operations (opening accounts, issuance, transfers, compliance: docs/rules.md).

Module-level functions taking the market (``Market`` is a native class when compiled,
docs/adr/0002); ``Market.apply`` dispatches these commands here.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Final

from registry_sim.model import AccountKind
from registry_sim.ops import Hold, Op, OpenAccount, ReleaseHold
from registry_sim.registry import Done
from settlement.cash import OUTSIDE, CashState
from settlement.clearing import TRADING_KINDS
from settlement.codes import SettlementCode
from settlement.commands import Deposit, RegistryCommand, Withdraw
from settlement.outcome import MarketPosting, Outcome, refused

if TYPE_CHECKING:
    from settlement.market import Market

CASH_AVAILABLE = CashState.AVAILABLE
# Cash brought into a market, and one issuance, stay far inside the databases' 64-bit integers
# (2**63 - 1), so no balance or sum of balances can overflow a column.
MAX_TOTAL: Final = 2**53


def deposit(market: Market, cmd: Deposit) -> Outcome:
    kind = "deposit"
    refusal = market._trading_account(kind, cmd.account_id)
    if refusal is not None:
        return refusal
    brought_in = -market.cash.balance(OUTSIDE)
    if cmd.amount_fen < 1 or brought_in + cmd.amount_fen > MAX_TOTAL:
        return refused(
            kind,
            SettlementCode.INVALID_AMOUNT,
            amount_fen=cmd.amount_fen,
            deposited_fen=brought_in,
            max_total_fen=MAX_TOTAL,
        )
    outcome = market._outcome = Outcome(kind)
    target = (cmd.account_id, CASH_AVAILABLE)
    market._post_cash(f"deposit:{cmd.ref}", cmd.amount_fen, (OUTSIDE, CASH_AVAILABLE), target)
    return outcome


def withdraw(market: Market, cmd: Withdraw) -> Outcome:
    kind = "withdraw"
    refusal = market._trading_account(kind, cmd.account_id)
    if refusal is not None:
        return refusal
    if cmd.amount_fen < 1:
        return refused(kind, SettlementCode.INVALID_AMOUNT, amount_fen=cmd.amount_fen)
    withdrawable = market.withdrawable_fen(cmd.account_id)
    if cmd.amount_fen > withdrawable:
        return refused(
            kind,
            SettlementCode.INSUFFICIENT_WITHDRAWABLE,
            requested_fen=cmd.amount_fen,
            withdrawable_fen=withdrawable,
            available_fen=market.cash.balance(cmd.account_id, CASH_AVAILABLE),
            locked_fen=market._cash_locked_fen.get(cmd.account_id, 0),
        )
    outcome = market._outcome = Outcome(kind)
    source = (cmd.account_id, CASH_AVAILABLE)
    market._post_cash(f"withdraw:{cmd.ref}", cmd.amount_fen, source, (OUTSIDE, CASH_AVAILABLE))
    return outcome


def registry_command(market: Market, cmd: RegistryCommand) -> Outcome:
    """One registry operation, with its unit movements as the market's postings."""
    kind = "registry"
    op = cmd.op
    if isinstance(op, Hold | ReleaseHold):  # holds belong to orders (settlement)
        return refused(kind, SettlementCode.OPERATION_NOT_ALLOWED, operation=type(op).__name__)
    for name, value in _numbers(op):
        if value > MAX_TOTAL:  # quantities, emissions, outputs: far inside 64 bits
            return refused(kind, SettlementCode.INVALID_AMOUNT, field=name, value=value)
    if isinstance(op, OpenAccount):
        account = op.account
        if account.kind not in TRADING_KINDS:
            return refused(kind, SettlementCode.NOT_A_TRADING_ACCOUNT, kind=account.kind.value)
        if account.kind is AccountKind.COVERED_ENTITY and not account.province:
            return refused(kind, SettlementCode.PROVINCE_REQUIRED, account_id=account.account_id)
    registry = market.registry
    repeated = registry.knows(op.op_id)
    result = registry.apply(op)
    if not isinstance(result, Done):
        return Outcome(kind, code=result.code.value, details=dict(result.details))
    if isinstance(op, OpenAccount):
        market._traders.add(op.account.account_id)
    outcome = market._outcome = Outcome(kind, repeated=repeated, details=dict(result.details))
    if not repeated:
        market._limits.clear()  # allocation may have changed
        market._positions.clear()  # and holdings
        for p in result.postings:
            market.posting_seq += 1
            outcome.postings.append(
                MarketPosting(
                    market.posting_seq,
                    p.unit,
                    p.qty_t,
                    p.from_account,
                    p.from_state,
                    p.to_account,
                    p.to_state,
                    f"op:{p.op_id}",
                )
            )
    return outcome


def _numbers(op: Op) -> list[tuple[str, int]]:
    """The whole-number fields of a registry operation."""
    out = []
    for f in dataclasses.fields(op):
        value = getattr(op, f.name)
        if isinstance(value, int) and not isinstance(value, bool):
            out.append((f.name, value))
    return out
