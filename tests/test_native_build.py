from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.native_build import ROOT, native_modules

# Runs a short standard mix through the engine and a market stream (two day cycles, so day-end
# clearing and a snapshot restore are in it) through the Market, and prints a digest of every
# event, outcome and final state.
_DIGEST_SCRIPT = """
import hashlib
import matching.engine, settlement.market
from loadtests.engine_stream import open_market, standard_mix
from settlement import Market, MarketSpec, EndOfDay
from tests.market_stream import INSTRUMENTS, market_accounts, market_setup, market_stream
setup, stream = standard_mix(3_000, seed=7, resting=500)
engine = open_market()
digest = hashlib.sha256()
for cmd in setup + stream:
    for event in engine.apply(cmd):
        digest.update(repr(event).encode())
digest.update(engine.state_hash().encode())
market = Market(MarketSpec("native", "cn_national", INSTRUMENTS))
commands = market_setup(12) + list(market_stream(7, 3_000, market_accounts(12), days=2))
for cmd in commands:
    outcome = market.apply(cmd)
    digest.update(repr((outcome, outcome.events, outcome.postings, outcome.fills)).encode())
    digest.update(repr((outcome.closes, outcome.statements, outcome.reports)).encode())
    if type(cmd) is EndOfDay:
        market = Market.restore(market.snapshot())
digest.update(market.state_hash().encode())
print(matching.engine.__file__, settlement.market.__file__, digest.hexdigest())
"""


# The modules CI must find compiled: the engine, and the market with the modules split from it
# (the trading day, account commands, the state hash and snapshots).
_MUST_BE_NATIVE = (
    "matching.engine",
    "matching.book",
    "settlement.market",
    "settlement.day",
    "settlement.accounts",
    "settlement.snapshot",
)


def test_native_modules_are_listed() -> None:
    listed = native_modules()
    for name in _MUST_BE_NATIVE:
        assert name in listed, name


@pytest.mark.skipif(
    os.environ.get("CARBONX_REQUIRE_NATIVE") != "1", reason="only under make (compiled build)"
)
def test_engine_runs_compiled_under_make() -> None:
    for name in native_modules():
        assert (importlib.import_module(name).__file__ or "").endswith(".so"), name


def _digest(pythonpath: Path | None) -> tuple[str, str, str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    out = subprocess.run(
        [sys.executable, "-c", _DIGEST_SCRIPT],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=pythonpath or ROOT,
    )
    engine_file, market_file, digest = out.stdout.split()
    return engine_file, market_file, digest


def test_pure_python_source_behaves_like_the_build(tmp_path: Path) -> None:
    """The same streams give the same events and outcomes from the .py sources and from this
    build (engine and market)."""
    for package in ("matching", "settlement"):
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.so", "__pycache__")
        )
    for package in ("registry_sim", "loadtests", "tests", "exchange"):
        (tmp_path / package).symlink_to(ROOT / package)
    built = _digest(None)
    pure = _digest(tmp_path)
    for pure_file in pure[:2]:
        assert pure_file.endswith(".py")
        assert Path(pure_file).parent.parent == tmp_path
    if os.environ.get("CARBONX_REQUIRE_NATIVE") == "1":
        assert built[0].endswith(".so")
        assert built[1].endswith(".so")
    assert pure[2] == built[2], f"{built[:2]} and {pure[:2]} disagree"
