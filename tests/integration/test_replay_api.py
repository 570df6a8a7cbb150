"""``exchange.replay``: a market rebuilt from its journal as of a seq, on SQLite and PostgreSQL.

A runtime journals a day of orders; at every seq the replay must equal a pure ``Market`` that
applied the same commands up to there (state hash, book, last trades), whether it is replayed
from the start or continued from an earlier replay (the cache's road); the timeline lists the
day's steps and the trades per minute.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from exchange.bars import NS_PER_MIN
from exchange.db.journal_store import prepare_database
from exchange.replay import ReplayCache, replay_to, timeline
from exchange.runtime import MarketRuntime
from matching.types import OrderType, Side, TradingState
from registry_sim.model import Account, AccountId, AccountKind
from registry_sim.ops import IssueAllowances, OpenAccount
from settlement.commands import (
    Deposit,
    MarketCommand,
    OpenDay,
    PlaceOrder,
    RegistryCommand,
    SetSession,
)
from settlement.market import Market
from settlement.spec import MarketSpec
from tests.integration.conftest import Database

SPEC = MarketSpec("replayed", "cn_national", (("CEA2026", 8000),))
DAY = dt.date(2026, 3, 2)
MINUTE_NS = NS_PER_MIN
START_NS = 1_772_400_000 * 1_000_000_000  # a whole minute of market time
A, B = AccountId("A"), AccountId("B")


def commands() -> list[MarketCommand]:
    """Two traders, a day opened, then orders a minute apart that rest, trade and rest."""
    setup: list[MarketCommand] = []
    for account in (A, B):
        setup.append(
            RegistryCommand(
                0,
                OpenAccount(f"open:{account}", Account(account, AccountKind.PARTICIPANT, account)),
            )
        )
        setup.append(Deposit(0, account, 100_000_000, "start"))
        setup.append(RegistryCommand(0, IssueAllowances(f"issue:{account}", account, 2026, 1000)))
    setup += [OpenDay(0, DAY), SetSession(0, TradingState.CONTINUOUS)]
    orders = [
        (A, Side.SELL, 100, 8000),
        (B, Side.BUY, 60, 8000),  # trades 60
        (B, Side.BUY, 50, 8000),  # trades 40, 10 rest
        (A, Side.SELL, 20, 8100),
        (B, Side.BUY, 5, 8100),  # trades 5
    ]
    placed: list[MarketCommand] = [
        PlaceOrder(START_NS + i * MINUTE_NS, account, "CEA2026", side, OrderType.LIMIT, qty, price)
        for i, (account, side, qty, price) in enumerate(orders)
    ]
    return [c._replace(ts_ns=START_NS - 1) for c in setup] + placed


def test_replay_equals_the_market_at_every_seq(database: Database) -> None:
    async def scenario() -> None:
        await prepare_database(database.url, connect_args=database.connect_args)
        runtime = await MarketRuntime.create(
            database.url, SPEC, connect_args=database.connect_args, start_ts_ns=START_NS - 1
        )
        runtime.start()
        try:
            acks = await runtime.submit_many(commands())
        finally:
            await runtime.stop()
        assert all(ack.outcome.code is None for ack in acks)
        replica = Market(SPEC)
        cache = ReplayCache()
        trades: list[tuple[int, int]] = []
        async with database.engine() as engine:
            for ack in acks:
                outcome = replica.apply(ack.command)
                trades += [(f.trade.price_fen, f.trade.qty_t) for f in outcome.fills]
                fresh = await replay_to(engine, SPEC.market_id, ack.seq)
                assert fresh.seq == ack.seq
                assert fresh.market.state_hash() == replica.state_hash()
                view = await cache.view(engine, SPEC.market_id, ack.seq)  # continued
                assert view["state_hash"] == replica.state_hash()
                assert [(t["price_fen"], t["qty_t"]) for t in view["trades"]] == trades[::-1]
                book = view["books"][0]
                depth = replica.engine.depth("CEA2026", 5)
                assert book["bids"] == [level._asdict() for level in depth.bids]
                assert book["asks"] == [level._asdict() for level in depth.asks]
                assert view["last_seq"] == acks[-1].seq
            earlier = await cache.view(engine, SPEC.market_id, acks[0].seq)  # back again
            assert earlier["trading_day"] is None
            assert earlier["trades"] == []
            beyond = await replay_to(engine, SPEC.market_id, acks[-1].seq + 100)
            assert beyond.seq == acks[-1].seq
            line = await timeline(engine, SPEC.market_id)
        assert [e["kind"] for e in line["events"]] == ["open_day", "set_session"]
        assert line["events"][0]["detail"] == [DAY.isoformat()]
        per_minute = [(m["ts_ns"], m["count"]) for m in line["trade_minutes"]]
        assert per_minute == [
            (START_NS + MINUTE_NS, 1),
            (START_NS + 2 * MINUTE_NS, 1),
            (START_NS + 4 * MINUTE_NS, 1),
        ]
        assert [m["seq"] for m in line["trade_minutes"]] == [acks[i].seq for i in (-4, -3, -1)]

    asyncio.run(scenario())
