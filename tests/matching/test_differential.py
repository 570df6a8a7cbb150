"""Differential and property tests: the engine against the naive oracle of docs/matching.md.

``tests/matching/naive_book.py`` implements the specification the plain way; every command goes
to both, and after every command the two must agree on the events (types and every field), on
the full L2 depth and the best bid/offer of every instrument, and on every order touched. On
the engine alone, after every command: the book is not crossed, price-time priority holds in
every changed level (L3 priorities strictly increasing, prices inside the band), nothing rests
with zero quantity, L2 totals are the sums of the L3 queue, every order keeps
``submitted = filled + open + cancelled`` and changes status only as ``matching.lifecycle``
allows, and the ``BookLevelChanged`` deltas of a command applied to the previous L2 give the
new L2.

Three drivers: a Hypothesis state machine (small books, many interleavings; 100 runs, 1,000
under ``make soak``), a seeded 25,000-command stream from ``tests/matching/command_stream.py``,
and the same with 1,000,000 commands under ``make soak``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

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
from matching.instruments import Instrument, instrument_from_rules
from matching.lifecycle import ORDER_TRANSITIONS
from matching.types import (
    AccountId,
    CancelReason,
    OrderId,
    OrderStatus,
    OrderType,
    Side,
    StpMode,
    Symbol,
    TradingState,
)
from registry_sim.rulesets import load_ruleset
from tests.matching.command_stream import (
    COARSE_OVERRIDES,
    CommandStream,
    market_instruments,
    reference_prices,
)
from tests.matching.naive_book import NaiveBook

ALL_LEVELS = 1_000_000
OPEN_STATUSES = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


def fields(value: Any) -> tuple[Any, ...]:
    """A record or named tuple as (type name, *fields), so comparisons also check the type."""
    return (type(value).__name__, *[getattr(value, name) for name in type(value).__match_args__])


def describe(events: Iterable[Event]) -> str:
    return "\n".join(f"    {fields(e)}" for e in events)


def level_order(event: BookLevelChanged) -> tuple[str, int, int]:
    if event.side is Side.BUY:
        return event.symbol, 0, -event.price_fen
    return event.symbol, 1, event.price_fen


class Differential:
    """An engine and the naive book fed the same commands, checked after every command."""

    def __init__(self, instruments: Sequence[Instrument], refs: dict[str, int]) -> None:
        self.engine = MatchingEngine(instruments, refs)
        self.naive = NaiveBook(instruments, refs)
        self.symbols = [Symbol(i.symbol) for i in instruments]
        # The L2 rebuilt from BookLevelChanged deltas alone: (symbol, side) -> price -> level.
        self.l2: dict[tuple[Symbol, Side], dict[int, tuple[int, int]]] = {
            (symbol, side): {} for symbol in self.symbols for side in Side
        }
        self.status: dict[OrderId, OrderStatus] = {}
        self.order_ids: set[OrderId] = set()
        self.accounts: set[AccountId] = set()
        self.seq = 0
        self.trade_id = 0
        self.steps = 0
        self.seen: Counter[str] = Counter()  # what the commands reached, for coverage
        self.most_resting = 0

    # ------------------------------------------------------------------ one command

    def apply(self, command: Command, *, check_books: bool = True) -> list[Event]:
        self.steps += 1
        expected = self.naive.apply(command)
        actual = self.engine.apply(command)
        if [fields(e) for e in actual] != [fields(e) for e in expected]:
            pytest.fail(
                f"step {self.steps}: {command!r}\n  engine:\n{describe(actual)}\n"
                f"  naive book (docs/matching.md):\n{describe(expected)}"
            )
        self._check_event_stream(command, actual)
        self._count(actual)
        resting = sum(len(orders) for orders in self.naive.resting.values())
        self.most_resting = max(self.most_resting, resting)
        self._apply_deltas(actual)

        touched_orders: set[OrderId] = set()
        touched_accounts: set[AccountId] = set()
        order_id = getattr(command, "order_id", None)
        if order_id is not None:
            touched_orders.add(order_id)
        account_id = getattr(command, "account_id", None)
        if account_id is not None:
            touched_accounts.add(account_id)
        for event in actual:
            if isinstance(event, TradeExecuted):
                touched_orders |= {event.buy_order_id, event.sell_order_id}
                touched_accounts |= {event.buy_account_id, event.sell_account_id}
            elif isinstance(event, (OrderAccepted, OrderCancelled, OrderReduced, OrderAmended)):
                touched_orders.add(event.order_id)
                touched_accounts.add(event.account_id)
        self.order_ids |= touched_orders
        self.accounts |= touched_accounts

        changed_levels = [e for e in actual if isinstance(e, BookLevelChanged)]
        if check_books:
            for symbol in self.symbols:
                self.check_book(symbol, queues=False)
        for event in changed_levels:
            self.check_level(event.symbol, event.side, event.price_fen)
        self.check_orders(touched_orders)
        self.check_open_orders(touched_accounts)
        return actual

    def _check_event_stream(self, command: Command, events: list[Event]) -> None:
        """What every event list must look like, whatever the command."""
        seqs = [e.seq for e in events]
        assert seqs == list(range(self.seq + 1, self.seq + 1 + len(events))), seqs
        if events:
            self.seq = seqs[-1]
        assert all(e.ts_ns == command.ts_ns for e in events)
        trades = [e.trade_id for e in events if isinstance(e, TradeExecuted)]
        assert trades == list(range(self.trade_id + 1, self.trade_id + 1 + len(trades)))
        if trades:
            self.trade_id = trades[-1]
        if any(isinstance(e, CommandRejected) for e in events):
            assert len(events) == 1, "a refusal is the only event of its command"
        # The L2 changes come last, one per level, ordered by symbol, side and price.
        kinds = [isinstance(e, BookLevelChanged) for e in events]
        first = kinds.index(True) if True in kinds else len(kinds)
        assert all(kinds[first:]), "BookLevelChanged events must come last"
        keys = [level_order(e) for e in events[first:] if isinstance(e, BookLevelChanged)]
        assert keys == sorted(set(keys)), keys
        if isinstance(command, NewOrder) and events:
            assert isinstance(events[0], (OrderAccepted, CommandRejected))
        if isinstance(command, AmendOrder):
            assert isinstance(events[0], (OrderAmended, CommandRejected))
        if isinstance(command, SetTradingState):
            assert isinstance(events[0], (TradingStateChanged, CommandRejected))
        if isinstance(command, SetReferencePrice):
            assert len(events) == 1
            assert isinstance(events[0], (ReferencePriceSet, CommandRejected))

    def _count(self, events: list[Event]) -> None:
        for event in events:
            self.seen[type(event).__name__] += 1
            if isinstance(event, OrderCancelled):
                self.seen[f"cancelled:{event.reason.value}"] += 1
            elif isinstance(event, CommandRejected):
                self.seen[f"refused:{event.code.value}"] += 1
            elif isinstance(event, OrderAccepted):
                self.seen[f"accepted:{event.order_type.value}:{event.stp.value}"] += 1
            elif isinstance(event, OrderAmended):
                kept = "priority_kept" if event.priority_kept else "to_the_back"
                self.seen[f"amended:{kept}"] += 1

    def _apply_deltas(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, BookLevelChanged):
                levels = self.l2[(event.symbol, event.side)]
                if event.qty_t == 0:
                    assert event.order_count == 0, event
                    assert event.price_fen in levels, f"removes a level that is not there: {event}"
                    del levels[event.price_fen]
                else:
                    assert event.qty_t > 0, event
                    assert event.order_count > 0, event
                    levels[event.price_fen] = (event.qty_t, event.order_count)

    # ------------------------------------------------------------------ checks

    def check_book(self, symbol: Symbol, *, queues: bool) -> None:
        engine, naive = self.engine, self.naive
        depth = engine.depth(symbol, ALL_LEVELS)
        assert fields(depth) == fields(naive.depth(symbol, ALL_LEVELS)), symbol
        bbo = engine.best_bid_offer(symbol)
        assert fields(bbo) == fields(naive.best_bid_offer(symbol)), symbol
        info = engine.book_info(symbol)
        if queues:  # (the slower checks, not after every command of a long stream)
            assert fields(info) == fields(naive.book_info(symbol)), symbol
            for n in (0, 1, 3):
                assert fields(engine.depth(symbol, n)) == fields(naive.depth(symbol, n)), symbol
        # BBO is the top of the depth; the book is never crossed.
        top_bid = depth.bids[0] if depth.bids else None
        top_ask = depth.asks[0] if depth.asks else None
        assert bbo.bid_price_fen == (top_bid.price_fen if top_bid else None)
        assert bbo.bid_qty_t == (top_bid.qty_t if top_bid else 0)
        assert bbo.ask_price_fen == (top_ask.price_fen if top_ask else None)
        assert bbo.ask_qty_t == (top_ask.qty_t if top_ask else 0)
        if top_bid and top_ask:
            assert top_bid.price_fen < top_ask.price_fen, f"crossed book {symbol}: {bbo}"
        # Depth is sorted best first, with no empty level; it equals the L2 from the deltas.
        bid_prices = [lv.price_fen for lv in depth.bids]
        ask_prices = [lv.price_fen for lv in depth.asks]
        assert bid_prices == sorted(set(bid_prices), reverse=True)
        assert ask_prices == sorted(set(ask_prices))
        for side, levels in ((Side.BUY, depth.bids), (Side.SELL, depth.asks)):
            as_dict = {lv.price_fen: (lv.qty_t, lv.order_count) for lv in levels}
            assert as_dict == self.l2[(symbol, side)], f"L2 deltas do not add up: {symbol} {side}"
            for lv in levels:
                assert lv.qty_t > 0, lv
                assert lv.order_count > 0, lv
                assert info.band_lower_fen <= lv.price_fen <= info.band_upper_fen, (info, lv)
            if queues:
                for lv in levels:
                    self.check_level(symbol, side, lv.price_fen)
        if info.state is TradingState.CLOSED or info.state is TradingState.PRE_OPEN:
            assert depth == ((), ()), f"orders rest while {info.state}"

    def check_level(self, symbol: Symbol, side: Side, price: int) -> None:
        """L3 of one level: same as the oracle, in strict priority order, adding up to L2."""
        queue = self.engine.queue(symbol, side, price)
        assert [fields(e) for e in queue] == [
            fields(e) for e in self.naive.queue(symbol, side, price)
        ], (symbol, side, price)
        priorities = [entry.priority for entry in queue]
        assert all(a < b for a, b in pairwise(priorities)), priorities
        assert all(entry.leaves_t > 0 for entry in queue), queue
        level = self.l2[(symbol, side)].get(price)
        if not queue:
            assert level is None
            return
        assert level == (sum(entry.leaves_t for entry in queue), len(queue)), (level, queue)
        info = self.engine.book_info(symbol)
        assert info.band_lower_fen <= price <= info.band_upper_fen
        for entry in queue:
            view = self.engine.order(entry.order_id)
            assert view is not None
            assert (view.symbol, view.side, view.price_fen) == (symbol, side, price), view
            assert (view.leaves_t, view.priority) == (entry.leaves_t, entry.priority), view
            assert view.order_type is OrderType.LIMIT, view
            assert view.status in OPEN_STATUSES, view

    def check_orders(self, order_ids: Iterable[OrderId]) -> None:
        for order_id in order_ids:
            view = self.engine.order(order_id)
            expected = self.naive.order(order_id)
            assert (view is None) == (expected is None), (order_id, view, expected)
            if view is None or expected is None:
                continue
            assert fields(view) == fields(expected), f"\n  engine {view}\n  naive  {expected}"
            assert view.submitted_t == view.filled_t + view.leaves_t + view.cancelled_t, view
            assert min(view.filled_t, view.leaves_t, view.cancelled_t) >= 0, view
            assert (view.cancel_reason is None) == (view.status is not OrderStatus.CANCELLED)
            before = self.status.get(order_id, OrderStatus.NEW)
            assert view.status in ORDER_TRANSITIONS[before], (before, view)
            self.status[order_id] = view.status

    def check_open_orders(self, accounts: Iterable[AccountId]) -> None:
        for account in accounts:
            actual = self.engine.open_orders(account)
            assert [fields(v) for v in actual] == [
                fields(v) for v in self.naive.open_orders(account)
            ], account
            assert all(v.status in OPEN_STATUSES and v.leaves_t > 0 for v in actual), actual

    def check_everything(self) -> None:
        for symbol in self.symbols:
            self.check_book(symbol, queues=True)
        self.check_orders(sorted(self.order_ids))
        self.check_open_orders(sorted(self.accounts))


# ---------------------------------------------------------------------- Hypothesis


def cn_instrument(symbol: str, overrides: dict[str, Any] | None = None) -> Instrument:
    return instrument_from_rules(symbol, load_ruleset("cn_national", overrides)["trading"])


MACHINE_INSTRUMENTS = [cn_instrument("CEA25"), cn_instrument("CCER", COARSE_OVERRIDES)]
MACHINE_REFS = {"CEA25": 6000, "CCER": 3500}
MACHINE_SYMBOLS = [Symbol(i.symbol) for i in MACHINE_INSTRUMENTS]
UNKNOWN = Symbol("CEA99")
ACCOUNTS = [AccountId(a) for a in ("A", "B", "C")]
STATES = list(TradingState)

sides = st.sampled_from(list(Side))
stp_modes = st.sampled_from(list(StpMode))
order_types = st.sampled_from(list(OrderType))
accounts = st.sampled_from(ACCOUNTS)
symbols = st.sampled_from(MACHINE_SYMBOLS)


class DifferentialMachine(RuleBasedStateMachine):
    """Random commands on two small books; every step compared and checked by ``Differential``."""

    def __init__(self) -> None:
        super().__init__()
        self.diff = Differential(MACHINE_INSTRUMENTS, MACHINE_REFS)
        self.ts = 0
        self.next_id = 1
        self.used_ids: list[OrderId] = []

    def do(self, command: Command) -> list[Event]:
        return self.diff.apply(command)

    def next_ts(self) -> int:
        self.ts += 1_000
        return self.ts

    def instrument(self, symbol: Symbol) -> Instrument:
        return next(i for i in MACHINE_INSTRUMENTS if i.symbol == symbol)

    @initialize()
    def open_all(self) -> None:
        for symbol in MACHINE_SYMBOLS:
            for state in (TradingState.PRE_OPEN, TradingState.CONTINUOUS):
                (event,) = self.do(SetTradingState(self.next_ts(), symbol, state))
                assert isinstance(event, TradingStateChanged)

    # -- drawing values that depend on the machine's state

    def draw_price(self, data: st.DataObject, symbol: Symbol) -> int:
        info = self.diff.engine.book_info(symbol)
        tick = info.tick_fen
        kind = data.draw(st.integers(0, 19), label="price kind")
        if kind == 0:
            return info.band_upper_fen + tick * data.draw(st.integers(0, 1))
        if kind == 1:
            return info.band_lower_fen - tick * data.draw(st.integers(0, 1))
        if kind == 2 and tick > 1:
            return info.reference_price_fen + data.draw(st.integers(1, tick - 1))
        if kind == 3:
            return data.draw(st.sampled_from([0, -tick]))
        return info.reference_price_fen + tick * data.draw(st.integers(-2, 2), label="ticks")

    def draw_qty(self, data: st.DataObject, symbol: Symbol) -> int:
        instrument = self.instrument(symbol)
        lot = instrument.lot_t
        rules = instrument.book_rules
        kind = data.draw(st.integers(0, 15), label="qty kind")
        if kind == 0:
            edge = [0, -lot, rules.min_qty_t, rules.min_qty_t - 1, lot + 1]
            if rules.max_qty_t is not None:
                edge += [rules.max_qty_t, rules.max_qty_t + 1]
            return data.draw(st.sampled_from(edge))
        return lot * data.draw(st.integers(1, 8), label="lots")

    def draw_order_id(self, data: st.DataObject) -> OrderId:
        if self.used_ids and data.draw(st.integers(0, 9), label="reuse id") == 0:
            return data.draw(st.sampled_from(self.used_ids))
        order_id = OrderId(self.next_id)
        self.next_id += 1
        return order_id

    def draw_target(self, data: st.DataObject) -> tuple[OrderId, AccountId]:
        """An order id to cancel or amend, and who asks: mostly a resting order, its owner."""
        kind = data.draw(st.integers(0, 19), label="target kind")
        resting = [
            view.order_id for account in ACCOUNTS for view in self.diff.engine.open_orders(account)
        ]
        if kind == 0 or not self.used_ids:
            return OrderId(self.next_id + 100), data.draw(accounts)
        if kind < 5 or not resting:
            order_id = data.draw(st.sampled_from(self.used_ids), label="any order")
        else:
            order_id = data.draw(st.sampled_from(resting), label="resting order")
        view = self.diff.engine.order(order_id)
        if view is None or data.draw(st.integers(0, 9), label="other account") == 0:
            return order_id, data.draw(accounts)
        return order_id, view.account_id

    # -- rules

    @rule(data=st.data())
    def new_order(self, data: st.DataObject) -> None:
        symbol = data.draw(st.sampled_from([*MACHINE_SYMBOLS, *MACHINE_SYMBOLS, UNKNOWN]))
        known = symbol if symbol != UNKNOWN else MACHINE_SYMBOLS[0]
        order_type = data.draw(order_types)
        price: int | None = None
        if (order_type is not OrderType.MARKET) != (data.draw(st.integers(0, 24)) == 0):
            price = self.draw_price(data, known)
        order_id = self.draw_order_id(data)
        command = NewOrder(
            self.next_ts(),
            order_id,
            data.draw(accounts),
            symbol,
            data.draw(sides),
            order_type,
            self.draw_qty(data, known),
            price,
            data.draw(stp_modes),
        )
        events = self.do(command)
        if events and isinstance(events[0], OrderAccepted):
            self.used_ids.append(order_id)

    @rule(data=st.data())
    def add_liquidity(self, data: st.DataObject) -> None:
        """One to four valid limit orders that do not cross: the book grows deeper than with
        ``new_order`` alone, with several accounts in each level."""
        symbol = data.draw(symbols)
        side = data.draw(sides)
        for _ in range(data.draw(st.integers(1, 4), label="orders")):
            info = self.diff.engine.book_info(symbol)
            bbo = self.diff.engine.best_bid_offer(symbol)
            tick = info.tick_fen
            if side is Side.BUY:
                base = (
                    info.reference_price_fen
                    if bbo.ask_price_fen is None
                    else bbo.ask_price_fen - tick
                )
                price = base - tick * data.draw(st.integers(0, 2), label="ticks behind")
            else:
                base = (
                    info.reference_price_fen
                    if bbo.bid_price_fen is None
                    else bbo.bid_price_fen + tick
                )
                price = base + tick * data.draw(st.integers(0, 2), label="ticks behind")
            if data.draw(st.integers(0, 9), label="at the band edge") == 0:
                price = info.band_lower_fen if side is Side.BUY else info.band_upper_fen
            price = min(max(price, info.band_lower_fen), info.band_upper_fen)
            order_id = OrderId(self.next_id)
            self.next_id += 1
            events = self.do(
                NewOrder(
                    self.next_ts(),
                    order_id,
                    data.draw(accounts),
                    symbol,
                    side,
                    OrderType.LIMIT,
                    info.lot_t * data.draw(st.integers(1, 6), label="lots"),
                    price,
                    data.draw(stp_modes),
                )
            )
            if events and isinstance(events[0], OrderAccepted):
                self.used_ids.append(order_id)

    @rule(data=st.data())
    def take_liquidity(self, data: st.DataObject) -> None:
        """An order priced at or through the opposite touch: trades, sweeps and self-trades."""
        symbol = data.draw(symbols)
        info = self.diff.engine.book_info(symbol)
        bbo = self.diff.engine.best_bid_offer(symbol)
        side = data.draw(sides)
        touch = bbo.ask_price_fen if side is Side.BUY else bbo.bid_price_fen
        if touch is None:
            touch = info.reference_price_fen
        through = data.draw(st.integers(0, 2), label="ticks through") * info.tick_fen
        price = touch + through if side is Side.BUY else touch - through
        price = min(max(price, info.band_lower_fen), info.band_upper_fen)
        order_type = data.draw(order_types)
        order_id = OrderId(self.next_id)
        self.next_id += 1
        events = self.do(
            NewOrder(
                self.next_ts(),
                order_id,
                data.draw(accounts),
                symbol,
                side,
                order_type,
                info.lot_t * data.draw(st.integers(1, 12), label="lots"),
                None if order_type is OrderType.MARKET else price,
                data.draw(stp_modes),
            )
        )
        if events and isinstance(events[0], OrderAccepted):
            self.used_ids.append(order_id)

    @rule(data=st.data())
    def cross_own_order(self, data: st.DataObject) -> None:
        """An account trades through (or up to) one of its own resting orders: every STP mode
        with every order type, and FOK orders that the liquidity could fill but for the own
        order."""
        resting = [view for account in ACCOUNTS for view in self.diff.engine.open_orders(account)]
        if not resting:
            return
        own = data.draw(st.sampled_from(resting), label="own resting order")
        assert own.price_fen is not None
        info = self.diff.engine.book_info(own.symbol)
        side = own.side.opposite
        through = data.draw(st.integers(0, 2), label="ticks through") * info.tick_fen
        limit = own.price_fen + through if side is Side.BUY else own.price_fen - through
        limit = min(max(limit, info.band_lower_fen), info.band_upper_fen)
        depth = self.diff.engine.depth(own.symbol, ALL_LEVELS)
        levels = depth.asks if side is Side.BUY else depth.bids
        in_reach = [
            entry
            for lv in levels
            if (lv.price_fen <= limit if side is Side.BUY else lv.price_fen >= limit)
            for entry in self.diff.engine.queue(own.symbol, own.side, lv.price_fen)
        ]
        everything = sum(entry.leaves_t for entry in in_reach)
        others = sum(entry.leaves_t for entry in in_reach if entry.account_id != own.account_id)
        qty = data.draw(
            st.sampled_from([others, everything]) | st.integers(1, everything + 1), label="qty"
        )
        qty = max(qty - qty % info.lot_t, info.lot_t)
        order_type = data.draw(order_types)
        order_id = OrderId(self.next_id)
        self.next_id += 1
        events = self.do(
            NewOrder(
                self.next_ts(),
                order_id,
                own.account_id,
                own.symbol,
                side,
                order_type,
                qty,
                None if order_type is OrderType.MARKET else limit,
                data.draw(stp_modes),
            )
        )
        if events and isinstance(events[0], OrderAccepted):
            self.used_ids.append(order_id)

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        order_id, account = self.draw_target(data)
        self.do(CancelOrder(self.next_ts(), order_id, account))

    @rule(data=st.data())
    def amend(self, data: st.DataObject) -> None:
        order_id, account = self.draw_target(data)
        view = self.diff.engine.order(order_id)
        symbol = view.symbol if view is not None else MACHINE_SYMBOLS[0]
        price = data.draw(st.none() | st.just(0), label="price?")
        if price is not None:
            price = self.draw_price(data, symbol)
        qty: int | None = None
        kind = data.draw(st.integers(0, 5), label="qty kind")
        if kind == 1:
            qty = self.draw_qty(data, symbol)
        elif kind == 2 and view is not None:
            # the same total, one lot less or more, or at most what is filled
            lot = self.instrument(symbol).lot_t
            total = view.filled_t + view.leaves_t
            qty = data.draw(st.sampled_from([total, total - lot, total + lot, view.filled_t]))
        self.do(AmendOrder(self.next_ts(), order_id, account, price, qty))

    @rule(account=accounts, symbol=st.sampled_from([None, *MACHINE_SYMBOLS, UNKNOWN]))
    def kill_switch(self, account: AccountId, symbol: Symbol | None) -> None:
        self.do(CancelAccountOrders(self.next_ts(), account, symbol))

    @rule(data=st.data())
    def session(self, data: st.DataObject) -> None:
        """Trading-state and reference-price commands, legal or not, and whole day ends."""
        symbol = data.draw(st.sampled_from([*MACHINE_SYMBOLS, *MACHINE_SYMBOLS, UNKNOWN]))
        known = symbol if symbol != UNKNOWN else MACHINE_SYMBOLS[0]
        tick = self.instrument(known).tick_fen
        state = self.diff.naive.markets[known].state
        kind = data.draw(st.sampled_from(["state", "state", "reference", "reopen", "next_day"]))
        if kind == "state":
            target = data.draw(st.sampled_from(STATES))
            self.do(SetTradingState(self.next_ts(), symbol, target, data.draw(st.booleans())))
        elif kind == "reference":
            ticks = data.draw(st.integers(-300, 300), label="ticks")
            off = data.draw(st.sampled_from([0, 0, 0, 1]), label="off tick")
            price = MACHINE_REFS[known] + ticks * tick + off
            self.do(SetReferencePrice(self.next_ts(), symbol, price))
        elif kind == "reopen" and state is not TradingState.CONTINUOUS:
            # back to continuous trading by legal moves (via pre-open if closed)
            if state is TradingState.CLOSED:
                self.do(SetTradingState(self.next_ts(), known, TradingState.PRE_OPEN))
            self.do(SetTradingState(self.next_ts(), known, TradingState.CONTINUOUS))
        elif kind == "next_day":
            # close (expiring the book), pre-open with a new reference price, continuous
            if state is not TradingState.CLOSED:
                self.do(SetTradingState(self.next_ts(), known, TradingState.CLOSED))
            self.do(SetTradingState(self.next_ts(), known, TradingState.PRE_OPEN))
            ticks = data.draw(st.integers(-20, 20), label="ticks")
            self.do(SetReferencePrice(self.next_ts(), known, MACHINE_REFS[known] + ticks * tick))
            self.do(SetTradingState(self.next_ts(), known, TradingState.CONTINUOUS))

    @invariant()
    def everything_agrees(self) -> None:
        self.diff.check_everything()


# Runs of up to 80 commands: 100 in `make test` (drawn anew each time: CI keeps no example
# database), 1,000 in `make soak`.
RUNS, SOAK_RUNS = 100, 1_000


def machine_settings(runs: int) -> settings:
    return settings(
        max_examples=runs,
        stateful_step_count=80,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


DifferentialMachine.TestCase.settings = machine_settings(RUNS)
TestDifferentialMachine = DifferentialMachine.TestCase


@pytest.mark.soak
def test_the_differential_machine_at_length() -> None:
    run_state_machine_as_test(DifferentialMachine, settings=machine_settings(SOAK_RUNS))


# ---------------------------------------------------------------------- seeded streams


def run_stream(
    seed: int, n: int, *, book_every: int = 1, everything_every: int = 1_000
) -> tuple[Differential, str]:
    """Run ``n`` commands of stream ``seed`` through engine and oracle; returns the harness and
    a digest of every engine event."""
    diff = Differential(market_instruments(), reference_prices())
    digest = hashlib.sha256()
    for i, command in enumerate(CommandStream(seed).take(n), start=1):
        events = diff.apply(command, check_books=i % book_every == 0)
        digest.update(repr([fields(e) for e in events]).encode())
        if i % everything_every == 0:
            diff.check_everything()
    diff.check_everything()
    return diff, digest.hexdigest()


def engine_only(seed: int, n: int) -> tuple[MatchingEngine, str]:
    engine = MatchingEngine(market_instruments(), reference_prices())
    digest = hashlib.sha256()
    for command in CommandStream(seed).take(n):
        digest.update(repr([fields(e) for e in engine.apply(command)]).encode())
    return engine, digest.hexdigest()


# The stream is of a market with price-time matching, which the naive book models; refusals of
# point-select (a take, an order that may not cross) are test_take.py's and test_refusals.py's.
POINT_SELECT_CODES = frozenset(
    {
        RejectCode.ORDER_TYPE_NOT_ALLOWED,
        RejectCode.ORDER_WOULD_CROSS,
        RejectCode.POINT_SELECT_NOT_OFFERED,
        RejectCode.QUOTE_NOT_FOUND,
        RejectCode.SELF_TAKE,
        RejectCode.TAKE_OVER_QUOTE,
        RejectCode.PARTIAL_TAKE_NOT_ALLOWED,
        RejectCode.QUOTE_OUTSIDE_TAKE_LEVELS,
        RejectCode.QUOTE_NOT_FIRST,
    }
)


def assert_stream_covers(diff: Differential) -> None:
    """The stream reached every event type, cancel reason, refusal code and order type."""
    wanted = {
        *(cls.__name__ for cls in (OrderAccepted, CommandRejected, TradeExecuted)),
        *(cls.__name__ for cls in (OrderCancelled, OrderReduced, OrderAmended)),
        *(cls.__name__ for cls in (BookLevelChanged, TradingStateChanged, ReferencePriceSet)),
        *(f"cancelled:{reason.value}" for reason in CancelReason),
        *(f"refused:{code.value}" for code in RejectCode if code not in POINT_SELECT_CODES),
        *(
            f"accepted:{order_type.value}:{stp.value}"
            for order_type in OrderType
            for stp in StpMode
        ),
        "amended:priority_kept",
        "amended:to_the_back",
    }
    missing = wanted - set(diff.seen)
    assert not missing, f"the stream never produced {sorted(missing)}"


def test_seeded_differential_25k() -> None:
    diff, events_digest = run_stream(20_240_601, 25_000)
    engine, again = engine_only(20_240_601, 25_000)
    assert again == events_digest, "the same stream gave different events"
    assert engine.state_hash() == diff.engine.state_hash(), "the same stream gave another state"
    assert engine.last_seq == diff.naive.seq
    assert_stream_covers(diff)
    assert 100 <= diff.most_resting <= 600, "the stream should keep a deep but bounded book"


@pytest.mark.soak
def test_seeded_differential_1m() -> None:
    diff, events_digest = run_stream(7, 1_000_000, book_every=5, everything_every=50_000)
    engine, again = engine_only(7, 1_000_000)
    assert again == events_digest, "the same stream gave different events"
    assert engine.state_hash() == diff.engine.state_hash(), "the same stream gave another state"
    assert engine.last_seq == diff.naive.seq
