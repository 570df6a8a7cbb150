"""What the client's methods take and answer: plain JSON typed as ``TypedDict``.

Results are the server's JSON objects as they arrive (``dict``), typed with these TypedDicts
so that an editor and mypy know the fields. We chose TypedDicts over dataclasses on purpose: a
field the server adds later reaches the caller instead of breaking the client, and nothing is
converted on the way. Money is in fen and quantities in tonnes, always ``int`` (``_fen``,
``_t``). The module imports nothing from the server: the client works installed alone.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

Side = Literal["buy", "sell"]
OrderType = Literal["limit", "market", "ioc", "fok"]
StpMode = Literal["cancel_newest", "cancel_oldest", "cancel_both", "decrement"]
Role = Literal["participant", "observer", "operator", "verifier"]
AccountKind = Literal["participant", "covered_entity"]
BarInterval = Literal["1m", "5m", "15m", "1h", "1d"]

JSON = dict[str, Any]  # an answer whose shape the client does not spell out


class AllowanceGrant(TypedDict):
    vintage: int
    qty_t: int


class SurrenderItem(TypedDict):
    unit: str
    qty_t: int


class Health(TypedDict):
    status: Literal["ok"]


class MarketReadiness(TypedDict):
    market_id: str
    state: Literal["running", "reconnecting", "stopped"]
    last_seq: int
    durable_seq: int
    reconnects: int
    reconnecting_s: float | None


class Readiness(TypedDict):
    status: Literal["ready"]
    markets: list[MarketReadiness]


class NewParticipantReply(TypedDict):
    account_id: str
    api_key: str  # shown once
    kind: AccountKind
    sector: str
    province: str
    gas_fired: bool


class KeyIssued(TypedDict):
    key_id: str
    api_key: str  # shown once
    role: Role
    account_id: str | None


class KeyRevoked(TypedDict):
    key_id: str
    revoked: Literal[True]


class Fill(TypedDict):
    trade_id: int
    price_fen: int
    qty_t: int


class OrderPlaced(TypedDict):
    order_id: int
    seq: int
    # once placed: "new", "partially_filled", "filled", or "cancelled" at once (an IOC or FOK
    # that could not trade, a self-trade prevention cancel) with its cancel_reason
    status: Literal["new", "partially_filled", "filled", "cancelled"] | None
    cancel_reason: str | None
    repeated: bool  # the client order id named an earlier order: this is that order
    fills: list[Fill]


class OrderCancelled(TypedDict):
    order_id: int
    seq: int
    status: Literal["cancelled"]


class OrderAmended(TypedDict):
    order_id: int
    seq: int
    status: Literal["amended"]
    fills: list[Fill]


class Order(TypedDict):
    order_id: int
    account_id: str
    symbol: str
    side: Side
    order_type: OrderType
    price_fen: int | None
    stp: str
    submitted_t: int
    filled_t: int
    leaves_t: int
    cancelled_t: int
    status: str
    cancel_reason: str | None
    priority: int | None  # None for a finished order read from the journal


class Orders(TypedDict):
    account_id: str
    orders: list[Order]


class OrdersCancelled(TypedDict):
    account_id: str
    seq: int
    cancelled: int


class Level(TypedDict):
    price_fen: int
    qty_t: int
    order_count: int


class Book(TypedDict):
    symbol: str
    state: str
    reference_price_fen: int
    band_lower_fen: int
    band_upper_fen: int
    tick_fen: int
    lot_t: int
    bids: list[Level]  # best first
    asks: list[Level]


class LevelQuote(TypedDict):
    order_id: int
    qty_t: int  # open quantity
    own: bool  # the caller's own quote


class LevelQuotes(TypedDict):
    """One level's quotes, for point-select (``listLevelQuotes``)."""

    symbol: str
    side: Side  # the quotes' side
    price_fen: int
    level: int | None  # 1 the best; None without a quote at that price
    matching: str  # price_time, point_select or both
    take_levels: int  # 0: no point-select
    strict_price_priority: bool
    quotes: list[LevelQuote]  # time priority


class Cash(TypedDict):
    available_fen: int
    held_fen: int
    withdrawable_fen: int


class Holding(TypedDict):
    unit: str
    name: dict[str, str]  # language → display name
    available_t: int
    held_t: int
    pending_t: int
    frozen_t: int
    sellable_t: int


class Balances(TypedDict):
    account_id: str
    cash: Cash
    holdings: list[Holding]


class Trade(TypedDict):
    trade_id: int  # a block deal's: its deal id (ids are per mode)
    ts_ns: int
    symbol: str
    price_fen: int
    qty_t: int
    aggressor: Side | None  # None: a block deal
    mode: Literal["listed", "block"]


class Trades(TypedDict):
    trades: list[Trade]  # most recent first


class AccountFill(TypedDict):
    trade_id: int
    ts_ns: int
    symbol: str
    side: Side
    order_id: int
    price_fen: int
    qty_t: int
    fee_fen: int


class Fills(TypedDict):
    account_id: str
    fills: list[AccountFill]  # most recent first


class BookState(TypedDict):
    symbol: str
    state: str


class TradingStates(TypedDict):
    seq: int
    books: list[BookState]


class CashMoved(TypedDict):
    account_id: str
    seq: int
    amount_fen: int
    ref: str
    cash: Cash


class ComplianceRecord(TypedDict):
    account_id: str
    year: int
    obligation_t: int
    allowances_t: int
    offsets_t: int
    shortfall_t: int
    penalty_fen: int
    deduction_t: int
    reference_price_fen: int


class ComplianceStatus(TypedDict):
    account_id: str
    year: int
    obligation_t: int | None
    allowances_t: int
    offsets_t: int
    pending_t: int
    remaining_t: int | None  # the obligation less what was surrendered
    coverable_t: int  # what available units can legally cover of the rest today
    offset_cap_t: int | None
    offset_cap_left_t: int | None
    shortfall_t: int | None  # what would still be missing after surrendering that
    projected_penalty_fen: int | None
    deadline: str
    assessed: ComplianceRecord | None
    deduction_owed_t: int
    reference_price_fen: int | None  # what the projected penalty is priced with ...
    # ... and why (assessed: the price the assessment fixed the penalty at)
    reference_price_basis: Literal["request", "window_vwap", "last_close", "assessed"] | None
    reference_price_symbol: str | None
    penalty_kind: str
    penalty_multiplier: int
