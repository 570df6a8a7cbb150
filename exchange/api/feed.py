"""The WebSocket hub's publisher: each market's channels, fed from its commits.

A runtime listener (``Feed.listener``) is called with each committed batch of acks, in journal
order, after the commit (durable before market data). It never awaits and does work in
proportion to the messages it makes: it looks up subscribers by channel key and pushes shared
message dicts onto each connection's bounded queue (``exchange.api.ws_queue``).

State the channels need beyond one ack (a book's levels, the ticker's day statistics, the
current 1-minute bar, an account's balances) is kept here, per symbol or account, from the first
subscription on: it is seeded from the live market at the runtime's ``last_seq`` and then follows
only acks after that seq, so it is exact at every ``market_seq`` it reports. Bars are also seeded
from the journal's trades (see ``SymbolState``); the book channel's deltas are
``exchange.api.book_feed``'s.

Conflation (``exchange.api.ws_queue``): tickers (per symbol) and bars (per bar) are replaced in
place while still queued, and a symbol's book deltas merge, so a burst costs a slow reader one
queued message, not one per change. Trades, orders, fills, balances, compliance and replies are
never conflated; when a connection's queue is full it is marked dropped (``Connection.dropped``).

Trade and ticker messages carry ``commit_ns``, the wall-clock time (ns since the epoch) at which
the listener was told of the commit that made them durable, so a client can time delivery.

Batched trades: a connection that subscribed to ``trades`` with ``"batch": true``
(``Connection.batch_trades``) gets a commit's trades as one ``{"type": "trades", "trades":
[...]}`` message, each element a ``trade`` message without ``seq``. Trades that arrive while that
message is still queued join it (never replace anything), so a connection that falls behind
gets fewer, larger messages instead of a longer queue; more than ``queue_size`` trades waiting
in it is a slow consumer, dropped like a full queue.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from exchange.api import auction, block
from exchange.api.book_feed import BookMirror, Top
from exchange.api.registry_common import compliance_view
from exchange.api.ws_queue import (
    Connection,
    Encoded,
    Ending,
    Message,
    Outgoing,
    TradeBatch,
    encode,
)
from exchange.bars import INTERVAL_NS
from exchange.mrv_desk import store as mrv_store
from exchange.runtime import Ack
from matching.events import (
    BookLevelChanged,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderReduced,
    TradeExecuted,
)
from matching.types import Side
from registry_sim.model import AccountId, HoldingState
from registry_sim.ops import Assess, RecordEmissions, Surrender, WithdrawSurrender
from settlement.cash import CNY, CashState
from settlement.commands import ConfirmBlockDeal, EndOfDay, OpenDay, RegistryCommand
from settlement.market import Market
from settlement.outcome import BlockChange, BlockDeal, Fill

__all__ = [  # the queue's names, for the feed's users
    "Connection",
    "Encoded",
    "Ending",
    "Feed",
    "Message",
    "Outgoing",
    "TradeBatch",
    "encode",
]

BAR_INTERVALS_NS = {"1m": INTERVAL_NS["1m"]}  # the bars the feed keeps (exchange.bars)
ORDER_EVENTS: dict[type, str] = {
    OrderAccepted: "accepted",
    OrderCancelled: "cancelled",
    OrderAmended: "amended",
    OrderReduced: "reduced",
}
# Registry operations after which an account's compliance position is sent.
COMPLIANCE_OPS = (RecordEmissions, Surrender, WithdrawSurrender, Assess)
# The ``block`` channel's keys: a participant's ``block:<account>``, an observer's the public
# board, an operator's every quote (``exchange.api.block.Viewer``).
BLOCK = "block:"
BLOCK_PUBLIC = BLOCK
BLOCK_OPERATOR = BLOCK + "*"
# The ``mrv`` channel's keys: a participant's ``mrv:<account>``, an operator's every account,
# a verifier's ``mrv@<key_id>`` (the accounts assigned to it when each change is told).
MRV = "mrv:"
MRV_OPERATOR = MRV + "*"
MRV_VERIFIER = "mrv@"

log = logging.getLogger("carbonx.api.feed")


def is_mrv(key: str) -> bool:
    return key.startswith((MRV, MRV_VERIFIER))


def block_key(viewer: block.Viewer) -> str:
    if viewer.operator:
        return BLOCK_OPERATOR
    return BLOCK + (viewer.account_id or "")


def block_viewer(key: str) -> block.Viewer:
    if key == BLOCK_OPERATOR:
        return block.OPERATOR
    account = key.removeprefix(BLOCK)
    return block.Viewer(account or None)


class SymbolState:
    """What the ticker and bars of one instrument need: its book's mirror (``book``, to know
    the best bid and ask after each command; seeded at or before ``seed_seq``) and today's
    open/high/low/volume, seeded from the live market at ``seed_seq``; the last trade and the
    current bar, seeded from the journal's trades up to ``bar_seed_seq`` (the last published,
    so committed, command) by the socket, which sets ``bar_ready`` when done. Each part
    follows only the acks after its seed."""

    def __init__(self, market: Market, book: BookMirror, seed_seq: int, bar_seed_seq: int) -> None:
        symbol = book.symbol
        self.symbol = symbol
        self.book = book
        self.seed_seq = seed_seq
        self.bar_seed_seq = bar_seed_seq
        self.bar_ready = asyncio.Event()
        day = market.day_book.symbols.get(symbol)
        self.open_fen: int | None = None if day is None else day.open_fen
        self.high_fen: int | None = None if day is None else day.high_fen
        self.low_fen: int | None = None if day is None else day.low_fen
        self.volume_t = 0 if day is None else day.volume_t
        self.last: Message | None = None  # trade_id, last_price_fen, last_qty_t, ts_ns
        self.bar: Message | None = None  # the current 1-minute bar

    def new_day(self) -> None:
        self.open_fen = self.high_fen = self.low_fen = None
        self.volume_t = 0

    def trade(self, event: TradeExecuted, market_seq: int) -> None:
        """Follow one trade of a command after ``bar_seed_seq`` (after ``seed_seq`` for the
        day's numbers, which the live market had counted before)."""
        price = event.price_fen
        self.last = last_trade(event.trade_id, price, event.qty_t, event.ts_ns)
        self.bar = add_to_bar(self.bar, event.ts_ns, price, event.qty_t, market_seq)
        if market_seq > self.seed_seq:
            if self.open_fen is None:
                self.open_fen = price
            self.high_fen = price if self.high_fen is None else max(self.high_fen, price)
            self.low_fen = price if self.low_fen is None else min(self.low_fen, price)
            self.volume_t += event.qty_t

    def ticker(self, market_seq: int) -> Message:
        last = self.last or dict.fromkeys(("trade_id", "last_price_fen", "last_qty_t", "ts_ns"))
        bid = self.book.best(Side.BUY) or (None, None)
        ask = self.book.best(Side.SELL) or (None, None)
        return {
            "type": "ticker",
            "market_seq": market_seq,
            "symbol": self.symbol,
            **last,
            "open_fen": self.open_fen,
            "high_fen": self.high_fen,
            "low_fen": self.low_fen,
            "volume_t": self.volume_t,
            "best_bid_fen": bid[0],
            "best_bid_qty_t": bid[1],
            "best_ask_fen": ask[0],
            "best_ask_qty_t": ask[1],
        }

    def seed_bar(self, trades: Sequence[tuple[int, int, int, int, int]]) -> None:
        """Merge the journal's trades (trade_id, ts_ns, price_fen, qty_t, seq) at or below
        ``bar_seed_seq``, oldest first, into the last trade and the current bar."""
        earlier: Message | None = None
        for _, ts_ns, price, qty, seq in trades:
            earlier = add_to_bar(earlier, ts_ns, price, qty, seq)
        if trades and self.last is None:  # no later trade came meanwhile
            trade_id, ts_ns, price, qty, _ = trades[-1]
            self.last = last_trade(trade_id, price, qty, ts_ns)
        self.bar = merge_bars(earlier, self.bar)

    def bar_message(self, interval: str) -> Message | None:
        if self.bar is None:
            return None
        return {"type": "bar", "symbol": self.symbol, "interval": interval, **self.bar}


def last_trade(trade_id: int, price_fen: int, qty_t: int, ts_ns: int) -> Message:
    return {"trade_id": trade_id, "last_price_fen": price_fen, "last_qty_t": qty_t, "ts_ns": ts_ns}


def bar_start_ns(ts_ns: int, interval_ns: int = BAR_INTERVALS_NS["1m"]) -> int:
    """The start of the market-time bar holding ``ts_ns``."""
    return ts_ns - ts_ns % interval_ns


def add_to_bar(bar: Message | None, ts_ns: int, price: int, qty: int, seq: int) -> Message:
    """The bar after one more trade: a new bar when the trade falls in a later minute."""
    start = bar_start_ns(ts_ns)
    if bar is None or start > bar["start_ts_ns"]:
        return {
            "market_seq": seq,
            "start_ts_ns": start,
            "open_fen": price,
            "high_fen": price,
            "low_fen": price,
            "close_fen": price,
            "volume_t": qty,
            "trade_count": 1,
        }
    return {
        **bar,
        "market_seq": seq,
        "high_fen": max(bar["high_fen"], price),
        "low_fen": min(bar["low_fen"], price),
        "close_fen": price,
        "volume_t": bar["volume_t"] + qty,
        "trade_count": bar["trade_count"] + 1,
    }


def merge_bars(earlier: Message | None, later: Message | None) -> Message | None:
    """One bar from an earlier and a later part of it; the later alone when it began anew."""
    if earlier is None or later is None:
        return later or earlier
    if earlier["start_ts_ns"] != later["start_ts_ns"]:
        return later if later["start_ts_ns"] > earlier["start_ts_ns"] else earlier
    return {
        **later,
        "open_fen": earlier["open_fen"],
        "high_fen": max(earlier["high_fen"], later["high_fen"]),
        "low_fen": min(earlier["low_fen"], later["low_fen"]),
        "volume_t": earlier["volume_t"] + later["volume_t"],
        "trade_count": earlier["trade_count"] + later["trade_count"],
    }


class AccountState:
    """A mirror of one account's balances, moved by the postings of acks after ``seed_seq``."""

    def __init__(self, market: Market, account_id: str, seed_seq: int) -> None:
        self.account_id = account_id
        self.seed_seq = seed_seq
        self.as_of_seq = seed_seq
        account = AccountId(account_id)
        self.amounts: dict[tuple[str, str], int] = {
            (CNY, state.value): market.balance(account, CNY, state) for state in CashState
        }
        for unit, by_state in market.registry.holdings(account).items():
            for state in HoldingState:
                self.amounts[(unit, state.value)] = by_state.get(state, 0)

    def move(self, asset: str, state: str, amount: int) -> None:
        key = (asset, state)
        self.amounts[key] = self.amounts.get(key, 0) + amount

    def message(self) -> Message:
        units: dict[str, dict[str, int]] = {}
        for (asset, state), amount in self.amounts.items():
            if asset != CNY:
                units.setdefault(asset, {s.value + "_t": 0 for s in HoldingState})[state + "_t"] = (
                    amount
                )
        return {
            "type": "balances",
            "market_seq": self.as_of_seq,
            "account_id": self.account_id,
            "cash": {
                "available_fen": self.amounts.get((CNY, CashState.AVAILABLE.value), 0),
                "held_fen": self.amounts.get((CNY, CashState.HELD.value), 0),
            },
            "units": [{"unit": unit, **units[unit]} for unit in sorted(units)],
        }


def compliance_message(market: Market, account_id: str, year: int, market_seq: int) -> Message:
    status = compliance_view(market, AccountId(account_id), year)  # as getComplianceStatus
    return {"type": "compliance", "market_seq": market_seq, **status}


def current_compliance_year(market: Market) -> int | None:
    """The compliance year still open on the market's trading day: last year's until its
    surrender deadline (the rule set's), then this year's. None before a first trading day."""
    day = market.trading_day
    if day is None:
        return None
    if day <= market.rules.compliance.deadline(day.year - 1):
        return day.year - 1
    return day.year


class MarketFeed:
    """One market's subscribers by channel key, and the state its channels keep."""

    def __init__(self) -> None:
        self.subscribers: dict[str, set[Connection]] = {}
        # Per account with ``compliance`` subscribers, the year each asked for (None: the one
        # still open), kept by ``Feed.subscribe`` and ``Feed.unsubscribe``.
        self.compliance_years: dict[str, dict[Connection, int | None]] = {}
        self.books: dict[str, BookMirror] = {}  # kept from the first book, ticker or bars one
        self.symbols: dict[str, SymbolState] = {}
        self.accounts: dict[str, AccountState] = {}
        self.market: Market | None = None  # set by the first subscription
        # ``mrv`` subscribers whose board is being read: their changes wait here, then follow it
        self.mrv_held: dict[Connection, list[Message]] = {}
        self.mrv_tail: asyncio.Future[None] | None = None  # the last change told to verifiers
        self.published_seq = 0  # the last ack the listener saw: committed, in the journal

    def book(self, market: Market, symbol: str, seed_seq: int) -> BookMirror:
        """The symbol's book mirror; made now, as of ``seed_seq``, if there is none yet."""
        mirror = self.books.get(symbol)
        if mirror is None:
            mirror = self.books[symbol] = BookMirror(market, symbol, seed_seq)
        return mirror

    def publish(self, acks: Sequence[Ack]) -> None:
        """Fan one commit's acks out to the subscribers' queues; never waits."""
        if acks:
            self.published_seq = acks[-1].seq
        if not (self.subscribers or self.books or self.accounts):
            return
        commit_ns = time.time_ns()
        traders = self.subscribers.get("trades")
        plain = [c for c in traders if not c.batch_trades] if traders else []
        tails: list[str] = []
        positions: set[str] = set()  # accounts whose compliance position this commit moved
        for ack in acks:
            outcome = ack.outcome
            if outcome.code is not None:
                continue
            market_seq = ack.seq
            if self.symbols and type(ack.command) is OpenDay:
                for state in self.symbols.values():
                    if market_seq > state.seed_seq:
                        state.new_day()
            if outcome.events:
                self._events(ack, market_seq, commit_ns, plain, tails)
            if self.accounts and outcome.postings:
                self._balances(ack, market_seq)
            if type(ack.command) is RegistryCommand:
                self._compliance(ack, market_seq)
            if outcome.reports or outcome.statements:
                self._reports(ack, market_seq)
            if outcome.block_changes:
                self._block(ack, market_seq)
            if outcome.auction_changes:
                self._auctions(ack, market_seq)
            if self.compliance_years:
                positions |= self._positions_moved(ack)
        if positions:
            self._positions(positions, acks[-1].seq)
        if tails and traders:
            for connection in traders:
                if connection.batch_trades:
                    connection.push_trades(tails)

    def _events(
        self,
        ack: Ack,
        market_seq: int,
        commit_ns: int,
        plain: list[Connection],
        tails: list[str],
    ) -> None:
        """One ack's events to their channels; its trades also to ``tails``, for the
        connections that batch them (``plain`` ones get a message per trade here)."""
        subscribers = self.subscribers
        symbols = self.symbols
        outcome = ack.outcome
        fills: dict[int, Fill] | None = None
        traded: list[tuple[SymbolState, TradeExecuted]] | None = None
        books: dict[BookMirror, Top] | None = None  # subscribed books: their tops before
        for event in outcome.events:
            kind = type(event)
            if kind is BookLevelChanged:
                assert isinstance(event, BookLevelChanged)
                book = self.books.get(event.symbol)
                if book is not None and market_seq > book.seed_seq:
                    if book.deepest and (books is None or book not in books):
                        books = books or {}
                        books[book] = book.top(book.deepest)
                    book.apply(event)
            elif kind is TradeExecuted:
                assert isinstance(event, TradeExecuted)
                if "trades" in subscribers:
                    trade = Encoded(trade_message(event, market_seq, commit_ns))
                    tails.append(trade.tail)
                    for connection in plain:
                        connection.push(trade)
                state = symbols.get(event.symbol)
                if state is not None and market_seq > state.bar_seed_seq:
                    traded = traded or []
                    traded.append((state, event))
                for side, account in (
                    ("buy", event.buy_account_id),
                    ("sell", event.sell_account_id),
                ):
                    orders = subscribers.get("orders:" + account)
                    own = subscribers.get("fills:" + account)
                    if orders or own:
                        if fills is None:
                            fills = {f.trade.trade_id: f for f in outcome.fills}
                        message = fill_message(event, fills.get(event.trade_id), side, market_seq)
                        for to in (orders, own):
                            if to:
                                _send(to, message)
            elif isinstance(event, OrderAccepted | OrderCancelled | OrderAmended | OrderReduced):
                to = subscribers.get("orders:" + event.account_id)
                if to:
                    _send(to, order_message(event, ORDER_EVENTS[kind], market_seq))
        if books:
            for book, before in books.items():
                book.publish(before, market_seq)
        if traded:
            self._tickers(traded, market_seq, commit_ns)

    def _tickers(
        self, traded: list[tuple[SymbolState, TradeExecuted]], market_seq: int, commit_ns: int
    ) -> None:
        """One ticker per trade, each with the best bid and ask after the command, and the bar
        each trade updated."""
        for state, event in traded:
            state.trade(event, market_seq)
            ticker = self.subscribers.get("ticker:" + state.symbol)
            if ticker and market_seq > state.seed_seq:
                message = {**state.ticker(market_seq), "commit_ns": commit_ns}
                _send_latest(ticker, ("ticker", state.symbol), Encoded(message))
            for interval in BAR_INTERVALS_NS:
                to = self.subscribers.get(f"bars:{state.symbol}:{interval}")
                bar = state.bar_message(interval)
                if to and bar is not None:
                    key = ("bar", state.symbol, interval, bar["start_ts_ns"])
                    _send_latest(to, key, Encoded(bar))

    def _reports(self, ack: Ack, market_seq: int) -> None:
        """Large-holder reports to the operators' ``large_holders`` channel, and each account's
        daily statement to its ``statements`` channel, as the REST reads give them."""
        outcome = ack.outcome
        to = self.subscribers.get("large_holders")
        if to and outcome.reports and self.market is not None:
            day = self.market.trading_day
            for r in outcome.reports:
                _send(
                    to,
                    {
                        "type": "large_holder_report",
                        "market_seq": market_seq,  # the REST item's seq
                        "account_id": r.account_id,
                        "trading_day": None if day is None else day.isoformat(),
                        "position_t": r.position_t,
                        "threshold_t": r.threshold_t,
                    },
                )
        for st in outcome.statements:
            own = self.subscribers.get("statements:" + st.account_id)
            if own:
                message = {"trading_day": st.trading_day.isoformat(), **st.body}
                _send(own, {"type": "statement", "market_seq": market_seq, **message})

    def _block(self, ack: Ack, market_seq: int) -> None:
        """One ack's block board changes to the ``block`` subscribers who may see the quote,
        its negotiation steps and deals to their two parties, and each party's side of a
        deal to its ``fills`` and ``orders`` channels, as a listed fill is."""
        market = self.market
        if market is None:  # nobody subscribed to anything yet
            return
        outcome = ack.outcome
        prices = block.board_prices(market)
        confirmed = type(ack.command) is ConfirmBlockDeal
        for change in outcome.block_changes:
            negotiation = change.negotiation
            if negotiation is None or change.what == "dealt":
                self._block_quote(change, market_seq, prices)
            if negotiation is not None and (change.what != "dealt" or confirmed):
                for account in block.negotiation_parties(negotiation, change.quote):
                    to = self.subscribers.get(BLOCK + account)
                    if to:
                        view = block.negotiation_view(negotiation, change.quote, account)
                        _send(
                            to,
                            {
                                "type": "block_negotiation",
                                "event": change.what,
                                "market_seq": market_seq,
                                "negotiation": view,
                            },
                        )
        for deal in outcome.block_deals:
            view = block.deal_view(deal, market_seq, block.deal_day(market, deal))
            for side, account in (("buy", deal.buy_account_id), ("sell", deal.sell_account_id)):
                to = self.subscribers.get(BLOCK + account)
                if to:
                    _send(to, {"type": "block_deal", "market_seq": market_seq, "deal": view})
                orders = self.subscribers.get("orders:" + account)
                own = self.subscribers.get("fills:" + account)
                if orders or own:
                    message = block_fill_message(deal, side, market_seq)
                    for channel in (orders, own):
                        if channel:
                            _send(channel, message)

    def _auctions(self, ack: Ack, market_seq: int) -> None:
        """An auction's public steps (its notice, its result) to the ``auctions`` channel;
        bids are sealed and told to nobody."""
        to = self.subscribers.get("auctions")
        market = self.market
        if not to or market is None:
            return
        for change in ack.outcome.auction_changes:
            message: Message = {
                "type": "auction",
                "event": change.what,
                "market_seq": market_seq,
                "auction_id": change.auction_id,
            }
            if change.what == "published":
                found = market.auctions.auctions.get(change.auction_id)
                if found is None:  # cleared since: its record keeps the terms
                    found = market.auctions.results[change.auction_id][0]
                message["notice"] = auction.notice(market, found, block.PUBLIC, ack.command.ts_ns)
            elif change.result is None:
                continue  # a bid, an amendment or a withdrawal: sealed
            elif change.what == "result_published":  # the results lag has passed
                message["event"] = change.result.status
                message["result"] = change.result.figures()
            elif _lagged(market):
                continue  # told when published
            else:
                message["result"] = change.result.figures()
            _send(to, message)

    def _block_quote(self, change: BlockChange, market_seq: int, prices: bool) -> None:
        """A board change to every ``block`` key that sees the quote, as that key sees it."""
        quote = change.quote
        if quote.counterparty is None:  # public: every subscriber of the channel
            keys = [key for key in self.subscribers if key.startswith(BLOCK)]
        else:
            keys = [BLOCK + quote.account_id, BLOCK + quote.counterparty, BLOCK_OPERATOR]
        for key in keys:
            to = self.subscribers.get(key)
            if to:
                view = block.quote_view(quote, block_viewer(key), prices)
                _send(
                    to,
                    {
                        "type": "block_quote",
                        "event": change.what,
                        "market_seq": market_seq,
                        "quote": view,
                    },
                )

    def _balances(self, ack: Ack, market_seq: int) -> None:
        accounts = self.accounts
        touched: set[AccountState] = set()
        for posting in ack.outcome.postings:
            for account, state, sign in (
                (posting.from_account, posting.from_state, -1),
                (posting.to_account, posting.to_state, 1),
            ):
                mirror = accounts.get(account)
                if mirror is not None and market_seq > mirror.seed_seq:
                    mirror.move(posting.asset, state, sign * posting.amount)
                    mirror.as_of_seq = market_seq
                    touched.add(mirror)
        for mirror in touched:
            to = self.subscribers.get("balances:" + mirror.account_id)
            if to:
                _send(to, mirror.message())

    def _positions_moved(self, ack: Ack) -> set[str]:
        """The subscribed accounts whose compliance projection ``ack`` may have moved without
        a compliance operation: units moved in or out of their holdings (trades, issuance,
        transfers, freezes: what their plan can cover), or a new day or day end (the date
        eligibility and the deadline go by, the penalty's reference price)."""
        command = ack.command
        if type(command) in (OpenDay, EndOfDay):
            return set(self.compliance_years)
        if type(command) is RegistryCommand and isinstance(command.op, COMPLIANCE_OPS):
            return set()  # its own message went out (``_compliance``)
        moved = set()
        for posting in ack.outcome.postings:
            if posting.asset == CNY:
                continue
            moved.add(posting.from_account)
            moved.add(posting.to_account)
        return moved & self.compliance_years.keys()

    def _positions(self, accounts: set[str], market_seq: int) -> None:
        """The compliance position of each of ``accounts`` for each year its subscribers
        follow, once per commit whatever moved it."""
        market = self.market
        if market is None:
            return
        current = current_compliance_year(market)
        for account in sorted(accounts):
            to = self.subscribers.get("compliance:" + account)
            asked = self.compliance_years.get(account, {}).values()
            years = {current if year is None else year for year in asked}
            for year in sorted(y for y in years if y is not None):
                if to:
                    _send(to, compliance_message(market, account, year, market_seq))

    def _compliance(self, ack: Ack, market_seq: int) -> None:
        command = ack.command
        assert type(command) is RegistryCommand
        op = command.op
        if self.market is None or not isinstance(op, COMPLIANCE_OPS):
            return
        to = self.subscribers.get("compliance:" + op.account_id)
        if to:
            _send(to, compliance_message(self.market, op.account_id, op.year, market_seq))


class Feed:
    """The hub's publisher: each market's ``MarketFeed``, fed by a runtime listener."""

    def __init__(self, queue_size: int = 1000, heartbeat_s: float = 15.0) -> None:
        self.queue_size = queue_size
        self.heartbeat_s = heartbeat_s
        self._markets: dict[str, MarketFeed] = {}

    def market(self, market_id: str) -> MarketFeed:
        found = self._markets.get(market_id)
        if found is None:
            found = self._markets[market_id] = MarketFeed()
        return found

    def listener(self, market_id: str) -> Callable[[Sequence[Ack]], None]:
        return self.market(market_id).publish

    def announce(self, market_id: str, message: Message) -> None:
        """Send an instructor's announcement (``exchange.api.routes.replay``) to the market's
        ``announcements`` subscribers; it comes from no command, so it has no market_seq."""
        to = self.market(market_id).subscribers.get("announcements")
        if to:
            _send(to, message)

    def mrv(self, engine: AsyncEngine, market_id: str, message: Message) -> None:
        """Send a committed MRV desk change (``exchange.mrv_desk.notify``) to the market's
        ``mrv`` subscribers who may see its account: the account's own keys and operators now;
        the verifiers assigned to it (read from the database, in order, change after change)
        once the read is done. It comes from no command, so it has no market_seq."""
        market = self.market(market_id)
        account = message["account_id"]
        for key in (MRV + account, MRV_OPERATOR):
            to = market.subscribers.get(key)
            if to:
                _send_mrv(market, to, message)
        verifiers = [key for key in market.subscribers if key.startswith(MRV_VERIFIER)]
        if verifiers:
            tail = asyncio.ensure_future(
                _to_verifiers(market.mrv_tail, engine, market_id, market, verifiers, message)
            )
            market.mrv_tail = tail

            def done(finished: asyncio.Future[None]) -> None:
                if market.mrv_tail is finished:
                    market.mrv_tail = None

            tail.add_done_callback(done)

    def subscribe(
        self, connection: Connection, channel: str, year: int | None = None, depth: int = 0
    ) -> None:
        """Add a subscriber; ``year``: the compliance year a ``compliance`` one follows;
        ``depth``: the levels a ``book`` one sees (its mirror made: ``MarketFeed.book``), whose
        snapshot the caller queues next."""
        market = self.market(connection.principal.market_id)
        market.subscribers.setdefault(channel, set()).add(connection)
        if channel.startswith("compliance:"):
            account = channel.removeprefix("compliance:")
            market.compliance_years.setdefault(account, {})[connection] = year
        if channel.startswith("book:"):
            symbol = channel.removeprefix("book:")
            market.books[symbol].subscribe(connection, depth)
            key = ("book", symbol)
            connection.unlatch(key.__eq__)  # deltas from now on go after the snapshot
        connection.channels.add(channel)

    def unsubscribe(self, connection: Connection, channel: str) -> None:
        if channel == "trades":
            connection.batch_trades = False
        market = self.market(connection.principal.market_id)
        if channel.startswith("book:"):
            book = market.books.get(channel.removeprefix("book:"))
            if book is not None:
                book.unsubscribe(connection)
        if channel.startswith("compliance:"):
            account = channel.removeprefix("compliance:")
            years = market.compliance_years.get(account, {})
            years.pop(connection, None)
            if not years:
                market.compliance_years.pop(account, None)
        subscribers = market.subscribers.get(channel)
        if subscribers is not None:
            subscribers.discard(connection)
            if not subscribers:
                del market.subscribers[channel]
                if channel.startswith("balances:"):  # the mirror is kept while watched
                    market.accounts.pop(channel.removeprefix("balances:"), None)
        connection.channels.discard(channel)

    def forget(self, connection: Connection) -> None:
        for channel in list(connection.channels):
            self.unsubscribe(connection, channel)
        self.market(connection.principal.market_id).mrv_held.pop(connection, None)


def _send_mrv(market: MarketFeed, connections: set[Connection], message: Message) -> None:
    """An MRV change to each connection, or to its held list while its board is read."""
    for connection in connections:
        held = market.mrv_held.get(connection)
        if held is not None:
            held.append(message)
        else:
            connection.push(message)


async def _to_verifiers(
    previous: asyncio.Future[None] | None,
    engine: AsyncEngine,
    market_id: str,
    market: MarketFeed,
    keys: list[str],
    message: Message,
) -> None:
    """An MRV change to the subscribed verifiers assigned to its account, after the change
    before it (``previous``) went out."""
    if previous is not None:
        await asyncio.wait([previous])
    account = message["account_id"]
    for key in keys:
        try:
            if key not in market.subscribers:  # gone meanwhile
                continue
            if account in await mrv_store.assigned(engine, market_id, key[len(MRV_VERIFIER) :]):
                to = market.subscribers.get(key)
                if to:
                    _send_mrv(market, to, message)
        except Exception:
            log.exception("an MRV change not told to verifier %s", key)


def _send(connections: set[Connection], message: Message | Encoded) -> None:
    for connection in connections:
        connection.push(message)


def _send_latest(
    connections: set[Connection], key: tuple[Any, ...], message: Message | Encoded
) -> None:
    for connection in connections:
        connection.push_latest(key, message)


def trade_message(event: TradeExecuted, market_seq: int, commit_ns: int) -> Message:
    return {
        "type": "trade",
        "market_seq": market_seq,
        "commit_ns": commit_ns,
        "symbol": event.symbol,
        "trade_id": event.trade_id,
        "price_fen": event.price_fen,
        "qty_t": event.qty_t,
        "aggressor": event.aggressor.value,
        "ts_ns": event.ts_ns,
    }


def fill_message(event: TradeExecuted, fill: Fill | None, side: str, market_seq: int) -> Message:
    """One side's own view of a trade: its order, quantity left and fee; not the other side."""
    buy = side == "buy"
    fee = None if fill is None else (fill.buy_fee_fen if buy else fill.sell_fee_fen)
    return {
        "type": "fill",
        "mode": "listed",
        "market_seq": market_seq,
        "symbol": event.symbol,
        "trade_id": event.trade_id,
        "order_id": event.buy_order_id if buy else event.sell_order_id,
        "side": side,
        "price_fen": event.price_fen,
        "qty_t": event.qty_t,
        "leaves_t": event.buy_leaves_t if buy else event.sell_leaves_t,
        "fee_fen": fee,
        "aggressor": event.aggressor.value == side,
        "ts_ns": event.ts_ns,
    }


def block_fill_message(deal: BlockDeal, side: str, market_seq: int) -> Message:
    """One side's view of a block deal on its ``fills`` and ``orders`` channels: a ``fill``
    as a listed one, with ``mode`` block and the deal's ids instead of an order's."""
    buy = side == "buy"
    return {
        "type": "fill",
        "mode": "block",
        "market_seq": market_seq,
        "symbol": deal.symbol,
        "trade_id": deal.deal_id,
        "deal_id": deal.deal_id,
        "quote_id": deal.quote_id,
        "negotiation_id": deal.negotiation_id,
        "order_id": None,
        "side": side,
        "price_fen": deal.price_fen,
        "qty_t": deal.qty_t,
        "leaves_t": None,
        "fee_fen": deal.buy_fee_fen if buy else deal.sell_fee_fen,
        "aggressor": None,
        "ts_ns": deal.ts_ns,
    }


def order_message(event: Any, name: str, market_seq: int) -> Message:
    message: Message = {"type": "order", "event": name, "market_seq": market_seq}
    for field, value in event.as_dict().items():
        if field != "seq":
            message[field] = getattr(value, "value", value)  # enums as their values
    return message


def _lagged(market: Market) -> bool:
    """Whether the market's auction results are published some days after clearing."""
    rules = market.rules.auction
    return rules is not None and rules.results_lag_days > 0
