"""What the instructor console shows of a class: its phase, seats, the dashboard and the
year's results (the trade tape and the order table are read by
``exchange.db.trading_activity``).

Market numbers come from the market's memory (the day book: today's open, high, low, volume;
holdings, cash, compliance status) and from the trade tape (``market_trades``: trades today,
each account's purchases and sales). Money in fen, quantities in tonnes.

The compliance ranking covers every covered entity, each row the registry's compliance
projection (``registry_sim.projection``) as of the trading day. Before verification the
obligation is the expected one (the scenario's baseline for the year with the shocks so far,
minus the abatement declared); after it, the verified emissions. ``shortfall_t`` is what would
still be missing after surrendering everything the rules let its available units cover; once
assessed, the registry's shortfall. The projected penalty is the penalty on that shortfall at
the penalty reference price (``settlement.reference``).
``pnl_fen`` is what its trading made, marked at the last price (else the reference price).
The ranking puts entities that comply first, then the cheapest: ``cost_fen`` is the year's
compliance cost so far (``exchange.compliance_year.compliance_cost_fen``: net spend on units,
abatement cost, penalty), with the projected penalty.

Names come in English (``name``) and Chinese (``name_zh``): a seat's own, else the account's
name (or its id) in both. The results are in fen; ``exchange.classroom.debrief`` writes them as
a CSV in yuan, in either language.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from exchange import compliance_year
from exchange.classroom.phases import deadline, next_phase
from exchange.classroom.room import Classroom
from exchange.classroom.setup import ClassScenario
from exchange.classroom.state import ClassState, Seat
from exchange.db.trade_tape import LastTrades, last_trades
from exchange.db.trading_activity import Traded, today_activity, traded_by_account
from registry_sim.model import AccountId, AccountKind
from settlement.cash import CNY, CashState
from settlement.market import Market
from settlement.reference import penalty_price

SEAT_COLUMNS = ("seat", "account_id", "name", "profile", "key")  # a seat's key sheet, as CSV


# ---------------------------------------------------------------------- the phase and the seats


def phase_view(room: Classroom) -> dict[str, Any]:
    """``ClassPhase``: where the compliance cycle stands, its deadline and what follows."""
    state = room.state
    target = next_phase(state, room.scenario)
    return {
        "market_id": state.market_id,
        "phase": state.phase.value,
        "compliance_year": state.compliance_year,
        "deadline": deadline(state, room.runtime),
        "next_phase": None if target is None else target.value,
        "last_advance": state.summary,
    }


def seat_view(seat: Seat, scenario: ClassScenario, key: str | None = None) -> dict[str, Any]:
    """A seat as ``SeatKey`` answers it; ``gas_fired`` as its firm is in the class."""
    return {
        "seat": seat.seat,
        "account_id": seat.account_id,
        "name": seat.name,
        "name_zh": seat.name_in("zh-CN"),
        "profile": seat.profile,
        "gas_fired": scenario.firms[seat.account_id].gas_fired,
        "key": key,
    }


# ---------------------------------------------------------------------- the dashboard


async def dashboard(engine: AsyncEngine, room: Classroom) -> dict[str, Any]:
    """Prices and today's activity per instrument, the seats' participation today, and every
    covered entity's compliance position, best first."""
    runtime, state = room.runtime, room.state
    market = runtime.market
    last = await last_trades(engine, runtime)
    trades_today, placed = await today_activity(engine, market)
    traded = await traded_by_account(engine, room.market_id)
    prices = marks(market, last)
    return {
        "market_id": room.market_id,
        "phase": state.phase.value,
        "compliance_year": state.compliance_year,
        "trading_day": market.trading_day,
        "session": market.session,
        "last_seq": runtime.last_seq,
        "instruments": instruments(market, last),
        "trades_today": trades_today,
        "participation": participation(state, market, placed),
        "ranking": ranking(market, state, room.scenario, traded, prices),
    }


async def class_results(engine: AsyncEngine, room: Classroom) -> list[dict[str, Any]]:
    """``results`` of the class, its trading read from the trade tape."""
    market = room.runtime.market
    traded = await traded_by_account(engine, room.market_id)
    prices = marks(market, await last_trades(engine, room.runtime))
    return results(market, room.state, room.scenario, traded, prices)


def marks(market: Market, last: LastTrades) -> dict[str, int]:
    """Each instrument's last trade price, else its reference price."""
    out = {}
    for symbol in market.instruments:
        kept = last.by_symbol.get(symbol)
        out[symbol] = kept[1] if kept else market.engine.book_info(symbol).reference_price_fen
    return out


def instruments(market: Market, last: LastTrades) -> list[dict[str, Any]]:
    rows = []
    for symbol in market.instruments:
        kept = last.by_symbol.get(symbol)
        day = market.day_book.symbols.get(symbol)
        rows.append(
            {
                "symbol": symbol,
                "last_price_fen": None if kept is None else kept[1],
                "open_fen": None if day is None else day.open_fen,
                "high_fen": None if day is None else day.high_fen,
                "low_fen": None if day is None else day.low_fen,
                "volume_t": 0 if day is None else day.volume_t,
                "turnover_fen": 0 if day is None else day.turnover_fen,
            }
        )
    return rows


def cash_fen(market: Market, account: AccountId) -> int:
    return sum(market.balance(account, CNY, state) for state in CashState)


def ranking_row(
    market: Market,
    state: ClassState,
    scenario: ClassScenario,
    account: AccountId,
    traded: Traded | None,
    prices: dict[str, int],
    penalty_price_fen: int | None,
) -> dict[str, Any]:
    """One covered entity's compliance position (see the module's docstring), its penalty
    priced at ``penalty_price_fen``."""
    registry = market.registry
    year = state.compliance_year
    today = market.trading_day
    seat = state.seat_of(account)
    known = account in scenario.firms
    abated = state.abatement_t.get(account, 0)
    expected = None
    if known:
        baseline = scenario.baseline_t(account, year, scenario.seen_on(year, today))
        expected = compliance_year.verified_emissions_t(baseline, abated)
    on = today or market.rules.compliance.deadline(year)
    projected = registry.compliance_projection(
        account, year, on, penalty_price_fen, expected_obligation_t=expected
    )
    obligation = projected.obligation_t or 0
    surrendered = projected.surrendered_t
    shortfall = projected.shortfall_t or 0
    penalty = projected.projected_penalty_fen or 0
    trading = traded or Traded()
    pnl = trading.pnl_fen(prices)
    abatement_cost = scenario.abatement_cost_fen(account, abated) if known else 0
    found = registry.account(account)
    name = found.name if found else account
    return {
        "account_id": account,
        "name": seat.name if seat else name,
        "name_zh": seat.name_in("zh-CN") if seat else name,
        "seat": None if seat is None else seat.seat,
        "gas_fired": bool(found and found.gas_fired),
        "verified_t": projected.obligation_t if projected.verified else None,
        "obligation_t": obligation,
        "surrendered_t": surrendered,
        "shortfall_t": shortfall,
        "projected_penalty_fen": penalty,
        "cash_fen": cash_fen(market, account),
        "pnl_fen": pnl,
        "abated_t": abated,
        "abatement_cost_fen": abatement_cost,
        "cost_fen": compliance_year.compliance_cost_fen(
            trading.net_spend_fen(), abatement_cost, penalty
        ),
    }


def ranking(
    market: Market,
    state: ClassState,
    scenario: ClassScenario,
    traded: dict[str, Traded],
    prices: dict[str, int],
) -> list[dict[str, Any]]:
    price = penalty_price(market, state.compliance_year).price_fen
    rows = [
        ranking_row(market, state, scenario, a.account_id, traded.get(a.account_id), prices, price)
        for a in market.registry.accounts()
        if a.kind is AccountKind.COVERED_ENTITY
    ]
    rows.sort(key=lambda r: (r["shortfall_t"] > 0, r["cost_fen"], r["account_id"]))
    return rows


def participation(state: ClassState, market: Market, placed: set[str]) -> dict[str, int]:
    """Seats that placed an order today and that traded today, of all seats."""
    seats = {s.account_id for s in state.seats}
    traded = {a for a in market.day_book.accounts if a in seats}
    return {
        "seats": len(seats),
        "placed_order": len(seats & placed),
        "traded": len(traded),
    }


# ---------------------------------------------------------------------- results

RESULT_COLUMNS = (  # a results row's fields, in order
    "account_id",
    "name",
    "name_zh",
    "seat",
    "role",
    "year",
    "assessed",
    "complied",
    "obligation_t",
    "surrendered_t",
    "shortfall_t",
    "penalty_fen",
    "trades",
    "volume_t",
    "bought_t",
    "sold_t",
    "fees_fen",
    "cash_start_fen",
    "cash_fen",
    "cash_change_fen",
    "pnl_fen",
    "abated_t",
    "abatement_cost_fen",
    "net_spend_fen",
    "compliance_cost_fen",
)


def starting_cash(scenario: ClassScenario) -> dict[str, int]:
    """Each account's cash at the class's start, from the scenario."""
    out = {f.account_id: f.cash_fen for f in scenario.loaded.firms}
    for plan in scenario.loaded.agents:
        if plan.firm is None:
            out[plan.account_id] = plan.cash_fen
    return out


def results(
    market: Market,
    state: ClassState,
    scenario: ClassScenario,
    traded: dict[str, Traded],
    prices: dict[str, int],
) -> list[dict[str, Any]]:
    """Per trading account, the compliance year's outcome and what its trading did. A covered
    entity's ``compliance_cost_fen`` (``exchange.compliance_year.compliance_cost_fen``) counts
    the penalty once assessed (none before); a participant with no obligation has none."""
    registry = market.registry
    year = state.compliance_year
    start = starting_cash(scenario)
    roles = {p.account_id: p.kind for p in scenario.loaded.agents}
    rows = []
    for account in registry.accounts():
        if account.kind not in (AccountKind.COVERED_ENTITY, AccountKind.PARTICIPANT):
            continue
        a = account.account_id
        seat = state.seat_of(a)
        record = registry.record(a, year)
        allowances_t, offsets_t = registry.surrendered_t(a, year)
        trading = traded.get(a) or Traded()
        covered = account.kind is AccountKind.COVERED_ENTITY
        known = a in scenario.firms
        abated = state.abatement_t.get(a) if known else None
        cash_now = cash_fen(market, a)
        cash_start = start.get(a)
        abatement_cost = None if abated is None else scenario.abatement_cost_fen(a, abated)
        penalty = None if record is None else record.penalty_fen
        rows.append(
            {
                "account_id": a,
                "name": seat.name if seat else account.name,
                "name_zh": seat.name_in("zh-CN") if seat else account.name,
                "seat": None if seat is None else seat.seat,
                "role": "seat" if seat else roles.get(a, "participant"),
                "year": year,
                "assessed": record is not None,
                "complied": None if record is None else record.shortfall_t == 0,
                "obligation_t": registry.obligation_t(a, year) if covered else None,
                "surrendered_t": allowances_t + offsets_t if covered else None,
                "shortfall_t": None if record is None else record.shortfall_t,
                "penalty_fen": penalty,
                "trades": trading.trades,
                "volume_t": trading.volume_t(),
                "bought_t": sum(trading.bought_t.values()),
                "sold_t": sum(trading.sold_t.values()),
                "fees_fen": trading.fees_fen,
                "cash_start_fen": cash_start,
                "cash_fen": cash_now,
                "cash_change_fen": None if cash_start is None else cash_now - cash_start,
                "pnl_fen": trading.pnl_fen(prices),
                "abated_t": abated,
                "abatement_cost_fen": abatement_cost,
                "net_spend_fen": trading.net_spend_fen(),
                "compliance_cost_fen": (
                    compliance_year.compliance_cost_fen(
                        trading.net_spend_fen(), abatement_cost or 0, penalty or 0
                    )
                    if covered
                    else None
                ),
            }
        )
    return rows


def as_csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """Rows as CSV with a header; None as an empty field, booleans as true/false."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in columns])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
