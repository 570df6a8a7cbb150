"""Which engine modules run compiled (mypyc), and whether a compiled module is out of date.

``make`` compiles the modules listed in the Makefile's NATIVE_SRC. A compiled module shadows its
``.py`` file, so an edit to the source would silently not be tested: ``make native`` records
the hash of every source it compiled (``python -m tests.native_build record``), the suite refuses
to start when a compiled module's source no longer matches that record, and under
``CARBONX_REQUIRE_NATIVE=1`` (set by ``make``) it refuses to run without the compiled modules.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "build" / "native-sources.json"


def native_modules() -> list[str]:
    """Module names listed in the Makefile's NATIVE_SRC."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^NATIVE_SRC\s*:=\s*((?:.*\\\n)*.*)$", makefile, re.MULTILINE)
    assert match, "the Makefile lists no NATIVE_SRC"
    paths = match.group(1).replace("\\\n", " ").split()
    return [p.removesuffix(".py").replace("/", ".") for p in paths]


def _source_hashes() -> dict[str, str]:
    hashes = {}
    for name in native_modules():
        source = ROOT / (name.replace(".", "/") + ".py")
        hashes[name] = hashlib.sha256(source.read_bytes()).hexdigest()
    return hashes


def record() -> None:
    """Write the hashes of the sources just compiled (called by ``make native``)."""
    MANIFEST.parent.mkdir(exist_ok=True)
    MANIFEST.write_text(json.dumps(_source_hashes(), indent=1), encoding="utf-8")


def build_problems() -> list[str]:
    problems = []
    require = os.environ.get("CARBONX_REQUIRE_NATIVE") == "1"
    compiled_from = json.loads(MANIFEST.read_text("utf-8")) if MANIFEST.exists() else {}
    for name, digest in _source_hashes().items():
        path = Path(importlib.import_module(name).__file__ or "")
        if path.suffix == ".so":
            if compiled_from.get(name) != digest:
                problems.append(f"{name} was compiled from another version of its source")
        elif require:
            problems.append(f"{name} is not compiled (loaded from {path.name})")
    return problems


if __name__ == "__main__":
    if sys.argv[1:] != ["record"]:
        raise SystemExit("usage: python -m tests.native_build record")
    record()
