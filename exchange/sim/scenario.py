"""Scenario files (YAML): what a simulated market is made of, validated before anything runs.

A scenario names a rule set and its overrides, a calendar, the covered firms (listed one by one
or generated from seeded ``firm_groups``), the allocation method, CCER projects and their
issuance, the agents that trade, human seats, and scheduled events. ``load_scenario`` reads
one (a path, or the name of a shipped scenario in ``scenarios/``) and answers a
``LoadedScenario`` with everything resolved: the rule set, every firm, every agent's account.

Every problem is reported at once, each naming its field path and the reason::

    scenario 'demo': firms[3].curve.slope_fen_per_t: must be > 0

The format, field by field, is in docs/scenarios.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import pkgutil
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from exchange.agents.base import AGENT_KINDS, AbatementCurve, Firm
from exchange.sim.yaml_limits import YamlLimitError, YamlLimits, load_limited
from registry_sim.rules import BP, LANGUAGES, RuleSet, RuleSetError, load_rules
from registry_sim.rulesets import UnknownRuleSetError

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"
ACCOUNT_ID = r"^[A-Za-z0-9_-]{1,40}$"
# Sections a mid-run rule change may touch: the registry reads them at the moment of use
# (the book's tick, lot and band are fixed when a market is built).
CHANGEABLE_SECTIONS = ("compliance", "penalty", "allocation")
# A scenario's text may come from anyone with an operator key (createClassMarket): read within
# these (exchange.sim.yaml_limits). The shipped scenarios are 1-5 kB, at most 5 deep and use no
# aliases; a file given to ``carbonx simulate`` is the researcher's own and may be larger.
SCENARIO_YAML_LIMITS = YamlLimits(
    chars_max=200_000, aliases_max=1_000, depth_max=64, nodes_max=200_000
)
FILE_YAML_LIMITS = YamlLimits(
    chars_max=50_000_000, aliases_max=100_000, depth_max=64, nodes_max=50_000_000
)


class ScenarioError(ValueError):
    """A scenario that cannot run; ``problems`` are "path: reason" lines. ``limit`` and
    ``limit_max`` name the limit of ``SCENARIO_YAML_LIMITS`` its text passes, if that is why."""

    def __init__(
        self,
        scenario: str,
        problems: Sequence[str],
        limit: str | None = None,
        limit_max: float | None = None,
    ) -> None:
        self.scenario = scenario
        self.problems = list(problems)
        self.limit = limit
        self.limit_max = limit_max
        super().__init__("\n".join(f"scenario {scenario!r}: {p}" for p in self.problems))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


IntRange = list[int]  # [low, high], both inclusive
FloatRange = list[float]


def _local_text(value: Any) -> str | dict[str, str]:
    if isinstance(value, str):
        return value
    if (
        isinstance(value, dict)
        and value
        and all(k in LANGUAGES and isinstance(v, str) for k, v in value.items())
    ):
        return dict(value)
    raise ValueError(f"expected text, or text per language ({', '.join(LANGUAGES)}): {value!r}")


# A text for people: one string for every language, or one per language, e.g.
# ``{en: Heat wave, zh-CN: 高温}`` (``text_in`` picks one).
LocalText = Annotated[
    str | dict[str, str],
    PlainValidator(_local_text),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "object"}]}),
]


def text_in(value: str | Mapping[str, str], language: str) -> str:
    """A ``LocalText`` in ``language``: a plain string is the same in every language; a text
    not given in ``language`` is the one given in another."""
    if isinstance(value, str):
        return value.strip()
    found = value.get(language) or next((v for v in value.values() if v), "")
    return found.strip()


def _check_range(name: str, value: Sequence[float] | None) -> None:
    if value is None:
        return
    if len(value) != 2:
        raise ValueError(f"{name}: expected [low, high], got {len(value)} values")
    if value[0] > value[1]:
        raise ValueError(f"{name}: low {value[0]} is above high {value[1]}")


class RulesSpec(_Model):
    name: str = "cn_national"
    overrides: dict[str, Any] = Field(default_factory=dict)


class CalendarSpec(_Model):
    start: dt.date
    years: int = Field(1, ge=1, le=20)
    trading_days_per_year: int | None = Field(None, ge=1, le=366)
    clock_speed: float = Field(1.0, gt=0)  # market seconds per wall second in a live run
    # A class's surrender deadline: this many of its trading days after the year's last one
    # (docs/classroom.md); a headless run assesses at the rule set's deadline instead.
    surrender_days: int = Field(2, ge=0, le=366)


class MarketSettings(_Model):
    reference_price_fen: int = Field(gt=0)  # first reference price of every CEA vintage
    ccer_reference_price_fen: int = Field(0, ge=0)  # default for projects; 0: the CEA price


class CurveSpec(_Model):
    intercept_fen: int = Field(ge=0)
    slope_fen_per_t: float = Field(gt=0)
    max_t: int = Field(ge=0)


class FirmSpec(_Model):
    id: str = Field(pattern=ACCOUNT_ID)
    sector: str = Field(min_length=1)
    province: str = Field(min_length=1)
    output: int = Field(0, ge=0)
    baseline_t: int = Field(gt=0)
    growth_bp: int = Field(0, gt=-BP)
    curve: CurveSpec
    gas_fired: bool = False
    cash_fen: int = Field(0, ge=0)
    allocation_t: int | None = Field(None, ge=0)
    agent: str | None = "default"  # "default": the scenario's firm_agent; null: no agent


class FirmGroupSpec(_Model):
    count: int = Field(ge=1, le=100_000)
    id_prefix: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,20}$")
    sector: str = Field(min_length=1)
    provinces: list[str] = Field(min_length=1)
    output: IntRange
    intensity: FloatRange | None = None  # baseline = output × intensity ...
    baseline_t: IntRange | None = None  # ... or drawn directly
    growth_bp: IntRange = Field(default_factory=lambda: [0, 0])
    intercept_fen: IntRange
    slope_fen_per_t: FloatRange
    max_abatement_bp: IntRange  # the curve's max_t as a share of the baseline
    gas_fired_share_bp: int = Field(0, ge=0, le=BP)
    cash_fen: IntRange

    @model_validator(mode="after")
    def _ranges(self) -> FirmGroupSpec:
        for name in (
            "output",
            "intensity",
            "baseline_t",
            "growth_bp",
            "intercept_fen",
            "slope_fen_per_t",
            "max_abatement_bp",
            "cash_fen",
        ):
            _check_range(name, getattr(self, name))
        if (self.intensity is None) == (self.baseline_t is None):
            raise ValueError("give exactly one of intensity and baseline_t")
        if self.output[0] < 0 or self.cash_fen[0] < 0 or self.intercept_fen[0] < 0:
            raise ValueError("output, cash_fen and intercept_fen must be >= 0")
        if self.slope_fen_per_t[0] <= 0:
            raise ValueError("slope_fen_per_t must be > 0")
        if not 0 <= self.max_abatement_bp[0] <= self.max_abatement_bp[1] <= BP:
            raise ValueError(f"max_abatement_bp must lie in [0, {BP}]")
        if self.growth_bp[0] <= -BP:
            raise ValueError(f"growth_bp must be > {-BP}")
        if (self.baseline_t or self.intensity or [1])[0] <= 0:
            raise ValueError("baselines must be > 0")
        return self


class FirmAgentSpec(_Model):
    kind: str | None = "firm"  # null: firms trade only through human seats
    params: dict[str, Any] = Field(default_factory=dict)
    wakeups_per_day: float | None = Field(None, gt=0)


class AllocationSpec(_Model):
    method: Literal["fixed", "benchmark", "intensity"]
    share_bp: int | None = Field(None, ge=0, le=10 * BP)  # fixed: baseline × share
    benchmarks: dict[str, str] = Field(default_factory=dict)  # benchmark: sector -> t/output
    factors: list[str] = Field(default_factory=list)  # benchmark: adjustment factors
    alpha_bp: int = 0  # intensity: verified × (1 + α)
    # fixed: the share of each firm's allocation (the cap) auctioned instead of given free,
    # per simulated year (the last repeats); the scenario's ``auctions`` sell it.
    auctioned_bp: list[int] = Field(default_factory=list)

    def auctioned_bp_in(self, index: int) -> int:
        """The auctioned share of the ``index``-th simulated year."""
        if not self.auctioned_bp:
            return 0
        return self.auctioned_bp[min(index, len(self.auctioned_bp) - 1)]

    @model_validator(mode="after")
    def _needs(self) -> AllocationSpec:
        if self.auctioned_bp and self.method != "fixed":
            raise ValueError("auctioned_bp needs the fixed method")
        if any(not 0 <= bp <= BP for bp in self.auctioned_bp):
            raise ValueError(f"auctioned_bp are shares from 0 to {BP}")
        if self.method == "benchmark":
            if not self.benchmarks:
                raise ValueError("benchmark allocation needs benchmarks (sector: t per output)")
            for sector, text in [*self.benchmarks.items(), *(("factor", f) for f in self.factors)]:
                if not re.fullmatch(r"\d+(\.\d+)?", text) or float(text) <= 0:
                    raise ValueError(f"{sector}: expected a positive decimal text, got {text!r}")
        return self


class IssuanceSpec(_Model):
    day: int = Field(ge=1)  # trading day of the compliance year, 1 = the first
    qty_t: int = Field(gt=0)
    year: int | None = None  # None: every simulated year


class ProjectSpec(_Model):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,30}$")
    kind: Literal["CCER", "PHCER"] = "CCER"
    methodology: str = Field(min_length=1)
    province: str = Field(min_length=1)
    start: dt.date
    registered: dt.date
    inside_ets_scope: bool = False
    vintage: int = Field(ge=2000, le=2100)
    owner: str = Field(pattern=ACCOUNT_ID)  # the account issued the units (a seller agent)
    reference_price_fen: int = Field(0, ge=0)  # 0: market.ccer_reference_price_fen
    issuance: list[IssuanceSpec] = Field(min_length=1)


class AgentSpec(_Model):
    kind: str
    count: int | None = Field(None, ge=1, le=100_000)
    accounts: list[str] | None = None
    id_prefix: str | None = Field(None, pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,20}$")
    params: dict[str, Any] = Field(default_factory=dict)
    wakeups_per_day: float | None = Field(None, gt=0)
    cash_fen: int = Field(0, ge=0)
    allowances_t: int = Field(0, ge=0)  # CEA of the first year's vintage, issued at the start

    @model_validator(mode="after")
    def _accounts(self) -> AgentSpec:
        if (self.count is None) == (self.accounts is None):
            raise ValueError("give exactly one of count and accounts")
        for a in self.accounts or ():
            if not re.fullmatch(ACCOUNT_ID, a):
                raise ValueError(f"account id {a!r} must match {ACCOUNT_ID}")
        return self


class SeatsSpec(_Model):
    """Human seats: participant accounts with no agent (a class's trainees)."""

    count: int = Field(ge=0, le=10_000)
    id_prefix: str = Field("SEAT", pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,20}$")
    cash_fen: int = Field(0, ge=0)
    allowances_t: int = Field(0, ge=0)


class EventSpec(_Model):
    kind: Literal["news", "emission_shock", "rule_change"]
    day: int | None = Field(None, ge=1)  # trading day of the run, 1 = the first
    date: dt.date | None = None
    text: str = ""
    sector: str | None = None  # emission_shock: the firms of one sector (None: all) ...
    firms: list[str] | None = None  # ... or these firms
    change_bp: int | None = Field(None, gt=-BP)  # emission_shock: baseline × (1 + change)
    overrides: dict[str, Any] | None = None  # rule_change

    @model_validator(mode="after")
    def _fields(self) -> EventSpec:
        if (self.day is None) == (self.date is None):
            raise ValueError("give exactly one of day and date")
        if self.kind == "emission_shock" and self.change_bp is None:
            raise ValueError("an emission_shock needs change_bp")
        if self.kind == "rule_change":
            if not self.overrides:
                raise ValueError("a rule_change needs overrides")
            bad = sorted(set(self.overrides) - set(CHANGEABLE_SECTIONS))
            if bad:
                raise ValueError(
                    f"a rule change may touch only {list(CHANGEABLE_SECTIONS)}, not {bad}"
                )
        if self.kind == "news" and not self.text:
            raise ValueError("news needs text")
        return self


class AuctionSpec(_Model):
    """An auction of the year's allowances (paid allocation), held on trading day ``day`` of
    each compliance year in its first continuous session: ``volume_t`` (or ``share_bp`` of
    what the allocation's ``auctioned_bp`` withholds that year) issued to the auctioneer and
    offered at ``reserve_fen`` (None: the rule set's reserve rule, with the
    previous close standing in for a VWAP while nothing has traded listed). Its notice is
    published ``notice_days`` trading days before (0: on the day), when the volume is issued
    and the reserve set, so bidders can plan for every auction announced."""

    day: int = Field(ge=1)
    volume_t: int | None = Field(None, ge=1)
    share_bp: int | None = Field(None, ge=1, le=BP)  # of the year's auctioned allowances
    reserve_fen: int | None = Field(None, ge=1)
    notice_days: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _volume(self) -> AuctionSpec:
        if (self.volume_t is None) == (self.share_bp is None):
            raise ValueError("give exactly one of volume_t and share_bp")
        if self.notice_days >= self.day:
            raise ValueError(
                f"notice_days: the notice is published on trading day {self.day} - "
                f"{self.notice_days} of the year, which must be 1 or later"
            )
        return self


class MrvSpec(_Model):
    """Monthly MRV data behind each firm's verified emissions (``exchange.sim.mrv_data``)."""

    generate: bool = False  # write mrv.parquet: twelve months per firm and year
    sectors: list[str] = Field(default_factory=lambda: ["power"])  # the firms it covers


class ScenarioSpec(_Model):
    name: str = Field(pattern=r"^[a-z0-9_-]{1,60}$")
    title: LocalText = ""  # a short title for people (the instructor's list); "": the name
    description: LocalText = ""
    seed: int = 0  # the population's seed (firm_groups); a run's own seed is --seed
    rules: RulesSpec = Field(default_factory=RulesSpec)
    calendar: CalendarSpec
    market: MarketSettings
    allocation: AllocationSpec
    firm_agent: FirmAgentSpec = Field(default_factory=lambda: FirmAgentSpec(wakeups_per_day=None))
    firms: list[FirmSpec] = Field(default_factory=list)
    firm_groups: list[FirmGroupSpec] = Field(default_factory=list)
    ccer_projects: list[ProjectSpec] = Field(default_factory=list)
    agents: list[AgentSpec] = Field(default_factory=list)
    seats: SeatsSpec | None = None
    events: list[EventSpec] = Field(default_factory=list)
    auctions: list[AuctionSpec] = Field(default_factory=list)
    plugins: list[str] = Field(default_factory=list)  # modules that register more agent kinds
    mrv: MrvSpec = Field(default_factory=MrvSpec)


# -- the resolved scenario -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FirmPlan:
    """One covered firm, resolved: ``baseline_t`` is the first year's."""

    account_id: str
    sector: str
    province: str
    output: int
    baseline_t: int
    growth_bp: int
    curve: AbatementCurve
    gas_fired: bool
    cash_fen: int
    allocation_t: int | None

    def baseline_in(self, year_index: int) -> int:
        """Emissions before abatement in the ``year_index``-th simulated year (0 = first)."""
        value = self.baseline_t
        for _ in range(year_index):
            value = value * (BP + self.growth_bp) // BP
        return value

    def as_firm(self, baseline_t: int, allocation_due_t: int = 0) -> Firm:
        return Firm(
            self.account_id,
            self.sector,
            self.province,
            self.gas_fired,
            self.output,
            baseline_t,
            self.curve,
            allocation_due_t,
        )


@dataclass(frozen=True, slots=True)
class AgentPlan:
    """One agent and its account. ``firm`` is set for a firm's compliance agent."""

    index: int
    account_id: str
    kind: str
    params: Mapping[str, Any]
    wakeups_per_day: float | None  # None: the agent's own (its class or its params)
    cash_fen: int
    allowances_t: int
    firm: str | None


@dataclass(frozen=True, slots=True)
class LoadedScenario:
    spec: ScenarioSpec
    source: str
    rules: RuleSet
    firms: tuple[FirmPlan, ...]
    agents: tuple[AgentPlan, ...]
    seats: tuple[str, ...]
    overrides: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def years(self) -> list[int]:
        first = self.spec.calendar.start.year
        return [first + i for i in range(self.spec.calendar.years)]


# -- loading -------------------------------------------------------------------------------


def shipped_scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def scenario_path(name_or_path: str | Path) -> Path:
    """A path as given, or the shipped scenario of that name."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    shipped = SCENARIO_DIR / f"{name_or_path}.yaml"
    if shipped.exists():
        return shipped
    raise ScenarioError(
        str(name_or_path),
        [f"no such file, and no shipped scenario; shipped: {shipped_scenarios()}"],
    )


def load_scenario(
    name_or_path: str | Path,
    overrides: Mapping[str, Any] | None = None,
    scenario_sets: Sequence[tuple[Sequence[str], Any]] = (),
) -> LoadedScenario:
    """Read, validate and resolve a scenario; ``overrides`` deep-merge over the rule set's own
    overrides (a research sweep's knob); ``scenario_sets`` (path, value) set fields of the file
    itself before it is validated (``set_scenario_field``)."""
    path = scenario_path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(name_or_path), [f"cannot read: {exc.strerror}"]) from None
    return parse_scenario(
        text,
        source=str(path),
        rule_overrides=overrides,
        limits=FILE_YAML_LIMITS,
        scenario_sets=scenario_sets,
    )


def is_scenario_path(path: Sequence[str]) -> bool:
    """Whether a ``--set`` path names a field of the scenario file (``allocation.auctioned_bp``,
    ``calendar.trading_days_per_year``, ``firm_groups.0.count``, ``rules.overrides...``) rather
    than a rule of its rule set (``compliance.offset_cap_bp``). A path whose first name is not
    a top-level scenario field is a rule path; where a name is both a scenario section and a
    rule set's section (``allocation``, ``calendar``), the path is the scenario's when that
    section of the scenario has a field of the path's second name."""
    info = ScenarioSpec.model_fields.get(path[0])
    if info is None:
        return False
    if len(path) == 1:
        return True
    kinds = get_args(info.annotation) if isinstance(info.annotation, UnionType) else ()
    models = [
        t for t in (info.annotation, *kinds) if isinstance(t, type) and issubclass(t, BaseModel)
    ]
    return not models or path[1] in models[0].model_fields


def set_scenario_field(data: dict[str, Any], path: Sequence[str], value: Any) -> None:
    """Set ``path`` (names of mappings, indexes of lists) in a scenario's data to ``value``,
    making the mappings that are missing on the way."""
    node: Any = data
    *parents, leaf = path
    for i, key in enumerate([*parents, leaf]):
        last = i == len(parents)
        if isinstance(node, list):
            if not key.lstrip("-").isdigit() or not -len(node) <= int(key) < len(node):
                raise ValueError(f"{'.'.join(path)}: no item {key!r} in a list of {len(node)}")
            if last:
                node[int(key)] = value
            else:
                node = node[int(key)]
        elif isinstance(node, dict):
            if last:
                node[key] = value
            else:
                node = node.setdefault(key, {})
        else:
            raise ValueError(f"{'.'.join(path)}: {'.'.join(path[:i])} is not a mapping or list")


def parse_scenario(
    text: str,
    source: str = "<text>",
    rule_overrides: Mapping[str, Any] | None = None,
    limits: YamlLimits = SCENARIO_YAML_LIMITS,
    scenario_sets: Sequence[tuple[Sequence[str], Any]] = (),
) -> LoadedScenario:
    label = Path(source).stem
    try:
        data = load_limited(text, limits)
    except YamlLimitError as exc:
        raise ScenarioError(label, [str(exc)], exc.limit, exc.limit_max) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "yaml"
        reason = getattr(exc, "problem", exc)
        raise ScenarioError(label, [f"{where}: not valid YAML ({reason})"]) from None
    if not isinstance(data, dict):
        raise ScenarioError(label, ["(top level): expected a mapping of fields"])
    if isinstance(data.get("name"), str):
        label = data["name"]
    for path, value in scenario_sets:
        try:
            set_scenario_field(data, path, value)
        except ValueError as exc:
            raise ScenarioError(label, [f"--set {exc}"]) from None
    try:
        spec = ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(label, [_problem(e) for e in exc.errors()]) from None
    return _resolve(spec, source, rule_overrides or {})


def _path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _problem(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    # Union members and validator names in the location are pydantic's, not the user's.
    loc = [
        p
        for p in error["loc"]
        if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))
    ]
    if kind == "missing":
        reason = "required field is missing"
    elif kind == "extra_forbidden":
        reason = "unknown field"
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<"}.get(kind, "<=")
        bound = next(iter(ctx.values()))
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        reason = f"must be {op} {bound}, got {error.get('input')!r}"
    elif kind == "string_pattern_mismatch":
        reason = f"{error.get('input')!r} must match {ctx.get('pattern')}"
    elif kind == "value_error":
        reason = str(ctx.get("error", error["msg"]))
    else:
        reason = error["msg"][0].lower() + error["msg"][1:]
        if "input" in error and kind.endswith("_type"):
            reason += f", got {error['input']!r}"
    return f"{_path(loc)}: {reason}"


def _merge(base: Mapping[str, Any], more: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in more.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def derived_seed(seed: int, *labels: object) -> int:
    """A seed for one stream of randomness, stable across processes (no ``hash()``)."""
    text = ":".join(str(x) for x in (seed, *labels))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def load_agent_kinds(plugins: Sequence[str] = ()) -> dict[str, Any]:
    """Import every module of ``exchange.agents`` (each registers its kinds) and the plugins."""
    import exchange.agents as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        importlib.import_module(f"exchange.agents.{info.name}")
    for module in plugins:
        importlib.import_module(module)
    return AGENT_KINDS


def _resolve(spec: ScenarioSpec, source: str, extra: Mapping[str, Any]) -> LoadedScenario:
    problems: list[str] = []
    overrides = _merge(spec.rules.overrides, extra)
    rules: RuleSet | None = None
    try:
        rules = load_rules(spec.rules.name, overrides)
    except UnknownRuleSetError as exc:
        problems.append(f"rules.name: {exc}")
    except RuleSetError as exc:
        problems.append(f"rules.overrides.{exc.path}: {exc.reason}")
    for i, event in enumerate(spec.events):
        if event.overrides and rules is not None:
            try:
                load_rules(spec.rules.name, _merge(overrides, event.overrides))
            except RuleSetError as exc:
                problems.append(f"events[{i}].overrides.{exc.path}: {exc.reason}")

    firms = [_listed_firm(f) for f in spec.firms]
    for g, group in enumerate(spec.firm_groups):
        firms.extend(_generated_firms(group, derived_seed(spec.seed, "firm_group", g)))
    if not firms:
        problems.append("firms: a scenario needs at least one firm (firms or firm_groups)")

    agents, seats = _agents(spec, firms, problems)
    _check_ids(spec, firms, agents, seats, problems)
    _check_allocation(spec, firms, problems)
    if problems or rules is None:
        raise ScenarioError(spec.name, problems)
    return LoadedScenario(spec, source, rules, tuple(firms), tuple(agents), tuple(seats), overrides)


def _listed_firm(f: FirmSpec) -> FirmPlan:
    curve = AbatementCurve(f.curve.intercept_fen, f.curve.slope_fen_per_t, f.curve.max_t)
    return FirmPlan(
        f.id,
        f.sector,
        f.province,
        f.output,
        f.baseline_t,
        f.growth_bp,
        curve,
        f.gas_fired,
        f.cash_fen,
        f.allocation_t,
    )


def _generated_firms(group: FirmGroupSpec, seed: int) -> list[FirmPlan]:
    """``count`` firms drawn from the group's ranges, in a fixed order from ``seed``."""
    rng = random.Random(seed)
    width = max(4, len(str(group.count)))
    out = []
    for i in range(group.count):
        output = rng.randint(*group.output)
        if group.intensity is not None:
            baseline = max(1, round(output * rng.uniform(*group.intensity)))
        else:
            assert group.baseline_t is not None
            baseline = rng.randint(*group.baseline_t)
        max_t = baseline * rng.randint(*group.max_abatement_bp) // BP
        curve = AbatementCurve(
            rng.randint(*group.intercept_fen),
            round(rng.uniform(*group.slope_fen_per_t), 9),
            max_t,
        )
        out.append(
            FirmPlan(
                f"{group.id_prefix}{i + 1:0{width}d}",
                group.sector,
                group.provinces[rng.randrange(len(group.provinces))],
                output,
                baseline,
                rng.randint(*group.growth_bp),
                curve,
                rng.randrange(BP) < group.gas_fired_share_bp,
                rng.randint(*group.cash_fen),
                None,
            )
        )
    return out


def _agents(
    spec: ScenarioSpec, firms: list[FirmPlan], problems: list[str]
) -> tuple[list[AgentPlan], list[str]]:
    """Every agent in the order it is seeded: the firms' own, then the listed ones."""
    try:
        kinds = load_agent_kinds(spec.plugins)
    except ImportError as exc:
        problems.append(f"plugins: cannot import {exc.name!r}")
        kinds = AGENT_KINDS
    agents: list[AgentPlan] = []
    default = spec.firm_agent
    if default.kind is not None and default.kind not in kinds:
        problems.append(
            f"firm_agent.kind: unknown agent kind {default.kind!r}; known: {sorted(kinds)}"
        )
    listed = {f.id: f for f in spec.firms}
    for firm in firms:
        own = listed.get(firm.account_id)
        kind = default.kind if own is None or own.agent == "default" else own.agent
        if kind is None:
            continue
        if kind not in kinds:
            if own is not None and own.agent != "default":
                problems.append(
                    f"firms[{spec.firms.index(own)}].agent: unknown agent kind {kind!r}"
                )
            continue
        rate = default.wakeups_per_day
        agents.append(
            AgentPlan(
                len(agents), firm.account_id, kind, default.params, rate, 0, 0, firm.account_id
            )
        )
    if default.kind in kinds and firms:
        _check_params(kinds[default.kind], default.params, "firm_agent.params", problems, firms[0])
    for i, a in enumerate(spec.agents):
        if a.kind not in kinds:
            problems.append(
                f"agents[{i}].kind: unknown agent kind {a.kind!r}; known: {sorted(kinds)}"
            )
            continue
        cls = kinds[a.kind]
        _check_params(cls, a.params, f"agents[{i}].params", problems, None)
        prefix = a.id_prefix or a.kind.upper().replace("_", "")
        ids = a.accounts or [f"{prefix}{n + 1:03d}" for n in range(a.count or 0)]
        rate = a.wakeups_per_day
        for account in ids:
            agents.append(
                AgentPlan(
                    len(agents), account, a.kind, a.params, rate, a.cash_fen, a.allowances_t, None
                )
            )
    seats = []
    if spec.seats is not None:
        seats = [f"{spec.seats.id_prefix}{n + 1:03d}" for n in range(spec.seats.count)]
    return agents, seats


def _check_params(
    cls: Any, params: Mapping[str, Any], where: str, problems: list[str], firm: FirmPlan | None
) -> None:
    """Build the agent once, so a misspelt parameter fails here rather than mid-run."""
    try:
        cls("CHECK", firm.as_firm(firm.baseline_t) if firm else None, **params)
    except (TypeError, ValueError) as exc:
        problems.append(f"{where}: {exc}")


def _check_ids(
    spec: ScenarioSpec,
    firms: list[FirmPlan],
    agents: list[AgentPlan],
    seats: list[str],
    problems: list[str],
) -> None:
    seen: dict[str, str] = {}
    for where, ids in (
        ("firms", [f.account_id for f in firms]),
        ("agents", [a.account_id for a in agents if a.firm is None]),
        ("seats", seats),
    ):
        for account in ids:
            if account in seen:
                problems.append(f"{where}: account id {account!r} is also used in {seen[account]}")
            seen.setdefault(account, where)
    firm_ids = {f.account_id for f in firms}
    for i, p in enumerate(spec.ccer_projects):
        if p.owner not in seen:
            problems.append(f"ccer_projects[{i}].owner: no account {p.owner!r} in the scenario")
        elif p.owner in firm_ids:
            problems.append(f"ccer_projects[{i}].owner: {p.owner!r} is a covered firm")
    ids = [p.id for p in spec.ccer_projects]
    for i, pid in enumerate(ids):
        if pid in ids[:i]:
            problems.append(f"ccer_projects[{i}].id: {pid!r} is listed twice")
    for i, e in enumerate(spec.events):
        for firm in e.firms or ():
            if firm not in firm_ids:
                problems.append(f"events[{i}].firms: no firm {firm!r}")


def _check_allocation(spec: ScenarioSpec, firms: list[FirmPlan], problems: list[str]) -> None:
    a = spec.allocation
    if a.method == "fixed" and a.share_bp is None:
        missing = [f.account_id for f in firms if f.allocation_t is None]
        if missing:
            problems.append(
                f"allocation.share_bp: needed for firms without allocation_t ({missing[:3]}...)"
            )
    if a.method == "benchmark":
        sectors = sorted({f.sector for f in firms} - set(a.benchmarks))
        if sectors:
            problems.append(f"allocation.benchmarks: no benchmark for sectors {sectors}")
