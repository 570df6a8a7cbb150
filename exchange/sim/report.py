"""A run's report: ``report.html`` with four PNG plots beside it.

Plots: price and volume per allowance vintage; compliance outcomes per year; abatement versus
net purchases per firm; offsets surrendered against each firm's cap. Matplotlib's Agg backend,
PNGs written without the "Software" tag and the HTML without dates, so a report is as
reproducible as the data files.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from exchange.sim.outputs import TIMING_FIELDS, summary
from exchange.sim.record import RunResult
from exchange.sim.scenario import text_in

_PNG = {"Software": None}
FEN_PER_CNY = 100


def _save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=90, metadata=_PNG)
    plt.close(fig)


def price_volume(result: RunResult, path: Path) -> None:
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True, height_ratios=[2, 1])
    symbols = sorted({r["symbol"] for r in result.ohlcv if r["symbol"].startswith("CEA")})
    days = sorted({r["trading_day"] for r in result.ohlcv})
    x = {d: i for i, d in enumerate(days)}
    for symbol in symbols:
        rows = [r for r in result.ohlcv if r["symbol"] == symbol]
        xs = [x[r["trading_day"]] for r in rows]
        top.plot(xs, [r["close_fen"] / FEN_PER_CNY for r in rows], label=f"{symbol} close")
        bottom.bar(xs, [r["volume_t"] for r in rows], label=symbol, alpha=0.7)
    top.set_ylabel("CNY per t")
    top.set_title("Allowance price and volume")
    top.legend(loc="best", fontsize=8)
    bottom.set_ylabel("volume, t")
    bottom.set_xlabel("trading day of the run")
    _save(fig, path)


def compliance_outcomes(result: RunResult, path: Path) -> None:
    years = sorted({r["year"] for r in result.compliance})
    complied = [
        sum(1 for r in result.compliance if r["year"] == y and r["complied"]) for y in years
    ]
    short = [
        sum(1 for r in result.compliance if r["year"] == y and not r["complied"]) for y in years
    ]
    fig, ax = plt.subplots(figsize=(6, 4))
    labels = [str(y) for y in years]
    ax.bar(labels, complied, label="complied", color="tab:green")
    ax.bar(labels, short, bottom=complied, label="short (penalised)", color="tab:red")
    ax.set_ylabel("firms")
    ax.set_title("Compliance outcomes")
    ax.legend()
    _save(fig, path)


def abatement_vs_purchases(result: RunResult, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 5))
    rows = result.compliance
    ax.scatter(
        [r["abated_t"] for r in rows],
        [
            r["cea_bought_t"]
            + r["cea_auctioned_t"]
            + r["offsets_bought_t"]
            - r["cea_sold_t"]
            - r["offsets_sold_t"]
            for r in rows
        ],
        s=8,
        alpha=0.6,
    )
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xlabel("abated, t")
    ax.set_ylabel("net bought (allowances + offsets), t")
    ax.set_title("Abatement versus purchases, per firm and year")
    _save(fig, path)


def offsets_against_cap(result: RunResult, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 5))
    rows = result.compliance
    caps = [r["offset_cap_t"] for r in rows]
    ax.scatter(caps, [r["surrendered_offsets_t"] for r in rows], s=8, alpha=0.6)
    top = max(caps, default=1) or 1
    ax.plot([0, top], [0, top], color="grey", linewidth=0.8, label="the cap")
    ax.set_xlabel("offset cap, t")
    ax.set_ylabel("offsets surrendered, t")
    ax.set_title("Offset use against the cap, per firm and year")
    ax.legend()
    _save(fig, path)


PLOTS = (
    ("price_volume.png", "Price and volume", price_volume),
    ("compliance.png", "Compliance outcomes", compliance_outcomes),
    ("abatement_vs_purchases.png", "Abatement versus purchases", abatement_vs_purchases),
    ("offsets.png", "Offset use against the cap", offsets_against_cap),
)


def write_report(result: RunResult, out: Path) -> Path:
    """Draw the plots and write ``report.html`` beside them."""
    out.mkdir(parents=True, exist_ok=True)
    numbers = summary(result)
    rows = "\n".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in numbers.items()
        if k not in TIMING_FIELDS
    )
    figures = []
    for name, title, draw in PLOTS:
        draw(result, out / name)
        figures.append(f'<h2>{title}</h2>\n<img src="{name}" alt="{title}">')
    events = "\n".join(
        f"<li>{html.escape(e['trading_day'])} {html.escape(e['kind'])}: "
        f"{html.escape(e['detail'])}</li>"
        for e in result.events
    )
    scenario = result.scenario
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>carbonx simulation: {html.escape(scenario.name)} seed {result.seed}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}
th{{text-align:left;padding-right:1em}}img{{max-width:100%}}</style></head>
<body>
<h1>{html.escape(scenario.name)}, seed {result.seed}</h1>
<p>{html.escape(text_in(scenario.spec.description, "en"))}</p>
<p>Prices in fen (CNY 0.01), quantities in tonnes. Wall time is in summary.json.</p>
<table>
{rows}
</table>
{chr(10).join(figures)}
<h2>Events</h2>
<ul>
{events or "<li>none</li>"}
</ul>
</body></html>
"""
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
