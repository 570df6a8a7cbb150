"""Auctions' request bodies and replies (``exchange.api.routes.auctions``). Bodies are strict
and closed like every other (``exchange.api.models.Body``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from exchange.api.models import AccountIdText, Body, Fen, Reply, Symbol, Tonnes

MarketNs = Annotated[int, Field(ge=0, le=2**63 - 1)]

# -- bodies


class NewAuction(Body):
    """An auction notice: ``seller`` offers ``volume_t`` of ``symbol``, bids taken from
    ``opens_ns`` until ``closes_ns`` (market time, inside one trading day); ``reserve_fen``
    none: the rule set's reserve rule; ``seed`` none: drawn by the server."""

    seller: AccountIdText
    symbol: Symbol
    volume_t: Tonnes
    reserve_fen: Fen | None = None
    opens_ns: MarketNs
    closes_ns: MarketNs
    seed: Annotated[int, Field(ge=0, le=2**62)] | None = None
    # A fixed-price sale to covered entities (California-Québec): at a reserve tier's price
    # (``reserve_fen``; none: the lowest tier) or at the year's price ceiling.
    sale: Literal["auction", "reserve", "ceiling"] = "auction"


class NewBid(Body):
    price_fen: Fen
    qty_t: Tonnes


class ClosingTerms(Body):
    """``secondary_fen``: the secondary market's price the rule set's cancellation compares
    with (none: the instrument's previous close)."""

    secondary_fen: Fen | None = None


# -- replies


class AuctionBid(Reply):
    bid_id: int
    account_id: str
    price_fen: int
    qty_t: int
    held_fen: int  # its value, price × quantity: what it holds where collateral is full


class AuctionNotice(Reply):
    """An auction not yet cleared, with the rule set's terms for bids. Operators also see the
    bids so far (``bid_t``, ``bidders``, ``cover_bp``) and the draw's ``seed``; a participant
    its own ``bids``."""

    auction_id: int
    seller: str
    symbol: str
    sale: Literal["auction", "reserve", "ceiling"]  # reserve, ceiling: at reserve_fen only
    volume_t: int
    reserve_fen: int | None
    opens_ns: int
    closes_ns: int
    open_now: bool
    lot_t: int
    min_bid_t: int
    max_share_bp: int | None
    covered_max_share_bp: int | None = None  # a covered entity's, where it differs
    cap_t: int | None  # the viewer's (a participant's by its kind; others': a non-covered one's)
    collateral: Literal["full", "guarantee"]
    results_lag_days: int
    bids_revocable: bool
    pricing: str
    tie_break: str
    bid_t: int | None = None
    bidders: int | None = None
    cover_bp: int | None = None
    seed: int | None = None
    bids: list[AuctionBid]
    held_fen: int | None = None  # a participant's: what its bids here hold in all


class AuctionBoard(Reply):
    """The market's auctions not yet cleared (``offered: false``: the rule set has none)."""

    offered: bool
    sales: list[Literal["auction", "reserve", "ceiling"]]  # what publishAuction's sale may be
    auctions: list[AuctionNotice]


class AuctionPublished(Reply):
    seq: int
    auction: AuctionNotice


class BidPlaced(Reply):
    seq: int
    auction_id: int
    bid: AuctionBid


class BidAmended(Reply):
    """``amendBid``'s reply: the bid that now stands, with a new id, in place of
    ``replaced_bid_id``."""

    seq: int
    auction_id: int
    replaced_bid_id: int
    bid: AuctionBid


class BidWithdrawn(Reply):
    seq: int
    auction_id: int
    bid_id: int
    status: Literal["withdrawn"]


class AuctionAward(Reply):
    bid_id: int
    account_id: str
    qty_t: int
    price_fen: int


class AuctionResult(Reply):
    """A cleared or cancelled auction's published result: the clearing price, the volume
    sold, the cover ratio (``cover_bp``: valid bids over the volume), the number of bidders
    and winners, the revenue. A participant sees its own ``awards``; operators every one."""

    auction_id: int
    seq: int | None = None
    symbol: str
    seller: str
    published: bool  # false (operators only): before the rule set's results lag has passed
    status: Literal["cleared", "cancelled"]
    reason: str | None
    price_fen: int | None
    volume_t: int
    bid_t: int
    cover_bp: int
    sold_t: int
    unsold_t: int
    bidders: int
    winners: int
    revenue_fen: int
    awards: list[AuctionAward]


class AuctionResults(Reply):
    results: list[AuctionResult]
