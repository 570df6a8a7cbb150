from __future__ import annotations

import pytest

from tests.native_build import build_problems


def pytest_configure(config: pytest.Config) -> None:
    problems = build_problems()
    if problems:
        raise pytest.UsageError(
            "the compiled engine does not match its source; run `make native`:\n  "
            + "\n  ".join(problems)
        )
