"""What the block agreement trading operations answer (``listBlockQuotes``,
``postBlockQuote``, ``acceptBlockQuote``, ``listBlockNegotiations``, ``listBlockDeals``, ...),
as TypedDicts like ``types``."""

from __future__ import annotations

from typing import Literal, TypedDict

from exchange.client.types import Side


class BlockQuote(TypedDict):
    quote_id: int
    symbol: str
    side: Side
    price_fen: int | None  # None: hidden from the caller (the rule set hides board prices)
    qty_t: int  # what is left to deal
    account_id: str  # the poster
    counterparty: str | None  # a directed quote's, shown to its parties and operators
    ts_ns: int
    mine: bool


class BlockBand(TypedDict):
    symbol: str
    reference_price_fen: int
    lower_fen: int
    upper_fen: int


class BlockBoard(TypedDict):
    offered: bool
    trading_day: str | None
    min_qty_t: int | None
    band_bp: int | None
    sessions: list[list[str]]
    timezone: str
    open_now: bool
    directed: bool
    board_prices: bool
    bands: list[BlockBand]
    quotes: list[BlockQuote]
    negotiations_open: int | None  # operators: the market's open negotiations; others None


class BlockQuotePosted(TypedDict):
    seq: int
    quote: BlockQuote


class BlockQuoteCancelled(TypedDict):
    seq: int
    quote_id: int
    status: Literal["cancelled"]
    negotiations_ended: list[int]


class BlockNegotiation(TypedDict):
    negotiation_id: int
    quote_id: int
    symbol: str
    side: Side  # the caller's side
    role: Literal["poster", "opener"]
    counterparty: str
    price_fen: int
    qty_t: int
    proposed_by: str
    my_turn: bool
    rounds: int
    ts_ns: int


class BlockNegotiations(TypedDict):
    account_id: str
    negotiations: list[BlockNegotiation]


class BlockNegotiationStep(TypedDict):
    seq: int
    negotiation: BlockNegotiation


class BlockNegotiationEnded(TypedDict):
    seq: int
    negotiation_id: int
    status: Literal["ended"]


class BlockDeal(TypedDict):
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
    negotiation_id: int | None  # None: accepted at the quote's terms


class BlockDeals(TypedDict):
    deals: list[BlockDeal]  # most recent first
