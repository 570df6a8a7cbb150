"""A sweep's file and its runs' records (``exchange.sim.sweep`` runs them,
``exchange.sim.sweep_output`` writes what they give): what both read, apart so that neither
imports the other."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class SweepError(ValueError):
    """A sweep file that cannot run; ``problems`` are "path: reason" lines."""

    def __init__(self, name: str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(f"sweep {name!r}: {p}" for p in problems))


# -- the sweep file ------------------------------------------------------------------------


class SeedRange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int = Field(ge=1, le=100_000)
    base: int = Field(1, ge=0)


class SweepSpec(BaseModel):
    """A sweep file (YAML), validated. Paths are ``carbonx simulate --set`` paths."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str = Field("sweep", pattern=r"^[a-z0-9_-]{1,60}$")
    description: str = ""
    scenario: str  # a shipped scenario's name, or a path (relative to the sweep file)
    fixed: dict[str, Any] = Field(default_factory=dict, alias="set")  # every run
    grid: dict[str, list[Any]] = Field(default_factory=dict)  # the cartesian product
    runs: list[dict[str, Any]] = Field(default_factory=list)  # override sets, one by one
    seeds: list[int] | SeedRange
    out: str | None = None  # default sweep-out/NAME (relative to the working directory)
    report: bool = True  # each run's own report (simulate's report.html and PNGs)
    outcomes: list[str] = Field(default_factory=list)  # the report's overview; default: all

    @model_validator(mode="after")
    def _check(self) -> SweepSpec:
        for name, values in self.grid.items():
            if not values:
                raise ValueError(f"grid.{name}: give at least one value")
        paths = [*self.fixed, *self.grid, *(p for r in self.runs for p in r)]
        for path in paths:
            if not path or "" in path.split(".") or "=" in path:
                raise ValueError(f"{path!r} is not a --set path (names joined by dots)")
        swept = set(self.grid) | {p for r in self.runs for p in r}
        if both := sorted(swept & set(self.fixed)):
            raise ValueError(f"set and swept both name {both}")
        if both := sorted({p for r in self.runs for p in r} & set(self.grid)):
            raise ValueError(f"grid and runs both name {both}")
        if len(self.seed_list) != len(set(self.seed_list)):
            raise ValueError("seeds: each seed once")
        return self

    @property
    def seed_list(self) -> list[int]:
        if isinstance(self.seeds, SeedRange):
            return list(range(self.seeds.base, self.seeds.base + self.seeds.count))
        return list(self.seeds)

    @property
    def parameters(self) -> list[str]:
        """The swept paths, in the file's order: the grid's, then the runs'."""
        names = list(self.grid)
        for r in self.runs:
            names += [p for p in r if p not in names]
        return names

    def combinations(self) -> list[dict[str, Any]]:
        """Every override set: each of ``runs`` (or one empty set) with each grid point."""
        points = [
            dict(zip(self.grid, values, strict=True))
            for values in itertools.product(*self.grid.values())
        ]
        return [{**r, **p} for r in (self.runs or [{}]) for p in points]


def load_sweep(path: str | Path) -> tuple[SweepSpec, Path]:
    """Read and validate a sweep file; answer it and the directory its paths are relative to."""
    path = Path(path)
    name = path.stem
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SweepError(name, [f"cannot read: {exc.strerror}"]) from None
    except yaml.YAMLError as exc:
        raise SweepError(name, [f"not valid YAML ({exc})"]) from None
    return parse_sweep(data, name), path.resolve().parent


def parse_sweep(data: Any, name: str = "sweep") -> SweepSpec:
    if not isinstance(data, dict):
        raise SweepError(name, ["(top level): expected a mapping of fields"])
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as exc:
        problems = [
            (".".join(str(p) for p in e["loc"]) or "(top level)")
            + f": {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
        raise SweepError(str(data.get("name", name)), problems) from None


@dataclass(frozen=True)
class RunTask:
    """One run of the sweep: what a worker needs, and nothing that needs the spec."""

    run_id: str
    params: dict[str, Any]  # the swept overrides of this run
    seed: int
    argv: list[str]  # ``carbonx simulate`` arguments, --out included
    out: str  # the run's directory
    scenario_sha256: str
    attempt: int = 1


@dataclass
class RunOutcome:
    run_id: str
    ok: bool
    attempt: int
    seconds: float
    error: str | None = None
    skipped: bool = False  # finished by an earlier invocation


@dataclass
class SweepResult:
    out: Path
    runs: list[RunTask]
    outcomes: dict[str, RunOutcome]
    executor: str
    seconds: float
    files: list[Path] = field(default_factory=list)

    @property
    def ran(self) -> list[str]:
        """The runs this invocation ran (not those an earlier one had finished)."""
        return [r for r, o in self.outcomes.items() if not o.skipped]

    @property
    def failed(self) -> dict[str, str]:
        return {r: o.error or "" for r, o in self.outcomes.items() if not o.ok}
