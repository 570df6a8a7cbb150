from __future__ import annotations

import importlib
import os

import pytest

from tests.native_build import native_modules


def test_native_modules_are_listed() -> None:
    assert "matching.engine" in native_modules()
    assert "matching.book" in native_modules()


@pytest.mark.skipif(
    os.environ.get("CARBONX_REQUIRE_NATIVE") != "1", reason="only under make (compiled build)"
)
def test_engine_runs_compiled_under_make() -> None:
    for name in native_modules():
        assert (importlib.import_module(name).__file__ or "").endswith(".so"), name
