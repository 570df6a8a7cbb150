"""Sealed-bid auctions (拍卖, 竞价): how one auction clears, pure and deterministic.

A seller (the authority, for paid allocation, or any holder in the national one-way auction,
单向竞价) offers ``volume_t`` in lots; bidders send sealed bids, several each, of a price and a
quantity in lots. At the window's end the auction clears by the rule set's ``AuctionRules``:

1. **Valid bids.** A bid below the reserve price is invalid; a bid not a whole number of lots or
   below the least bid is too. A bidder's bids beyond its cap (``max_share_bp`` of the volume,
   in whole lots, or the bidder's own cap in ``caps_t``: a purchase limit by the kind of
   bidder, or what its holding limit leaves) are cut from its lowest price up.
2. **Order.** Highest price first; bids at one price by time of entry (``time``), by a draw fixed
   before the auction from its seed (``draw``), or shared pro rata to what each asked, in whole
   lots, the lots left one at a time in the draw's order (``pro_rata``).
3. **Award.** Down the order until the volume is gone: the bids above the last price awarded
   fill in full, those at it as the tie rule says. The clearing price is the lowest price at
   which units are awarded; each winner pays it (``uniform``) or its own bid (``pay_as_bid``).
4. **Fewer bids than the volume.** Every valid bid fills at the clearing price (``fill``: the
   rest is unsold), or the auction is cancelled (``cancel``, the EU's rule).
5. **Below the secondary market.** Where the rule set says so, an auction clearing more than
   ``cancel_below_secondary_bp`` under the secondary market's price is cancelled.

What is unsold or cancelled goes where the rule set sends it (the seller, a reserve, the next
auctions: ``spread``); moving cash and units is the desk's work, not this module's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from registry_sim.projection import window_price_fen
from registry_sim.rules import AuctionRules, MsrRules, ReserveRule

BP = 10_000


class Pricing(StrEnum):
    UNIFORM = "uniform"
    PAY_AS_BID = "pay_as_bid"


class TieBreak(StrEnum):
    TIME = "time"
    DRAW = "draw"
    PRO_RATA = "pro_rata"


class Undersubscribed(StrEnum):
    FILL = "fill"
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True)
class ClearingRules:
    """The parts of a rule set's auction rules the clearing reads."""

    pricing: Pricing
    tie_break: TieBreak
    undersubscribed: Undersubscribed
    cancel_below_secondary_bp: int | None = None  # None: never cancelled for that


@dataclass(frozen=True, slots=True)
class Offering:
    """One auction's terms: what is offered and what a bid must be."""

    volume_t: int
    lot_t: int
    min_bid_t: int
    reserve_fen: int | None  # None: no reserve price
    max_share_bp: int | None = None  # a bidder's most, as a share of the volume
    seed: int = 0  # the draw for ties, fixed before the auction
    caps_t: tuple[tuple[str, int], ...] = ()  # (bidder, its most in tonnes): over the share


@dataclass(frozen=True, slots=True)
class Bid:
    bid_id: int  # in order of entry
    account_id: str
    price_fen: int
    qty_t: int


@dataclass(frozen=True, slots=True)
class Award:
    bid_id: int
    account_id: str
    qty_t: int
    price_fen: int  # what the winner pays per tonne


@dataclass(frozen=True, slots=True)
class Clearing:
    """An auction's result: ``status`` ``cleared`` or ``cancelled`` (``reason``
    ``undersubscribed``, ``below_secondary`` or ``no_valid_bid``)."""

    status: str
    reason: str | None
    price_fen: int | None  # the lowest price at which units were awarded
    volume_t: int
    bid_t: int  # valid bids in all (after caps)
    sold_t: int
    unsold_t: int  # what goes where the rule set sends it (all of it when cancelled)
    bidders: int  # with a valid bid
    winners: int
    revenue_fen: int
    awards: tuple[Award, ...]
    invalid: tuple[tuple[int, str], ...]  # (bid id, why): below_reserve, not_lots, below_min
    cut: tuple[tuple[int, int], ...]  # (bid id, tonnes cut) by the bidder's cap
    drawn: tuple[int, ...]  # the bids whose place the draw decided, in its order

    @property
    def cover_bp(self) -> int:
        """Valid bids over the volume, in basis points (rounded down): 17,160 is 1.716×."""
        return self.bid_t * BP // self.volume_t if self.volume_t else 0

    def figures(self) -> dict[str, object]:
        """The published figures of the result, by name (what the API and the simulator's
        outputs show of every auction)."""
        return {
            "status": self.status,
            "reason": self.reason,
            "price_fen": self.price_fen,
            "volume_t": self.volume_t,
            "bid_t": self.bid_t,
            "cover_bp": self.cover_bp,
            "sold_t": self.sold_t,
            "unsold_t": self.unsold_t,
            "bidders": self.bidders,
            "winners": self.winners,
            "revenue_fen": self.revenue_fen,
        }


def clear(
    offering: Offering,
    bids: Iterable[Bid],
    rules: ClearingRules,
    secondary_fen: int | None = None,
) -> Clearing:
    """Clear one auction (the module's rule). ``secondary_fen``: the secondary market's price
    the rule ``cancel_below_secondary_bp`` compares with (None: not compared)."""
    valid, invalid = _valid(offering, bids)
    valid, cut = _capped(offering, valid)
    bid_t = sum(b.qty_t for b in valid)
    bidders = len({b.account_id for b in valid})
    volume = offering.volume_t

    def cancelled(reason: str) -> Clearing:
        return Clearing(
            "cancelled", reason, None, volume, bid_t, 0, volume, bidders, 0, 0, (), invalid, cut, ()
        )

    if not valid:
        return cancelled("no_valid_bid")
    if bid_t < volume and rules.undersubscribed is Undersubscribed.CANCEL:
        return cancelled("undersubscribed")
    rank = _draw(offering.seed, valid)
    levels = _levels(valid, rules.tie_break, rank)
    filled: dict[int, int] = {}
    drawn: list[int] = []
    left = volume
    price = 0
    for level_price, level in levels:
        if left == 0:
            break
        price = level_price
        asked = sum(b.qty_t for b in level)
        if asked <= left:
            for b in level:
                filled[b.bid_id] = b.qty_t
            left -= asked
            continue
        shares = _share(level, left, offering.lot_t, rules.tie_break, rank)
        if rules.tie_break is not TieBreak.TIME and len(level) > 1:
            drawn = sorted((b.bid_id for b in level), key=rank.__getitem__)
        filled.update(shares)
        left = 0
    floor = offering.reserve_fen
    if (
        rules.cancel_below_secondary_bp is not None
        and secondary_fen is not None
        and price * BP < secondary_fen * (BP - rules.cancel_below_secondary_bp)
    ):
        return cancelled("below_secondary")
    awards = tuple(
        Award(b.bid_id, b.account_id, filled[b.bid_id], price if _uniform(rules) else b.price_fen)
        for b in sorted(valid, key=lambda b: b.bid_id)
        if filled.get(b.bid_id)
    )
    assert floor is None or price >= floor
    sold = sum(a.qty_t for a in awards)
    return Clearing(
        "cleared",
        None,
        price,
        volume,
        bid_t,
        sold,
        volume - sold,
        bidders,
        len({a.account_id for a in awards}),
        sum(a.qty_t * a.price_fen for a in awards),
        awards,
        invalid,
        cut,
        tuple(drawn),
    )


def bidder_cap_t(volume_t: int, share_bp: int | None, lot_t: int) -> int | None:
    """A bidder's most in an auction of ``volume_t``: ``share_bp`` of it in whole lots (None:
    no cap)."""
    if share_bp is None:
        return None
    return volume_t * share_bp // BP // lot_t * lot_t


def guarantee_fen(bids: Iterable[tuple[int, int]]) -> int:
    """The most a bidder can pay at a uniform price for its bids (price, tonnes): over its
    bid prices, the largest of that price × what it bid at that price or higher (the
    California-Québec bid guarantee's "maximum bid value")."""
    most = above = 0
    for price, qty in sorted(bids, reverse=True):
        above += qty
        most = max(most, price * above)
    return most


def spread(volume_t: int, over: int, lot_t: int) -> list[int]:
    """A cancelled auction's volume spread evenly over the next ``over`` auctions, in whole
    lots, the lots that do not divide evenly to the earliest."""
    lots, extra = divmod(volume_t // lot_t, over)
    return [(lots + (1 if n < extra else 0)) * lot_t for n in range(over)]


def clearing_rules(rules: AuctionRules) -> ClearingRules:
    """What the clearing reads of a rule set's ``[auction]``."""
    return ClearingRules(
        Pricing(rules.pricing),
        TieBreak(rules.tie_break),
        Undersubscribed(rules.undersubscribed),
        rules.cancel_below_secondary_bp,
    )


def reserve_price(
    rule: ReserveRule, vwap_fen: int | None, tick_fen: int, year: int | None = None
) -> int | None:
    """The reserve price by the rule set's rule: fixed; or ``factor_bp`` × the listed
    volume-weighted price over its window (``vwap_fen``, which the caller works out over
    ``window_days``), rounded up to the tick; or the ``schedule``'s price for ``year``; or
    none. A VWAP rule with no listed trade in the window gives no reserve price (None), which
    the caller must refuse to publish."""
    if rule.kind == "fixed":
        return rule.fixed_fen
    if rule.kind == "schedule":
        assert year is not None, "a scheduled reserve price needs the auction's year"
        return scheduled_price(rule.by_year, rule.escalator_bp + rule.inflation_bp, year)
    if rule.kind == "none" or vwap_fen is None:
        return None
    assert rule.factor_bp is not None
    scaled = -(-vwap_fen * rule.factor_bp // BP)  # rounded up
    return -(-scaled // tick_fen) * tick_fen


def rule_reserve_price(
    rule: ReserveRule,
    listed_window: Callable[[int], Sequence[tuple[int, int]]],
    tick_fen: int,
    year: int,
    fallback_fen: int | None = None,
) -> int | None:
    """The reserve price by the rule set's rule at publication (``reserve_price``): for a
    VWAP rule, the listed volume-weighted price over ``listed_window(window_days)``, the
    (volume_t, turnover_fen) of each of the last cleared days (``Market.listed_window``).
    ``fallback_fen`` stands in for that price when the window holds no listed trade (the
    desk gives none: a notice must then state its price; the simulator gives the previous
    close, so a run's first auction has a reserve too). ``year``: the auction's, for a
    schedule."""
    vwap = None
    if rule.kind == "vwap":
        assert rule.window_days is not None
        vwap = window_price_fen(listed_window(rule.window_days))
        if vwap is None:
            vwap = fallback_fen
    return reserve_price(rule, vwap, tick_fen, year)


def scheduled_price(by_year: Sequence[tuple[int, int]], rate_bp: int, year: int) -> int:
    """A price published for some years (``by_year``: (year, price), rising years): the
    year's own, or the latest before it raised by ``rate_bp`` for each year since (rounded
    to the currency's smallest unit each year, as California publishes its prices); before
    the first year, the first year's."""
    known = dict(by_year)
    if year in known:
        return known[year]
    earlier = [y for y, _ in by_year if y < year]
    if not earlier:
        return by_year[0][1]
    return escalated(known[earlier[-1]], rate_bp, year - earlier[-1])


def escalated(price: int, rate_bp: int, years: int) -> int:
    """``price`` raised by ``rate_bp`` a year for ``years``, rounded half up each year."""
    for _ in range(years):
        price = (price * (BP + rate_bp) + BP // 2) // BP
    return price


def msr_change(tnac_t: int, rules: MsrRules) -> int:
    """The Market Stability Reserve's answer to a year's total number of allowances in
    circulation: tonnes taken into the reserve from the next twelve months' auctions
    (positive), released into them (negative), or 0. Rounded to the nearest tonne, as the
    Commission's figures are (2019: 24 % of 1,654,909,824 is 397,178,358)."""
    if tnac_t > rules.upper_t:
        return (tnac_t * rules.intake_bp + BP // 2) // BP
    if tnac_t > rules.lower_t:
        return tnac_t - rules.lower_t
    if tnac_t < rules.release_below_t:
        return -rules.release_t
    return 0


# ---------------------------------------------------------------------- the steps


def _uniform(rules: ClearingRules) -> bool:
    return rules.pricing is Pricing.UNIFORM


def _valid(
    offering: Offering, bids: Iterable[Bid]
) -> tuple[list[Bid], tuple[tuple[int, str], ...]]:
    valid: list[Bid] = []
    invalid: list[tuple[int, str]] = []
    for b in bids:
        if offering.reserve_fen is not None and b.price_fen < offering.reserve_fen:
            invalid.append((b.bid_id, "below_reserve"))
        elif b.qty_t % offering.lot_t:
            invalid.append((b.bid_id, "not_lots"))
        elif b.qty_t < offering.min_bid_t:
            invalid.append((b.bid_id, "below_min"))
        else:
            valid.append(b)
    return valid, tuple(invalid)


def _capped(offering: Offering, bids: list[Bid]) -> tuple[list[Bid], tuple[tuple[int, int], ...]]:
    """Each bidder's bids within its cap: what is over it cut from its lowest price up (the
    latest bid first at one price)."""
    share_cap = bidder_cap_t(offering.volume_t, offering.max_share_bp, offering.lot_t)
    caps = dict(offering.caps_t)
    if share_cap is None and not caps:
        return bids, ()
    kept: dict[int, int] = {}
    cut: list[tuple[int, int]] = []
    by_bidder: dict[str, list[Bid]] = {}
    for b in bids:
        by_bidder.setdefault(b.account_id, []).append(b)
    for bidder, own in by_bidder.items():
        room = caps.get(bidder, share_cap)
        if room is None:
            kept.update((b.bid_id, b.qty_t) for b in own)
            continue
        for b in sorted(own, key=lambda b: (-b.price_fen, b.bid_id)):
            take = min(b.qty_t, room)
            room -= take
            kept[b.bid_id] = take
            if take < b.qty_t:
                cut.append((b.bid_id, b.qty_t - take))
    capped = [
        Bid(b.bid_id, b.account_id, b.price_fen, kept[b.bid_id]) for b in bids if kept[b.bid_id]
    ]
    return capped, tuple(sorted(cut))


def _draw(seed: int, bids: Sequence[Bid]) -> dict[int, int]:
    """Each bid's place in the draw: the bids ordered by SHA-256 of the auction's seed and the
    bid's id, so the same seed always draws the same, on any machine and Python, and anyone
    given the seed can check the draw."""

    def ticket(bid_id: int) -> bytes:
        return hashlib.sha256(f"{seed}:{bid_id}".encode()).digest()

    ids = sorted((b.bid_id for b in bids), key=ticket)
    return {bid_id: place for place, bid_id in enumerate(ids)}


def _levels(
    bids: list[Bid], tie_break: TieBreak, rank: dict[int, int]
) -> list[tuple[int, list[Bid]]]:
    """The bids by price, highest first, each price's bids in the tie rule's order."""
    key = (lambda b: b.bid_id) if tie_break is TieBreak.TIME else (lambda b: rank[b.bid_id])
    levels: dict[int, list[Bid]] = {}
    for b in bids:
        levels.setdefault(b.price_fen, []).append(b)
    return [(p, sorted(levels[p], key=key)) for p in sorted(levels, reverse=True)]


def _share(
    level: list[Bid], left: int, lot: int, tie_break: TieBreak, rank: dict[int, int]
) -> dict[int, int]:
    """``left`` tonnes among the bids at the last price awarded, which ask for more."""
    if tie_break is not TieBreak.PRO_RATA:
        shares: dict[int, int] = {}
        for b in level:  # in the tie rule's order already
            take = min(b.qty_t, left)
            shares[b.bid_id] = take
            left -= take
        return shares
    asked = sum(b.qty_t for b in level)
    shares = {b.bid_id: b.qty_t * left // asked // lot * lot for b in level}
    rest = left - sum(shares.values())
    order = sorted(level, key=lambda b: rank[b.bid_id])
    while rest:
        for b in order:
            if rest and shares[b.bid_id] < b.qty_t:
                shares[b.bid_id] += lot
                rest -= lot
    return shares
