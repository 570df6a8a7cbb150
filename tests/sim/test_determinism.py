"""Same scenario and seed, two processes with different hash seeds: identical output files
(summary.json compared without its wall-clock fields)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from exchange.sim.outputs import TIMING_FIELDS, deterministic_digest
from exchange.sim.runner import simulate
from exchange.sim.scenario import load_scenario


def start_cli(out: Path, hash_seed: str, seed: int = 3) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    command = [sys.executable, "-m", "exchange.cli", "simulate", "classroom_national"]
    command += ["--seed", str(seed), "--out", str(out), "--quiet"]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_same_seed_same_bytes_across_processes(tmp_path: Path) -> None:
    # The two processes run side by side: nothing they write is shared but the machine.
    running = [start_cli(tmp_path / "a", "1"), start_cli(tmp_path / "b", "2024")]
    try:
        for process in running:
            output, _ = process.communicate(timeout=300)
            assert process.returncode == 0, output.decode()[-3000:]
    finally:
        for process in running:
            if process.poll() is None:
                process.kill()
                process.wait()
    a, b = deterministic_digest(tmp_path / "a"), deterministic_digest(tmp_path / "b")
    expected = {
        f"{t}.{x}"
        for t in ("trades", "ohlcv", "holdings", "compliance", "events")
        for x in ("csv", "parquet")
    }
    assert expected | {"summary.json", "report.html", "price_volume.png"} <= set(a)
    assert a == b
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["orders"] > 1000
    assert summary["trades"] > 100
    assert set(TIMING_FIELDS) <= set(summary)


def test_another_seed_gives_another_run() -> None:
    scenario = load_scenario("classroom_national")
    a, b = simulate(scenario, 3), simulate(scenario, 4)
    assert a.trades["price_fen"] != b.trades["price_fen"]
    assert a.state_hash != b.state_hash
