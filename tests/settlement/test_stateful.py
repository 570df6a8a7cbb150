"""A Hypothesis state machine over a whole market (book, cash, registry, trading day): random
command streams from eight accounts (five participants, three covered entities) in two
instruments (CEA2024 at CNY 58.00, CEA2025 at CNY 60.00): orders of every type and side at
prices around the reference (some outside the band, some too big for the cash or the units),
client order ids repeated and reused, cancels, amendments up and down, the kill switch,
deposits and withdrawals, registry transfers, surrenders, cancellations, issuance and judicial
freezes, halts and resumes, the midday break, and whole trading days (close, day-end clearing,
next day's open) so that T+1 locks and expiry happen. It runs under five rule sets: national
(no fees), national with fees of 30 bp (buy) and 25 bp (sell), the same with T+0, national with
a small position limit (20,000 t, report above 8,000 t), and the Guangdong pilot.

After every command:

- cash: every account's available + held, plus the fees in ``SYS:FEES``, equals what was
  deposited less what was withdrawn, which is minus ``SYS:CASH``'s balance; the cash ledger sums
  to zero;
- units, per unit code: the units in every account and state but ``SYS:ISSUANCE`` equal the
  units issued (counted here from the operations), which is minus the issuance balance;
- no balance but ``SYS:CASH``'s and ``SYS:ISSUANCE``'s is negative;
- the postings of all outcomes so far, added up, give exactly ``market.balances()``, and posting
  ids run 1, 2, 3, ... over the whole run;
- every account's held cash is what its open buy orders hold (price × open qty + the buy fee,
  rounded down) and its held units are the open qty of its sell orders, read from the engine:
  no hold without an order, no order without its hold;
- every ``TradeExecuted`` appears once in ``outcome.fills`` and carries its own postings in the
  same outcome (cash buyer held -> seller, units seller held -> buyer, fees to ``SYS:FEES``
  rounded down); trade ids never repeat;
- sellable units and withdrawable cash are what T+N allows: available less what was bought
  (units) or earned by selling (cash) since the day opened, under T+1;
- a refused or repeated command changed nothing (the state hash is the same) and posted
  nothing; the refusal code is the one the rules predict (computed here, in the order the
  market checks: account, client order id, engine, then settlement).

At day end, the closes are the VWAP rounded to the tick (Guangdong: the open when 100 t or less
traded; no trade: the previous close), tomorrow's band is ±10 % of the close rounded inward,
statements agree with the balances, and a snapshot restores to the same state hash (the run
often goes on with the restored market).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from matching.events import OrderCancelled, TradeExecuted
from matching.types import CancelReason, OrderType, Side, StpMode, TradingState
from matching.views import OrderView
from registry_sim.model import FEES, ISSUANCE, Account, AccountId, AccountKind, UnitCode
from registry_sim.ops import (
    Cancel,
    Freeze,
    Hold,
    IssueAllowances,
    Op,
    OpenAccount,
    PreAllocate,
    RecordEmissions,
    Surrender,
    Transfer,
)
from registry_sim.rules import SettlementRules
from settlement import (
    CNY,
    OUTSIDE,
    AmendOrder,
    CancelAll,
    CancelOrder,
    CloseDay,
    Deposit,
    EndOfDay,
    Halt,
    Market,
    MarketCommand,
    MarketSpec,
    OpenDay,
    Outcome,
    PlaceOrder,
    RegistryCommand,
    Resume,
    SetSession,
    Withdraw,
)

BP = 10_000
PARTICIPANTS = tuple(AccountId(f"P{i}") for i in range(1, 6))
ENTITIES = (AccountId("E1"), AccountId("E2"), AccountId("E3"))
PROVINCES = {"E1": "Guangdong", "E2": "Hubei", "E3": "Shanghai"}
ACCOUNTS = PARTICIPANTS + ENTITIES
SYMBOLS = ("CEA2024", "CEA2025")
FIRST_REFERENCE = {"CEA2024": 5_800, "CEA2025": 6_000}
FIRST_DAY = dt.date(2026, 11, 23)  # a Monday
MAX_QTY_T = 99_999  # cn_national listed mode: one order < 100,000 t
FEES_ON = {"fee_bp_buy": 30, "fee_bp_sell": 25}
CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "national": ("cn_national", {}),
    "fees": ("cn_national", {"settlement": FEES_ON}),
    "fees_t0": (
        "cn_national",
        {
            "settlement": {
                **FEES_ON,
                "units_sellable_after_days": 0,
                "cash_withdrawable_after_days": 0,
            }
        },
    ),
    "limits": (
        "cn_national",
        {
            "settlement": {"fee_bp_buy": 7, "fee_bp_sell": 3},
            "limits": {"position_limit_t": 20_000, "report_threshold_t": 8_000},
        },
    ),
    "guangdong": ("guangdong_pilot", {}),
}

BUY, SELL = Side.BUY, Side.SELL
LIMIT, MARKET, IOC, FOK = OrderType.LIMIT, OrderType.MARKET, OrderType.IOC, OrderType.FOK
CONTINUOUS, BREAK, HALTED = TradingState.CONTINUOUS, TradingState.BREAK, TradingState.HALTED

accounts = st.sampled_from(ACCOUNTS)
symbols = st.sampled_from(SYMBOLS)
sides = st.sampled_from([BUY, SELL])
order_types = st.sampled_from([LIMIT, LIMIT, LIMIT, MARKET, IOC, FOK])
# mostly small, sometimes large, sometimes beyond the mode's limits
quantities = st.integers(1, 400) | st.integers(400, 12_000) | st.sampled_from([0, 100_000])
# ticks from the reference: the band is about ±600 (±10 %), so some prices fall outside it
offsets = st.integers(-250, 250) | st.integers(-700, 700)
client_ids = st.none() | st.sampled_from(["c1", "c2", "c3"])
stp_modes = st.sampled_from(list(StpMode))
# the clock's steps: mostly whole days, sometimes one step (out of order: refused)
CLOCK_STEPS = (
    *["next_day", "next_day", "close", "end_of_day", "open_next", "open_same"],
    *["open_earlier", "break", "continuous", "continuous", "pre_open"],
)
cash_amounts = st.sampled_from([30_000, 600_000, 5_000_000, 80_000_000, 80_000_000])  # fen
issue_amounts = st.sampled_from([0, 500, 5_000, 30_000, 30_000])  # t


class MarketMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.market = Market(MarketSpec("mm", "cn_national", tuple(FIRST_REFERENCE.items())))
        self.ts = 0
        self.ids = 0
        self.last_posting = 0
        self.trade_ids: set[int] = set()
        self.next_order_id = 1
        self.placed: list[tuple[int, AccountId]] = []  # every accepted order, with its account
        # models kept from the commands and their outcomes
        self.ledger: Counter[tuple[str, str, str]] = Counter()  # postings added up
        self.deposited = 0
        self.withdrawn = 0
        self.issued: Counter[str] = Counter()
        self.allocated: Counter[str] = Counter()
        self.fees = 0
        self.bought_today: Counter[tuple[str, str]] = Counter()  # (account, unit) -> t
        self.earned_today: Counter[str] = Counter()  # account -> proceeds less sell fees
        self.fees_today: Counter[str] = Counter()
        self.day_trades: dict[str, list[tuple[int, int]]] = {s: [] for s in SYMBOLS}
        self.account_trades: dict[tuple[str, str], list[int]] = {}
        self.reported: set[str] = set()
        self.reference = dict(FIRST_REFERENCE)
        self.client_orders: dict[tuple[str, str], tuple[PlaceOrder, int]] = {}
        self.registry_done: list[tuple[Op, Outcome]] = []
        self.trading_day = FIRST_DAY
        self.phase = "cleared"  # "open" (sessions), "closed" (after CloseDay), "cleared"
        self.session = TradingState.CLOSED

    # ------------------------------------------------------------------ set-up

    @initialize(config=st.sampled_from(sorted(CONFIGS)), data=st.data())
    def open_market(self, config: str, data: st.DataObject) -> None:
        rules, overrides = CONFIGS[config]
        self.market = Market(
            MarketSpec("mm", rules, tuple(FIRST_REFERENCE.items()), overrides=overrides)
        )
        for a in PARTICIPANTS:
            self.ok(
                self.registry_op(OpenAccount(self.op_id(), Account(a, AccountKind.PARTICIPANT, a)))
            )
        for a in ENTITIES:
            account = Account(a, AccountKind.COVERED_ENTITY, a, province=PROVINCES[a])
            self.ok(self.registry_op(OpenAccount(self.op_id(), account)))
            for year, verified in ((2024, 10_000), (2025, 12_000)):
                self.ok(self.registry_op(RecordEmissions(self.op_id(), a, year, verified)))
        # E1 is allocated 70 % of its 2024 emissions as CEA2025 (its limits add 7,000 t)
        outcome = self.ok(self.registry_op(PreAllocate(self.op_id(), ENTITIES[0], 2025)))
        assert outcome.details["allocation_t"] == 7_000
        self.allocated[ENTITIES[0]] += 7_000
        self.issued["CEA2025"] += 7_000
        for a in ACCOUNTS:
            self.deposit(a, data.draw(cash_amounts, label=f"cash {a}"))
            for symbol in SYMBOLS:
                qty = data.draw(issue_amounts, label=f"{symbol} {a}")
                if qty:
                    self.issue(a, int(symbol[3:]), qty)
        self.open_day(FIRST_DAY)
        self.set_session(CONTINUOUS)

    # ------------------------------------------------------------------ helpers

    def next_ts(self) -> int:
        self.ts += 1_000
        return self.ts

    def op_id(self) -> str:
        self.ids += 1
        return f"op-{self.ids}"

    def registry_op(self, op: Op) -> RegistryCommand:
        return RegistryCommand(self.next_ts(), op)

    @property
    def rules_settlement(self) -> SettlementRules:
        return self.market.rules.settlement

    def buy_hold(self, price_fen: int, qty_t: int) -> int:
        notional = price_fen * qty_t
        return notional + notional * self.rules_settlement.fee_bp_buy // BP

    def balance(self, account: str, asset: str, state: str = "available") -> int:
        return self.ledger[(account, asset, state)]

    def position(self, account: str) -> int:
        return sum(
            qty
            for (owner, asset, _), qty in self.ledger.items()
            if owner == account and asset.startswith("CEA")  # every vintage, listed or not
        )

    def limits(self, account: str) -> tuple[int, int] | None:
        rules = self.market.rules.limits
        if rules is None:
            return None
        extra = self.allocated[account] if rules.add_allocation else 0
        return rules.position_limit_t + extra, rules.report_threshold_t + extra

    def open_buy_t(self, account: str) -> int:
        return sum(v.leaves_t for v in self.market.engine.open_orders(account) if v.side is BUY)

    def sellable(self, account: str, unit: str) -> int:
        available = self.balance(account, unit)
        if self.rules_settlement.units_sellable_after_days:
            available -= self.bought_today[(account, unit)]
        return max(0, available)

    def withdrawable(self, account: str) -> int:
        available = self.balance(account, CNY)
        if self.rules_settlement.cash_withdrawable_after_days:
            available -= self.earned_today[account]
        return max(0, available)

    def open_orders(self) -> list[OrderView]:
        return [v for a in ACCOUNTS for v in self.market.engine.open_orders(a)]

    def state(self, symbol: str) -> TradingState:
        return self.market.engine.book_info(symbol).state

    def ok(self, command: MarketCommand) -> Outcome:
        outcome = self.do(command)
        assert outcome.ok, (command, outcome.code, outcome.details)
        return outcome

    def do(self, command: MarketCommand, expected: str | None = "any") -> Outcome:
        """Apply ``command``, check what the outcome says against the models and update them.
        ``expected``: the refusal code the rules predict (None: accepted), or "any"."""
        market = self.market
        before = market.state_hash()
        outcome = market.apply(command)
        event(f"{type(command).__name__}: {outcome.code or 'ok'}")
        if expected != "any":
            assert outcome.code == expected, (command, outcome.code, outcome.details)
        if outcome.code is not None or outcome.repeated:
            assert market.state_hash() == before, f"{command} changed the state: {outcome}"
            assert not outcome.postings
            assert not outcome.fills
            assert not outcome.events
            return outcome
        ids = [p.posting_id for p in outcome.postings]
        assert ids == list(range(self.last_posting + 1, self.last_posting + 1 + len(ids)))
        self.last_posting += len(ids)
        for p in outcome.postings:
            assert p.amount > 0, p
            self.ledger[(p.from_account, p.asset, p.from_state)] -= p.amount
            self.ledger[(p.to_account, p.asset, p.to_state)] += p.amount
        self.check_fills(outcome)
        return outcome

    def check_fills(self, outcome: Outcome) -> None:
        """Every trade settles once, with its postings in the same outcome."""
        trades = [e for e in outcome.events if isinstance(e, TradeExecuted)]
        assert [f.trade for f in outcome.fills] == trades
        bp_buy, bp_sell = self.rules_settlement.fee_bp_buy, self.rules_settlement.fee_bp_sell
        by_ref: dict[str, Counter[tuple[Any, ...]]] = {}
        for p in outcome.postings:
            if p.ref.startswith("trade:"):
                key = (p.asset, p.amount, p.from_account, p.from_state, p.to_account, p.to_state)
                by_ref.setdefault(p.ref, Counter())[key] += 1
        assert set(by_ref) == {f"trade:{t.trade_id}" for t in trades}
        buyers: set[str] = set()
        for fill in outcome.fills:
            t = fill.trade
            assert t.trade_id not in self.trade_ids, f"trade {t.trade_id} settled twice"
            self.trade_ids.add(t.trade_id)
            event("a trade")
            buyer, seller = t.buy_account_id, t.sell_account_id
            assert buyer != seller
            notional = t.price_fen * t.qty_t
            assert fill.buy_fee_fen == notional * bp_buy // BP
            assert fill.sell_fee_fen == notional * bp_sell // BP
            expected: Counter[tuple[Any, ...]] = Counter(
                [
                    (CNY, notional, buyer, "held", seller, "available"),
                    (t.symbol, t.qty_t, seller, "held", buyer, "available"),
                ]
            )
            if fill.buy_fee_fen:
                expected[(CNY, fill.buy_fee_fen, buyer, "held", FEES, "available")] += 1
            if fill.sell_fee_fen:
                expected[(CNY, fill.sell_fee_fen, seller, "available", FEES, "available")] += 1
            assert by_ref[f"trade:{t.trade_id}"] == expected, t
            self.fees += fill.buy_fee_fen + fill.sell_fee_fen
            self.fees_today[buyer] += fill.buy_fee_fen
            self.fees_today[seller] += fill.sell_fee_fen
            self.bought_today[(buyer, t.symbol)] += t.qty_t
            self.earned_today[seller] += notional - fill.sell_fee_fen
            self.day_trades[t.symbol].append((t.price_fen, t.qty_t))
            for account, column in ((buyer, 0), (seller, 2)):
                row = self.account_trades.setdefault((account, t.symbol), [0, 0, 0, 0])
                row[column] += t.qty_t
                row[column + 1] += notional
            buyers.add(buyer)
        # a large-holder report, once a day, for a buyer whose position went above the threshold
        expected_reports = set()
        for who in buyers:
            limits = self.limits(who)
            if limits is not None and who not in self.reported and self.position(who) > limits[1]:
                expected_reports.add(who)
        assert {r.account_id for r in outcome.reports} == expected_reports
        for report in outcome.reports:
            limits = self.limits(report.account_id)
            assert limits is not None
            assert report.threshold_t == limits[1] < report.position_t
        self.reported |= expected_reports
        if outcome.reports:
            event("a large-holder report")

    # ------------------------------------------------------------------ cash and units

    def deposit(self, account: AccountId, amount_fen: int) -> None:
        self.ok(Deposit(self.next_ts(), account, amount_fen, f"dep-{self.ts}"))
        self.deposited += amount_fen

    def issue(self, account: AccountId, vintage: int, qty_t: int) -> None:
        self.ok(self.registry_op(IssueAllowances(self.op_id(), account, vintage, qty_t)))
        self.issued[f"CEA{vintage}"] += qty_t

    @rule(
        account=st.sampled_from([*ACCOUNTS, AccountId("NOBODY"), FEES]),
        amount_fen=cash_amounts | st.integers(-5, 0),
    )
    def deposit_cash(self, account: AccountId, amount_fen: int) -> None:
        expected = None
        if account == "NOBODY":
            expected = "UNKNOWN_ACCOUNT"
        elif account == FEES:
            expected = "NOT_A_TRADING_ACCOUNT"
        elif amount_fen < 1:
            expected = "INVALID_AMOUNT"
        self.do(Deposit(self.next_ts(), account, amount_fen, f"dep-{self.ts}"), expected)
        if expected is None:
            self.deposited += amount_fen

    @rule(account=accounts, data=st.data())
    def withdraw_cash(self, account: AccountId, data: st.DataObject) -> None:
        withdrawable = self.withdrawable(account)
        available = self.balance(account, CNY)
        amount = data.draw(
            st.sampled_from(sorted({1, withdrawable, withdrawable + 1, available, available + 1}))
            | st.integers(1, max(1, available)),
            label="amount",
        )
        expected = None
        if amount < 1:
            expected = "INVALID_AMOUNT"
        elif amount > withdrawable:
            expected = "INSUFFICIENT_WITHDRAWABLE"
        outcome = self.do(Withdraw(self.next_ts(), account, amount, f"wd-{self.ts}"), expected)
        if expected is None:
            self.withdrawn += amount
        elif expected == "INSUFFICIENT_WITHDRAWABLE":
            assert outcome.details["withdrawable_fen"] == withdrawable
            assert outcome.details["locked_fen"] == (
                self.earned_today[account]
                if self.rules_settlement.cash_withdrawable_after_days
                else 0
            )

    # ------------------------------------------------------------------ registry

    def registry(self, op: Op) -> Outcome:
        outcome = self.do(self.registry_op(op))
        if outcome.ok:
            self.registry_done.append((op, outcome))
        return outcome

    def draw_holding(self, data: st.DataObject, account: str) -> tuple[UnitCode, int]:
        unit = UnitCode(data.draw(symbols, label="unit"))
        available = self.balance(account, unit)
        qty = data.draw(st.integers(1, max(1, available // 3)) | st.integers(1, available + 5))
        return unit, qty

    @rule(
        kind=st.sampled_from(
            ["transfer", "surrender", "cancel", "freeze", "issue", "hold", "repeat", "transfer"]
        ),
        account=accounts,
        other=accounts,
        data=st.data(),
    )
    def registry_operation(
        self, kind: str, account: AccountId, other: AccountId, data: st.DataObject
    ) -> None:
        """Now and then, the registry: transfers, surrenders (which may take units bought
        today), voluntary cancellation, judicial freezes, more issuance, a hold (which only
        orders may make), and repeated operations (which change nothing)."""
        unit, qty = self.draw_holding(data, account)
        available = self.balance(account, unit)
        if kind == "transfer":
            outcome = self.registry(Transfer(self.op_id(), account, other, unit, qty))
            assert outcome.ok == (qty <= available), outcome
        elif kind == "surrender":
            if account in ENTITIES:
                on = dt.date(2026, 6, 30)
                self.registry(Surrender(self.op_id(), account, 2025, ((unit, qty),), on))
        elif kind == "cancel":
            outcome = self.registry(Cancel(self.op_id(), account, unit, qty, "a class", "net 0"))
            assert outcome.ok == (qty <= available), outcome
        elif kind == "freeze":
            outcome = self.registry(Freeze(self.op_id(), account, unit, qty, "(2026) court"))
            assert outcome.ok == (qty <= available), outcome
        elif kind == "issue":
            self.issue(account, int(unit[3:]), qty)
        elif kind == "hold":
            outcome = self.do(self.registry_op(Hold(self.op_id(), account, unit, qty)))
            assert outcome.code == "OPERATION_NOT_ALLOWED"
        elif self.registry_done:
            op, _first = data.draw(st.sampled_from(self.registry_done), label="earlier op")
            outcome = self.do(self.registry_op(op), None)
            assert outcome.repeated

    # ------------------------------------------------------------------ orders

    def expected_place(self, cmd: PlaceOrder) -> str | None:
        """The refusal the rules predict for a new order, in the market's order of checks."""
        info = self.market.engine.book_info(cmd.symbol)
        if info.state is not CONTINUOUS:
            return "INSTRUMENT_HALTED" if info.state is HALTED else "INSTRUMENT_NOT_OPEN"
        if not 1 <= cmd.qty_t <= MAX_QTY_T:
            return "QTY_OUTSIDE_LIMITS"
        if cmd.price_fen is not None and not (
            info.band_lower_fen <= cmd.price_fen <= info.band_upper_fen
        ):
            return "PRICE_OUTSIDE_BAND"
        account = cmd.account_id
        if cmd.side is BUY:
            limit = info.band_upper_fen if cmd.price_fen is None else cmd.price_fen
            if self.buy_hold(limit, cmd.qty_t) > self.balance(account, CNY):
                return "INSUFFICIENT_FUNDS"
            limits = self.limits(account)
            position = self.position(account) + self.open_buy_t(account)
            if limits is not None and position + cmd.qty_t > limits[0]:
                return "POSITION_LIMIT_EXCEEDED"
        elif self.sellable(account, cmd.symbol) < cmd.qty_t:
            return "INSUFFICIENT_UNITS"
        return None

    @rule(
        account=accounts,
        symbol=symbols,
        side=sides,
        order_type=order_types,
        qty_t=quantities,
        offset=offsets,
        client_id=client_ids,
        stp=stp_modes,
    )
    def place(
        self,
        account: AccountId,
        symbol: str,
        side: Side,
        order_type: OrderType,
        qty_t: int,
        offset: int,
        client_id: str | None,
        stp: StpMode,
    ) -> None:
        price = None if order_type is MARKET else self.reference[symbol] + offset
        cmd = PlaceOrder(
            self.next_ts(), account, symbol, side, order_type, qty_t, price, stp, client_id
        )
        self.submit(cmd)

    @rule(
        symbol=symbols,
        side=sides,
        order_type=order_types,
        qty_t=st.integers(1, 300),
        ticks=st.integers(-3, 20),
        stp=stp_modes,
        data=st.data(),
    )
    def place_at_the_touch(
        self,
        symbol: str,
        side: Side,
        order_type: OrderType,
        qty_t: int,
        ticks: int,
        stp: StpMode,
        data: st.DataObject,
    ) -> None:
        """An order priced at the best opposite price (or through it), mostly from an account
        with no order there: it mostly trades."""
        bbo = self.market.engine.best_bid_offer(symbol)
        opposite = bbo.ask_price_fen if side is BUY else bbo.bid_price_fen
        others = list(ACCOUNTS)
        if opposite is None:
            opposite = self.reference[symbol]
        else:
            queue = self.market.engine.queue(symbol, side.opposite, opposite)
            others = [a for a in ACCOUNTS if a not in {str(e.account_id) for e in queue}] or others
        account = data.draw(st.sampled_from(others) | accounts, label="account")
        price = None
        if order_type is not MARKET:
            price = opposite + ticks if side is BUY else opposite - ticks
        cmd = PlaceOrder(self.next_ts(), account, symbol, side, order_type, qty_t, price, stp)
        self.submit(cmd)

    @rule(
        account=accounts,
        symbol=symbols,
        side=sides,
        qty_t=st.integers(1, 500),
        ticks=st.integers(1, 60),
        client_id=client_ids,
    )
    def place_resting(
        self,
        account: AccountId,
        symbol: str,
        side: Side,
        qty_t: int,
        ticks: int,
        client_id: str | None,
    ) -> None:
        """A limit order a few ticks off the reference, on its own side: it mostly rests."""
        price = self.reference[symbol] + (-ticks if side is BUY else ticks)
        cmd = PlaceOrder(
            self.next_ts(), account, symbol, side, LIMIT, qty_t, price, client_order_id=client_id
        )
        self.submit(cmd)

    def submit(self, cmd: PlaceOrder) -> None:
        account, symbol, side, qty_t = cmd.account_id, cmd.symbol, cmd.side, cmd.qty_t
        order_type, price, client_id = cmd.order_type, cmd.price_fen, cmd.client_order_id
        earlier = None if client_id is None else self.client_orders.get((account, client_id))
        if earlier is not None:
            # the same id today: this is a repeat only with the very same order
            same = earlier[0]._replace(ts_ns=cmd.ts_ns) == cmd
            outcome = self.do(cmd, None if same else "CLIENT_ORDER_ID_CONFLICT")
            assert outcome.repeated == same
            if same:
                assert outcome.order_id == earlier[1]
            else:
                assert outcome.details == {"client_order_id": client_id, "order_id": earlier[1]}
            return
        expected = self.expected_place(cmd)
        held_before = self.balance(account, CNY, "held")
        outcome = self.do(cmd, expected)
        if expected is not None:
            if expected == "INSUFFICIENT_FUNDS":
                assert outcome.details["available_fen"] == self.balance(account, CNY)
            if expected == "INSUFFICIENT_UNITS":
                assert outcome.details["sellable_t"] == self.sellable(account, symbol)
            return
        assert outcome.order_id == self.next_order_id, "order ids run 1, 2, 3, ..."
        self.next_order_id += 1
        self.placed.append((outcome.order_id, account))
        if client_id is not None:
            self.client_orders[(account, client_id)] = (cmd, outcome.order_id)
        # the order's first posting is its hold, at its limit (a market buy: the band's top)
        first = outcome.postings[0]
        assert first.ref == f"order:{outcome.order_id}"
        if side is BUY:
            limit = price if price is not None else self.market.engine.band(symbol)[1]
            assert first.amount == self.buy_hold(limit, qty_t)
            assert (first.asset, first.from_state, first.to_state) == (CNY, "available", "held")
        else:
            assert first.amount == qty_t
            assert (first.asset, first.from_state, first.to_state) == (symbol, "available", "held")
        if order_type is not LIMIT:
            # market, IOC and FOK orders never rest: nothing of theirs stays held
            view = self.market.engine.order(outcome.order_id)
            assert view is not None
            assert view.leaves_t == 0
            if side is BUY:
                assert self.balance(account, CNY, "held") == held_before
        if order_type is FOK:
            filled = sum(f.trade.qty_t for f in outcome.fills)
            assert filled in (0, qty_t), "fill or kill: all or nothing"

    @rule(data=st.data())
    def repeat_client_order(self, data: st.DataObject) -> None:
        if not self.client_orders:
            return
        key = data.draw(st.sampled_from(sorted(self.client_orders)), label="client order")
        first, order_id = self.client_orders[key]
        outcome = self.do(first._replace(ts_ns=self.next_ts()), None)
        assert outcome.repeated
        assert outcome.order_id == order_id

    def draw_order(self, data: st.DataObject) -> tuple[int, AccountId]:
        """Mostly an open order and its owner; sometimes any order, another account, or an id
        no order has."""
        open_orders = [(int(v.order_id), AccountId(v.account_id)) for v in self.open_orders()]
        pick = data.draw(st.integers(0, 9), label="which order")
        choices: st.SearchStrategy[tuple[int, AccountId]] = st.tuples(st.just(10_000_000), accounts)
        if open_orders and pick < 8:
            choices = st.sampled_from(open_orders)
        elif self.placed and pick < 9:
            choices = st.sampled_from(self.placed)
        order_id, owner = data.draw(choices, label="order")
        if data.draw(st.integers(0, 9), label="someone else") == 0:
            owner = data.draw(accounts, label="other account")
        return order_id, owner

    def expected_engine(self, order_id: int, account: str) -> str | None:
        view = self.market.engine.order(order_id)
        if view is None:
            return "UNKNOWN_ORDER"
        if view.account_id != account:
            return "NOT_OWNER"
        if not view.leaves_t:
            return "ORDER_NOT_OPEN"
        return None

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        order_id, account = self.draw_order(data)
        expected = self.expected_engine(order_id, account)
        view = self.market.engine.order(order_id)
        outcome = self.do(CancelOrder(self.next_ts(), account, order_id), expected)
        if expected is None:
            assert view is not None
            # the cancel releases exactly what the order held
            released = self.buy_hold(view.price_fen or 0, view.leaves_t)
            asset = CNY if view.side is BUY else view.symbol
            amount = released if view.side is BUY else view.leaves_t
            assert [(p.asset, p.amount, p.from_state, p.to_state) for p in outcome.postings] == [
                (asset, amount, "held", "available")
            ]

    @rule(data=st.data())
    def amend(self, data: st.DataObject) -> None:
        order_id, account = self.draw_order(data)
        view = self.market.engine.order(order_id)
        price = data.draw(st.none() | st.integers(-300, 300), label="price change")
        qty = data.draw(st.none() | st.integers(-500, 3_000), label="qty change")
        new_price = None if price is None or view is None else (view.price_fen or 0) + price
        new_qty = None if qty is None or view is None else view.filled_t + view.leaves_t + qty
        cmd = AmendOrder(self.next_ts(), account, order_id, new_price, new_qty)
        expected = self.expected_engine(order_id, account)
        if expected is None:
            assert view is not None
            assert view.price_fen is not None
            expected = self.expected_amend(view, new_price, new_qty)
        outcome = self.do(cmd, expected)
        if outcome.code == "INSUFFICIENT_FUNDS":
            assert view is not None
            assert view.price_fen is not None
            price_now = view.price_fen if new_price is None else new_price
            leaves = view.leaves_t if new_qty is None else new_qty - view.filled_t
            more = self.buy_hold(price_now, leaves) - self.buy_hold(view.price_fen, view.leaves_t)
            assert outcome.details["required_fen"] == more
            assert outcome.details["available_fen"] == self.balance(account, CNY)

    def expected_amend(
        self, view: OrderView, new_price: int | None, new_qty: int | None
    ) -> str | None:
        assert view.price_fen is not None
        info = self.market.engine.book_info(view.symbol)
        if info.state is not CONTINUOUS:
            return "INSTRUMENT_HALTED" if info.state is HALTED else "INSTRUMENT_NOT_OPEN"
        old_qty = view.filled_t + view.leaves_t
        price = view.price_fen if new_price is None else new_price
        qty = old_qty if new_qty is None else new_qty
        if price == view.price_fen and qty == old_qty:
            return "AMEND_NO_CHANGE"
        if not 1 <= qty <= MAX_QTY_T:
            return "QTY_OUTSIDE_LIMITS"
        if qty <= view.filled_t:
            return "AMEND_QTY_NOT_ABOVE_FILLED"
        if not info.band_lower_fen <= price <= info.band_upper_fen:
            return "PRICE_OUTSIDE_BAND"
        leaves = qty - view.filled_t
        account = view.account_id
        if view.side is BUY:
            more = self.buy_hold(price, leaves) - self.buy_hold(view.price_fen, view.leaves_t)
            if more > self.balance(account, CNY):
                return "INSUFFICIENT_FUNDS"
            limits = self.limits(account)
            position = self.position(account) + self.open_buy_t(account)
            if (
                limits is not None
                and leaves > view.leaves_t
                and (position + leaves - view.leaves_t > limits[0])
            ):
                return "POSITION_LIMIT_EXCEEDED"
        elif leaves - view.leaves_t > self.sellable(account, view.symbol):
            return "INSUFFICIENT_UNITS"
        return None

    @rule(account=accounts, symbol=st.none() | symbols | st.just("CEA1999"))
    def kill_switch(self, account: AccountId, symbol: str | None) -> None:
        expected = "UNKNOWN_INSTRUMENT" if symbol == "CEA1999" else None
        targets = [
            v
            for v in self.market.engine.open_orders(account)
            if symbol is None or v.symbol == symbol
        ]
        outcome = self.do(CancelAll(self.next_ts(), account, symbol), expected)
        if expected is None:
            left = self.market.engine.open_orders(account)
            assert not [v for v in left if symbol is None or v.symbol == symbol]
            assert len(left) == len(self.market.engine.open_orders(account))
            cancelled = {e.order_id for e in outcome.events if isinstance(e, OrderCancelled)}
            assert cancelled == {v.order_id for v in targets}

    # ------------------------------------------------------------------ the trading day

    @rule(
        step=st.sampled_from(CLOCK_STEPS),
        keep_restored=st.booleans(),
    )
    def clock(self, step: str, keep_restored: bool) -> None:
        """The clock's steps, in order (a whole day) or out of order (refused)."""
        if step == "next_day":
            self.next_day(keep_restored)
        elif step == "close":
            self.close_day()
        elif step == "end_of_day":
            self.end_of_day(keep_restored)
        elif step.startswith("open_"):
            self.open_a_day(step.removeprefix("open_"))
        else:
            self.set_session(TradingState(step))

    @rule(
        action=st.sampled_from(["halt", "resume", "resume"]),
        symbol=st.none() | symbols,
        cancel_resting=st.booleans(),
    )
    def operator(self, action: str, symbol: str | None, cancel_resting: bool) -> None:
        if action == "halt":
            self.halt(symbol, cancel_resting)
        else:
            self.resume(symbol)

    def halt(self, symbol: str | None, cancel_resting: bool) -> None:
        expected = None if self.phase == "open" else "NO_TRADING_DAY"
        targets = list(SYMBOLS) if symbol is None else [symbol]
        was_halted = {s: self.state(s) is HALTED for s in SYMBOLS}
        self.do(Halt(self.next_ts(), symbol, cancel_resting), expected)
        if expected is None:
            for s in targets:
                assert self.state(s) is HALTED
                if cancel_resting and not was_halted[s]:
                    assert not [v for v in self.open_orders() if v.symbol == s]

    def resume(self, symbol: str | None) -> None:
        expected = None
        if self.phase != "open":
            expected = "NO_TRADING_DAY"
        elif self.session not in (CONTINUOUS, BREAK):
            expected = "INVALID_CLOCK_STEP"
        self.do(Resume(self.next_ts(), symbol), expected)
        if expected is None:
            for s in SYMBOLS if symbol is None else [symbol]:
                assert self.state(s) is self.session

    def set_session(self, state: TradingState) -> None:
        expected = None
        if self.phase != "open":
            expected = "NO_TRADING_DAY"
        elif state not in (CONTINUOUS, BREAK):
            expected = "INVALID_CLOCK_STEP"
        elif state is BREAK and any(self.state(s) is TradingState.PRE_OPEN for s in SYMBOLS):
            expected = "INVALID_CLOCK_STEP"  # the break follows a session
        self.do(SetSession(self.next_ts(), state), expected)
        if expected is None:
            self.session = state
            for s in SYMBOLS:
                assert self.state(s) in (state, HALTED)

    def close_day(self) -> None:
        expected = None if self.phase == "open" else "NO_TRADING_DAY"
        outcome = self.do(CloseDay(self.next_ts()), expected)
        if expected is None:
            self.phase = "closed"
            self.session = TradingState.CLOSED
            assert not self.open_orders(), "every order expires at the close"
            reasons = {e.reason for e in outcome.events if isinstance(e, OrderCancelled)}
            assert reasons <= {CancelReason.EXPIRY}

    def end_of_day(self, keep_restored: bool) -> None:
        expected = None if self.phase == "closed" else "NO_TRADING_DAY"
        outcome = self.do(EndOfDay(self.next_ts()), expected)
        if expected is not None:
            return
        self.phase = "cleared"
        self.check_closes(outcome)
        self.check_statements(outcome)
        data = self.market.snapshot()
        restored = Market.restore(data)
        assert restored.state_hash() == self.market.state_hash()
        if keep_restored:
            self.market = restored
            event("went on with a restored market")

    def opening(self, symbol: str, trades: list[tuple[int, int]]) -> int:
        """The day's open as the rule set has it: the first trade, or the previous close."""
        if self.rules_settlement.open_method == "previous_close":
            return self.reference[symbol]
        return trades[0][0]

    def check_closes(self, outcome: Outcome) -> None:
        s = self.rules_settlement
        assert [c.symbol for c in outcome.closes] == list(SYMBOLS)
        for close in outcome.closes:
            trades = self.day_trades[close.symbol]
            volume = sum(q for _, q in trades)
            turnover = sum(p * q for p, q in trades)
            assert (close.volume_t, close.turnover_fen) == (volume, turnover)
            if not trades:
                expected, method = self.reference[close.symbol], "previous"
            elif s.close_method == "vwap_or_open" and volume <= s.close_min_volume_t:
                # Guangdong: the open is the previous close, and a quiet day closes there
                expected, method = self.opening(close.symbol, trades), "open"
            else:
                whole, rest = divmod(turnover, volume)  # the tick is 1 fen: round half up
                expected, method = whole + (2 * rest >= volume), "vwap"
                assert min(p for p, _ in trades) <= expected <= max(p for p, _ in trades)
            assert (close.close_fen, close.method) == (expected, method), close
            if trades:
                assert close.open_fen == self.opening(close.symbol, trades)
                assert close.high_fen == max(p for p, _ in trades)
                assert close.low_fen == min(p for p, _ in trades)
            # tomorrow's reference and band: ±10 % of the close, rounded inward
            info = self.market.engine.book_info(close.symbol)
            assert info.reference_price_fen == expected
            assert info.band_upper_fen == expected * 11 // 10
            assert info.band_lower_fen == -(-expected * 9 // 10)
            self.reference[close.symbol] = expected

    def check_statements(self, outcome: Outcome) -> None:
        assert [s.account_id for s in outcome.statements] == sorted(ACCOUNTS)
        for statement in outcome.statements:
            a = statement.account_id
            body = statement.body
            assert statement.trading_day == self.trading_day
            assert body["cash_available_fen"] == self.balance(a, CNY)
            assert body["cash_held_fen"] == 0
            assert body["cash_withdrawable_fen"] == self.withdrawable(a)
            assert body["fees_fen"] == self.fees_today[a]
            trades = {
                symbol: dict(
                    zip(["bought_t", "bought_fen", "sold_t", "sold_fen"], row, strict=True)
                )
                for (account, symbol), row in sorted(self.account_trades.items())
                if account == a
            }
            assert body["trades"] == trades
            holdings: dict[str, dict[str, int]] = {}
            for (owner, asset, state), qty in sorted(self.ledger.items()):
                if owner == a and asset != CNY and qty:
                    holdings.setdefault(asset, {})[state] = qty
            assert body["holdings"] == holdings

    def next_trading_day(self) -> dt.date:
        day = self.trading_day + dt.timedelta(days=1)
        while not self.market.rules.calendar.is_trading_day(day):
            day += dt.timedelta(days=1)
        return day

    def open_day(self, day: dt.date) -> Outcome:
        expected = None
        if self.phase != "cleared":
            expected = "DAY_NOT_CLOSED"
        elif self.market.trading_day is not None and day <= self.trading_day:
            expected = "DAY_NOT_AFTER_PREVIOUS"
        outcome = self.do(OpenDay(self.next_ts(), day), expected)
        if expected is None:
            self.trading_day = day
            self.phase = "open"
            self.session = TradingState.PRE_OPEN
            self.bought_today.clear()
            self.earned_today.clear()
            self.fees_today.clear()
            self.day_trades = {s: [] for s in SYMBOLS}
            self.account_trades.clear()
            self.reported.clear()
            self.client_orders.clear()
            for s in SYMBOLS:
                assert self.state(s) is TradingState.PRE_OPEN
        return outcome

    def open_a_day(self, which: str) -> None:
        if which == "next":
            day = self.next_trading_day()
        elif which == "same":
            day = self.trading_day
        else:
            day = self.trading_day - dt.timedelta(days=3)
        self.open_day(day)

    def next_day(self, keep_restored: bool) -> None:
        """The whole cycle: close, day-end clearing, the next trading day's open, the session."""
        if self.phase == "open":
            self.close_day()
        if self.phase == "closed":
            self.end_of_day(keep_restored)
        self.open_day(self.next_trading_day())
        self.set_session(CONTINUOUS)

    # ------------------------------------------------------------------ invariants

    @invariant()
    def postings_add_up_to_the_balances(self) -> None:
        # what a journal's balance projection, built from the postings alone, must show
        assert {k: v for k, v in self.ledger.items() if v} == self.market.balances()

    @invariant()
    def nothing_negative(self) -> None:
        for (account, asset, state), amount in self.market.balances().items():
            if account not in (OUTSIDE, ISSUANCE):
                assert amount >= 0, (account, asset, state, amount)

    @invariant()
    def cash_is_conserved(self) -> None:
        balances = self.market.balances()
        inside = sum(
            amount
            for (account, asset, _), amount in balances.items()
            if asset == CNY and account != OUTSIDE
        )
        assert inside == self.deposited - self.withdrawn
        assert -balances.get((OUTSIDE, CNY, "available"), 0) == self.deposited - self.withdrawn
        assert balances.get((FEES, CNY, "available"), 0) == self.fees
        assert self.market.cash.total_fen() == 0

    @invariant()
    def units_are_conserved(self) -> None:
        held: Counter[str] = Counter()
        balances = self.market.balances()
        for (account, asset, _), qty in balances.items():
            if asset != CNY and account != ISSUANCE:
                held[asset] += qty
        for unit in set(held) | set(self.issued):
            assert held[unit] == self.issued[unit], unit
            assert -balances.get((ISSUANCE, unit, "available"), 0) == self.issued[unit]

    @invariant()
    def holds_match_open_orders(self) -> None:
        expected: Counter[tuple[str, str, str]] = Counter()
        for v in self.open_orders():
            assert v.order_type is LIMIT
            assert v.price_fen is not None
            assert v.leaves_t > 0
            if v.side is BUY:
                expected[(v.account_id, CNY, "held")] += self.buy_hold(v.price_fen, v.leaves_t)
            else:
                expected[(v.account_id, v.symbol, "held")] += v.leaves_t
        actual = Counter(
            {key: amount for key, amount in self.market.balances().items() if key[2] == "held"}
        )
        assert actual == +expected

    @invariant()
    def t_plus_n_availability(self) -> None:
        for a in ACCOUNTS:
            assert self.market.withdrawable_fen(a) == self.withdrawable(a), a
            for unit in SYMBOLS:
                assert self.market.sellable_t(a, UnitCode(unit)) == self.sellable(a, unit)


# Runs of up to 100 commands: 100 in `make test` (drawn anew each time: CI keeps no example
# database), 1,000 in `make soak`.
RUNS, SOAK_RUNS = 100, 1_000


def machine_settings(runs: int) -> settings:
    return settings(
        max_examples=runs,
        stateful_step_count=100,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


MarketMachine.TestCase.settings = machine_settings(RUNS)
TestMarketMachine = MarketMachine.TestCase


@pytest.mark.soak
def test_the_market_machine_at_length() -> None:
    run_state_machine_as_test(MarketMachine, settings=machine_settings(SOAK_RUNS))


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_every_config_loads_as_described(config: str) -> None:
    # the machine's rule sets differ where the docstring says they do
    rules, overrides = CONFIGS[config]
    market = Market(MarketSpec("mm", rules, tuple(FIRST_REFERENCE.items()), overrides=overrides))
    s = market.rules.settlement
    fees = (s.fee_bp_buy, s.fee_bp_sell)
    assert fees == {"fees": (30, 25), "fees_t0": (30, 25), "limits": (7, 3)}.get(config, (0, 0))
    t_plus = (s.units_sellable_after_days, s.cash_withdrawable_after_days)
    assert t_plus == ((0, 0) if config == "fees_t0" else (1, 1))
    assert s.close_method == ("vwap_or_open" if config == "guangdong" else "vwap")
    limits = market.rules.limits
    assert limits is not None
    assert limits.position_limit_t == (20_000 if config == "limits" else 1_000_000)
