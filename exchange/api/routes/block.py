"""Block agreement trading (大宗协议) under ``/v1/markets/{market_id}/block``: the board with
the mode's limits (``listBlockQuotes``), a participant's quotes (post, cancel), acceptance at a
quote's terms, negotiations (open, counter, confirm, end) and the deals (``listBlockDeals``).

A participant key acts for its own account; the board is read by any key of the market (each
sees what ``exchange.api.block`` lets it), negotiations by their parties, deals by their
parties and the market's operators. The board and the negotiations are read from the market's
memory once durable (``MarketRuntime.read``), the deals from the journal's
``market_block_deals`` (``exchange.db.block_deals``). Refusals are the market's, with their
numbers (docs/api-errors.md, ``BLOCK_*``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from exchange.api import block, orders
from exchange.api.auth import require, trading_account
from exchange.api.block_models import (
    BlockAcceptance,
    BlockBoard,
    BlockDeal,
    BlockDeals,
    BlockNegotiationEnded,
    BlockNegotiations,
    BlockNegotiationStep,
    BlockQuoteCancelled,
    BlockQuotePosted,
    BlockTerms,
    NewBlockQuote,
)
from exchange.api.common import PROBLEMS, known_account
from exchange.api.deps import AccountQuery, CurrentPrincipal, HubDep, MarketId, Runtime
from exchange.db.block_deals import DEALS_LIMIT, block_deals
from exchange.keys import Role
from registry_sim.model import AccountId
from settlement.market import Market

router = APIRouter(
    prefix="/v1/markets/{market_id}/block", tags=["block trades"], responses=PROBLEMS
)

QuoteId = Annotated[int, Path(ge=1, le=2**63 - 1)]
NegotiationId = Annotated[int, Path(ge=1, le=2**63 - 1)]
DealsLimit = Annotated[int, Query(ge=1, le=DEALS_LIMIT)]


@router.get("/quotes", operation_id="listBlockQuotes", response_model=BlockBoard)
async def list_block_quotes(market_id: MarketId, who: CurrentPrincipal, runtime: Runtime) -> Any:
    """The block board: public quotes, those directed to the caller and its own (operators:
    every quote), oldest first, a price hidden (null) from all but a quote's parties where the
    rule set hides board prices; with the mode's limits (minimum, sessions, whether the session
    is open now, directed quotes, today's block band per instrument). A market without block
    trading answers an empty board, ``offered: false``."""
    viewer = block.viewer_of(who)
    now_ns = runtime.now_ns()
    return await runtime.read(lambda market: block.board(market, viewer, now_ns))


@router.post(
    "/quotes", operation_id="postBlockQuote", status_code=201, response_model=BlockQuotePosted
)
async def post_block_quote(
    market_id: MarketId, body: NewBlockQuote, who: CurrentPrincipal, runtime: Runtime
) -> Any:
    """Post a block quote (大宗报价), public or directed to one ``counterparty``: at least the
    mode's minimum, within today's block band, in the block session. Its poster holds what it
    needs at once (a buy: price × quantity + fee; a sell: the units) until it is dealt,
    cancelled or expires at the close."""
    account = AccountId(trading_account(who))
    ack = await runtime.submit(block.post_command(account, body))
    return block.posted(ack, runtime.market)


@router.delete(
    "/quotes/{quote_id}", operation_id="cancelBlockQuote", response_model=BlockQuoteCancelled
)
async def cancel_block_quote(
    market_id: MarketId, quote_id: QuoteId, who: CurrentPrincipal, runtime: Runtime
) -> Any:
    """Withdraw an own quote: its hold and every negotiation on it are released."""
    account = AccountId(trading_account(who))
    return block.cancelled(await runtime.submit(block.cancel_command(account, quote_id)))


@router.post("/quotes/{quote_id}/accept", operation_id="acceptBlockQuote", response_model=BlockDeal)
async def accept_block_quote(
    market_id: MarketId,
    quote_id: QuoteId,
    body: BlockAcceptance,
    who: CurrentPrincipal,
    runtime: Runtime,
) -> Any:
    """Deal at the quote's price for ``qty_t`` (none: all that is left of it): the deal,
    settled at once by delivery versus payment (the units bought are sellable from T+N)."""
    account = AccountId(trading_account(who))
    ack = await runtime.submit(block.accept_command(account, quote_id, body.qty_t))
    return block.dealt(ack, runtime.market)


@router.post(
    "/quotes/{quote_id}/negotiations",
    operation_id="openBlockNegotiation",
    status_code=201,
    response_model=BlockNegotiationStep,
)
async def open_block_negotiation(
    market_id: MarketId,
    quote_id: QuoteId,
    body: BlockTerms,
    who: CurrentPrincipal,
    runtime: Runtime,
) -> Any:
    """Open a negotiation (对话议价) on a quote with counter terms; the opener holds what they
    need. The poster confirms, counters or ends it."""
    account = AccountId(trading_account(who))
    command = block.open_command(account, quote_id, body.price_fen, body.qty_t)
    return block.negotiated(await runtime.submit(command), account)


@router.get("/negotiations", operation_id="listBlockNegotiations", response_model=BlockNegotiations)
async def list_block_negotiations(
    market_id: MarketId,
    who: CurrentPrincipal,
    runtime: Runtime,
    account_id: AccountQuery = None,
) -> Any:
    """The account's open negotiations, as poster or opener, oldest first (operators name the
    account: ``?account_id=``): the quote, the other party, the latest terms, who proposed them,
    whose turn it is and the rounds so far."""
    account = orders.named_account(who, account_id, orders.REST_ACCOUNT_LOC)

    def mine(market: Market) -> dict[str, Any]:
        known_account(market, account)
        return {"account_id": account, "negotiations": block.negotiations(market, account)}

    return await runtime.read(mine)


@router.post(
    "/negotiations/{negotiation_id}/counter",
    operation_id="counterBlockNegotiation",
    response_model=BlockNegotiationStep,
)
async def counter_block_negotiation(
    market_id: MarketId,
    negotiation_id: NegotiationId,
    body: BlockTerms,
    who: CurrentPrincipal,
    runtime: Runtime,
) -> Any:
    """Answer the other side's terms with new ones (on one's turn)."""
    account = AccountId(trading_account(who))
    command = block.counter_command(account, negotiation_id, body.price_fen, body.qty_t)
    return block.negotiated(await runtime.submit(command), account)


@router.post(
    "/negotiations/{negotiation_id}/confirm",
    operation_id="confirmBlockDeal",
    response_model=BlockDeal,
)
async def confirm_block_deal(
    market_id: MarketId,
    negotiation_id: NegotiationId,
    body: BlockTerms,
    who: CurrentPrincipal,
    runtime: Runtime,
) -> Any:
    """Confirm the other side's latest terms, as seen (``BLOCK_TERMS_CHANGED`` if they
    countered meanwhile): the deal, settled at once by delivery versus payment."""
    account = AccountId(trading_account(who))
    command = block.confirm_command(account, negotiation_id, body.price_fen, body.qty_t)
    return block.dealt(await runtime.submit(command), runtime.market)


@router.delete(
    "/negotiations/{negotiation_id}",
    operation_id="endBlockNegotiation",
    response_model=BlockNegotiationEnded,
)
async def end_block_negotiation(
    market_id: MarketId, negotiation_id: NegotiationId, who: CurrentPrincipal, runtime: Runtime
) -> Any:
    """Walk away from a negotiation (either side): both holds for it are released; the quote
    stays on the board."""
    account = AccountId(trading_account(who))
    return block.ended(await runtime.submit(block.end_command(account, negotiation_id)))


@router.get("/deals", operation_id="listBlockDeals", response_model=BlockDeals)
async def list_block_deals(
    market_id: MarketId,
    who: CurrentPrincipal,
    runtime: Runtime,
    hub: HubDep,
    day: Annotated[dt.date | None, Query()] = None,
    account_id: AccountQuery = None,
    limit: DealsLimit = DEALS_LIMIT,
) -> Any:
    """Block deals, most recent first, of ``day`` or every day: a participant's own (either
    side); an operator's key every deal, or ``?account_id=``'s."""
    require(who, Role.PARTICIPANT, Role.OPERATOR)
    account: str | None = account_id
    if who.role is Role.PARTICIPANT:
        account = orders.named_account(who, account_id, orders.REST_ACCOUNT_LOC)
    elif account is not None:
        known_account(runtime.market, account)
    on = None if day is None else day.isoformat()
    return {"deals": await block_deals(hub.engine, market_id, account, on, limit)}
