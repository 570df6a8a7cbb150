"""No import cycles among the modules of ``exchange``.

Every module under ``exchange/`` is parsed with ``ast``; each import becomes an edge of the
module graph, wherever it is written: at the top, under ``if TYPE_CHECKING:`` or inside a
function (a cycle hidden that way is still a cycle of the design). Relative imports are
resolved against the importing module's package, and ``from pkg import name`` points at the
submodule ``pkg.name`` when there is one, else at ``pkg`` itself. A package's ``__init__`` is
not counted as imported by its submodules' imports (Python runs it, but it only re-exports).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "exchange"

Graph = Mapping[str, Iterable[str]]


def module_name(path: Path, root: Path = ROOT) -> str:
    """``exchange/api/app.py`` → ``exchange.api.app``; a package's ``__init__`` is the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute name a (possibly relative) ``from ... import`` names."""
    if level == 0:
        return target or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([target] if target else [])])


def _owner(name: str, modules: set[str]) -> str | None:
    """The longest known module that ``name`` is or lies in."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in modules:
            return candidate
    return None


def imports_of(source: str, module: str, is_package: bool, modules: set[str]) -> set[str]:
    """The known modules ``module`` imports anywhere in its source."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                owner = _owner(alias.name, modules)
                if owner is not None:
                    found.add(owner)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, is_package, node.level, node.module)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                owner = submodule if submodule in modules else _owner(base, modules)
                if owner is not None:
                    found.add(owner)
    found.discard(module)
    return found


def import_graph(root: Path = ROOT, package: str = PACKAGE) -> dict[str, set[str]]:
    """Every module of ``package`` and the modules of ``package`` it imports."""
    paths = sorted((root / package).rglob("*.py"))
    modules = {module_name(p, root) for p in paths}
    return {
        module_name(p, root): imports_of(
            p.read_text(encoding="utf-8"), module_name(p, root), p.name == "__init__.py", modules
        )
        for p in paths
    }


def cycles(graph: Graph) -> list[list[str]]:
    """One cycle (its modules in import order, the first repeated at the end) for each group of
    modules that import each other (a strongly connected component), smallest name first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    edges = {m: sorted(set(targets)) for m, targets in graph.items()}
    for targets in list(edges.values()):
        for target in targets:
            edges.setdefault(target, [])

    def connect(start: str) -> None:  # Tarjan's algorithm, iterative
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = edges[node]
            if i < len(targets):
                work.append((node, i + 1))
                target = targets[i]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)

    for node in sorted(edges):
        if node not in index:
            connect(node)
    found = [
        _a_cycle(edges, c)
        for c in components
        if len(c) > 1 or any(m in edges[m] for m in c)  # a self-import is a cycle too
    ]
    return sorted(found)


def _a_cycle(edges: Mapping[str, list[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first back to it)."""
    start = min(component)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in edges[node]:
                if target == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if target in component and target not in came_from and target != start:
                    came_from[target] = node
                    following.append(target)
        frontier = following
    raise AssertionError(f"no cycle in {sorted(component)}")


def test_exchange_has_no_import_cycle() -> None:
    graph = import_graph()
    assert "exchange.api.hub" in graph["exchange.api.app"]  # the graph is read
    found = cycles(graph)
    assert found == [], "import cycles:\n" + "\n".join(" → ".join(c) for c in found)


# ---------------------------------------------------------------- the checker itself


def test_the_checker_finds_a_cycle_in_a_small_graph() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}, "f": {"d"}}
    assert cycles(graph) == [["a", "b", "c", "a"], ["e", "e"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_checker_reports_a_short_cycle_of_a_big_group() -> None:
    graph = {"a": {"b", "c"}, "b": {"a"}, "c": {"d"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "a"]]


@pytest.mark.parametrize(
    ("module", "is_package", "source", "expected"),
    [
        ("x.m", False, "import x.n\n", {"x.n"}),
        ("x.m", False, "import x.n.deep as d\n", {"x.n"}),  # a name inside a module: the module
        ("x.m", False, "from x import n\n", {"x.n"}),  # a submodule
        ("x.m", False, "from x import thing\n", {"x"}),  # a name of the package
        ("x.m", False, "from . import n\n", {"x.n"}),
        ("x.m", False, "from .n import f\n", {"x.n"}),
        ("x.sub.m", False, "from ..n import f\n", {"x.n"}),
        ("x.sub", True, "from .m import f\n", {"x.sub.m"}),  # a package's own submodule
        ("x.m", False, "import typing\nif typing.TYPE_CHECKING:\n    import x.n\n", {"x.n"}),
        ("x.m", False, "def f():\n    from x.n import g\n    return g\n", {"x.n"}),
        ("x.m", False, "import os\nfrom sqlalchemy import select\n", set()),
        ("x.m", False, "import x.m\n", set()),
    ],
)
def test_the_checker_reads_every_kind_of_import(
    module: str, is_package: bool, source: str, expected: set[str]
) -> None:
    modules = {"x", "x.m", "x.n", "x.sub", "x.sub.m"}
    assert imports_of(source, module, is_package, modules) == expected
