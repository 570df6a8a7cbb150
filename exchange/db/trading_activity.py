"""Reads of who traded what in a market: every account's purchases and sales per instrument
from the trade tape (``market_trades``, and ``market_block_deals`` for block deals), and
today's trades and the accounts that placed orders today (a class's dashboard,
``exchange.classroom.views``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.db import tables as t
from settlement.market import Market


@dataclass(slots=True)
class Traded:
    """One account's trading, per symbol: bought and sold tonnes and fen, fees, trades."""

    bought_t: dict[str, int] = field(default_factory=dict)
    bought_fen: dict[str, int] = field(default_factory=dict)
    sold_t: dict[str, int] = field(default_factory=dict)
    sold_fen: dict[str, int] = field(default_factory=dict)
    fees_fen: int = 0
    trades: int = 0

    def volume_t(self) -> int:
        return sum(self.bought_t.values()) + sum(self.sold_t.values())

    def net_spend_fen(self) -> int:
        """What buying cost less what selling brought in, fees included (every instrument)."""
        return sum(self.bought_fen.values()) - sum(self.sold_fen.values()) + self.fees_fen

    def pnl_fen(self, marks: dict[str, int]) -> int:
        """Cash from trading plus the net tonnes bought valued at ``marks``."""
        value = 0
        for symbol in set(self.bought_t) | set(self.sold_t):
            net_t = self.bought_t.get(symbol, 0) - self.sold_t.get(symbol, 0)
            value += net_t * marks.get(symbol, 0)
            value += self.sold_fen.get(symbol, 0) - self.bought_fen.get(symbol, 0)
        return value - self.fees_fen


async def traded_by_account(
    engine: AsyncEngine, market_id: str, account_id: str | None = None
) -> dict[str, Traded]:
    """Every account's trading from the trade tape (both sides), listed trades and block deals
    alike; only ``account_id``'s if given."""
    out: dict[str, Traded] = {}
    async with engine.connect() as conn:
        for table in (t.market_trades, t.market_block_deals):
            c = table.c
            sides = (
                (c.buy_account_id, c.buy_fee_fen, "bought"),
                (c.sell_account_id, c.sell_fee_fen, "sold"),
            )
            for account, fee, side in sides:
                query = (
                    select(
                        account,
                        c.symbol,
                        func.count(),
                        func.sum(c.qty_t),
                        func.sum(c.qty_t * c.price_fen),
                        func.sum(fee),
                    )
                    .where(c.market_id == market_id)
                    .group_by(account, c.symbol)
                )
                if account_id is not None:
                    query = query.where(account == account_id)
                for who, symbol, count, qty, turnover, fees in await conn.execute(query):
                    row = out.setdefault(who, Traded())
                    tonnes, fen = getattr(row, f"{side}_t"), getattr(row, f"{side}_fen")
                    tonnes[symbol] = tonnes.get(symbol, 0) + int(qty)
                    fen[symbol] = fen.get(symbol, 0) + int(turnover)
                    row.fees_fen += int(fees)
                    row.trades += int(count)
    return out


async def today_activity(engine: AsyncEngine, market: Market) -> tuple[int, set[str]]:
    """Trades since today's trading day opened, and the accounts that placed orders today."""
    day = market.trading_day
    if day is None:
        return 0, set()
    j, tr, o = t.market_journal.c, t.market_trades.c, t.market_orders.c
    market_id = market.spec.market_id
    async with engine.connect() as conn:
        opened = await conn.scalar(
            select(func.max(j.seq)).where(j.market_id == market_id, j.kind == "open_day")
        )
        trades = await conn.scalar(
            select(func.count()).where(tr.market_id == market_id, tr.seq > (opened or 0))
        )
        placed = await conn.execute(
            select(o.account_id)
            .distinct()
            .where(o.market_id == market_id, o.trading_day == day.isoformat())
        )
        return int(trades or 0), {row.account_id for row in placed}
