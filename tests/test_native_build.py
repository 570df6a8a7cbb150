from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.native_build import ROOT, native_modules

# Runs a short standard mix and prints a digest of every event and of the final state.
_DIGEST_SCRIPT = """
import hashlib, sys
import matching.engine
from loadtests.engine_stream import open_market, standard_mix
setup, stream = standard_mix(3_000, seed=7, resting=500)
engine = open_market()
digest = hashlib.sha256()
for cmd in setup + stream:
    for event in engine.apply(cmd):
        digest.update(repr(event).encode())
digest.update(engine.state_hash().encode())
print(matching.engine.__file__, digest.hexdigest())
"""


def test_native_modules_are_listed() -> None:
    assert "matching.engine" in native_modules()
    assert "matching.book" in native_modules()


@pytest.mark.skipif(
    os.environ.get("CARBONX_REQUIRE_NATIVE") != "1", reason="only under make (compiled build)"
)
def test_engine_runs_compiled_under_make() -> None:
    for name in native_modules():
        assert (importlib.import_module(name).__file__ or "").endswith(".so"), name


def _digest(pythonpath: Path | None) -> tuple[str, str]:
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
    module_file, digest = out.stdout.split()
    return module_file, digest


def test_pure_python_source_behaves_like_the_build(tmp_path: Path) -> None:
    """The same stream gives the same events from the .py sources and from this build."""
    pure = tmp_path / "matching"
    shutil.copytree(ROOT / "matching", pure, ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    built_file, built = _digest(None)
    pure_file, pure_digest = _digest(tmp_path)
    assert pure_file.endswith(".py")
    assert Path(pure_file).parent == pure
    if os.environ.get("CARBONX_REQUIRE_NATIVE") == "1":
        assert built_file.endswith(".so")
    assert pure_digest == built, f"{built_file} and {pure_file} disagree"
