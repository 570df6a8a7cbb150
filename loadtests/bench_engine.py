"""Matching engine benchmark: the engine beside a bare baseline book on the same stream.

    python -m loadtests.bench_engine --json

prints one JSON object. Throughput is the median of ``--repeats`` runs of engine and baseline,
interleaved so both see the same machine; latency comes from a separate pass that times each
command; ``rss_mb_1m_resting`` is the peak RSS of a fresh process that builds a book of
1,000,000 resting orders. See docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import matching.engine
from exchange.tuning import tune_gc_for_sequencer
from loadtests.baseline_book import BaselineBook
from loadtests.engine_stream import open_market, resting_book_orders, standard_mix
from matching import Command
from matching.events import CommandRejected, TradeExecuted


class _Book(Protocol):
    def apply(self, cmd: Command, /) -> object: ...


def _timed_run(
    make_book: Callable[[], _Book], setup: Sequence[Command], stream: Sequence[Command]
) -> float:
    """Seconds ``make_book()`` takes over ``stream``, after ``setup`` (not timed)."""
    book = make_book()
    for cmd in setup:
        book.apply(cmd)
    apply = book.apply
    gc.collect()
    start = time.perf_counter()
    for cmd in stream:
        apply(cmd)
    return time.perf_counter() - start


def _latencies_ns(setup: Sequence[Command], stream: Sequence[Command]) -> list[int]:
    engine = open_market()
    for cmd in setup:
        engine.apply(cmd)
    apply = engine.apply
    clock = time.perf_counter_ns
    out = [0] * len(stream)
    gc.collect()
    for i, cmd in enumerate(stream):
        start = clock()
        apply(cmd)
        out[i] = clock() - start
    return out


def _stream_profile(setup: Sequence[Command], stream: Sequence[Command]) -> dict[str, int]:
    """What the stream did in the engine: trades, refusals, resting orders at the end."""
    engine = open_market()
    for cmd in setup:
        engine.apply(cmd)
    trades = rejected = 0
    for cmd in stream:
        for event in engine.apply(cmd):
            if isinstance(event, TradeExecuted):
                trades += 1
            elif isinstance(event, CommandRejected):
                rejected += 1
    depth = engine.depth(engine.symbols()[0], 10_000)
    resting = sum(level.order_count for level in depth.bids + depth.asks)
    return {"trades": trades, "rejected": rejected, "resting_orders_end": resting}


def resting_rss_mb(count: int) -> float:
    """Peak RSS (MB) of this process after building a book of ``count`` resting orders."""
    tune_gc_for_sequencer()
    engine = open_market()
    for cmd in resting_book_orders(count):
        engine.apply(cmd)
    depth = engine.depth(engine.symbols()[0], 100_000)
    resting = sum(level.order_count for level in depth.bids + depth.asks)
    assert resting == count, f"expected {count} resting orders, found {resting}"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_in_fresh_process(count: int) -> float:
    out = subprocess.run(
        [sys.executable, "-m", "loadtests.bench_engine", "--rss-only", str(count)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip())


def _percentile(sorted_values: Sequence[int], q: float) -> int:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def run(commands: int, repeats: int, seed: int, resting: int, rss_orders: int) -> dict[str, object]:
    setup, stream = standard_mix(commands, seed=seed, resting=resting)
    # Both books run under the collector settings of a sequencer process (exchange.tuning).
    tune_gc_for_sequencer()
    kinds: dict[str, int] = {}
    for cmd in stream:
        name = type(cmd).__name__ if type(cmd).__name__ != "NewOrder" else cmd.order_type.value  # type: ignore[union-attr]
        kinds[name] = kinds.get(name, 0) + 1
    engine_s, baseline_s = [], []
    for _ in range(repeats):
        engine_s.append(_timed_run(open_market, setup, stream))
        baseline_s.append(_timed_run(BaselineBook, setup, stream))
    lat = sorted(_latencies_ns(setup, stream))
    ops = len(stream) / statistics.median(engine_s)
    baseline_ops = len(stream) / statistics.median(baseline_s)
    result: dict[str, object] = {
        "commands": len(stream),
        "resting_orders_start": resting,
        "ops_per_s": round(ops),
        "baseline_ops_per_s": round(baseline_ops),
        "ratio": round(ops / baseline_ops, 3),
        "latency_ns_p50": _percentile(lat, 0.50),
        "latency_ns_p99": _percentile(lat, 0.99),
        "latency_ns_p999": _percentile(lat, 0.999),
        "rss_mb_1m_resting": round(_rss_in_fresh_process(rss_orders), 1) if rss_orders else None,
        "rss_orders": rss_orders,
        "repeats": repeats,
        "engine_s_runs": [round(s, 3) for s in engine_s],
        "baseline_s_runs": [round(s, 3) for s in baseline_s],
        "mix": kinds,
        "seed": seed,
        "python": platform.python_version(),
        "engine_compiled": (matching.engine.__file__ or "").endswith(".so"),
        "gc_thresholds": list(gc.get_threshold()),
    }
    result.update(_stream_profile(setup, stream))
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--commands", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--resting", type=int, default=10_000)
    parser.add_argument("--rss-orders", type=int, default=1_000_000)
    parser.add_argument("--rss-only", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_only:
        print(resting_rss_mb(args.rss_only))
        return
    result = run(args.commands, args.repeats, args.seed, args.resting, args.rss_orders)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
