"""The auction operations (``exchange.api.routes.auctions``), as ``Call`` builders for both
clients: operators publish and close, participants bid, amend and withdraw, every key reads."""

from __future__ import annotations

from exchange.client.auction_types import (
    AuctionBoard,
    AuctionPublished,
    AuctionResult,
    AuctionResults,
    BidAmended,
    BidPlaced,
    BidWithdrawn,
)
from exchange.client.operation import OperationsBase, fields, operation
from exchange.client.transport import Call


class AuctionOperations(OperationsBase):
    @operation("listAuctions")
    def list_auctions(self) -> Call[AuctionBoard]:
        """The auctions not yet cleared, with the terms for bids and the caller's own bids."""
        return Call("GET", self._market("/auctions"))

    @operation("publishAuction")
    def publish_auction(
        self,
        seller: str,
        symbol: str,
        volume_t: int,
        opens_ns: int,
        closes_ns: int,
        *,
        reserve_fen: int | None = None,
        seed: int | None = None,
        sale: str = "auction",
    ) -> Call[AuctionPublished]:
        """Publish an auction notice (operators); ``reserve_fen`` None: the rule set's rule.
        ``sale`` ``reserve`` or ``ceiling``: a fixed-price sale to covered entities at a tier
        price or the ceiling (California-Québec)."""
        body = fields(
            seller=seller,
            symbol=symbol,
            volume_t=volume_t,
            opens_ns=opens_ns,
            closes_ns=closes_ns,
            reserve_fen=reserve_fen,
            seed=seed,
            sale=None if sale == "auction" else sale,
        )
        return Call("POST", self._market("/auctions"), body=body)

    @operation("submitBid")
    def submit_bid(self, auction_id: int, price_fen: int, qty_t: int) -> Call[BidPlaced]:
        """A sealed bid: its value held in cash until the auction clears."""
        body = {"price_fen": price_fen, "qty_t": qty_t}
        return Call("POST", self._market(f"/auctions/{auction_id}/bids"), body=body)

    @operation("amendBid")
    def amend_bid(self, bid_id: int, price_fen: int, qty_t: int) -> Call[BidAmended]:
        """Replace an own bid in the window, where bids are revocable: the new bid (a new id)
        and what it holds."""
        body = {"price_fen": price_fen, "qty_t": qty_t}
        return Call("PUT", self._market(f"/auctions/bids/{bid_id}"), body=body)

    @operation("withdrawBid")
    def withdraw_bid(self, bid_id: int) -> Call[BidWithdrawn]:
        return Call("DELETE", self._market(f"/auctions/bids/{bid_id}"))

    @operation("closeAuction")
    def close_auction(
        self, auction_id: int, *, secondary_fen: int | None = None
    ) -> Call[AuctionResult]:
        """Clear an auction whose window has closed (operators): the result."""
        body = fields(secondary_fen=secondary_fen)
        return Call("POST", self._market(f"/auctions/{auction_id}/close"), body=body)

    @operation("listAuctionResults")
    def list_auction_results(self) -> Call[AuctionResults]:
        return Call("GET", self._market("/auctions/results"))
