"""A run's files: trades, daily OHLCV, holdings, compliance outcomes and events as Parquet and
CSV, and ``summary.json``.

Every file is a function of the scenario and the seed alone, byte for byte, with one
exception: ``summary.json``'s ``wall_seconds`` (the issue asks for it there). A determinism
check compares every file as bytes and ``summary.json`` without that one field
(``deterministic_digest`` does exactly that). Parquet files carry no timestamps: the writer's
metadata is the library's version only, and columns have fixed types.
"""

from __future__ import annotations

import csv
import hashlib
import json
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from exchange.sim.mrv_data import mrv_summary
from exchange.sim.record import TRADE_COLUMNS, RunResult

TIMING_FIELDS = ("wall_seconds", "cpu_seconds", "orders_per_second")

_TRADE_TYPES = {
    "mode": pa.string(),
    "trade_id": pa.int64(),
    "ts_ns": pa.int64(),
    "trading_day": pa.string(),
    "symbol": pa.string(),
    "price_fen": pa.int64(),
    "qty_t": pa.int64(),
    "buyer": pa.string(),
    "seller": pa.string(),
    "aggressor": pa.string(),
    "buy_fee_fen": pa.int64(),
    "sell_fee_fen": pa.int64(),
}
TABLES = ("trades", "ohlcv", "holdings", "compliance", "events", "auctions")  # mrv: when generated
AUCTION_COLUMNS = (
    "trading_day",
    "year",
    "auction_id",
    "symbol",
    "status",
    "reason",
    "reserve_fen",
    "price_fen",
    "volume_t",
    "bid_t",
    "cover_bp",
    "sold_t",
    "unsold_t",
    "bidders",
    "winners",
    "revenue_fen",
)


def _type_of(values: Sequence[Any]) -> pa.DataType:
    sample = next((v for v in values if v is not None), "")
    if isinstance(sample, bool):
        return pa.bool_()
    if isinstance(sample, int):
        return pa.int64()
    if isinstance(sample, float):
        return pa.float64()
    return pa.string()


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> pa.Table:
    data = {c: [row[c] for row in rows] for c in columns}
    return pa.table({c: pa.array(v, type=_type_of(v)) for c, v in data.items()})


def _column(values: Sequence[Any], name: str) -> pa.Array:
    """A tape column: an ``array("q")`` taken as it is (no copy), a list converted."""
    kind = _TRADE_TYPES[name]
    if isinstance(values, array) and values.typecode == "q":
        return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])
    return pa.array(values, type=kind)


def _tables(result: RunResult) -> Iterator[tuple[str, Callable[[], pa.Table]]]:
    """Each output table's name and how to build it: built, written and dropped one at a time,
    so a run's largest tables are never all in memory together."""
    yield "trades", lambda: pa.table({c: _column(result.trades[c], c) for c in TRADE_COLUMNS})
    yield "ohlcv", lambda: _table(result.ohlcv, OHLCV_COLUMNS)
    yield (
        "holdings",
        lambda: _table(result.holdings, ("year", "account_id", "asset", "state", "amount")),
    )
    yield "compliance", lambda: _table(result.compliance, COMPLIANCE_COLUMNS)
    yield "events", lambda: _table(result.events, ("trading_day", "year", "kind", "detail"))
    yield "auctions", lambda: _table(result.auctions, AUCTION_COLUMNS)
    mrv = result.mrv
    if mrv is not None:
        yield "mrv", lambda: mrv


OHLCV_COLUMNS = (
    "trading_day",
    "symbol",
    "open_fen",
    "high_fen",
    "low_fen",
    "close_fen",
    "volume_t",
    "turnover_fen",
    "close_method",
    "block_volume_t",  # block deals (大宗协议), apart: they set no price of the day
    "block_turnover_fen",
)
COMPLIANCE_COLUMNS = (
    "year",
    "account_id",
    "sector",
    "province",
    "baseline_t",
    "abated_t",
    "abatement_cost_fen",
    "verified_t",
    "allocated_t",
    "cea_bought_t",
    "cea_bought_fen",
    "cea_sold_t",
    "cea_sold_fen",
    "cea_auctioned_t",  # won in auctions (paid allocation), and what it paid
    "cea_auctioned_fen",
    "offsets_bought_t",
    "offsets_bought_fen",
    "offsets_sold_t",
    "surrendered_cea_t",
    "surrendered_offsets_t",
    "offset_cap_t",
    "shortfall_t",
    "penalty_fen",
    "reference_price_fen",
    "complied",
)


CSV_BATCH_ROWS = 65_536  # rows turned into Python values at a time


def _write_csv(table: pa.Table, path: Path) -> None:
    """The table as CSV, a batch of rows at a time (a whole tape as Python values would
    hold several hundred MB at once)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(table.column_names)
        for start in range(0, table.num_rows, CSV_BATCH_ROWS):
            batch = table.slice(start, CSV_BATCH_ROWS)
            writer.writerows(zip(*(c.to_pylist() for c in batch.columns), strict=True))


def summary(result: RunResult) -> dict[str, Any]:
    """The run in numbers (summary.json)."""
    compliance = result.compliance
    trades = result.trades
    volume = sum(trades["qty_t"])
    turnover = sum(p * q for p, q in zip(trades["price_fen"], trades["qty_t"], strict=True))
    complied = sum(1 for row in compliance if row["complied"])
    scenario = result.scenario
    wall = round(result.wall_seconds, 3)
    return {
        "scenario": scenario.name,
        "rules": scenario.rules.name,
        "seed": result.seed,
        "years": scenario.years,
        "trading_days": result.trading_days,
        "firms": len(scenario.firms),
        "agents": len(scenario.agents),
        "seats": len(scenario.seats),
        "wakeups": result.wakeups,
        "orders": result.orders,
        "orders_refused": sum(result.refusals.values()),
        "refusals": result.refusals,
        "trades": len(trades["trade_id"]),
        "volume_t": volume,
        "turnover_fen": turnover,
        "vwap_fen": round(turnover / volume) if volume else None,
        **_by_mode(trades),
        "auctions": len(result.auctions),
        "auctions_cancelled": sum(1 for a in result.auctions if a["status"] == "cancelled"),
        "auctioned_t": sum(a["sold_t"] for a in result.auctions),
        "auction_revenue_fen": sum(a["revenue_fen"] for a in result.auctions),
        "msr": result.msr,
        "final_prices_fen": result.final_prices,
        "compliance_rate": round(complied / len(compliance), 6) if compliance else None,
        "firms_short": len(compliance) - complied,
        "shortfall_t": sum(r["shortfall_t"] for r in compliance),
        "penalties_fen": sum(r["penalty_fen"] for r in compliance),
        "abated_t": sum(r["abated_t"] for r in compliance),
        "abatement_cost_fen": sum(r["abatement_cost_fen"] for r in compliance),
        "offsets_surrendered_t": sum(r["surrendered_offsets_t"] for r in compliance),
        "offset_cap_t": sum(r["offset_cap_t"] for r in compliance),
        **(mrv_summary(result.mrv, compliance) if result.mrv is not None else {}),
        "state_hash": result.state_hash,
        "wall_seconds": wall,
        "cpu_seconds": round(result.cpu_seconds, 3),
        "orders_per_second": round(result.orders / wall) if wall else None,
    }


def _by_mode(trades: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """Allowance (CEA) volume by trading mode, as the national exchange's statistics separate
    them: listed and block volume and the block share of the whole, and how far block deals
    were priced from the same day's listed VWAP (basis points, negative: cheaper), weighted
    by block volume over the days that had both."""
    volume = {"listed": 0, "block": 0}
    days: dict[tuple[str, str], list[int]] = {}  # (day, symbol) -> listed t, fen, block t, fen
    for mode, day, symbol, price, qty in zip(
        trades["mode"],
        trades["trading_day"],
        trades["symbol"],
        trades["price_fen"],
        trades["qty_t"],
        strict=True,
    ):
        if symbol.startswith("CEA"):
            volume[mode] += qty
            row = days.setdefault((day, symbol), [0, 0, 0, 0])
            at = 0 if mode == "listed" else 2
            row[at] += qty
            row[at + 1] += price * qty
    total = volume["listed"] + volume["block"]
    weighted = weight = 0.0
    for listed_t, listed_fen, block_t, block_fen in days.values():
        if listed_t and block_t:
            weighted += block_t * ((block_fen / block_t) / (listed_fen / listed_t) - 1)
            weight += block_t
    return {
        "cea_listed_volume_t": volume["listed"],
        "cea_block_volume_t": volume["block"],
        "cea_block_share": round(volume["block"] / total, 4) if total else None,
        "cea_block_listed_gap_bp": round(weighted / weight * 10_000) if weight else None,
    }


def write_outputs(result: RunResult, out: Path) -> list[Path]:
    """Write every table as ``NAME.parquet`` and ``NAME.csv`` plus ``summary.json``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in _tables(result):
        table = build()
        parquet = out / f"{name}.parquet"
        pq.write_table(table, parquet, compression="zstd", store_schema=True)
        _write_csv(table, out / f"{name}.csv")
        written += [parquet, out / f"{name}.csv"]
        del table
    path = out / "summary.json"
    path.write_text(json.dumps(summary(result), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    written.append(path)
    return written


def deterministic_digest(out: Path) -> dict[str, str]:
    """sha256 of every file in ``out`` (sorted), ``summary.json`` without its timing fields:
    equal for two runs of the same scenario and seed."""
    digests = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.name == "summary.json":
            fields = json.loads(data)
            for name in TIMING_FIELDS:
                fields.pop(name, None)
            data = json.dumps(fields, sort_keys=True).encode()
        digests[str(path.relative_to(out))] = hashlib.sha256(data).hexdigest()
    return digests
