"""The in-process driver's pieces: agents reading a pure ``settlement.market.Market`` and
their actions turned into the market's own commands.

* ``LocalMarket`` wraps a ``Market`` with what a view needs that the market does not keep:
  the driver's clock (now, trading day, compliance year, trading days left) and today's last
  trade price per instrument. The driver applies every command through ``LocalMarket.apply``
  so those last prices stay current (and its cache of instrument facts is dropped at every
  clock or operator command), and calls ``start_day`` when a trading day opens.
* ``LocalView`` is one account's ``MarketView`` over it. It is read millions of times in a
  headless run, so every answer is a dictionary lookup or one engine query: no copies of the
  book, no pydantic objects.
* ``to_commands`` turns an agent's ``Action`` into the ``settlement.commands`` an API client
  would send, stamped with the driver's time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from exchange.agents.base import (
    Abate,
    AcceptBlock,
    Action,
    Amend,
    AuctionInfo,
    BidAuction,
    BlockInfo,
    BlockQuoteInfo,
    Cancel,
    CancelAll,
    CancelBlock,
    ComplianceView,
    InstrumentInfo,
    OpenOrder,
    Place,
    PostBlock,
    Quote,
    SurrenderUnits,
)
from matching.types import TradingState
from registry_sim.model import AccountId, HoldingState, UnitCode
from registry_sim.ops import Surrender
from settlement.auction_desk import bidder_cap
from settlement.block import in_session
from settlement.cash import CashState
from settlement.commands import (
    AcceptBlockQuote,
    AmendOrder,
    CancelBlockQuote,
    CancelOrder,
    MarketCommand,
    PlaceOrder,
    PostBlockQuote,
    RegistryCommand,
    SubmitBid,
)
from settlement.commands import CancelAll as CancelAllOrders
from settlement.market import MAX_TOTAL, Market
from settlement.outcome import Outcome

_CONTINUOUS = TradingState.CONTINUOUS
_CASH_AVAILABLE = CashState.AVAILABLE
# Units the account still owns: every state but PENDING (submitted for surrender).
_AVAILABLE = HoldingState.AVAILABLE
_HELD = HoldingState.HELD
_FROZEN = HoldingState.FROZEN
_order_id = attrgetter("order_id")


class LocalMarket:
    """A pure market driven in process, with the clock and tape its views read.

    ``compliance_year`` is the year whose trading period runs; ``trading_days_left`` counts
    today. The driver owns both and sets them through ``start_day``.
    """

    __slots__ = (
        "_blocks",
        "_info",
        "_infos",
        "_views",
        "compliance_year",
        "last_price_fen",
        "market",
        "now_ns",
        "trading_day",
        "trading_days_left",
    )

    def __init__(self, market: Market, compliance_year: int) -> None:
        self.market = market
        self.compliance_year = compliance_year
        self.now_ns = 0
        self.trading_day: dt.date = dt.date(compliance_year, 1, 1)
        self.trading_days_left = 0
        self.last_price_fen: dict[str, int] = {}  # today's last trade per instrument
        self._views: dict[str, LocalView] = {}
        # Instrument facts change only with the clock's and the operator's commands (day
        # open and end, sessions, halts), never with orders: cached until the next such one.
        self._info: dict[str, InstrumentInfo] = {}
        self._infos: tuple[InstrumentInfo, ...] | None = None
        # Each instrument's block minimum and band, cached as ``_info`` is (None: no blocks).
        self._blocks: dict[str, tuple[int, tuple[int, int]] | None] = {}

    def start_day(
        self, trading_day: dt.date, trading_days_left: int, compliance_year: int | None = None
    ) -> None:
        """A new trading day: the last prices start again from the previous close."""
        self.trading_day = trading_day
        self.trading_days_left = trading_days_left
        if compliance_year is not None:
            self.compliance_year = compliance_year
        self.last_price_fen.clear()

    def apply(self, command: MarketCommand) -> Outcome:
        """Apply a command to the market, noting the price of every fill it caused."""
        outcome = self.market.apply(command)
        t = type(command)
        if (
            t is not PlaceOrder
            and t is not CancelOrder
            and t is not AmendOrder
            and t is not CancelAllOrders
        ):
            self._info.clear()
            self._infos = None
            self._blocks.clear()
        fills = outcome.fills
        if fills:
            last = self.last_price_fen
            for fill in fills:
                trade = fill.trade
                last[trade.symbol] = trade.price_fen
        return outcome

    def instruments(self) -> tuple[InstrumentInfo, ...]:
        """Every listed instrument, in listing order (cached like ``instrument``)."""
        infos = self._infos
        if infos is None:
            infos = self._infos = tuple(self.instrument(s) for s in self.market.instruments)
        return infos

    def instrument(self, symbol: str) -> InstrumentInfo:
        """What an agent needs to know to price and size an order in ``symbol`` now."""
        info = self._info.get(symbol)
        if info is None:
            book = self.market.engine.book_info(symbol)
            max_qty = book.max_qty_t
            info = self._info[symbol] = InstrumentInfo(
                symbol,
                book.tick_fen,
                book.lot_t,
                book.min_qty_t,
                MAX_TOTAL if max_qty is None else max_qty,  # no upper limit in the rule set
                (book.band_lower_fen, book.band_upper_fen),
                book.reference_price_fen,
                book.state is _CONTINUOUS,
            )
        return info

    def block_terms(self, symbol: str) -> tuple[int, tuple[int, int]] | None:
        """Block trading's minimum and today's block band in ``symbol`` (cached like
        ``instrument``), or None where the rule set has no block trading."""
        try:
            return self._blocks[symbol]
        except KeyError:
            pass
        market = self.market
        rules = market.rules.block
        terms = None
        if rules is not None:
            reference = self.instrument(symbol).reference_price_fen
            terms = (rules.min_qty_t, market.instruments[symbol].band(reference, "block"))
        self._blocks[symbol] = terms
        return terms

    def view(self, account_id: str) -> LocalView:
        """The (cached) view of one account."""
        view = self._views.get(account_id)
        if view is None:
            view = self._views[account_id] = LocalView(self, account_id)
        return view


class LocalView:
    """One account's read-only ``MarketView`` of a ``LocalMarket``."""

    __slots__ = (
        "_account",
        "_books",
        "_cash",
        "_engine",
        "_holding_keys",
        "_local",
        "_market",
        "_units",
    )

    def __init__(self, local: LocalMarket, account_id: str) -> None:
        self._local = local
        self._account = AccountId(account_id)
        market = local.market
        self._market = market
        self._engine = market.engine
        # The ledgers' own dictionaries, read directly: the hottest reads of every wake-up.
        self._cash: dict[Any, int] = market.cash._balances
        self._units: dict[Any, int] = market.registry.ledger._balances
        # The engine's books, read for the best prices without building a BBO each time.
        self._books: dict[Any, Any] = self._engine._books
        self._holding_keys: dict[str, tuple[Any, Any, Any]] = {}  # holding_t's ledger keys

    @property
    def account_id(self) -> str:
        return self._account

    @property
    def now_ns(self) -> int:
        return self._local.now_ns

    @property
    def trading_day(self) -> dt.date:
        return self._local.trading_day

    @property
    def compliance_year(self) -> int:
        return self._local.compliance_year

    @property
    def trading_days_left(self) -> int:
        return self._local.trading_days_left

    def instruments(self) -> Sequence[InstrumentInfo]:
        return self._local.instruments()

    def instrument(self, symbol: str) -> InstrumentInfo:
        return self._local.instrument(symbol)

    def best_bid(self, symbol: str) -> Quote | None:
        level = self._books[symbol].bids.best  # what engine.best_bid_offer reads
        return None if level is None else Quote(level.price_fen, level.qty_t)

    def best_ask(self, symbol: str) -> Quote | None:
        level = self._books[symbol].asks.best
        return None if level is None else Quote(level.price_fen, level.qty_t)

    def last_price(self, symbol: str) -> int | None:
        price = self._local.last_price_fen.get(symbol)
        if price is None:
            return self._local.instrument(symbol).reference_price_fen
        return price

    def cash_fen(self) -> int:
        return self._cash.get((self._account, _CASH_AVAILABLE), 0)

    def sellable_t(self, symbol: str) -> int:
        return self._market.sellable_t(self._account, UnitCode(symbol))

    def holding_t(self, symbol: str) -> int:
        keys = self._holding_keys.get(symbol)
        if keys is None:
            account = self._account
            keys = self._holding_keys[symbol] = (
                (account, symbol, _AVAILABLE),
                (account, symbol, _HELD),
                (account, symbol, _FROZEN),
            )
        get = self._units.get
        return get(keys[0], 0) + get(keys[1], 0) + get(keys[2], 0)

    def open_orders(self) -> Sequence[OpenOrder]:
        """The account's open orders by order id, as ``engine.open_orders`` lists them, read
        from the engine's own index (no full order view built per order)."""
        open_by_account: dict[Any, dict[Any, Any]] = self._engine._open_by_account
        orders = open_by_account.get(self._account)
        if not orders:
            return []
        found = orders.values() if len(orders) == 1 else sorted(orders.values(), key=_order_id)
        return [
            OpenOrder(o.order_id, o.book.symbol, o.side, o.price_fen, o.leaves_t) for o in found
        ]

    def block(self, symbol: str) -> BlockInfo | None:
        terms = self._local.block_terms(symbol)
        if terms is None:
            return None
        return BlockInfo(terms[0], terms[1], in_session(self._market, self._local.now_ns))

    def block_quotes(self) -> Sequence[BlockQuoteInfo]:
        """The board as the gateway shows it to this account: public quotes, those directed
        to it and its own; a public quote's price hidden from others where the rule set's
        ``board_prices`` is false."""
        me = self._account
        rules = self._market.rules.block
        prices_shown = rules is None or rules.board_prices
        return [
            BlockQuoteInfo(
                q.quote_id,
                q.symbol,
                q.side,
                q.price_fen if prices_shown or q.account_id == me or q.counterparty == me else None,
                q.qty_t,
                q.account_id,
            )
            for q in self._market.block.quotes.values()
            if q.counterparty is None or q.counterparty == me or q.account_id == me
        ]

    def auctions(self) -> Sequence[AuctionInfo]:
        market = self._market
        rules = market.rules.auction
        if rules is None:
            return ()
        now, me = self._local.now_ns, self._account
        found = []
        for auction in market.auctions.auctions.values():
            cap = bidder_cap(market, auction, me)
            found.append(
                AuctionInfo(
                    auction.auction_id,
                    auction.symbol,
                    auction.volume_t,
                    auction.reserve_fen,
                    rules.lot_t,
                    rules.min_bid_t,
                    cap,
                    auction.opens_ns <= now < auction.closes_ns,
                    sum(b.qty_t for b in auction.bids.values() if b.account_id == me),
                )
            )
        return found

    def compliance(self, year: int) -> ComplianceView:
        registry = self._market.registry
        allowances_t, offsets_t = registry.surrendered_t(self._account, year)
        return ComplianceView(
            year,
            registry.verified(self._account, year),
            allowances_t + offsets_t,
            offsets_t,
            registry.offset_cap_t(self._account, year),
            registry.rules.compliance.deadline(year),
        )


def to_commands(
    action: Action,
    account_id: str,
    ts_ns: int,
    *,
    client_order_id: str | None = None,
    op_id: str | None = None,
    on: dt.date | None = None,
) -> list[MarketCommand]:
    """The market commands that carry out ``action`` for ``account_id`` at ``ts_ns``.

    ``client_order_id`` goes on a new order. A surrender is a registry operation and needs
    ``op_id`` (unique in the market) and ``on`` (the date it is submitted, checked against the
    deadline). ``Abate`` is not a market command: it answers ``[]`` and the simulator books
    the abatement (and its cost from the firm's curve) itself.
    """
    account = AccountId(account_id)
    if isinstance(action, Place):
        return [
            PlaceOrder(
                ts_ns,
                account,
                action.symbol,
                action.side,
                action.order_type,
                action.qty_t,
                action.price_fen,
                client_order_id=client_order_id,
            )
        ]
    if isinstance(action, Cancel):
        return [CancelOrder(ts_ns, account, action.order_id)]
    if isinstance(action, BidAuction):
        return [SubmitBid(ts_ns, account, action.auction_id, action.price_fen, action.qty_t)]
    if isinstance(action, Amend):
        return [AmendOrder(ts_ns, account, action.order_id, action.price_fen, action.qty_t)]
    if isinstance(action, CancelAll):
        return [CancelAllOrders(ts_ns, account, action.symbol)]
    if isinstance(action, PostBlock):
        counterparty = None if action.counterparty is None else AccountId(action.counterparty)
        return [
            PostBlockQuote(
                ts_ns,
                account,
                action.symbol,
                action.side,
                action.price_fen,
                action.qty_t,
                counterparty,
            )
        ]
    if isinstance(action, AcceptBlock):
        return [AcceptBlockQuote(ts_ns, account, action.quote_id, action.qty_t)]
    if isinstance(action, CancelBlock):
        return [CancelBlockQuote(ts_ns, account, action.quote_id)]
    if isinstance(action, SurrenderUnits):
        if op_id is None or on is None:
            raise ValueError("a surrender needs op_id and on (the submission date)")
        items = tuple((UnitCode(code), qty) for code, qty in action.items)
        return [RegistryCommand(ts_ns, Surrender(op_id, account, action.year, items, on))]
    if isinstance(action, Abate):
        return []
    raise TypeError(f"not an agent action: {action!r}")
