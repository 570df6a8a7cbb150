"""The market's auctions (docs/auctions.md): a notice holds what its seller offers, bids
hold cash by the rule set's collateral, and at the window's end the auction clears
(``settlement.auction``) and settles by delivery versus payment out of those holds.

- ``PublishAuction`` (operators): the seller (a participant, or the authority's account for
  paid allocation: ``SYS:NATIONAL`` holds what it will sell) must hold the volume; it is held
  (``auction:A<id>``) until the auction clears. Its terms: a volume in whole lots of the rule
  set's ``[auction]``, a window inside one trading day, a reserve price or none.
- ``SubmitBid``: in the window, by a trading account other than the seller; a price on the
  tick and at or above the reserve, a quantity in lots and at least the least bid, the
  bidder's bids in all within its cap (``bidder_cap_t``) and its position (holding) limit;
  held in cash by the rule set's collateral: each bid's whole value (``full``), or the most
  the bidder's bids can cost it at a uniform price (``guarantee``). A bid that needs more
  hold than the last takes only the difference.
- ``AmendBid``: the bidder's own, in the window, where bids are revocable: a new price and
  quantity, checked as a new bid; it takes a new bid id (and so a new time of entry).
- ``WithdrawBid``: the bidder's own, in the window, where bids are revocable.
- ``CloseAuction``: once the window has closed. Each award moves its cash from the winner's
  hold to the seller and its units from the seller's hold to the winner (sellable after the
  rule set's delivery lag); what the winner held beyond what it pays is released, and so is
  what is unsold (the seller keeps it, whatever the rule set then does with it: a reserve,
  the next auctions). A bidder's cap at clearing is also what its position limit leaves it
  then (California-Québec's holding limit): lots over it are cut from its lowest price up.
  An auction still open at the day's close is cleared then.

No fee is charged on auctions. Module-level functions taking the market, as ``block.py``; the
desk (``AuctionDesk``) is the market's auction state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import astuple, dataclass, field
from typing import TYPE_CHECKING

from registry_sim.model import AccountId, AccountKind, HoldingState, UnitCode
from registry_sim.rules import BP, AuctionRules
from settlement import price_control
from settlement.auction import (
    Bid,
    Clearing,
    Offering,
    bidder_cap_t,
    clear,
    clearing_rules,
    guarantee_fen,
    rule_reserve_price,
)
from settlement.cash import CashState
from settlement.codes import SettlementCode
from settlement.commands import AmendBid, CloseAuction, PublishAuction, SubmitBid, WithdrawBid
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
    sale: str = "auction"  # "auction", or a fixed-price "reserve" or "ceiling" sale
    cleared_day: int = -1  # the market's day index when it cleared (-1: not yet)
    bids: dict[int, Bid] = field(default_factory=dict)  # open bids by id (last: the digest)


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
    year = market.rules.calendar.local_date(cmd.opens_ns).year
    if problem is None and cmd.sale != "auction":
        fixed = _sale_price(market, cmd, year)
        problem, reserve = (fixed, None) if isinstance(fixed, str) else (None, fixed)
    elif problem is None and reserve is None:
        reserve = _rule_reserve(market, rules, instrument.tick_fen, year)
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
        cmd.sale,
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
        refusal = _check_bid(market, kind, auction, cmd.account_id, cmd.price_fen, cmd.qty_t, 0)
    if refusal is not None:
        return refusal
    return _rebid(market, kind, rules, auction, cmd.account_id, None, cmd.price_fen, cmd.qty_t)


def amend_bid(market: Market, cmd: AmendBid) -> Outcome:
    kind = "amend_bid"
    found = _own_revocable(market, kind, cmd.account_id, cmd.bid_id, cmd.ts_ns)
    if isinstance(found, Outcome):
        return found
    rules, auction, bid = found
    refusal = _check_bid(market, kind, auction, cmd.account_id, cmd.price_fen, cmd.qty_t, bid.qty_t)
    if refusal is not None:
        return refusal
    return _rebid(market, kind, rules, auction, cmd.account_id, bid, cmd.price_fen, cmd.qty_t)


def withdraw_bid(market: Market, cmd: WithdrawBid) -> Outcome:
    kind = "withdraw_bid"
    found = _own_revocable(market, kind, cmd.account_id, cmd.bid_id, cmd.ts_ns)
    if isinstance(found, Outcome):
        return found
    rules, auction, bid = found
    outcome = market._outcome = Outcome(kind)
    before = bid_hold_fen(rules, _bids_of(auction, bid.account_id))
    del auction.bids[bid.bid_id]
    after = bid_hold_fen(rules, _bids_of(auction, bid.account_id))
    bidder = cmd.account_id
    ref = f"auction:B{bid.bid_id}"
    if before > after:
        market._post_cash(ref, before - after, (bidder, CASH_HELD), (bidder, CASH_AVAILABLE))
    _changed(outcome, "withdrawn", auction, bid.bid_id, cmd.account_id)
    return outcome


def _own_revocable(
    market: Market, kind: str, account_id: AccountId, bid_id: int, ts_ns: int
) -> tuple[AuctionRules, Auction, Bid] | Outcome:
    """The bidder's own open bid ``bid_id``, where bids may be withdrawn or amended and the
    window is open."""
    rules = _offered(market, kind)
    if isinstance(rules, Outcome):
        return rules
    auction = market.auctions.auction_of(bid_id)
    bid = None if auction is None else auction.bids[bid_id]
    if auction is None or bid is None or bid.account_id != account_id:
        return refused(kind, SettlementCode.AUCTION_BID_GONE, bid_id=bid_id)
    if not rules.bids_revocable:
        return refused(kind, SettlementCode.AUCTION_BIDS_BINDING, bid_id=bid_id)
    found = _in_window(market, kind, auction.auction_id, ts_ns)
    if isinstance(found, Outcome):
        return found
    return rules, auction, bid


def _rebid(
    market: Market,
    kind: str,
    rules: AuctionRules,
    auction: Auction,
    account_id: AccountId,
    old: Bid | None,
    price_fen: int,
    qty_t: int,
) -> Outcome:
    """Enter a bid (in place of ``old``, when amending): the bidder's hold grows or shrinks
    to what its bids then need, and the bid takes the next id."""
    desk = market.auctions
    bid = Bid(desk.last_bid_id + 1, account_id, price_fen, qty_t)
    before = bid_hold_fen(rules, _bids_of(auction, account_id))
    bids = [b for b in _bids_of(auction, account_id) if old is None or b.bid_id != old.bid_id]
    after = bid_hold_fen(rules, [*bids, bid])
    refusal = market._check_funds(kind, account_id, after - before)
    if refusal is not None:
        return refusal
    desk.last_bid_id = bid.bid_id
    outcome = market._outcome = Outcome(kind)
    ref = f"auction:B{bid.bid_id}"
    if after > before:
        market._post_cash(
            ref, after - before, (account_id, CASH_AVAILABLE), (account_id, CASH_HELD)
        )
    elif before > after:
        market._post_cash(
            ref, before - after, (account_id, CASH_HELD), (account_id, CASH_AVAILABLE)
        )
    if old is not None:
        del auction.bids[old.bid_id]
    auction.bids[bid.bid_id] = bid
    _changed(outcome, "bid" if old is None else "amended", auction, bid.bid_id, account_id)
    return outcome


def bid_hold_fen(rules: AuctionRules, bids: Iterable[Bid]) -> int:
    """What a bidder's bids in one auction hold in cash, by the rule set's collateral: each
    bid's whole value (``full``), or the most they can cost at a uniform price
    (``guarantee``)."""
    if rules.collateral == "guarantee":
        return guarantee_fen((b.price_fen, b.qty_t) for b in bids)
    return sum(b.price_fen * b.qty_t for b in bids)


def bidder_share_bp(market: Market, account_id: str) -> int | None:
    """The most of an auction's volume ``account_id`` may bid for (None: no cap): a covered
    entity's ``covered_max_share_bp`` where the rule set sets one, else ``max_share_bp``."""
    rules = market.rules.auction
    assert rules is not None
    if rules.covered_max_share_bp is not None:
        account = market.registry.account(AccountId(account_id))
        if account is not None and account.kind is AccountKind.COVERED_ENTITY:
            return rules.covered_max_share_bp
    return rules.max_share_bp


def bidder_cap(market: Market, auction: Auction, account_id: str) -> int | None:
    """The most ``account_id`` may bid for in ``auction``, in whole lots (None: no cap). A
    reserve or ceiling sale has no purchase limit of its own: the holding limit and, at the
    ceiling, what the entity lacks bound it."""
    rules = market.rules.auction
    assert rules is not None
    if auction.sale != "auction":
        return None
    return bidder_cap_t(auction.volume_t, bidder_share_bp(market, account_id), rules.lot_t)


def _bids_of(auction: Auction, account_id: str) -> list[Bid]:
    return [b for b in auction.bids.values() if b.account_id == account_id]


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


def publish_due(market: Market, outcome: Outcome) -> None:
    """At a day's open: the results whose ``results_lag_days`` end today are published
    (``result_published``); with no lag a result is published as it clears. Called by
    ``day.open_day``."""
    rules = market.rules.auction
    if rules is None or not rules.results_lag_days:
        return
    for auction, result in market.auctions.results.values():
        if auction.cleared_day + rules.results_lag_days == market.day_index:
            _changed(outcome, "result_published", auction, None, auction.seller, result)


def is_published(market: Market, auction: Auction) -> bool:
    """Whether a cleared auction's result is public yet (``results_lag_days`` after it)."""
    rules = market.rules.auction
    lag = 0 if rules is None else rules.results_lag_days
    return auction.cleared_day >= 0 and auction.cleared_day + lag <= market.day_index


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


def _rule_reserve(market: Market, rules: AuctionRules, tick_fen: int, year: int) -> int | None:
    """The reserve price by the rule set's rule: fixed, ``factor_bp`` × the listed VWAP of
    the last ``window_days`` cleared days (as many as the market has had), the schedule's
    for the auction's year, or none."""
    return rule_reserve_price(rules.reserve, market.listed_window, tick_fen, year)


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
    market: Market,
    kind: str,
    auction: Auction,
    account_id: AccountId,
    price_fen: int,
    qty_t: int,
    replaced_t: int,
) -> Outcome | None:
    """A bid of ``qty_t`` at ``price_fen`` by ``account_id`` (in place of one of
    ``replaced_t``, when amending): on the tick, at or above the reserve, in lots, within
    the bidder's cap and its position limit."""
    rules = market.rules.auction
    assert rules is not None
    tick = market.instruments[auction.symbol].tick_fen
    if price_fen <= 0 or price_fen % tick:
        return refused(kind, "PRICE_OFF_TICK", price_fen=price_fen, tick_fen=tick)
    if auction.sale != "auction":
        refusal = _check_sale_bid(market, kind, auction, account_id, price_fen)
        if refusal is not None:
            return refusal
    if auction.reserve_fen is not None and price_fen < auction.reserve_fen:
        return refused(
            kind,
            SettlementCode.AUCTION_BELOW_RESERVE,
            price_fen=price_fen,
            reserve_fen=auction.reserve_fen,
        )
    if qty_t < rules.min_bid_t or qty_t % rules.lot_t:
        return refused(
            kind,
            SettlementCode.AUCTION_BID_SIZE,
            qty_t=qty_t,
            min_bid_t=rules.min_bid_t,
            lot_t=rules.lot_t,
        )
    bid_t = sum(b.qty_t for b in _bids_of(auction, account_id)) - replaced_t
    share = bidder_share_bp(market, account_id)
    cap = bidder_cap(market, auction, account_id)
    if cap is not None and bid_t + qty_t > cap:
        return refused(
            kind,
            SettlementCode.AUCTION_OVER_CAP,
            qty_t=qty_t,
            bid_t=bid_t,
            cap_t=cap,
            max_share_bp=share,
        )
    if auction.sale == "ceiling":
        lacks = _lacks_t(market, account_id, auction.opens_ns)
        if bid_t + qty_t > lacks:
            return refused(
                kind, SettlementCode.AUCTION_OVER_NEED, qty_t=qty_t, bid_t=bid_t, lacks_t=lacks
            )
    if auction.symbol.startswith("CEA"):  # what it may win counts against its position limit
        return market._check_position(kind, account_id, bid_t + qty_t)
    return None


def _check_sale_bid(
    market: Market, kind: str, auction: Auction, account_id: AccountId, price_fen: int
) -> Outcome | None:
    """A reserve or ceiling sale: covered entities only, at the sale's price."""
    account = market.registry.account(account_id)
    if account is None or account.kind is not AccountKind.COVERED_ENTITY:
        return refused(
            kind, SettlementCode.AUCTION_NOT_ELIGIBLE, account_id=account_id, sale=auction.sale
        )
    if price_fen != auction.reserve_fen:
        return refused(
            kind,
            SettlementCode.AUCTION_FIXED_PRICE,
            price_fen=price_fen,
            fixed_fen=auction.reserve_fen,
        )
    return None


def _sale_price(market: Market, cmd: PublishAuction, year: int) -> int | str:
    """A fixed-price sale's price, or what is wrong with the notice. A reserve sale sells at
    one of the year's tier prices (none stated: the lowest), held only when the last auction
    settled at the trigger share of the lowest tier or more, or as the year's first reserve
    sale; a ceiling sale sells at the year's ceiling."""
    control = market.rules.price_control
    if control is None:
        return f"the rule set {market.rules.name} holds no reserve or ceiling sales"
    if cmd.sale == "ceiling":
        price = price_control.ceiling_price(control, year)
        if cmd.reserve_fen not in (None, price):
            return f"a ceiling sale in {year} is at the ceiling, {price}"
        return price
    if cmd.sale != "reserve":
        return f"a sale is an auction, a reserve sale or a ceiling sale, not {cmd.sale!r}"
    tiers = price_control.tier_prices(control, year)
    if cmd.reserve_fen not in (None, *tiers):
        return f"a reserve sale in {year} is at a tier price: {list(tiers)}"
    last, held = _last_auction(market, year)
    if held and (last is None or not price_control.reserve_sale_held(control, year, last)):
        trigger = tiers[0] * control.apcr_trigger_bp // BP
        settled = "no auction has settled yet" if last is None else f"the last settled at {last}"
        return (
            f"a reserve sale after the year's first needs the last auction at {trigger} "
            f"({control.apcr_trigger_bp} bp of the lowest tier) or more; {settled}"
        )
    stated = cmd.reserve_fen
    return tiers[0] if stated is None else stated


def _last_auction(market: Market, year: int) -> tuple[int | None, bool]:
    """The settlement price of the last auction cleared (None: none), and whether a reserve
    sale has been held in ``year`` already."""
    calendar = market.rules.calendar
    last = None
    held = False
    for n in sorted(market.auctions.results):
        auction, result = market.auctions.results[n]
        if auction.sale == "auction" and result.price_fen is not None:
            last = result.price_fen
        held = held or (
            auction.sale == "reserve" and calendar.local_date(auction.opens_ns).year == year
        )
    return last, held


def _lacks_t(market: Market, account_id: AccountId, ts_ns: int) -> int:
    """What a covered entity lacks for its next compliance deadline: the shortfall of the
    year whose deadline comes next (0 before its emissions are verified)."""
    registry = market.registry
    day = market.rules.calendar.local_date(ts_ns)
    year = day.year - 1
    if market.rules.compliance.deadline(year) < day:
        year += 1
    return registry.compliance_status(account_id, year, on=day).shortfall_t or 0


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
    bidders = sorted({b.account_id for b in auction.bids.values()})
    offering = Offering(
        auction.volume_t,
        rules.lot_t,
        rules.min_bid_t,
        auction.reserve_fen,
        None,
        auction.seed,
        tuple(_caps_at_clearing(market, auction, rules, bidders)),
    )
    result = clear(offering, auction.bids.values(), clearing_rules(rules), secondary_fen)
    unit = UnitCode(auction.symbol)
    for award in result.awards:
        ref = f"auction:B{award.bid_id}"
        winner = AccountId(award.account_id)
        paid = award.price_fen * award.qty_t
        market._post_cash(ref, paid, (winner, CASH_HELD), (auction.seller, CASH_AVAILABLE))
        market._post_units(ref, unit, award.qty_t, (auction.seller, HELD), (winner, AVAILABLE))
        _deliver(market, winner, unit, award.qty_t, rules.delivery_lag_days)
        _moved(market, auction, winner, award.qty_t)
    ref = f"auction:A{auction.auction_id}"
    for bidder in bidders:
        held = bid_hold_fen(rules, _bids_of(auction, bidder))
        paid = sum(a.price_fen * a.qty_t for a in result.awards if a.account_id == bidder)
        if held > paid:
            account = AccountId(bidder)
            market._post_cash(ref, held - paid, (account, CASH_HELD), (account, CASH_AVAILABLE))
    if result.unsold_t:
        market._post_units(
            ref, unit, result.unsold_t, (auction.seller, HELD), (auction.seller, AVAILABLE)
        )
    auction.cleared_day = market.day_index
    del market.auctions.auctions[auction.auction_id]
    market.auctions.results[auction.auction_id] = (auction, result)
    _changed(outcome, result.status, auction, None, auction.seller, result)


def _caps_at_clearing(
    market: Market, auction: Auction, rules: AuctionRules, bidders: list[str]
) -> Iterable[tuple[str, int]]:
    """Each capped bidder's most at clearing: its cap by kind, and, for allowances, no more
    than its position limit leaves it now (it may have bought on the market since it bid),
    in whole lots."""
    lot = rules.lot_t
    for bidder in bidders:
        cap = bidder_cap(market, auction, bidder)
        limits = market.limits_t(AccountId(bidder)) if auction.symbol.startswith("CEA") else None
        if limits is not None:
            account = AccountId(bidder)
            position = market.position_t(account) + market._open_buy_t.get(account, 0)
            room = max(0, limits[0] - position) // lot * lot
            cap = room if cap is None else min(cap, room)
        if cap is not None:
            yield bidder, cap


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
