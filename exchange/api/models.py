"""Request bodies and replies.

Bodies are strict (a number is not a string, a bool is not a number), closed (unknown fields
are refused) and bounded, so whatever passes fits the market and the database's 64-bit columns.
Prices in fen, quantities in tonnes, both integers. Replies describe what each operation
answers, errors included (``Problem``), so that the OpenAPI document is a contract."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from matching.types import CancelReason, OrderStatus, OrderType, Side, StpMode, TradingState

MAX_AMOUNT = 2**53  # the market's own ceiling for numbers (settlement: INVALID_AMOUNT)

Fen = Annotated[int, Field(ge=1, le=MAX_AMOUNT)]
Tonnes = Annotated[int, Field(ge=1, le=MAX_AMOUNT)]
AccountIdText = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
ClientOrderId = Annotated[str, Field(pattern=r"^[\x21-\x7e]{1,64}$")]  # printable ASCII
Symbol = Annotated[str, Field(min_length=1, max_length=128)]
# Idempotent retries (exchange.api.registry_common, exchange.api.cash): a repeated request id
# acts once.
RequestId = Annotated[str, Field(pattern=r"^[\x21-\x7e]{1,128}$")]  # printable ASCII
# A unit's display name by language (``registry_sim.names``): {"zh-CN": ..., "en": ...}.
UnitName = Annotated[
    dict[str, str], Field(description="the unit's display name in each language (zh-CN, en)")
]


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class AllowanceGrant(Body):
    vintage: Annotated[int, Field(ge=2000, le=2100)]
    qty_t: Tonnes


class NewParticipant(Body):
    account_id: AccountIdText
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: Literal["participant", "covered_entity"] = "participant"
    province: Annotated[str, Field(max_length=64)] = ""
    cash_fen: Annotated[int, Field(ge=0, le=MAX_AMOUNT)] = 0
    allowances: list[AllowanceGrant] = Field(default_factory=list, max_length=50)
    # A covered entity's sector (power, steel, ...) and whether its units are gas-fired: the
    # power sector's gas top-up raises a gas-fired unit's allocation to its verified emissions.
    sector: Annotated[str, Field(max_length=64)] = ""
    gas_fired: bool = False

    @model_validator(mode="after")
    def _gas_fired_entities(self) -> NewParticipant:
        if self.gas_fired and self.kind != "covered_entity":
            raise ValueError("only a covered entity is gas-fired")
        return self


class NewKey(Body):
    role: Literal["participant", "observer", "operator", "verifier"]
    # A participant's account, or a verifier's own (a class seat's): never verified by it.
    account_id: AccountIdText | None = None

    @model_validator(mode="after")
    def _account_for_participants(self) -> NewKey:
        if self.role == "participant" and self.account_id is None:
            raise ValueError("a participant key names its account")
        if self.account_id is not None and self.role not in ("participant", "verifier"):
            raise ValueError("only a participant or a verifier key names an account")
        return self


class NewOrder(Body):
    symbol: Symbol
    side: Literal["buy", "sell"]
    order_type: Literal["limit", "market", "ioc", "fok"] = "limit"
    qty_t: Tonnes
    price_fen: Fen | None = None
    client_order_id: ClientOrderId | None = None
    # Self-trade prevention (docs/matching.md): what happens when this order would trade with
    # its own account's resting order.
    stp: Literal["cancel_newest", "cancel_oldest", "cancel_both", "decrement"] = "cancel_newest"


class TakeRequest(Body):
    """Take a resting quote (摘牌): ``qty_t`` of it at its price."""

    qty_t: Tonnes
    client_order_id: ClientOrderId | None = None


Year = Annotated[int, Field(ge=2000, le=2100)]
Ref = Annotated[str, Field(pattern=r"^[\x21-\x7e]{1,64}$")]  # printable ASCII
UnitText = Annotated[str, Field(min_length=1, max_length=128)]


class OrderAmendment(Body):
    """A new price and/or a new total quantity (FIX semantics: filled quantity included)."""

    price_fen: Fen | None = None
    qty_t: Tonnes | None = None


class HaltRequest(Body):
    symbol: Symbol | None = None  # none: every instrument
    cancel_resting: bool = False


class ResumeRequest(Body):
    symbol: Symbol | None = None


class CashMovement(Body):
    amount_fen: Fen
    ref: Ref
    request_id: RequestId | None = None


class EmissionsReport(Body):
    year: Year
    verified_t: Annotated[int, Field(ge=0, le=MAX_AMOUNT)]
    request_id: RequestId | None = None


class SurrenderItem(Body):
    unit: UnitText
    qty_t: Tonnes


class SurrenderRequest(Body):
    year: Year
    items: list[SurrenderItem] = Field(min_length=1, max_length=50)
    request_id: RequestId | None = None


class WithdrawalRequest(Body):
    request_id: RequestId | None = None


# -- responses: what each operation answers, so the OpenAPI document describes it


class Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Health(Reply):
    status: Literal["ok"]


class MarketReadiness(Reply):
    market_id: str
    state: Literal["running", "reconnecting", "stopped"]
    last_seq: int  # the last command applied
    durable_seq: int  # the last command committed
    reconnects: int  # database blips outlasted since the start
    reconnecting_s: float | None  # how long the current blip has lasted


class Readiness(Reply):
    status: Literal["ready"]
    markets: list[MarketReadiness]


class NewParticipantReply(Reply):
    account_id: str
    api_key: str  # shown once; only its hash is stored
    kind: Literal["participant", "covered_entity"]
    sector: str
    province: str
    gas_fired: bool


KeyId = Annotated[str, Field(pattern=r"^[0-9a-f]{12}$")]


class KeyIssued(Reply):
    key_id: str  # the first 12 hex digits of the key's sha256: names it for revokeKey
    api_key: str  # shown once; only its hash is stored
    role: Literal["participant", "observer", "operator", "verifier"]
    account_id: str | None


class KeyRevoked(Reply):
    key_id: str
    revoked: Literal[True]


class Fill(Reply):
    trade_id: int
    price_fen: int
    qty_t: int


class OrderPlaced(Reply):
    order_id: int
    seq: int
    # where the order stands once placed: ``new`` (rests untouched), ``partially_filled``,
    # ``filled``, or ``cancelled`` at once (an IOC or FOK that could not trade, a self-trade
    # prevention cancel), with the reason; None for a repeated client order id whose order the
    # market let go at the day's end (getOrder reads it from the journal)
    status: OrderStatus | None
    cancel_reason: CancelReason | None
    repeated: bool  # the client order id named an order placed before: this is that order
    fills: list[Fill]


class LevelQuote(Reply):
    order_id: int
    qty_t: int  # open quantity
    own: bool  # the caller's own quote (not to be taken by it)


class LevelQuotes(Reply):
    symbol: str
    side: Side  # the quotes' side: ``sell`` for offers a buyer takes, ``buy`` for bids
    price_fen: int
    level: int | None  # 1 the best; None when no quote rests at that price
    matching: str  # price_time, point_select or both (the rule set's)
    take_levels: int  # how many of the best levels a take may reach; 0: no point-select
    strict_price_priority: bool  # only the first quote of the best level may be taken
    quotes: list[LevelQuote]  # time priority, the first first


class OrderCancelled(Reply):
    order_id: int
    seq: int
    status: Literal["cancelled"]


class Order(Reply):
    order_id: int
    account_id: str
    symbol: str
    side: Side
    order_type: OrderType
    price_fen: int | None
    stp: StpMode
    submitted_t: int
    filled_t: int
    leaves_t: int
    cancelled_t: int
    status: OrderStatus
    cancel_reason: CancelReason | None
    priority: (
        int | None
    )  # time priority while it rests; None for a finished order read from the journal


class ClientOrder(Reply):
    order_id: int
    account_id: str
    client_order_id: str
    trading_day: str
    symbol: str
    side: str
    order_type: str
    price_fen: int | None
    stp: str
    submitted_t: int
    filled_t: int
    leaves_t: int
    cancelled_t: int
    status: OrderStatus
    cancel_reason: str | None


class Level(Reply):
    price_fen: int
    qty_t: int
    order_count: int


class Book(Reply):
    symbol: str
    state: TradingState
    reference_price_fen: int
    band_lower_fen: int
    band_upper_fen: int
    tick_fen: int
    lot_t: int
    bids: list[Level]  # best first
    asks: list[Level]


class Cash(Reply):
    available_fen: int
    held_fen: int
    withdrawable_fen: int


class Holding(Reply):
    unit: str
    name: UnitName
    available_t: int
    held_t: int
    pending_t: int
    frozen_t: int
    sellable_t: int


class Balances(Reply):
    account_id: str
    cash: Cash
    holdings: list[Holding]


class OrderAmended(Reply):
    order_id: int
    seq: int
    status: Literal["amended"]
    fills: list[Fill]


class Orders(Reply):
    account_id: str
    orders: list[Order]


class OrdersCancelled(Reply):
    account_id: str
    seq: int
    cancelled: int


class Trade(Reply):
    trade_id: int  # a block deal's: its deal id (ids are per mode)
    ts_ns: int
    symbol: str
    price_fen: int
    qty_t: int
    aggressor: Side | None  # None: a block deal (agreed by both sides, off the book)
    mode: Literal["listed", "block"]  # a book trade, or a block agreement deal (大宗协议)


class Trades(Reply):
    trades: list[Trade]  # most recent first


class AccountFill(Reply):
    trade_id: int
    ts_ns: int
    symbol: str
    side: Side
    order_id: int
    price_fen: int
    qty_t: int
    fee_fen: int


class Fills(Reply):
    account_id: str
    fills: list[AccountFill]  # most recent first


class BookState(Reply):
    symbol: str
    state: TradingState


class TradingStates(Reply):
    seq: int
    books: list[BookState]


class CashMoved(Reply):
    account_id: str
    seq: int
    amount_fen: int
    ref: str
    cash: Cash


class ComplianceRecord(Reply):
    account_id: str
    year: int
    obligation_t: int
    allowances_t: int
    offsets_t: int
    shortfall_t: int
    penalty_fen: int
    deduction_t: int
    reference_price_fen: int


class ComplianceStatus(Reply):
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
    projected_penalty_fen: int | None  # None: no shortfall known yet, or no price to use
    deadline: str
    assessed: ComplianceRecord | None
    deduction_owed_t: int
    # The projected penalty's basis (exchange.api.registry_common.penalty_basis):
    reference_price_fen: int | None
    reference_price_basis: Literal["request", "window_vwap", "last_close", "assessed"] | None
    reference_price_symbol: str | None  # last_close: the allowance whose close it is
    penalty_kind: str
    penalty_multiplier: int


class Problem(BaseModel):
    """An error (RFC 9457), with the numbers behind it as extra members (docs/api-errors.md)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    code: str
    detail: str
    errors: list[dict[str, Any]] | None = None  # INVALID_REQUEST: what did not match


PROBLEM_SCHEMA = Problem.model_json_schema()
