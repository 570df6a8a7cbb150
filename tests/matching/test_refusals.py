"""Refusals: one case per reject code the engine can produce, and the documented check order.

Every refused command yields exactly one ``CommandRejected`` and changes nothing but the sequence
counter. "Nothing" is checked twice: every query answer is the same before and after, and the
engine's ``state_hash()`` equals that of a twin engine that got the same history and then a
different refusal (an unknown instrument), which also takes one sequence number.

The market has CEA25 (cn_national: tick 1 fen, lot 1 t, 1-99,999 t) and CCER, the same rules with
a 5-fen tick, a 10 t lot and a 10 t minimum, so off-tick and off-lot faults exist. Both are at
CNY 60.00 (band 54.00-66.00) in continuous trading.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pytest

from matching import (
    AccountId,
    CommandRejected,
    Event,
    OrderId,
    OrderType,
    RejectCode,
    SetTradingState,
    Symbol,
    TradingState,
)
from matching.codes import DESCRIPTIONS
from tests.matching.conftest import (
    BUY,
    COARSE_OVERRIDES,
    COARSE_SYM,
    FOK,
    IOC,
    LIMIT,
    MARKET,
    REF,
    SELL,
    SYM,
    Market,
    cn_instrument,
    kinds,
    only_rejection,
    open_market,
)

CLOSED = TradingState.CLOSED
PRE_OPEN = TradingState.PRE_OPEN
CONTINUOUS = TradingState.CONTINUOUS
BREAK = TradingState.BREAK
HALTED = TradingState.HALTED
C = RejectCode

LIMITS = {"min_qty_t": 1, "max_qty_t": 99_999}
BAND = {"band_lower_fen": 5400, "band_upper_fen": 6600, "reference_price_fen": REF}


def market() -> Market:
    return open_market(
        [cn_instrument(SYM), cn_instrument(COARSE_SYM, COARSE_OVERRIDES)],
        {SYM: REF, COARSE_SYM: REF},
    )


# ---------------------------------------------------------------- setups


def nothing(m: Market) -> None:
    pass


def states(*steps: TradingState, symbol: str = SYM) -> Callable[[Market], None]:
    def setup(m: Market) -> None:
        for state in steps:
            m.set_state(state, symbol=symbol)

    return setup


def resting(m: Market) -> None:
    """Order 1: A sells 10 t of CEA25 at 60.00. Order 2: A sells 30 t of CCER at 60.00."""
    m.sell(1, 10, 6000, account="A")
    m.sell(2, 30, 6000, account="A", symbol=COARSE_SYM)


def partly_filled(m: Market) -> None:
    """Order 1 (CEA25) has 4 of 10 t filled; order 2 (CCER) 20 of 30 t."""
    resting(m)
    m.buy(3, 4, 6000, account="B")
    m.buy(4, 20, 6000, account="B", symbol=COARSE_SYM)


def filled(m: Market) -> None:
    """Order 1 filled in full; order 3 (B's buy) too."""
    resting(m)
    m.buy(3, 10, 6000, account="B")


def cancelled(m: Market) -> None:
    resting(m)
    m.cancel(1, "A")


def ioc_done(m: Market) -> None:
    """Order 5, an IOC that never rested."""
    m.buy(5, 3, 6000, account="A", order_type=IOC)


def then(*setups: Callable[[Market], None]) -> Callable[[Market], None]:
    def setup(m: Market) -> None:
        for step in setups:
            step(m)

    return setup


# ---------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    setup: Callable[[Market], None]
    fault: Callable[[Market], list[Event]]
    code: RejectCode
    details: Mapping[str, int | str | None]
    command: str = "new_order"
    order_id: int | None = None
    account_id: str | None = None
    symbol: str | None = None
    build: Callable[[], Market] = market


def new(
    setup: Callable[[Market], None],
    code: RejectCode,
    details: Mapping[str, int | str | None],
    *,
    order_id: int = 9,
    side: str = "buy",
    qty: int = 5,
    price: int | None = 6000,
    order_type: OrderType = LIMIT,
    symbol: str = SYM,
    account: str = "A",
) -> Case:
    def fault(m: Market) -> list[Event]:
        return m.order(
            order_id,
            BUY if side == "buy" else SELL,
            qty,
            price,
            account=account,
            order_type=order_type,
            symbol=symbol,
        )

    return Case(setup, fault, code, details, "new_order", order_id, account, symbol)


def cancel(
    setup: Callable[[Market], None],
    code: RejectCode,
    details: Mapping[str, int | str | None],
    *,
    order_id: int = 1,
    account: str = "A",
    symbol: str | None = None,
) -> Case:
    def fault(m: Market) -> list[Event]:
        return m.cancel(order_id, account)

    # A cancel names no symbol; the rejection names the order's only once it is the caller's.
    return Case(setup, fault, code, details, "cancel_order", order_id, account, symbol)


def amend(
    setup: Callable[[Market], None],
    code: RejectCode,
    details: Mapping[str, int | str | None],
    *,
    order_id: int = 1,
    account: str = "A",
    price: int | None = None,
    qty: int | None = None,
    symbol: str | None = SYM,
) -> Case:
    def fault(m: Market) -> list[Event]:
        return m.amend(order_id, account, price=price, qty=qty)

    return Case(setup, fault, code, details, "amend_order", order_id, account, symbol)


def take(
    setup: Callable[[Market], None],
    code: RejectCode,
    details: Mapping[str, int | str | None],
    *,
    quote_id: int = 1,
    qty: int = 5,
    account: str = "B",
    symbol: str | None = SYM,
    build: Callable[[], Market] = market,
) -> Case:
    def fault(m: Market) -> list[Event]:
        return m.take(9, quote_id, qty, account)

    return Case(setup, fault, code, details, "take_quote", 9, account, symbol, build)


def listed_market(**listed: object) -> Callable[[], Market]:
    """A market of CEA25 alone whose listed mode's ``listed`` fields are overridden."""

    def build() -> Market:
        overrides = {"trading": {"modes": {"listed": listed}}}
        return open_market([cn_instrument(SYM, overrides)], {SYM: REF})

    return build


POINT_SELECT_ONLY = listed_market(matching="point_select")


def six_asks(m: Market) -> None:
    """A sells 10 t at each of 60.00 to 60.05: orders 1 to 6, levels 1 to 6."""
    for i in range(6):
        m.sell(1 + i, 10, 6000 + i, account="A")


def two_asks_at_one_price(m: Market) -> None:
    """A sells 10 t at 60.00 (order 1), then C 10 t at 60.00 (order 2)."""
    m.sell(1, 10, 6000, account="A")
    m.sell(2, 10, 6000, account="C")


def ask_and_bid(m: Market) -> None:
    """A sells 10 t at 60.00 (order 1); B bids 5 t at 59.90 (order 3)."""
    m.sell(1, 10, 6000, account="A")
    m.buy(3, 5, 5990, account="B")


def set_state(
    setup: Callable[[Market], None],
    code: RejectCode,
    details: Mapping[str, int | str | None],
    *,
    state: TradingState,
    symbol: str = SYM,
    rejection_symbol: str | None = SYM,
) -> Case:
    def fault(m: Market) -> list[Event]:
        return m.set_state(state, symbol=symbol)

    return Case(setup, fault, code, details, "set_trading_state", None, None, rejection_symbol)


def set_reference(
    setup: Callable[[Market], None],
    code: RejectCode,
    details: Mapping[str, int | str | None],
    *,
    price: int,
    symbol: str = SYM,
    rejection_symbol: str | None = SYM,
) -> Case:
    def fault(m: Market) -> list[Event]:
        return m.set_reference(price, symbol=symbol)

    return Case(setup, fault, code, details, "set_reference_price", None, None, rejection_symbol)


CLOSE_CEA25 = states(CLOSED)

CASES = {
    # -- instrument and trading state
    "unknown_instrument/new_order": new(
        nothing, C.UNKNOWN_INSTRUMENT, {"symbol": "NOPE"}, symbol="NOPE"
    ),
    # The rejection names the symbol the command named, known or not.
    "unknown_instrument/set_trading_state": set_state(
        nothing,
        C.UNKNOWN_INSTRUMENT,
        {"symbol": "NOPE"},
        state=HALTED,
        symbol="NOPE",
        rejection_symbol="NOPE",
    ),
    "unknown_instrument/set_reference_price": set_reference(
        nothing,
        C.UNKNOWN_INSTRUMENT,
        {"symbol": "NOPE"},
        price=6000,
        symbol="NOPE",
        rejection_symbol="NOPE",
    ),
    "invalid_state_transition": set_state(
        resting,
        C.INVALID_STATE_TRANSITION,
        {"from": "continuous", "to": "pre_open"},
        state=PRE_OPEN,
    ),
    "invalid_state_transition/same_state": set_state(
        resting,
        C.INVALID_STATE_TRANSITION,
        {"from": "continuous", "to": "continuous"},
        state=CONTINUOUS,
    ),
    "reference_price_locked": set_reference(
        resting, C.REFERENCE_PRICE_LOCKED, {"state": "continuous"}, price=6100
    ),
    "reference_price_locked/halted": set_reference(
        then(resting, states(HALTED)), C.REFERENCE_PRICE_LOCKED, {"state": "halted"}, price=6100
    ),
    "invalid_reference_price/zero": set_reference(
        CLOSE_CEA25, C.INVALID_REFERENCE_PRICE, {"price_fen": 0, "tick_fen": 1}, price=0
    ),
    "invalid_reference_price/negative": set_reference(
        states(CLOSED, PRE_OPEN),
        C.INVALID_REFERENCE_PRICE,
        {"price_fen": -600, "tick_fen": 1},
        price=-600,
    ),
    "invalid_reference_price/off_tick": set_reference(
        states(CLOSED, symbol=COARSE_SYM),
        C.INVALID_REFERENCE_PRICE,
        {"price_fen": 6003, "tick_fen": 5},
        price=6003,
        symbol=COARSE_SYM,
        rejection_symbol=COARSE_SYM,
    ),
    # -- order identity and ownership
    "duplicate_order_id/resting": new(
        resting, C.DUPLICATE_ORDER_ID, {"order_id": 1}, order_id=1, account="B"
    ),
    "duplicate_order_id/finished": new(
        filled, C.DUPLICATE_ORDER_ID, {"order_id": 3}, order_id=3, side="sell"
    ),
    "duplicate_order_id/other_instrument": new(
        resting, C.DUPLICATE_ORDER_ID, {"order_id": 2}, order_id=2, symbol=SYM
    ),
    "unknown_order/cancel": cancel(resting, C.UNKNOWN_ORDER, {"order_id": 99}, order_id=99),
    "unknown_order/amend": amend(
        resting, C.UNKNOWN_ORDER, {"order_id": 99}, order_id=99, qty=5, symbol=None
    ),
    "not_owner/cancel": cancel(resting, C.NOT_OWNER, {"order_id": 1}, account="B"),
    "not_owner/amend": amend(
        resting, C.NOT_OWNER, {"order_id": 1}, account="B", qty=5, symbol=None
    ),
    "order_not_open/cancel_filled": cancel(
        filled, C.ORDER_NOT_OPEN, {"order_id": 1, "status": "filled"}, symbol=SYM
    ),
    "order_not_open/cancel_cancelled": cancel(
        cancelled, C.ORDER_NOT_OPEN, {"order_id": 1, "status": "cancelled"}, symbol=SYM
    ),
    "order_not_open/cancel_ioc": cancel(
        ioc_done,
        C.ORDER_NOT_OPEN,
        {"order_id": 5, "status": "cancelled"},
        order_id=5,
        symbol=SYM,
    ),
    "order_not_open/amend_filled": amend(
        filled, C.ORDER_NOT_OPEN, {"order_id": 1, "status": "filled"}, qty=20
    ),
    "order_not_open/amend_expired": amend(
        then(resting, states(CLOSED, PRE_OPEN, CONTINUOUS)),
        C.ORDER_NOT_OPEN,
        {"order_id": 1, "status": "cancelled"},
        price=6010,
    ),
    # -- session
    "instrument_halted/new_order": new(
        then(resting, states(HALTED)), C.INSTRUMENT_HALTED, {"state": "halted"}
    ),
    "instrument_halted/amend": amend(
        then(resting, states(HALTED)), C.INSTRUMENT_HALTED, {"state": "halted"}, qty=5
    ),
    "instrument_not_open/closed": new(states(CLOSED), C.INSTRUMENT_NOT_OPEN, {"state": "closed"}),
    "instrument_not_open/pre_open": new(
        states(CLOSED, PRE_OPEN), C.INSTRUMENT_NOT_OPEN, {"state": "pre_open"}
    ),
    "instrument_not_open/break": new(
        states(BREAK), C.INSTRUMENT_NOT_OPEN, {"state": "break"}, order_type=MARKET, price=None
    ),
    "instrument_not_open/amend_in_break": amend(
        then(resting, states(BREAK)), C.INSTRUMENT_NOT_OPEN, {"state": "break"}, price=6010
    ),
    # -- quantity
    "amend_no_change/nothing_given": amend(
        resting, C.AMEND_NO_CHANGE, {"price_fen": 6000, "qty_t": 10}
    ),
    "amend_no_change/same_values": amend(
        partly_filled, C.AMEND_NO_CHANGE, {"price_fen": 6000, "qty_t": 10}, price=6000, qty=10
    ),
    "qty_outside_limits/zero": new(nothing, C.QTY_OUTSIDE_LIMITS, {"qty_t": 0, **LIMITS}, qty=0),
    "qty_outside_limits/negative": new(
        nothing, C.QTY_OUTSIDE_LIMITS, {"qty_t": -5, **LIMITS}, qty=-5, order_type=IOC
    ),
    "qty_outside_limits/block_size": new(
        nothing, C.QTY_OUTSIDE_LIMITS, {"qty_t": 100_000, **LIMITS}, qty=100_000
    ),
    "qty_outside_limits/coarse_minimum": new(
        nothing,
        C.QTY_OUTSIDE_LIMITS,
        {"qty_t": 5, "min_qty_t": 10, "max_qty_t": 99_999},
        qty=5,
        symbol=COARSE_SYM,
    ),
    "qty_outside_limits/amend": amend(
        resting, C.QTY_OUTSIDE_LIMITS, {"qty_t": 100_000, **LIMITS}, qty=100_000
    ),
    "qty_off_lot/new_order": new(
        nothing, C.QTY_OFF_LOT, {"qty_t": 15, "lot_t": 10}, qty=15, symbol=COARSE_SYM
    ),
    "qty_off_lot/amend": amend(
        resting,
        C.QTY_OFF_LOT,
        {"qty_t": 25, "lot_t": 10},
        order_id=2,
        qty=25,
        symbol=COARSE_SYM,
    ),
    "amend_qty_not_above_filled/equal": amend(
        partly_filled, C.AMEND_QTY_NOT_ABOVE_FILLED, {"qty_t": 4, "filled_t": 4}, qty=4
    ),
    "amend_qty_not_above_filled/below": amend(
        partly_filled,
        C.AMEND_QTY_NOT_ABOVE_FILLED,
        {"qty_t": 10, "filled_t": 20},
        order_id=2,
        qty=10,
        symbol=COARSE_SYM,
    ),
    # -- price
    "price_required/limit": new(
        nothing, C.PRICE_REQUIRED, {"order_type": "limit"}, price=None, order_type=LIMIT
    ),
    "price_required/ioc": new(
        nothing, C.PRICE_REQUIRED, {"order_type": "ioc"}, price=None, order_type=IOC
    ),
    "price_required/fok": new(
        nothing, C.PRICE_REQUIRED, {"order_type": "fok"}, price=None, order_type=FOK
    ),
    "price_not_allowed": new(
        resting, C.PRICE_NOT_ALLOWED, {"price_fen": 6000}, order_type=MARKET, price=6000
    ),
    "price_off_tick/new_order": new(
        nothing,
        C.PRICE_OFF_TICK,
        {"price_fen": 6001, "tick_fen": 5},
        qty=10,
        price=6001,
        symbol=COARSE_SYM,
    ),
    "price_off_tick/amend": amend(
        resting,
        C.PRICE_OFF_TICK,
        {"price_fen": 6002, "tick_fen": 5},
        order_id=2,
        price=6002,
        symbol=COARSE_SYM,
    ),
    "price_outside_band/below": new(
        nothing, C.PRICE_OUTSIDE_BAND, {"price_fen": 5399, **BAND}, price=5399
    ),
    "price_outside_band/above": new(
        nothing, C.PRICE_OUTSIDE_BAND, {"price_fen": 6601, **BAND}, price=6601, side="sell"
    ),
    "price_outside_band/zero": new(
        nothing, C.PRICE_OUTSIDE_BAND, {"price_fen": 0, **BAND}, price=0, order_type=FOK
    ),
    "price_outside_band/amend": amend(
        resting, C.PRICE_OUTSIDE_BAND, {"price_fen": 6605, **BAND}, price=6605
    ),
    # -- point-select only: orders rest, takers take
    "order_type_not_allowed": Case(
        resting,
        lambda m: m.buy(9, 5, None, account="B", order_type=MARKET),
        C.ORDER_TYPE_NOT_ALLOWED,
        {"order_type": "market", "matching": "point_select"},
        "new_order",
        9,
        "B",
        SYM,
        POINT_SELECT_ONLY,
    ),
    "order_would_cross/new_order": Case(
        resting,
        lambda m: m.buy(9, 5, 6010, account="B"),
        C.ORDER_WOULD_CROSS,
        {"side": "buy", "price_fen": 6010, "best_price_fen": 6000},
        "new_order",
        9,
        "B",
        SYM,
        POINT_SELECT_ONLY,
    ),
    "order_would_cross/amend": Case(
        ask_and_bid,
        lambda m: m.amend(3, "B", price=6000),
        C.ORDER_WOULD_CROSS,
        {"side": "buy", "price_fen": 6000, "best_price_fen": 6000},
        "amend_order",
        3,
        "B",
        SYM,
        POINT_SELECT_ONLY,
    ),
    # -- taking a quote
    "point_select_not_offered": take(
        resting,
        C.POINT_SELECT_NOT_OFFERED,
        {"matching": "price_time"},
        build=listed_market(matching="price_time"),
    ),
    "quote_not_found/unknown": take(
        resting, C.QUOTE_NOT_FOUND, {"order_id": 77}, quote_id=77, symbol=None
    ),
    "quote_not_found/filled": take(filled, C.QUOTE_NOT_FOUND, {"order_id": 1}, symbol=None),
    "self_take": take(resting, C.SELF_TAKE, {"order_id": 1}, account="A"),
    "take_over_quote": take(
        partly_filled, C.TAKE_OVER_QUOTE, {"order_id": 1, "qty_t": 7, "quote_qty_t": 6}, qty=7
    ),
    "partial_take_not_allowed": take(
        resting,
        C.PARTIAL_TAKE_NOT_ALLOWED,
        {"order_id": 1, "qty_t": 4, "quote_qty_t": 10},
        qty=4,
        build=listed_market(partial_take=False),
    ),
    "quote_outside_take_levels": take(
        six_asks,
        C.QUOTE_OUTSIDE_TAKE_LEVELS,
        {"order_id": 6, "price_fen": 6005, "level": 6, "take_levels": 5},
        quote_id=6,
    ),
    "quote_not_first": take(
        two_asks_at_one_price,
        C.QUOTE_NOT_FIRST,
        {"order_id": 2, "first_order_id": 1, "price_fen": 6000},
        quote_id=2,
        build=listed_market(take_levels=1, strict_price_priority=True),
    ),
    "instrument_halted/take": take(
        then(resting, states(HALTED)), C.INSTRUMENT_HALTED, {"state": "halted"}
    ),
}


def neutral_refusal(m: Market) -> list[Event]:
    """A refusal that takes one sequence number and touches no instrument."""
    return m.do(SetTradingState(m.next_ts(None), Symbol("NOPE"), CONTINUOUS))


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_refusal(case: Case) -> None:
    m = case.build()
    case.setup(m)
    twin = case.build()
    case.setup(twin)
    assert m.engine.state_hash() == twin.engine.state_hash()

    before = m.snapshot()
    seq = m.seq
    events = case.fault(m)
    rejection = only_rejection(events)
    assert rejection == CommandRejected(
        seq + 1,
        m.ts,
        case.command,
        case.code,
        case.details,
        None if case.order_id is None else OrderId(case.order_id),
        None if case.account_id is None else AccountId(case.account_id),
        None if case.symbol is None else Symbol(case.symbol),
    )
    assert rejection.code is case.code
    assert m.seq == seq + 1
    # nothing observable changed ...
    assert m.snapshot() == before
    # ... and the whole state equals that of a twin whose refusal touched nothing
    assert kinds(neutral_refusal(twin)) == ["CommandRejected"]
    assert m.engine.state_hash() == twin.engine.state_hash()


def test_every_reject_code_has_a_case() -> None:
    assert {case.code for case in CASES.values()} == set(RejectCode)


@pytest.mark.parametrize("code", list(RejectCode))
def test_every_reject_code_is_described(code: RejectCode) -> None:
    description = DESCRIPTIONS.get(code)
    assert isinstance(description, str)
    assert description.strip()


def test_no_description_without_a_code() -> None:
    assert set(DESCRIPTIONS) == set(RejectCode)


def test_reject_code_values_are_their_names() -> None:
    """The string values are public API: each is the member's name."""
    for code in RejectCode:
        assert code.value == code.name


def test_a_refused_order_id_is_not_used_up() -> None:
    m = market()
    assert only_rejection(m.buy(1, 0, 6000)).code is RejectCode.QTY_OUTSIDE_LIMITS
    assert m.engine.order(1) is None
    assert only_rejection(m.buy(1, 5, 7000)).code is RejectCode.PRICE_OUTSIDE_BAND
    events = m.buy(1, 5, 6000)
    assert kinds(events) == ["OrderAccepted", "BookLevelChanged"]
    view = m.view(1)
    assert view.submitted_t == 5
    assert m.bids() == [(6000, 5, 1)]


def test_refusals_take_one_sequence_number_each() -> None:
    m = market()
    start = m.seq
    seqs = [only_rejection(m.buy(1, 0, 6000)).seq for _ in range(3)]
    seqs.append(only_rejection(m.cancel(42)).seq)
    seqs.append(only_rejection(m.set_reference(6100)).seq)
    assert seqs == [start + 1, start + 2, start + 3, start + 4, start + 5]


# ---------------------------------------------------------------- check order


ORDER_CASES = {
    # new order
    "unknown_instrument before duplicate_order_id": (
        resting,
        lambda m: m.buy(1, 0, None, symbol="NOPE"),
        C.UNKNOWN_INSTRUMENT,
    ),
    "duplicate_order_id before instrument_halted": (
        then(resting, states(HALTED)),
        lambda m: m.buy(1, 5, 6000),
        C.DUPLICATE_ORDER_ID,
    ),
    "instrument_halted before qty_outside_limits": (
        states(HALTED),
        lambda m: m.buy(9, 0, 1),
        C.INSTRUMENT_HALTED,
    ),
    "instrument_not_open before price_required": (
        states(BREAK),
        lambda m: m.buy(9, 5, None),
        C.INSTRUMENT_NOT_OPEN,
    ),
    "qty_outside_limits before qty_off_lot": (
        nothing,
        lambda m: m.buy(9, 5, 6000, symbol=COARSE_SYM),
        C.QTY_OUTSIDE_LIMITS,
    ),
    "qty_outside_limits before price_required": (
        nothing,
        lambda m: m.buy(9, 0, None),
        C.QTY_OUTSIDE_LIMITS,
    ),
    "qty_off_lot before price_required": (
        nothing,
        lambda m: m.buy(9, 15, None, symbol=COARSE_SYM),
        C.QTY_OFF_LOT,
    ),
    "qty_off_lot before price_not_allowed": (
        nothing,
        lambda m: m.buy(9, 15, 6000, order_type=MARKET, symbol=COARSE_SYM),
        C.QTY_OFF_LOT,
    ),
    "price_not_allowed before price_off_tick": (
        nothing,
        lambda m: m.buy(9, 10, 7001, order_type=MARKET, symbol=COARSE_SYM),
        C.PRICE_NOT_ALLOWED,
    ),
    "price_off_tick before price_outside_band": (
        nothing,
        lambda m: m.buy(9, 10, 7001, symbol=COARSE_SYM),
        C.PRICE_OFF_TICK,
    ),
    # cancel
    "not_owner before order_not_open (cancel)": (
        filled,
        lambda m: m.cancel(1, "B"),
        C.NOT_OWNER,
    ),
    # amend
    "not_owner before order_not_open (amend)": (
        filled,
        lambda m: m.amend(1, "B", qty=5),
        C.NOT_OWNER,
    ),
    "order_not_open before instrument_halted": (
        then(filled, states(HALTED)),
        lambda m: m.amend(1, "A", qty=5),
        C.ORDER_NOT_OPEN,
    ),
    "instrument_halted before amend_no_change": (
        then(resting, states(HALTED)),
        lambda m: m.amend(1, "A"),
        C.INSTRUMENT_HALTED,
    ),
    "instrument_not_open before qty_outside_limits": (
        then(resting, states(BREAK)),
        lambda m: m.amend(1, "A", qty=0),
        C.INSTRUMENT_NOT_OPEN,
    ),
    "qty_outside_limits before amend_qty_not_above_filled": (
        partly_filled,
        lambda m: m.amend(1, "A", qty=0),
        C.QTY_OUTSIDE_LIMITS,
    ),
    "qty_off_lot before amend_qty_not_above_filled": (
        partly_filled,
        lambda m: m.amend(2, "A", qty=15),
        C.QTY_OFF_LOT,
    ),
    "amend_qty_not_above_filled before price_off_tick": (
        partly_filled,
        lambda m: m.amend(2, "A", qty=20, price=6001),
        C.AMEND_QTY_NOT_ABOVE_FILLED,
    ),
    "amend_qty_not_above_filled before price_outside_band": (
        partly_filled,
        lambda m: m.amend(1, "A", qty=3, price=9000),
        C.AMEND_QTY_NOT_ABOVE_FILLED,
    ),
    "qty_outside_limits before price_outside_band (amend)": (
        resting,
        lambda m: m.amend(1, "A", qty=100_000, price=9000),
        C.QTY_OUTSIDE_LIMITS,
    ),
    "price_off_tick before price_outside_band (amend)": (
        resting,
        lambda m: m.amend(2, "A", price=9001),
        C.PRICE_OFF_TICK,
    ),
    # set trading state / reference price
    "unknown_instrument before invalid_state_transition": (
        nothing,
        lambda m: m.set_state(CONTINUOUS, symbol="NOPE"),
        C.UNKNOWN_INSTRUMENT,
    ),
    "unknown_instrument before invalid_reference_price": (
        nothing,
        lambda m: m.set_reference(-1, symbol="NOPE"),
        C.UNKNOWN_INSTRUMENT,
    ),
    "reference_price_locked before invalid_reference_price": (
        nothing,
        lambda m: m.set_reference(-1),
        C.REFERENCE_PRICE_LOCKED,
    ),
}


@pytest.mark.parametrize(
    ("setup", "fault", "code"), list(ORDER_CASES.values()), ids=list(ORDER_CASES)
)
def test_check_order(
    setup: Callable[[Market], None], fault: Callable[[Market], list[Event]], code: RejectCode
) -> None:
    m = market()
    setup(m)
    before = m.snapshot()
    assert only_rejection(fault(m)).code is code
    assert m.snapshot() == before
