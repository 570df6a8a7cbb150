"""Block agreement trading (大宗协议) for the gateway: who sees what of the board, the views the
REST routes (``exchange.api.routes.block``) and the WebSocket ``block`` channel
(``exchange.api.feed``) both answer, the commands a request becomes and the replies its
acknowledgement becomes.

Who sees a quote: a public one, every key of the market; a directed one, its poster, its
counterparty and the market's operators. Its price: everyone who sees it, unless the rule set
hides board prices (``board_prices = false``), then only its parties and operators. A
negotiation and a deal are their two parties' alone.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from exchange.api.block_models import NewBlockQuote
from exchange.api.errors import accepted
from exchange.clock import local_date
from exchange.keys import Principal, Role
from exchange.runtime import Ack
from matching.types import Side
from registry_sim.model import AccountId
from settlement import block as desk
from settlement.commands import (
    AcceptBlockQuote,
    CancelBlockQuote,
    ConfirmBlockDeal,
    CounterBlockQuote,
    EndBlockNegotiation,
    PostBlockQuote,
)
from settlement.market import Market
from settlement.outcome import BlockChange, BlockDeal, BlockNegotiationState, BlockQuoteState


class Viewer(NamedTuple):
    """Who looks at the board: an account (a participant key's), an operator (sees every
    quote and price), or neither (an observer: the public board)."""

    account_id: str | None
    operator: bool = False


PUBLIC = Viewer(None)
OPERATOR = Viewer(None, operator=True)


def viewer_of(who: Principal) -> Viewer:
    if who.role is Role.OPERATOR:
        return OPERATOR
    if who.role is Role.PARTICIPANT:
        return Viewer(who.account_id)
    return PUBLIC


def is_party(quote: BlockQuoteState, account_id: str | None) -> bool:
    """The quote's poster, or the one counterparty it is directed to."""
    return account_id is not None and account_id in (quote.account_id, quote.counterparty)


def sees(quote: BlockQuoteState, viewer: Viewer) -> bool:
    return viewer.operator or quote.counterparty is None or is_party(quote, viewer.account_id)


def quote_view(quote: BlockQuoteState, viewer: Viewer, board_prices: bool) -> dict[str, Any]:
    """``BlockQuote``: the quote as ``viewer`` sees it (who ``sees`` it)."""
    party = viewer.operator or is_party(quote, viewer.account_id)
    return {
        "quote_id": quote.quote_id,
        "symbol": quote.symbol,
        "side": quote.side.value,
        "price_fen": quote.price_fen if board_prices or party else None,
        "qty_t": quote.qty_t,
        "account_id": quote.account_id,
        "counterparty": quote.counterparty if party else None,
        "ts_ns": quote.ts_ns,
        "mine": quote.account_id == viewer.account_id,
    }


def negotiation_parties(
    negotiation: BlockNegotiationState, quote: BlockQuoteState
) -> tuple[str, str]:
    """(the poster, the opener)."""
    return quote.account_id, negotiation.opener


def negotiation_view(
    negotiation: BlockNegotiationState, quote: BlockQuoteState, account_id: str
) -> dict[str, Any]:
    """``BlockNegotiation``: the negotiation as ``account_id``, one of its parties, sees it."""
    poster, opener = negotiation_parties(negotiation, quote)
    posted = account_id == poster
    other = opener if posted else poster
    side = quote.side if posted else quote.side.opposite
    return {
        "negotiation_id": negotiation.negotiation_id,
        "quote_id": quote.quote_id,
        "symbol": quote.symbol,
        "side": side.value,
        "role": "poster" if posted else "opener",
        "counterparty": other,
        "price_fen": negotiation.price_fen,
        "qty_t": negotiation.qty_t,
        "proposed_by": negotiation.proposer,
        "my_turn": negotiation.proposer != account_id,
        "rounds": negotiation.rounds,
        "ts_ns": negotiation.ts_ns,
    }


def deal_view(deal: BlockDeal, seq: int, trading_day: str) -> dict[str, Any]:
    """``BlockDeal``, as ``market_block_deals`` keeps it."""
    return {
        "deal_id": deal.deal_id,
        "seq": seq,
        "ts_ns": deal.ts_ns,
        "trading_day": trading_day,
        "symbol": deal.symbol,
        "price_fen": deal.price_fen,
        "qty_t": deal.qty_t,
        "buy_account_id": deal.buy_account_id,
        "sell_account_id": deal.sell_account_id,
        "buy_fee_fen": deal.buy_fee_fen,
        "sell_fee_fen": deal.sell_fee_fen,
        "quote_id": deal.quote_id,
        "negotiation_id": deal.negotiation_id,
    }


def deal_day(market: Market, deal: BlockDeal) -> str:
    """The trading day of a deal: the local date of its market time (the block session lies
    within its trading day)."""
    return local_date(market.rules.calendar, deal.ts_ns).isoformat()


# ---------------------------------------------------------------------- reads


def board(market: Market, viewer: Viewer, now_ns: int) -> dict[str, Any]:
    """``BlockBoard``: the quotes ``viewer`` sees, oldest first, and the mode's limits; for an
    operator, how many negotiations are open (a participant reads its own in full)."""
    rules = market.rules.block
    calendar = market.rules.calendar
    day = None if market.trading_day is None else market.trading_day.isoformat()
    if rules is None:
        return {
            "offered": False,
            "trading_day": day,
            "min_qty_t": None,
            "band_bp": None,
            "sessions": [],
            "timezone": calendar.timezone,
            "open_now": False,
            "directed": False,
            "board_prices": False,
            "bands": [],
            "quotes": [],
            "negotiations_open": 0 if viewer.operator else None,
        }
    bands = []
    for symbol in market.instruments:
        lower, upper, reference = desk.band(market, symbol)
        bands.append(
            {
                "symbol": symbol,
                "reference_price_fen": reference,
                "lower_fen": lower,
                "upper_fen": upper,
            }
        )
    states = (desk.quote_state(q) for q in market.block.quotes.values())
    return {
        "offered": True,
        "trading_day": day,
        "min_qty_t": rules.min_qty_t,
        "band_bp": rules.band_bp,
        "sessions": [[a.isoformat("minutes"), b.isoformat("minutes")] for a, b in rules.sessions],
        "timezone": calendar.timezone,
        "open_now": desk.in_session(market, now_ns),
        "directed": rules.directed,
        "board_prices": rules.board_prices,
        "bands": bands,
        "quotes": [
            quote_view(q, viewer, rules.board_prices)
            for q in sorted(states, key=lambda q: q.quote_id)
            if sees(q, viewer)
        ],
        "negotiations_open": len(market.block.negotiations) if viewer.operator else None,
    }


def negotiations(market: Market, account_id: str) -> list[dict[str, Any]]:
    """The account's open negotiations, as poster or opener, oldest first."""
    quotes = market.block.quotes
    found = []
    for n in sorted(market.block.negotiations.values(), key=lambda n: n.negotiation_id):
        quote = quotes.get(n.quote_id)
        if quote is not None and account_id in (quote.account_id, n.opener):
            state = desk.quote_state(quote)
            found.append(negotiation_view(desk.negotiation_state(n), state, account_id))
    return found


def board_prices(market: Market) -> bool:
    rules = market.rules.block
    return rules is not None and rules.board_prices


# ---------------------------------------------------------------------- commands and replies


def post_command(account: AccountId, body: NewBlockQuote) -> PostBlockQuote:
    to = None if body.counterparty is None else AccountId(body.counterparty)
    return PostBlockQuote(0, account, body.symbol, Side(body.side), body.price_fen, body.qty_t, to)


def accept_command(account: AccountId, quote_id: int, qty_t: int | None) -> AcceptBlockQuote:
    return AcceptBlockQuote(0, account, quote_id, qty_t)


def open_command(
    account: AccountId, quote_id: int, price_fen: int, qty_t: int
) -> CounterBlockQuote:
    return CounterBlockQuote(0, account, price_fen, qty_t, quote_id, None)


def counter_command(
    account: AccountId, negotiation_id: int, price_fen: int, qty_t: int
) -> CounterBlockQuote:
    return CounterBlockQuote(0, account, price_fen, qty_t, None, negotiation_id)


def confirm_command(
    account: AccountId, negotiation_id: int, price_fen: int, qty_t: int
) -> ConfirmBlockDeal:
    return ConfirmBlockDeal(0, account, negotiation_id, price_fen, qty_t)


def cancel_command(account: AccountId, quote_id: int) -> CancelBlockQuote:
    return CancelBlockQuote(0, account, quote_id)


def end_command(account: AccountId, negotiation_id: int) -> EndBlockNegotiation:
    return EndBlockNegotiation(0, account, negotiation_id)


def _change(ack: Ack, *what: str) -> BlockChange:
    return next(c for c in accepted(ack).outcome.block_changes if c.what in what)


def posted(ack: Ack, market: Market) -> dict[str, Any]:
    """``postBlockQuote``'s reply (``BlockQuotePosted``): the quote as its poster sees it."""
    change = _change(ack, "posted")
    viewer = Viewer(change.quote.account_id)
    return {"seq": ack.seq, "quote": quote_view(change.quote, viewer, board_prices(market))}


def cancelled(ack: Ack) -> dict[str, Any]:
    """``cancelBlockQuote``'s reply (``BlockQuoteCancelled``)."""
    changes = accepted(ack).outcome.block_changes
    (quote_id,) = {c.quote_id for c in changes if c.what == "cancelled"}
    ended = [c.negotiation_id for c in changes if c.what == "ended" and c.negotiation_id]
    return {
        "seq": ack.seq,
        "quote_id": quote_id,
        "status": "cancelled",
        "negotiations_ended": ended,
    }


def dealt(ack: Ack, market: Market) -> dict[str, Any]:
    """``acceptBlockQuote``'s and ``confirmBlockDeal``'s reply: the deal (``BlockDeal``)."""
    (deal,) = accepted(ack).outcome.block_deals
    return deal_view(deal, ack.seq, deal_day(market, deal))


def negotiated(ack: Ack, account: str) -> dict[str, Any]:
    """``openBlockNegotiation``'s and ``counterBlockNegotiation``'s reply
    (``BlockNegotiationStep``): the negotiation as the caller now sees it."""
    change = _change(ack, "opened", "countered")
    assert change.negotiation is not None
    return {
        "seq": ack.seq,
        "negotiation": negotiation_view(change.negotiation, change.quote, account),
    }


def ended(ack: Ack) -> dict[str, Any]:
    """``endBlockNegotiation``'s reply (``BlockNegotiationEnded``)."""
    change = _change(ack, "ended")
    return {"seq": ack.seq, "negotiation_id": change.negotiation_id, "status": "ended"}
