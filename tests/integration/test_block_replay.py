"""Block agreement trades through the market runtime and the journal, on SQLite and
PostgreSQL: the commands are journaled, each deal lands in ``market_block_deals`` with the
journal seq that made it (and counts in each account's trading, as a class reads it), the
balances' projection agrees with the market, and replaying the journal rebuilds the same
market (state hash), open quotes and the day's close included."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select

from exchange.db import tables as t
from exchange.db.trading_activity import traded_by_account
from exchange.runtime import MarketRuntime, check_projections, rebuild
from matching.types import Side, TradingState
from settlement.commands import (
    AcceptBlockQuote,
    CloseDay,
    ConfirmBlockDeal,
    CounterBlockQuote,
    EndOfDay,
    MarketCommand,
    OpenDay,
    PostBlockQuote,
    SetSession,
)
from settlement.spec import MarketSpec
from tests.integration.conftest import Database
from tests.market_stream import FIRST_DAY, INSTRUMENTS, local_ns, market_accounts, market_setup

SPEC = MarketSpec("block-replay", "cn_national", INSTRUMENTS)
DAY2 = FIRST_DAY + dt.timedelta(days=1)


def _block_day() -> list[MarketCommand]:
    a, b, c, _ = market_accounts(4)
    at = [local_ns(FIRST_DAY, dt.time(13, minute)) for minute in range(1, 20)]
    return [
        PostBlockQuote(at[0], a, "CEA2025", Side.SELL, 5_700, 250_000),
        AcceptBlockQuote(at[1], b, 1, 120_000),  # deal 1: 120,000 t at CNY 57.00
        PostBlockQuote(at[2], c, "CEA2024", Side.BUY, 5_000, 150_000),
        CounterBlockQuote(at[3], a, 5_300, 150_000, 2),
        CounterBlockQuote(at[4], c, 5_150, 150_000, None, 1),
        ConfirmBlockDeal(at[5], a, 1, 5_150, 150_000),  # deal 2: 150,000 t at CNY 51.50
        CounterBlockQuote(at[6], c, 5_600, 100_000, 1),  # open at the close: expires
        CloseDay(local_ns(FIRST_DAY, dt.time(15, 0))),
        EndOfDay(local_ns(FIRST_DAY, dt.time(15, 30))),
        OpenDay(local_ns(DAY2, dt.time(9, 15)), DAY2),
        SetSession(local_ns(DAY2, dt.time(9, 30)), TradingState.CONTINUOUS),
        PostBlockQuote(local_ns(DAY2, dt.time(13, 1)), b, "CEA2025", Side.SELL, 5_800, 100_000),
    ]


def test_block_deals_journal_and_replay(database: Database) -> None:
    url, args = database.url, database.connect_args

    async def scenario() -> None:
        runtime = await MarketRuntime.create(url, SPEC, connect_args=args)
        runtime.start()
        commands = [*market_setup(4, units_t=300_000), *_block_day()]
        acks = [await runtime.submit_nowait(c) for c in commands]
        await runtime.stop()
        refused = [
            (c, a.outcome.code) for c, a in zip(commands, acks, strict=True) if a.outcome.code
        ]
        assert refused == []
        deals = [a.seq for a in acks if a.outcome.block_deals]
        market = runtime.market
        assert list(market.block.quotes) == [3]  # day 2's quote is open

        async with database.engine() as engine, engine.begin() as conn:
            d = t.market_block_deals.c
            rows = (
                await conn.execute(
                    select(
                        d.deal_id,
                        d.seq,
                        d.trading_day,
                        d.symbol,
                        d.price_fen,
                        d.qty_t,
                        d.buy_account_id,
                        d.sell_account_id,
                        d.quote_id,
                        d.negotiation_id,
                    )
                    .where(d.market_id == SPEC.market_id)
                    .order_by(d.deal_id)
                )
            ).all()
        a, b, c, _ = market_accounts(4)
        day = FIRST_DAY.isoformat()
        assert [tuple(r) for r in rows] == [
            (1, deals[0], day, "CEA2025", 5_700, 120_000, b, a, 1, None),
            (2, deals[1], day, "CEA2024", 5_150, 150_000, c, a, 2, 1),
        ]

        # What a class's dashboard and results read counts block deals as trades.
        async with database.engine() as engine:
            traded = await traded_by_account(engine, SPEC.market_id)
        assert (traded[b].bought_t, traded[b].bought_fen) == (
            {"CEA2025": 120_000},
            {"CEA2025": 684_000_000},
        )
        assert traded[a].sold_t == {"CEA2025": 120_000, "CEA2024": 150_000}
        assert traded[a].sold_fen == {"CEA2025": 684_000_000, "CEA2024": 772_500_000}

        rebuilt, last_seq, _ = await rebuild(url, SPEC.market_id, connect_args=args)
        assert rebuilt.state_hash() == market.state_hash()
        assert rebuilt.block.digest() == market.block.digest()
        await check_projections(url, rebuilt, last_seq, connect_args=args)

    asyncio.run(scenario())
