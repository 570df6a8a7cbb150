"""Seeded random command streams for the differential tests of the matching engine.

``CommandStream(seed)`` yields the same commands for the same seed (it draws from its own
``random.Random(seed)`` and never looks at an engine). A stream trades three instruments
(CEA24 and CEA25 from the ``cn_national`` rule set, CCER with a coarse 5-fen tick and 10 t lot so
that off-tick prices and off-lot sizes exist) among twenty accounts, a few of them busy so that
self-trades happen. It sends every order type with prices around a wandering mid, and now and
then faulty ones (off tick, outside the band, bad sizes, market orders with a price, limits
without), cancels and amends of live, finished, unknown and other accounts' orders, every STP
mode, kill switches, duplicate order ids, trading-state changes (breaks, halts with and without
``cancel_resting``, and whole day ends: closed -> pre_open -> new reference price -> continuous)
and refused state and reference-price commands.

The book stays at a few hundred resting orders at most without the stream looking at it: every
instrument's day ends after a few thousand commands (closing expires everything resting), and
one limit order in five is priced through the mid, besides the IOC, FOK and market orders.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from matching.commands import (
    AmendOrder,
    CancelAccountOrders,
    CancelOrder,
    Command,
    NewOrder,
    SetReferencePrice,
    SetTradingState,
)
from matching.instruments import Instrument, instrument_from_rules
from matching.types import AccountId, OrderId, OrderType, Side, StpMode, Symbol, TradingState
from registry_sim.rulesets import load_ruleset

COARSE_OVERRIDES: dict[str, Any] = {
    "trading": {"tick_fen": 5, "lot_t": 10, "modes": {"listed": {"min_qty_t": 10}}}
}
REFERENCE_PRICES: dict[str, int] = {"CEA24": 6000, "CEA25": 7250, "CCER": 3500}
UNKNOWN_SYMBOL = Symbol("CEA99")
ACCOUNTS: tuple[AccountId, ...] = tuple(AccountId(f"ACC{i:02d}") for i in range(20))
BUSY_ACCOUNTS = ACCOUNTS[:4]

S = TradingState


def market_instruments() -> list[Instrument]:
    """The instruments of the differential market, built from rule data."""
    return [
        instrument_from_rules("CEA24", load_ruleset("cn_national")["trading"]),
        instrument_from_rules("CEA25", load_ruleset("cn_national")["trading"]),
        instrument_from_rules("CCER", load_ruleset("cn_national", COARSE_OVERRIDES)["trading"]),
    ]


def reference_prices() -> dict[str, int]:
    return dict(REFERENCE_PRICES)


@dataclass
class _Sent:
    """What the stream remembers of an order it sent (it never knows the order's fate)."""

    order_id: OrderId
    account_id: AccountId
    symbol: Symbol
    price_fen: int | None
    qty_t: int
    order_type: OrderType


@dataclass
class _Instrument:
    instrument: Instrument
    state: TradingState
    reference_price_fen: int
    mid_fen: int
    day_left: int
    schedule: deque[tuple[int, Callable[[], Command]]] = field(default_factory=deque)

    @property
    def symbol(self) -> Symbol:
        return self.instrument.symbol

    @property
    def tick(self) -> int:
        return self.instrument.tick_fen

    @property
    def lot(self) -> int:
        return self.instrument.lot_t

    def band(self) -> tuple[int, int]:
        return self.instrument.band(self.reference_price_fen)


class CommandStream:
    """An endless, seeded stream of commands; ``take(n)`` gives the first ``n``."""

    def __init__(self, seed: int, *, day_length: int = 3000, aggressive: float = 0.2) -> None:
        self.rng = random.Random(seed)
        self.day_length = day_length
        self.aggressive = aggressive
        self.step = 0
        self.ts_ns = 1_700_000_000_000_000_000
        self.next_order_id = 1
        self.recent: deque[_Sent] = deque(maxlen=400)
        self.instruments = [
            _Instrument(
                instrument,
                S.CLOSED,
                REFERENCE_PRICES[instrument.symbol],
                REFERENCE_PRICES[instrument.symbol],
                self._day_length(),
            )
            for instrument in market_instruments()
        ]
        # Open the first day of every instrument.
        for inst in self.instruments:
            self._plan(inst, [(0, S.PRE_OPEN), (0, S.CONTINUOUS)])

    def __iter__(self) -> Iterator[Command]:
        while True:
            yield self.next_command()

    def take(self, n: int) -> Iterator[Command]:
        for _ in range(n):
            yield self.next_command()

    # ------------------------------------------------------------------ helpers

    def _day_length(self) -> int:
        return self.rng.randint(self.day_length // 2, self.day_length * 3 // 2)

    def _ts(self) -> int:
        self.ts_ns += self.rng.randint(1, 50_000)
        return self.ts_ns

    def _account(self) -> AccountId:
        if self.rng.random() < 0.5:
            return self.rng.choice(BUSY_ACCOUNTS)
        return self.rng.choice(ACCOUNTS)

    def _state_command(
        self, inst: _Instrument, state: TradingState, cancel_resting: bool = False
    ) -> Callable[[], Command]:
        def make() -> Command:
            inst.state = state
            return SetTradingState(self._ts(), inst.symbol, state, cancel_resting)

        return make

    def _reference_command(self, inst: _Instrument) -> Callable[[], Command]:
        def make() -> Command:
            base = REFERENCE_PRICES[inst.symbol]
            drift = self.rng.randint(-20, 20) * inst.tick
            price = min(max(inst.mid_fen + drift, base // 2), base * 2)
            price -= price % inst.tick
            inst.reference_price_fen = inst.mid_fen = price
            return SetReferencePrice(self._ts(), inst.symbol, price)

        return make

    def _plan(self, inst: _Instrument, steps: list[tuple[int, TradingState | str]]) -> None:
        """Schedule state changes (or ``"ref"``: a new reference price) ``delay`` steps apart."""
        due = self.step
        for delay, what in steps:
            due += delay
            if isinstance(what, TradingState):  # (a str enum: test it first)
                cancel = what is S.HALTED and self.rng.random() < 0.5
                inst.schedule.append((due, self._state_command(inst, what, cancel)))
            else:
                inst.schedule.append((due, self._reference_command(inst)))

    def _price_near_mid(self, inst: _Instrument, side: Side) -> int:
        """Mostly passive (at or behind the mid), sometimes aggressive (through it)."""
        ticks = self.rng.choice((0, 1, 1, 2, 2, 3, 4, 5, 6, 8, 10, 15))
        if self.rng.random() < self.aggressive:
            ticks = -ticks  # aggressive
        offset = ticks * inst.tick
        price = inst.mid_fen - offset if side is Side.BUY else inst.mid_fen + offset
        lower, upper = inst.band()
        return min(max(price, lower), upper)

    # ------------------------------------------------------------------ commands

    def next_command(self) -> Command:
        self.step += 1
        for inst in self.instruments:
            if inst.schedule and inst.schedule[0][0] <= self.step:
                return inst.schedule.popleft()[1]()
        for inst in self.instruments:
            if inst.state is S.CONTINUOUS and not inst.schedule:
                inst.day_left -= 1
                if inst.day_left <= 0:
                    self._end_of_day(inst)
                elif self.rng.random() < 0.0015:
                    self._interruption(inst)
        r = self.rng.random()
        if r < 0.64:
            return self._new_order()
        if r < 0.76:
            return self._cancel()
        if r < 0.94:
            return self._amend()
        if r < 0.944:
            return self._kill_switch()
        if r < 0.96:
            return self._odd_session_command()
        return self._new_order()

    def _end_of_day(self, inst: _Instrument) -> None:
        inst.day_left = self._day_length()
        steps: list[tuple[int, TradingState | str]] = [
            (0, S.CLOSED),
            (self.rng.randint(1, 30), S.PRE_OPEN),
        ]
        if self.rng.random() < 0.3:
            steps.append((self.rng.randint(0, 5), S.HALTED))
            steps.append((self.rng.randint(0, 5), S.CLOSED))
            steps.append((self.rng.randint(0, 5), S.PRE_OPEN))
        steps.append((self.rng.randint(0, 10), "ref"))
        if self.rng.random() < 0.3:
            steps.append((self.rng.randint(0, 10), "ref"))
        steps.append((self.rng.randint(1, 30), S.CONTINUOUS))
        self._plan(inst, steps)

    def _interruption(self, inst: _Instrument) -> None:
        kind = self.rng.random()
        if kind < 0.4:
            self._plan(inst, [(0, S.BREAK), (self.rng.randint(1, 40), S.CONTINUOUS)])
        elif kind < 0.7:
            self._plan(inst, [(0, S.HALTED), (self.rng.randint(1, 40), S.CONTINUOUS)])
        elif kind < 0.85:
            self._plan(
                inst,
                [
                    (0, S.BREAK),
                    (self.rng.randint(1, 20), S.HALTED),
                    (self.rng.randint(1, 20), S.BREAK),
                    (self.rng.randint(1, 20), S.CONTINUOUS),
                ],
            )
        else:  # halted, then the day ends early
            inst.day_left = self._day_length()
            self._plan(
                inst,
                [
                    (0, S.HALTED),
                    (self.rng.randint(1, 20), S.CLOSED),
                    (self.rng.randint(1, 10), S.PRE_OPEN),
                    (self.rng.randint(0, 10), "ref"),
                    (self.rng.randint(1, 10), S.CONTINUOUS),
                ],
            )

    def _new_order(self) -> NewOrder:
        rng = self.rng
        inst = rng.choice(self.instruments)
        symbol = inst.symbol
        if rng.random() < 0.005:
            symbol = UNKNOWN_SYMBOL
        side = rng.choice((Side.BUY, Side.SELL))
        order_type = rng.choices(
            (OrderType.LIMIT, OrderType.IOC, OrderType.MARKET, OrderType.FOK), (64, 13, 7, 16)
        )[0]
        stp = rng.choices(
            (StpMode.CANCEL_NEWEST, StpMode.CANCEL_OLDEST, StpMode.CANCEL_BOTH, StpMode.DECREMENT),
            (40, 20, 20, 20),
        )[0]
        account = self._account()

        # Quantity: mostly a few lots, sometimes large, sometimes faulty.
        q = rng.random()
        if q < 0.88:
            qty = rng.randint(1, 20) * inst.lot
        elif q < 0.96:
            qty = rng.randint(20, 300) * inst.lot
        else:
            qty = rng.choice((0, -inst.lot, 99_999, 100_000, inst.lot * 7 + 3, inst.lot + 1))

        # Price.
        price: int | None = None
        if order_type is not OrderType.MARKET:
            price = self._price_near_mid(inst, side)
        p = rng.random()
        lower, upper = inst.band()
        if p < 0.01:
            price = None if price is not None else inst.mid_fen  # missing / not allowed
        elif p < 0.02:
            price = upper + inst.tick
        elif p < 0.03:
            price = lower - inst.tick
        elif p < 0.04 and inst.tick > 1:
            price = inst.mid_fen + rng.randint(1, inst.tick - 1)
        elif p < 0.05 and price is not None:
            price = rng.choice((lower, upper, 0, -inst.tick))

        # Drift the mid now and then.
        if rng.random() < 0.08:
            inst.mid_fen += rng.choice((-1, 1)) * inst.tick
            inst.mid_fen = min(max(inst.mid_fen, lower + 10 * inst.tick), upper - 10 * inst.tick)

        if self.recent and rng.random() < 0.015:
            order_id = rng.choice(self.recent).order_id  # a duplicate id
        else:
            order_id = OrderId(self.next_order_id)
            self.next_order_id += 1
        self.recent.append(_Sent(order_id, account, symbol, price, qty, order_type))
        return NewOrder(self._ts(), order_id, account, symbol, side, order_type, qty, price, stp)

    def _target(self) -> tuple[OrderId, AccountId, _Sent | None]:
        """An order to cancel or amend: mostly a recent one of its owner."""
        rng = self.rng
        r = rng.random()
        if r < 0.05 or not self.recent:
            unknown = OrderId(self.next_order_id + rng.randint(0, 1_000))
            return unknown, self._account(), None
        if r < 0.10:
            sent = rng.choice(self.recent)
            return sent.order_id, rng.choice(ACCOUNTS), sent  # probably not the owner
        # Mostly a limit order, the newer the likelier: those are the likeliest to rest.
        for _ in range(3):
            back = min(int(rng.expovariate(1 / 80)), len(self.recent) - 1)
            sent = self.recent[len(self.recent) - 1 - back]
            if sent.order_type is OrderType.LIMIT:
                break
        return sent.order_id, sent.account_id, sent

    def _cancel(self) -> CancelOrder:
        order_id, account, _ = self._target()
        return CancelOrder(self._ts(), order_id, account)

    def _amend(self) -> AmendOrder:
        rng = self.rng
        order_id, account, sent = self._target()
        inst = next((i for i in self.instruments if sent and i.symbol == sent.symbol), None)
        if inst is None:
            inst = rng.choice(self.instruments)
        lower, upper = inst.band()
        old_qty = sent.qty_t if sent is not None and sent.qty_t > 0 else 10 * inst.lot
        old_price = sent.price_fen if sent is not None else None
        price: int | None = None
        qty: int | None = None
        kind = rng.random()
        if kind < 0.3:  # a new quantity only: mostly down (keeps priority), sometimes up
            qty = max(inst.lot, old_qty + rng.randint(-5, 3) * inst.lot)
        elif kind < 0.6:  # a new price only, around the mid (may cross)
            price = self._price_near_mid(inst, rng.choice((Side.BUY, Side.SELL)))
        elif kind < 0.8:  # both
            price = self._price_near_mid(inst, rng.choice((Side.BUY, Side.SELL)))
            qty = rng.randint(1, 30) * inst.lot
        elif kind < 0.85:  # no change at all
            price = old_price if rng.random() < 0.5 else None
            qty = old_qty if rng.random() < 0.5 else None
        elif kind < 0.9:  # at or below what may be filled
            qty = inst.lot * rng.randint(1, 2)
        else:  # faulty
            price, qty = rng.choice(
                (
                    (None, 0),
                    (None, 100_000),
                    (None, inst.lot + 1),
                    (upper + inst.tick, None),
                    (lower - inst.tick, None),
                    (inst.mid_fen + 1, None),
                    (0, None),
                    (upper + inst.tick, 0),
                    (inst.mid_fen + 1, inst.lot * 3 + 1),
                )
            )
        return AmendOrder(self._ts(), order_id, account, price, qty)

    def _kill_switch(self) -> CancelAccountOrders:
        rng = self.rng
        symbol: Symbol | None = None
        r = rng.random()
        if r < 0.45:
            symbol = rng.choice(self.instruments).symbol
        elif r < 0.5:
            symbol = UNKNOWN_SYMBOL
        return CancelAccountOrders(self._ts(), self._account(), symbol)

    def _odd_session_command(self) -> Command:
        """A state or reference-price command out of turn: mostly refused."""
        rng = self.rng
        inst = rng.choice(self.instruments)
        symbol = UNKNOWN_SYMBOL if rng.random() < 0.1 else inst.symbol
        if rng.random() < 0.5:
            # Only moves that change nothing the stream relies on: the same state again, or
            # a move the rules forbid from where the instrument is.
            target = rng.choice(list(S))
            if symbol == inst.symbol and target is not inst.state and _legal(inst.state, target):
                target = inst.state
            return SetTradingState(self._ts(), symbol, target, rng.random() < 0.5)
        if symbol == inst.symbol and inst.state in (S.CLOSED, S.PRE_OPEN):
            # The stream keeps its reference price: send only prices the rules refuse.
            faulty = [0, -inst.tick, -inst.reference_price_fen]
            if inst.tick > 1:
                faulty.append(inst.mid_fen + 1)
            price = rng.choice(faulty)
        else:
            price = rng.choice((inst.reference_price_fen, inst.mid_fen, 0, inst.tick + 1))
        return SetReferencePrice(self._ts(), symbol, price)


def _legal(current: TradingState, target: TradingState) -> bool:
    allowed = {
        S.CLOSED: {S.PRE_OPEN},
        S.PRE_OPEN: {S.CONTINUOUS, S.HALTED, S.CLOSED},
        S.CONTINUOUS: {S.BREAK, S.HALTED, S.CLOSED},
        S.BREAK: {S.CONTINUOUS, S.HALTED, S.CLOSED},
        S.HALTED: {S.CONTINUOUS, S.BREAK, S.CLOSED},
    }
    return target in allowed[current]
