"""The compliance firm (重点排放单位): weighs cutting its own emissions against buying
allowances, and surrenders before the deadline."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from exchange.agents.base import (
    Abate,
    AcceptBlock,
    Action,
    Agent,
    AuctionInfo,
    BidAuction,
    BlockInfo,
    Cancel,
    Firm,
    InstrumentInfo,
    MarketView,
    Place,
    PostBlock,
    SurrenderUnits,
    register,
)
from exchange.agents.common import (
    CEA_PREFIX,
    affordable_t,
    cea_symbol,
    lot_qty,
    offset_symbols,
    random_price,
)
from matching.types import OrderType, Side

BP = 10_000
BUY, SELL = Side.BUY, Side.SELL


@register
class ComplianceFirm(Agent):
    """A covered entity on a linear marginal abatement cost curve (``Firm.curve``).

    Rule. Holding ``h`` tonnes that count towards its obligation (allowances of the year's
    vintage or older, those still due this year, ``Firm.allocation_due_t``, and offsets up to
    the offset cap), the firm must cut ``baseline - h`` tonnes itself, so one more allowance
    is worth the marginal abatement cost of the last tonne it would otherwise cut. At each
    wake-up it reads the market price ``p`` (the last trade, else the previous close), blurs
    it by its own belief noise, and computes the holding it would want at that price:
    ``baseline - abatement_at(p)``. Below it, it bids for part of the difference at a price
    drawn around ``p`` but never above the value of the last tonne bought; above it, it
    offers part of the surplus around ``p`` but never below the cost of the last tonne it
    would then have to cut. The part: ``urgency`` × the difference ÷ its wake-ups left in
    the trading period (compliance buying is spread over the year), at least a lot, at most
    ``chunk_bp`` of its baseline. Aggregate demand at ``p`` is ``Σ baseline - Σ allocation -
    Σ abatement_at(p)`` whatever has traded, so the price rises below the competitive
    equilibrium P* (where total abatement equals the shortfall) and falls above it. Offsets:
    while it holds fewer than the cap, it takes the cheapest offset offered below the
    allowance price (IOC). It never bids beyond its cash nor offers more than it can sell,
    and keeps at most one order resting (cancelled and replaced at each wake-up).

    Year end, in two calls (the driver calls ``on_year_end`` before recording emissions and
    again after): first it abates what it still lacks, within its curve's ``max_t`` (the
    cheapest cover once trading is over: it only holds what the market price justified);
    once emissions are verified it surrenders offsets up to the cap, then allowances of the
    year's vintage first, to cover what is still owed.

    Auctions: while an auction of the year's allowance is open, a firm that wants to buy bids
    once, and leaves the book alone until the auction clears; it bids when the day opens
    (``on_day_open``), so an auction announced for the day is never missed, else at its next
    wake-up in the window. It spreads its want evenly over
    the auctions of that allowance announced and not yet cleared, this one included (``n``):
    it bids for ``want / n`` (within the bidder's cap, in lots). The ``q``-th tonne of that
    share stands for ``n`` tonnes of its whole want, so holding it spares the abatement at
    ``gap - n·q`` (``gap``: what it lacks, ``baseline`` less what it holds), and it is worth
    the marginal abatement cost there (the curve extended beyond ``max_t``: tonnes it could
    not cut are worth at least that). It bids a curve of ``auction_steps`` bids of equal
    tonnes, each at the value of its middle tonne, at descending prices (bids at one price
    merged), the highest first while its cash lasts, none below the reserve. With
    ``auction_at_belief`` (the default) its want is what it would buy at its belief of the
    market price and no bid exceeds that belief: a market price it expects to buy at caps
    what it pays. Without, its want is every tonne it lacks, each bid at its value, as a
    price-taker's bid in a uniform-price auction is where the auction is the allowances'
    source (the whole cap auctioned, no one selling on the book). Over a year of equal
    auctions announced in advance, firms bidding so clear every auction where the total
    abatement implied equals the shortfall: the competitive price.

    Block trades (大宗协议), with ``blocks`` on and the market offering them: a firm whose whole
    want or surplus reaches the block minimum deals it in one block rather than in chunks on the
    book, in the block session. A block is worth dealing whole when its middle tonne is, so it
    first takes the best block quote on the other side priced within that (a buyer: at most the
    saving on the block's middle tonne and its belief plus its markup; a seller: at least the
    cost of cutting the block's middle tonne and its belief less twice ``block_discount_bp``),
    for as much as it wants of it; failing that it posts a quote of its own, at most one at a
    time, priced ``block_discount_bp`` below its belief (a buyer's bid and a seller's offer
    alike: block prices sit below the listed price), and leaves the book alone while it stands.
    Open quotes expire at the close.

    Parameters (defaults): ``chunk_bp`` (300) the most one order asks for, in basis points of
    its baseline; ``urgency`` (2.0); ``belief_bp`` (300) the spread of its private price belief
    around the market price; ``markup_bp`` (200) how far from its belief its limit price is
    drawn; ``offset_cap_bp`` (None) the rule set's offset cap as a share of emissions, which the
    driver passes so offsets can be bought before emissions are verified (None: only once the
    registry states the cap); ``fee_reserve_bp`` (100) cash kept aside per buy for fees the view
    does not show; ``blocks`` (False) trade blocks; ``block_discount_bp`` (400);
    ``block_wait_days`` (None: never) while more trading days than this are left, a want of
    block size waits for the block session rather than going to the book; ``block_firm_t``
    (None: no firm) a firm whose baseline is at least this deals only in blocks while
    ``block_wait_days`` are not yet reached: a want below the block minimum is left to grow
    (as a large generator's carbon desk trades in blocks and leaves the book to smaller
    firms); ``auction_steps`` (1) bids in its curve in an auction; ``auction_at_belief``
    (True) want and bids capped by its belief of the market price; ``wakeups_per_day``.
    """

    kind = "firm"
    wakeups_per_day = 4.0

    def __init__(
        self,
        account_id: str,
        firm: Firm | None = None,
        *,
        chunk_bp: int = 300,
        urgency: float = 2.0,
        belief_bp: int = 300,
        markup_bp: int = 200,
        offset_cap_bp: int | None = None,
        fee_reserve_bp: int = 100,
        blocks: bool = False,
        block_discount_bp: int = 400,
        block_wait_days: int | None = None,
        block_firm_t: int | None = None,
        auction_steps: int = 1,
        auction_at_belief: bool = True,
        **params: Any,
    ) -> None:
        super().__init__(account_id, firm, **params)
        if firm is None:
            raise TypeError("a firm agent needs its Firm profile")
        self.chunk_bp = chunk_bp
        self.urgency = urgency
        self.belief_bp = belief_bp
        self.markup_bp = markup_bp
        self._belief = belief_bp / BP
        self._markup = markup_bp / BP
        self.offset_cap_bp = offset_cap_bp
        self.fee_reserve_bp = fee_reserve_bp
        self.blocks = blocks
        self.block_wait_days = block_wait_days
        self.block_firm_t = block_firm_t
        self._discount = block_discount_bp / BP
        if auction_steps < 1:
            raise ValueError(f"auction_steps: at least 1, got {auction_steps}")
        self.auction_steps = auction_steps
        self.auction_at_belief = auction_at_belief
        self.abated_t = 0  # committed at year end
        self.abated_year: int | None = None
        self._day: object = None
        self._symbol: str | None = None
        self._cover: tuple[str, ...] = ()  # allowance symbols that count for the year
        self._offsets: tuple[str, ...] = ()
        self._listing: tuple[int, tuple[str, ...]] | None = None
        self._cap_year: int | None = None
        self._cap_t: int | None = None

    # ---------------------------------------------------------------- what it holds

    @property
    def profile(self) -> Firm:
        """Its ``Firm`` (the driver may replace ``firm`` as a year or a shock changes it)."""
        firm = self.firm
        assert firm is not None
        return firm

    def _refresh(self, view: MarketView) -> None:
        """The instruments it trades and counts: worked out again only when the listing or
        the compliance year changes (checked once per trading day)."""
        if self._day == view.trading_day:
            return
        self._day = view.trading_day
        year = view.compliance_year
        key = (year, tuple(info.symbol for info in view.instruments()))
        if key == self._listing:
            return
        self._listing = key
        self._symbol = cea_symbol(view, year)
        cover = []
        for symbol in key[1]:
            vintage = symbol[len(CEA_PREFIX) :]
            if symbol.startswith(CEA_PREFIX) and vintage.isdigit() and int(vintage) <= year:
                cover.append(symbol)
        self._cover = tuple(sorted(cover, reverse=True))  # the year's vintage first
        self._offsets = tuple(offset_symbols(view))

    def _offset_cap_t(self, view: MarketView, emissions_t: int) -> int:
        """The offset cap: the rule set's share of ``emissions_t`` when the driver gave it,
        else what the registry states, asked once per compliance year (and again at the year
        end): its basis, last year's or this year's verified emissions, does not change
        while the year trades."""
        if self.offset_cap_bp is not None:
            return emissions_t * self.offset_cap_bp // BP
        year = view.compliance_year
        if self._cap_year != year:
            self._cap_year = year
            self._cap_t = view.compliance(year).offset_cap_t
        return self._cap_t or 0

    def _covered_t(self, view: MarketView, offset_cap_t: int) -> tuple[int, int]:
        """(tonnes that count towards the obligation, offsets held). Allowances the
        driver says are still due this year (a true-up after verification) count as held."""
        allowances = self.profile.allocation_due_t
        offsets = 0
        for symbol in self._cover:
            allowances += view.holding_t(symbol)
        if offset_cap_t > 0:  # without a cap, offsets count for nothing: not even looked up
            for symbol in self._offsets:
                offsets += view.holding_t(symbol)
        return allowances + min(offsets, offset_cap_t), offsets

    # ---------------------------------------------------------------- trading

    def on_day_open(self, view: MarketView, rng: random.Random) -> Iterable[Action]:
        """Bid at the open in an auction of its allowance open now (a wake-up that bids and
        leaves the book alone); otherwise nothing."""
        auctions = view.auctions()
        if not auctions:  # the usual day: nothing to bid in (its next wake-up refreshes)
            return ()
        self._refresh(view)
        symbol = self._symbol
        if symbol is None or not any(
            a.symbol == symbol and a.open_now and not a.my_bid_t for a in auctions
        ):
            return ()
        actions = list(self.act(view, rng))
        return actions if any(isinstance(a, BidAuction) for a in actions) else ()

    def act(self, view: MarketView, rng: random.Random) -> Iterable[Action]:
        self._refresh(view)
        symbol = self._symbol
        if symbol is None:
            return ()
        info = view.instrument(symbol)
        if not info.tradable:
            return ()
        actions: list[Action] = []
        freed_fen = freed_t = 0
        for order in view.open_orders():
            actions.append(Cancel(order.order_id))
            if order.side is BUY:
                freed_fen += order.leaves_t * (order.price_fen or 0)
            elif order.symbol == symbol:
                freed_t += order.leaves_t
        firm = self.profile
        curve = firm.curve
        baseline = firm.baseline_t
        price = view.last_price(symbol) or info.reference_price_fen
        belief = price * (1 + (rng.random() * 2 - 1) * self._belief)
        wanted_abatement = curve.abatement_at(belief)
        cap = self._offset_cap_t(view, baseline - wanted_abatement) if self._offsets else 0
        covered, offsets_held = self._covered_t(view, cap)
        cash = view.cash_fen() + freed_fen
        if offsets_held < cap and self._offsets:
            bought = self._buy_offsets(view, price, cap - offsets_held, cash, actions)
            covered += bought[0]
            cash -= bought[1]
        gap = baseline - covered  # tonnes it must cut if it trades no more
        diff = baseline - wanted_abatement - covered  # > 0: wants to buy
        # Spread the trading over the days left, as compliance buyers do: each order takes
        # ``urgency`` × its share of the remaining wake-ups, at least a lot, at most a chunk.
        wakeups_left = max(1.0, view.trading_days_left * self.wakeups_per_day / self.urgency)
        chunk = max(info.lot_t, min(baseline * self.chunk_bp // BP, int(abs(diff) / wakeups_left)))
        markup = self._markup
        auctions = [a for a in view.auctions() if a.symbol == symbol]
        for auction in auctions:
            if not auction.open_now:
                continue
            if auction.my_bid_t or self._bid(
                auction, len(auctions), info, diff, gap, belief, cash, actions
            ):
                return actions  # its bids stand until the auction clears
        block = view.block(symbol) if self.blocks else None
        if block is not None:
            wait = self.block_wait_days
            waiting = wait is not None and view.trading_days_left > wait
            if abs(diff) >= block.min_qty_t:
                if block.open_now:
                    if self._block(view, rng, info, block, diff, gap, belief, cash, actions):
                        return actions
                elif waiting:
                    return actions  # a want of block size waits for the block session
            elif waiting and self.block_firm_t is not None and baseline >= self.block_firm_t:
                return actions  # a block trader's smaller want grows until it makes a block
        if diff > 0:
            qty = lot_qty(min(diff, chunk), info)
            if qty:
                value = curve.marginal_fen(gap - qty)  # the last tonne bought saves this much
                bid = random_price(
                    rng, belief * (1 - markup), min(value, belief * (1 + markup)), info
                )
                if bid is not None:
                    qty = lot_qty(min(qty, affordable_t(cash, bid, self.fee_reserve_bp)), info)
                    if qty:
                        actions.append(Place(symbol, BUY, qty, bid, OrderType.LIMIT))
        elif diff < 0:
            sellable = view.sellable_t(symbol) + freed_t
            qty = lot_qty(min(-diff, chunk, sellable), info)
            if qty:
                cost = curve.marginal_fen(max(0, gap + qty))  # the last tonne it must then cut
                ask = random_price(
                    rng, max(cost, belief * (1 - markup)), belief * (1 + markup), info
                )
                if ask is not None:
                    actions.append(Place(symbol, SELL, qty, ask, OrderType.LIMIT))
        return actions

    def _bid(
        self,
        auction: AuctionInfo,
        auctions_left: int,
        info: InstrumentInfo,
        diff: int,
        gap: int,
        belief: float,
        cash: int,
        actions: list[Action],
    ) -> bool:
        """Bid its curve for its want's share of this auction (see the class's rule);
        whether it bid."""
        want = diff if self.auction_at_belief else gap
        if want <= 0:
            return False
        lot, n = auction.lot_t, auctions_left
        qty = want // n
        if auction.cap_t is not None:
            qty = min(qty, auction.cap_t)
        lots = qty // lot
        steps = max(1, min(self.auction_steps, lots * lot // max(lot, auction.min_bid_t)))
        marginal, tick = self.profile.curve.marginal_fen, info.tick_fen
        curve: list[list[int]] = []  # [price, tonnes], prices descending
        for j in range(steps):
            start, end = lots * j // steps * lot, lots * (j + 1) // steps * lot
            value = marginal(max(0, gap - n * (start + (end - start) // 2)))
            price = int(min(value, belief) if self.auction_at_belief else value)
            price -= price % tick
            if price <= 0 or (auction.reserve_fen is not None and price < auction.reserve_fen):
                break
            if curve and curve[-1][0] == price:
                curve[-1][1] += end - start
            else:
                curve.append([price, end - start])
        bid = False
        for price, tonnes in curve:
            tonnes = min(tonnes, affordable_t(cash, price, 0)) // lot * lot
            if tonnes < auction.min_bid_t:
                break
            actions.append(BidAuction(auction.auction_id, price, tonnes))
            cash -= tonnes * price
            bid = True
        return bid

    def _block(
        self,
        view: MarketView,
        rng: random.Random,
        info: InstrumentInfo,
        block: BlockInfo,
        diff: int,
        gap: int,
        belief: float,
        cash: int,
        actions: list[Action],
    ) -> bool:
        """Deal in a block or post one (see the class's rule); whether it did either, or has
        a quote standing, so the book is left alone this wake-up."""
        symbol = info.symbol
        me = self.account_id
        quotes = [q for q in view.block_quotes() if q.symbol == symbol]
        if any(q.account_id == me for q in quotes):
            return True  # its quote stands until it deals or the day closes
        if abs(diff) < block.min_qty_t:
            return False
        want = abs(diff)
        curve = self.profile.curve
        lower, upper = block.band
        lot = info.lot_t
        buying = diff > 0
        side = BUY if buying else SELL
        # A block is worth dealing whole when its average tonne is: the buyer's saving on the
        # middle tonne of the block, the seller's cost of cutting its middle tonne.
        if buying:
            limit = min(curve.marginal_fen(gap - want // 2), belief * (1 + self._markup))
            room = min(want, affordable_t(cash, int(limit), self.fee_reserve_bp))
        else:
            cost = curve.marginal_fen(max(0, gap + want // 2))
            limit = max(cost, belief * (1 - 2 * self._discount))
            room = min(want, view.sellable_t(symbol))
        room = room // lot * lot
        if room < block.min_qty_t:
            return False
        # The other side's quotes it would deal with, best price first (a buyer: lowest).
        sign = 1 if buying else -1
        offers = sorted(
            (sign * q.price_fen, q.quote_id, q.qty_t)
            for q in quotes
            if q.side is not side
            and q.price_fen is not None
            and q.qty_t >= block.min_qty_t
            and (q.price_fen <= limit if buying else q.price_fen >= limit)
        )
        if offers:
            _, quote_id, offered = offers[0]
            qty = min(room, offered)
            if qty >= block.min_qty_t:
                actions.append(AcceptBlock(quote_id, None if qty == offered else qty))
                return True
        price = belief * (1 - self._discount) * (1 + (rng.random() - 0.5) * self._markup)
        price = max(price, limit) if not buying else min(price, limit)
        tick = info.tick_fen
        ticks = int(price // tick) * tick
        if not lower <= ticks <= upper:
            return False
        actions.append(PostBlock(symbol, side, room, ticks))
        return True

    def _buy_offsets(
        self,
        view: MarketView,
        cea_price_fen: int,
        room_t: int,
        cash_fen: int,
        actions: list[Action],
    ) -> tuple[int, int]:
        """Take the cheapest offer of an offset priced below the allowance: (tonnes, fen)."""
        best: tuple[int, int, str] | None = None
        for symbol in self._offsets:
            ask = view.best_ask(symbol)
            if (
                ask is not None
                and ask.price_fen < cea_price_fen
                and (best is None or ask.price_fen < best[0])
            ):
                best = (ask.price_fen, ask.qty_t, symbol)
        if best is None:
            return 0, 0
        price, offered, symbol = best
        info = view.instrument(symbol)
        if not info.tradable:
            return 0, 0
        qty = lot_qty(
            min(room_t, offered, affordable_t(cash_fen, price, self.fee_reserve_bp)), info
        )
        if not qty:
            return 0, 0
        actions.append(Place(symbol, BUY, qty, price, OrderType.IOC))
        return qty, qty * price

    # ---------------------------------------------------------------- year end

    def _abatement_needed_t(self, view: MarketView) -> int:
        """Tonnes to cut so that what it holds covers what it then emits. The offset cap is
        a share of those (lower) emissions, so cutting shrinks the cap: iterate to the
        fixed point (each round adds only the cap's shrinkage)."""
        baseline = self.profile.baseline_t
        allowances = self.profile.allocation_due_t
        allowances += sum(view.holding_t(s) for s in self._cover)
        offsets = sum(view.holding_t(s) for s in self._offsets)
        abated = 0
        for _ in range(20):
            emitted = baseline - abated
            cap = self._offset_cap_t(view, emitted) if offsets else 0
            need = emitted - allowances - min(offsets, cap)
            if need <= 0:
                break
            abated += need
        return abated

    def on_year_end(self, view: MarketView, rng: random.Random) -> Iterable[Action]:
        self._day = self._listing = self._cap_year = None
        self._refresh(view)
        year = view.compliance_year
        firm = self.profile
        status = view.compliance(year)
        if status.verified_t is None:
            if self.abated_year == year:
                return ()
            self.abated_year = year
            self.abated_t = min(firm.curve.max_t, self._abatement_needed_t(view))
            return [Abate(year, self.abated_t)] if self.abated_t else []
        owed = status.verified_t - status.surrendered_t
        if owed <= 0:
            return ()
        items: list[tuple[str, int]] = []
        offset_room = (status.offset_cap_t or 0) - status.offsets_surrendered_t
        for symbol in self._offsets:
            take = min(view.holding_t(symbol), offset_room, owed)
            if take > 0:
                items.append((symbol, take))
                offset_room -= take
                owed -= take
        for symbol in self._cover:
            take = min(view.holding_t(symbol), owed)
            if take > 0:
                items.append((symbol, take))
                owed -= take
        return [SurrenderUnits(year, tuple(items))] if items else []
