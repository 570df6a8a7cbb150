"""What the auction operations answer (``listAuctions``, ``publishAuction``, ``submitBid``,
``amendBid``, ``withdrawBid``, ``closeAuction``, ``listAuctionResults``), as TypedDicts like
``types``."""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict


class AuctionBid(TypedDict):
    bid_id: int
    account_id: str
    price_fen: int
    qty_t: int
    held_fen: int


class AuctionNotice(TypedDict):
    auction_id: int
    seller: str
    symbol: str
    sale: Literal["auction", "reserve", "ceiling"]
    volume_t: int
    reserve_fen: int | None
    opens_ns: int
    closes_ns: int
    open_now: bool
    lot_t: int
    min_bid_t: int
    max_share_bp: int | None
    cap_t: int | None
    covered_max_share_bp: NotRequired[int | None]  # a covered entity's, where it differs
    collateral: Literal["full", "guarantee"]
    results_lag_days: int
    bids_revocable: bool
    pricing: str
    tie_break: str
    bid_t: NotRequired[int | None]  # operators only
    bidders: NotRequired[int | None]
    cover_bp: NotRequired[int | None]
    seed: NotRequired[int | None]
    bids: list[AuctionBid]  # a participant's own; an operator's all
    held_fen: NotRequired[int | None]  # a participant's: what its bids here hold in all


class AuctionBoard(TypedDict):
    offered: bool
    sales: list[Literal["auction", "reserve", "ceiling"]]
    auctions: list[AuctionNotice]


class AuctionPublished(TypedDict):
    seq: int
    auction: AuctionNotice


class BidPlaced(TypedDict):
    seq: int
    auction_id: int
    bid: AuctionBid


class BidAmended(TypedDict):
    seq: int
    auction_id: int
    replaced_bid_id: int
    bid: AuctionBid  # the bid that now stands, with a new id


class BidWithdrawn(TypedDict):
    seq: int
    auction_id: int
    bid_id: int
    status: Literal["withdrawn"]


class AuctionAward(TypedDict):
    bid_id: int
    account_id: str
    qty_t: int
    price_fen: int


class AuctionResult(TypedDict):
    auction_id: int
    seq: NotRequired[int | None]  # closeAuction's reply only
    symbol: str
    seller: str
    published: bool  # false (operators only): the rule set's results lag has not passed
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


class AuctionResults(TypedDict):
    results: list[AuctionResult]
