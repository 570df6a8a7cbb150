"""``carbonx simulate SCENARIO [--seed N] [--out DIR] [--quiet] [--set PATH=VALUE ...]``.

SCENARIO is a YAML path or the name of a shipped scenario (``scenarios/``). Writes the run's
tables (Parquet and CSV), ``summary.json`` and ``report.html`` with its plots into DIR; shows
a progress bar on stderr unless ``--quiet``. ``--set compliance.offset_cap_bp=1000`` overrides
one rule of the scenario's rule set, ``--set allocation.auctioned_bp=[5000]`` one field of the
scenario file (repeatable; ``split_sets`` tells them apart), for research sweeps. Exit status 2 on a
scenario that does not validate (every problem printed, one a line).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

BAR_WIDTH = 30


def add_simulate_parser(commands: Any) -> None:
    """The ``simulate`` subcommand's arguments (imports nothing heavy until it runs)."""
    p = commands.add_parser("simulate", help="run a scenario headless (deterministic)")
    p.add_argument("scenario", help="a scenario YAML file or a shipped scenario's name")
    p.add_argument("--seed", type=int, default=None, help="default: the scenario's seed")
    p.add_argument("--out", type=Path, default=None, help="default: sim-out/SCENARIO-seedN")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--no-report", action="store_true", help="data files only, no plots")
    p.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a rule, e.g. compliance.offset_cap_bp=1000, or a field of the scenario, "
        "e.g. allocation.auctioned_bp=[5000] (value read as YAML)",
    )


def parse_sets(sets: list[str]) -> dict[str, Any]:
    """``["a.b=1", "a.c=x"]`` as ``{"a": {"b": 1, "c": "x"}}`` (values read as YAML)."""
    out: dict[str, Any] = {}
    for path, value in _read_sets(sets):
        node = out
        *parents, leaf = path
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return out


def split_sets(sets: list[str]) -> tuple[list[tuple[list[str], Any]], dict[str, Any]]:
    """``--set`` items as (the scenario file's fields to set, in order; the rule overrides as
    ``parse_sets`` nests them): ``allocation.auctioned_bp=[5000]`` sets a field of the scenario,
    ``compliance.offset_cap_bp=1000`` a rule (``exchange.sim.scenario.is_scenario_path``)."""
    from exchange.sim.scenario import is_scenario_path

    scenario: list[tuple[list[str], Any]] = []
    rules: list[str] = []
    for item, (path, value) in zip(sets, _read_sets(sets), strict=True):
        if is_scenario_path(path):
            scenario.append((path, value))
        else:
            rules.append(item)
    return scenario, parse_sets(rules)


def _read_sets(sets: list[str]) -> list[tuple[list[str], Any]]:
    import yaml

    out = []
    for item in sets:
        path, sep, text = item.partition("=")
        if not sep or not path or "" in path.split("."):
            raise ValueError(f"--set {item!r}: expected PATH=VALUE")
        out.append((path.split("."), yaml.safe_load(text)))
    return out


class ProgressBar:
    """``[#####.....]  45 %  day 110/250  orders 450,000  3.2 s`` redrawn in place."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.perf_counter()
        self.shown = -1

    def __call__(self, done: int, total: int, orders: int) -> None:
        percent = 100 * done // max(total, 1)
        if percent == self.shown and done != total:
            return
        self.shown = percent
        filled = BAR_WIDTH * done // max(total, 1)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        elapsed = time.perf_counter() - self.started
        self.stream.write(
            f"\r[{bar}] {percent:3d} %  day {done}/{total}  orders {orders:,}  {elapsed:.1f} s"
        )
        if done == total:
            self.stream.write("\n")
        self.stream.flush()


def run_simulate(args: argparse.Namespace) -> int:
    from exchange.sim.outputs import summary, write_outputs
    from exchange.sim.report import write_report
    from exchange.sim.runner import simulate
    from exchange.sim.scenario import ScenarioError, load_scenario
    from exchange.sim.schedule import SimulationError

    try:
        scenario_sets, rule_overrides = split_sets(args.sets)
        scenario = load_scenario(args.scenario, rule_overrides, scenario_sets)
    except (ScenarioError, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    seed = scenario.spec.seed if args.seed is None else args.seed
    out = args.out or Path("sim-out") / f"{scenario.name}-seed{seed}"
    progress = None if args.quiet else ProgressBar(sys.stderr)
    try:
        result = simulate(scenario, seed, progress)
    except SimulationError as exc:
        print(f"scenario {scenario.name!r}: {exc}", file=sys.stderr)
        return 1
    write_outputs(result, out)
    if not args.no_report:
        write_report(result, out)
    numbers = summary(result)
    keys = ("orders", "trades", "compliance_rate", "final_prices_fen", "wall_seconds")
    print(json.dumps({"out": str(out), **{k: numbers[k] for k in keys}}))
    return 0
