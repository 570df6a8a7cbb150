"""Block agreement trading's request bodies and replies (``exchange.api.routes.block``).
Bodies are strict and closed like every other (``exchange.api.models.Body``)."""

from __future__ import annotations

from typing import Literal

from exchange.api.models import AccountIdText, Body, Fen, Reply, Symbol, Tonnes
from matching.types import Side

# -- bodies


class NewBlockQuote(Body):
    """A block quote (大宗报价): public, or directed to one ``counterparty`` account."""

    symbol: Symbol
    side: Literal["buy", "sell"]
    price_fen: Fen
    qty_t: Tonnes
    counterparty: AccountIdText | None = None


class BlockAcceptance(Body):
    qty_t: Tonnes | None = None  # none: all that is left of the quote


class BlockTerms(Body):
    """A price and quantity: a negotiation's opening or counter terms, or the terms a
    confirmation agrees to (as the confirmer saw them)."""

    price_fen: Fen
    qty_t: Tonnes


# -- replies


class BlockQuote(Reply):
    """A quote on the block board as the key sees it: ``price_fen`` None where the rule set
    hides board prices from all but the quote's parties; ``counterparty`` (a directed
    quote's) shown to its parties and operators only."""

    quote_id: int
    symbol: str
    side: Side
    price_fen: int | None
    qty_t: int  # what is left to deal
    account_id: str  # the poster
    counterparty: str | None
    ts_ns: int  # posted
    mine: bool


class BlockBand(Reply):
    """Today's block band of one instrument: the previous listed close ± the mode's band."""

    symbol: str
    reference_price_fen: int
    lower_fen: int
    upper_fen: int


class BlockBoard(Reply):
    """The block board with the mode's limits, for screens. A market whose rule set offers no
    block trading answers ``offered: false`` and nothing else of note."""

    offered: bool
    trading_day: str | None
    min_qty_t: int | None
    band_bp: int | None  # the block band around the previous listed close (national 3,000: ±30 %)
    sessions: list[list[str]]  # [["13:00", "15:00"]], local times
    timezone: str
    open_now: bool  # the block session is open at the market's time now
    directed: bool  # a quote may name its counterparty
    board_prices: bool  # public quotes show their price to everyone
    bands: list[BlockBand]
    quotes: list[BlockQuote]  # oldest first
    negotiations_open: int | None  # operators: the market's open negotiations; others None


class BlockQuotePosted(Reply):
    seq: int
    quote: BlockQuote


class BlockQuoteCancelled(Reply):
    seq: int
    quote_id: int
    status: Literal["cancelled"]
    negotiations_ended: list[int]  # the negotiations on it, ended with it


class BlockNegotiation(Reply):
    """A negotiation (对话议价) as one of its two parties sees it."""

    negotiation_id: int
    quote_id: int
    symbol: str
    side: Side  # the caller's side of the deal it would make
    role: Literal["poster", "opener"]  # the caller posted the quote, or opened the dialogue
    counterparty: str  # the other party
    price_fen: int  # the latest terms
    qty_t: int
    proposed_by: str  # whose terms they are: the other side confirms or counters
    my_turn: bool
    rounds: int
    ts_ns: int  # of the latest terms


class BlockNegotiations(Reply):
    account_id: str
    negotiations: list[BlockNegotiation]


class BlockNegotiationStep(Reply):
    seq: int
    negotiation: BlockNegotiation


class BlockNegotiationEnded(Reply):
    seq: int
    negotiation_id: int
    status: Literal["ended"]


class BlockDeal(Reply):
    """A block deal (大宗协议成交), settled by delivery versus payment with T+N like a listed
    trade. ``negotiation_id`` None: the quote was accepted at its terms."""

    deal_id: int
    seq: int
    ts_ns: int
    trading_day: str
    symbol: str
    price_fen: int
    qty_t: int
    buy_account_id: str
    sell_account_id: str
    buy_fee_fen: int
    sell_fee_fen: int
    quote_id: int
    negotiation_id: int | None


class BlockDeals(Reply):
    deals: list[BlockDeal]  # most recent first
