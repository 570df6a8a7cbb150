"""One market's whole state, changed by one command at a time (the sequencer's business logic).

``Market.apply(command)`` runs its steps in one fixed order, synchronously and without I/O:
validate everything first (so a refusal changes nothing), then settlement's hold, matching,
settlement of every fill (delivery versus payment), and the registry. Reserve first, settle
second: a buy holds price × quantity + fees of cash before it can trade, a sell holds its
units, so settling a fill can never fail.

This module is the market's fields, the dispatch and the order path: place, cancel, amend, the
holds and the settlement of fills, the hot path. The rest takes the market as an argument:
``settlement/day.py`` the trading day (open, sessions, halts, close, day-end clearing),
``settlement/accounts.py`` deposits, withdrawals and registry operations, and
``settlement/snapshot.py`` the state hash, snapshots and balances.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

from matching.codes import RejectCode
from matching.commands import AmendOrder as EngineAmend
from matching.commands import CancelAccountOrders, NewOrder
from matching.commands import CancelOrder as EngineCancel
from matching.commands import TakeQuote as EngineTake
from matching.engine import MatchingEngine
from matching.events import (
    CommandRejected,
    Event,
    OrderAmended,
    OrderCancelled,
    OrderReduced,
    TradeExecuted,
)
from matching.instruments import Instrument, instrument_from_rules
from matching.types import AccountId as EngineAccountId
from matching.types import OrderId, OrderType, Side, Symbol, TradingState
from registry_sim.model import FEES, AccountId, AccountKind, HoldingState, UnitCode, UnitKind
from registry_sim.registry import Registry
from registry_sim.rules import BP, RuleSet, load_rules
from settlement import accounts, auction_desk, block, day
from settlement import snapshot as snapshots
from settlement.accounts import MAX_TOTAL as MAX_TOTAL  # exported
from settlement.auction_desk import AuctionDesk
from settlement.block import BlockDesk
from settlement.cash import CNY, CashLedger, CashState
from settlement.clearing import TRADING_KINDS as TRADING_KINDS  # exported: the gateway's check
from settlement.clearing import DayBook
from settlement.codes import SettlementCode
from settlement.commands import (
    AcceptBlockQuote,
    AmendBid,
    AmendOrder,
    CancelAll,
    CancelBlockQuote,
    CancelOrder,
    CloseAuction,
    CloseDay,
    ConfirmBlockDeal,
    CounterBlockQuote,
    Deposit,
    EndBlockNegotiation,
    EndOfDay,
    Halt,
    MarketCommand,
    OpenDay,
    PlaceOrder,
    PostBlockQuote,
    PublishAuction,
    RegistryCommand,
    Resume,
    SetSession,
    SubmitBid,
    TakeQuote,
    Withdraw,
    WithdrawBid,
)
from settlement.outcome import Fill, LargeHolderReport, MarketPosting, Outcome, refused
from settlement.spec import MarketSpec

BUY = Side.BUY
MARKET = OrderType.MARKET
AVAILABLE = HoldingState.AVAILABLE
HELD = HoldingState.HELD
CASH_AVAILABLE = CashState.AVAILABLE
CASH_HELD = CashState.HELD
_HOLDING_STATES = tuple(HoldingState)


class _Booking:
    """Settlement's side of an open order: what it holds and what it may still need."""

    __slots__ = ("account_id", "held", "is_buy", "is_cea", "leaves_t", "limit_fen", "unit")

    def __init__(
        self,
        account_id: AccountId,
        unit: UnitCode,
        is_buy: bool,
        limit_fen: int,
        leaves_t: int,
        held: int,
        is_cea: bool,
    ) -> None:
        self.account_id = account_id
        self.unit = unit
        self.is_buy = is_buy
        self.limit_fen = limit_fen  # buys: the price the hold is computed at
        self.leaves_t = leaves_t
        self.held = held  # buys: fen; sells: tonnes
        self.is_cea = is_cea


def _refused_order(
    command: str, order_id: int, rejected: tuple[RejectCode, Mapping[str, Any]]
) -> Outcome:
    return Outcome(command, code=rejected[0].value, details=dict(rejected[1]), order_id=order_id)


class Market:
    """Books, cash, registry and the trading day of one market."""

    def __init__(self, spec: MarketSpec, rules: RuleSet | None = None) -> None:
        self.spec = spec
        self.rules = rules or load_rules(spec.rules, spec.overrides)
        self.instruments: dict[str, Instrument] = {
            symbol: instrument_from_rules(symbol, self.rules.trading)
            for symbol, _ in spec.instruments
        }
        self.engine = MatchingEngine(self.instruments.values(), dict(spec.instruments))
        self.registry = Registry(self.rules)
        self.cash = CashLedger()
        s = self.rules.settlement
        self._fee_bp_buy = s.fee_bp_buy
        self._fee_bp_sell = s.fee_bp_sell
        self._unit_lock_days = s.units_sellable_after_days
        self._cash_lock_days = s.cash_withdrawable_after_days
        self._cea_units = [UnitCode(sym) for sym in self.instruments if sym.startswith("CEA")]
        self.trading_day: dt.date | None = None
        self.day_index = 0  # trading days opened so far: T+N counts in these
        self.session = TradingState.CLOSED  # what the clock last set
        self.day_closed = True
        self.day_cleared = True
        self._bookings: dict[int, _Booking] = {}
        self._open_buy_t: dict[AccountId, int] = {}  # open buy quantity in CEA, per account
        self._unit_locks: dict[tuple[AccountId, UnitCode], list[tuple[int, int]]] = {}
        self._unit_locked_t: dict[tuple[AccountId, UnitCode], int] = {}
        self._cash_locks: dict[AccountId, list[tuple[int, int]]] = {}
        self._cash_locked_fen: dict[AccountId, int] = {}
        self._client_orders: dict[tuple[AccountId, str], tuple[PlaceOrder | TakeQuote, int]] = {}
        self._limits: dict[AccountId, tuple[int, int]] = {}  # (position limit, report threshold)
        self._positions: dict[AccountId, int] = {}  # position_t's cache
        self._reported: set[AccountId] = set()
        self._traders: set[AccountId] = set()  # open trading accounts (all opened here)
        self.day_book = DayBook()
        # Day-end statements (日结单) on ``EndOfDay``'s outcome: a driver that reads none (the
        # headless simulator) turns them off; they are no state, so nothing else changes.
        self.statements = True
        self.block = BlockDesk()  # block quotes and negotiations (settlement/block.py)
        self.auctions = AuctionDesk()  # auctions not yet cleared (settlement/auction_desk.py)
        # (volume_t, turnover_fen) of listed CEA trades on each of the last trading days, at
        # most ``window_days`` of them (settlement/day.py): the penalty's reference window,
        # or an auction reserve's VWAP window if longer.
        self._reference_window: list[tuple[int, int]] = []
        auction = self.rules.auction
        reserve_days = 0 if auction is None else auction.reserve.window_days or 0
        self.window_days = max(self.rules.penalty.reference_window_days, reserve_days)
        self.next_order_id = 0
        self.last_trade_id = 0
        self.posting_seq = 0
        self._outcome: Outcome = Outcome("none")
        self._handlers: dict[type, Callable[[Any], Outcome]] = self._make_handlers()

    def _make_handlers(self) -> dict[type, Callable[[Any], Outcome]]:
        return {
            PlaceOrder: self._place,
            CancelOrder: self._cancel,
            AmendOrder: self._amend,
            CancelAll: self._cancel_all,
            TakeQuote: self._take,
            Deposit: partial(accounts.deposit, self),
            Withdraw: partial(accounts.withdraw, self),
            RegistryCommand: partial(accounts.registry_command, self),
            PostBlockQuote: partial(block.post_quote, self),
            AcceptBlockQuote: partial(block.accept_quote, self),
            CounterBlockQuote: partial(block.counter, self),
            ConfirmBlockDeal: partial(block.confirm, self),
            CancelBlockQuote: partial(block.cancel_quote, self),
            EndBlockNegotiation: partial(block.end_negotiation, self),
            PublishAuction: partial(auction_desk.publish, self),
            SubmitBid: partial(auction_desk.submit_bid, self),
            AmendBid: partial(auction_desk.amend_bid, self),
            WithdrawBid: partial(auction_desk.withdraw_bid, self),
            CloseAuction: partial(auction_desk.close_auction, self),
            OpenDay: partial(day.open_day, self),
            SetSession: partial(day.set_session, self),
            Halt: partial(day.halt, self),
            Resume: partial(day.resume, self),
            CloseDay: partial(day.close_day, self),
            EndOfDay: partial(day.end_of_day, self),
        }

    # ------------------------------------------------------------------ apply

    def apply(self, command: MarketCommand) -> Outcome:
        """Apply one command and return what it did; a refusal changes nothing."""
        # The order commands first, as direct calls (compiled: no lookup, no bound method).
        t = type(command)
        if t is PlaceOrder:
            return self._place(command)  # type: ignore[arg-type]
        if t is CancelOrder:
            return self._cancel(command)  # type: ignore[arg-type]
        if t is AmendOrder:
            return self._amend(command)  # type: ignore[arg-type]
        return self._handlers[t](command)

    # ------------------------------------------------------------------ postings

    def _post_cash(
        self,
        ref: str,
        amount_fen: int,
        source: tuple[AccountId, CashState],
        target: tuple[AccountId, CashState],
    ) -> None:
        self.cash.move(amount_fen, source, target)
        self.posting_seq += 1
        self._outcome.postings.append(
            MarketPosting(
                self.posting_seq, CNY, amount_fen, source[0], source[1], target[0], target[1], ref
            )
        )

    def _post_units(
        self,
        ref: str,
        unit: UnitCode,
        qty_t: int,
        source: tuple[AccountId, HoldingState],
        target: tuple[AccountId, HoldingState],
    ) -> None:
        # The registry ledger's balances moved here, in compiled code (the hot path's unit
        # movements); the posting is the market journal's, not the ledger's.
        balances: dict[tuple[AccountId, UnitCode, HoldingState], int] = (
            self.registry.ledger._balances
        )
        from_key = (source[0], unit, source[1])
        left = balances.get(from_key, 0) - qty_t
        assert qty_t > 0, f"move of {qty_t} t"
        assert left >= 0, f"{from_key} would go to {left}"
        if left:
            balances[from_key] = left
        else:
            del balances[from_key]
        to_key = (target[0], unit, target[1])
        balances[to_key] = balances.get(to_key, 0) + qty_t
        self.posting_seq += 1
        self._outcome.postings.append(
            MarketPosting(
                self.posting_seq, unit, qty_t, source[0], source[1], target[0], target[1], ref
            )
        )

    # ------------------------------------------------------------------ checks

    def _trading_account(self, kind: str, account_id: AccountId) -> Outcome | None:
        if account_id in self._traders:
            return None
        account = self.registry.account(account_id)
        if account is None:
            return refused(kind, SettlementCode.UNKNOWN_ACCOUNT, account_id=account_id)
        if account.kind not in TRADING_KINDS:
            return refused(
                kind,
                SettlementCode.NOT_A_TRADING_ACCOUNT,
                account_id=account_id,
                kind=account.kind.value,
            )
        return None

    def _buy_need_fen(self, limit_fen: int, qty_t: int) -> int:
        """Cash a buy holds: notional + fee. The fee is rounded down, so the holds of two parts
        of an order never add up to more than the hold of the whole."""
        notional = limit_fen * qty_t
        return notional + notional * self._fee_bp_buy // BP

    def sellable_t(self, account_id: AccountId, unit: UnitCode) -> int:
        """Available units less those bought in the last T+N days."""
        units: dict[Any, int] = self.registry.ledger._balances  # hot: no method call
        available = units.get((account_id, unit, AVAILABLE), 0)
        return max(0, available - self._unit_locked_t.get((account_id, unit), 0))

    def withdrawable_fen(self, account_id: AccountId) -> int:
        available = self.cash.balance(account_id, CASH_AVAILABLE)
        return max(0, available - self._cash_locked_fen.get(account_id, 0))

    def position_t(self, account_id: AccountId) -> int:
        """Allowances held in every state, over every CEA vintage the registry knows, listed
        or not (docs/settlement.md, position limits). Cached: trades move the cached figures,
        registry operations clear them."""
        position = self._positions.get(account_id)
        if position is None:
            balance = self.registry.ledger.balance
            position = sum(
                balance(account_id, unit.code, state)
                for unit in self.registry.unit_types()
                if unit.kind is UnitKind.CEA
                for state in _HOLDING_STATES
            )
            self._positions[account_id] = position
        return position

    def limits_t(self, account_id: AccountId) -> tuple[int, int] | None:
        """(position limit, reporting threshold) of an account, or None without limits."""
        rules = self.rules.limits
        if rules is None:
            return None
        cached = self._limits.get(account_id)
        if cached is None:
            extra = 0
            account = self.registry.account(account_id)
            if rules.add_allocation and account and account.kind is AccountKind.COVERED_ENTITY:
                extra = max(0, self.registry.allocated_t(account_id))
            cached = (rules.position_limit_t + extra, rules.report_threshold_t + extra)
            self._limits[account_id] = cached
        return cached

    def _check_position(self, kind: str, account_id: AccountId, more_t: int) -> Outcome | None:
        limits = self.limits_t(account_id)
        if limits is None:
            return None
        position = self.position_t(account_id) + self._open_buy_t.get(account_id, 0)
        if position + more_t > limits[0]:
            return refused(
                kind,
                SettlementCode.POSITION_LIMIT_EXCEEDED,
                position_t=position,
                requested_t=more_t,
                limit_t=limits[0],
            )
        return None

    def _check_funds(self, kind: str, account_id: AccountId, need_fen: int) -> Outcome | None:
        available = self.cash.balance(account_id, CASH_AVAILABLE)
        if available < need_fen:
            return refused(
                kind,
                SettlementCode.INSUFFICIENT_FUNDS,
                required_fen=need_fen,
                available_fen=available,
            )
        return None

    def _check_units(
        self, kind: str, account_id: AccountId, unit: UnitCode, qty_t: int
    ) -> Outcome | None:
        sellable = self.sellable_t(account_id, unit)
        if sellable < qty_t:
            return refused(
                kind,
                SettlementCode.INSUFFICIENT_UNITS,
                unit=unit,
                requested_t=qty_t,
                sellable_t=sellable,
                available_t=self.registry.ledger.balance(account_id, unit, AVAILABLE),
                locked_t=self._unit_locked_t.get((account_id, unit), 0),
            )
        return None

    # ------------------------------------------------------------------ orders

    def _place(self, cmd: PlaceOrder) -> Outcome:
        kind = "place_order"
        account_id = cmd.account_id
        refusal = self._trading_account(kind, account_id)
        if refusal is not None:
            return refusal
        client_id = cmd.client_order_id
        if client_id is not None:
            earlier = self._client_orders.get((account_id, client_id))
            if earlier is not None:
                first, order_id = earlier
                if first._replace(ts_ns=cmd.ts_ns) != cmd:
                    return refused(
                        kind,
                        SettlementCode.CLIENT_ORDER_ID_CONFLICT,
                        client_order_id=client_id,
                        order_id=order_id,
                    )
                return Outcome(kind, order_id=order_id, repeated=True)
        order_id = self.next_order_id + 1
        new = NewOrder(
            cmd.ts_ns,
            OrderId(order_id),
            EngineAccountId(account_id),
            Symbol(cmd.symbol),
            cmd.side,
            cmd.order_type,
            cmd.qty_t,
            cmd.price_fen,
            cmd.stp,
        )
        engine = self.engine
        rejected = engine.validate_new(new)
        if rejected is not None:
            return refused(kind, rejected[0].value, **rejected[1])
        unit = UnitCode(cmd.symbol)
        is_buy = cmd.side is BUY
        is_cea = unit in self._cea_units
        if is_buy:
            limit = cmd.price_fen
            if limit is None:  # a market buy may trade up to the band's upper edge
                limit = engine.band(cmd.symbol)[1]
            need = self._buy_need_fen(limit, cmd.qty_t)
            refusal = self._check_funds(kind, account_id, need)
            if refusal is None and is_cea:
                refusal = self._check_position(kind, account_id, cmd.qty_t)
        else:
            limit = 0
            need = cmd.qty_t
            refusal = self._check_units(kind, account_id, unit, cmd.qty_t)
        if refusal is not None:
            return refusal

        events = engine.apply(new)
        assert type(events[0]) is not CommandRejected, events[0]
        self.next_order_id = order_id
        outcome = self._outcome = Outcome(kind, order_id=order_id, events=events)
        ref = f"order:{order_id}"
        if is_buy:
            self._post_cash(ref, need, (account_id, CASH_AVAILABLE), (account_id, CASH_HELD))
            if is_cea:
                self._open_buy_t[account_id] = self._open_buy_t.get(account_id, 0) + cmd.qty_t
        else:
            self._post_units(ref, unit, need, (account_id, AVAILABLE), (account_id, HELD))
        self._bookings[order_id] = _Booking(
            account_id, unit, is_buy, limit, cmd.qty_t, need, is_cea
        )
        if client_id is not None:
            self._client_orders[(account_id, client_id)] = (cmd, order_id)
        self._settle_events(events, 1)
        return outcome

    def _cancel(self, cmd: CancelOrder) -> Outcome:
        # Asked first: the engine spends a sequence number on a refusal, and a refused
        # market command changes nothing.
        cancel = EngineCancel(cmd.ts_ns, OrderId(cmd.order_id), EngineAccountId(cmd.account_id))
        rejected = self.engine.validate_cancel(cancel)
        if rejected is not None:
            return _refused_order("cancel_order", cmd.order_id, rejected)
        events = self.engine.apply(cancel)
        return self._after_engine("cancel_order", events, cmd.order_id)

    def _amend(self, cmd: AmendOrder) -> Outcome:
        kind = "amend_order"
        amend = EngineAmend(
            cmd.ts_ns,
            OrderId(cmd.order_id),
            EngineAccountId(cmd.account_id),
            cmd.price_fen,
            cmd.qty_t,
        )
        rejected = self.engine.validate_amend(amend)  # the band's refusal before the funds'
        if rejected is not None:
            return _refused_order(kind, cmd.order_id, rejected)
        booking = self._bookings.get(cmd.order_id)
        view = self.engine.order(cmd.order_id)
        if booking is not None and view is not None and booking.account_id == cmd.account_id:
            # Validate what the amendment would add to the hold before the engine acts.
            price = view.price_fen if cmd.price_fen is None else cmd.price_fen
            leaves = view.leaves_t if cmd.qty_t is None else cmd.qty_t - view.filled_t
            if price is not None and leaves > 0:
                refusal: Outcome | None = None
                if booking.is_buy:
                    more = self._buy_need_fen(price, leaves) - booking.held
                    if more > 0:
                        refusal = self._check_funds(kind, booking.account_id, more)
                    if refusal is None and booking.is_cea and leaves > booking.leaves_t:
                        more_t = leaves - booking.leaves_t
                        refusal = self._check_position(kind, booking.account_id, more_t)
                elif leaves > booking.held:
                    more_t = leaves - booking.held
                    refusal = self._check_units(kind, booking.account_id, booking.unit, more_t)
                if refusal is not None:
                    return refusal
        events = self.engine.apply(amend)
        return self._after_engine(kind, events, cmd.order_id)

    def _take(self, cmd: TakeQuote) -> Outcome:
        """Point-select (摘牌): the order path's checks, holds and settlement for a taker's
        order at the quote's price that meets that quote only (``matching``'s ``TakeQuote``)."""
        kind = "take_quote"
        account_id = cmd.account_id
        refusal = self._trading_account(kind, account_id)
        if refusal is not None:
            return refusal
        client_id = cmd.client_order_id
        if client_id is not None:
            earlier = self._client_orders.get((account_id, client_id))
            if earlier is not None:
                first, order_id = earlier
                if type(first) is not TakeQuote or first._replace(ts_ns=cmd.ts_ns) != cmd:
                    return refused(
                        kind,
                        SettlementCode.CLIENT_ORDER_ID_CONFLICT,
                        client_order_id=client_id,
                        order_id=order_id,
                    )
                return Outcome(kind, order_id=order_id, repeated=True)
        order_id = self.next_order_id + 1
        take = EngineTake(
            cmd.ts_ns,
            OrderId(order_id),
            EngineAccountId(account_id),
            OrderId(cmd.order_id),
            cmd.qty_t,
        )
        engine = self.engine
        rejected = engine.validate_take(take)
        if rejected is not None:
            return refused(kind, rejected[0].value, **rejected[1])
        quote = engine.order(cmd.order_id)
        assert quote is not None
        assert quote.price_fen is not None
        symbol = str(quote.symbol)
        unit = UnitCode(symbol)
        is_buy = quote.side is not BUY
        is_cea = unit in self._cea_units
        qty = cmd.qty_t
        if is_buy:
            limit = quote.price_fen
            need = self._buy_need_fen(limit, qty)
            refusal = self._check_funds(kind, account_id, need)
            if refusal is None and is_cea:
                refusal = self._check_position(kind, account_id, qty)
        else:
            limit = 0
            need = qty
            refusal = self._check_units(kind, account_id, unit, qty)
        if refusal is not None:
            return refusal

        events = engine.apply(take)
        assert type(events[0]) is not CommandRejected, events[0]
        self.next_order_id = order_id
        outcome = self._outcome = Outcome(kind, order_id=order_id, events=events)
        ref = f"order:{order_id}"
        if is_buy:
            self._post_cash(ref, need, (account_id, CASH_AVAILABLE), (account_id, CASH_HELD))
            if is_cea:
                self._open_buy_t[account_id] = self._open_buy_t.get(account_id, 0) + qty
        else:
            self._post_units(ref, unit, need, (account_id, AVAILABLE), (account_id, HELD))
        self._bookings[order_id] = _Booking(account_id, unit, is_buy, limit, qty, need, is_cea)
        if client_id is not None:
            self._client_orders[(account_id, client_id)] = (cmd, order_id)
        self._settle_events(events, 1)
        return outcome

    def _cancel_all(self, cmd: CancelAll) -> Outcome:
        kind = "cancel_all"
        refusal = self._trading_account(kind, cmd.account_id)
        if refusal is not None:
            return refusal
        if cmd.symbol is not None and cmd.symbol not in self.instruments:
            return refused(kind, SettlementCode.UNKNOWN_INSTRUMENT, symbol=cmd.symbol)
        events = self.engine.apply(
            CancelAccountOrders(
                cmd.ts_ns,
                EngineAccountId(cmd.account_id),
                None if cmd.symbol is None else Symbol(cmd.symbol),
            )
        )
        return self._after_engine(kind, events, None)

    def _after_engine(self, kind: str, events: list[Event], order_id: int | None) -> Outcome:
        if events and type(events[0]) is CommandRejected:
            rejected = events[0]
            assert isinstance(rejected, CommandRejected)
            return Outcome(
                kind, code=rejected.code.value, details=dict(rejected.details), order_id=order_id
            )
        self._outcome = Outcome(kind, order_id=order_id, events=events)
        self._settle_events(events, 0)
        return self._outcome

    # ------------------------------------------------------------------ settlement of events

    def _settle_events(self, events: list[Event], start: int) -> None:
        for i in range(start, len(events)):
            event = events[i]
            t = type(event)
            if t is TradeExecuted:
                assert isinstance(event, TradeExecuted)
                self._settle_trade(event)
            elif t is OrderCancelled:
                assert isinstance(event, OrderCancelled)
                self._release(event.order_id, event.qty_t, 0)
            elif t is OrderReduced:
                assert isinstance(event, OrderReduced)
                self._release(event.order_id, event.qty_t, event.leaves_t)
            elif t is OrderAmended:
                assert isinstance(event, OrderAmended)
                self._rehold(event)

    def _settle_trade(self, trade: TradeExecuted) -> None:
        """Delivery versus payment of one fill (券款对付): cash from the buyer's hold to the
        seller, units from the seller's hold to the buyer, fees to the exchange."""
        buy = self._bookings[trade.buy_order_id]
        sell = self._bookings[trade.sell_order_id]
        buyer, seller = buy.account_id, sell.account_id
        qty = trade.qty_t
        notional = trade.price_fen * qty
        buy_fee = notional * self._fee_bp_buy // BP
        sell_fee = notional * self._fee_bp_sell // BP
        ref = f"trade:{trade.trade_id}"
        self._post_cash(ref, notional, (buyer, CASH_HELD), (seller, CASH_AVAILABLE))
        if buy_fee:
            self._post_cash(ref, buy_fee, (buyer, CASH_HELD), (FEES, CASH_AVAILABLE))
        if sell_fee:
            self._post_cash(ref, sell_fee, (seller, CASH_AVAILABLE), (FEES, CASH_AVAILABLE))
        self._post_units(ref, buy.unit, qty, (seller, HELD), (buyer, AVAILABLE))
        buy.held -= notional + buy_fee
        sell.held -= qty
        if buy.is_cea:
            self._open_buy_t[buyer] -= qty
            positions = self._positions
            if buyer in positions:
                positions[buyer] += qty
            if seller in positions:
                positions[seller] -= qty
        self._lock_units(buyer, buy.unit, qty)
        self._lock_cash(seller, notional - sell_fee)
        self._settle_leaves(trade.buy_order_id, buy, trade.buy_leaves_t)
        self._settle_leaves(trade.sell_order_id, sell, trade.sell_leaves_t)
        self.last_trade_id = trade.trade_id
        self.day_book.record_trade(trade, buyer, seller, buy_fee, sell_fee)
        self._outcome.fills.append(Fill(trade, buy_fee, sell_fee))
        if buy.is_cea:
            self._check_report(buyer)

    def _settle_leaves(self, order_id: int, booking: _Booking, leaves_t: int) -> None:
        """After a fill: release what the rest of the order no longer needs."""
        booking.leaves_t = leaves_t
        if booking.is_buy:
            excess = booking.held - self._buy_need_fen(booking.limit_fen, leaves_t)
            assert excess >= 0, f"order {order_id} holds {booking.held} fen, too little"
            if excess:
                self._release_cash(order_id, booking, excess)
        if not leaves_t:
            assert booking.held == 0, f"order {order_id} finished holding {booking.held}"
            del self._bookings[order_id]

    def _release_cash(self, order_id: int, booking: _Booking, amount_fen: int) -> None:
        booking.held -= amount_fen
        account = booking.account_id
        self._post_cash(
            f"order:{order_id}", amount_fen, (account, CASH_HELD), (account, CASH_AVAILABLE)
        )

    def _release(self, order_id: int, qty_t: int, leaves_t: int) -> None:
        """Quantity left an order without trading (cancel, expiry, STP, reduction)."""
        booking = self._bookings[order_id]
        if booking.is_buy:
            if booking.is_cea:
                self._open_buy_t[booking.account_id] -= qty_t
        else:
            account = booking.account_id
            booking.held -= qty_t
            self._post_units(
                f"order:{order_id}", booking.unit, qty_t, (account, HELD), (account, AVAILABLE)
            )
        self._settle_leaves(order_id, booking, leaves_t)

    def _rehold(self, event: OrderAmended) -> None:
        """An amendment's new price or quantity: hold more (validated before) or release."""
        booking = self._bookings[event.order_id]
        account = booking.account_id
        ref = f"order:{event.order_id}"
        if booking.is_buy:
            if booking.is_cea:
                self._open_buy_t[account] += event.leaves_t - booking.leaves_t
            booking.limit_fen = event.price_fen
            more = self._buy_need_fen(event.price_fen, event.leaves_t) - booking.held
            if more > 0:
                booking.held += more
                self._post_cash(ref, more, (account, CASH_AVAILABLE), (account, CASH_HELD))
            elif more < 0:
                self._release_cash(event.order_id, booking, -more)
        else:
            more = event.leaves_t - booking.held
            if more > 0:
                booking.held += more
                self._post_units(ref, booking.unit, more, (account, AVAILABLE), (account, HELD))
            elif more < 0:
                booking.held += more
                self._post_units(ref, booking.unit, -more, (account, HELD), (account, AVAILABLE))
        booking.leaves_t = event.leaves_t
        if not booking.leaves_t:
            assert booking.held == 0
            del self._bookings[event.order_id]

    def _lock_units(self, account: AccountId, unit: UnitCode, qty_t: int) -> None:
        days = self._unit_lock_days
        if days:
            key = (account, unit)
            self._unit_locks.setdefault(key, []).append((self.day_index + days, qty_t))
            self._unit_locked_t[key] = self._unit_locked_t.get(key, 0) + qty_t

    def _lock_cash(self, account: AccountId, amount_fen: int) -> None:
        days = self._cash_lock_days
        if days and amount_fen:
            self._cash_locks.setdefault(account, []).append((self.day_index + days, amount_fen))
            self._cash_locked_fen[account] = self._cash_locked_fen.get(account, 0) + amount_fen

    def _check_report(self, account: AccountId) -> None:
        limits = self.limits_t(account)
        if limits is None or account in self._reported:
            return
        position = self.position_t(account)
        if position > limits[1]:
            self._reported.add(account)
            report = LargeHolderReport(account, position, limits[1])
            self._outcome.reports = [*self._outcome.reports, report]

    # ------------------------------------------------------------------ state (snapshot.py)

    @property
    def reference_window(self) -> tuple[tuple[int, int], ...]:
        """(volume_t, turnover_fen) of the listed CEA instruments on each of the last cleared
        trading days, oldest first, at most ``penalty.reference_window_days`` of them: what
        the penalty's "previous month's average price" is taken over (docs/rules.md)."""
        return tuple(self._reference_window[-self.rules.penalty.reference_window_days :])

    def listed_window(self, days: int) -> tuple[tuple[int, int], ...]:
        """(volume_t, turnover_fen) of listed CEA trades on each of the last ``days`` cleared
        trading days the market keeps (at most ``window_days``), oldest first."""
        return tuple(self._reference_window[-days:])

    def state_hash(self) -> str:
        """A digest of everything that decides what the market does next."""
        return snapshots.state_hash(self)

    def balances(self) -> dict[tuple[str, str, str], int]:
        """Every non-zero balance as (account, asset, state) -> amount."""
        return snapshots.balances(self)

    def balances_of(self, keys: Iterable[tuple[str, str, Any]]) -> dict[tuple[str, str, str], int]:
        """The balances of (account, asset, state) keys as postings carry them."""
        return snapshots.balances_of(self, keys)

    def balance(self, account: str, asset: str, state: str) -> int:
        return snapshots.balance(self, account, asset, state)

    def snapshot(self) -> bytes:
        """The whole market as bytes, at day end only."""
        return snapshots.snapshot(self)

    @classmethod
    def restore(cls, data: bytes) -> Market:
        """The market ``snapshot`` gave ``data`` for."""
        return snapshots.restore(cls, data)
