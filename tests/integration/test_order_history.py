"""An account's orders of one trading day whatever became of them (``listOrders?status=all``,
``exchange.db.order_history.day_orders``): the journal tells the same story as the book while the
book still knows the orders, and after the close tells which expired."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from typing import Any

from exchange.db.order_history import day_orders
from exchange.runtime import MarketRuntime
from matching.types import OrderType, Side
from registry_sim.model import AccountId
from settlement.commands import CancelOrder, CloseDay, EndOfDay, MarketCommand, PlaceOrder
from settlement.spec import MarketSpec
from tests.integration.conftest import Database
from tests.market_stream import FIRST_DAY, INSTRUMENTS, local_ns, market_accounts, market_setup

SPEC = MarketSpec("order-history", "cn_national", INSTRUMENTS)
BUY, SELL, LIMIT, IOC = Side.BUY, Side.SELL, OrderType.LIMIT, OrderType.IOC
STATE = ("status", "cancel_reason", "submitted_t", "filled_t", "leaves_t", "cancelled_t")


def _none(_: int) -> Mapping[str, Any] | None:
    return None


def test_the_days_orders_with_their_status(database: Database) -> None:
    a, b = market_accounts(2)
    at = iter(range(local_ns(FIRST_DAY, dt.time(10, 0)), 2**62))

    def order(
        account: AccountId, side: Side, qty_t: int, price_fen: int, kind: OrderType = LIMIT
    ) -> PlaceOrder:
        return PlaceOrder(next(at), account, "CEA2025", side, kind, qty_t, price_fen)

    trading: list[MarketCommand] = [
        order(a, BUY, 10, 5_900),  # 1: cancelled by its owner
        CancelOrder(next(at), a, 1),
        order(a, SELL, 20, 6_100),  # 2: filled by b's order 3
        order(b, BUY, 20, 6_100),
        order(a, SELL, 30, 6_200),  # 4: 10 t filled by b's order 5, 20 t left
        order(b, BUY, 10, 6_200),
        order(a, BUY, 5, 5_800),  # 6: rests untouched
        order(a, BUY, 7, 5_500, IOC),  # 7: nothing to trade with: its rest is cancelled
    ]

    async def scenario() -> tuple[list[dict[str, Any]], ...]:
        runtime = await MarketRuntime.create(database.url, SPEC, connect_args=database.connect_args)
        runtime.start()
        try:
            for command in [*market_setup(2), *trading]:
                assert (await runtime.submit(command)).outcome.code is None, command
            day = FIRST_DAY.isoformat()
            engine = runtime.market.engine

            def live(order_id: int) -> Mapping[str, Any] | None:
                view = engine.order(order_id)
                return None if view is None else view._asdict()

            async with database.engine() as db:
                from_book = await day_orders(db, SPEC.market_id, a, day, live)
                from_journal = await day_orders(db, SPEC.market_id, a, day, _none)
                for command in (CloseDay(next(at)), EndOfDay(next(at))):
                    assert (await runtime.submit(command)).outcome.code is None
                closed = await day_orders(db, SPEC.market_id, a, day, live)
                other_day = await day_orders(db, SPEC.market_id, a, "2026-11-24", live)
        finally:
            await runtime.stop()
        return from_book, from_journal, closed, other_day

    from_book, from_journal, closed, other_day = asyncio.run(scenario())
    assert [o["order_id"] for o in from_book] == [1, 2, 4, 6, 7]  # a's only, oldest first
    assert all(o["account_id"] == a for o in from_book)
    state = {o["order_id"]: tuple(o[k] for k in STATE) for o in from_book}
    assert state == {
        1: ("cancelled", "user", 10, 0, 0, 10),
        2: ("filled", None, 20, 20, 0, 0),
        4: ("partially_filled", None, 30, 10, 20, 0),
        6: ("new", None, 5, 0, 5, 0),
        7: ("cancelled", "ioc_remainder", 7, 0, 0, 7),
    }
    # The journal tells the same, without a priority for what it read there.
    assert [{**o, "priority": None} for o in from_book] == from_journal
    assert all(o["priority"] is None for o in from_journal)
    # After the close, what still rested expired.
    ended = {o["order_id"]: tuple(o[k] for k in STATE) for o in closed}
    assert ended[4] == ("cancelled", "expiry", 30, 10, 0, 20)
    assert ended[6] == ("cancelled", "expiry", 5, 0, 0, 5)
    assert {k: v for k, v in ended.items() if k not in (4, 6)} == {
        k: v for k, v in state.items() if k not in (4, 6)
    }
    assert other_day == []
