"""Research sweeps: one scenario over a grid of overrides and many seeds, run in parallel.

``carbonx sweep SWEEP.yaml [--out DIR] [--executor ray|process|serial] [--workers N]
[--address ADDR] [--quiet]`` or ``run_sweep(spec, out)``. A sweep file names a scenario, the
overrides every run gets (``set``), the swept ones (``grid``: their cartesian product, and/or
``runs``: a list of override sets) and the seeds (a list, or ``{count, base}``); docs/research.md
has the format.

Every combination of overrides and seed is one ``carbonx simulate`` run: the same argument
parser and the same ``run_simulate`` (``simulate_argv``), with each override passed as
``--set PATH=VALUE`` (the value written as YAML), ``--seed`` and ``--out OUT/runs/RUN_ID``. So a
run's directory holds exactly what ``carbonx simulate`` with those arguments writes, plus
``DONE.json``, the marker written last (its arguments, the scenario file's digest, the time it
took and a few outcomes derived from the run's files). A run whose marker matches its arguments
and scenario is not run again; any other directory is cleared and the run redone. A run that
fails (a non-zero exit status or an exception) is retried once in the same invocation; if it
fails again its error is kept in ``FAILED.json`` and in the sweep's summary, and the next
invocation tries it again.

Executors: Ray when it is installed (``pip install carbonx[sweep]``): a local Ray on this
machine's cores, or the cluster at ``--address`` / ``RAY_ADDRESS`` (every node must import
carbonx and see the output directory); else a ``ProcessPoolExecutor`` (workers forked from a
server that has imported the simulator once); ``serial`` runs them one after another in this
process. What the sweep writes then (``exchange.sim.sweep_output``): Parquet tables of every
run's summary, daily prices and per-firm compliance with the swept parameters as columns, and a
report of each outcome against each parameter.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import logging
import multiprocessing
import os
import shutil
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any, Literal, TextIO

import yaml

from exchange.sim.sweep_spec import (
    RunOutcome,
    RunTask,
    SweepError,
    SweepResult,
    SweepSpec,
    load_sweep,
    parse_sweep,
)

DONE = "DONE.json"
FAILED = "FAILED.json"
ATTEMPTS = 2  # a failed run is retried once
EXECUTORS = ("ray", "process", "serial")
# What a run imports: the process pool's fork server imports it before it forks a worker, and
# a Ray worker as it starts (``warm_worker``), so a worker's first run does not wait for it.
WORKER_MODULES = [
    "exchange.sim.sweep",
    "exchange.sim.sweep_spec",
    "exchange.sim.sweep_output",
    "exchange.sim.command",
    "exchange.sim.runner",
    "exchange.sim.outputs",
    "exchange.sim.report",
    "matplotlib.pyplot",
]


def worker_modules() -> list[str]:
    """``WORKER_MODULES`` and every agent kind's module (a scenario loads them all)."""
    import pkgutil

    import exchange.agents

    agents = pkgutil.iter_modules(exchange.agents.__path__)
    return WORKER_MODULES + sorted(f"exchange.agents.{m.name}" for m in agents)


def warm_worker() -> None:
    """Import what a run needs (a Ray worker's set-up hook)."""
    import importlib

    for name in worker_modules():
        importlib.import_module(name)


# -- the runs ------------------------------------------------------------------------------


def yaml_value(value: Any) -> str:
    """A value as ``--set`` reads it back (YAML, one line): ``[5000]``, ``0.5``, ``'07'``."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**9, sort_keys=True)
    return text.removesuffix("\n...\n").strip()


def scenario_argument(spec: SweepSpec, base: Path) -> str:
    """The scenario as ``carbonx simulate`` is given it: a shipped name, else an absolute path."""
    from exchange.sim.scenario import SCENARIO_DIR

    given = Path(spec.scenario)
    if given.suffix not in (".yaml", ".yml") and (SCENARIO_DIR / f"{spec.scenario}.yaml").exists():
        return spec.scenario
    return str(given if given.is_absolute() else (base / given).resolve())


def plan(spec: SweepSpec, out: Path, base: Path = Path()) -> list[RunTask]:
    """Every run, in order: each override set with each seed. The run id is a digest of the
    overrides (so a run keeps its directory when the grid grows) and the seed."""
    from exchange.sim.scenario import scenario_path

    scenario = scenario_argument(spec, base)
    sha = hashlib.sha256(scenario_path(scenario).read_bytes()).hexdigest()
    fixed = [f"{p}={yaml_value(v)}" for p, v in spec.fixed.items()]
    tasks = []
    seen: set[str] = set()
    for params in spec.combinations():
        sets = fixed + [f"{p}={yaml_value(v)}" for p, v in params.items()]
        digest = hashlib.sha256(json.dumps(sets).encode()).hexdigest()[:10]
        for seed in spec.seed_list:
            run_id = f"{digest}-s{seed}"
            if run_id in seen:
                continue  # the same overrides listed twice
            seen.add(run_id)
            run_out = out / "runs" / run_id
            argv = [scenario, "--seed", str(seed), "--out", str(run_out), "--quiet"]
            if not spec.report:
                argv.append("--no-report")
            for item in sets:
                argv += ["--set", item]
            tasks.append(RunTask(run_id, params, seed, argv, str(run_out), sha))
    return tasks


def is_done(task: RunTask) -> bool:
    """Whether ``task``'s directory holds a finished run of these very arguments."""
    try:
        marker = json.loads((Path(task.out) / DONE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    argv = marker.get("argv")
    return bool(
        isinstance(argv, list)
        and _without_out(argv) == _without_out(task.argv)
        and marker.get("scenario_sha256") == task.scenario_sha256
    )


def _without_out(argv: Sequence[str]) -> list[str]:
    """The arguments but the run's directory (a sweep's directory may have moved)."""
    at = list(argv).index("--out") if "--out" in argv else -2
    return [a for i, a in enumerate(argv) if i not in (at, at + 1)]


def simulate_argv(argv: Sequence[str]) -> int:
    """``carbonx simulate ARGV``, exactly: the same parser, the same ``run_simulate``."""
    from exchange.sim.command import add_simulate_parser, run_simulate

    parser = argparse.ArgumentParser(prog="carbonx")
    add_simulate_parser(parser.add_subparsers(dest="command", required=True))
    try:
        return run_simulate(parser.parse_args(["simulate", *argv]))
    except SystemExit as exc:  # argparse's own refusal
        return exc.code if isinstance(exc.code, int) else 2


def execute(task: RunTask) -> RunOutcome:
    """Run one task in this process: clear its directory, run it, write its marker last."""
    out = Path(task.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    started = time.perf_counter()
    captured = io.StringIO()
    error = None
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            status = simulate_argv(task.argv)
        if status != 0:
            error = f"exit status {status}: {captured.getvalue().strip()[-2000:]}"
    except Exception:  # a worker must answer, whatever the run raised
        error = traceback.format_exc(limit=-8)[-4000:]
    seconds = round(time.perf_counter() - started, 3)
    record = {**asdict(task), "seconds": seconds}
    if error is not None:
        _write_json(out / FAILED, {**record, "error": error})
        return RunOutcome(task.run_id, False, task.attempt, seconds, error)
    from exchange.sim.sweep_output import derived_outcomes

    _write_json(out / DONE, {**record, "outcomes": derived_outcomes(out)})
    return RunOutcome(task.run_id, True, task.attempt, seconds)


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Written whole or not at all (a rename), so a marker never stands half-written."""
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", "utf-8")
    part.replace(path)


# -- executors -----------------------------------------------------------------------------


class Executor:
    """Runs tasks; ``submit`` a task, ``wait`` for at least one answer."""

    name = "serial"

    def __init__(self) -> None:
        self._queue: deque[RunTask] = deque()

    def submit(self, task: RunTask) -> None:
        self._queue.append(task)

    def wait(self) -> list[RunOutcome]:
        return [execute(self._queue.popleft())]

    def close(self) -> None:
        pass


class ProcessExecutor(Executor):
    name = "process"

    def __init__(self, workers: int) -> None:
        super().__init__()
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(worker_modules())
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        self._futures: dict[Future[RunOutcome], RunTask] = {}

    def submit(self, task: RunTask) -> None:
        self._futures[self._pool.submit(execute, task)] = task

    def wait(self) -> list[RunOutcome]:
        done, _ = wait(list(self._futures), return_when=FIRST_COMPLETED)
        return [_answer(self._futures.pop(f), f.result) for f in done]

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


class RayExecutor(Executor):
    """Tasks on Ray: this machine's cores (``num_cpus``), or a cluster at ``address``. A Ray
    already initialised by the caller is used as it is and left running."""

    name = "ray"

    def __init__(self, workers: int | None, address: str | None) -> None:
        super().__init__()
        import ray

        self._ray: Any = ray  # the module, imported only when Ray is asked for
        self._started = not ray.is_initialized()
        if self._started:
            start_ray(workers, address)
        self._remote = ray.remote(num_cpus=1, max_retries=0)(execute)
        self._refs: dict[Any, RunTask] = {}

    def submit(self, task: RunTask) -> None:
        self._refs[self._remote.remote(task)] = task

    def wait(self) -> list[RunOutcome]:
        done, _ = self._ray.wait(list(self._refs), num_returns=1)
        return [_answer(self._refs.pop(ref), partial(self._ray.get, ref)) for ref in done]

    def close(self) -> None:
        for ref in self._refs:
            self._ray.cancel(ref, force=True)
        if self._started:
            self._ray.shutdown()


def start_ray(workers: int | None = None, address: str | None = None) -> None:
    """``ray.init``: the cluster at ``address`` (default ``RAY_ADDRESS``), else a local Ray of
    ``workers`` CPUs (default: this machine's cores) on the loopback address, without its
    dashboard. A cluster that cannot be reached is a ``SweepError``."""
    import ray

    options: dict[str, Any] = {
        "include_dashboard": False,
        "logging_level": logging.WARNING,
        "log_to_driver": False,
    }
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address:
        try:
            ray.init(address=address, **options)
        except (ConnectionError, RuntimeError) as exc:
            raise SweepError("ray", [f"cannot join the Ray cluster at {address}: {exc}"]) from None
    else:
        ray.init(
            num_cpus=workers or os.cpu_count() or 1,
            object_store_memory=200 * 1024**2,  # the tasks pass small records only
            _node_ip_address="127.0.0.1",  # the sweep's own processes, nobody else's
            **options,
        )


def _answer(task: RunTask, result: Callable[[], RunOutcome]) -> RunOutcome:
    """A worker's answer, or the failure of the worker itself (killed, out of memory)."""
    try:
        return result()
    except Exception as exc:
        return RunOutcome(task.run_id, False, task.attempt, 0.0, f"{type(exc).__name__}: {exc}")


def ray_available() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def make_executor(
    kind: Literal["ray", "process", "serial"] | None,
    workers: int | None = None,
    address: str | None = None,
) -> Executor:
    """``None``: Ray if installed, else the process pool."""
    if kind is None:
        kind = "ray" if ray_available() else "process"
    if kind == "ray":
        return RayExecutor(workers, address)
    if kind == "process":
        return ProcessExecutor(workers or os.cpu_count() or 1)
    return Executor()


# -- progress ------------------------------------------------------------------------------


class SweepProgress:
    """``[######......]  12/24 runs  done 11  failed 1  running 2  3.2 s  about 12 s left``,
    redrawn in place on a terminal, a line per change elsewhere. The time left is the time
    so far per run finished in this invocation, times the runs still to go."""

    def __init__(self, stream: TextIO, total: int, skipped: int) -> None:
        self.stream = stream
        self.total = total
        self.skipped = skipped
        self.done = skipped
        self.failed = 0
        self.retried = 0
        self.started = time.perf_counter()
        self.tty = stream.isatty()
        self.draw()

    def finished(self, outcome: RunOutcome, final: bool) -> None:
        if outcome.ok:
            self.done += 1
        elif final:
            self.failed += 1
        else:
            self.retried += 1
        self.draw()

    def draw(self) -> None:
        finished = self.done + self.failed
        ran = finished - self.skipped
        elapsed = time.perf_counter() - self.started
        left = self.total - finished
        eta = f"about {elapsed / ran * left:.0f} s left" if ran and left else ""
        width = 30
        filled = width * finished // max(self.total, 1)
        bar = "#" * filled + "." * (width - filled)
        line = (
            f"[{bar}] {finished}/{self.total} runs  done {self.done}  failed {self.failed}"
            + (f"  retried {self.retried}" if self.retried else "")
            + (f"  skipped {self.skipped}" if self.skipped else "")
            + f"  {elapsed:.1f} s  {eta}"
        )
        self.stream.write(("\r" + line.ljust(100)) if self.tty else line + "\n")
        if self.tty and not left:
            self.stream.write("\n")
        self.stream.flush()


# -- the sweep -----------------------------------------------------------------------------


def run_sweep(
    spec: SweepSpec | Mapping[str, Any] | str | Path,
    out: str | Path | None = None,
    *,
    executor: Literal["ray", "process", "serial"] | None = None,
    workers: int | None = None,
    address: str | None = None,
    progress: TextIO | None = None,
    base: Path | None = None,
) -> SweepResult:
    """Run a sweep (a spec, its mapping or a sweep file's path) into ``out`` (default: the
    spec's ``out``, else ``sweep-out/NAME``) and write its tables and report. ``executor``:
    ``ray``, ``process`` or ``serial`` (default: Ray if installed, else ``process``);
    ``workers`` defaults to the machine's cores; ``address`` is a Ray cluster's (default:
    ``RAY_ADDRESS``, else a local Ray). ``progress``: a stream for the progress bar."""
    from exchange.sim.sweep_output import write_outputs

    if isinstance(spec, str | Path):
        spec, base = load_sweep(spec)
    elif not isinstance(spec, SweepSpec):
        spec = parse_sweep(dict(spec))
    base = base or Path.cwd()
    out_dir = Path(out or spec.out or Path("sweep-out") / spec.name)
    if not out_dir.is_absolute():
        out_dir = Path.cwd() / out_dir
    tasks = plan(spec, out_dir, base)
    started = time.perf_counter()
    outcomes: dict[str, RunOutcome] = {}
    todo = []
    for task in tasks:
        if is_done(task):
            outcomes[task.run_id] = RunOutcome(task.run_id, True, 0, 0.0, skipped=True)
        else:
            todo.append(task)
    bar = SweepProgress(progress, len(tasks), len(outcomes)) if progress else None
    name = "none"
    if todo:
        pool = make_executor(executor, workers, address)
        name = pool.name
        try:
            for outcome in _drive(pool, todo):
                final = outcome.ok or outcome.attempt >= ATTEMPTS
                if final:
                    outcomes[outcome.run_id] = outcome
                if bar:
                    bar.finished(outcome, final)
        finally:
            pool.close()
    result = SweepResult(
        out_dir,
        tasks,
        {t.run_id: outcomes[t.run_id] for t in tasks},
        name,
        round(time.perf_counter() - started, 3),
    )
    result.files = write_outputs(spec, result)
    return result


def _drive(pool: Executor, tasks: Sequence[RunTask]) -> Iterator[RunOutcome]:
    """Submit every task; resubmit a failed one once; yield every answer as it comes."""
    by_id = {t.run_id: t for t in tasks}
    for task in tasks:
        pool.submit(task)
    waiting = len(tasks)
    while waiting:
        for outcome in pool.wait():
            waiting -= 1
            if not outcome.ok and outcome.attempt < ATTEMPTS:
                task = by_id[outcome.run_id]
                retry = RunTask(**{**asdict(task), "attempt": outcome.attempt + 1})
                pool.submit(retry)
                waiting += 1
            yield outcome


# -- the command ---------------------------------------------------------------------------


def add_sweep_parser(commands: Any) -> None:
    """The ``sweep`` subcommand's arguments (imports nothing heavy until it runs)."""
    p = commands.add_parser("sweep", help="run a scenario over a grid of overrides and seeds")
    p.add_argument("sweep", type=Path, help="a sweep YAML file (docs/research.md)")
    p.add_argument(
        "--out", type=Path, default=None, help="default: the file's out, else sweep-out/NAME"
    )
    p.add_argument(
        "--executor",
        choices=EXECUTORS,
        default=None,
        help="default: ray if installed (carbonx[sweep]), else process",
    )
    p.add_argument("--workers", type=int, default=None, help="default: this machine's cores")
    p.add_argument("--address", default=None, help="a Ray cluster's address (default: RAY_ADDRESS)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run_sweep_command(args: argparse.Namespace) -> int:
    try:
        result = run_sweep(
            args.sweep,
            args.out,
            executor=args.executor,
            workers=args.workers,
            address=args.address,
            progress=None if args.quiet else sys.stderr,
        )
    except SweepError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except ValueError as exc:  # the scenario named does not load
        print(str(exc), file=sys.stderr)
        return 2
    for run_id, error in result.failed.items():
        print(f"run {run_id} failed: {error}", file=sys.stderr)
    print(
        json.dumps(
            {
                "out": str(result.out),
                "runs": len(result.runs),
                "ran": len(result.ran),
                "failed": len(result.failed),
                "executor": result.executor,
                "seconds": result.seconds,
            }
        )
    )
    return 1 if result.failed else 0
