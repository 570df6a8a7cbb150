"""Block agreement trading (大宗协议交易, docs/settlement.md, "Block trades"): quotes of at least
the rule set's minimum, posted in the block session within the block band around the previous
listed close, accepted at their terms or negotiated (对话议价) until both sides confirm, and
settled by the same delivery versus payment, fees and T+N as a listed trade. Block deals never
touch the order book: they set neither the open nor the close nor the penalty's reference price.

Holds, as everywhere in the market, come first: the poster holds cash (a buy: price × quantity +
fee) or units (a sell) when it posts a quote, an accepter when it accepts, each side of a
negotiation when it commits to terms (its own counter, or its confirmation of the other's). A
negotiation's buyer who is the poster holds only what the negotiated terms need beyond the
quote's own hold. Cancelling, ending a negotiation or the day's close releases what was held.

Module-level functions taking the market, as ``settlement/day.py``; the desk (``BlockDesk``)
is the market's block state: its open quotes and negotiations and the next ids.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import astuple, dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from matching.types import Side, TradingState
from registry_sim.model import FEES, AccountId, HoldingState, UnitCode
from registry_sim.rules import BP, BlockRules
from settlement.cash import CashState
from settlement.codes import SettlementCode
from settlement.commands import (
    AcceptBlockQuote,
    CancelBlockQuote,
    ConfirmBlockDeal,
    CounterBlockQuote,
    EndBlockNegotiation,
    PostBlockQuote,
)
from settlement.outcome import (
    BlockChange,
    BlockDeal,
    BlockNegotiationState,
    BlockQuoteState,
    Outcome,
    refused,
)

if TYPE_CHECKING:
    from settlement.market import Market

AVAILABLE = HoldingState.AVAILABLE
HELD = HoldingState.HELD
CASH_AVAILABLE = CashState.AVAILABLE
CASH_HELD = CashState.HELD


@dataclass(slots=True)
class BlockQuote:
    """A block quote (大宗报价) on the board: what is left of it and what its poster holds."""

    quote_id: int
    account_id: AccountId
    symbol: str
    side: Side
    price_fen: int
    qty_t: int  # still to deal
    counterparty: AccountId | None  # a directed quote: the one account that may deal
    ts_ns: int
    held: int = 0  # buys: fen; sells: tonnes


@dataclass(slots=True)
class Negotiation:
    """A dialogue (对话议价) on one quote between its poster and one counterparty (the opener):
    the latest terms, who proposed them, and what each side holds for it."""

    negotiation_id: int
    quote_id: int
    opener: AccountId
    price_fen: int
    qty_t: int
    proposer: AccountId  # whose terms these are: the other side may confirm or counter
    ts_ns: int
    opener_held: int = 0  # fen (the opener buys) or tonnes (the opener sells)
    opener_open_t: int = 0  # a buying opener's tonnes counted in its open buys (CEA)
    poster_extra_fen: int = 0  # a buying poster's hold beyond its quote's for these terms
    rounds: int = 1


@dataclass(slots=True)
class BlockDesk:
    """The market's block board: open quotes and negotiations (all gone by the day's close),
    the next ids, and today's block session in market time (None: closed all day)."""

    quotes: dict[int, BlockQuote] = field(default_factory=dict)
    negotiations: dict[int, Negotiation] = field(default_factory=dict)
    last_quote_id: int = 0
    last_negotiation_id: int = 0
    last_deal_id: int = 0
    sessions_ns: tuple[tuple[int, int], ...] = ()

    def digest(self) -> object:
        return (
            sorted(astuple(q) for q in self.quotes.values()),
            sorted(astuple(n) for n in self.negotiations.values()),
            (self.last_quote_id, self.last_negotiation_id, self.last_deal_id),
            self.sessions_ns,
        )

    def negotiations_of(self, quote_id: int) -> list[Negotiation]:
        return [n for n in self.negotiations.values() if n.quote_id == quote_id]


class _Terms(NamedTuple):
    price_fen: int
    qty_t: int


def quote_state(quote: BlockQuote) -> BlockQuoteState:
    """The quote as it stands now, as plain values (what the readers and feeds show)."""
    return BlockQuoteState(
        quote.quote_id,
        quote.account_id,
        quote.symbol,
        quote.side,
        quote.price_fen,
        quote.qty_t,
        quote.counterparty,
        quote.ts_ns,
    )


def negotiation_state(negotiation: Negotiation) -> BlockNegotiationState:
    return BlockNegotiationState(
        negotiation.negotiation_id,
        negotiation.quote_id,
        negotiation.opener,
        negotiation.price_fen,
        negotiation.qty_t,
        negotiation.proposer,
        negotiation.ts_ns,
        negotiation.rounds,
    )


def in_session(market: Market, ts_ns: int) -> bool:
    """Whether market time ``ts_ns`` falls in today's block session (an open day's)."""
    return (
        market.trading_day is not None
        and not market.day_closed
        and any(start <= ts_ns < end for start, end in market.block.sessions_ns)
    )


def band(market: Market, symbol: str) -> tuple[int, int, int]:
    """Today's block band of ``symbol``: (lower, upper, the reference it is around, the
    previous listed close), inclusive, in fen."""
    reference = market.engine.book_info(symbol).reference_price_fen
    lower, upper = market.instruments[symbol].band(reference, "block")
    return lower, upper, reference


# ---------------------------------------------------------------------- the day


def open_sessions(market: Market, day: dt.date) -> None:
    """Today's block session(s) in market time (at the day's open)."""
    block = market.rules.block
    calendar = market.rules.calendar
    market.block.sessions_ns = (
        ()
        if block is None
        else tuple((calendar.ts_ns(day, a), calendar.ts_ns(day, b)) for a, b in block.sessions)
    )


def expire_all(market: Market, outcome: Outcome) -> None:
    """At the close: every open negotiation and quote expires and releases its holds."""
    desk = market.block
    for negotiation in sorted(desk.negotiations.values(), key=lambda n: n.negotiation_id):
        _end_negotiation(market, negotiation, "expired", outcome)
    for quote in sorted(desk.quotes.values(), key=lambda q: q.quote_id):
        _close_quote(market, quote, "expired", outcome)
    desk.sessions_ns = ()


# ---------------------------------------------------------------------- commands


def post_quote(market: Market, cmd: PostBlockQuote) -> Outcome:
    kind = "post_block_quote"
    rules = _open_block(market, kind, cmd.ts_ns)
    if isinstance(rules, Outcome):
        return rules
    refusal = market._trading_account(kind, cmd.account_id)
    if refusal is None:
        refusal = _check_terms(market, kind, cmd.symbol, cmd.price_fen, cmd.qty_t, rules)
    if refusal is None and cmd.counterparty is not None:
        refusal = _check_counterparty(market, kind, cmd.account_id, cmd.counterparty, rules)
    if refusal is None:
        refusal = _check_hold(market, kind, cmd.account_id, cmd.symbol, cmd.side, _terms(cmd))
    if refusal is not None:
        return refusal
    desk = market.block
    desk.last_quote_id += 1
    quote = BlockQuote(
        desk.last_quote_id,
        cmd.account_id,
        cmd.symbol,
        cmd.side,
        cmd.price_fen,
        cmd.qty_t,
        cmd.counterparty,
        cmd.ts_ns,
    )
    outcome = market._outcome = Outcome(kind)
    quote.held = _need(market, cmd.side, _terms(cmd))
    _move(market, f"block:Q{quote.quote_id}", cmd.account_id, cmd.symbol, cmd.side, quote.held)
    if cmd.side is Side.BUY:
        _adjust_open_buy(market, cmd.account_id, cmd.symbol, cmd.qty_t)
    desk.quotes[quote.quote_id] = quote
    _changed(outcome, "posted", quote, None, cmd.account_id)
    return outcome


def accept_quote(market: Market, cmd: AcceptBlockQuote) -> Outcome:
    """A deal at the quote's price for the accepter's quantity (all that is left if none)."""
    kind = "accept_block_quote"
    rules = _open_block(market, kind, cmd.ts_ns)
    if isinstance(rules, Outcome):
        return rules
    quote = _quote_for_counterparty(market, kind, cmd.account_id, cmd.quote_id)
    if isinstance(quote, Outcome):
        return quote
    terms = _Terms(quote.price_fen, quote.qty_t if cmd.qty_t is None else cmd.qty_t)
    refusal = _check_qty(market, kind, quote, terms.qty_t, rules)
    if refusal is None:
        refusal = _check_commit(market, kind, cmd.account_id, quote, None, terms)
    if refusal is not None:
        return refusal
    outcome = market._outcome = Outcome(kind)
    # An acceptance is a negotiation of one round that never stands on the board: id 0.
    deal = Negotiation(
        0,
        quote.quote_id,
        cmd.account_id,
        terms.price_fen,
        terms.qty_t,
        quote.account_id,
        cmd.ts_ns,
    )
    _commit(market, quote, deal, cmd.account_id, terms)
    _deal(market, quote, deal, cmd.ts_ns, outcome, negotiated=False)
    return outcome


def counter(market: Market, cmd: CounterBlockQuote) -> Outcome:
    """Open a negotiation on a quote (its counterparty, with ``quote_id``), or answer the
    other side's terms in one (``negotiation_id``) with new ones."""
    kind = "counter_block_quote"
    rules = _open_block(market, kind, cmd.ts_ns)
    if isinstance(rules, Outcome):
        return rules
    desk = market.block
    terms = _Terms(cmd.price_fen, cmd.qty_t)
    if cmd.negotiation_id is None:
        if cmd.quote_id is None:
            return refused(kind, SettlementCode.BLOCK_QUOTE_GONE, quote_id=None)
        quote = _quote_for_counterparty(market, kind, cmd.account_id, cmd.quote_id)
        if isinstance(quote, Outcome):
            return quote
        negotiation = None
    else:
        found = _negotiation_of(market, kind, cmd.account_id, cmd.negotiation_id, turn=True)
        if isinstance(found, Outcome):
            return found
        negotiation, quote = found
    refusal = _check_terms(market, kind, quote.symbol, terms.price_fen, terms.qty_t, rules)
    if refusal is None:
        refusal = _check_qty(market, kind, quote, terms.qty_t, rules)
    if refusal is None:
        refusal = _check_commit(market, kind, cmd.account_id, quote, negotiation, terms)
    if refusal is not None:
        return refusal
    outcome = market._outcome = Outcome(kind)
    if negotiation is None:
        desk.last_negotiation_id += 1
        negotiation = Negotiation(
            desk.last_negotiation_id,
            quote.quote_id,
            cmd.account_id,
            terms.price_fen,
            terms.qty_t,
            cmd.account_id,
            cmd.ts_ns,
        )
        desk.negotiations[negotiation.negotiation_id] = negotiation
        what = "opened"
    else:
        negotiation.price_fen, negotiation.qty_t = terms
        negotiation.proposer = cmd.account_id
        negotiation.ts_ns = cmd.ts_ns
        negotiation.rounds += 1
        what = "countered"
    _commit(market, quote, negotiation, cmd.account_id, terms)
    _changed(outcome, what, quote, negotiation, cmd.account_id)
    return outcome


def confirm(market: Market, cmd: ConfirmBlockDeal) -> Outcome:
    """The side that did not propose the negotiation's latest terms confirms them: the deal."""
    kind = "confirm_block_deal"
    rules = _open_block(market, kind, cmd.ts_ns)
    if isinstance(rules, Outcome):
        return rules
    found = _negotiation_of(market, kind, cmd.account_id, cmd.negotiation_id, turn=True)
    if isinstance(found, Outcome):
        return found
    negotiation, quote = found
    if (cmd.price_fen, cmd.qty_t) != (negotiation.price_fen, negotiation.qty_t):
        # What the confirmer saw is not what stands (the other side countered meanwhile).
        return refused(
            kind,
            SettlementCode.BLOCK_TERMS_CHANGED,
            negotiation_id=negotiation.negotiation_id,
            price_fen=negotiation.price_fen,
            qty_t=negotiation.qty_t,
        )
    terms = _Terms(negotiation.price_fen, negotiation.qty_t)
    refusal = _check_qty(market, kind, quote, terms.qty_t, rules)
    if refusal is None:
        # The band moves only at the day's open, but the terms were checked then too.
        refusal = _check_terms(market, kind, quote.symbol, terms.price_fen, terms.qty_t, rules)
    if refusal is None:
        refusal = _check_commit(market, kind, cmd.account_id, quote, negotiation, terms)
    if refusal is not None:
        return refusal
    outcome = market._outcome = Outcome(kind)
    _commit(market, quote, negotiation, cmd.account_id, terms)
    del market.block.negotiations[negotiation.negotiation_id]
    _deal(market, quote, negotiation, cmd.ts_ns, outcome, negotiated=True)
    return outcome


def cancel_quote(market: Market, cmd: CancelBlockQuote) -> Outcome:
    """The poster withdraws its quote: its hold and every negotiation on it are released.
    Allowed whenever the day is open, in the block session or not."""
    kind = "cancel_block_quote"
    quote = market.block.quotes.get(cmd.quote_id)
    if quote is None or quote.account_id != cmd.account_id:
        return refused(kind, SettlementCode.BLOCK_QUOTE_GONE, quote_id=cmd.quote_id)
    outcome = market._outcome = Outcome(kind)
    for negotiation in market.block.negotiations_of(quote.quote_id):
        _end_negotiation(market, negotiation, "ended", outcome)
    _close_quote(market, quote, "cancelled", outcome)
    return outcome


def end_negotiation(market: Market, cmd: EndBlockNegotiation) -> Outcome:
    """Either side walks away from a negotiation (rejects the other's terms); the quote stays."""
    kind = "end_block_negotiation"
    found = _negotiation_of(market, kind, cmd.account_id, cmd.negotiation_id)
    if isinstance(found, Outcome):
        return found
    outcome = market._outcome = Outcome(kind)
    _end_negotiation(market, found[0], "ended", outcome)
    return outcome


# ---------------------------------------------------------------------- checks


def _open_block(market: Market, kind: str, ts_ns: int) -> BlockRules | Outcome:
    rules = market.rules.block
    if rules is None:
        return refused(kind, SettlementCode.BLOCK_NOT_OFFERED, rules=market.rules.name)
    if not in_session(market, ts_ns):
        return refused(
            kind,
            SettlementCode.BLOCK_SESSION_CLOSED,
            sessions=[[a.isoformat("minutes"), b.isoformat("minutes")] for a, b in rules.sessions],
            timezone=market.rules.calendar.timezone,
        )
    return rules


def _check_terms(
    market: Market, kind: str, symbol: str, price_fen: int, qty_t: int, rules: BlockRules
) -> Outcome | None:
    instrument = market.instruments.get(symbol)
    if instrument is None:
        return refused(kind, SettlementCode.UNKNOWN_INSTRUMENT, symbol=symbol)
    info = market.engine.book_info(symbol)
    if info.state is TradingState.HALTED:
        return refused(kind, "INSTRUMENT_HALTED", symbol=symbol, state=info.state.value)
    if qty_t < rules.min_qty_t:
        return refused(
            kind, SettlementCode.BLOCK_BELOW_MINIMUM, qty_t=qty_t, min_qty_t=rules.min_qty_t
        )
    if qty_t % instrument.lot_t:
        return refused(kind, "QTY_OFF_LOT", qty_t=qty_t, lot_t=instrument.lot_t)
    if price_fen <= 0 or price_fen % instrument.tick_fen:
        return refused(kind, "PRICE_OFF_TICK", price_fen=price_fen, tick_fen=instrument.tick_fen)
    lower, upper, reference = band(market, symbol)
    if not lower <= price_fen <= upper:
        return refused(
            kind,
            SettlementCode.BLOCK_OUTSIDE_BAND,
            price_fen=price_fen,
            lower_fen=lower,
            upper_fen=upper,
            reference_fen=reference,
            band_bp=rules.band_bp,
        )
    return None


def _check_counterparty(
    market: Market, kind: str, account_id: AccountId, counterparty: AccountId, rules: BlockRules
) -> Outcome | None:
    if not rules.directed:
        return refused(kind, SettlementCode.BLOCK_DIRECTED_NOT_ALLOWED, counterparty=counterparty)
    if counterparty == account_id:
        return refused(kind, SettlementCode.BLOCK_OWN_QUOTE, counterparty=counterparty)
    return market._trading_account(kind, counterparty)


def _check_qty(
    market: Market, kind: str, quote: BlockQuote, qty_t: int, rules: BlockRules
) -> Outcome | None:
    if qty_t > quote.qty_t:
        return refused(
            kind,
            SettlementCode.BLOCK_QTY_OVER_QUOTE,
            quote_id=quote.quote_id,
            qty_t=qty_t,
            quote_qty_t=quote.qty_t,
        )
    if qty_t < rules.min_qty_t:
        return refused(
            kind, SettlementCode.BLOCK_BELOW_MINIMUM, qty_t=qty_t, min_qty_t=rules.min_qty_t
        )
    return None


def _quote_for_counterparty(
    market: Market, kind: str, account_id: AccountId, quote_id: int
) -> BlockQuote | Outcome:
    quote = market.block.quotes.get(quote_id)
    if quote is None:
        return refused(kind, SettlementCode.BLOCK_QUOTE_GONE, quote_id=quote_id)
    if quote.account_id == account_id:
        return refused(kind, SettlementCode.BLOCK_OWN_QUOTE, quote_id=quote_id)
    if quote.counterparty is not None and quote.counterparty != account_id:
        return refused(kind, SettlementCode.BLOCK_NOT_COUNTERPARTY, quote_id=quote_id)
    refusal = market._trading_account(kind, account_id)
    return quote if refusal is None else refusal


def _negotiation_of(
    market: Market, kind: str, account_id: AccountId, negotiation_id: int, *, turn: bool = False
) -> tuple[Negotiation, BlockQuote] | Outcome:
    """The negotiation and its quote if ``account_id`` is one of its sides (and, with
    ``turn``, the side whose turn it is: not the one that proposed the latest terms)."""
    desk = market.block
    negotiation = desk.negotiations.get(negotiation_id)
    quote = None if negotiation is None else desk.quotes.get(negotiation.quote_id)
    if negotiation is None or quote is None:
        return refused(kind, SettlementCode.BLOCK_NEGOTIATION_GONE, negotiation_id=negotiation_id)
    if account_id not in (negotiation.opener, quote.account_id):
        return refused(kind, SettlementCode.BLOCK_NOT_COUNTERPARTY, negotiation_id=negotiation_id)
    if turn and negotiation.proposer == account_id:
        return refused(
            kind,
            SettlementCode.BLOCK_NOT_YOUR_TURN,
            negotiation_id=negotiation_id,
            proposer=negotiation.proposer,
        )
    return negotiation, quote


def _terms(cmd: PostBlockQuote) -> _Terms:
    return _Terms(cmd.price_fen, cmd.qty_t)


def _need(market: Market, side: Side, terms: _Terms) -> int:
    """What a side holds for terms: a buy price × quantity + fee (fen), a sell its tonnes."""
    if side is Side.BUY:
        return market._buy_need_fen(terms.price_fen, terms.qty_t)
    return terms.qty_t


def _poster_extra(market: Market, quote: BlockQuote, terms: _Terms) -> int:
    """What a buying poster must hold beyond its quote's hold for negotiated terms."""
    if quote.side is not Side.BUY:
        return 0
    covered = market._buy_need_fen(quote.price_fen, terms.qty_t)
    return max(0, market._buy_need_fen(terms.price_fen, terms.qty_t) - covered)


def _check_hold(
    market: Market,
    kind: str,
    account_id: AccountId,
    symbol: str,
    side: Side,
    terms: _Terms,
    held_now: int = 0,
    open_now_t: int = 0,
) -> Outcome | None:
    """Whether ``account_id`` can hold what ``terms`` need on ``side`` beyond what it holds
    (``held_now``) and counts in its open buys (``open_now_t``) already."""
    more = _need(market, side, terms) - held_now
    if side is Side.SELL:
        return market._check_units(kind, account_id, UnitCode(symbol), more) if more > 0 else None
    refusal = market._check_funds(kind, account_id, more) if more > 0 else None
    if refusal is None and symbol.startswith("CEA") and terms.qty_t > open_now_t:
        refusal = market._check_position(kind, account_id, terms.qty_t - open_now_t)
    return refusal


def _check_commit(
    market: Market,
    kind: str,
    account_id: AccountId,
    quote: BlockQuote,
    negotiation: Negotiation | None,
    terms: _Terms,
) -> Outcome | None:
    """Whether ``account_id`` (the poster or the opener) can commit to ``terms``."""
    if account_id == quote.account_id:
        held = 0 if negotiation is None else negotiation.poster_extra_fen
        more = _poster_extra(market, quote, terms) - held
        return market._check_funds(kind, account_id, more) if more > 0 else None
    if negotiation is None:
        return _check_hold(market, kind, account_id, quote.symbol, quote.side.opposite, terms)
    return _check_hold(
        market,
        kind,
        account_id,
        quote.symbol,
        quote.side.opposite,
        terms,
        negotiation.opener_held,
        negotiation.opener_open_t,
    )


# ---------------------------------------------------------------------- holds


def _move(
    market: Market, ref: str, account_id: AccountId, symbol: str, side: Side, amount: int
) -> None:
    """Hold (``amount`` > 0) or release (< 0) cash (a buyer) or units (a seller)."""
    if side is Side.BUY:
        if amount > 0:
            market._post_cash(ref, amount, (account_id, CASH_AVAILABLE), (account_id, CASH_HELD))
        elif amount < 0:
            market._post_cash(ref, -amount, (account_id, CASH_HELD), (account_id, CASH_AVAILABLE))
    else:
        unit = UnitCode(symbol)
        if amount > 0:
            market._post_units(ref, unit, amount, (account_id, AVAILABLE), (account_id, HELD))
        elif amount < 0:
            market._post_units(ref, unit, -amount, (account_id, HELD), (account_id, AVAILABLE))


def _adjust_open_buy(market: Market, account_id: AccountId, symbol: str, delta_t: int) -> None:
    """A CEA buyer's open buys count towards its position limit (``Market._check_position``)."""
    if delta_t and symbol.startswith("CEA"):
        market._open_buy_t[account_id] = market._open_buy_t.get(account_id, 0) + delta_t


def _commit(
    market: Market,
    quote: BlockQuote,
    negotiation: Negotiation,
    account_id: AccountId,
    terms: _Terms,
) -> None:
    """``account_id`` commits to ``terms`` in ``negotiation``: its hold follows them."""
    ref = _ref(quote, negotiation)
    if account_id == quote.account_id:
        extra = _poster_extra(market, quote, terms)
        _move(market, ref, account_id, quote.symbol, Side.BUY, extra - negotiation.poster_extra_fen)
        negotiation.poster_extra_fen = extra
        return
    side = quote.side.opposite
    need = _need(market, side, terms)
    _move(market, ref, account_id, quote.symbol, side, need - negotiation.opener_held)
    negotiation.opener_held = need
    if side is Side.BUY:
        _adjust_open_buy(market, account_id, quote.symbol, terms.qty_t - negotiation.opener_open_t)
        negotiation.opener_open_t = terms.qty_t


def _ref(quote: BlockQuote, negotiation: Negotiation) -> str:
    """The postings' reference of a negotiation's holds (an acceptance's: its quote's)."""
    if negotiation.negotiation_id:
        return f"block:N{negotiation.negotiation_id}"
    return f"block:Q{quote.quote_id}"


def _end_negotiation(market: Market, negotiation: Negotiation, what: str, outcome: Outcome) -> None:
    """A negotiation ends without a deal: both sides' holds for it are released."""
    desk = market.block
    quote = desk.quotes[negotiation.quote_id]
    ref = f"block:N{negotiation.negotiation_id}"
    opener_side = quote.side.opposite
    _move(market, ref, negotiation.opener, quote.symbol, opener_side, -negotiation.opener_held)
    _move(market, ref, quote.account_id, quote.symbol, Side.BUY, -negotiation.poster_extra_fen)
    _adjust_open_buy(market, negotiation.opener, quote.symbol, -negotiation.opener_open_t)
    desk.negotiations.pop(negotiation.negotiation_id, None)
    _changed(outcome, what, quote, negotiation, negotiation.opener)


def _close_quote(market: Market, quote: BlockQuote, what: str, outcome: Outcome) -> None:
    """A quote leaves the board: what it still holds is released."""
    _move(
        market, f"block:Q{quote.quote_id}", quote.account_id, quote.symbol, quote.side, -quote.held
    )
    quote.held = 0
    if quote.side is Side.BUY:
        _adjust_open_buy(market, quote.account_id, quote.symbol, -quote.qty_t)
    del market.block.quotes[quote.quote_id]
    _changed(outcome, what, quote, None, quote.account_id)


# ---------------------------------------------------------------------- the deal


def _deal(
    market: Market,
    quote: BlockQuote,
    negotiation: Negotiation,
    ts_ns: int,
    outcome: Outcome,
    *,
    negotiated: bool,
) -> None:
    """Delivery versus payment of a block deal (券款对付), out of the holds both sides made."""
    desk = market.block
    desk.last_deal_id += 1
    deal_id = desk.last_deal_id
    price, qty = negotiation.price_fen, negotiation.qty_t
    poster, opener = quote.account_id, negotiation.opener
    buyer, seller = (poster, opener) if quote.side is Side.BUY else (opener, poster)
    notional = price * qty
    s = market.rules.settlement
    buy_fee = notional * s.fee_bp_buy // BP
    sell_fee = notional * s.fee_bp_sell // BP
    unit = UnitCode(quote.symbol)
    ref = f"block:D{deal_id}"
    # What each side's holds give this deal: the quote's share, and the negotiation's.
    if quote.side is Side.BUY:
        from_quote = market._buy_need_fen(quote.price_fen, qty)
        buyer_held = from_quote + negotiation.poster_extra_fen
        seller_held = negotiation.opener_held
    else:
        from_quote = qty
        buyer_held = negotiation.opener_held
        seller_held = from_quote
    assert buyer_held >= notional + buy_fee, (buyer_held, notional, buy_fee)
    assert seller_held == qty, (seller_held, qty)
    quote.held -= from_quote
    quote.qty_t -= qty
    market._post_cash(ref, notional, (buyer, CASH_HELD), (seller, CASH_AVAILABLE))
    if buy_fee:
        market._post_cash(ref, buy_fee, (buyer, CASH_HELD), (FEES, CASH_AVAILABLE))
    if sell_fee:
        market._post_cash(ref, sell_fee, (seller, CASH_AVAILABLE), (FEES, CASH_AVAILABLE))
    market._post_units(ref, unit, qty, (seller, HELD), (buyer, AVAILABLE))
    excess = buyer_held - notional - buy_fee
    if excess:
        market._post_cash(ref, excess, (buyer, CASH_HELD), (buyer, CASH_AVAILABLE))
    _adjust_open_buy(market, buyer, quote.symbol, -qty)
    if quote.symbol.startswith("CEA"):
        positions = market._positions
        if buyer in positions:
            positions[buyer] += qty
        if seller in positions:
            positions[seller] -= qty
    market._lock_units(buyer, unit, qty)
    market._lock_cash(seller, notional - sell_fee)
    market.day_book.record_account_trade(quote.symbol, price, qty, buyer, seller, buy_fee, sell_fee)
    outcome.block_deals = [
        *outcome.block_deals,
        BlockDeal(
            deal_id,
            ts_ns,
            quote.symbol,
            price,
            qty,
            buyer,
            seller,
            buy_fee,
            sell_fee,
            quote.quote_id,
            negotiation.negotiation_id if negotiated else None,
        ),
    ]
    _changed(outcome, "dealt", quote, negotiation, opener)
    if quote.symbol.startswith("CEA"):
        market._check_report(buyer)
    rules = market.rules.block
    assert rules is not None
    if quote.qty_t < rules.min_qty_t:
        for other in desk.negotiations_of(quote.quote_id):
            _end_negotiation(market, other, "ended", outcome)
        _close_quote(market, quote, "done" if not quote.qty_t else "closed", outcome)


def _changed(
    outcome: Outcome,
    what: str,
    quote: BlockQuote,
    negotiation: Negotiation | None,
    account_id: str,
) -> None:
    outcome.block_changes = [
        *outcome.block_changes,
        BlockChange(
            what,
            quote.quote_id,
            None if negotiation is None else negotiation.negotiation_id,
            account_id,
            quote_state(quote),
            None if negotiation is None else negotiation_state(negotiation),
        ),
    ]
