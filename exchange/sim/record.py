"""What a headless run records as it goes, for its outputs and report: the trade tape, daily
bars, each firm's year (purchases, sales, abatement, compliance outcome), the year-end
holdings, the events and the refusals by code. ``Recorder`` collects them; ``RunResult``
hands them to ``exchange.sim.outputs`` and ``exchange.sim.report`` as plain values.
"""

from __future__ import annotations

import datetime as dt
from array import array
from collections.abc import MutableSequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from exchange.sim.scenario import FirmPlan, LoadedScenario
from registry_sim.outcomes import ComplianceRecord
from settlement.auction import Award
from settlement.market import Market
from settlement.outcome import Outcome

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(slots=True)
class FirmYear:
    """What one firm did in one compliance year, for the compliance outcomes."""

    baseline_t: int
    allocated_t: int = 0
    abated_t: int = 0
    cea_bought_t: int = 0
    cea_bought_fen: int = 0
    cea_sold_t: int = 0
    cea_sold_fen: int = 0
    cea_auctioned_t: int = 0  # won in the year's auctions
    cea_auctioned_fen: int = 0  # paid for them
    offsets_bought_t: int = 0
    offsets_bought_fen: int = 0
    offsets_sold_t: int = 0
    offsets_sold_fen: int = 0


# A listed trade's id is the book's trade id, a block deal's its deal id: ``mode`` tells them
# apart ("listed" or "block"; a block deal has no aggressor). The integer columns are kept as
# ``array("q")`` (8 bytes a value; a Python int in a list costs about 40), the text columns as
# lists of the strings the market already holds.
TRADE_INT_COLUMNS = frozenset(
    ("trade_id", "ts_ns", "price_fen", "qty_t", "buy_fee_fen", "sell_fee_fen")
)
TRADE_COLUMNS = (
    "mode",
    "trade_id",
    "ts_ns",
    "trading_day",
    "symbol",
    "price_fen",
    "qty_t",
    "buyer",
    "seller",
    "aggressor",
    "buy_fee_fen",
    "sell_fee_fen",
)


@dataclass
class RunResult:
    """Everything the outputs and the report need, as plain values."""

    scenario: LoadedScenario
    seed: int
    trades: dict[str, MutableSequence[Any]]  # columns of TRADE_COLUMNS (record.new_tape)
    ohlcv: list[dict[str, Any]]
    holdings: list[dict[str, Any]]
    compliance: list[dict[str, Any]]
    events: list[dict[str, Any]]
    orders: int
    refusals: dict[str, int]
    wakeups: int
    trading_days: int
    state_hash: str
    wall_seconds: float
    cpu_seconds: float  # this process's CPU time: the machine may be shared
    final_prices: dict[str, int] = field(default_factory=dict)
    auctions: list[dict[str, Any]] = field(default_factory=list)
    msr: list[dict[str, Any]] = field(default_factory=list)  # per year end: tnac_t, change_t
    mrv: pa.Table | None = None  # one row per firm-month (mrv: generate; mrv_data.generate)


def new_tape() -> dict[str, MutableSequence[Any]]:
    """An empty trade tape: one column per ``TRADE_COLUMNS``, the integers in ``array("q")``."""
    return {c: array("q") if c in TRADE_INT_COLUMNS else [] for c in TRADE_COLUMNS}


class Recorder:
    """The run's outputs, filled as the run goes; ``day`` is the trading day being run."""

    def __init__(self) -> None:
        self.trades = new_tape()
        self.ohlcv: list[dict[str, Any]] = []
        self.holdings: list[dict[str, Any]] = []
        self.compliance: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.auctions: list[dict[str, Any]] = []
        self.msr: list[dict[str, Any]] = []
        self.refusals: dict[str, int] = {}
        self.year_rows: dict[str, FirmYear] = {}
        self.day = ""
        self.block_day: dict[str, list[int]] = {}  # symbol -> [volume_t, turnover_fen] today

    def refused(self, code: str) -> None:
        self.refusals[code] = self.refusals.get(code, 0) + 1

    def event(self, day: dt.date, year: int, kind: str, detail: str) -> None:
        self.events.append(
            {"trading_day": day.isoformat(), "year": year, "kind": kind, "detail": detail}
        )

    def record(self, outcome: Outcome) -> None:
        """One applied command's outcome: a refusal counted by code, or its trades."""
        code = outcome.code
        if code is not None:
            self.refusals[code] = self.refusals.get(code, 0) + 1
            return
        fills = outcome.fills
        if fills:
            day = self.day
            t = self.trades
            for fill in fills:
                trade = fill.trade
                t["mode"].append("listed")
                t["trade_id"].append(trade.trade_id)
                t["ts_ns"].append(trade.ts_ns)
                t["trading_day"].append(day)
                t["symbol"].append(trade.symbol)
                t["price_fen"].append(trade.price_fen)
                t["qty_t"].append(trade.qty_t)
                t["buyer"].append(trade.buy_account_id)
                t["seller"].append(trade.sell_account_id)
                t["aggressor"].append(trade.aggressor.value)
                t["buy_fee_fen"].append(fill.buy_fee_fen)
                t["sell_fee_fen"].append(fill.sell_fee_fen)
        if outcome.block_deals:
            self._block_deals(outcome)

    def _block_deals(self, outcome: Outcome) -> None:
        t = self.trades
        for deal in outcome.block_deals:
            row = (
                ("mode", "block"),
                ("trade_id", deal.deal_id),
                ("ts_ns", deal.ts_ns),
                ("trading_day", self.day),
                ("symbol", deal.symbol),
                ("price_fen", deal.price_fen),
                ("qty_t", deal.qty_t),
                ("buyer", deal.buy_account_id),
                ("seller", deal.sell_account_id),
                ("aggressor", ""),
                ("buy_fee_fen", deal.buy_fee_fen),
                ("sell_fee_fen", deal.sell_fee_fen),
            )
            for column, value in row:
                t[column].append(value)
            day = self.block_day.setdefault(deal.symbol, [0, 0])
            day[0] += deal.qty_t
            day[1] += deal.price_fen * deal.qty_t

    def end_of_day(self, day: dt.date, outcome: Outcome, market: Market) -> None:
        """The day's bars, and each firm's purchases and sales from the day book."""
        for close in outcome.closes:
            self.ohlcv.append(
                {
                    "trading_day": day.isoformat(),
                    "symbol": close.symbol,
                    "open_fen": close.open_fen,
                    "high_fen": close.high_fen,
                    "low_fen": close.low_fen,
                    "close_fen": close.close_fen,
                    "volume_t": close.volume_t,
                    "turnover_fen": close.turnover_fen,
                    "close_method": close.method,
                    "block_volume_t": self.block_day.get(close.symbol, (0, 0))[0],
                    "block_turnover_fen": self.block_day.get(close.symbol, (0, 0))[1],
                }
            )
        self.block_day = {}
        rows = self.year_rows
        for account, symbols in market.day_book.accounts.items():
            row = rows.get(account)
            if row is None:
                continue
            for symbol, (bought_t, bought_fen, sold_t, sold_fen) in symbols.items():
                if symbol.startswith("CEA"):
                    row.cea_bought_t += bought_t
                    row.cea_bought_fen += bought_fen
                    row.cea_sold_t += sold_t
                    row.cea_sold_fen += sold_fen
                else:
                    row.offsets_bought_t += bought_t
                    row.offsets_bought_fen += bought_fen
                    row.offsets_sold_t += sold_t
                    row.offsets_sold_fen += sold_fen

    def awarded(self, awards: tuple[Award, ...]) -> None:
        """An auction's awards, on the winning firms' years."""
        rows = self.year_rows
        for award in awards:
            row = rows.get(award.account_id)
            if row is not None:
                row.cea_auctioned_t += award.qty_t
                row.cea_auctioned_fen += award.qty_t * award.price_fen

    def compliance_outcome(
        self, year: int, firm: FirmPlan, record: ComplianceRecord, offset_cap_t: int | None
    ) -> None:
        """A firm's assessed year, beside what it did during it."""
        row = self.year_rows[firm.account_id]
        self.compliance.append(
            {
                "year": year,
                "account_id": firm.account_id,
                "sector": firm.sector,
                "province": firm.province,
                "baseline_t": row.baseline_t,
                "abated_t": row.abated_t,
                "abatement_cost_fen": firm.curve.cost_fen(row.abated_t),
                "verified_t": record.obligation_t,
                "allocated_t": row.allocated_t,
                "cea_bought_t": row.cea_bought_t,
                "cea_bought_fen": row.cea_bought_fen,
                "cea_sold_t": row.cea_sold_t,
                "cea_sold_fen": row.cea_sold_fen,
                "cea_auctioned_t": row.cea_auctioned_t,
                "cea_auctioned_fen": row.cea_auctioned_fen,
                "offsets_bought_t": row.offsets_bought_t,
                "offsets_bought_fen": row.offsets_bought_fen,
                "offsets_sold_t": row.offsets_sold_t,
                "surrendered_cea_t": record.allowances_t,
                "surrendered_offsets_t": record.offsets_t,
                "offset_cap_t": offset_cap_t or 0,
                "shortfall_t": record.shortfall_t,
                "penalty_fen": record.penalty_fen,
                "reference_price_fen": record.reference_price_fen,
                "complied": record.shortfall_t == 0,
            }
        )

    def year_end_holdings(self, year: int, market: Market, traders: set[str]) -> None:
        """Every trading account's cash and units at the year end, after surrender."""
        rows = [
            (account, "CNY", state.value, amount)
            for (account, state), amount in market.cash.balances().items()
            if account in traders
        ]
        rows += [
            (account, unit, state.value, amount)
            for (account, unit, state), amount in market.registry.ledger.balances().items()
            if account in traders
        ]
        for account, asset, state, amount in sorted(rows):
            self.holdings.append(
                {
                    "year": year,
                    "account_id": account,
                    "asset": asset,
                    "state": state,
                    "amount": amount,
                }
            )
