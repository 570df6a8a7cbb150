"""A class market made from a scenario (``createClassMarket``), and what its compliance cycle
needs to know about the scenario afterwards.

The class is the scenario with its human seats turned into covered entities: each seat is
given the profile of one of the scenario's firms (sector, province, baseline, growth,
abatement curve), drawn with the class's seed, so every trainee has an obligation; it starts
with the seats' cash and allowances on top of its allocation. ``ClassScenario`` holds that
resolved scenario with the headless run's calendar of it (``exchange.sim.schedule``: each
year's trading days and the day each scheduled event falls on), so the class and a headless
run of the same scenario set up and allocate the same way: the set-up commands are the
runner's own (``exchange.sim.setup``: ``opening_commands``, ``allocation_op``, ...).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from exchange.agents.base import Firm
from exchange.classroom.bots import ScenarioBotSpec, bot_spec
from exchange.classroom.errors import ClassroomError
from exchange.classroom.names import seat_names
from exchange.classroom.state import ClassState, Seat
from exchange.clock import day_schedule
from exchange.sim.scenario import (
    FirmPlan,
    LoadedScenario,
    ScenarioError,
    SeatsSpec,
    derived_seed,
    parse_scenario,
    scenario_path,
    shipped_scenarios,
)
from exchange.sim.schedule import place_events, year_schedule
from exchange.sim.setup import (
    allocation_op,
    offset_issuance_ops,
    opening_commands,
    scenario_instruments,
)
from registry_sim.model import AccountId
from registry_sim.ops import IssueAllowances
from registry_sim.registry import Registry
from registry_sim.rules import BP, CalendarRules
from settlement.commands import MarketCommand, RegistryCommand
from settlement.spec import MarketSpec

DEFAULT_SEAT_PREFIX: str = SeatsSpec.model_fields["id_prefix"].default
MAX_SEATS = 200  # a class's seats at most (createClassMarket's bound)


def read_scenario(name: str | None, yaml_text: str | None) -> tuple[LoadedScenario, str]:
    """The scenario a class is made from (a shipped one by name, or YAML text) and its text,
    or ``UNKNOWN_SCENARIO`` / ``INVALID_SCENARIO`` with every problem found."""
    if name is not None:
        if name not in shipped_scenarios():
            raise ClassroomError(
                "UNKNOWN_SCENARIO",
                f"no scenario {name!r} ships with carbonx",
                scenario=name,
                available=shipped_scenarios(),
            )
        text = scenario_path(name).read_text(encoding="utf-8")
    else:
        assert yaml_text is not None
        text = yaml_text
    return parse(text, name or "scenario"), text


def parse(text: str, label: str) -> LoadedScenario:
    try:
        return parse_scenario(text, source=f"{label}.yaml")
    except ScenarioError as error:
        # Past a limit of its text (SCENARIO_YAML_LIMITS): which one, and its value.
        limit = {} if error.limit is None else {"limit": error.limit, "limit_max": error.limit_max}
        raise ClassroomError(
            "INVALID_SCENARIO",
            f"scenario {error.scenario!r} cannot run",
            scenario=error.scenario,
            problems=error.problems,
            **limit,
        ) from None


def class_start_ns(calendar: CalendarRules, first_day: dt.date) -> int:
    """A class's start time: the pre-open of its first trading day, in market time. Its
    market's journal begins there, so nothing of the class is stamped earlier; a clock started
    on the class begins there, and its first step opens that day (docs/classroom.md)."""
    return day_schedule(calendar, first_day)[0].ts_ns


def default_seats(scenario: LoadedScenario) -> int:
    """The seats a class of ``scenario`` gets when none are asked for: the scenario's own
    count, at least one and at most ``MAX_SEATS``."""
    spec = scenario.spec.seats
    return min(MAX_SEATS, max(1, spec.count if spec else 1))


def draw_seats(
    scenario: LoadedScenario, count: int, seed: int, gas_fired_seats: int | None = None
) -> list[Seat]:
    """``count`` seats, each with the profile of a scenario firm drawn with ``seed``. Given
    ``gas_fired_seats``, the first that many seats are gas-fired (燃气机组) and the others are
    not, whatever their profiles; without it each seat is as its profile firm is. More
    gas-fired seats than seats is ``TOO_MANY_GAS_FIRED_SEATS``."""
    if gas_fired_seats is not None and gas_fired_seats > count:
        raise ClassroomError(
            "TOO_MANY_GAS_FIRED_SEATS",
            "more gas-fired seats than seats",
            gas_fired_seats=gas_fired_seats,
            seats=count,
        )
    prefix = scenario.spec.seats.id_prefix if scenario.spec.seats else DEFAULT_SEAT_PREFIX
    firms = scenario.firms
    seats = []
    for n in range(1, count + 1):
        firm = firms[random.Random(derived_seed(seed, "seat", n)).randrange(len(firms))]
        name, name_zh = seat_names(n, firm.sector, firm.province)
        gas = firm.gas_fired if gas_fired_seats is None else n <= gas_fired_seats
        seats.append(Seat(n, f"{prefix}{n:03d}", name, firm.account_id, name_zh, gas))
    return seats


@dataclass
class ClassScenario:
    """A class's scenario, resolved: its seats are covered firms (``loaded.firms``), its
    agents the scenario's own."""

    loaded: LoadedScenario
    seed: int
    seats: list[Seat]
    schedule: list[list[dt.date]] = field(init=False)  # each year's trading days
    day_events: dict[int, list[Any]] = field(init=False)  # by the run's trading-day number
    firms: dict[str, FirmPlan] = field(init=False)

    def __post_init__(self) -> None:
        self.schedule = year_schedule(self.loaded)
        self.day_events = place_events(self.loaded, self.schedule)
        self.firms = {f.account_id: f for f in self.loaded.firms}

    @classmethod
    def make(cls, scenario: LoadedScenario, seats: list[Seat], seed: int) -> ClassScenario:
        profiles = {f.account_id: f for f in scenario.firms}
        spec = scenario.spec.seats
        seat_firms = []
        for seat in seats:
            firm = profiles[seat.profile]
            cash = spec.cash_fen if spec is not None and spec.cash_fen else firm.cash_fen
            gas = firm.gas_fired if seat.gas_fired is None else seat.gas_fired
            seat_firms.append(
                dataclasses.replace(firm, account_id=seat.account_id, cash_fen=cash, gas_fired=gas)
            )
        loaded = dataclasses.replace(scenario, firms=scenario.firms + tuple(seat_firms), seats=())
        return cls(loaded, seed, seats)

    @classmethod
    def of(cls, state: ClassState) -> ClassScenario:
        """The class scenario of a stored class (after a restart)."""
        return cls.make(parse(state.source, state.scenario), state.seats, state.seed)

    # ------------------------------------------------------------------ the market

    def market_spec(self, market_id: str) -> MarketSpec:
        spec = self.loaded.spec
        return MarketSpec(
            market_id,
            spec.rules.name,
            scenario_instruments(self.loaded),
            dict(self.loaded.overrides),
        )

    def setup_commands(self) -> list[MarketCommand]:
        """Everything before the first trading day: accounts and cash, projects, starting
        allowances (the seats' too), the first year's allocation and CCER issuance."""
        first = self.loaded.years[0]
        commands = opening_commands(self.loaded, 0)
        spec = self.loaded.spec.seats
        if spec is not None and spec.allowances_t:
            for seat in self.seats:
                account = AccountId(seat.account_id)
                op = IssueAllowances(f"start:{account}", account, first, spec.allowances_t)
                commands.append(RegistryCommand(0, op))
        return commands + self.year_start_commands(first)

    def year_start_commands(self, year: int) -> list[MarketCommand]:
        """A compliance year's allocation to every firm and its CCER issuance."""
        index = self.year_index(year)
        ops: list[Any] = [allocation_op(self.loaded, f, year, index) for f in self.loaded.firms]
        ops += offset_issuance_ops(self.loaded, year)
        return [RegistryCommand(0, op) for op in ops if op is not None]

    def bot_specs(self, year: int, today: dt.date | None) -> list[ScenarioBotSpec]:
        """The scenario's agents as bots; a firm's with this year's profile."""
        return [
            bot_spec(plan, self._profile(plan.firm, year, today), self.loaded.rules)
            for plan in self.loaded.agents
        ]

    def _profile(self, firm: str | None, year: int, today: dt.date | None) -> Firm | None:
        return None if firm is None else self.firm_profile(firm, year, today)

    # ------------------------------------------------------------------ the year

    def year_index(self, year: int) -> int:
        return self.loaded.years.index(year)

    def has_year(self, year: int) -> bool:
        return year in self.loaded.years

    def year_days(self, year: int) -> list[dt.date]:
        """The scenario's trading days of ``year``."""
        return list(self.schedule[self.year_index(year)])

    def baseline_t(self, account_id: str, year: int, today: dt.date | None) -> int:
        """The firm's emissions of ``year`` before abatement: its baseline grown to the year,
        changed by each emission shock the scenario scheduled in that year up to ``today``."""
        firm = self.firms[account_id]
        value = firm.baseline_in(self.year_index(year))
        flat = [d for days in self.schedule for d in days]
        year_days = set(self.year_days(year))
        for number, events in sorted(self.day_events.items()):
            on = flat[number - 1] if number <= len(flat) else None
            if on is None or on not in year_days or (today is not None and on > today):
                continue
            for event in events:
                hit = (event.firms is None or firm_source(self, account_id) in event.firms) and (
                    event.sector is None or firm.sector == event.sector
                )
                if event.kind == "emission_shock" and hit:
                    value = value * (BP + event.change_bp) // BP
        return value

    def seen_on(self, year: int, trading_day: dt.date | None) -> dt.date | None:
        """The day a class's screens count ``year``'s emission shocks up to: the market's
        trading day, or before the class's first day opens, that first day (so a seat's firm
        does not change when the instructor starts the clock). Verification counts the whole
        year's shocks instead (``baseline_t`` with no day)."""
        if trading_day is not None:
            return trading_day
        days = self.year_days(year)
        return days[0] if days else None

    def firm_profile(self, account_id: str, year: int, today: dt.date | None) -> Firm:
        """What a firm's agent knows of itself this year: its baseline with the shocks so far.
        No true-up is counted as still due (the headless run estimates one for benchmark and
        intensity allocation; a class does not)."""
        return self.firms[account_id].as_firm(self.baseline_t(account_id, year, today))

    def max_abatement_t(self, account_id: str, year: int, today: dt.date | None) -> int:
        """The most a firm can cut this year: its curve's reach, at most its emissions."""
        return min(self.firms[account_id].curve.max_t, self.baseline_t(account_id, year, today))

    def allocation_t(self, registry: Registry, account_id: str, year: int) -> int:
        """The allowances allocated to a firm for ``year`` so far: the registry's allocation
        (a fixed allocation, or pre-allocation and true-ups), before any deduction."""
        return registry.allocation_t(AccountId(account_id), year)

    def abatement_cost_fen(self, account_id: str, abated_t: int) -> int:
        return self.firms[account_id].curve.cost_fen(abated_t)


def firm_source(scenario: ClassScenario, account_id: str) -> str:
    """The scenario firm whose profile an account has: a seat's, or the firm itself."""
    seat = next((s for s in scenario.seats if s.account_id == account_id), None)
    return account_id if seat is None else seat.profile
