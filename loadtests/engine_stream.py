"""The engine benchmark's standard command mix, generated from a seed.

About half new limit orders near the touch, a quarter cancels, a tenth amends, a tenth
marketable IOC or market orders and a twentieth FOK, over many accounts, around a book of about
10,000 resting orders. The stream is generated while driving a real engine, so cancels and
amends name orders that are open at that moment, as a trader's would.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from matching import (
    AccountId,
    AmendOrder,
    CancelOrder,
    Command,
    Instrument,
    MatchingEngine,
    NewOrder,
    OrderId,
    OrderType,
    SetTradingState,
    Side,
    Symbol,
    TradingState,
    instrument_from_rules,
)
from matching.events import OrderAccepted, OrderCancelled, TradeExecuted
from registry_sim.rulesets import load_ruleset

SYMBOL = Symbol("CEA25")
REFERENCE_PRICE_FEN = 6_000
MID_FEN = REFERENCE_PRICE_FEN
ACCOUNTS = 1_000


def instrument() -> Instrument:
    return instrument_from_rules(SYMBOL, load_ruleset("cn_national")["trading"])


def open_market() -> MatchingEngine:
    engine = MatchingEngine([instrument()], {SYMBOL: REFERENCE_PRICE_FEN})
    engine.apply(SetTradingState(0, SYMBOL, TradingState.PRE_OPEN))
    engine.apply(SetTradingState(0, SYMBOL, TradingState.CONTINUOUS))
    return engine


class _LiveSet:
    """Order ids open in the shadow engine, with O(1) add, remove and random choice."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.where: dict[int, int] = {}

    def add(self, order_id: int) -> None:
        self.where[order_id] = len(self.ids)
        self.ids.append(order_id)

    def discard(self, order_id: int) -> None:
        at = self.where.pop(order_id, None)
        if at is None:
            return
        last = self.ids.pop()
        if last != order_id:
            self.ids[at] = last
            self.where[last] = at

    def __len__(self) -> int:
        return len(self.ids)


def standard_mix(
    commands: int, *, seed: int = 1, resting: int = 10_000
) -> tuple[list[Command], list[Command]]:
    """(setup, stream): ``setup`` builds the resting book, ``stream`` is the measured mix."""
    rng = random.Random(seed)
    shadow = open_market()
    live = _LiveSet()
    accounts = [AccountId(f"ACC{i:04d}") for i in range(ACCOUNTS)]
    owner: dict[int, AccountId] = {}
    next_id = 1
    ts = 0

    def apply(cmd: Command) -> None:
        for event in shadow.apply(cmd):
            if isinstance(event, OrderAccepted):
                live.add(event.order_id)
            elif isinstance(event, OrderCancelled):
                live.discard(event.order_id)
            elif isinstance(event, TradeExecuted):
                if event.buy_leaves_t == 0:
                    live.discard(event.buy_order_id)
                if event.sell_leaves_t == 0:
                    live.discard(event.sell_order_id)

    def new(order_type: OrderType, side: Side, price: int | None, qty: int) -> NewOrder:
        nonlocal next_id
        account = accounts[rng.randrange(ACCOUNTS)]
        order_id = OrderId(next_id)
        next_id += 1
        owner[order_id] = account
        return NewOrder(ts, order_id, account, SYMBOL, side, order_type, qty, price)

    def passive_price(side: Side) -> int:
        # Near the touch: most orders join the best few levels, some sit deeper.
        depth = int(rng.expovariate(0.15))
        return MID_FEN - 1 - depth if side is Side.BUY else MID_FEN + 1 + depth

    setup: list[Command] = []
    for _ in range(resting):
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        order = new(OrderType.LIMIT, side, passive_price(side), rng.randint(1, 20) * 10)
        setup.append(order)
        apply(order)

    stream: list[Command] = []
    for _ in range(commands):
        ts += 1_000
        roll = rng.random()
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        cmd: Command
        if roll < 0.50 or len(live) < 100:
            if rng.random() < 0.08:  # a limit order that crosses the touch by a tick or two
                through = rng.randint(0, 2)
                price = MID_FEN + through if side is Side.BUY else MID_FEN - through
            else:
                price = passive_price(side)
            cmd = new(OrderType.LIMIT, side, price, rng.randint(1, 20) * 10)
        elif roll < 0.75:
            order_id = live.ids[rng.randrange(len(live))]
            cmd = CancelOrder(ts, OrderId(order_id), owner[order_id])
        elif roll < 0.85:
            order_id = live.ids[rng.randrange(len(live))]
            view = shadow.order(order_id)
            assert view is not None
            assert view.price_fen is not None
            if rng.random() < 0.5 and view.leaves_t > 10:
                cmd = AmendOrder(
                    ts, OrderId(order_id), owner[order_id], qty_t=view.filled_t + view.leaves_t - 10
                )
            else:
                step = 1 if view.side is Side.SELL else -1
                cmd = AmendOrder(
                    ts, OrderId(order_id), owner[order_id], price_fen=view.price_fen + step
                )
        elif roll < 0.95:
            if rng.random() < 0.5:
                cmd = new(OrderType.MARKET, side, None, rng.randint(5, 40) * 10)
            else:
                price = MID_FEN + 3 if side is Side.BUY else MID_FEN - 3
                cmd = new(OrderType.IOC, side, price, rng.randint(5, 40) * 10)
        else:
            price = MID_FEN + 2 if side is Side.BUY else MID_FEN - 2
            cmd = new(OrderType.FOK, side, price, rng.randint(1, 30) * 10)
        stream.append(cmd)
        apply(cmd)
    return setup, stream


def resting_book_orders(count: int, *, seed: int = 2) -> Iterator[NewOrder]:
    """``count`` non-crossing limit orders spread over the whole band, made one at a time."""
    rng = random.Random(seed)
    accounts = [AccountId(f"ACC{i:04d}") for i in range(ACCOUNTS)]
    low, high = 5_400, 6_600
    for order_id in range(1, count + 1):
        if rng.random() < 0.5:
            side, price = Side.BUY, rng.randint(low, MID_FEN - 1)
        else:
            side, price = Side.SELL, rng.randint(MID_FEN + 1, high)
        yield NewOrder(
            0,
            OrderId(order_id),
            accounts[rng.randrange(ACCOUNTS)],
            SYMBOL,
            side,
            OrderType.LIMIT,
            rng.randint(1, 1_000),
            price,
        )
