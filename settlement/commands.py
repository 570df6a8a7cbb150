"""Commands of a market (one sequencer's input): orders, cash, registry operations and the
clock's steps. Each carries the market-clock time ``ts_ns`` at which the sequencer applied it,
so replaying the journal reproduces every decision. Commands are named tuples: cheap to build
on the order path, immutable, and plain values for the journal's codec (``exchange``).
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from matching.types import OrderType, Side, StpMode, TradingState
from registry_sim.model import AccountId
from registry_sim.ops import Op


class PlaceOrder(NamedTuple):
    ts_ns: int
    account_id: AccountId
    symbol: str
    side: Side
    order_type: OrderType
    qty_t: int
    price_fen: int | None = None
    stp: StpMode = StpMode.CANCEL_NEWEST
    client_order_id: str | None = None  # unique per account and trading day (idempotency)


class CancelOrder(NamedTuple):
    ts_ns: int
    account_id: AccountId
    order_id: int


class AmendOrder(NamedTuple):
    """Change price and/or total quantity (FIX semantics: ``qty_t`` is the new order quantity,
    filled quantity included)."""

    ts_ns: int
    account_id: AccountId
    order_id: int
    price_fen: int | None = None
    qty_t: int | None = None


class TakeQuote(NamedTuple):
    """Take ``qty_t`` of the resting quote ``order_id`` at its price (摘牌, point-select). The
    taker's own order gets the next order id; ``client_order_id`` as ``PlaceOrder``'s."""

    ts_ns: int
    account_id: AccountId
    order_id: int
    qty_t: int
    client_order_id: str | None = None


class CancelAll(NamedTuple):
    """Kill switch: cancel every open order of an account, or of one instrument."""

    ts_ns: int
    account_id: AccountId
    symbol: str | None = None


class Deposit(NamedTuple):
    ts_ns: int
    account_id: AccountId
    amount_fen: int
    ref: str


class Withdraw(NamedTuple):
    ts_ns: int
    account_id: AccountId
    amount_fen: int
    ref: str


class RegistryCommand(NamedTuple):
    """A registry operation (allocation, transfer, surrender, ...) applied in sequence."""

    ts_ns: int
    op: Op


class PostBlockQuote(NamedTuple):
    """A block quote (大宗报价): public, or directed to one ``counterparty``."""

    ts_ns: int
    account_id: AccountId
    symbol: str
    side: Side
    price_fen: int
    qty_t: int
    counterparty: AccountId | None = None


class AcceptBlockQuote(NamedTuple):
    """Deal at a quote's price for ``qty_t`` (None: all that is left of it)."""

    ts_ns: int
    account_id: AccountId
    quote_id: int
    qty_t: int | None = None


class CounterBlockQuote(NamedTuple):
    """Open a negotiation (对话议价) on ``quote_id``, or answer in ``negotiation_id``."""

    ts_ns: int
    account_id: AccountId
    price_fen: int
    qty_t: int
    quote_id: int | None = None
    negotiation_id: int | None = None


class ConfirmBlockDeal(NamedTuple):
    """Confirm the other side's terms in a negotiation (as seen: price and quantity)."""

    ts_ns: int
    account_id: AccountId
    negotiation_id: int
    price_fen: int
    qty_t: int


class CancelBlockQuote(NamedTuple):
    ts_ns: int
    account_id: AccountId
    quote_id: int


class EndBlockNegotiation(NamedTuple):
    ts_ns: int
    account_id: AccountId
    negotiation_id: int


class OpenDay(NamedTuple):
    """Open ``trading_day``: the reference prices (yesterday's close) and bands apply, books
    go to pre-open; units and cash locked until this day are released."""

    ts_ns: int
    trading_day: dt.date


class SetSession(NamedTuple):
    """The clock's session step: ``CONTINUOUS`` at a session's open, ``BREAK`` between
    sessions. Halted instruments stay halted."""

    ts_ns: int
    state: TradingState


class Halt(NamedTuple):
    ts_ns: int
    symbol: str | None = None  # None: every instrument
    cancel_resting: bool = False


class Resume(NamedTuple):
    ts_ns: int
    symbol: str | None = None


class PublishAuction(NamedTuple):
    """An auction notice (拍卖公告, operators): ``seller`` offers ``volume_t`` of ``symbol``
    (held from now until the auction clears), bids taken from ``opens_ns`` until
    ``closes_ns`` (market time, one trading day's), at or above ``reserve_fen`` (None: the
    rule set's reserve rule, worked out at publication: fixed, a multiple of the listed
    VWAP, or none); ``seed`` fixes the draw for ties before any bid comes."""

    ts_ns: int
    seller: AccountId
    symbol: str
    volume_t: int
    reserve_fen: int | None
    opens_ns: int
    closes_ns: int
    seed: int
    sale: str = "auction"  # or a fixed-price "reserve" (tier) or "ceiling" sale


class SubmitBid(NamedTuple):
    """A sealed bid in an auction: its whole value held in cash until the auction clears."""

    ts_ns: int
    account_id: AccountId
    auction_id: int
    price_fen: int
    qty_t: int


class AmendBid(NamedTuple):
    """Replace an own bid by one at a new price and quantity while the window is open, where
    the rule set allows withdrawing: checked as a new bid; it takes a new bid id."""

    ts_ns: int
    account_id: AccountId
    bid_id: int
    price_fen: int
    qty_t: int


class WithdrawBid(NamedTuple):
    """Withdraw an own bid while the window is open, where the rule set allows it."""

    ts_ns: int
    account_id: AccountId
    bid_id: int


class CloseAuction(NamedTuple):
    """Clear an auction once its window has closed (``settlement.auction``): the awards are
    delivered against payment, the rest released. ``secondary_fen``: the secondary market's
    price the rule set's cancellation compares with (None: the instrument's last price)."""

    ts_ns: int
    auction_id: int
    secondary_fen: int | None = None


class CloseDay(NamedTuple):
    """After the last session: books close and every open day order expires."""

    ts_ns: int


class EndOfDay(NamedTuple):
    """Day-end clearing: the close, tomorrow's reference price, statements."""

    ts_ns: int


MarketCommand = (
    PlaceOrder
    | CancelOrder
    | AmendOrder
    | CancelAll
    | TakeQuote
    | Deposit
    | Withdraw
    | PostBlockQuote
    | AcceptBlockQuote
    | CounterBlockQuote
    | ConfirmBlockDeal
    | CancelBlockQuote
    | EndBlockNegotiation
    | PublishAuction
    | SubmitBid
    | AmendBid
    | WithdrawBid
    | CloseAuction
    | RegistryCommand
    | OpenDay
    | SetSession
    | Halt
    | Resume
    | CloseDay
    | EndOfDay
)

COMMAND_TYPES: tuple[type, ...] = (
    PlaceOrder,
    CancelOrder,
    AmendOrder,
    CancelAll,
    TakeQuote,
    Deposit,
    Withdraw,
    PostBlockQuote,
    AcceptBlockQuote,
    CounterBlockQuote,
    ConfirmBlockDeal,
    CancelBlockQuote,
    EndBlockNegotiation,
    PublishAuction,
    SubmitBid,
    AmendBid,
    WithdrawBid,
    CloseAuction,
    RegistryCommand,
    OpenDay,
    SetSession,
    Halt,
    Resume,
    CloseDay,
    EndOfDay,
)
