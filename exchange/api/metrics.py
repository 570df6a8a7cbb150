"""What ``GET /metrics`` (``exchange.api.routes.health``) answers: each hosted market's runtime
counters in the Prometheus text format 0.0.4.

No key is needed (scrapers carry none) and the route is not in the OpenAPI document. Every
sample has the label ``market``; the numbers come from ``MarketRuntime.stats``, the market's
order and trade ids, and the runtime's inbox (``queue_depth``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from exchange.runtime import MarketRuntime, MarketState

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# name, type, help
METRICS: tuple[tuple[str, str, str], ...] = (
    ("carbonx_commands_total", "counter", "Commands the sequencer applied since the start."),
    ("carbonx_orders_total", "counter", "Orders the market accepted (its last order id)."),
    ("carbonx_trades_total", "counter", "Trades the market made (its last trade id)."),
    ("carbonx_queue_depth", "gauge", "Commands submitted and not yet taken by the sequencer."),
    ("carbonx_commits_total", "counter", "Journal batches committed since the start."),
    ("carbonx_committed_commands_total", "counter", "Commands committed since the start."),
    ("carbonx_commit_seconds_sum", "counter", "Seconds spent committing batches."),
    ("carbonx_commit_seconds_max", "gauge", "The slowest commit since the start, in seconds."),
    (
        "carbonx_commit_latency_p99_ms",
        "gauge",
        "99th percentile of the recent commits' latency, in milliseconds (NaN before any).",
    ),
    ("carbonx_market_running", "gauge", "1 while the market runs, 0 reconnecting or stopped."),
    ("carbonx_market_reconnecting", "gauge", "1 while the market reconnects to its database."),
    ("carbonx_database_reconnects_total", "counter", "Database blips the market outlasted."),
)


def queue_depth(runtime: MarketRuntime) -> int:
    """How many submitted commands wait in the runtime's inbox for the sequencer.

    The runtime has no public accessor for it: this reads its private ``_inbox`` deque (read
    only, in the event loop the sequencer runs in), and is the one place the API does so.
    """
    return len(runtime._inbox)


def p99(values: Sequence[float]) -> float:
    """The nearest-rank 99th percentile; NaN when there are no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def samples(runtime: MarketRuntime) -> dict[str, float]:
    stats = runtime.stats
    market = runtime.market
    return {
        "carbonx_commands_total": stats.commands,
        "carbonx_orders_total": market.next_order_id,
        "carbonx_trades_total": market.last_trade_id,
        "carbonx_queue_depth": queue_depth(runtime),
        "carbonx_commits_total": stats.commits,
        "carbonx_committed_commands_total": stats.committed_commands,
        "carbonx_commit_seconds_sum": stats.commit_seconds_total,
        "carbonx_commit_seconds_max": stats.commit_seconds_max,
        "carbonx_commit_latency_p99_ms": p99(list(stats.recent_commit_ms)),
        "carbonx_market_running": int(runtime.state is MarketState.RUNNING),
        "carbonx_market_reconnecting": int(runtime.state is MarketState.RECONNECTING),
        "carbonx_database_reconnects_total": stats.reconnects,
    }


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    return repr(value)


def render(runtimes: Iterable[MarketRuntime]) -> str:
    by_market = [(runtime.market_id, samples(runtime)) for runtime in runtimes]
    lines: list[str] = []
    for name, kind, help_text in METRICS:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        lines += [
            f'{name}{{market="{_label(market_id)}"}} {_number(values[name])}'
            for market_id, values in by_market
        ]
    return "\n".join(lines) + "\n"
