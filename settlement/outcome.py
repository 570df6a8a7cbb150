"""What a market command produced: the engine's events, settlement's postings and fills, the
day's clearing results, or the refusal. The runtime journals these as projections."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from matching.events import Event, TradeExecuted
from matching.record import Record
from matching.types import Side

Details = Mapping[str, Any]
_NO_DETAILS: Details = MappingProxyType({})


class MarketPosting(Record):
    """One movement of cash (``asset`` = ``CNY``, amount in fen) or units (``asset`` = unit
    code, amount in tonnes) between (account, state) pairs. A record like the engine's
    events (docs/adr/0001): one is built for every hold, release and delivery."""

    __match_args__ = (
        "posting_id",
        "asset",
        "amount",
        "from_account",
        "from_state",
        "to_account",
        "to_state",
        "ref",
    )
    __slots__ = __match_args__

    posting_id: Final[int]
    asset: Final[str]
    amount: Final[int]
    from_account: Final[str]
    from_state: Final[str]
    to_account: Final[str]
    to_state: Final[str]
    ref: Final[str]  # what caused it: order:ID, trade:ID, op:ID, deposit:REF, withdraw:REF

    def __init__(
        self,
        posting_id: int,
        asset: str,
        amount: int,
        from_account: str,
        from_state: str,
        to_account: str,
        to_state: str,
        ref: str,
    ) -> None:
        self.posting_id = posting_id
        self.asset = asset
        self.amount = amount
        self.from_account = from_account
        self.from_state = from_state
        self.to_account = to_account
        self.to_state = to_state
        self.ref = ref


class Fill(Record):
    """A trade and the fees its two sides paid (delivery versus payment, 券款对付)."""

    __match_args__ = ("trade", "buy_fee_fen", "sell_fee_fen")
    __slots__ = __match_args__

    trade: Final[TradeExecuted]
    buy_fee_fen: Final[int]
    sell_fee_fen: Final[int]

    def __init__(self, trade: TradeExecuted, buy_fee_fen: int, sell_fee_fen: int) -> None:
        self.trade = trade
        self.buy_fee_fen = buy_fee_fen
        self.sell_fee_fen = sell_fee_fen


class Close(NamedTuple):
    """An instrument's day: the close (收盘价) and what it came from."""

    symbol: str
    close_fen: int
    open_fen: int | None
    high_fen: int | None
    low_fen: int | None
    volume_t: int
    turnover_fen: int
    method: str  # "vwap", "open" (small volume), "previous" (no listed trade)


class Statement(NamedTuple):
    """An account's daily statement (日结单), as plain values."""

    trading_day: dt.date
    account_id: str
    body: Mapping[str, Any]


class LargeHolderReport(NamedTuple):
    """A position above the rule set's reporting threshold (大户报告)."""

    account_id: str
    position_t: int
    threshold_t: int


class BlockDeal(NamedTuple):
    """A block agreement deal (大宗协议成交), settled like a listed trade but off the book.
    ``negotiation_id`` is None for a quote accepted at its terms."""

    deal_id: int
    ts_ns: int
    symbol: str
    price_fen: int
    qty_t: int
    buy_account_id: str
    sell_account_id: str
    buy_fee_fen: int
    sell_fee_fen: int
    quote_id: int
    negotiation_id: int | None


class BlockQuoteState(NamedTuple):
    """A block quote as it stood after a change (``qty_t``: what was left of it then)."""

    quote_id: int
    account_id: str  # the poster
    symbol: str
    side: Side
    price_fen: int
    qty_t: int
    counterparty: str | None  # a directed quote's one counterparty
    ts_ns: int  # when it was posted


class BlockNegotiationState(NamedTuple):
    """A negotiation (or an acceptance, a negotiation of one round) as it stood after a
    change: its latest terms and who proposed them."""

    negotiation_id: int
    quote_id: int
    opener: str
    price_fen: int
    qty_t: int
    proposer: str
    ts_ns: int  # of the latest terms
    rounds: int


class BlockChange(NamedTuple):
    """What changed on the block board: ``what`` a quote or negotiation became (posted,
    opened, countered, dealt, done, closed, cancelled, ended, expired), and whose step; the
    quote and the negotiation as they stood after it, for the feeds and the replies (the
    market has moved on by the time they are told)."""

    what: str
    quote_id: int
    negotiation_id: int | None
    account_id: str
    quote: BlockQuoteState
    negotiation: BlockNegotiationState | None


class AuctionChange(NamedTuple):
    """What happened to an auction: ``what`` (published, bid, withdrawn, cleared,
    cancelled), the auction, the bid if a bid's step, whose step, and the result once it
    cleared or was cancelled (a ``settlement.auction.Clearing``)."""

    what: str
    auction_id: int
    bid_id: int | None
    account_id: str
    result: Any = None


class Outcome:
    """The result of one command. ``code`` is set when it was refused (then nothing changed);
    ``repeated`` when it repeated a client order id or an operation id and the original result
    stands. A plain slotted class: one is built per command, on the hot path, and the rarely
    used parts (closes, statements, reports) stay shared empty tuples until a command has some.
    """

    __slots__ = (
        "auction_changes",
        "block_changes",
        "block_deals",
        "closes",
        "code",
        "details",
        "events",
        "fills",
        "kind",
        "order_id",
        "postings",
        "repeated",
        "reports",
        "statements",
    )

    def __init__(
        self,
        kind: str,
        code: str | None = None,
        details: Details = _NO_DETAILS,
        order_id: int | None = None,
        repeated: bool = False,
        events: list[Event] | None = None,
    ) -> None:
        self.kind = kind
        self.code = code
        self.details = details
        self.order_id = order_id
        self.repeated = repeated
        self.events: list[Event] = [] if events is None else events
        self.postings: list[MarketPosting] = []
        self.fills: list[Fill] = []
        self.closes: Sequence[Close] = ()
        self.statements: Sequence[Statement] = ()
        self.reports: Sequence[LargeHolderReport] = ()
        self.block_deals: Sequence[BlockDeal] = ()
        self.block_changes: Sequence[BlockChange] = ()
        self.auction_changes: Sequence[AuctionChange] = ()

    @property
    def ok(self) -> bool:
        return self.code is None

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in ("kind", "code", "details", "order_id", "repeated")
            if getattr(self, name) not in (None, False, _NO_DETAILS)
        )
        counts = ", ".join(
            f"{name}={len(getattr(self, name))}"
            for name in (
                "events",
                "postings",
                "fills",
                "closes",
                "statements",
                "reports",
                "block_deals",
                "block_changes",
            )
            if getattr(self, name)
        )
        return f"Outcome({shown}{', ' if counts else ''}{counts})"


def refused(command: str, code: str, **details: Any) -> Outcome:
    """The outcome of a refused command: its code and the numbers behind it."""
    return Outcome(command, code=code, details=details)
