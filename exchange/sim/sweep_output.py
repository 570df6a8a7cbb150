"""What a sweep writes beside its runs: tidy Parquet tables and a report.

* ``summary.parquet``: a row per run: ``run_id``, ``seed``, the swept parameters (a column
  each, named by its ``--set`` path; a list or mapping value as its JSON text), ``status``
  (``ok``, ``failed``), ``attempts``, ``error``, ``seconds``, then every field of the run's
  ``summary.json`` (mappings flattened: ``final_prices_fen.CEA2026``; lists as JSON text) and
  the outcomes ``derived_outcomes`` reads from its files.
* ``prices.parquet``: the runs' ``ohlcv.parquet`` rows (a row per run, trading day and
  instrument) with ``run_id``, ``seed`` and the parameters in front.
* ``compliance.parquet``: the runs' ``compliance.parquet`` rows (a row per run, firm and year),
  the same way; ``auctions.parquet`` likewise, when a run held auctions.
* ``sweep.json``: the sweep file as read, the count of runs, what ran, and every failed run's
  error.
* ``report/``: for each swept parameter and each outcome that varies, a PNG of the outcome
  against the parameter (the median over seeds, the interquartile band, every run as a dot; a
  line for each value of the other parameters when there are a few), an overview PNG of the
  sweep's chosen ``outcomes`` per parameter, and ``index.md`` / ``index.html`` listing them.
  A parameter whose values are one-item lists (``allocation.auctioned_bp: [[0], [2500]]``) is
  plotted at the item's value.
"""

from __future__ import annotations

import html
import json
import re
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from exchange.sim.outputs import TIMING_FIELDS

if TYPE_CHECKING:
    from exchange.sim.sweep_spec import RunTask, SweepResult, SweepSpec

RUN_COLUMNS = ("run_id", "seed")
STATUS_COLUMNS = ("status", "attempts", "error", "seconds")
# Outcomes of the overview when the sweep file chooses none, those that the runs have.
DEFAULT_OVERVIEW = (
    "cea_vwap_fen",
    "compliance_cost_fen",
    "offsets_surrendered_t",
    "abated_t",
    "compliance_rate",
    "auction_revenue_fen",
)
# Not outcomes: what the scenario fixes, or the machine's timing.
NOT_OUTCOMES = {
    *TIMING_FIELDS,
    *STATUS_COLUMNS,
    *RUN_COLUMNS,
    "years",
    "trading_days",
    "firms",
    "agents",
    "seats",
    "state_hash",
}
DERIVED = {
    "cea_vwap_fen",
    "allowance_vwap_fen",
    "cea_vwap_final_quarter_fen",
    "offset_vwap_fen",
    "compliance_cost_fen",
    "net_purchases_fen",
    "allocated_t",
    "offset_cap_used",
    "auction_vwap_fen",
}
LINES_MAX = 6  # the other parameters' combinations drawn as lines of their own, at most
_PNG = {"Software": None}


# -- a run's derived outcomes --------------------------------------------------------------


def derived_outcomes(run: Path) -> dict[str, Any]:
    """Outcomes that ``summary.json`` does not carry, from the run's files: the allowance
    (CEA) price over all trades (``cea_vwap_fen``), over trades and auction sales together
    (``allowance_vwap_fen``) and over the listed trades of the final
    quarter of trading days (``cea_vwap_final_quarter_fen``), the offsets' price
    (``offset_vwap_fen``), what the firms paid to comply (``compliance_cost_fen``: abatement,
    allowances and offsets bought less allowances sold, allowances won at auction, penalties
    and their trading fees), their net purchases alone (``net_purchases_fen``), the allowances
    allocated (``allocated_t``), the share of the offset cap used (``offset_cap_used``) and
    the auctions' average price (``auction_vwap_fen``)."""
    trades = pq.read_table(run / "trades.parquet").to_pydict()
    compliance = pq.read_table(run / "compliance.parquet").to_pylist()
    ohlcv = pq.read_table(run / "ohlcv.parquet").to_pylist()
    auctions = pq.read_table(run / "auctions.parquet").to_pylist()
    cea = [0, 0]  # t, fen
    offsets = [0, 0]
    fees: dict[str, int] = defaultdict(int)
    for symbol, price, qty, buyer, seller, buy_fee, sell_fee in zip(
        trades["symbol"],
        trades["price_fen"],
        trades["qty_t"],
        trades["buyer"],
        trades["seller"],
        trades["buy_fee_fen"],
        trades["sell_fee_fen"],
        strict=True,
    ):
        into = cea if symbol.startswith("CEA") else offsets
        into[0] += qty
        into[1] += price * qty
        fees[buyer] += buy_fee
        fees[seller] += sell_fee
    days = sorted({r["trading_day"] for r in ohlcv})
    last = set(days[-max(1, len(days) // 4) :])
    quarter = [r for r in ohlcv if r["trading_day"] in last and r["symbol"].startswith("CEA")]
    quarter_t = sum(r["volume_t"] for r in quarter)
    net = sum(
        r["cea_bought_fen"] - r["cea_sold_fen"] + r["cea_auctioned_fen"] + r["offsets_bought_fen"]
        for r in compliance
    )
    cost = net + sum(
        r["abatement_cost_fen"] + r["penalty_fen"] + fees[r["account_id"]] for r in compliance
    )
    cap = sum(r["offset_cap_t"] for r in compliance)
    sold = sum(a["sold_t"] for a in auctions)
    revenue = sum(a["revenue_fen"] for a in auctions)
    return {
        "cea_vwap_fen": round(cea[1] / cea[0]) if cea[0] else None,
        "allowance_vwap_fen": (
            round((cea[1] + revenue) / (cea[0] + sold)) if cea[0] + sold else None
        ),
        "cea_vwap_final_quarter_fen": (
            round(sum(r["turnover_fen"] for r in quarter) / quarter_t) if quarter_t else None
        ),
        "offset_vwap_fen": round(offsets[1] / offsets[0]) if offsets[0] else None,
        "compliance_cost_fen": cost,
        "net_purchases_fen": net,
        "allocated_t": sum(r["allocated_t"] for r in compliance),
        "offset_cap_used": (
            round(sum(r["surrendered_offsets_t"] for r in compliance) / cap, 6) if cap else None
        ),
        "auction_vwap_fen": round(revenue / sold) if sold else None,
    }


# -- tables --------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A value as a cell: scalars as they are, anything else as its JSON text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _array(values: Sequence[Any]) -> pa.Array:
    """One type for a column: bool, int64, float64 or, if anything is text, string."""
    cells = [_plain(v) for v in values]
    present = [v for v in cells if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.array(cells, pa.bool_())
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.array(cells, pa.int64())
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pa.array([None if v is None else float(v) for v in cells], pa.float64())
    return pa.array([None if v is None else str(v) for v in cells], pa.string())


def _rows_table(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    return pa.table({c: _array([row.get(c) for row in rows]) for c in columns})


def _flatten(summary: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in summary.items():
        if isinstance(value, Mapping):
            for sub, item in sorted(value.items()):
                out[f"{key}.{sub}"] = _plain(item)
        else:
            out[key] = _plain(value)
    return out


def parameter_names(spec: SweepSpec) -> dict[str, str]:
    """Each swept path and its column: the path, or ``set.PATH`` where the path is also the
    name of a run column (``seed``: the scenario's population seed, not the run's)."""
    return {p: f"set.{p}" if p in (*RUN_COLUMNS, *STATUS_COLUMNS) else p for p in spec.parameters}


def summary_rows(spec: SweepSpec, result: SweepResult) -> list[dict[str, Any]]:
    columns = parameter_names(spec)
    rows = []
    for task in result.runs:
        outcome = result.outcomes[task.run_id]
        row: dict[str, Any] = {"run_id": task.run_id, "seed": task.seed}
        row.update({columns[p]: task.params.get(p) for p in spec.parameters})
        run = Path(task.out)
        marker = _read_json(run / "DONE.json") if outcome.ok else None
        failed = _read_json(run / "FAILED.json") or {}
        row.update(
            status="ok" if outcome.ok else "failed",
            attempts=outcome.attempt or (marker or {}).get("attempt"),
            error=None if outcome.ok else outcome.error or failed.get("error"),
            seconds=outcome.seconds if not outcome.skipped else (marker or {}).get("seconds"),
        )
        if marker is not None:
            summary = _read_json(run / "summary.json") or {}
            summary.pop("seed", None)
            row.update(_flatten(summary))
            derived = marker.get("outcomes") or {}
            if set(derived) != DERIVED:  # finished by an older carbonx: read them again
                derived = derived_outcomes(run)
            row.update(derived)
        rows.append(row)
    return rows


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _per_run_table(spec: SweepSpec, runs: Sequence[RunTask], name: str) -> pa.Table | None:
    """The runs' ``NAME.parquet`` rows, each with its run's id, seed and parameters."""
    columns = parameter_names(spec)
    types = {p: _array([t.params.get(p) for t in runs]).type for p in spec.parameters}
    tables = []
    for task in runs:
        table = pq.read_table(Path(task.out) / f"{name}.parquet")
        if table.num_rows == 0:
            continue
        n = table.num_rows
        front = {"run_id": pa.array([task.run_id] * n), "seed": pa.array([task.seed] * n)}
        for p in spec.parameters:
            front[columns[p]] = pa.array([_plain(task.params.get(p))] * n, types[p])
        tables.append(pa.table({**front, **{c: table.column(c) for c in table.column_names}}))
    return pa.concat_tables(_same_types(tables)) if tables else None


def _same_types(tables: list[pa.Table]) -> list[pa.Table]:
    """A run's column that is all null (no trade: no open price) has the type a run's writer
    guessed for it; give it the type the other runs' values have."""
    types: dict[str, pa.DataType] = {}
    for table in tables:
        for name in table.column_names:
            column = table.column(name)
            if column.null_count < len(column):
                types.setdefault(name, column.type)
    out = []
    for table in tables:
        for i, name in enumerate(table.column_names):
            column = table.column(name)
            wanted = types.get(name, column.type)
            if column.type != wanted and column.null_count == len(column):
                table = table.set_column(i, name, pa.nulls(len(column), wanted))
        out.append(table)
    return out


def write_outputs(spec: SweepSpec, result: SweepResult) -> list[Path]:
    """Write the tables, ``sweep.json`` and the report into the sweep's directory."""
    out = result.out
    out.mkdir(parents=True, exist_ok=True)
    written = []
    rows = summary_rows(spec, result)
    summary = _rows_table(rows)
    pq.write_table(summary, out / "summary.parquet", compression="zstd")
    written.append(out / "summary.parquet")
    finished = [t for t in result.runs if result.outcomes[t.run_id].ok]
    for name, source in (
        ("prices", "ohlcv"),
        ("compliance", "compliance"),
        ("auctions", "auctions"),
    ):
        table = _per_run_table(spec, finished, source)
        path = out / f"{name}.parquet"
        if table is not None:
            pq.write_table(table, path, compression="zstd")
            written.append(path)
        elif path.exists():
            path.unlink()
    failed = {t.run_id: t for t in result.runs if not result.outcomes[t.run_id].ok}
    record = {
        "sweep": spec.model_dump(mode="json", by_alias=True),
        "runs": len(result.runs),
        "ok": len(result.runs) - len(failed),
        "ran": len(result.ran),
        "failed": [
            {
                "run_id": run_id,
                "params": task.params,
                "seed": task.seed,
                "attempts": result.outcomes[run_id].attempt,
                "error": result.outcomes[run_id].error,
            }
            for run_id, task in failed.items()
        ],
        "executor": result.executor,
        "seconds": result.seconds,
    }
    (out / "sweep.json").write_text(json.dumps(record, indent=2, default=str) + "\n", "utf-8")
    written.append(out / "sweep.json")
    written += write_report(spec, rows, out / "report", record)
    return written


# -- the report ----------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    """A parameter's or outcome's value on an axis: a number, a one-item list's number (as
    JSON text too), else None."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def outcome_names(rows: Sequence[Mapping[str, Any]], parameters: Sequence[str]) -> list[str]:
    """Every numeric outcome that differs between the finished runs, in the rows' order."""
    ok = [r for r in rows if r["status"] == "ok"]
    names: dict[str, None] = {}
    for row in ok:
        names.update(dict.fromkeys(row))
    out = []
    for name in names:
        if name in NOT_OUTCOMES or name in parameters or name.startswith("set."):
            continue
        values = [r.get(name) for r in ok]
        numbers = {_number(v) for v in values if v is not None}
        if None in numbers or not numbers:
            continue
        if len(set(values)) > 1:
            out.append(name)
    return out


def _scale(name: str, values: Sequence[float]) -> tuple[float, str]:
    """Fen shown in CNY (millions when large), tonnes in Mt or kt when large."""
    top = max((abs(v) for v in values), default=0.0)
    if name.endswith("_fen"):
        return (1e8, "CNY m") if top >= 1e8 else (100.0, "CNY")
    if name.endswith("_t"):
        if top >= 1e7:
            return 1e6, "Mt"
        return (1e3, "kt") if top >= 1e5 else (1.0, "t")
    return 1.0, ""


def _quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def _draw(ax: Any, rows: Sequence[Mapping[str, Any]], x: str, y: str, others: list[str]) -> None:
    points = [
        (_number(r[x]), _number(r[y]), tuple(_plain(r.get(o)) for o in others))
        for r in rows
        if r["status"] == "ok" and r.get(y) is not None
    ]
    categorical = any(p[0] is None for p in points)
    ticks: dict[Any, int] = {}
    if categorical:
        for r in rows:
            ticks.setdefault(_plain(r[x]), len(ticks))
        points = [
            (float(ticks[_plain(r[x])]), _number(r[y]), tuple(_plain(r.get(o)) for o in others))
            for r in rows
            if r["status"] == "ok" and r.get(y) is not None
        ]
    factor, unit = _scale(y, [p[1] or 0.0 for p in points])
    pooled = len({k for _, _, k in points}) > LINES_MAX
    groups: dict[tuple[Any, ...], dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    for px, py, key in points:
        if px is not None and py is not None:
            groups[() if pooled else key][px].append(py / factor)
    for key, by_x in sorted(groups.items(), key=lambda kv: [_order(k) for k in kv[0]]):
        xs = sorted(by_x)
        stats = [_quartiles(by_x[v]) for v in xs]
        label = ", ".join(f"{o}={k}" for o, k in zip(others, key, strict=False)) or None
        (line,) = ax.plot(xs, [s[1] for s in stats], marker="o", label=label)
        ax.fill_between(
            xs, [s[0] for s in stats], [s[2] for s in stats], color=line.get_color(), alpha=0.2
        )
        dots = [(v, y) for v in xs for y in by_x[v]]
        ax.scatter(
            [d[0] for d in dots], [d[1] for d in dots], s=6, color=line.get_color(), alpha=0.5
        )
    if categorical:
        ax.set_xticks(list(ticks.values()), [str(k) for k in ticks], fontsize=7)
    ax.ticklabel_format(axis="y", useOffset=False)
    ax.set_xlabel(x)
    ax.set_ylabel(f"{y} ({unit})" if unit else y)
    ax.grid(alpha=0.3)
    if len(groups) > 1:
        ax.legend(fontsize=7)


def _order(value: Any) -> tuple[float, str]:
    number = _number(value)
    return (float("inf"), str(value)) if number is None else (number, "")


def _file(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text)


def write_report(
    spec: SweepSpec, rows: Sequence[Mapping[str, Any]], out: Path, record: Mapping[str, Any]
) -> list[Path]:
    """Plots of every varying outcome against every swept parameter, an overview per
    parameter, and ``index.md`` / ``index.html``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    columns = parameter_names(spec)
    parameters = [columns[p] for p in spec.parameters]
    outcomes = outcome_names(rows, parameters)
    chosen = [o for o in (spec.outcomes or DEFAULT_OVERVIEW) if o in outcomes]
    written: list[Path] = []
    sections: list[tuple[str, str | None, list[tuple[str, str]]]] = []
    for x in parameters:
        others = [p for p in parameters if p != x]
        overview = None
        if chosen:
            cols = min(3, len(chosen))
            nrows = -(-len(chosen) // cols)
            fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 3.4 * nrows), squeeze=False)
            for ax, y in zip(axes.flat, chosen, strict=False):
                _draw(ax, rows, x, y, others)
            for ax in list(axes.flat)[len(chosen) :]:
                ax.set_visible(False)
            fig.suptitle(f"{spec.name}: against {x} (median and interquartile band over seeds)")
            overview = f"overview--{_file(x)}.png"
            fig.tight_layout()
            _save(fig, out / overview, plt)
            written.append(out / overview)
        plots = []
        for y in outcomes:
            fig, ax = plt.subplots(figsize=(5.5, 3.8))
            _draw(ax, rows, x, y, others)
            ax.set_title(f"{y} against {x}", fontsize=9)
            fig.subplots_adjust(left=0.17, right=0.97, bottom=0.14, top=0.9)
            name = f"{_file(y)}--{_file(x)}.png"
            _save(fig, out / name, plt)
            written.append(out / name)
            plots.append((y, name))
        sections.append((x, overview, plots))
    written += _index(spec, record, sections, out)
    return written


def _save(fig: Any, path: Path, plt: Any) -> None:
    fig.savefig(path, dpi=90, metadata=_PNG)
    plt.close(fig)


def _index(
    spec: SweepSpec,
    record: Mapping[str, Any],
    sections: Sequence[tuple[str, str | None, Sequence[tuple[str, str]]]],
    out: Path,
) -> list[Path]:
    seeds = spec.seed_list
    head = (
        f"scenario `{spec.scenario}`; {record['runs']} runs ({record['ok']} finished, "
        f"{len(record['failed'])} failed; {record['ran']} run by the last invocation on "
        f"{record['executor']}, {record['seconds']} s); seeds {seeds[0]}..{seeds[-1]} "
        f"({len(seeds)}); fixed: {json.dumps(spec.fixed, default=str) if spec.fixed else 'none'}"
    )
    md = [f"# Sweep {spec.name}", ""]
    if spec.description.strip():
        md += [spec.description.strip(), ""]
    md += [head, ""]
    body = [f"<h1>Sweep {html.escape(spec.name)}</h1>", f"<p>{html.escape(spec.description)}</p>"]
    body.append(f"<p>{html.escape(head)}</p>")
    md.append(
        "Tables beside this directory: `summary.parquet` (a row per run), `prices.parquet`, "
        "`compliance.parquet`; every run's own files in `runs/RUN_ID/`."
    )
    if record["failed"]:
        md += [
            "",
            "## Failed runs",
            "",
            "| run | parameters | seed | error |",
            "| --- | --- | --- | --- |",
        ]
        body.append("<h2>Failed runs</h2><ul>")
        for f in record["failed"]:
            error = (f["error"] or "").strip().splitlines()
            first = error[-1] if error else ""
            md.append(f"| {f['run_id']} | `{json.dumps(f['params'])}` | {f['seed']} | {first} |")
            body.append(
                f"<li>{f['run_id']} {html.escape(json.dumps(f['params']))} seed {f['seed']}: "
                f"<pre>{html.escape(f['error'] or '')}</pre></li>"
            )
        body.append("</ul>")
    for x, overview, plots in sections:
        md += ["", f"## Against `{x}`", ""]
        body.append(f"<h2>Against {html.escape(x)}</h2>")
        if overview:
            md += [f"![overview against {x}]({overview})", ""]
            body.append(f'<img src="{overview}" alt="overview against {html.escape(x)}">')
        md += [f"- [{y}]({name})" for y, name in plots]
        body += [
            f'<h3>{html.escape(y)}</h3><img src="{name}" alt="{html.escape(y)}">'
            for y, name in plots
        ]
    (out / "index.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    page = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>carbonx sweep {html.escape(spec.name)}</title>"
        "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}"
        "img{max-width:100%}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
    (out / "index.html").write_text(page, encoding="utf-8")
    return [out / "index.md", out / "index.html"]
