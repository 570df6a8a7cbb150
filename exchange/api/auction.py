"""Auctions for the gateway: the commands a request becomes and the views the REST routes
(``exchange.api.routes.auctions``) answer. Who sees what: every key of the market sees the
open notices and the published results; a participant its own bids and awards; operators every
bid total, award and the draw's seed."""

from __future__ import annotations

from typing import Any

from exchange.api.auction_models import NewAuction, NewBid
from exchange.api.block import Viewer
from exchange.api.errors import accepted
from exchange.runtime import Ack
from registry_sim.model import AccountId
from registry_sim.rules import BP
from settlement.auction import Clearing
from settlement.auction_desk import Auction, bid_hold_fen, bidder_cap, is_published
from settlement.commands import (
    AmendBid,
    CloseAuction,
    PublishAuction,
    SubmitBid,
    WithdrawBid,
)
from settlement.market import Market
from settlement.outcome import AuctionChange


def publish_command(ts_ns: int, body: NewAuction, seed: int) -> PublishAuction:
    return PublishAuction(
        ts_ns,
        AccountId(body.seller),
        body.symbol,
        body.volume_t,
        body.reserve_fen,
        body.opens_ns,
        body.closes_ns,
        seed,
        body.sale,
    )


def bid_command(ts_ns: int, account: AccountId, auction_id: int, body: NewBid) -> SubmitBid:
    return SubmitBid(ts_ns, account, auction_id, body.price_fen, body.qty_t)


def amend_command(ts_ns: int, account: AccountId, bid_id: int, body: NewBid) -> AmendBid:
    return AmendBid(ts_ns, account, bid_id, body.price_fen, body.qty_t)


def withdraw_command(ts_ns: int, account: AccountId, bid_id: int) -> WithdrawBid:
    return WithdrawBid(ts_ns, account, bid_id)


def close_command(ts_ns: int, auction_id: int, secondary_fen: int | None) -> CloseAuction:
    return CloseAuction(ts_ns, auction_id, secondary_fen)


# ---------------------------------------------------------------------- views


def board(market: Market, viewer: Viewer, now_ns: int) -> dict[str, Any]:
    """``listAuctions``: the notices not yet cleared, oldest first."""
    auctions = market.auctions.auctions
    fixed = ["reserve", "ceiling"] if market.rules.price_control is not None else []
    return {
        "offered": market.rules.auction is not None,
        "sales": ["auction", *fixed] if market.rules.auction is not None else [],
        "auctions": [notice(market, auctions[n], viewer, now_ns) for n in sorted(auctions)],
    }


def notice(market: Market, auction: Auction, viewer: Viewer, now_ns: int) -> dict[str, Any]:
    rules = market.rules.auction
    assert rules is not None
    cap = bidder_cap(market, auction, viewer.account_id or "")
    view: dict[str, Any] = {
        "auction_id": auction.auction_id,
        "seller": auction.seller,
        "symbol": auction.symbol,
        "sale": auction.sale,
        "volume_t": auction.volume_t,
        "reserve_fen": auction.reserve_fen,
        "opens_ns": auction.opens_ns,
        "closes_ns": auction.closes_ns,
        "open_now": auction.opens_ns <= now_ns < auction.closes_ns,
        "lot_t": rules.lot_t,
        "min_bid_t": rules.min_bid_t,
        "max_share_bp": rules.max_share_bp,
        "covered_max_share_bp": rules.covered_max_share_bp,
        "cap_t": cap,
        "collateral": rules.collateral,
        "results_lag_days": rules.results_lag_days,
        "bids_revocable": rules.bids_revocable,
        "pricing": rules.pricing,
        "tie_break": rules.tie_break,
    }
    bids = sorted(auction.bids.values(), key=lambda b: b.bid_id)
    if viewer.operator:
        bid_t = sum(b.qty_t for b in bids)
        view |= {
            "bid_t": bid_t,
            "bidders": len({b.account_id for b in bids}),
            "cover_bp": bid_t * BP // auction.volume_t,
            "seed": auction.seed,
        }
    view["bids"] = [
        bid_view(b.bid_id, b.account_id, b.price_fen, b.qty_t)
        for b in bids
        if viewer.operator or b.account_id == viewer.account_id
    ]
    if viewer.account_id is not None:
        own = [b for b in bids if b.account_id == viewer.account_id]
        view["held_fen"] = bid_hold_fen(rules, own)
    return view


def bid_view(bid_id: int, account_id: str, price_fen: int, qty_t: int) -> dict[str, Any]:
    return {
        "bid_id": bid_id,
        "account_id": account_id,
        "price_fen": price_fen,
        "qty_t": qty_t,
        "held_fen": price_fen * qty_t,
    }


def results(market: Market, viewer: Viewer) -> dict[str, Any]:
    """``listAuctionResults``: every auction cleared or cancelled, latest first; for anyone
    but operators only those published (the rule set's ``results_lag_days`` after)."""
    done = market.auctions.results
    views = []
    for auction, result in (done[n] for n in sorted(done, reverse=True)):
        published = is_published(market, auction)
        if published or viewer.operator:
            views.append(result_view(auction, result, viewer, published=published))
    return {"results": views}


def result_view(
    auction: Auction,
    result: Clearing,
    viewer: Viewer,
    seq: int | None = None,
    *,
    published: bool = True,
) -> dict[str, Any]:
    return {
        "auction_id": auction.auction_id,
        "seq": seq,
        "symbol": auction.symbol,
        "seller": auction.seller,
        "published": published,
        **result.figures(),
        "awards": [
            {
                "bid_id": a.bid_id,
                "account_id": a.account_id,
                "qty_t": a.qty_t,
                "price_fen": a.price_fen,
            }
            for a in result.awards
            if viewer.operator or a.account_id == viewer.account_id
        ],
    }


# ---------------------------------------------------------------------- replies


def published_notice(market: Market, auction_id: int, now_ns: int) -> dict[str, Any]:
    """``publishAuction``'s notice as operators see it, read once the notice is durable (the
    reserve price may have come from the rule set)."""
    auction = market.auctions.auctions.get(auction_id)
    if auction is None:  # cleared already: a window that had closed by the day's close
        auction = market.auctions.results[auction_id][0]
    return notice(market, auction, Viewer(None, operator=True), now_ns)


def change_of(ack: Ack) -> AuctionChange:
    (change,) = accepted(ack).outcome.auction_changes
    return change


def placed(ack: Ack, body: NewBid, account: str) -> dict[str, Any]:
    change = change_of(ack)
    assert change.bid_id is not None
    return {
        "seq": ack.seq,
        "auction_id": change.auction_id,
        "bid": bid_view(change.bid_id, account, body.price_fen, body.qty_t),
    }


def amended(ack: Ack, bid_id: int, body: NewBid, account: str) -> dict[str, Any]:
    """``amendBid``'s reply: the new bid (a new id) in place of ``bid_id``."""
    return {**placed(ack, body, account), "replaced_bid_id": bid_id}


def withdrawn(ack: Ack) -> dict[str, Any]:
    change = change_of(ack)
    return {
        "seq": ack.seq,
        "auction_id": change.auction_id,
        "bid_id": change.bid_id,
        "status": "withdrawn",
    }


def closed_result(market: Market, auction_id: int, seq: int) -> dict[str, Any]:
    """``closeAuction``'s reply: the result as operators see it, read once it is durable."""
    auction, result = market.auctions.results[auction_id]
    return result_view(
        auction, result, Viewer(None, operator=True), seq, published=is_published(market, auction)
    )
