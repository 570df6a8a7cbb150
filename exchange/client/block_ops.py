"""The block agreement trading operations (``exchange.api.routes.block``), as ``Call``
builders for both clients. A participant's key acts for its own account."""

from __future__ import annotations

import datetime as dt

from exchange.client.block_types import (
    BlockBoard,
    BlockDeal,
    BlockDeals,
    BlockNegotiationEnded,
    BlockNegotiations,
    BlockNegotiationStep,
    BlockQuoteCancelled,
    BlockQuotePosted,
)
from exchange.client.operation import OperationsBase, fields, operation
from exchange.client.transport import Call, Params
from exchange.client.types import Side


class BlockOperations(OperationsBase):
    @operation("listBlockQuotes")
    def list_block_quotes(self) -> Call[BlockBoard]:
        """The block board as the key sees it, with the mode's limits (``offered: false``
        where the market has no block trading)."""
        return Call("GET", self._market("/block/quotes"))

    @operation("postBlockQuote")
    def post_block_quote(
        self,
        symbol: str,
        side: Side,
        price_fen: int,
        qty_t: int,
        *,
        counterparty: str | None = None,
    ) -> Call[BlockQuotePosted]:
        """Post a block quote, public or directed to one ``counterparty`` account."""
        body = fields(
            symbol=symbol, side=side, price_fen=price_fen, qty_t=qty_t, counterparty=counterparty
        )
        return Call("POST", self._market("/block/quotes"), body=body)

    @operation("cancelBlockQuote")
    def cancel_block_quote(self, quote_id: int) -> Call[BlockQuoteCancelled]:
        """Withdraw an own quote (and every negotiation on it)."""
        return Call("DELETE", self._market(f"/block/quotes/{quote_id}"))

    @operation("acceptBlockQuote")
    def accept_block_quote(self, quote_id: int, qty_t: int | None = None) -> Call[BlockDeal]:
        """Deal at the quote's price for ``qty_t`` (None: all that is left): the deal."""
        return Call(
            "POST", self._market(f"/block/quotes/{quote_id}/accept"), body=fields(qty_t=qty_t)
        )

    @operation("openBlockNegotiation")
    def open_block_negotiation(
        self, quote_id: int, price_fen: int, qty_t: int
    ) -> Call[BlockNegotiationStep]:
        """Open a negotiation on a quote with counter terms."""
        body = {"price_fen": price_fen, "qty_t": qty_t}
        return Call("POST", self._market(f"/block/quotes/{quote_id}/negotiations"), body=body)

    @operation("listBlockNegotiations")
    def list_block_negotiations(self, account_id: str | None = None) -> Call[BlockNegotiations]:
        """The key's own open negotiations (operators: ``account_id``'s)."""
        params: Params = fields(account_id=account_id)
        return Call("GET", self._market("/block/negotiations"), params=params)

    @operation("counterBlockNegotiation")
    def counter_block_negotiation(
        self, negotiation_id: int, price_fen: int, qty_t: int
    ) -> Call[BlockNegotiationStep]:
        """Answer the other side's terms with new ones."""
        body = {"price_fen": price_fen, "qty_t": qty_t}
        path = f"/block/negotiations/{negotiation_id}/counter"
        return Call("POST", self._market(path), body=body)

    @operation("confirmBlockDeal")
    def confirm_block_deal(
        self, negotiation_id: int, price_fen: int, qty_t: int
    ) -> Call[BlockDeal]:
        """Confirm the other side's latest terms as seen: the deal."""
        body = {"price_fen": price_fen, "qty_t": qty_t}
        path = f"/block/negotiations/{negotiation_id}/confirm"
        return Call("POST", self._market(path), body=body)

    @operation("endBlockNegotiation")
    def end_block_negotiation(self, negotiation_id: int) -> Call[BlockNegotiationEnded]:
        """Walk away from a negotiation; the quote stays."""
        return Call("DELETE", self._market(f"/block/negotiations/{negotiation_id}"))

    @operation("listBlockDeals")
    def list_block_deals(
        self,
        day: dt.date | None = None,
        *,
        account_id: str | None = None,
        limit: int | None = None,
    ) -> Call[BlockDeals]:
        """Block deals, most recent first: the key's own (operators: all, or
        ``account_id``'s), of ``day`` or every day."""
        params: Params = fields(
            day=None if day is None else day.isoformat(), account_id=account_id, limit=limit
        )
        return Call("GET", self._market("/block/deals"), params=params)
