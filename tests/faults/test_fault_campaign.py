"""The fault campaign as ``make test`` and ``make soak`` run it: ``python -m tests.faults`` on
each database, seeded (``CARBONX_FAULTS_SEED`` to choose another seed), checked by its report.
The invariants themselves are checked inside the run (``tests.faults.checks``): a broken one ends
it with exit code 1 and the seed and step that replay it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.faults.__main__ import DEFAULT_SEED
from tests.faults.plan import DECKS, KINDS, Fault
from tests.integration.conftest import (
    POSTGRES_URL_VARIABLE,
    postgres_url,  # noqa: F401  (the fixture: skip or fail)
)

ROOT = Path(__file__).resolve().parents[2]
SEED = int(os.environ.get("CARBONX_FAULTS_SEED", DEFAULT_SEED))
# Per database in `make test`: the first steps of a round, which bring every kind of its deck
# once (5 on SQLite, 6 on PostgreSQL; the round's other cards are more of the same kinds).
FAULTS = {backend: len(kinds) for backend, kinds in KINDS.items()}
SOAK_FAULTS = 110  # per database in `make soak`: 220 in all
TIMEOUT_S = 300
SOAK_TIMEOUT_S = 3_600


def campaign(
    backend: str, faults: int, workdir: Path, timeout_s: float, env: dict[str, str]
) -> dict[str, Any]:
    command = [sys.executable, "-m", "tests.faults", "--seed", str(SEED), "--database", backend]
    command += ["--faults", str(faults), "--workdir", str(workdir)]
    done = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stderr[-4000:]
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def check_report(report: dict[str, Any], backend: str, faults: int) -> None:
    run = report["databases"][backend]
    assert run["faults_total"] == faults == report["faults_total"]
    assert set(run["faults"]) == set(DECKS[backend]), "a kind of fault never came"
    assert run["lost"] == report["lost"] == 0
    assert run["acked_orders"] > 0
    assert run["acked_cancels"] > 0
    assert run["acked_amends"] > 0
    assert run["acked_trades"] > 0
    checks = run["checks"]
    # Every check after every fault, the set-up and the last restart.
    for name in ("acked_in_journal", "acked_through_api", "replay", "conservation"):
        assert checks[name] == faults + 2, name
    assert checks["cancel_on_disconnect"] > 0
    assert run["restarts"] == run["faults"][Fault.KILL] + 1  # and the clean one at the end


def postgres_env(request: pytest.FixtureRequest, backend: str) -> dict[str, str]:
    if backend == "sqlite":
        return {}
    url: str = request.getfixturevalue("postgres_url")  # skipped, or failed under CI
    return {POSTGRES_URL_VARIABLE: url}


@pytest.mark.parametrize("backend", sorted(DECKS))
def test_a_short_campaign_keeps_every_invariant(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    env = postgres_env(request, backend)
    faults = FAULTS[backend]
    check_report(campaign(backend, faults, tmp_path, TIMEOUT_S, env), backend, faults)


@pytest.mark.soak
@pytest.mark.parametrize("backend", sorted(DECKS))
def test_a_long_campaign_keeps_every_invariant(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    env = postgres_env(request, backend)
    report = campaign(backend, SOAK_FAULTS, tmp_path, SOAK_TIMEOUT_S, env)
    check_report(report, backend, SOAK_FAULTS)
    print(json.dumps(report, indent=1))
