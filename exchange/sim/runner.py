"""The headless discrete-event run of a scenario: agents trading a pure ``Market`` in process.

No database, no asyncio, no wall clock in what is decided: market time comes from the rule
set's calendar (``exchange.clock.day_schedule``) and randomness from seeds, so the same
scenario and seed give the same run, byte for byte, in any process.

Per compliance year Y (``run``):

1. (first year) open every account, deposit starting cash, register the CCER projects, record
   last year's emissions where allocation or the offset cap needs them, issue the agents'
   starting allowances;
2. allocate vintage Y by the scenario's method (fixed: ``IssueAllowances``; benchmark and
   intensity: ``PreAllocate`` now, the true-up after verification);
3. every trading day: scheduled events and CCER issuance at the open, then each continuous
   session with the agents' wake-ups. Every agent draws its wake-up times (a Poisson process at
   its rate) from its own ``Random``, seeded by (run seed, agent index); the wake-ups of all
   agents are merged by time and each one's actions are applied at once, so the next agent
   sees the book as it is;
4. year end, in two rounds of ``Agent.on_year_end``: the first before verification (firms
   abate; any surrender waits for step 5), then emissions are recorded (baseline − abatement,
   shocks included) and allocation trued up, the waiting surrenders applied, and a second
   round after verification (agents see their verified emissions and surrender the rest);
   then the assessment at the surrender deadline at the reference price (the volume-weighted
   price of the rule set's ``penalty.reference_window_days`` last trading days).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from exchange.agents.base import AGENT_KINDS, Abate, Action, Agent, Firm, Place, SurrenderUnits
from exchange.agents.firm import ComplianceFirm
from exchange.agents.local import LocalMarket, LocalView, to_commands
from exchange.clock import ClockAction, day_schedule, trading_days
from exchange.sim.scenario import (
    AgentPlan,
    FirmPlan,
    LoadedScenario,
    derived_seed,
    load_agent_kinds,
)
from matching.types import OrderType, TradingState
from registry_sim.allocation import (
    benchmark_allocation_t,
    final_allocation_t,
    intensity_allocation_t,
)
from registry_sim.model import Account, AccountId, AccountKind, Project, UnitKind
from registry_sim.ops import (
    AllocateByIntensity,
    Assess,
    IssueAllowances,
    IssueOffsets,
    Op,
    OpenAccount,
    PreAllocate,
    RecordEmissions,
    RegisterProject,
    TrueUpAllocation,
)
from registry_sim.rules import BP, RuleSet, load_rules
from settlement.commands import (
    CloseDay,
    Deposit,
    EndOfDay,
    MarketCommand,
    OpenDay,
    PlaceOrder,
    RegistryCommand,
    SetSession,
)
from settlement.market import Market
from settlement.outcome import Outcome
from settlement.spec import MarketSpec

Progress = Callable[[int, int, int], None]  # (trading days done, of total, orders so far)
LIMIT = OrderType.LIMIT
CONTINUOUS = TradingState.CONTINUOUS


class SimulationError(RuntimeError):
    """The scenario's set-up was refused by the market: a scenario the rules cannot host."""


@dataclass(slots=True)
class FirmYear:
    """What one firm did in one compliance year, for the compliance outcomes."""

    baseline_t: int
    allocated_t: int = 0
    abated_t: int = 0
    cea_bought_t: int = 0
    cea_bought_fen: int = 0
    cea_sold_t: int = 0
    cea_sold_fen: int = 0
    offsets_bought_t: int = 0
    offsets_bought_fen: int = 0
    offsets_sold_t: int = 0
    offsets_sold_fen: int = 0


TRADE_COLUMNS = (
    "trade_id",
    "ts_ns",
    "trading_day",
    "symbol",
    "price_fen",
    "qty_t",
    "buyer",
    "seller",
    "aggressor",
    "buy_fee_fen",
    "sell_fee_fen",
)


@dataclass
class RunResult:
    """Everything the outputs and the report need, as plain values."""

    scenario: LoadedScenario
    seed: int
    trades: dict[str, list[Any]]  # columns of TRADE_COLUMNS
    ohlcv: list[dict[str, Any]]
    holdings: list[dict[str, Any]]
    compliance: list[dict[str, Any]]
    events: list[dict[str, Any]]
    orders: int
    refusals: dict[str, int]
    wakeups: int
    trading_days: int
    state_hash: str
    wall_seconds: float
    cpu_seconds: float  # this process's CPU time: the machine may be shared
    final_prices: dict[str, int] = field(default_factory=dict)


class Simulation:
    """One run of a scenario with one seed. ``run()`` does it all and answers a RunResult."""

    def __init__(self, scenario: LoadedScenario, seed: int) -> None:
        load_agent_kinds(scenario.spec.plugins)
        self.scenario = scenario
        self.seed = seed
        spec = scenario.spec
        self.rules = scenario.rules
        self.calendar = self.rules.calendar
        self.years = scenario.years
        self.projects = [_project(p) for p in spec.ccer_projects]
        self.market_spec = MarketSpec(
            f"sim-{spec.name}",
            spec.rules.name,
            scenario_instruments(scenario),
            dict(scenario.overrides),
        )
        self.market = Market(self.market_spec, self.rules)
        self.local = LocalMarket(self.market, self.years[0])
        self.overrides: dict[str, Any] = dict(scenario.overrides)
        self.firms: dict[str, FirmPlan] = {f.account_id: f for f in scenario.firms}
        self.agents: list[Agent] = []
        self.views: list[LocalView] = []
        self.rngs: list[random.Random] = []
        self.wake_rngs: list[random.Random] = []
        self.cap_from_rules: list[int] = []  # firms given the rule set's offset cap
        for plan in scenario.agents:
            firm = (
                self.firms[plan.firm].as_firm(self.firms[plan.firm].baseline_t)
                if plan.firm
                else None
            )
            self.agents.append(self._build_agent(plan, firm))
            self.views.append(self.local.view(plan.account_id))
            self.rngs.append(random.Random(derived_seed(seed, "agent", plan.index)))
            self.wake_rngs.append(random.Random(derived_seed(seed, "wakeups", plan.index)))
        self.rates = [agent.wakeups_per_day for agent in self.agents]
        self.day_rng = random.Random(derived_seed(seed, "day_order"))
        # Outputs, filled as the run goes.
        self.trades: dict[str, list[Any]] = {c: [] for c in TRADE_COLUMNS}
        self.ohlcv: list[dict[str, Any]] = []
        self.holdings: list[dict[str, Any]] = []
        self.compliance: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.refusals: dict[str, int] = {}
        self.wakeups = 0
        self.days_done = 0
        self.year_rows: dict[str, FirmYear] = {}
        self.verified = False  # this year's emissions are recorded
        self.ref_window: list[tuple[int, int]] = []  # (volume, turnover) of recent CEA days
        self.year_schedule = self._schedule()
        self.total_days = sum(len(days) for days in self.year_schedule)
        self.day_events = self._place_events()
        self.ts_ns = 0

    # ------------------------------------------------------------------ set-up

    def _build_agent(self, plan: AgentPlan, firm: Firm | None) -> Agent:
        """One scenario agent, told what the scenario decides for it: its wake-up rate (a
        firm paces its buying by it) and, for a compliance firm under an obligation-based
        cap, the rule set's offset cap (national: CCER up to 5 % of the obligation), so it
        buys offsets during the year instead of only once emissions are verified. A
        previous-year basis is stated by the registry all year, so the firm reads it there."""
        cls = AGENT_KINDS[plan.kind]
        params = dict(plan.params)
        cap_bp = firm_offset_cap_bp(self.rules)
        if issubclass(cls, ComplianceFirm) and "offset_cap_bp" not in params and cap_bp is not None:
            params["offset_cap_bp"] = cap_bp
            self.cap_from_rules.append(len(self.agents))
        agent = cls(plan.account_id, firm, **params)
        if plan.wakeups_per_day is not None:
            agent.wakeups_per_day = plan.wakeups_per_day
        return agent

    def _schedule(self) -> list[list[dt.date]]:
        cal = self.scenario.spec.calendar
        out = []
        for i, year in enumerate(self.years):
            start = cal.start if i == 0 else dt.date(year, 1, 1)
            days = trading_days(self.calendar, start, dt.date(year, 12, 31))
            if cal.trading_days_per_year is not None:
                days = days[: cal.trading_days_per_year]
            if not days:
                raise SimulationError(f"no trading day in {year} from {start.isoformat()}")
            out.append(days)
        return out

    def _place_events(self) -> dict[int, list[Any]]:
        """Scheduled events by the run's trading-day number (1-based)."""
        flat = [d for days in self.year_schedule for d in days]
        out: dict[int, list[Any]] = {}
        for event in self.scenario.spec.events:
            if event.day is not None:
                number = event.day
            else:
                assert event.date is not None
                later = [i for i, d in enumerate(flat, 1) if d >= event.date]
                number = later[0] if later else len(flat) + 1
            out.setdefault(number, []).append(event)
        return out

    def _apply(self, command: MarketCommand, expect: bool = True) -> Outcome:
        outcome = self.local.apply(command)
        if outcome.code is not None and expect:
            raise SimulationError(
                f"{type(command).__name__} refused: {outcome.code} {dict(outcome.details)}"
            )
        return outcome

    def _op(self, op: Op, expect: bool = True) -> Outcome:
        return self._apply(RegistryCommand(self.ts_ns, op), expect)

    def _open_accounts(self) -> None:
        for command in opening_commands(self.scenario, self.ts_ns):
            self._apply(command)

    def _allocate_start(self, year: int, index: int) -> None:
        self.year_rows = {}
        for firm in self.scenario.firms:
            row = self.year_rows[firm.account_id] = FirmYear(firm.baseline_in(index))
            op = allocation_op(self.scenario, firm, year, index)
            if isinstance(op, IssueAllowances):
                self._op(op)
                row.allocated_t = op.qty_t
            elif op is not None:
                done = self._op(op)
                row.allocated_t = int(done.details.get("allocation_t", 0))
        self.verified = False
        self._refresh_firms()

    def expected_allocation_t(self, firm: FirmPlan, baseline_t: int) -> int:
        """The year's final allocation if emissions come out at ``baseline_t``, under a
        method with a true-up (benchmark, intensity: a fixed allocation is issued whole at the
        year's start, ``allocation_op``)."""
        allocation = self.scenario.spec.allocation
        if allocation.method == "intensity":
            return intensity_allocation_t(baseline_t, allocation.alpha_bp)
        benchmark = Fraction(allocation.benchmarks[firm.sector])
        by_benchmark = benchmark_allocation_t(
            firm.output, benchmark, tuple(Fraction(f) for f in allocation.factors)
        )
        return final_allocation_t(
            by_benchmark, baseline_t, gas_fired=firm.gas_fired, rules=self.rules.allocation
        )

    def _refresh_firms(self) -> None:
        """Give each firm agent this year's baseline (after any shock) and the allowances it
        can expect from the true-up on top of what it was allocated so far."""
        for agent, plan in zip(self.agents, self.scenario.agents, strict=True):
            if plan.firm is not None:
                firm = self.firms[plan.firm]
                row = self.year_rows[plan.firm]
                due = 0
                # Only benchmark and intensity allocation are trued up after verification; a
                # fixed allocation was issued whole at the year's start, shock or no shock.
                if not self.verified and self.scenario.spec.allocation.method != "fixed":
                    expected = self.expected_allocation_t(firm, row.baseline_t)
                    due = max(0, expected - row.allocated_t)
                agent.firm = firm.as_firm(row.baseline_t, due)

    # ------------------------------------------------------------------ the run

    def run(self, progress: Progress | None = None) -> RunResult:
        started, cpu_started = time.perf_counter(), time.process_time()
        first_day = self.year_schedule[0][0]
        self.ts_ns = day_schedule(self.calendar, first_day)[0].ts_ns
        self._open_accounts()
        day_number = 0
        for index, (year, days) in enumerate(zip(self.years, self.year_schedule, strict=True)):
            self.ts_ns = day_schedule(self.calendar, days[0])[0].ts_ns
            self._allocate_start(year, index)
            for day_in_year, day in enumerate(days, 1):
                day_number += 1
                self._trading_day(year, day, day_in_year, day_number, len(days) - day_in_year + 1)
                if progress is not None:
                    progress(self.days_done, self.total_days, self.market.next_order_id)
            self._year_end(year, days[-1])
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        return RunResult(
            scenario=self.scenario,
            seed=self.seed,
            trades=self.trades,
            ohlcv=self.ohlcv,
            holdings=self.holdings,
            compliance=self.compliance,
            events=self.events,
            orders=self.market.next_order_id,
            refusals=dict(sorted(self.refusals.items())),
            wakeups=self.wakeups,
            trading_days=self.days_done,
            state_hash=self.market.state_hash(),
            wall_seconds=wall,
            cpu_seconds=cpu,
            final_prices=self._final_prices(),
        )

    def _final_prices(self) -> dict[str, int]:
        return {
            symbol: self.market.engine.book_info(symbol).reference_price_fen
            for symbol in self.market.instruments
        }

    def _trading_day(
        self, year: int, day: dt.date, day_in_year: int, day_number: int, days_left: int
    ) -> None:
        schedule = day_schedule(self.calendar, day)
        self.ts_ns = schedule[0].ts_ns
        self.local.start_day(day, days_left, year)
        self.local.now_ns = self.ts_ns
        self._apply(OpenDay(self.ts_ns, day))
        for event in self.day_events.get(day_number, ()):
            self._event(event, year, day)
        self._issue_offsets(year, day_in_year, day)
        sessions = []
        opened_at = None
        for event in schedule:
            if event.action is ClockAction.SESSION_OPEN:
                opened_at = event.ts_ns
            elif event.action in (ClockAction.SESSION_BREAK, ClockAction.CLOSE):
                assert opened_at is not None
                sessions.append((opened_at, event.ts_ns))
        total_ns = sum(close - open_ for open_, close in sessions)
        for i, (open_ns, close_ns) in enumerate(sessions):
            self.ts_ns = open_ns
            self._apply(SetSession(open_ns, CONTINUOUS))
            if i == 0:
                self._day_open(open_ns)
            self._session(open_ns, close_ns, (close_ns - open_ns) / total_ns)
            self.ts_ns = close_ns
            if i < len(sessions) - 1:
                self._apply(SetSession(close_ns, TradingState.BREAK))
        self._apply(CloseDay(self.ts_ns))
        self.ts_ns = schedule[-1].ts_ns
        outcome = self._apply(EndOfDay(self.ts_ns))
        self._end_of_day(day, outcome)
        self.days_done += 1

    def _day_open(self, ts_ns: int) -> None:
        order = list(range(len(self.agents)))
        self.day_rng.shuffle(order)
        self.local.now_ns = ts_ns
        for i in order:
            self._act(i, ts_ns, self.agents[i].on_day_open(self.views[i], self.rngs[i]))

    def _session(self, open_ns: int, close_ns: int, share: float) -> None:
        """Every agent's wake-ups in one continuous session, merged by time."""
        length = close_ns - open_ns
        wakes: list[tuple[int, int]] = []
        add = wakes.append
        for i, rate in enumerate(self.rates):
            expected = rate * share
            if expected <= 0:
                continue
            draw = self.wake_rngs[i].expovariate
            per_ns = expected / length
            t = open_ns + draw(per_ns)
            while t < close_ns:
                add((int(t), i))
                t += draw(per_ns)
        wakes.sort()  # by time, then agent index: a total order, the same in every process
        local = self.local
        agents, views, rngs, act = self.agents, self.views, self.rngs, self._act
        for ts_ns, i in wakes:
            local.now_ns = ts_ns
            act(i, ts_ns, agents[i].act(views[i], rngs[i]))
        self.wakeups += len(wakes)

    def _act(self, i: int, ts_ns: int, actions: Iterable[Action]) -> None:
        """Apply one wake-up's actions at once (the hot path: one PlaceOrder per order)."""
        account = self.views[i].account_id
        for action in actions:
            if type(action) is Place:
                command: MarketCommand = PlaceOrder(
                    ts_ns,
                    account,  # type: ignore[arg-type]
                    action.symbol,
                    action.side,
                    action.order_type,
                    action.qty_t,
                    action.price_fen,
                )
                self._record(self.local.apply(command))
            elif isinstance(action, SurrenderUnits | Abate):
                continue  # only at the year end
            else:
                for command in to_commands(action, account, ts_ns):
                    self._record(self.local.apply(command))

    def _record(self, outcome: Outcome) -> None:
        code = outcome.code
        if code is not None:
            self.refusals[code] = self.refusals.get(code, 0) + 1
            return
        fills = outcome.fills
        if fills:
            day = self.local.trading_day.isoformat()
            t = self.trades
            for fill in fills:
                trade = fill.trade
                t["trade_id"].append(trade.trade_id)
                t["ts_ns"].append(trade.ts_ns)
                t["trading_day"].append(day)
                t["symbol"].append(trade.symbol)
                t["price_fen"].append(trade.price_fen)
                t["qty_t"].append(trade.qty_t)
                t["buyer"].append(trade.buy_account_id)
                t["seller"].append(trade.sell_account_id)
                t["aggressor"].append(trade.aggressor.value)
                t["buy_fee_fen"].append(fill.buy_fee_fen)
                t["sell_fee_fen"].append(fill.sell_fee_fen)

    def _end_of_day(self, day: dt.date, outcome: Outcome) -> None:
        """The day's bars, and each firm's purchases and sales from the day book."""
        for close in outcome.closes:
            self.ohlcv.append(
                {
                    "trading_day": day.isoformat(),
                    "symbol": close.symbol,
                    "open_fen": close.open_fen,
                    "high_fen": close.high_fen,
                    "low_fen": close.low_fen,
                    "close_fen": close.close_fen,
                    "volume_t": close.volume_t,
                    "turnover_fen": close.turnover_fen,
                    "close_method": close.method,
                }
            )
        cea = [c for c in outcome.closes if c.symbol.startswith("CEA")]
        self.ref_window.append((sum(c.volume_t for c in cea), sum(c.turnover_fen for c in cea)))
        del self.ref_window[: -self.rules.penalty.reference_window_days]
        rows = self.year_rows
        for account, symbols in self.market.day_book.accounts.items():
            row = rows.get(account)
            if row is None:
                continue
            for symbol, (bought_t, bought_fen, sold_t, sold_fen) in symbols.items():
                if symbol.startswith("CEA"):
                    row.cea_bought_t += bought_t
                    row.cea_bought_fen += bought_fen
                    row.cea_sold_t += sold_t
                    row.cea_sold_fen += sold_fen
                else:
                    row.offsets_bought_t += bought_t
                    row.offsets_bought_fen += bought_fen
                    row.offsets_sold_t += sold_t
                    row.offsets_sold_fen += sold_fen

    # ------------------------------------------------------------------ events and supply

    def _event(self, event: Any, year: int, day: dt.date) -> None:
        detail = ""
        if event.kind == "news":
            detail = event.text
        elif event.kind == "emission_shock":
            hit = [
                f
                for f in self.scenario.firms
                if (event.firms is None or f.account_id in event.firms)
                and (event.sector is None or f.sector == event.sector)
            ]
            for firm in hit:
                row = self.year_rows[firm.account_id]
                row.baseline_t = row.baseline_t * (BP + event.change_bp) // BP
            self._refresh_firms()
            detail = f"{len(hit)} firms' emissions {event.change_bp:+d} bp. {event.text}".strip()
        else:
            self.overrides = _merge(self.overrides, event.overrides)
            rules = load_rules(self.rules.name, self.overrides)
            self.rules = rules
            self.market.rules = rules
            self.market.registry.rules = rules
            for i in self.cap_from_rules:  # a changed cap reaches the firms that use it
                agent = self.agents[i]
                assert isinstance(agent, ComplianceFirm)
                agent.offset_cap_bp = firm_offset_cap_bp(rules)
            detail = f"rules changed: {_flat(event.overrides)}. {event.text}".strip()
        self.events.append(
            {"trading_day": day.isoformat(), "year": year, "kind": event.kind, "detail": detail}
        )

    def _issue_offsets(self, year: int, day_in_year: int, day: dt.date) -> None:
        for op in offset_issuance_ops(self.scenario, year, day_in_year):
            self._op(op)
            self.events.append(
                {
                    "trading_day": day.isoformat(),
                    "year": year,
                    "kind": "ccer_issuance",
                    "detail": f"{op.project_id}: {op.qty_t} t to {op.account_id}",
                }
            )

    # ------------------------------------------------------------------ the year end

    def _year_end(self, year: int, last_day: dt.date) -> None:
        self.ts_ns += 1
        self.local.now_ns = self.ts_ns
        self.local.trading_days_left = 0
        waiting: list[tuple[int, SurrenderUnits]] = []
        for i, agent in enumerate(self.agents):
            for action in agent.on_year_end(self.views[i], self.rngs[i]):
                if isinstance(action, Abate):
                    self._abate(i, action, year)
                elif isinstance(action, SurrenderUnits):
                    waiting.append((i, action))
        self._verify(year)
        for i, action in waiting:
            self._surrender(i, action, last_day, "a")
        for i, agent in enumerate(self.agents):
            for action in agent.on_year_end(self.views[i], self.rngs[i]):
                if isinstance(action, SurrenderUnits):
                    self._surrender(i, action, last_day, "b")
        self._holdings(year)
        self._assess(year)

    def _abate(self, i: int, action: Abate, year: int) -> None:
        account = self.scenario.agents[i].firm
        if account is None or action.year != year or action.qty_t <= 0:
            self.refusals["ABATE_NOT_ALLOWED"] = self.refusals.get("ABATE_NOT_ALLOWED", 0) + 1
            return
        row = self.year_rows[account]
        most = min(self.firms[account].curve.max_t, row.baseline_t)
        row.abated_t = min(most, row.abated_t + action.qty_t)

    def _verify(self, year: int) -> None:
        for firm in self.scenario.firms:
            row = self.year_rows[firm.account_id]
            record, *true_up = verification_ops(
                self.scenario, firm, year, row.baseline_t - row.abated_t
            )
            self._op(record)
            for op in true_up:
                done = self._op(op)
                row.allocated_t = int(done.details.get("final_t", row.allocated_t))
        self.verified = True
        self._refresh_firms()

    def _surrender(self, i: int, action: SurrenderUnits, on: dt.date, round_: str) -> None:
        account = self.views[i].account_id
        op_id = f"surrender:{account}:{action.year}:{round_}"
        for command in to_commands(action, account, self.ts_ns, op_id=op_id, on=on):
            self._record(self.local.apply(command))

    def _reference_price(self, year: int) -> int:
        volume = sum(v for v, _ in self.ref_window)
        if volume:
            return max(1, round(sum(t for _, t in self.ref_window) / volume))
        return self.market.engine.book_info(f"CEA{year}").reference_price_fen

    def _assess(self, year: int) -> None:
        price = self._reference_price(year)
        deadline = self.rules.compliance.deadline(year)
        registry = self.market.registry
        for firm in self.scenario.firms:
            status = registry.compliance_status(_id(firm), year)
            done = self._op(
                Assess(f"assess:{firm.account_id}:{year}", _id(firm), year, price, deadline)
            )
            record = done.details["record"]
            row = self.year_rows[firm.account_id]
            self.compliance.append(
                {
                    "year": year,
                    "account_id": firm.account_id,
                    "sector": firm.sector,
                    "province": firm.province,
                    "baseline_t": row.baseline_t,
                    "abated_t": row.abated_t,
                    "abatement_cost_fen": firm.curve.cost_fen(row.abated_t),
                    "verified_t": record.obligation_t,
                    "allocated_t": row.allocated_t,
                    "cea_bought_t": row.cea_bought_t,
                    "cea_bought_fen": row.cea_bought_fen,
                    "cea_sold_t": row.cea_sold_t,
                    "cea_sold_fen": row.cea_sold_fen,
                    "offsets_bought_t": row.offsets_bought_t,
                    "offsets_bought_fen": row.offsets_bought_fen,
                    "offsets_sold_t": row.offsets_sold_t,
                    "surrendered_cea_t": record.allowances_t,
                    "surrendered_offsets_t": record.offsets_t,
                    "offset_cap_t": status.offset_cap_t or 0,
                    "shortfall_t": record.shortfall_t,
                    "penalty_fen": record.penalty_fen,
                    "reference_price_fen": price,
                    "complied": record.shortfall_t == 0,
                }
            )

    def _holdings(self, year: int) -> None:
        """Every trading account's cash and units at the year end, after surrender."""
        traders = {f.account_id for f in self.scenario.firms}
        traders.update(a.account_id for a in self.scenario.agents)
        traders.update(self.scenario.seats)
        rows = [
            (account, "CNY", state.value, amount)
            for (account, state), amount in self.market.cash.balances().items()
            if account in traders
        ]
        rows += [
            (account, unit, state.value, amount)
            for (account, unit, state), amount in self.market.registry.ledger.balances().items()
            if account in traders
        ]
        for account, asset, state, amount in sorted(rows):
            self.holdings.append(
                {
                    "year": year,
                    "account_id": account,
                    "asset": asset,
                    "state": state,
                    "amount": amount,
                }
            )


def firm_offset_cap_bp(rules: RuleSet) -> int | None:
    """The offset cap a compliance firm is told (``ComplianceFirm.offset_cap_bp``): the rule
    set's share when it is a share of the obligation, else None (the registry states a
    previous-year cap all year)."""
    compliance = rules.compliance
    return compliance.offset_cap_bp if compliance.offset_cap_basis == "obligation" else None


def _id(firm: FirmPlan) -> AccountId:
    return AccountId(firm.account_id)


# ---------------------------------------------------------------------- a scenario as commands
# What sets a scenario's market up, as commands: the headless run applies them to its pure
# market, a class market (exchange.classroom.setup) submits them to its runtime.


def scenario_instruments(scenario: LoadedScenario) -> tuple[tuple[str, int], ...]:
    """(symbol, first reference price) of every instrument a scenario lists: each simulated
    year's CEA vintage, then each CCER project's vintage."""
    market = scenario.spec.market
    instruments = [(f"CEA{y}", market.reference_price_fen) for y in scenario.years]
    ccer_price = market.ccer_reference_price_fen or market.reference_price_fen
    for p in scenario.spec.ccer_projects:
        instruments.append((f"{p.kind}:{p.id}:{p.vintage}", p.reference_price_fen or ccer_price))
    return tuple(instruments)


def opening_commands(scenario: LoadedScenario, ts_ns: int) -> list[MarketCommand]:
    """Before the first year: open every account (firms as covered entities, agents and seats
    as participants) with its starting cash, register the CCER projects, record last year's
    emissions where allocation or the offset cap needs them, issue the starting allowances."""
    out: list[MarketCommand] = []

    def op(registry_op: Op) -> None:
        out.append(RegistryCommand(ts_ns, registry_op))

    for firm in scenario.firms:
        account = Account(
            AccountId(firm.account_id),
            AccountKind.COVERED_ENTITY,
            firm.account_id,
            firm.sector,
            firm.province,
            firm.gas_fired,
        )
        op(OpenAccount(f"open:{firm.account_id}", account))
        if firm.cash_fen:
            out.append(Deposit(ts_ns, account.account_id, firm.cash_fen, "start"))
    others = [(a.account_id, a.cash_fen) for a in scenario.agents if a.firm is None]
    seats = scenario.spec.seats
    others += [(s, seats.cash_fen if seats else 0) for s in scenario.seats]
    for account_id, cash in others:
        account = Account(AccountId(account_id), AccountKind.PARTICIPANT, account_id)
        op(OpenAccount(f"open:{account_id}", account))
        if cash:
            out.append(Deposit(ts_ns, account.account_id, cash, "start"))
    for p in scenario.spec.ccer_projects:
        op(RegisterProject(f"project:{p.id}", _project(p)))
    first = scenario.years[0]
    needs_history = (
        scenario.spec.allocation.method != "fixed"
        or scenario.rules.compliance.offset_cap_basis == "previous_year_emissions"
    )
    if needs_history:  # last year's verified emissions: the pre-allocation's basis
        for firm in scenario.firms:
            history = firm.baseline_t * BP // (BP + firm.growth_bp)
            op(RecordEmissions(f"history:{firm.account_id}", _id(firm), first - 1, history))
    starting = [(a.account_id, a.allowances_t) for a in scenario.agents if a.firm is None]
    starting += [(s, seats.allowances_t if seats else 0) for s in scenario.seats]
    for account_id, qty in starting:
        if qty:
            op(IssueAllowances(f"start:{account_id}", AccountId(account_id), first, qty))
    return out


def offset_issuance_ops(
    scenario: LoadedScenario, year: int, day_in_year: int | None = None
) -> list[IssueOffsets]:
    """The CCER issuance of compliance year ``year`` scheduled for its ``day_in_year``-th
    trading day (1 = the first), or for any day of the year when it is None."""
    return [
        IssueOffsets(f"ccer:{p.id}:{year}:{k}", AccountId(p.owner), p.id, p.vintage, issue.qty_t)
        for p in scenario.spec.ccer_projects
        for k, issue in enumerate(p.issuance)
        if day_in_year in (None, issue.day) and issue.year in (None, year)
    ]


def allocation_op(scenario: LoadedScenario, firm: FirmPlan, year: int, index: int) -> Op | None:
    """A firm's allocation of vintage ``year`` (the ``index``-th simulated year) at the year's
    start, by the scenario's method: fixed issues it (None when it is 0), benchmark and
    intensity pre-allocate (the true-up follows verification: ``verification_ops``)."""
    allocation = scenario.spec.allocation
    if allocation.method != "fixed":
        return PreAllocate(f"pre:{firm.account_id}:{year}", _id(firm), year)
    share = allocation.share_bp or 0
    baseline = firm.baseline_in(index)
    amount = firm.allocation_t if firm.allocation_t is not None else baseline * share // BP
    if not amount:
        return None
    return IssueAllowances(f"alloc:{firm.account_id}:{year}", _id(firm), year, amount)


def verification_ops(
    scenario: LoadedScenario, firm: FirmPlan, year: int, verified_t: int
) -> list[Op]:
    """A firm's verified emissions for ``year``, then its allocation's true-up where the
    scenario's method has one (benchmark, intensity)."""
    allocation = scenario.spec.allocation
    ops: list[Op] = [
        RecordEmissions(f"emissions:{firm.account_id}:{year}", _id(firm), year, verified_t)
    ]
    if allocation.method == "benchmark":
        ops.append(
            TrueUpAllocation(
                f"trueup:{firm.account_id}:{year}",
                _id(firm),
                year,
                firm.output,
                allocation.benchmarks[firm.sector],
                tuple(allocation.factors),
            )
        )
    elif allocation.method == "intensity":
        ops.append(
            AllocateByIntensity(
                f"trueup:{firm.account_id}:{year}", _id(firm), year, allocation.alpha_bp
            )
        )
    return ops


def _project(p: Any) -> Project:
    return Project(
        p.id, UnitKind(p.kind), p.methodology, p.province, p.start, p.registered, p.inside_ets_scope
    )


def _merge(base: dict[str, Any], more: Any) -> dict[str, Any]:
    out = dict(base)
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _flat(overrides: Any, prefix: str = "") -> str:
    parts = []
    for key, value in overrides.items():
        if isinstance(value, dict):
            parts.append(_flat(value, f"{prefix}{key}."))
        else:
            parts.append(f"{prefix}{key}={value}")
    return ", ".join(parts)


def simulate(scenario: LoadedScenario, seed: int, progress: Progress | None = None) -> RunResult:
    """Run ``scenario`` with ``seed`` (see the module's docstring)."""
    return Simulation(scenario, seed).run(progress)
