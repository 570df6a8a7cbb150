"""A small in-process market loop for the agent tests (the simulator has the real one).

``Harness`` opens a pure ``Market`` with the national rule set, accounts, cash and units,
then runs trading days: one continuous session per day, each agent woken a Poisson number
of times (its own seeded ``Random``) at uniform times, wake-ups merged by time and every
action applied at once, so later agents see the book change. It counts orders, refusals by
code and records every trade with its day, for the tests to check.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from exchange.agents.base import Abate, Action, Agent, Place
from exchange.agents.local import LocalMarket, LocalView, to_commands
from exchange.clock import ClockAction, day_schedule, trading_days
from matching.types import TradingState
from registry_sim.model import Account, AccountId, AccountKind, Project, UnitKind
from registry_sim.ops import (
    Assess,
    IssueAllowances,
    IssueOffsets,
    Op,
    OpenAccount,
    RecordEmissions,
    RegisterProject,
)
from registry_sim.outcomes import ComplianceRecord
from settlement import (
    CloseDay,
    Deposit,
    EndOfDay,
    Market,
    MarketCommand,
    MarketSpec,
    OpenDay,
    Outcome,
    RegistryCommand,
    SetSession,
)
from settlement.outcome import BlockDeal

YEAR = 2026
CEA = f"CEA{YEAR}"


def poisson(rng: random.Random, mean: float) -> int:
    limit = math.exp(-mean)
    k, p = 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class Harness:
    """A market, its accounts and a day loop for agents."""

    def __init__(
        self,
        instruments: tuple[tuple[str, int], ...] = ((CEA, 6_000),),
        overrides: Mapping[str, Any] | None = None,
        start: dt.date = dt.date(YEAR, 3, 2),
    ) -> None:
        spec = MarketSpec("agents", "cn_national", instruments, overrides=dict(overrides or {}))
        self.market = Market(spec)
        self.local = LocalMarket(self.market, YEAR)
        self.calendar = self.market.rules.calendar
        self.start = start
        self.ts = 0
        self.ids = 0
        self.orders = 0
        self.refusals: Counter[str] = Counter()
        self.trades: list[tuple[int, str, int, int]] = []  # (day index, symbol, price, qty)
        self.block_deals: list[BlockDeal] = []
        self.abated: dict[str, int] = {}
        self.days_run = 0
        # Called with each wake-up's view and actions before they are applied.
        self.check: Callable[[LocalView, list[Action]], None] | None = None

    # -- set-up

    def _next_ts(self) -> int:
        self.ts += 1
        return self.ts

    def _id(self) -> str:
        self.ids += 1
        return f"h-{self.ids}"

    def ok(self, command: MarketCommand) -> Outcome:
        outcome = self.local.apply(command)
        assert outcome.ok, (command, outcome.code, outcome.details)
        return outcome

    def registry(self, op: Op) -> Outcome:
        return self.ok(RegistryCommand(self._next_ts(), op))

    def account(self, name: str, kind: AccountKind = AccountKind.COVERED_ENTITY) -> str:
        account = Account(AccountId(name), kind, name, province="Hubei")
        self.registry(OpenAccount(self._id(), account))
        return name

    def deposit(self, name: str, amount_fen: int) -> None:
        self.ok(Deposit(self._next_ts(), AccountId(name), amount_fen, self._id()))

    def issue(self, name: str, qty_t: int, vintage: int = YEAR) -> None:
        self.registry(IssueAllowances(self._id(), AccountId(name), vintage, qty_t))

    def offsets(self, name: str, project_id: str, qty_t: int, vintage: int = YEAR) -> str:
        """Register a CCER project (eligible: registered after 2024-01-22) and issue units."""
        if not any(p.project_id == project_id for p in self.market.registry.projects()):
            project = Project(
                project_id,
                UnitKind.CCER,
                "forestry_sink",
                "Hubei",
                dt.date(2024, 3, 1),
                dt.date(2024, 6, 1),
                False,
            )
            self.registry(RegisterProject(self._id(), project))
        self.registry(IssueOffsets(self._id(), AccountId(name), project_id, vintage, qty_t))
        return f"CCER:{project_id}:{vintage}"

    # -- the day loop

    def apply_actions(self, agent: Agent, actions: Iterable[Action], ts_ns: int) -> None:
        for action in actions:
            if isinstance(action, Abate):
                self.abated[agent.account_id] = self.abated.get(agent.account_id, 0) + action.qty_t
                continue
            commands = to_commands(
                action, agent.account_id, ts_ns, op_id=self._id(), on=self.local.trading_day
            )
            for command in commands:
                outcome = self.local.apply(command)
                if isinstance(action, Place):
                    self.orders += 1
                if not outcome.ok:
                    assert outcome.code is not None
                    self.refusals[outcome.code] += 1
                for fill in outcome.fills:
                    t = fill.trade
                    self.trades.append((self.days_run, t.symbol, t.price_fen, t.qty_t))
                self.block_deals += outcome.block_deals

    def run(self, agents: Sequence[tuple[Agent, random.Random]], days: int) -> list[dt.date]:
        """Run ``days`` trading days from the next one; the days run."""
        first = self.start if self.days_run == 0 else self.local.trading_day + dt.timedelta(1)
        run = trading_days(self.calendar, first, first + dt.timedelta(days=days * 2 + 30))[:days]
        for i, day in enumerate(run):
            events = {e.action: e.ts_ns for e in day_schedule(self.calendar, day)}
            open_ns, close_ns = events[ClockAction.SESSION_OPEN], events[ClockAction.CLOSE]
            self.ok(OpenDay(events[ClockAction.PRE_OPEN], day))
            self.ok(SetSession(open_ns, TradingState.CONTINUOUS))
            self.local.start_day(day, len(run) - i)
            wakeups = []
            for index, (agent, rng) in enumerate(agents):
                for _ in range(poisson(rng, agent.wakeups_per_day)):
                    at = open_ns + int(rng.random() * (close_ns - open_ns - 1))
                    wakeups.append((at, index))
            wakeups.sort()
            for at, index in wakeups:
                agent, rng = agents[index]
                self.local.now_ns = at
                view = self.local.view(agent.account_id)
                actions = list(agent.act(view, rng))
                if self.check is not None:
                    self.check(view, actions)
                self.apply_actions(agent, actions, at)
            self.ok(CloseDay(close_ns))
            self.ok(EndOfDay(events[ClockAction.DAY_END]))
            self.days_run += 1
        return run

    def year_end(
        self, agents: list[tuple[Agent, random.Random]], baselines: dict[str, int]
    ) -> dict[str, ComplianceRecord]:
        """Abate, verify emissions, surrender, assess at the deadline: the records."""
        for agent, rng in agents:
            self.apply_actions(agent, agent.on_year_end(self.local.view(agent.account_id), rng), 0)
        for name, baseline in baselines.items():
            verified = baseline - self.abated.get(name, 0)
            self.registry(RecordEmissions(self._id(), AccountId(name), YEAR, verified))
        for agent, rng in agents:
            self.apply_actions(agent, agent.on_year_end(self.local.view(agent.account_id), rng), 0)
        deadline = self.market.rules.compliance.deadline(YEAR)
        price = self.market.engine.book_info(CEA).reference_price_fen
        records: dict[str, ComplianceRecord] = {}
        for name in baselines:
            done = self.registry(Assess(self._id(), AccountId(name), YEAR, price, deadline))
            records[name] = done.details["record"]
        return records
