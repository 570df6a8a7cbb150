"""A class market's bots: the scenario's agents, trading live and deciding at the year end.

During trading the scenario's agents run as ``exchange.agents.live.LiveBots`` on the class's
runtime, paced so that one trading day of their wake-ups takes the wall time the scenario's
clock speed gives a trading day. Their views read the class's compliance year and the trading
days left in the scenario's year (``ClassLiveMarket``), not the calendar's, since a class
squeezes a compliance year into a few days.

At the year end the compliance firms decide as in the headless run (``Agent.on_year_end``):
before verification how much to abate, after it what to surrender. A fresh agent is asked,
built from the scenario and reading the live market, so the answer depends on the market's
state only (not on which bots ran, or on a restart).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass

from exchange.agents.base import AGENT_KINDS, Action, Agent, Firm
from exchange.agents.firm import ComplianceFirm
from exchange.agents.live import BotSpec, LiveBots, LiveMarket
from exchange.clock import NS_PER_S, ClockAction, day_schedule
from exchange.runtime import MarketRuntime
from exchange.sim.scenario import AgentPlan, LoadedScenario, derived_seed
from exchange.sim.setup import firm_offset_cap_bp
from registry_sim.rules import RuleSet


@dataclass(frozen=True, slots=True)
class ScenarioBotSpec(BotSpec):
    """A ``BotSpec`` whose agent may be a covered firm's: built with the firm's profile."""

    firm: Firm | None = None

    def build(self) -> Agent:
        agent = AGENT_KINDS[self.kind](self.account_id, self.firm, **dict(self.params))
        if self.wakeups_per_day is not None:
            agent.wakeups_per_day = self.wakeups_per_day
        return agent


def bot_spec(plan: AgentPlan, firm: Firm | None, rules: RuleSet) -> ScenarioBotSpec:
    """One scenario agent as a bot. A compliance firm under an obligation-based offset cap is
    told the rule set's cap, as the headless run tells it (docs/rules.md, national: offset cap)."""
    params = dict(plan.params)
    cap_bp = firm_offset_cap_bp(rules)
    firm_agent = issubclass(AGENT_KINDS[plan.kind], ComplianceFirm)
    if firm_agent and cap_bp is not None and "offset_cap_bp" not in params:
        params["offset_cap_bp"] = cap_bp
    return ScenarioBotSpec(
        plan.kind, plan.account_id, params, plan.wakeups_per_day, plan.cash_fen, 0, firm
    )


class ClassLiveMarket(LiveMarket):
    """The bots' market with the class's compliance year and the trading days left in the
    scenario's schedule of that year (at least 1)."""

    __slots__ = ("_class_days", "_class_year")

    def __init__(self, runtime: MarketRuntime, year: int, days: Iterable[dt.date]) -> None:
        super().__init__(runtime)
        self._class_year = year
        self._class_days = sorted(days)
        self.compliance_year = year

    def refresh(self, now_ns: int) -> None:
        super().refresh(now_ns)
        self.compliance_year = self._class_year
        today = self.market.trading_day or self.trading_day
        self.trading_days_left = max(1, sum(1 for d in self._class_days if d >= today))

    def year_view(self, now_ns: int) -> ClassLiveMarket:
        """Refreshed to now, for a year-end decision."""
        self.refresh(now_ns)
        return self


def wall_day_s(scenario: LoadedScenario, day: dt.date) -> float:
    """Wall seconds of one trading day's sessions at the scenario's clock speed."""
    events = day_schedule(scenario.rules.calendar, day)
    opens = [e.ts_ns for e in events if e.action is ClockAction.SESSION_OPEN]
    ends = [e.ts_ns for e in events if e.action in (ClockAction.SESSION_BREAK, ClockAction.CLOSE)]
    trading_ns = sum(end - start for start, end in zip(opens, ends, strict=False))
    return max(1.0, trading_ns / NS_PER_S / scenario.spec.calendar.clock_speed)


def start_bots(
    runtime: MarketRuntime,
    specs: list[ScenarioBotSpec],
    scenario: LoadedScenario,
    seed: int,
    year: int,
    days: list[dt.date],
) -> LiveBots:
    """Start the scenario's agents as live bots on the class's runtime."""
    first = days[0] if days else scenario.spec.calendar.start
    bots = LiveBots(
        runtime, specs, day_s=wall_day_s(scenario, first), seed=derived_seed(seed, "live")
    )
    bots.live = ClassLiveMarket(runtime, year, days)
    bots.start()
    return bots


def year_end_actions(
    spec: ScenarioBotSpec, runtime: MarketRuntime, year: int, days: list[dt.date]
) -> list[Action]:
    """What a fresh agent of ``spec`` does at the year end, reading the market now (before
    verification: abate; after: surrender)."""
    agent = spec.build()
    live = ClassLiveMarket(runtime, year, days)
    view = live.year_view(runtime.last_ts_ns).view(spec.account_id)
    rng = random.Random(derived_seed(0, "year_end", spec.account_id, year))
    return list(agent.on_year_end(view, rng))
