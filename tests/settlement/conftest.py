"""Fixtures and terse helpers for the market tests.

``Mkt`` wraps a ``Market`` with one-line helpers (``m.buy("A", 100, 6200)``) that fill in
timestamps and ids. ``m.ok(command)`` applies a command that must be accepted and returns its
outcome; ``m.refused(command, code)`` applies one that must be refused and checks that it
changed nothing (the state hash is the same, nothing was posted) and returns the details.

The standard market lists CEA2025 at a first reference price of CNY 60.00 (6,000 fen), so its
band on the first day is CNY 54.00-66.00 (±10 %), and CEA2024 at CNY 58.00. Each test opens
its own accounts and names the cash and units it gives them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from matching.types import OrderType, Side, StpMode, TradingState
from registry_sim.model import Account, AccountId, AccountKind
from registry_sim.ops import IssueAllowances, Op, OpenAccount
from settlement import (
    CNY,
    CloseDay,
    Deposit,
    EndOfDay,
    Market,
    MarketCommand,
    MarketSpec,
    OpenDay,
    Outcome,
    PlaceOrder,
    RegistryCommand,
    SetSession,
)

SYM = "CEA2025"
REF = 6_000  # CNY 60.00
INSTRUMENTS = (("CEA2025", REF), ("CEA2024", 5_800))
DAY1 = dt.date(2026, 11, 23)  # a Monday
DAY2 = dt.date(2026, 11, 24)
DAY3 = dt.date(2026, 11, 25)
FEES_30_25: dict[str, Any] = {"settlement": {"fee_bp_buy": 30, "fee_bp_sell": 25}}

BUY, SELL = Side.BUY, Side.SELL
LIMIT, MARKET, IOC, FOK = OrderType.LIMIT, OrderType.MARKET, OrderType.IOC, OrderType.FOK
CONTINUOUS = TradingState.CONTINUOUS


class Mkt:
    """A market plus one-line helpers; every command gets the next timestamp."""

    def __init__(
        self,
        rules: str = "cn_national",
        overrides: Mapping[str, Any] | None = None,
        instruments: tuple[tuple[str, int], ...] = INSTRUMENTS,
    ) -> None:
        self.market = Market(MarketSpec("t", rules, instruments, overrides=dict(overrides or {})))
        self.ts = 0
        self.ids = 0

    # -- raw

    def next_ts(self) -> int:
        self.ts += 1_000
        return self.ts

    def op_id(self) -> str:
        self.ids += 1
        return f"op-{self.ids}"

    def do(self, command: MarketCommand) -> Outcome:
        return self.market.apply(command)

    def ok(self, command: MarketCommand) -> Outcome:
        outcome = self.market.apply(command)
        assert outcome.ok, (command, outcome.code, outcome.details)
        return outcome

    def refused(self, command: MarketCommand, code: str) -> Mapping[str, Any]:
        before = self.market.state_hash()
        balances = self.market.balances()
        outcome = self.market.apply(command)
        assert outcome.code == code, (command, outcome)
        assert not outcome.postings
        assert not outcome.fills
        assert self.market.state_hash() == before, f"refused {command} changed the state"
        assert self.market.balances() == balances
        return outcome.details

    # -- accounts, cash and units

    def registry(self, op: Op) -> Outcome:
        return self.do(RegistryCommand(self.next_ts(), op))

    def participant(self, *names: str) -> None:
        for name in names:
            a = AccountId(name)
            self.ok(
                RegistryCommand(
                    self.next_ts(),
                    OpenAccount(self.op_id(), Account(a, AccountKind.PARTICIPANT, name)),
                )
            )

    def entity(self, name: str, province: str = "Hubei") -> None:
        account = Account(AccountId(name), AccountKind.COVERED_ENTITY, name, province=province)
        self.ok(RegistryCommand(self.next_ts(), OpenAccount(self.op_id(), account)))

    def deposit(self, account: str, amount_fen: int) -> Outcome:
        return self.ok(Deposit(self.next_ts(), AccountId(account), amount_fen, self.op_id()))

    def issue(self, account: str, qty_t: int, vintage: int = 2025) -> Outcome:
        op = IssueAllowances(self.op_id(), AccountId(account), vintage, qty_t)
        return self.ok(RegistryCommand(self.next_ts(), op))

    def cash(self, account: str, state: str = "available") -> int:
        return self.market.balance(account, CNY, state)

    def units(self, account: str, state: str = "available", unit: str = SYM) -> int:
        return self.market.balance(account, unit, state)

    # -- the day

    def open_day(self, day: dt.date = DAY1) -> None:
        self.ok(OpenDay(self.next_ts(), day))
        self.ok(SetSession(self.next_ts(), CONTINUOUS))

    def close_day(self) -> Outcome:
        self.ok(CloseDay(self.next_ts()))
        return self.ok(EndOfDay(self.next_ts()))

    def next_day(self, day: dt.date) -> Outcome:
        """Close and clear today, open ``day`` in continuous trading; the day-end outcome."""
        outcome = self.close_day()
        self.open_day(day)
        return outcome

    # -- orders

    def order(
        self,
        account: str,
        side: Side,
        qty_t: int,
        price_fen: int | None = None,
        *,
        order_type: OrderType = LIMIT,
        symbol: str = SYM,
        client_order_id: str | None = None,
        stp: StpMode = StpMode.CANCEL_NEWEST,
    ) -> PlaceOrder:
        return PlaceOrder(
            self.next_ts(),
            AccountId(account),
            symbol,
            side,
            order_type,
            qty_t,
            price_fen,
            stp,
            client_order_id,
        )

    def buy(self, account: str, qty_t: int, price_fen: int | None = None, **kw: Any) -> Outcome:
        return self.ok(self.order(account, BUY, qty_t, price_fen, **kw))

    def sell(self, account: str, qty_t: int, price_fen: int | None = None, **kw: Any) -> Outcome:
        return self.ok(self.order(account, SELL, qty_t, price_fen, **kw))


def postings(outcome: Outcome) -> list[tuple[str, str, int, str, str, str, str]]:
    """An outcome's postings as (ref, asset, amount, from account, state, to account, state)."""
    return [
        (p.ref, p.asset, p.amount, p.from_account, p.from_state, p.to_account, p.to_state)
        for p in outcome.postings
    ]


def everything(outcome: Outcome) -> dict[str, object]:
    """Every field of an outcome, the sequences as lists, for comparing two outcomes."""
    fields = ("kind", "code", "details", "order_id", "repeated")
    sequences = ("events", "postings", "fills", "closes", "statements", "reports")
    out: dict[str, object] = {name: getattr(outcome, name) for name in fields}
    out.update({name: list(getattr(outcome, name)) for name in sequences})
    return out
