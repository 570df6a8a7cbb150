"""Research sweeps (exchange.sim.sweep): every run is the ``carbonx simulate`` run of the same
overrides and seed, byte for byte, on local Ray and on the process pool; a second invocation
redoes nothing; a failing run is retried once and reported."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from exchange.cli import main
from exchange.sim.command import split_sets
from exchange.sim.outputs import deterministic_digest
from exchange.sim.scenario import SCENARIO_DIR, ScenarioError, load_scenario
from exchange.sim.sweep import DONE, FAILED, run_sweep
from exchange.sim.sweep_spec import SweepError, SweepResult, parse_sweep

# Ray writes to stderr and may warn while it starts; the test's own warnings stay errors.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray")

SEEDS = [1, 2, 3]
SPEC: dict[str, Any] = {
    "name": "tiny",
    "scenario": "equilibrium_check",
    # a scenario path and a rule path for every run, a scenario path swept
    "set": {"calendar.trading_days_per_year": 12, "penalty.multiplier": 6},
    "grid": {"firm_agent.wakeups_per_day": [6, 12]},
    "seeds": SEEDS,
}
TABLES = ("trades", "ohlcv", "holdings", "compliance", "events", "auctions")


def run_files(run: Path) -> dict[str, str]:
    """Every file of a run but the sweep's marker: summary.json without its timing fields."""
    digest = deterministic_digest(run)
    assert digest.pop(DONE, None) is not None or not (run / DONE).exists()
    return digest


@pytest.fixture(scope="module")
def on_ray(tmp_path_factory: pytest.TempPathFactory) -> SweepResult:
    pytest.importorskip("ray")
    out = tmp_path_factory.mktemp("sweep") / "ray"
    return run_sweep(SPEC, out, executor="ray", workers=2)


def test_set_paths_split_scenario_fields_from_rules() -> None:
    scenario, rules = split_sets(
        [
            "allocation.auctioned_bp=[5000]",
            "calendar.trading_days_per_year=10",
            "allocation.gap_cap_bp=9000",
            "compliance.offset_cap_bp=1000",
            "firm_groups.0.count=5",
        ]
    )
    assert scenario == [
        (["allocation", "auctioned_bp"], [5000]),
        (["calendar", "trading_days_per_year"], 10),
        (["firm_groups", "0", "count"], 5),
    ]
    assert rules == {"allocation": {"gap_cap_bp": 9000}, "compliance": {"offset_cap_bp": 1000}}
    loaded = load_scenario("equilibrium_auction", rules, scenario)
    assert loaded.spec.allocation.auctioned_bp == [5000]
    assert loaded.spec.calendar.trading_days_per_year == 10
    assert len(loaded.firms) == 5
    assert loaded.rules.compliance.offset_cap_bp == 1000
    with pytest.raises(ScenarioError, match="no item '3' in a list of 1"):
        load_scenario("equilibrium_check", None, [(["firm_groups", "3", "count"], 1)])


def test_sweep_file_is_checked() -> None:
    spec = parse_sweep({**SPEC, "runs": [{"compliance.offset_cap_bp": 700}, {"seed": 12}]})
    assert spec.parameters == ["firm_agent.wakeups_per_day", "compliance.offset_cap_bp", "seed"]
    assert len(spec.combinations()) == 4
    assert parse_sweep({**SPEC, "seeds": {"count": 3, "base": 7}}).seed_list == [7, 8, 9]
    with pytest.raises(SweepError, match="set and swept both name"):
        parse_sweep({**SPEC, "grid": {"penalty.multiplier": [5, 6]}})
    with pytest.raises(SweepError, match="grid"):
        parse_sweep({**SPEC, "grid": {"firm_agent.wakeups_per_day": []}})


def test_every_run_on_ray_is_the_simulate_run(on_ray: SweepResult, tmp_path: Path) -> None:
    assert on_ray.executor == "ray"
    assert len(on_ray.runs) == 2 * len(SEEDS)
    assert not on_ray.failed
    for task in on_ray.runs:
        reference = tmp_path / task.run_id
        argv = [a if a != task.out else str(reference) for a in task.argv]
        with pytest.raises(SystemExit) as status:
            main(["simulate", *argv])
        assert status.value.code == 0
        run = Path(task.out)
        # the same files, byte for byte (summary.json without wall and CPU time)
        assert run_files(run) == deterministic_digest(reference)
        summary = json.loads((run / "summary.json").read_text())
        assert summary["seed"] == task.seed
        assert summary["trading_days"] == 12
        for table in TABLES:
            assert pq.read_table(run / f"{table}.parquet").equals(
                pq.read_table(reference / f"{table}.parquet")
            )
    # the swept value reached the runs: firms waking less often place fewer orders
    summary = {r["run_id"]: r for r in pq.read_table(on_ray.out / "summary.parquet").to_pylist()}
    orders = {
        w: sum(r["orders"] for r in summary.values() if r["firm_agent.wakeups_per_day"] == w)
        for w in (6, 12)
    }
    assert orders[6] < orders[12]


def test_the_tables_and_report(on_ray: SweepResult) -> None:
    out = on_ray.out
    summary = pq.read_table(out / "summary.parquet").to_pylist()
    assert sorted((r["firm_agent.wakeups_per_day"], r["seed"]) for r in summary) == sorted(
        (w, s) for w in (6, 12) for s in SEEDS
    )
    for row in summary:
        assert row["status"] == "ok"
        assert row["error"] is None
        assert row["compliance_cost_fen"] > 0
        assert row["cea_vwap_fen"] > 0
        assert row["final_prices_fen.CEA2026"] > 0
    prices = pq.read_table(out / "prices.parquet")
    assert prices.num_rows == len(summary) * 12  # one instrument, 12 trading days
    assert prices.column_names[:3] == ["run_id", "seed", "firm_agent.wakeups_per_day"]
    compliance = pq.read_table(out / "compliance.parquet")
    assert compliance.num_rows == len(summary) * 60  # 60 firms
    assert not (out / "auctions.parquet").exists()
    index = (out / "report" / "index.md").read_text()
    assert "## Against `firm_agent.wakeups_per_day`" in index
    for name in (
        "overview--firm_agent_wakeups_per_day.png",
        "cea_vwap_fen--firm_agent_wakeups_per_day.png",
    ):
        assert f"({name})" in index
        assert (out / "report" / name).read_bytes().startswith(b"\x89PNG")
    assert (out / "report" / "index.html").exists()
    record = json.loads((out / "sweep.json").read_text())
    assert record["runs"] == record["ok"] == 6


def test_a_second_invocation_redoes_nothing(on_ray: SweepResult) -> None:
    markers = {t.run_id: (Path(t.out) / DONE).stat().st_mtime_ns for t in on_ray.runs}
    again = run_sweep(SPEC, on_ray.out, executor="serial")
    assert again.ran == []
    assert all(o.skipped and o.ok for o in again.outcomes.values())
    assert markers == {t.run_id: (Path(t.out) / DONE).stat().st_mtime_ns for t in on_ray.runs}
    assert pq.read_table(on_ray.out / "summary.parquet").num_rows == 6


def test_the_process_pool_gives_the_same_runs(on_ray: SweepResult, tmp_path: Path) -> None:
    pooled = run_sweep(SPEC, tmp_path / "pool", executor="process", workers=2)
    assert pooled.executor == "process"
    assert len(pooled.ran) == 6
    assert not pooled.failed
    for a, b in zip(on_ray.runs, pooled.runs, strict=True):
        assert a.run_id == b.run_id
        assert run_files(Path(a.out)) == run_files(Path(b.out))


FLAKY = """\
import os
from pathlib import Path

# Fails the first time it is imported in a process, as a run that loses its worker would.
mark = Path(os.environ["SWEEP_FLAKY_MARK"])
if not mark.exists():
    mark.write_text("failed once")
    raise RuntimeError("flaky plugin: the first import fails")
"""


def test_a_failing_run_is_retried_once_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A scenario whose plugin fails on its first import: the retry succeeds.
    (tmp_path / "sweep_flaky_plugin.py").write_text(FLAKY)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("SWEEP_FLAKY_MARK", str(tmp_path / "mark"))
    text = (SCENARIO_DIR / "equilibrium_check.yaml").read_text()
    (tmp_path / "flaky.yaml").write_text(text + "plugins: [sweep_flaky_plugin]\n")
    spec = {
        "name": "failing",
        "scenario": "flaky.yaml",  # relative to the sweep file's directory (base)
        "set": {"calendar.trading_days_per_year": 5},
        "runs": [{"penalty.multiplier": 6}, {"penalty.multiplier": -1}],  # the second is wrong
        "seeds": [1],
        "report": False,
    }
    first = run_sweep(spec, tmp_path / "out", executor="serial", base=tmp_path)
    ok, bad = first.runs
    assert first.outcomes[ok.run_id].ok
    assert first.outcomes[ok.run_id].attempt == 2  # the flaky first attempt, retried
    assert first.outcomes[bad.run_id].attempt == 2
    assert list(first.failed) == [bad.run_id]
    assert "penalty.multiplier" in first.failed[bad.run_id]
    assert not (Path(ok.out) / FAILED).exists()
    assert "report.html" not in run_files(Path(ok.out))
    failed = json.loads((Path(bad.out) / FAILED).read_text())
    assert "exit status 2" in failed["error"]
    record = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert [f["run_id"] for f in record["failed"]] == [bad.run_id]
    rows = {r["run_id"]: r for r in pq.read_table(tmp_path / "out" / "summary.parquet").to_pylist()}
    assert rows[bad.run_id]["status"] == "failed"
    assert rows[bad.run_id]["attempts"] == 2
    assert "penalty.multiplier" in rows[bad.run_id]["error"]
    assert rows[bad.run_id]["orders"] is None
    assert rows[ok.run_id]["status"] == "ok"
    index = (tmp_path / "out" / "report" / "index.md").read_text()
    assert "## Failed runs" in index
    assert bad.run_id in index
    # The next invocation leaves the finished run and tries the failed one again.
    second = run_sweep(spec, tmp_path / "out", executor="serial", base=tmp_path)
    assert second.ran == [bad.run_id]
    assert second.outcomes[ok.run_id].skipped


def test_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sweep = tmp_path / "one.yaml"
    sweep.write_text(
        textwrap.dedent(
            """\
            name: one
            scenario: equilibrium_check
            set: {calendar.trading_days_per_year: 3}
            runs: [{compliance.offset_cap_bp: 0}]
            seeds: [5]
            report: false
            """
        )
    )
    with pytest.raises(SystemExit) as status:
        main(["sweep", str(sweep), "--executor", "serial", "--out", str(tmp_path / "out")])
    assert status.value.code == 0
    captured = capsys.readouterr()
    printed = json.loads(captured.out.strip().splitlines()[-1])
    assert printed["runs"] == printed["ran"] == 1
    assert "1/1 runs  done 1  failed 0" in captured.err
    sweep.write_text("name: one\nscenario: equilibrium_check\nseeds: [1]\ngird: {}\n")
    with pytest.raises(SystemExit) as status:
        main(["sweep", str(sweep), "--executor", "serial"])
    assert status.value.code == 2
    assert "gird" in capsys.readouterr().err
