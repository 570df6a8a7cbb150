"""The trading day of a ``Market`` (docs/settlement.md, "The trading day"): open the day, the
sessions, halts and resumes, the close, day-end clearing (日终清算) with the penalty's
reference window, and the T+N unlocks.

Module-level functions taking the market rather than methods or a mixin: ``Market`` is a
native class when compiled (docs/adr/0002), and ``Market.apply`` dispatches these commands
here. None of this is on the order path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from matching.commands import SetReferencePrice, SetTradingState
from matching.events import CommandRejected
from matching.lifecycle import STATE_TRANSITIONS
from matching.types import Symbol, TradingState
from settlement import auction_desk, block
from settlement.clearing import TRADING_KINDS, DayBook, account_statements, close_of_day
from settlement.codes import SettlementCode
from settlement.commands import CloseDay, EndOfDay, Halt, OpenDay, Resume, SetSession
from settlement.outcome import Close, Outcome, refused

if TYPE_CHECKING:
    from settlement.market import Market

SESSIONS = (TradingState.CONTINUOUS, TradingState.BREAK)


def open_day(market: Market, cmd: OpenDay) -> Outcome:
    """A new trading day: books pre-open at the reference prices, the day's records start
    afresh, and the units and cash whose T+N has come are released."""
    kind = "open_day"
    if not market.day_cleared:
        return refused(kind, SettlementCode.DAY_NOT_CLOSED, trading_day=str(market.trading_day))
    if market.trading_day is not None and cmd.trading_day <= market.trading_day:
        return refused(
            kind,
            SettlementCode.DAY_NOT_AFTER_PREVIOUS,
            trading_day=cmd.trading_day.isoformat(),
            previous=market.trading_day.isoformat(),
        )
    outcome = _set_states(market, kind, cmd.ts_ns, list(market.instruments), TradingState.PRE_OPEN)
    market.trading_day = cmd.trading_day
    market.day_index += 1
    market.session = TradingState.PRE_OPEN
    market.day_closed = market.day_cleared = False
    market._client_orders.clear()
    market._reported.clear()
    market.day_book = DayBook()
    block.open_sessions(market, cmd.trading_day)
    auction_desk.publish_due(market, outcome)
    _release_due(market._unit_locks, market._unit_locked_t, market.day_index)
    _release_due(market._cash_locks, market._cash_locked_fen, market.day_index)
    return outcome


def set_session(market: Market, cmd: SetSession) -> Outcome:
    kind = "set_session"
    refusal = _day_open(market, kind)
    if refusal is not None:
        return refusal
    if cmd.state not in SESSIONS:
        return refused(kind, SettlementCode.INVALID_CLOCK_STEP, to=cmd.state.value)
    engine = market.engine
    symbols = [
        s
        for s in market.instruments
        if engine.book_info(s).state not in (TradingState.HALTED, cmd.state)
    ]
    outcome = _set_states(market, kind, cmd.ts_ns, symbols, cmd.state)
    if outcome.ok:
        market.session = cmd.state
    return outcome


def halt(market: Market, cmd: Halt) -> Outcome:
    kind = "halt"
    refusal = _day_open(market, kind)
    if refusal is not None:
        return refusal
    symbols = _symbols(market, kind, cmd.symbol)
    if isinstance(symbols, Outcome):
        return symbols
    halted = TradingState.HALTED
    todo = [s for s in symbols if market.engine.book_info(s).state is not halted]
    return _set_states(market, kind, cmd.ts_ns, todo, halted, cmd.cancel_resting)


def resume(market: Market, cmd: Resume) -> Outcome:
    kind = "resume"
    refusal = _day_open(market, kind)
    if refusal is not None:
        return refusal
    symbols = _symbols(market, kind, cmd.symbol)
    if isinstance(symbols, Outcome):
        return symbols
    if market.session not in SESSIONS:
        # Halted before the first session: resume once the session has opened.
        return refused(
            kind, SettlementCode.INVALID_CLOCK_STEP, session=market.session.value, to="resume"
        )
    halted = TradingState.HALTED
    todo = [s for s in symbols if market.engine.book_info(s).state is halted]
    return _set_states(market, kind, cmd.ts_ns, todo, market.session)


def close_day(market: Market, cmd: CloseDay) -> Outcome:
    kind = "close_day"
    refusal = _day_open(market, kind)
    if refusal is not None:
        return refusal
    closed = TradingState.CLOSED
    todo = [s for s in market.instruments if market.engine.book_info(s).state is not closed]
    outcome = _set_states(market, kind, cmd.ts_ns, todo, closed)
    if outcome.ok:
        block.expire_all(market, outcome)
        auction_desk.clear_due(market, cmd.ts_ns, outcome)
    market.day_closed = True
    market.session = closed
    return outcome


def end_of_day(market: Market, cmd: EndOfDay) -> Outcome:
    """Day-end clearing (日终清算): the close, tomorrow's reference and band, statements."""
    kind = "end_of_day"
    if market.trading_day is None or not market.day_closed or market.day_cleared:
        return refused(kind, SettlementCode.NO_TRADING_DAY)
    assert not market._bookings, f"{len(market._bookings)} orders still hold after the close"
    assert not market.block.quotes, f"{len(market.block.quotes)} block quotes after the close"
    outcome = market._outcome = Outcome(kind)
    settlement = market.rules.settlement
    closes = []
    for symbol in market.instruments:
        info = market.engine.book_info(symbol)
        close = close_of_day(
            symbol,
            market.day_book.symbol_day(symbol),
            info.reference_price_fen,
            market.instruments[symbol].tick_fen,
            settlement.close_method,
            settlement.close_min_volume_t,
            settlement.open_method,
        )
        closes.append(close)
        events = market.engine.apply(SetReferencePrice(cmd.ts_ns, Symbol(symbol), close.close_fen))
        assert type(events[0]) is not CommandRejected, events[0]
        outcome.events.extend(events)
    outcome.closes = closes
    _keep_reference_window(market, closes)
    if market.statements:
        outcome.statements = account_statements(
            market.trading_day,
            market.registry,
            market.cash,
            market.day_book,
            market._cash_locked_fen,
            TRADING_KINDS,
        )
    market.engine.prune_finished()
    market.day_cleared = True
    return outcome


def _set_states(
    market: Market,
    kind: str,
    ts_ns: int,
    symbols: list[str],
    state: TradingState,
    cancel: bool = False,
) -> Outcome:
    """Move every instrument in ``symbols`` to ``state``, having checked all first."""
    engine = market.engine
    for symbol in symbols:
        current = engine.book_info(symbol).state
        if state not in STATE_TRANSITIONS[current]:
            return refused(
                kind,
                SettlementCode.INVALID_CLOCK_STEP,
                symbol=symbol,
                state=current.value,
                to=state.value,
            )
    outcome = market._outcome = Outcome(kind)
    for symbol in symbols:
        events = engine.apply(SetTradingState(ts_ns, Symbol(symbol), state, cancel))
        assert type(events[0]) is not CommandRejected, events[0]
        outcome.events.extend(events)
        market._settle_events(events, 0)
    return outcome


def _keep_reference_window(market: Market, closes: list[Close]) -> None:
    """Append the day's listed CEA volume and turnover (every ``CEA*`` instrument, a day
    without trades too) and keep the last days the rules read: the penalty's
    ``reference_window_days``, and an auction reserve's ``window_days`` if longer."""
    volume_t = turnover_fen = 0
    for close in closes:
        if close.symbol.startswith("CEA"):
            volume_t += close.volume_t
            turnover_fen += close.turnover_fen
    window = market._reference_window
    window.append((volume_t, turnover_fen))
    del window[: -market.window_days]


def _release_due(
    locks: dict[Any, list[tuple[int, int]]], totals: dict[Any, int], today: int
) -> None:
    """Drop the (release day, amount) locks due by ``today`` and update their totals."""
    for key, entries in list(locks.items()):
        kept = [(day, amount) for day, amount in entries if day > today]
        if kept:
            locks[key] = kept
            totals[key] = sum(amount for _, amount in kept)
        else:
            del locks[key]
            del totals[key]


def _day_open(market: Market, kind: str) -> Outcome | None:
    if market.trading_day is None or market.day_closed:
        return refused(kind, SettlementCode.NO_TRADING_DAY)
    return None


def _symbols(market: Market, kind: str, symbol: str | None) -> list[str] | Outcome:
    if symbol is None:
        return list(market.instruments)
    if symbol not in market.instruments:
        return refused(kind, SettlementCode.UNKNOWN_INSTRUMENT, symbol=symbol)
    return [symbol]
