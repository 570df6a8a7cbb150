"""A market as it stood after a journal seq, rebuilt from the journal (the class debrief's
"replay": a journal replays deterministically, ADR 0003), and the timeline a replay slider
moves along.

``replay_to`` decodes the journal from its first entry (the market's spec) up to the seq and
applies each command to a fresh pure ``Market``, as ``exchange.runtime.rebuild_market`` does
for the whole journal; the projections (orders, trades tables) are not read, so what it shows
is what the journal says. It starts from the first entry rather than a day-end snapshot so
that the trades before the seq come out of the replay too. ``ReplayCache`` keeps the last
replay of each market, so a slider moving forward applies only the commands in between.

``timeline`` lists the journal's day-level and session commands (open, sessions, close, day
end, halts) and the trades per minute of market time, each with the seq to replay to.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange import codec
from exchange.bars import NS_PER_MIN
from exchange.db import tables as t
from exchange.db.journal_store import JournalRow, iter_journal
from settlement.market import Market

TRADES_KEPT = 50
BOOK_LEVELS = 5
# Journal kinds that move the trading day or a session (exchange.codec's names).
DAY_KINDS = ("open_day", "set_session", "close_day", "end_of_day", "halt", "resume")


class ReplayError(LookupError):
    """No journal for the market (or it does not start with the market's spec)."""


@dataclass(slots=True)
class Replayed:
    """A market rebuilt up to ``seq`` and the last trades the journal made by then."""

    market: Market
    seq: int
    ts_ns: int
    trades: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=TRADES_KEPT))

    def apply(self, seq: int, kind: str, ts_ns: int, account: str | None, body: str) -> None:
        outcome = self.market.apply(codec.decode(kind, ts_ns, account, body))
        self.seq, self.ts_ns = seq, ts_ns
        for fill in outcome.fills:
            trade = fill.trade
            self.trades.append(
                {
                    "trade_id": trade.trade_id,
                    "seq": seq,
                    "ts_ns": trade.ts_ns,
                    "symbol": trade.symbol,
                    "price_fen": trade.price_fen,
                    "qty_t": trade.qty_t,
                    "aggressor": trade.aggressor.value,
                }
            )


async def replay_to(
    engine: AsyncEngine, market_id: str, seq: int, start: Replayed | None = None
) -> Replayed:
    """The market after journal entry ``seq`` (or the journal's last, if it ends before),
    continuing from ``start`` when given (a replay of the same market at a lower seq)."""
    replayed = start
    after = 0 if start is None else start.seq
    journal = cast(AsyncGenerator[JournalRow, None], iter_journal(engine, market_id, after))
    async with aclosing(journal) as rows:
        async for row in rows:
            if row.seq > seq:
                break
            if replayed is None:
                if row.kind != codec.CREATE_MARKET:
                    raise ReplayError(f"market {market_id}: journal does not start with its spec")
                replayed = Replayed(Market(codec.decode_spec(row.body)), row.seq, row.ts_ns)
                continue
            replayed.apply(row.seq, row.kind, row.ts_ns, row.account_id, row.body)
    if replayed is None:
        raise ReplayError(f"market {market_id}: no journal")
    return replayed


class ReplayCache:
    """The last replay of each market, continued forward when a later seq is asked. One
    replay at a time per market (the cached market is changed in place)."""

    def __init__(self) -> None:
        self._last: dict[str, Replayed] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def view(self, engine: AsyncEngine, market_id: str, seq: int) -> dict[str, Any]:
        lock = self._locks.setdefault(market_id, asyncio.Lock())
        async with lock:
            cached = self._last.get(market_id)
            start = cached if cached is not None and cached.seq <= seq else None
            replayed = await replay_to(engine, market_id, seq, start)
            self._last[market_id] = replayed
            return describe(replayed, await last_seq(engine, market_id))


async def last_seq(engine: AsyncEngine, market_id: str) -> int:
    j = t.market_journal.c
    async with engine.connect() as conn:
        found = await conn.scalar(select(func.max(j.seq)).where(j.market_id == market_id))
    return int(found or 0)


def describe(replayed: Replayed, journal_last_seq: int) -> dict[str, Any]:
    """The replayed market: day, session, each instrument's top levels, the last trades."""
    market = replayed.market
    engine = market.engine
    books = []
    for symbol in market.instruments:
        info = engine.book_info(symbol)
        depth = engine.depth(symbol, BOOK_LEVELS)
        books.append(
            {
                "symbol": symbol,
                "state": info.state,
                "reference_price_fen": info.reference_price_fen,
                "bids": [level._asdict() for level in depth.bids],
                "asks": [level._asdict() for level in depth.asks],
            }
        )
    return {
        "market_id": market.spec.market_id,
        "seq": replayed.seq,
        "ts_ns": replayed.ts_ns,
        "trading_day": market.trading_day,
        "session": market.session,
        "day_closed": market.day_closed,
        "books": books,
        "trades": list(reversed(replayed.trades)),  # newest first
        "last_seq": journal_last_seq,
        "state_hash": market.state_hash(),
    }


async def timeline(engine: AsyncEngine, market_id: str) -> dict[str, Any]:
    """The journal's day and session steps, and the trades per minute of market time."""
    j, tr = t.market_journal.c, t.market_trades.c
    events = select(j.seq, j.ts_ns, j.kind, j.body).where(
        j.market_id == market_id, j.kind.in_(DAY_KINDS)
    )
    trades = select(tr.seq, tr.ts_ns).where(tr.market_id == market_id).order_by(tr.trade_id)
    async with engine.connect() as conn:
        steps = [
            {"seq": r.seq, "ts_ns": r.ts_ns, "kind": r.kind, "detail": json.loads(r.body)}
            for r in await conn.execute(events.order_by(j.seq))
        ]
        minutes: list[dict[str, Any]] = []
        for row in await conn.execute(trades):
            start = row.ts_ns - row.ts_ns % NS_PER_MIN
            if minutes and minutes[-1]["ts_ns"] == start:
                minutes[-1]["count"] += 1
                minutes[-1]["seq"] = max(minutes[-1]["seq"], row.seq)
            else:
                minutes.append({"seq": row.seq, "ts_ns": start, "kind": "trades", "count": 1})
    return {
        "market_id": market_id,
        "last_seq": await last_seq(engine, market_id),
        "events": steps,
        "trade_minutes": minutes,
    }
