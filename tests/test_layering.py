"""The core packages stay pure: no I/O frameworks, no clock, no randomness, no upward imports.

``matching`` depends on nothing but the standard library and sortedcontainers; ``registry_sim``
and ``settlement`` may use ``datetime`` for dates but never read the clock; nothing imports the
``exchange`` shell; ``matching`` imports neither ``registry_sim`` nor ``settlement``,
``registry_sim`` does not import ``settlement``, and ``mrv`` (monitoring data and the
emission calculator) imports none of the other three. Checked by parsing the source with ``ast``.

Within the shell, the classroom (``exchange/classroom``) knows no HTTP: it imports neither
FastAPI nor Starlette nor anything of the gateway (``exchange.api``), not even for type
checking. And the gateway (``exchange/api``, its routes above all) writes no SQL: its reads and
writes of the database are ``exchange.db``'s (it may name ``AsyncEngine``, nothing else of
SQLAlchemy, and not the tables). Below the gateway and the classroom (the compliance year, the
runtime, the database layer, the simulator, the agents) nothing knows either of them, and the
client (``exchange/client``) imports nothing of the rest of carbonx.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("matching", "settlement", "registry_sim", "mrv")

# Forbidden in every core package: frameworks, the clock, randomness, ids from the OS, the shell.
FORBIDDEN_EVERYWHERE = frozenset(
    {
        "asyncio",
        "sqlalchemy",
        "fastapi",
        "starlette",
        "uvicorn",
        "time",
        "random",
        "uuid",
        "secrets",
        "exchange",
    }
)
FORBIDDEN_BY_PACKAGE = {
    "matching": FORBIDDEN_EVERYWHERE | {"datetime", "registry_sim", "settlement"},
    "registry_sim": FORBIDDEN_EVERYWHERE | {"settlement"},
    "settlement": FORBIDDEN_EVERYWHERE,
    "mrv": FORBIDDEN_EVERYWHERE | {"matching", "registry_sim", "settlement"},
}
# matching may import only these (besides itself), minus the forbidden ones above
MATCHING_MAY_IMPORT = frozenset(sys.stdlib_module_names) | {"sortedcontainers", "matching"}
CLOCK_CALLS = frozenset({"now", "today", "utcnow"})
DYNAMIC_IMPORTS = frozenset({"import_module", "__import__"})


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, top-level module) for every absolute import, including literal dynamic ones."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # relative imports stay inside the package they are written in
            if node.level == 0 and node.module:
                found.append((node.lineno, node.module.split(".")[0]))
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0]
            if (
                name in DYNAMIC_IMPORTS
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                found.append((node.lineno, first.value.lstrip(".").split(".")[0]))
    return found


def _clock_calls(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, name) for every call of ``now``, ``today`` or ``utcnow``, however reached."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in CLOCK_CALLS:
                found.append((node.lineno, name))
    return found


def violations(source: str, package: str, filename: str = "<source>") -> list[str]:
    """Every layering violation in ``source``, a module of ``package``."""
    tree = ast.parse(source, filename=filename)
    forbidden = FORBIDDEN_BY_PACKAGE[package]
    problems = []
    for line, module in _imported_modules(tree):
        if module in forbidden:
            problems.append(f"{filename}:{line}: {package} imports {module}")
        elif package == "matching" and module not in MATCHING_MAY_IMPORT:
            problems.append(
                f"{filename}:{line}: matching imports {module} "
                "(only the standard library and sortedcontainers)"
            )
    problems += [
        f"{filename}:{line}: {package} calls {name}() (reads the clock)"
        for line, name in _clock_calls(tree)
    ]
    return problems


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _room_sources(room: str) -> list[tuple[str, Path]]:
    path = ROOT.joinpath(*room.split("."))
    files = sorted(path.rglob("*.py")) if path.is_dir() else [path.with_suffix(".py")]
    return [(".".join(f.relative_to(ROOT).with_suffix("").parts), f) for f in files]


# ---------------------------------------------------------------- the classroom knows no HTTP

CLASSROOM = "exchange.classroom"
CLASSROOM_FORBIDDEN = ("fastapi", "starlette", "exchange.api")


def _full_imports(tree: ast.AST, module: str) -> list[tuple[int, str]]:
    """(line, full dotted name) of everything imported anywhere in ``module``'s source: the
    module of each import, and ``module.name`` for each name a ``from`` import takes (it may be
    a submodule); relative imports resolved; literal dynamic imports too."""
    found: list[tuple[int, str]] = []
    package = module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            name = ".".join([*base, *([node.module] if node.module else [])])
            found.append((node.lineno, name))
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0]
            if (
                called in DYNAMIC_IMPORTS
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                found.append((node.lineno, first.value))
    return found


def banned_imports(
    source: str, module: str, forbidden: tuple[str, ...], filename: str = "<source>"
) -> list[tuple[int, str]]:
    """(line, forbidden module) for every import in ``source`` (a module named ``module``) of a
    ``forbidden`` module or of anything inside it, each once, in line order."""
    found = set()
    for line, name in _full_imports(ast.parse(source, filename=filename), module):
        for banned in forbidden:
            if name == banned or name.startswith(banned + "."):
                found.add((line, banned))
    return sorted(found)


def classroom_violations(
    source: str, module: str = f"{CLASSROOM}.service", filename: str = "<source>"
) -> list[str]:
    """Every import of HTTP or of the gateway in ``source``, a module of the classroom."""
    return [
        f"{filename}:{line}: the classroom imports {banned}"
        for line, banned in banned_imports(source, module, CLASSROOM_FORBIDDEN, filename)
    ]


def test_the_classroom_knows_no_http() -> None:
    sources = _room_sources(CLASSROOM)
    assert f"{CLASSROOM}.lifecycle" in dict(sources)
    problems = []
    for module, path in sources:
        source = path.read_text(encoding="utf-8")
        problems += classroom_violations(source, module, str(path.relative_to(ROOT)))
    assert problems == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import fastapi\n", "fastapi"),
        ("from fastapi import APIRouter\n", "fastapi"),
        ("from fastapi.responses import Response\n", "fastapi"),
        ("import starlette.requests as r\n", "starlette"),
        ("from starlette import status\n", "starlette"),
        ("import exchange.api\n", "exchange.api"),
        ("import exchange.api.app\n", "exchange.api"),
        ("from exchange.api.errors import ApiError\n", "exchange.api"),
        ("from exchange.api import errors\n", "exchange.api"),
        ("from exchange import api\n", "exchange.api"),
        ("from .. import api\n", "exchange.api"),
        ("from ..api.auth import require\n", "exchange.api"),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from exchange.api.app"
            " import Hub\n",
            "exchange.api",
        ),
        ("def f():\n    from exchange.api.common import hub_of\n", "exchange.api"),
        ("import importlib\nm = importlib.import_module('exchange.api.app')\n", "exchange.api"),
    ],
)
def test_the_classroom_checker_catches_a_violation(source: str, expected: str) -> None:
    problems = classroom_violations(source)
    assert len(problems) == 1, problems
    assert problems[0].endswith(f": the classroom imports {expected}")


@pytest.mark.parametrize(
    "source",
    [
        "from exchange.classroom.state import Seat\nfrom . import lifecycle\n",
        "from exchange import keys\nfrom exchange.db.keys import create_key\n",
        "import sqlalchemy\nfrom exchange.runtime import MarketRuntime\n",
        "from exchange.apiary import bees\nimport fastapi_like\n",  # prefixes, other modules
        "from .api_notes import x\n",  # exchange.classroom.api_notes
    ],
)
def test_the_classroom_checker_allows_what_is_allowed(source: str) -> None:
    assert classroom_violations(source) == []


# ---------------------------------------------------------------- the shell's rooms

WEB = ("fastapi", "starlette", "exchange.api")
# What each room of the shell may not import (docs/architecture.md, "The rooms"): only the
# gateway knows HTTP, and nothing below the gateway and the classroom knows either of them.
SHELL_ROOMS: dict[str, tuple[str, ...]] = {
    "exchange.compliance_year": (*WEB, "exchange.classroom"),
    "exchange.retired": (*WEB, "exchange.classroom"),
    "exchange.runtime": (*WEB, "exchange.classroom"),
    "exchange.db": (*WEB, "exchange.classroom"),
    "exchange.sim": (*WEB, "exchange.classroom"),
    "exchange.agents": (*WEB, "exchange.classroom"),
    "exchange.mrv_desk": (*WEB, "exchange.classroom"),
    # The client stands alone: a script installs it without the server.
    "exchange.client": (
        "fastapi",
        "starlette",
        "sqlalchemy",
        "matching",
        "registry_sim",
        "settlement",
        "mrv",
        *(f"exchange.{room}" for room in ("api", "classroom", "db", "sim", "agents", "runtime")),
    ),
}


def room_violations(source: str, module: str, forbidden: tuple[str, ...]) -> list[str]:
    """Every import of a ``forbidden`` module (or of anything inside it) in ``source``."""
    return [
        f"{module}:{line}: imports {banned}"
        for line, banned in banned_imports(source, module, forbidden)
    ]


@pytest.mark.parametrize("room", sorted(SHELL_ROOMS))
def test_the_shell_rooms_keep_their_imports(room: str) -> None:
    sources = _room_sources(room)
    assert sources, room
    assert all(path.exists() for _, path in sources), room
    problems = []
    for module, path in sources:
        problems += room_violations(path.read_text(encoding="utf-8"), module, SHELL_ROOMS[room])
    assert problems == []


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        (
            "from exchange.classroom.state import Seat\n",
            "exchange.sim.runner",
            "exchange.classroom",
        ),
        ("from ..api import hub\n", "exchange.db.keys", "exchange.api"),
        ("import fastapi\n", "exchange.compliance_year", "fastapi"),
        ("from settlement import Market\n", "exchange.client.rest", "settlement"),
        ("from exchange.db import tables\n", "exchange.client.rest", "exchange.db"),
    ],
)
def test_the_room_checker_catches_a_violation(source: str, module: str, expected: str) -> None:
    room = next(r for r in SHELL_ROOMS if module == r or module.startswith(r + "."))
    problems = room_violations(source, module, SHELL_ROOMS[room])
    assert len(problems) == 1, problems
    assert problems[0].endswith(f"imports {expected}")


@pytest.mark.parametrize("package", PACKAGES)
def test_package_layering(package: str) -> None:
    files = _sources(package)
    assert files, f"no Python files under {package}/"
    assert ROOT / package / "__init__.py" in files
    problems = []
    for path in files:
        source = path.read_text(encoding="utf-8")
        problems += violations(source, package, str(path.relative_to(ROOT)))
    assert problems == []


def test_the_engine_sources_are_all_checked() -> None:
    names = {p.name for p in _sources("matching")}
    assert {"engine.py", "book.py", "commands.py", "events.py", "instruments.py"} <= names


# ---------------------------------------------------------------- the checker itself


@pytest.mark.parametrize(
    ("package", "source", "expected"),
    [
        ("matching", "import time\n", "matching imports time"),
        ("matching", "import asyncio.tasks\n", "matching imports asyncio"),
        ("matching", "from random import Random\n", "matching imports random"),
        ("matching", "import uuid as u\n", "matching imports uuid"),
        ("matching", "from secrets import token_hex\n", "matching imports secrets"),
        ("matching", "from sqlalchemy.orm import Session\n", "matching imports sqlalchemy"),
        ("matching", "import fastapi\n", "matching imports fastapi"),
        ("matching", "from starlette import status\n", "matching imports starlette"),
        ("matching", "import uvicorn\n", "matching imports uvicorn"),
        ("matching", "from datetime import date\n", "matching imports datetime"),
        ("matching", "import datetime\n", "matching imports datetime"),
        ("matching", "from exchange.api import app\n", "matching imports exchange"),
        ("matching", "from registry_sim.rulesets import x\n", "matching imports registry_sim"),
        ("matching", "import settlement\n", "matching imports settlement"),
        ("registry_sim", "from settlement import ledger\n", "registry_sim imports settlement"),
        ("registry_sim", "import exchange\n", "registry_sim imports exchange"),
        ("settlement", "import time\n", "settlement imports time"),
        ("settlement", "import exchange.app\n", "settlement imports exchange"),
        (
            "matching",
            "def f():\n    import random\n    return random.random()\n",
            "matching imports random",
        ),
        (
            "matching",
            "import importlib\nm = importlib.import_module('time')\n",
            "matching imports time",
        ),
        ("matching", "m = __import__('random')\n", "matching imports random"),
        (
            "settlement",
            "from datetime import datetime\nx = datetime.now()\n",
            "settlement calls now()",
        ),
        (
            "registry_sim",
            "import datetime\nx = datetime.date.today()\n",
            "registry_sim calls today()",
        ),
        (
            "registry_sim",
            "from datetime import datetime as dt\nx = dt.utcnow()\n",
            "registry_sim calls utcnow()",
        ),
        ("settlement", "from x import now\nnow()\n", "settlement calls now()"),
        ("matching", "import numpy as np\n", "matching imports numpy (only the standard"),
        ("matching", "from pydantic import BaseModel\n", "matching imports pydantic"),
    ],
)
def test_the_checker_catches_a_violation(package: str, source: str, expected: str) -> None:
    problems = violations(source, package)
    assert len(problems) == 1, problems
    assert expected in problems[0]


@pytest.mark.parametrize(
    ("package", "source"),
    [
        ("matching", "import hashlib\nfrom itertools import islice\n"),
        ("matching", "from sortedcontainers import SortedDict\n"),
        ("matching", "from matching.book import OrderBook\nfrom . import types\n"),
        ("matching", "import timeit\n"),  # a prefix of a forbidden name is another module
        ("registry_sim", "import timeit\nimport randomness\nimport uuidlib\n"),
        ("registry_sim", "import tomllib\nfrom datetime import date, timedelta\n"),
        ("registry_sim", "from datetime import date\nd = date(2025, 12, 31)\n"),
        ("settlement", "from registry_sim.rulesets import load_ruleset\n"),
        ("settlement", "from datetime import date\nx = date.fromisoformat('2025-01-01')\n"),
        ("settlement", "from matching import MatchingEngine\n"),
    ],
)
def test_the_checker_allows_what_is_allowed(package: str, source: str) -> None:
    assert violations(source, package) == []


def test_the_checker_reports_every_violation_with_its_line() -> None:
    source = "import time\nimport hashlib\nfrom datetime import datetime\nx = datetime.now()\n"
    assert violations(source, "matching", "engine.py") == [
        "engine.py:1: matching imports time",
        "engine.py:3: matching imports datetime",
        "engine.py:4: matching calls now() (reads the clock)",
    ]


# ---------------------------------------------------------------- the gateway writes no SQL

GATEWAY_MAY_IMPORT_FROM_SQLALCHEMY = frozenset({"sqlalchemy.ext.asyncio"})


def gateway_sql_violations(
    source: str, module: str = "exchange.api.routes.orders", filename: str = "<source>"
) -> list[str]:
    """Every import of SQLAlchemy's query building or of the tables in ``source``, a module of
    the gateway."""
    found: dict[int, str] = {}  # the first offending name of each line
    for line, name in _full_imports(ast.parse(source, filename=filename), module):
        sql = name == "sqlalchemy" or (
            name.startswith("sqlalchemy.")
            and not any(
                name == allowed or name.startswith(allowed + ".")
                for allowed in GATEWAY_MAY_IMPORT_FROM_SQLALCHEMY
            )
            and name.rpartition(".")[0] not in GATEWAY_MAY_IMPORT_FROM_SQLALCHEMY
        )
        tables = name == "exchange.db.tables" or name.startswith("exchange.db.tables.")
        if (sql or tables) and line not in found:
            found[line] = "the tables" if tables else name
    return [
        f"{filename}:{line}: the gateway imports {what}" for line, what in sorted(found.items())
    ]


def test_the_gateway_writes_no_sql() -> None:
    sources = _room_sources("exchange.api")
    assert "exchange.api.routes.orders" in dict(sources)
    problems = []
    for module, path in sources:
        source = path.read_text(encoding="utf-8")
        problems += gateway_sql_violations(source, module, str(path.relative_to(ROOT)))
    assert problems == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from sqlalchemy import select\n", "sqlalchemy"),
        ("import sqlalchemy as sa\n", "sqlalchemy"),
        ("from sqlalchemy.sql import func\n", "sqlalchemy.sql"),
        ("from sqlalchemy.ext.asyncio import AsyncEngine, text\n", None),
        ("from exchange.db import tables as t\n", "the tables"),
        ("from exchange.db.tables import market_trades\n", "the tables"),
        ("def f():\n    from sqlalchemy import update\n", "sqlalchemy"),
    ],
)
def test_the_sql_checker_catches_a_violation(source: str, expected: str | None) -> None:
    problems = gateway_sql_violations(source)
    if expected is None:
        assert problems == []
    else:
        assert len(problems) == 1, problems
        assert problems[0].endswith(f": the gateway imports {expected}")


def test_the_sql_checker_allows_the_database_layer() -> None:
    source = (
        "from sqlalchemy.ext.asyncio import AsyncEngine\n"
        "from exchange.db.trade_tape import trade_tape\n"
        "from exchange.db.keys import create_key\n"
    )
    assert gateway_sql_violations(source) == []
