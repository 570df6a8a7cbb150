"""Takes (摘牌) through the market runtime and back, on SQLite and PostgreSQL: journaled, the
taker's order projected with the quote's side and price, and replayed (from a day-end snapshot
and from the journal's start) and recovered to the same state hash."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select

from exchange.db import tables as t
from exchange.runtime import MarketRuntime, rebuild
from matching.types import OrderType, Side, StpMode
from settlement.commands import MarketCommand, PlaceOrder, TakeQuote
from settlement.market import Market
from settlement.spec import MarketSpec
from tests.integration.conftest import Database
from tests.market_stream import (
    FIRST_DAY,
    INSTRUMENTS,
    SESSION_AT,
    local_ns,
    market_accounts,
    market_setup,
)
from tests.market_stream import _day_cycle as day_cycle

SPEC = MarketSpec("take-replay", "cn_national", INSTRUMENTS)
SYMBOL = INSTRUMENTS[0][0]
SECOND_DAY = dt.date(2026, 11, 24)


def trading(day: dt.date, first_order_id: int) -> list[MarketCommand]:
    """Seller S posts 100 t at 60.00 and 200 t at 60.50; taker T takes 80 t of the second (with
    a client order id), then all of the first; a take of a filled quote is refused."""
    s, taker = market_accounts(3)[1], market_accounts(3)[2]
    ts = local_ns(day, SESSION_AT)
    one, two = first_order_id, first_order_id + 1

    def sell(i: int, qty: int, price: int) -> PlaceOrder:
        return PlaceOrder(
            ts + i, s, SYMBOL, Side.SELL, OrderType.LIMIT, qty, price, StpMode.CANCEL_NEWEST
        )

    return [
        sell(1, 100, 6_000),
        sell(2, 200, 6_050),
        TakeQuote(ts + 3, taker, two, 80, f"take-{day}"),
        TakeQuote(ts + 4, taker, one, 100),
        TakeQuote(ts + 5, taker, one, 1),  # QUOTE_NOT_FOUND: filled
    ]


def test_takes_replay_and_recover_to_the_same_state(database: Database) -> None:
    url, args = database.url, database.connect_args
    first = trading(FIRST_DAY, 1)
    commands = [
        *market_setup(3),
        *first,
        *day_cycle(FIRST_DAY),
        *trading(SECOND_DAY, 5),
    ]

    async def scenario() -> None:
        runtime = await MarketRuntime.create(url, SPEC, connect_args=args)
        runtime.start()
        acks = [await runtime.submit(c) for c in commands]
        await runtime.stop()
        codes = [a.outcome.code for a in acks if type(a.command) is TakeQuote]
        assert codes == [None, None, "QUOTE_NOT_FOUND"] * 2
        ran = runtime.market.state_hash()
        assert runtime.market.next_order_id == 8  # two sells and two takes a day

        market, _, _ = await rebuild(url, SPEC.market_id, connect_args=args)
        assert market.state_hash() == ran
        recovered = await MarketRuntime.recover(url, SPEC.market_id, connect_args=args)
        assert recovered.market.state_hash() == ran  # the projections (orders too) agree
        recovered.start()
        await recovered.stop()

        replica = Market(SPEC)
        for command in commands:
            replica.apply(command)
        assert replica.state_hash() == ran

        o = t.market_orders.c
        async with database.engine() as engine, engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(
                        o.order_id, o.client_order_id, o.side, o.order_type, o.price_fen, o.qty_t
                    )
                    .where(o.market_id == SPEC.market_id)
                    .order_by(o.order_id)
                )
            ).all()
        taker_orders = [tuple(r) for r in rows if r.order_id in (3, 4, 7, 8)]
        assert taker_orders == [
            (3, f"take-{FIRST_DAY}", "buy", "fok", 6_050, 80),
            (4, None, "buy", "fok", 6_000, 100),
            (7, f"take-{SECOND_DAY}", "buy", "fok", 6_050, 80),
            (8, None, "buy", "fok", 6_000, 100),
        ]

    asyncio.run(scenario())
