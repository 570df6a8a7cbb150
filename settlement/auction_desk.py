"""The market's auctions (docs/auctions.md): a notice holds what its seller offers, bids hold
their whole value in cash, and at the window's end the auction clears (``settlement.auction``)
and settles by delivery versus payment out of those holds.

- ``PublishAuction`` (operators): the seller (a participant, or the authority's account for
  paid allocation: ``SYS:NATIONAL`` holds what it will sell) must hold the volume; it is held
  (``auction:A<id>``) until the auction clears. Its terms: a volume in whole lots of the rule
  set's ``[auction]``, a window inside one trading day, a reserve price or none.
- ``SubmitBid``: in the window, by a trading account other than the seller; a price on the
  tick and at or above the reserve, a quantity in lots and at least the least bid, the
  bidder's bids in all within its cap; its value (price × quantity) held in cash.
- ``WithdrawBid``: the bidder's own, in the window, where bids are revocable.
- ``CloseAuction``: once the window has closed. Each award moves its cash from the winner's
  hold to the seller and its units from the seller's hold to the winner (sellable after the
  rule set's delivery lag); what the winner held beyond what it pays is released, and so is
  what is unsold (the seller keeps it, whatever the rule set then does with it: a reserve,
  the next auctions). An auction still open at the day's close is cleared then.

No fee is charged on auctions. Module-level functions taking the market, as ``block.py``; the
desk (``AuctionDesk``) is the market's auction state.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, field
from typing import TYPE_CHECKING

from registry_sim.model import AccountId, HoldingState, UnitCode
from registry_sim.rules import BP, AuctionRules
from settlement.auction import Bid, Clearing, Offering, clear, clearing_rules, rule_reserve_price
from settlement.cash import CashState
from settlement.codes import SettlementCode
from settlement.commands import CloseAuction, PublishAuction, SubmitBid, WithdrawBid
from settlement.outcome import AuctionChange, Outcome, refused

if TYPE_CHECKING:
    from settlement.market import Market

AVAILABLE = HoldingState.AVAILABLE
HELD = HoldingState.HELD
CASH_AVAILABLE = CashState.AVAILABLE
CASH_HELD = CashState.HELD


@dataclass(slots=True)
class Auction:
    """A published auction until it clears."""

    auction_id: int
    seller: AccountId
    symbol: str
    volume_t: int
    reserve_fen: int | None
    opens_ns: int
    closes_ns: int
    seed: int
    bids: dict[int, Bid] = field(default_factory=dict)  # open bids by id


@dataclass(slots=True)
class AuctionDesk:
    """The market's auctions not yet cleared, the next ids, and those cleared or cancelled
    with their bids as they stood and their result."""

    auctions: dict[int, Auction] = field(default_factory=dict)
    last_auction_id: int = 0
    last_bid_id: int = 0
    results: dict[int, tuple[Auction, Clearing]] = field(default_factory=dict)

    def digest(self) -> object:
        return (
            [_auction_digest(a) for _, a in sorted(self.auctions.items())],
            (self.last_auction_id, self.last_bid_id),
            [(n, _auction_digest(a), c) for n, (a, c) in sorted(self.results.items())],
        )

    def auction_of(self, bid_id: int) -> Auction | None:
        return next((a for a in self.auctions.values() if bid_id in a.bids), None)


def _auction_digest(auction: Auction) -> tuple[tuple[object, ...], list[tuple[object, ...]]]:
    return astuple(auction)[:-1], sorted(astuple(b) for b in auction.bids.values())


# ---------------------------------------------------------------------- commands


def publish(market: Market, cmd: PublishAuction) -> Outcome:
    kind = "publish_auction"
    rules = _offered(market, kind)
    if isinstance(rules, Outcome):
        return rules
    instrument = market.instruments.get(cmd.symbol)
    if instrument is None:
        return refused(kind, SettlementCode.UNKNOWN_INSTRUMENT, symbol=cmd.symbol)
    problem = _notice_problem(market, cmd, rules, instrument.tick_fen)
    reserve = cmd.reserve_fen
    if problem is None and reserve is None:
        reserve = _rule_reserve(market, rules, instrument.tick_fen)
        if reserve is None and rules.reserve.kind == "vwap":
            problem = "no listed trade in the reserve price's window: state a reserve price"
    if problem is not None:
        return refused(kind, SettlementCode.AUCTION_BAD_NOTICE, problem=problem)
    if market.registry.account(cmd.seller) is None:
        return refused(kind, SettlementCode.UNKNOWN_ACCOUNT, account_id=cmd.seller)
    unit = UnitCode(cmd.symbol)
    refusal = market._check_units(kind, cmd.seller, unit, cmd.volume_t)
    if refusal is not None:
        return refusal
    desk = market.auctions
    desk.last_auction_id += 1
    auction = Auction(
        desk.last_auction_id,
        cmd.seller,
        cmd.symbol,
        cmd.volume_t,
        reserve,
        cmd.opens_ns,
        cmd.closes_ns,
        cmd.seed,
    )
    outcome = market._outcome = Outcome(kind)
    ref = f"auction:A{auction.auction_id}"
    market._post_units(ref, unit, cmd.volume_t, (cmd.seller, AVAILABLE), (cmd.seller, HELD))
    desk.auctions[auction.auction_id] = auction
    _changed(outcome, "published", auction, None, cmd.seller)
    return outcome


def submit_bid(market: Market, cmd: SubmitBid) -> Outcome:
    kind = "submit_bid"
    rules = _offered(market, kind)
    if isinstance(rules, Outcome):
        return rules
    auction = _in_window(market, kind, cmd.auction_id, cmd.ts_ns)
    if isinstance(auction, Outcome):
        return auction
    if cmd.account_id == auction.seller:
        return refused(kind, SettlementCode.AUCTION_OWN_OFFER, auction_id=auction.auction_id)
    refusal = market._trading_account(kind, cmd.account_id)
    if refusal is None:
        refusal = _check_bid(market, kind, auction, cmd, rules)
    if refusal is None:
        refusal = market._check_funds(kind, cmd.account_id, cmd.price_fen * cmd.qty_t)
    if refusal is not None:
        return refusal
    desk = market.auctions
    desk.last_bid_id += 1
    bid = Bid(desk.last_bid_id, cmd.account_id, cmd.price_fen, cmd.qty_t)
    outcome = market._outcome = Outcome(kind)
    value = cmd.price_fen * cmd.qty_t
    ref = f"auction:B{bid.bid_id}"
    market._post_cash(ref, value, (cmd.account_id, CASH_AVAILABLE), (cmd.account_id, CASH_HELD))
    auction.bids[bid.bid_id] = bid
    _changed(outcome, "bid", auction, bid.bid_id, cmd.account_id)
    return outcome


def withdraw_bid(market: Market, cmd: WithdrawBid) -> Outcome:
    kind = "withdraw_bid"
    rules = _offered(market, kind)
    if isinstance(rules, Outcome):
        return rules
    auction = market.auctions.auction_of(cmd.bid_id)
    bid = None if auction is None else auction.bids[cmd.bid_id]
    if auction is None or bid is None or bid.account_id != cmd.account_id:
        return refused(kind, SettlementCode.AUCTION_BID_GONE, bid_id=cmd.bid_id)
    if not rules.bids_revocable:
        return refused(kind, SettlementCode.AUCTION_BIDS_BINDING, bid_id=cmd.bid_id)
    found = _in_window(market, kind, auction.auction_id, cmd.ts_ns)
    if isinstance(found, Outcome):
        return found
    outcome = market._outcome = Outcome(kind)
    value = bid.price_fen * bid.qty_t
    ref = f"auction:B{bid.bid_id}"
    bidder = cmd.account_id
    market._post_cash(ref, value, (bidder, CASH_HELD), (bidder, CASH_AVAILABLE))
    del auction.bids[bid.bid_id]
    _changed(outcome, "withdrawn", auction, bid.bid_id, cmd.account_id)
    return outcome


def close_auction(market: Market, cmd: CloseAuction) -> Outcome:
    kind = "close_auction"
    rules = _offered(market, kind)
    if isinstance(rules, Outcome):
        return rules
    auction = market.auctions.auctions.get(cmd.auction_id)
    if auction is None:
        return refused(kind, SettlementCode.AUCTION_GONE, auction_id=cmd.auction_id)
    if cmd.ts_ns < auction.closes_ns:
        return refused(
            kind,
            SettlementCode.AUCTION_WINDOW_OPEN,
            auction_id=auction.auction_id,
            closes_ns=auction.closes_ns,
        )
    outcome = market._outcome = Outcome(kind)
    _clear(market, auction, rules, cmd.secondary_fen, outcome)
    return outcome


def clear_due(market: Market, ts_ns: int, outcome: Outcome) -> None:
    """At the day's close: every auction whose window has closed clears (no bid outlives
    its day). Called by ``day.close_day``."""
    rules = market.rules.auction
    if rules is None:
        return
    for auction in sorted(market.auctions.auctions.values(), key=lambda a: a.auction_id):
        if auction.closes_ns <= ts_ns:
            _clear(market, auction, rules, None, outcome)


# ---------------------------------------------------------------------- checks


def _offered(market: Market, kind: str) -> AuctionRules | Outcome:
    rules = market.rules.auction
    if rules is None:
        return refused(kind, SettlementCode.AUCTION_NOT_OFFERED, rules=market.rules.name)
    return rules


def _notice_problem(
    market: Market, cmd: PublishAuction, rules: AuctionRules, tick_fen: int
) -> str | None:
    """What is wrong with a notice's terms, in words (None: nothing)."""
    if cmd.volume_t <= 0 or cmd.volume_t % rules.lot_t:
        return f"the volume is a positive whole number of lots of {rules.lot_t} t"
    if cmd.reserve_fen is not None and (cmd.reserve_fen <= 0 or cmd.reserve_fen % tick_fen):
        return f"the reserve price is positive and on the tick of {tick_fen} fen"
    if not cmd.ts_ns <= cmd.opens_ns < cmd.closes_ns:
        return "the window opens now or later and closes after it opens"
    calendar = market.rules.calendar
    day = calendar.local_date(cmd.opens_ns)
    if not calendar.is_trading_day(day) or calendar.local_date(cmd.closes_ns - 1) != day:
        return "the window lies inside one trading day"
    return None


def _rule_reserve(market: Market, rules: AuctionRules, tick_fen: int) -> int | None:
    """The reserve price by the rule set's rule: fixed, ``factor_bp`` × the listed VWAP of
    the last ``window_days`` cleared days (as many as the market has had), or none."""
    return rule_reserve_price(rules.reserve, market.listed_window, tick_fen)


def _in_window(market: Market, kind: str, auction_id: int, ts_ns: int) -> Auction | Outcome:
    auction = market.auctions.auctions.get(auction_id)
    if auction is None:
        return refused(kind, SettlementCode.AUCTION_GONE, auction_id=auction_id)
    if not auction.opens_ns <= ts_ns < auction.closes_ns:
        return refused(
            kind,
            SettlementCode.AUCTION_WINDOW_CLOSED,
            auction_id=auction_id,
            opens_ns=auction.opens_ns,
            closes_ns=auction.closes_ns,
        )
    return auction


def _check_bid(
    market: Market, kind: str, auction: Auction, cmd: SubmitBid, rules: AuctionRules
) -> Outcome | None:
    tick = market.instruments[auction.symbol].tick_fen
    if cmd.price_fen <= 0 or cmd.price_fen % tick:
        return refused(kind, "PRICE_OFF_TICK", price_fen=cmd.price_fen, tick_fen=tick)
    if auction.reserve_fen is not None and cmd.price_fen < auction.reserve_fen:
        return refused(
            kind,
            SettlementCode.AUCTION_BELOW_RESERVE,
            price_fen=cmd.price_fen,
            reserve_fen=auction.reserve_fen,
        )
    if cmd.qty_t < rules.min_bid_t or cmd.qty_t % rules.lot_t:
        return refused(
            kind,
            SettlementCode.AUCTION_BID_SIZE,
            qty_t=cmd.qty_t,
            min_bid_t=rules.min_bid_t,
            lot_t=rules.lot_t,
        )
    bid_t = sum(b.qty_t for b in auction.bids.values() if b.account_id == cmd.account_id)
    if rules.max_share_bp is not None:
        cap = auction.volume_t * rules.max_share_bp // BP // rules.lot_t * rules.lot_t
        if bid_t + cmd.qty_t > cap:
            return refused(
                kind,
                SettlementCode.AUCTION_OVER_CAP,
                qty_t=cmd.qty_t,
                bid_t=bid_t,
                cap_t=cap,
                max_share_bp=rules.max_share_bp,
            )
    if auction.symbol.startswith("CEA"):  # what it may win counts against its position limit
        return market._check_position(kind, cmd.account_id, bid_t + cmd.qty_t)
    return None


# ---------------------------------------------------------------------- clearing


def _clear(
    market: Market,
    auction: Auction,
    rules: AuctionRules,
    secondary_fen: int | None,
    outcome: Outcome,
) -> None:
    """Clear ``auction`` and settle it out of the holds; the desk forgets it."""
    if secondary_fen is None:
        secondary_fen = market.engine.book_info(auction.symbol).reference_price_fen
    offering = Offering(
        auction.volume_t,
        rules.lot_t,
        rules.min_bid_t,
        auction.reserve_fen,
        rules.max_share_bp,
        auction.seed,
    )
    result = clear(offering, auction.bids.values(), clearing_rules(rules), secondary_fen)
    unit = UnitCode(auction.symbol)
    awarded = {a.bid_id: a for a in result.awards}
    for bid in sorted(auction.bids.values(), key=lambda b: b.bid_id):
        ref = f"auction:B{bid.bid_id}"
        bidder = AccountId(bid.account_id)
        held = bid.price_fen * bid.qty_t
        award = awarded.get(bid.bid_id)
        if award is not None:
            paid = award.price_fen * award.qty_t
            market._post_cash(ref, paid, (bidder, CASH_HELD), (auction.seller, CASH_AVAILABLE))
            market._post_units(ref, unit, award.qty_t, (auction.seller, HELD), (bidder, AVAILABLE))
            _deliver(market, bidder, unit, award.qty_t, rules.delivery_lag_days)
            _moved(market, auction, bidder, award.qty_t)
            held -= paid
        if held:
            market._post_cash(ref, held, (bidder, CASH_HELD), (bidder, CASH_AVAILABLE))
    if result.unsold_t:
        ref = f"auction:A{auction.auction_id}"
        market._post_units(
            ref, unit, result.unsold_t, (auction.seller, HELD), (auction.seller, AVAILABLE)
        )
    del market.auctions.auctions[auction.auction_id]
    market.auctions.results[auction.auction_id] = (auction, result)
    _changed(outcome, result.status, auction, None, auction.seller, result)


def _moved(market: Market, auction: Auction, winner: AccountId, qty_t: int) -> None:
    """Allowances changed hands: the cached positions follow, a large holder reports."""
    if not auction.symbol.startswith("CEA"):
        return
    positions = market._positions
    if winner in positions:
        positions[winner] += qty_t
    if auction.seller in positions:
        positions[auction.seller] -= qty_t
    market._check_report(winner)


def _deliver(market: Market, account: AccountId, unit: UnitCode, qty_t: int, lag_days: int) -> None:
    """Units won become sellable ``lag_days`` trading days later (0: at once)."""
    if lag_days:
        key = (account, unit)
        market._unit_locks.setdefault(key, []).append((market.day_index + lag_days, qty_t))
        market._unit_locked_t[key] = market._unit_locked_t.get(key, 0) + qty_t


def _changed(
    outcome: Outcome,
    what: str,
    auction: Auction,
    bid_id: int | None,
    account_id: str,
    result: Clearing | None = None,
) -> None:
    outcome.auction_changes = [
        *outcome.auction_changes,
        AuctionChange(what, auction.auction_id, bid_id, account_id, result),
    ]
