"""Which engine modules run compiled (mypyc), and whether a compiled module is out of date.

``make`` compiles the modules listed in the Makefile's NATIVE_SRC. A compiled module shadows its
``.py`` file, so an edit to the source would silently not be tested: the suite refuses to start
when a compiled module is older than its source (run ``make native``), and under
``CARBONX_REQUIRE_NATIVE=1`` (set by ``make``) it refuses to run without the compiled modules.
"""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def native_modules() -> list[str]:
    """Module names listed in the Makefile's NATIVE_SRC."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^NATIVE_SRC\s*:=\s*((?:.*\\\n)*.*)$", makefile, re.MULTILINE)
    assert match, "the Makefile lists no NATIVE_SRC"
    paths = match.group(1).replace("\\\n", " ").split()
    return [p.removesuffix(".py").replace("/", ".") for p in paths]


def build_problems() -> list[str]:
    problems = []
    require = os.environ.get("CARBONX_REQUIRE_NATIVE") == "1"
    for name in native_modules():
        module = importlib.import_module(name)
        path = Path(module.__file__ or "")
        source = ROOT / (name.replace(".", "/") + ".py")
        if path.suffix == ".so":
            if source.stat().st_mtime > path.stat().st_mtime:
                problems.append(f"{name} was compiled before {source.name} last changed")
        elif require:
            problems.append(f"{name} is not compiled (loaded from {path.name})")
    return problems
