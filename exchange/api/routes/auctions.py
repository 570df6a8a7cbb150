"""Auctions (拍卖, docs/auctions.md) under ``/v1/markets/{market_id}/auctions``: an operator
publishes a notice (``publishAuction``) and closes it once its window has closed
(``closeAuction``); every key of the market reads the open notices (``listAuctions``) and the
published results (``listAuctionResults``); a participant bids (``submitBid``) and, where the
rule set allows it, amends a bid (``amendBid``) or withdraws it (``withdrawBid``). Reads come
from the market's memory once durable (``MarketRuntime.read``); refusals are the market's,
with their numbers (docs/api-errors.md, ``AUCTION_*``).
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Path

from exchange.api import auction, block
from exchange.api.auction_models import (
    AuctionBoard,
    AuctionPublished,
    AuctionResult,
    AuctionResults,
    BidAmended,
    BidPlaced,
    BidWithdrawn,
    ClosingTerms,
    NewAuction,
    NewBid,
)
from exchange.api.auth import trading_account
from exchange.api.common import PROBLEMS
from exchange.api.deps import CurrentPrincipal, MarketId, OperatorRuntime, Runtime
from registry_sim.model import AccountId

router = APIRouter(prefix="/v1/markets/{market_id}/auctions", tags=["auctions"], responses=PROBLEMS)

AuctionId = Annotated[int, Path(ge=1, le=2**63 - 1)]
BidId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("", operation_id="listAuctions", response_model=AuctionBoard)
async def list_auctions(market_id: MarketId, who: CurrentPrincipal, runtime: Runtime) -> Any:
    """The auctions not yet cleared, oldest first, with the rule set's terms for bids (lot,
    least bid, a bidder's cap, whether bids may be withdrawn); a participant's own bids with
    what each holds; for operators every bid total, the cover so far and the draw's seed."""
    viewer = block.viewer_of(who)
    now_ns = runtime.now_ns()
    return await runtime.read(lambda market: auction.board(market, viewer, now_ns))


@router.post("", operation_id="publishAuction", status_code=201, response_model=AuctionPublished)
async def publish_auction(market_id: MarketId, body: NewAuction, runtime: OperatorRuntime) -> Any:
    """Publish an auction notice (operators): ``seller`` offers ``volume_t`` (held from now
    until the auction clears), bids taken from ``opens_ns`` until ``closes_ns``, at or above
    ``reserve_fen`` (none: the rule set's reserve rule, e.g. 1.2 × the listed VWAP).
    ``seed`` fixes the draw for ties (none: drawn by the server); operators see it."""
    seed = body.seed if body.seed is not None else secrets.randbits(62)
    ack = await runtime.submit(auction.publish_command(runtime.now_ns(), body, seed))
    auction_id = auction.change_of(ack).auction_id
    now_ns = runtime.now_ns()
    notice = await runtime.read(lambda m: auction.published_notice(m, auction_id, now_ns))
    return {"seq": ack.seq, "auction": notice}


@router.post(
    "/{auction_id}/bids", operation_id="submitBid", status_code=201, response_model=BidPlaced
)
async def submit_bid(
    market_id: MarketId,
    auction_id: AuctionId,
    body: NewBid,
    who: CurrentPrincipal,
    runtime: Runtime,
) -> Any:
    """A sealed bid (participants) in the window: its whole value (price × quantity) held in
    cash until the auction clears."""
    account = AccountId(trading_account(who))
    command = auction.bid_command(runtime.now_ns(), account, auction_id, body)
    return auction.placed(await runtime.submit(command), body, account)


@router.put("/bids/{bid_id}", operation_id="amendBid", response_model=BidAmended)
async def amend_bid(
    market_id: MarketId, bid_id: BidId, body: NewBid, who: CurrentPrincipal, runtime: Runtime
) -> Any:
    """Replace an own bid by one at a new price and quantity in the window, where the rule
    set's bids are revocable (EU): checked as a new bid, it takes a new bid id (and so a new
    time of entry); the hold grows or shrinks to what the bids then need."""
    account = AccountId(trading_account(who))
    command = auction.amend_command(runtime.now_ns(), account, bid_id, body)
    return auction.amended(await runtime.submit(command), bid_id, body, account)


@router.delete("/bids/{bid_id}", operation_id="withdrawBid", response_model=BidWithdrawn)
async def withdraw_bid(
    market_id: MarketId, bid_id: BidId, who: CurrentPrincipal, runtime: Runtime
) -> Any:
    """Withdraw an own bid in the window, where the rule set's bids are revocable (EU); its
    hold is released."""
    account = AccountId(trading_account(who))
    command = auction.withdraw_command(runtime.now_ns(), account, bid_id)
    return auction.withdrawn(await runtime.submit(command))


@router.post("/{auction_id}/close", operation_id="closeAuction", response_model=AuctionResult)
async def close_auction(
    market_id: MarketId,
    auction_id: AuctionId,
    body: ClosingTerms,
    runtime: OperatorRuntime,
) -> Any:
    """Clear an auction whose window has closed (operators): the awards are delivered against
    payment, the rest released; the result with every award. An auction left open is cleared
    at the day's close anyway."""
    command = auction.close_command(runtime.now_ns(), auction_id, body.secondary_fen)
    ack = await runtime.submit(command)
    auction.change_of(ack)
    return await runtime.read(lambda m: auction.closed_result(m, auction_id, ack.seq))


@router.get("/results", operation_id="listAuctionResults", response_model=AuctionResults)
async def list_auction_results(market_id: MarketId, who: CurrentPrincipal, runtime: Runtime) -> Any:
    """Every auction cleared or cancelled, latest first: the clearing price, volume sold,
    cover ratio, bidders, winners and revenue; a participant's own awards, an operator's all."""
    viewer = block.viewer_of(who)
    return await runtime.read(lambda market: auction.results(market, viewer))
