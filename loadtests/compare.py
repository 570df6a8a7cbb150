"""The benchmarks of two work trees, interleaved on one machine: before and after a change.

    python -m loadtests.compare BASE_TREE [CANDIDATE_TREE] [--rounds 5] [--only journal]

Each tree runs its own code with its own ``.venv`` and compiled build (``make .venv/.installed
native`` in each first). Three benchmarks, each a fresh process: the engine benchmark
(``loadtests/bench_engine.py``, without the RSS pass), the journal benchmark
(``loadtests/bench_journal.py``, one run per backend), and the pure market (the journal
benchmark's commands through ``Market.apply``, no database: the median of three passes, wall
and CPU time). In every round each benchmark runs in both trees back to back, which one first
alternating, so the machine's drift weighs on both alike.

Prints one JSON object: per figure, every run of each tree, their medians, ``ratio`` =
candidate median / base median, and ``paired_ratio`` = the median over rounds of candidate /
base within a round (above 1: the candidate is faster). ``engine_baseline_ops_per_s`` runs the
same code in both trees: its ratios show how far the machine's noise alone moves a figure.
See docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ["-m", "loadtests.bench_engine", "--json", "--rss-orders", "0"]
JOURNAL = ["-m", "loadtests.bench_journal", "--json", "--repeats", "1"]
# The pure market over the journal benchmark's stream, in the tree under test.
MARKET = [
    "-c",
    """
import gc, json, statistics, time
from exchange.tuning import tune_gc_for_sequencer
from loadtests.bench_journal import OVERRIDES, market_commands, opening_commands
from loadtests.engine_stream import REFERENCE_PRICE_FEN, SYMBOL, standard_mix
from settlement import Market, MarketSpec
engine_setup, engine_stream = standard_mix(200_000, seed=1, resting=10_000)
setup = opening_commands() + market_commands(engine_setup)
stream = market_commands(engine_stream)
spec = MarketSpec("bench", "cn_national", ((SYMBOL, REFERENCE_PRICE_FEN),), OVERRIDES)
tune_gc_for_sequencer()
walls, cpus = [], []
for _ in range(3):
    market = Market(spec)
    for cmd in setup:
        market.apply(cmd)
    gc.collect()
    apply = market.apply
    wall, cpu = time.perf_counter(), time.process_time()
    for cmd in stream:
        apply(cmd)
    cpus.append(time.process_time() - cpu)
    walls.append(time.perf_counter() - wall)
print(json.dumps({
    "market_commands_per_s": round(len(stream) / statistics.median(walls)),
    "market_cpu_commands_per_s": round(len(stream) / statistics.median(cpus)),
}))
""",
]


def _run(tree: Path, args: list[str]) -> Any:
    env = dict(os.environ, CARBONX_REQUIRE_NATIVE="1")
    python = str(tree / ".venv" / "bin" / "python")
    out = subprocess.run(
        [python, *args], cwd=tree, env=env, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)


def _engine(tree: Path) -> dict[str, float]:
    engine = _run(tree, ENGINE)
    if not engine["engine_compiled"]:
        raise RuntimeError(f"{tree}: the engine is not compiled (make native)")
    return {
        "engine_ops_per_s": engine["ops_per_s"],
        "engine_baseline_ops_per_s": engine["baseline_ops_per_s"],
    }


def _journal(tree: Path) -> dict[str, float]:
    figures = {}
    for result in _run(tree, JOURNAL)["results"]:
        backend = result["backend"]
        figures[f"journal_{backend}_durable_commands_per_s"] = result["durable_commands_per_s"]
        figures[f"journal_{backend}_ratio"] = result["ratio"]
    return figures


def _market(tree: Path) -> dict[str, float]:
    figures: dict[str, float] = _run(tree, MARKET)
    return figures


BENCHMARKS = {"engine": _engine, "journal": _journal, "market": _market}
COMMANDS = {
    "engine": " ".join(["python", *ENGINE]),
    "journal": " ".join(["python", *JOURNAL]),
    "market": "python -c MARKET (loadtests/compare.py)",
}


def compare(
    base: Path, candidate: Path, rounds: int, only: Sequence[str] = tuple(BENCHMARKS)
) -> dict[str, Any]:
    trees = {"base": base, "candidate": candidate}
    runs: dict[str, dict[str, list[float]]] = {"base": {}, "candidate": {}}
    for i in range(rounds):
        for j, bench in enumerate(BENCHMARKS[name] for name in only):
            for name in ("base", "candidate") if (i + j) % 2 == 0 else ("candidate", "base"):
                for key, value in bench(trees[name]).items():
                    runs[name].setdefault(key, []).append(value)
    figures = {}
    for key, base_runs in runs["base"].items():
        candidate_runs = runs["candidate"][key]
        base_median = statistics.median(base_runs)
        candidate_median = statistics.median(candidate_runs)
        paired = [c / b for b, c in zip(base_runs, candidate_runs, strict=True)]
        figures[key] = {
            "base_median": base_median,
            "candidate_median": candidate_median,
            "ratio": round(candidate_median / base_median, 3),
            "paired_ratio": round(statistics.median(paired), 3),
            "base_runs": base_runs,
            "candidate_runs": candidate_runs,
        }
    return {
        "base": str(base),
        "candidate": str(candidate),
        "rounds": rounds,
        "commands": {name: COMMANDS[name] for name in only},
        "figures": figures,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", type=Path, help="the work tree before the change")
    parser.add_argument("candidate", type=Path, nargs="?", default=ROOT)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="engine,journal,market")
    args = parser.parse_args(argv)
    only = [name for name in args.only.split(",") if name]
    if not only or set(only) - set(BENCHMARKS):
        parser.error(f"--only takes some of {','.join(BENCHMARKS)}")
    report = compare(args.base.resolve(), args.candidate.resolve(), args.rounds, only)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
