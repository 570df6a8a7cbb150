"""The campaign: for each database, a system brought up, the traders connected, and then step
after step a fault injected into their traffic and every invariant checked; at the end a clean
stop (SIGTERM, exit code 0), a restart and a last check. The report counts the faults by kind,
what was acknowledged, and the checks made.

A step: the traders (re)connect; each trades until the step is over and it has done its share;
the fault strikes once the traders have sent the step's ``at_ops`` ops between them (a number
the seed draws); once the fault is done the step is over; a killed server is restarted; then
the checks (``tests.faults.checks``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tests.faults.checks import Checker
from tests.faults.faults import FAULTS, Measured, Step
from tests.faults.ledger import Ledger
from tests.faults.plan import CLEAN_RESTART, SETUP, Fault, InvariantError, Where, fault_at, rng
from tests.faults.system import System, system_up
from tests.faults.traders import CONNECTION_ERRORS, Trader, Trigger, close_all

# The traders: (transport, cancel on disconnect), one account each.
TRADER_KINDS = (
    ("rest", False),
    ("rest", False),
    ("ws", False),
    ("ws", True),
    ("ws", True),
    ("ws", False),
)
AT_OPS = (5, 120)  # the fault strikes after this many ops of the step, between them all
MIN_OPS = (5, 40)  # each trader's share of a step, at least


def make_traders(system: System, seed: int, backend: str) -> list[Trader]:
    accounts = sorted(system.market.keys)[: len(TRADER_KINDS)]
    return [
        Trader(
            f"t{n}",
            account,
            system.market.keys[account],
            transport,
            guarded,
            system,
            rng(seed, backend, "trader", n),
        )
        for n, (account, (transport, guarded)) in enumerate(
            zip(accounts, TRADER_KINDS, strict=True)
        )
    ]


async def run_step(step: Step, fault: Fault) -> Measured:
    """The traders trading, the fault injected at its moment; a killed server restarted."""
    r, ledger = step.rng, step.ledger
    for trader in step.traders:
        if not trader.connected:
            await trader.connect()
    trigger = Trigger(r.randint(*AT_OPS))
    over = asyncio.Event()
    shares = [r.randint(*MIN_OPS) for _ in step.traders]
    trading = asyncio.ensure_future(
        asyncio.gather(
            *(t.run(ledger, trigger, over, n) for t, n in zip(step.traders, shares, strict=True))
        )
    )
    fired = asyncio.ensure_future(trigger.fired.wait())
    try:
        await asyncio.wait((fired, trading), return_when=asyncio.FIRST_COMPLETED)
        measured = await FAULTS[fault](step)
    finally:
        over.set()
        fired.cancel()
        await trading
    if fault is Fault.KILL:
        await step.system.restart()
    return measured


@contextlib.asynccontextmanager
async def named(where: Where) -> AsyncIterator[Where]:
    """Whatever goes wrong in here is reported with its seed and step, as a broken invariant
    is (a request that fails, a connection refused)."""
    try:
        yield where
    except (InvariantError, asyncio.CancelledError):
        raise
    except Exception as error:
        raise InvariantError(where, f"{type(error).__name__}: {error}") from error


def progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def run_backend(seed: int, backend: str, steps: int, workdir: Path) -> dict[str, Any]:
    """The campaign on one database; its report. Raises ``InvariantError`` at the first
    broken invariant."""
    started = time.monotonic()
    name = f"carbonx_faults_{os.getpid()}_{backend}"
    faults: Counter[str] = Counter()
    measured: dict[str, list[Measured]] = defaultdict(list)
    async with system_up(backend, workdir, name) as system:
        ledger = Ledger()
        traders = make_traders(system, seed, backend)
        checker = Checker(system, ledger, rng(seed, backend, "checks"))
        try:
            async with named(Where(seed, backend, -1, SETUP)) as where:
                await checker.check(where)
            for n in range(steps):
                fault = fault_at(seed, backend, n)
                where = Where(seed, backend, n, fault)
                step = Step(system, traders, ledger, rng(seed, backend, "step", n), where)
                step_started = time.monotonic()
                async with named(where):
                    measured[fault].append(await run_step(step, fault))
                faults[fault] += 1
                checks_started = time.monotonic()
                async with named(where):
                    await checker.check(where)
                step_s, checks_s = checks_started - step_started, time.monotonic() - checks_started
                progress(
                    f"{where}: ok in {step_s:.1f} s, checked in {checks_s:.1f} s, {ledger.counts()}"
                )
            where = Where(seed, backend, steps, CLEAN_RESTART)
            await close_all(traders, ledger)
            system.stop()
            if not system.stopped_cleanly():
                raise InvariantError(where, f"SIGTERM: no clean stop\n{system.log_tail()}")
            async with named(where):
                await system.restart()
                await checker.check(where)
        finally:
            with contextlib.suppress(*CONNECTION_ERRORS):
                await close_all(traders, ledger)
    return {
        "faults": dict(sorted(faults.items())),
        "faults_total": sum(faults.values()),
        **ledger.counts(),
        "lost": 0,
        "checks": dict(sorted(checker.counts.items())),
        "checks_total": sum(checker.counts.values()),
        "restarts": system.restarts,
        "refusals": dict(ledger.refusals.most_common()),
        "measured": summarize(measured),
        "seconds": round(time.monotonic() - started, 1),
    }


def summarize(measured: dict[str, list[Measured]]) -> dict[str, Any]:
    """Per fault kind, each numeric measurement's total and maximum over the run."""
    summary: dict[str, Any] = {}
    for fault, runs in sorted(measured.items()):
        numbers: dict[str, list[float]] = defaultdict(list)
        kinds: Counter[str] = Counter()
        for run in runs:
            for key, value in run.items():
                if isinstance(value, bool) or not isinstance(value, int | float):
                    kinds[f"{key}={value}"] += 1
                else:
                    numbers[key].append(value)
        summary[fault] = {
            **{f"{key}_total": round(sum(v), 3) for key, v in sorted(numbers.items())},
            **{f"{key}_max": max(v) for key, v in sorted(numbers.items())},
            **({"kinds": dict(sorted(kinds.items()))} if kinds else {}),
        }
    return summary


async def campaign(seed: int, backends: list[str], steps: int, workdir: Path) -> dict[str, Any]:
    """Every database in turn; the report of all, with totals."""
    started = time.monotonic()
    runs = {backend: await run_backend(seed, backend, steps, workdir) for backend in backends}
    totals: Counter[str] = Counter()
    faults: Counter[str] = Counter()
    for run in runs.values():
        faults.update(run["faults"])
        for key in (
            "acked_orders",
            "acked_cancels",
            "acked_amends",
            "acked_trades",
            "ops_unanswered",
            "checks_total",
            "restarts",
        ):
            totals[key] += run[key]
    return {
        "seed": seed,
        "faults_per_database": steps,
        "faults": dict(sorted(faults.items())),
        "faults_total": sum(faults.values()),
        **dict(totals),
        "lost": 0,
        "seconds": round(time.monotonic() - started, 1),
        "databases": runs,
    }
