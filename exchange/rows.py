"""The projection rows one applied command adds to a journal batch (orders, order updates,
trades, postings, large-holder reports, closes, statements) and the balance keys it touched.
Compiled with mypyc with the engine and settlement (docs/adr/0002): it runs once per command on
the sequencer's path.
Enum values go into rows as the StrEnum members themselves; both drivers store their text."""

from __future__ import annotations

import json
from typing import Any, Final

from exchange.db.journal_store import Batch
from matching.events import OrderAccepted, OrderAmended, OrderCancelled, OrderReduced
from matching.record import Record
from settlement.commands import MarketCommand, PlaceOrder, TakeQuote
from settlement.outcome import Outcome


class Ack(Record):
    """A command's durable result: its journal sequence number and what it did. A record
    (docs/adr/0001) built in compiled code: the runtime makes one per command."""

    __match_args__ = ("seq", "command", "outcome")
    __slots__ = __match_args__

    seq: Final[int]
    command: Final[MarketCommand]
    outcome: Final[Outcome]

    def __init__(self, seq: int, command: MarketCommand, outcome: Outcome) -> None:
        self.seq = seq
        self.command = command
        self.outcome = outcome


def project(
    batch: Batch,
    dirty: set[tuple[Any, Any, Any]],
    seq: int,
    day: str,
    command: MarketCommand,
    outcome: Outcome,
) -> None:
    m = batch.market_id
    if type(command) is PlaceOrder and not outcome.repeated:
        c: PlaceOrder = command
        batch.orders.append(
            (
                m,
                outcome.order_id,
                seq,
                day,
                c.account_id,
                c.client_order_id,
                c.symbol,
                c.side,
                c.order_type,
                c.price_fen,
                c.qty_t,
                c.stp,
            )
        )
    elif type(command) is TakeQuote and not outcome.repeated:
        # The taker's order: side, price and quantity as the engine accepted it (the quote's).
        take: TakeQuote = command
        accepted = outcome.events[0]
        assert isinstance(accepted, OrderAccepted)
        batch.orders.append(
            (
                m,
                outcome.order_id,
                seq,
                day,
                take.account_id,
                take.client_order_id,
                accepted.symbol,
                accepted.side,
                accepted.order_type,
                accepted.price_fen,
                accepted.qty_t,
                accepted.stp,
            )
        )
    updates = batch.order_updates
    for event in outcome.events:
        if isinstance(event, OrderCancelled):
            updates.append(
                (m, event.seq, seq, event.order_id, "cancelled", event.qty_t, 0, None, event.reason)
            )
        elif isinstance(event, OrderReduced):
            updates.append(
                (
                    m,
                    event.seq,
                    seq,
                    event.order_id,
                    "reduced",
                    event.qty_t,
                    event.leaves_t,
                    None,
                    event.reason,
                )
            )
        elif isinstance(event, OrderAmended):
            updates.append(
                (
                    m,
                    event.seq,
                    seq,
                    event.order_id,
                    "amended",
                    event.qty_t,
                    event.leaves_t,
                    event.price_fen,
                    None,
                )
            )
    trades = batch.trades
    for fill in outcome.fills:
        tr = fill.trade
        trades.append(
            (
                m,
                tr.trade_id,
                tr.seq,
                seq,
                tr.ts_ns,
                tr.symbol,
                tr.price_fen,
                tr.qty_t,
                tr.aggressor,
                tr.buy_order_id,
                tr.sell_order_id,
                tr.buy_account_id,
                tr.sell_account_id,
                fill.buy_fee_fen,
                fill.sell_fee_fen,
            )
        )
    postings = batch.postings
    for p in outcome.postings:
        postings.append(
            (
                m,
                p.posting_id,
                seq,
                p.asset,
                p.amount,
                p.from_account,
                p.from_state,
                p.to_account,
                p.to_state,
                p.ref,
            )
        )
        dirty.add((p.from_account, p.asset, p.from_state))
        dirty.add((p.to_account, p.asset, p.to_state))
    for r in outcome.reports:
        batch.reports.append((m, seq, r.account_id, day, r.position_t, r.threshold_t))
    for d in outcome.block_deals:
        batch.block_deals.append(
            (
                m,
                d.deal_id,
                seq,
                d.ts_ns,
                day,
                d.symbol,
                d.price_fen,
                d.qty_t,
                d.buy_account_id,
                d.sell_account_id,
                d.buy_fee_fen,
                d.sell_fee_fen,
                d.quote_id,
                d.negotiation_id,
            )
        )
    for close in outcome.closes:
        batch.closes.append((m, day, close.symbol, close.close_fen, close.method))
    for st in outcome.statements:
        batch.statements.append(
            (m, st.trading_day.isoformat(), st.account_id, json.dumps(st.body, sort_keys=True))
        )
