"""Every REST operation of the gateway, once: each method builds the ``Call`` for one
operation id (``placeOrder`` -> ``place_order``); ``AsyncClient`` and ``Client`` execute it.

Paths under ``/v1/markets/{market_id}`` use the client's ``market_id``. Arguments left ``None``
are not sent, so the server's defaults apply.
"""

from __future__ import annotations

import uuid
from typing import Literal

from exchange.client.auction_ops import AuctionOperations
from exchange.client.block_ops import BlockOperations
from exchange.client.classroom_ops import ClassroomOperations
from exchange.client.market_ops import MarketOperations
from exchange.client.mrv_ops import MrvOperations
from exchange.client.operation import fields, operation, segment
from exchange.client.registry_ops import RegistryOperations
from exchange.client.transport import Call, Params
from exchange.client.types import (
    AccountKind,
    AllowanceGrant,
    Balances,
    Book,
    CashMoved,
    ComplianceStatus,
    Fills,
    Health,
    KeyIssued,
    KeyRevoked,
    LevelQuotes,
    NewParticipantReply,
    Order,
    OrderAmended,
    OrderCancelled,
    OrderPlaced,
    Orders,
    OrdersCancelled,
    OrderType,
    Readiness,
    Role,
    Side,
    StpMode,
    SurrenderItem,
    Trades,
    TradingStates,
)


def new_client_order_id() -> str:
    """A fresh client order id (printable ASCII, at most 64 characters)."""
    return "cx-" + uuid.uuid4().hex


class Operations(
    MarketOperations,
    BlockOperations,
    AuctionOperations,
    RegistryOperations,
    ClassroomOperations,
    MrvOperations,
):
    """Every operation; mixed into a client that has a transport (see ``exchange.client``)."""

    # -- health and access

    @operation("health")
    def health(self) -> Call[Health]:
        """``GET /healthz``: the process is up."""
        return Call("GET", "/healthz")

    @operation("readiness")
    def readiness(self) -> Call[Readiness]:
        """``GET /readyz``: every hosted market runs (``UnavailableError`` ``NOT_READY``
        while one reconnects to its database or has stopped, ``numbers["markets"]``)."""
        return Call("GET", "/readyz")

    @operation("createParticipant")
    def create_participant(
        self,
        account_id: str,
        name: str,
        *,
        kind: AccountKind | None = None,
        province: str | None = None,
        cash_fen: int | None = None,
        allowances: list[AllowanceGrant] | None = None,
        sector: str | None = None,
        gas_fired: bool | None = None,
    ) -> Call[NewParticipantReply]:
        """Open a trading account with cash and allowances, and mint its key (operators); a
        covered entity may name its sector and be ``gas_fired`` (the gas top-up applies)."""
        body = fields(
            account_id=account_id,
            name=name,
            kind=kind,
            province=province,
            cash_fen=cash_fen,
            allowances=allowances,
            sector=sector,
            gas_fired=gas_fired,
        )
        return Call("POST", self._market("/participants"), body=body)

    @operation("issueKey")
    def issue_key(self, role: Role, account_id: str | None = None) -> Call[KeyIssued]:
        """Mint a key (operators); a participant key names its account."""
        return Call("POST", self._market("/keys"), body=fields(role=role, account_id=account_id))

    @operation("revokeKey")
    def revoke_key(self, key_id: str) -> Call[KeyRevoked]:
        """Revoke a key by its ``key_id`` (operators)."""
        return Call("DELETE", self._market(f"/keys/{segment(key_id)}"))

    # -- orders

    @operation("placeOrder")
    def place_order(
        self,
        symbol: str,
        side: Side,
        qty_t: int,
        price_fen: int | None = None,
        *,
        order_type: OrderType | None = None,
        client_order_id: str | None = None,
        stp: StpMode | None = None,
        retry: bool = False,
    ) -> Call[OrderPlaced]:
        """Place an order. ``retry=True`` makes it safe to resend after a connection error:
        it gets a ``client_order_id`` if it has none, and the server answers a resend with the
        original order (``repeated: true``) instead of placing a second one. ``stp``: what
        happens if it would trade with an own resting order (default ``cancel_newest``)."""
        if retry and client_order_id is None:
            client_order_id = new_client_order_id()
        body = fields(
            symbol=symbol,
            side=side,
            order_type=order_type,
            qty_t=qty_t,
            price_fen=price_fen,
            client_order_id=client_order_id,
            stp=stp,
        )
        return Call("POST", self._market("/orders"), body=body, repeatable=retry)

    @operation("takeQuote")
    def take_quote(
        self,
        order_id: int,
        qty_t: int,
        *,
        client_order_id: str | None = None,
        retry: bool = False,
    ) -> Call[OrderPlaced]:
        """Point-select (摘牌): take ``qty_t`` of the resting quote ``order_id`` at its price;
        answers the taker's own order as ``place_order`` does. ``retry`` as there."""
        if retry and client_order_id is None:
            client_order_id = new_client_order_id()
        body = fields(qty_t=qty_t, client_order_id=client_order_id)
        return Call("POST", self._market(f"/orders/{order_id}/take"), body=body, repeatable=retry)

    @operation("cancelOrder")
    def cancel_order(self, order_id: int) -> Call[OrderCancelled]:
        """Cancel an own open order."""
        return Call("DELETE", self._market(f"/orders/{order_id}"))

    @operation("amendOrder")
    def amend_order(
        self, order_id: int, *, price_fen: int | None = None, qty_t: int | None = None
    ) -> Call[OrderAmended]:
        """Change an own resting order's price and/or total quantity (filled included)."""
        body = fields(price_fen=price_fen, qty_t=qty_t)
        return Call("PATCH", self._market(f"/orders/{order_id}"), body=body)

    @operation("getOrder")
    def get_order(self, order_id: int) -> Call[Order]:
        """One order (a participant's own; any for operators)."""
        return Call("GET", self._market(f"/orders/{order_id}"))

    @operation("listOrders")
    def list_orders(
        self, account_id: str | None = None, status: Literal["open", "all"] | None = None
    ) -> Call[Orders]:
        """Open orders, oldest first: the key's own, or (operators) ``account_id``'s;
        ``status="all"``: every order of the trading day, whatever became of it."""
        params = fields(account_id=account_id, status=status)
        return Call("GET", self._market("/orders"), params=params)

    @operation("cancelAllOrders")
    def cancel_all_orders(
        self, symbol: str | None = None, account_id: str | None = None
    ) -> Call[OrdersCancelled]:
        """Kill switch: cancel every open order of the account (of one symbol if named)."""
        params: Params = fields(symbol=symbol, account_id=account_id)
        return Call("DELETE", self._market("/orders"), params=params)

    # -- market data

    @operation("getBook")
    def get_book(self, symbol: str, depth: int | None = None) -> Call[Book]:
        """The instrument's book: state, band and the best ``depth`` levels a side."""
        params = fields(depth=depth)
        return Call("GET", self._market(f"/book/{segment(symbol)}"), params=params)

    @operation("listLevelQuotes")
    def list_level_quotes(self, symbol: str, side: Side, price_fen: int) -> Call[LevelQuotes]:
        """The quotes resting at one price level, in time priority, with the level's rank and
        the point-select rules: what ``take_quote`` chooses from."""
        params = fields(side=side, price_fen=price_fen)
        return Call("GET", self._market(f"/book/{segment(symbol)}/quotes"), params=params)

    @operation("listTrades")
    def list_trades(self, symbol: str | None = None, limit: int | None = None) -> Call[Trades]:
        """The public trade tape, most recent first."""
        return Call("GET", self._market("/trades"), params=fields(symbol=symbol, limit=limit))

    @operation("listFills")
    def list_fills(
        self, account_id: str | None = None, symbol: str | None = None, limit: int | None = None
    ) -> Call[Fills]:
        """The account's own trades, most recent first."""
        params: Params = fields(account_id=account_id, symbol=symbol, limit=limit)
        return Call("GET", self._market("/fills"), params=params)

    # -- accounts and compliance

    @operation("getBalances")
    def get_balances(self, account_id: str) -> Call[Balances]:
        """Cash and holdings of an account (own, or any for operators)."""
        return Call("GET", self._account(account_id, "/balances"))

    @operation("deposit")
    def deposit(
        self, account_id: str, amount_fen: int, ref: str, *, request_id: str | None = None
    ) -> Call[CashMoved]:
        """Bring cash into a trading account (operators); ``ref`` names the movement. A repeated
        ``request_id`` answers the first movement instead of a second one."""
        body = fields(amount_fen=amount_fen, ref=ref, request_id=request_id)
        return Call("POST", self._account(account_id, "/deposits"), body=body)

    @operation("withdraw")
    def withdraw(
        self, account_id: str, amount_fen: int, ref: str, *, request_id: str | None = None
    ) -> Call[CashMoved]:
        """Pay cash out of a trading account (operators), up to what is withdrawable. A repeated
        ``request_id`` answers the first movement instead of a second one."""
        body = fields(amount_fen=amount_fen, ref=ref, request_id=request_id)
        return Call("POST", self._account(account_id, "/withdrawals"), body=body)

    @operation("getComplianceStatus")
    def get_compliance_status(
        self, account_id: str, year: int, reference_price_fen: int | None = None
    ) -> Call[ComplianceStatus]:
        """The account's compliance position (清缴) for ``year``, its projected penalty priced
        at ``reference_price_fen`` (default: the penalty reference price)."""
        params = fields(reference_price_fen=reference_price_fen)
        return Call("GET", self._account(account_id, f"/compliance/{year}"), params=params)

    @operation("recordEmissions")
    def record_emissions(
        self, account_id: str, year: int, verified_t: int, *, request_id: str | None = None
    ) -> Call[ComplianceStatus]:
        """Record a covered entity's verified emissions for a year (operators)."""
        body = fields(year=year, verified_t=verified_t, request_id=request_id)
        return Call("POST", self._account(account_id, "/emissions"), body=body)

    @operation("surrender")
    def surrender(
        self,
        account_id: str,
        year: int,
        items: list[SurrenderItem],
        *,
        request_id: str | None = None,
    ) -> Call[ComplianceStatus]:
        """Surrender own units (清缴) for a compliance year."""
        body = fields(year=year, items=items, request_id=request_id)
        return Call("POST", self._account(account_id, "/surrenders"), body=body)

    @operation("withdrawSurrender")
    def withdraw_surrender(
        self, account_id: str, year: int, *, request_id: str | None = None
    ) -> Call[ComplianceStatus]:
        """Withdraw own units surrendered for ``year`` and still pending (before assessment)."""
        body = fields(request_id=request_id)
        return Call("POST", self._account(account_id, f"/surrenders/{year}/withdrawal"), body=body)

    # -- operator controls

    @operation("haltTrading")
    def halt_trading(
        self, symbol: str | None = None, *, cancel_resting: bool | None = None
    ) -> Call[TradingStates]:
        """Halt one instrument or all (operators)."""
        body = fields(symbol=symbol, cancel_resting=cancel_resting)
        return Call("POST", self._market("/halt"), body=body)

    @operation("resumeTrading")
    def resume_trading(self, symbol: str | None = None) -> Call[TradingStates]:
        """Resume halted instruments (operators)."""
        return Call("POST", self._market("/resume"), body=fields(symbol=symbol))
