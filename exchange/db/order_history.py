"""Reads of a market's orders in the journal: the order a client order id named on a trading
day (``getOrderByClientId``), an order by its id once the market no longer holds it in memory
(``getOrder`` of an earlier trading day: ``past_order``), how a past order ended, from its trades
and updates, and an account's orders of one trading day whatever became of them
(``listOrders?status=all``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import Row, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.db import tables as t
from matching.types import OrderStatus


async def client_order(
    engine: AsyncEngine, market_id: str, account: str, client_order_id: str, day: str
) -> Row[Any] | None:
    """The ``market_orders`` row of the account's order ``client_order_id`` on ``day`` (ISO),
    or None."""
    o = t.market_orders.c
    query = select(t.market_orders).where(
        o.market_id == market_id,
        o.account_id == account,
        o.client_order_id == client_order_id,
        o.trading_day == day,
    )
    async with engine.connect() as conn:
        return (await conn.execute(query)).first()


async def past_order(engine: AsyncEngine, market_id: str, order_id: int) -> dict[str, Any] | None:
    """An order of an earlier trading day (the market forgets finished orders at each day's
    end) as the journal leaves it: ``Order``'s fields, ``priority`` None (it rests no more);
    None if the journal has no such order."""
    o = t.market_orders.c
    query = select(t.market_orders).where(o.market_id == market_id, o.order_id == order_id)
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        return None
    ended = await finished_order(engine, market_id, row)
    return {"order_id": row.order_id, "account_id": row.account_id, **ended, "priority": None}


async def finished_order(engine: AsyncEngine, market_id: str, row: Row[Any]) -> dict[str, Any]:
    """A past day's order (its ``market_orders`` row) as its trades and updates in the journal
    leave it: symbol, side, type, price, STP, submitted, filled, leaves, cancelled, status,
    cancel reason."""
    tr = t.market_trades.c
    filled_query = select(func.coalesce(func.sum(tr.qty_t), 0)).where(
        tr.market_id == market_id,
        or_(tr.buy_order_id == row.order_id, tr.sell_order_id == row.order_id),
    )
    u = t.market_order_updates.c
    updates_query = (
        select(u.kind, u.qty_t, u.price_fen, u.reason)
        .where(u.market_id == market_id, u.order_id == row.order_id)
        .order_by(u.event_seq)
    )
    async with engine.connect() as conn:
        filled = int((await conn.execute(filled_query)).scalar_one())
        updates = (await conn.execute(updates_query)).all()
    return _ended(row, filled, updates)


def _ended(row: Row[Any], filled: int, updates: Iterable[Any]) -> dict[str, Any]:
    """An order (its ``market_orders`` row) as its filled quantity and its updates, in journal
    order, leave it."""
    submitted, price, cancelled, reason = row.qty_t, row.price_fen, 0, None
    for update in updates:
        if update.kind == "amended":
            submitted, price = update.qty_t, update.price_fen
        else:  # cancelled, reduced
            cancelled += update.qty_t
            reason = update.reason
    leaves = max(0, submitted - filled - cancelled)
    if leaves:
        status = OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.NEW
    else:
        status = OrderStatus.CANCELLED if cancelled else OrderStatus.FILLED
    return {
        "symbol": row.symbol,
        "side": row.side,
        "order_type": row.order_type,
        "price_fen": price,
        "stp": row.stp,
        "submitted_t": submitted,
        "filled_t": filled,
        "leaves_t": leaves,
        "cancelled_t": cancelled,
        "status": status,
        "cancel_reason": reason,
    }


async def day_orders(
    engine: AsyncEngine,
    market_id: str,
    account: str,
    day: str,
    live: Callable[[int], Mapping[str, Any] | None],
) -> list[dict[str, Any]]:
    """The account's orders placed on ``day`` (ISO), oldest first, whatever became of them
    (``Order``'s keys): an order the book still knows as ``live(order_id)`` tells it (as
    ``getOrderByClientId`` does), any other as its trades and updates in the journal leave it.
    An expired order is cancelled with the reason ``expiry``; ``priority`` is None for an
    order that no longer rests."""
    o = t.market_orders.c
    placed = select(t.market_orders).where(
        o.market_id == market_id, o.account_id == account, o.trading_day == day
    )
    ids = select(o.order_id).where(
        o.market_id == market_id, o.account_id == account, o.trading_day == day
    )
    u = t.market_order_updates.c
    updates_query = (
        select(u.order_id, u.kind, u.qty_t, u.price_fen, u.reason)
        .where(u.market_id == market_id, u.order_id.in_(ids))
        .order_by(u.event_seq)
    )
    tr = t.market_trades.c
    filled_queries = [
        select(side, func.sum(tr.qty_t))
        .where(tr.market_id == market_id, side.in_(ids))
        .group_by(side)
        for side in (tr.buy_order_id, tr.sell_order_id)
    ]
    async with engine.connect() as conn:
        rows = (await conn.execute(placed.order_by(o.order_id))).all()
        updates = (await conn.execute(updates_query)).all()
        filled: dict[int, int] = {}
        for query in filled_queries:  # an order is one side only: the two never overlap
            for order_id, qty_t in (await conn.execute(query)).all():
                filled[order_id] = filled.get(order_id, 0) + int(qty_t)
    by_order: dict[int, list[Any]] = {}
    for update in updates:
        by_order.setdefault(update.order_id, []).append(update)
    orders = []
    for row in rows:
        known = live(row.order_id)
        if known is not None:
            orders.append(dict(known))
            continue
        ended = _ended(row, filled.get(row.order_id, 0), by_order.get(row.order_id, ()))
        orders.append({"order_id": row.order_id, "account_id": account, **ended, "priority": None})
    return orders
