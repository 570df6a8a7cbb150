"""Sweep benchmark: 8 ``equilibrium_check`` runs on local Ray beside the same 8 run one after
another (the serial executor), in one session.

    python -m loadtests.bench_sweep --json [--runs 8] [--repeats 3] [--workers N]

The sweep is ``equilibrium_check`` with seeds 1..8 (each run a whole ``carbonx simulate``:
60 trading days, the data files and the run's report). Each figure is the seconds of
``run_sweep``'s runs (``SweepResult.seconds``: from the first submission to the last answer;
the sweep's own tables, the same for every executor, are timed apart as ``tables_seconds``;
with no parameter swept the sweep draws no plots). The baseline is the serial executor,
measured in the same process, interleaved with the others, each a fresh output directory;
figures are medians of ``--repeats``.

* ``ray_seconds``: on a local Ray started once for the session (``start_ray``) and kept up, as
  a researcher's session or a cluster keeps it; its workers have run a sweep before.
* ``ray_cold_seconds``: the first sweep of the process on Ray, ``ray.init`` and the workers'
  start-up and imports included (measured once, first).
* ``process_seconds``: the process pool, its fork server started (and the simulator imported)
  for every sweep.
* ``ratio`` = ray_seconds / serial_seconds (the target: at most 0.6); ``ratio_cold`` and
  ``ratio_process`` likewise.
* Where the time goes: ``ray_init_seconds`` (``ray.init``), ``ray_first_task_seconds`` (a task
  that does nothing, on fresh workers), ``import_seconds`` (a fresh interpreter importing what a
  run needs), and each executor's median seconds per run as its worker measured it
  (``run_seconds_*``: two runs side by side on two cores each take longer than one alone), and
  the share of a core each run's simulation got (``cpu_share_*``: its CPU seconds over its wall
  seconds, from ``summary.json``; below 1 when other processes, the machine's other work or
  Ray's own, held the cores).
See docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from exchange.sim.sweep import run_sweep, start_ray, worker_modules
from exchange.sim.sweep_spec import SweepResult


def sweep_spec(runs: int) -> dict[str, Any]:
    return {"name": "bench", "scenario": "equilibrium_check", "seeds": {"count": runs, "base": 1}}


def timed(spec: dict[str, Any], root: Path, executor: str, workers: int) -> dict[str, float]:
    out = Path(tempfile.mkdtemp(prefix=f"{executor}-", dir=root))
    started = time.perf_counter()
    kind: Any = executor
    result: SweepResult = run_sweep(spec, out, executor=kind, workers=workers)
    total = time.perf_counter() - started
    assert not result.failed, result.failed
    assert len(result.ran) == len(result.runs)
    per_run = [json.loads((Path(t.out) / "DONE.json").read_text())["seconds"] for t in result.runs]
    simulated = [json.loads((Path(t.out) / "summary.json").read_text()) for t in result.runs]
    return {
        "seconds": result.seconds,
        "outputs_seconds": round(total - result.seconds, 3),
        "run_seconds": statistics.median(per_run),
        # the simulation's own CPU over its wall time: the share of a core a run was given
        "cpu_share": statistics.median(s["cpu_seconds"] / s["wall_seconds"] for s in simulated),
    }


def import_seconds() -> float:
    code = "import time; t = time.perf_counter(); import importlib\n"
    code += f"for m in {worker_modules()!r}: importlib.import_module(m)\n"
    code += "print(time.perf_counter() - t)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object (the default too)")
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    import ray

    load_before = [round(x, 2) for x in os.getloadavg()]
    spec = sweep_spec(args.runs)
    figures: dict[str, list[dict[str, float]]] = {"serial": [], "ray": [], "process": []}
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        root = Path(tmp)
        cold = timed(spec, root, "ray", args.workers)  # starts and stops its own Ray
        started = time.perf_counter()
        start_ray(args.workers)
        init = time.perf_counter() - started
        noop = ray.remote(num_cpus=1)(lambda: os.getpid())
        started = time.perf_counter()
        ray.get([noop.remote() for _ in range(args.workers)])
        first_task = time.perf_counter() - started
        try:
            for _ in range(args.repeats):
                for executor in ("serial", "ray", "process"):
                    figures[executor].append(timed(spec, root, executor, args.workers))
        finally:
            ray.shutdown()
    median = {
        k: {f: statistics.median(r[f] for r in rows) for f in rows[0]}
        for k, rows in figures.items()
    }
    serial = median["serial"]["seconds"]
    report = {
        "benchmark": "sweep",
        "runs": args.runs,
        "workers": args.workers,
        "repeats": args.repeats,
        "serial_seconds": round(serial, 3),
        "ray_seconds": round(median["ray"]["seconds"], 3),
        "ratio": round(median["ray"]["seconds"] / serial, 3),
        "ray_cold_seconds": round(cold["seconds"], 3),
        "ratio_cold": round(cold["seconds"] / serial, 3),
        "process_seconds": round(median["process"]["seconds"], 3),
        "ratio_process": round(median["process"]["seconds"] / serial, 3),
        "tables_seconds": round(median["serial"]["outputs_seconds"], 3),
        "ray_init_seconds": round(init, 3),
        "ray_first_task_seconds": round(first_task, 3),
        "import_seconds": round(import_seconds(), 3),
        "run_seconds_serial": median["serial"]["run_seconds"],
        "run_seconds_ray": median["ray"]["run_seconds"],
        "run_seconds_process": median["process"]["run_seconds"],
        "cpu_share_serial": round(median["serial"]["cpu_share"], 3),
        "cpu_share_ray": round(median["ray"]["cpu_share"], 3),
        "cpu_share_process": round(median["process"]["cpu_share"], 3),
        "every_run": {k: [r["seconds"] for r in rows] for k, rows in figures.items()},
        "ray_version": ray.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_before": load_before,  # other work on the machine: 1, 5, 15 minutes
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
