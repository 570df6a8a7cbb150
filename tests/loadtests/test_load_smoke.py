"""A tiny seeded run of the system load test (``loadtests.load --smoke``): every phase against
a real ``carbonx serve`` on a fresh PostgreSQL database, in a few seconds. It checks the report's
fields and that nothing acknowledged is missing; timings are never asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.integration.conftest import postgres_url  # noqa: F401  (the fixture: skip or fail)

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 180
REQUIRED = (
    "rest_orders_per_s",
    "rest_p99_ms",
    "bare_requests_per_s",
    "rest_ratio",
    "ws_orders_per_s",
    "ws_batched_orders_per_s",
    "md_subscribers",
    "md_p99_ms",
    "acked_orders",
    "orders_missing_after_run",
)


def test_a_smoke_load_run_loses_nothing(postgres_url: str, tmp_path: Path) -> None:  # noqa: F811
    done = subprocess.run(
        [sys.executable, "-m", "loadtests.load", "--json", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env={**os.environ, "CARBONX_TEST_POSTGRES_URL": postgres_url},
    )
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    report = json.loads(done.stdout)
    (written,) = tmp_path.glob("*-smoke.json")
    assert json.loads(written.read_text()) == report
    for field in REQUIRED:
        assert report[field] is not None, field
    assert report["acked_orders"] > 0
    assert report["acked_trades"] > 0
    assert report["orders_missing_after_run"] == 0
    assert report["trades_missing_after_run"] == 0
    assert report["server_errors"] == 0
    phases = report["phases"]
    for name in ("bare", "rest", "ws", "ws_batched"):
        assert phases[name]["requests"] > 0, name
        assert not any(status.startswith("5") for status in phases[name]["statuses"]), name
    assert phases["rest"]["ops"]["orders_acked"] > 0
    assert phases["ws_batched"]["ops"]["orders_acked"] > 0
    md = report["market_data"]
    assert md["md_trades"] > 0
    assert md["md_subscribers_complete"] == report["md_subscribers"] == md["md_subscribers"]
    assert md["md_deliveries"] == md["md_trades"] * md["md_subscribers"]
