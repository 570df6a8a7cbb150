"""The headless discrete-event run of a scenario: agents trading a pure ``Market`` in process.

No database, no asyncio, no wall clock in what is decided: market time comes from the rule
set's calendar (``exchange.clock.day_schedule``) and randomness from seeds, so the same
scenario and seed give the same run, byte for byte, in any process.

Per compliance year Y (``run``):

1. (first year) open every account, deposit starting cash, register the CCER projects, record
   last year's emissions where allocation or the offset cap needs them, issue the agents'
   starting allowances;
2. allocate vintage Y by the scenario's method (fixed: ``AllocateFixed``; benchmark and
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
   then the assessment at the surrender deadline at the penalty reference price. The year's
   end is ``exchange.compliance_year``'s, which a class runs too; the set-up commands are
   ``exchange.sim.setup``'s.
"""

from __future__ import annotations

import datetime as dt
import gc
import random
import time
from collections.abc import Callable, Iterable
from math import log
from typing import Any

from exchange import compliance_year
from exchange.agents.base import (
    AGENT_KINDS,
    Abate,
    Action,
    Agent,
    Cancel,
    Firm,
    Place,
    SurrenderUnits,
)
from exchange.agents.firm import ComplianceFirm
from exchange.agents.local import LocalMarket, LocalView, to_commands
from exchange.clock import ClockAction, day_schedule
from exchange.sim import mrv_data
from exchange.sim.record import FirmYear, Recorder, RunResult
from exchange.sim.scenario import (
    AgentPlan,
    AuctionSpec,
    FirmPlan,
    LoadedScenario,
    derived_seed,
    load_agent_kinds,
)
from exchange.sim.schedule import (
    SimulationError,
    flat,
    merged,
    place_events,
    shocked_firms,
    year_schedule,
)
from exchange.sim.setup import (
    AUCTIONEER,
    account_of,
    allocation_op,
    auctioned_t,
    expected_allocation_t,
    firm_offset_cap_bp,
    offset_issuance_ops,
    opening_commands,
    scenario_instruments,
)
from matching.types import OrderType, TradingState
from registry_sim.model import AccountId
from registry_sim.ops import (
    IssueAllowances,
    Op,
)
from registry_sim.rules import BP, load_rules
from settlement.auction import msr_change, rule_reserve_price, spread
from settlement.commands import (
    CancelOrder,
    CloseAuction,
    CloseDay,
    EndOfDay,
    MarketCommand,
    OpenDay,
    PlaceOrder,
    PublishAuction,
    RegistryCommand,
    SetSession,
)
from settlement.market import Market
from settlement.outcome import Outcome
from settlement.spec import MarketSpec

Progress = Callable[[int, int, int], None]  # (trading days done, of total, orders so far)
LIMIT = OrderType.LIMIT
CONTINUOUS = TradingState.CONTINUOUS


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
        self.market_spec = MarketSpec(
            f"sim-{spec.name}",
            spec.rules.name,
            scenario_instruments(scenario),
            dict(scenario.overrides),
        )
        self.market = Market(self.market_spec, self.rules)
        self.market.statements = False  # day-end statements: no output reads them
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
        self.accounts = [AccountId(view.account_id) for view in self.views]
        self.day_rng = random.Random(derived_seed(seed, "day_order"))
        # Outputs, filled as the run goes.
        self.out = Recorder()
        self._record = self.out.record  # the hot path: one bound method, looked up once
        self.wakeups = 0
        self.days_done = 0
        self.verified = False  # this year's emissions are recorded
        self.year_schedule = year_schedule(scenario)
        self.total_days = sum(len(days) for days in self.year_schedule)
        self.day_events = place_events(scenario, self.year_schedule)
        self.ts_ns = 0
        # Unsold auction volume owed to the year's next auctions (rule set: next_auctions).
        self.carried: list[int] = []
        # The year's auctions: each one's volume (after the reserve's change), the auctions
        # to publish on each trading day of the year, and those to close on each.
        self.volumes: list[int] = []
        self.notices: dict[int, list[int]] = {}
        self.closing: dict[int, list[tuple[int, int | None]]] = {}
        # The Market Stability Reserve (rule set's [msr]): what it holds, and the tonnes
        # next year's auctions give up to it (positive) or take from it (negative).
        self.msr_held_t = 0
        self.msr_change_t = 0

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
        rows = self.out.year_rows = {}
        for firm in self.scenario.firms:
            row = rows[firm.account_id] = FirmYear(firm.baseline_in(index))
            op = allocation_op(self.scenario, firm, year, index)
            if op is not None:
                done = self._op(op)
                row.allocated_t = int(done.details.get("allocation_t", 0))
        self.verified = False
        self._refresh_firms()

    def _refresh_firms(self) -> None:
        """Give each firm agent this year's baseline (after any shock) and the allowances it
        can expect from the true-up on top of what it was allocated so far."""
        for agent, plan in zip(self.agents, self.scenario.agents, strict=True):
            if plan.firm is not None:
                firm = self.firms[plan.firm]
                row = self.out.year_rows[plan.firm]
                due = 0
                # Only benchmark and intensity allocation are trued up after verification; a
                # fixed allocation was issued whole at the year's start, shock or no shock.
                if not self.verified and self.scenario.spec.allocation.method != "fixed":
                    expected = expected_allocation_t(
                        self.scenario, firm, row.baseline_t, self.rules.allocation
                    )
                    due = max(0, expected - row.allocated_t)
                agent.firm = firm.as_firm(row.baseline_t, due)

    # ------------------------------------------------------------------ the run

    def run(self, progress: Progress | None = None) -> RunResult:
        """The whole run, with Python's cyclic garbage collector paused (restored after).

        A full year holds millions of live objects (resting orders, ledgers, the trade tape)
        and makes almost no reference cycles: the collector found about 3,000 cyclic objects
        in a whole ``national_power`` run, yet its full passes over the growing heap cost
        about a sixth of the run's CPU. Reference counting still frees everything else as it
        goes; one collection at the end takes what cycles there were."""
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._run(progress)
        finally:
            if enabled:
                gc.enable()
            gc.collect()

    def _run(self, progress: Progress | None) -> RunResult:
        started, cpu_started = time.perf_counter(), time.process_time()
        first_day = self.year_schedule[0][0]
        self.ts_ns = day_schedule(self.calendar, first_day)[0].ts_ns
        self._open_accounts()
        day_number = 0
        for index, (year, days) in enumerate(zip(self.years, self.year_schedule, strict=True)):
            self.ts_ns = day_schedule(self.calendar, days[0])[0].ts_ns
            self.carried = []  # a year's allowances are re-offered in that year's auctions
            self._plan_auctions(index, len(days))
            self._allocate_start(year, index)
            for day_in_year, day in enumerate(days, 1):
                day_number += 1
                days_left = len(days) - day_in_year + 1
                self._trading_day(year, days, day, day_in_year, day_number, days_left)
                if progress is not None:
                    progress(self.days_done, self.total_days, self.market.next_order_id)
            self._year_end(year, days[-1])
        mrv = None
        if self.scenario.spec.mrv.generate:  # its own seeded draws: nothing above changes
            mrv = mrv_data.generate(self.scenario, self.seed, self.out.compliance)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        return RunResult(
            scenario=self.scenario,
            seed=self.seed,
            trades=self.out.trades,
            ohlcv=self.out.ohlcv,
            holdings=self.out.holdings,
            compliance=self.out.compliance,
            events=self.out.events,
            orders=self.market.next_order_id,
            refusals=dict(sorted(self.out.refusals.items())),
            wakeups=self.wakeups,
            trading_days=self.days_done,
            state_hash=self.market.state_hash(),
            wall_seconds=wall,
            cpu_seconds=cpu,
            final_prices=self._final_prices(),
            auctions=self.out.auctions,
            msr=self.out.msr,
            mrv=mrv,
        )

    def _final_prices(self) -> dict[str, int]:
        return {
            symbol: self.market.engine.book_info(symbol).reference_price_fen
            for symbol in self.market.instruments
        }

    def _trading_day(
        self,
        year: int,
        days: list[dt.date],
        day: dt.date,
        day_in_year: int,
        day_number: int,
        days_left: int,
    ) -> None:
        schedule = day_schedule(self.calendar, day)
        self.ts_ns = schedule[0].ts_ns
        self.local.start_day(day, days_left, year)
        self.out.day = day.isoformat()
        self.local.now_ns = self.ts_ns
        self._apply(OpenDay(self.ts_ns, day))
        for event in self.day_events.get(day_number, ()):
            self._event(event, year, day)
        self._issue_offsets(year, day_in_year, day)
        sessions = self._sessions(day)
        total_ns = sum(close - open_ for open_, close in sessions)
        for i, (open_ns, close_ns) in enumerate(sessions):
            self.ts_ns = open_ns
            self._apply(SetSession(open_ns, CONTINUOUS))
            if i == 0:
                self._publish_auctions(year, days, day_in_year, open_ns)
                self._day_open(open_ns)
            self._session(open_ns, close_ns, (close_ns - open_ns) / total_ns)
            self.ts_ns = close_ns
            for auction_id, reserve in self.closing.pop(day_in_year, []) if i == 0 else ():
                self._close_auction(auction_id, reserve, year, day)
            if i < len(sessions) - 1:
                self._apply(SetSession(close_ns, TradingState.BREAK))
        self._apply(CloseDay(self.ts_ns))
        self.ts_ns = schedule[-1].ts_ns
        outcome = self._apply(EndOfDay(self.ts_ns))
        self.out.end_of_day(day, outcome, self.market)
        self.days_done += 1

    def _sessions(self, day: dt.date) -> list[tuple[int, int]]:
        """The (open, close) times of a trading day's continuous sessions."""
        sessions = []
        opened_at = None
        for event in day_schedule(self.calendar, day):
            if event.action is ClockAction.SESSION_OPEN:
                opened_at = event.ts_ns
            elif event.action in (ClockAction.SESSION_BREAK, ClockAction.CLOSE):
                assert opened_at is not None
                sessions.append((opened_at, event.ts_ns))
        return sessions

    def _day_open(self, ts_ns: int) -> None:
        order = list(range(len(self.agents)))
        self.day_rng.shuffle(order)
        self.local.now_ns = ts_ns
        for i in order:
            self._act(i, ts_ns, self.agents[i].on_day_open(self.views[i], self.rngs[i]))

    def _session(self, open_ns: int, close_ns: int, share: float) -> None:
        """Every agent's wake-ups in one continuous session, merged by time."""
        length = close_ns - open_ns
        # Each wake-up as one int, (time since the open) << bits | agent index: sorted, the
        # ints give the order of the (time, index) pairs, a total order, the same in every
        # process, and sort far faster than tuples.
        bits = max(1, len(self.agents).bit_length())
        mask = (1 << bits) - 1
        wakes: list[int] = []
        add = wakes.append
        for i, rate in enumerate(self.rates):
            expected = rate * share
            if expected <= 0:
                continue
            # Exponential gaps, by Random.expovariate's own formula, inlined (a call less for
            # each of 1.7 million draws a national_power year; the same floats).
            draw = self.wake_rngs[i].random
            per_ns = expected / length
            t = open_ns + -log(1.0 - draw()) / per_ns
            while t < close_ns:
                add((int(t) - open_ns) << bits | i)
                t += -log(1.0 - draw()) / per_ns
        wakes.sort()
        local = self.local
        agents, views, rngs, act = self.agents, self.views, self.rngs, self._act
        for wake in wakes:
            i = wake & mask
            ts_ns = open_ns + (wake >> bits)
            local.now_ns = ts_ns
            act(i, ts_ns, agents[i].act(views[i], rngs[i]))
        self.wakeups += len(wakes)

    def _act(self, i: int, ts_ns: int, actions: Iterable[Action]) -> None:
        """Apply one wake-up's actions at once (the hot path: one PlaceOrder per order)."""
        account = self.accounts[i]
        apply, record = self.local.apply, self._record
        for action in actions:
            if type(action) is Place:
                command: MarketCommand = PlaceOrder(
                    ts_ns,
                    account,
                    action.symbol,
                    action.side,
                    action.order_type,
                    action.qty_t,
                    action.price_fen,
                )
                record(apply(command))
            elif type(action) is Cancel:  # what to_commands makes of it, without the list
                record(apply(CancelOrder(ts_ns, account, action.order_id)))
            elif isinstance(action, SurrenderUnits | Abate):
                continue  # only at the year end
            else:
                for command in to_commands(action, account, ts_ns):
                    self._record(self.local.apply(command))

    # ------------------------------------------------------------------ events and supply

    def _event(self, event: Any, year: int, day: dt.date) -> None:
        detail = ""
        if event.kind == "news":
            detail = event.text
        elif event.kind == "emission_shock":
            hit = shocked_firms(self.scenario, event)
            for firm in hit:
                row = self.out.year_rows[firm.account_id]
                row.baseline_t = row.baseline_t * (BP + event.change_bp) // BP
            self._refresh_firms()
            detail = f"{len(hit)} firms' emissions {event.change_bp:+d} bp. {event.text}".strip()
        else:
            self.overrides = merged(self.overrides, event.overrides)
            rules = load_rules(self.rules.name, self.overrides)
            self.rules = rules
            self.market.rules = rules
            self.market.registry.rules = rules
            for i in self.cap_from_rules:  # a changed cap reaches the firms that use it
                agent = self.agents[i]
                assert isinstance(agent, ComplianceFirm)
                agent.offset_cap_bp = firm_offset_cap_bp(rules)
            detail = f"rules changed: {flat(event.overrides)}. {event.text}".strip()
        self.out.event(day, year, event.kind, detail)

    def _plan_auctions(self, index: int, days: int) -> None:
        """The year's auctions, worked out once at its start: what each offers (its planned
        volume in whole lots, less its part of the reserve's change), and on which trading
        day each notice is published (``notice_days`` before its own, in its first
        continuous session)."""
        self.volumes, self.notices, self.closing = [], {}, {}
        plans = self.scenario.spec.auctions
        if not plans:
            return
        rules = self.rules.auction
        if rules is None:
            raise SimulationError(f"rule set {self.rules.name!r} holds no auctions")
        planned = [self._planned_t(plan, index) for plan in plans]
        msr_left = self.msr_change_t
        self.volumes = [0] * len(plans)
        order = sorted(range(len(plans)), key=lambda n: plans[n].day)
        for n in order:
            plan = plans[n]
            if plan.day > days:
                continue  # the year's trading period ends before it
            volume = planned[n] - planned[n] % rules.lot_t
            if msr_left:
                # Its part of the reserve's change, in proportion to its share of what the
                # year's auctions from today on still offer (the last takes what is left).
                later = [planned[m] for m in order if plans[m].day > plan.day]
                rest = volume + sum(later)
                part = msr_left if not later or not rest else msr_left * volume // rest
                part -= part % rules.lot_t
                part = min(part, volume)
                msr_left -= part
                volume -= part
            self.volumes[n] = volume
            self.notices.setdefault(plan.day - plan.notice_days, []).append(n)

    def _publish_auctions(
        self, year: int, days: list[dt.date], day_in_year: int, ts_ns: int
    ) -> None:
        """Today's notices of the year's auctions: each volume issued to the auctioneer and
        offered in the first continuous session of the auction's day, with its share of what
        earlier auctions did not sell where the rule set re-offers it (the auctioneer holds
        that already)."""
        rules = self.rules.auction
        for n in self.notices.pop(day_in_year, []):
            assert rules is not None
            plan = self.scenario.spec.auctions[n]
            symbol = f"CEA{year}"
            volume = self.volumes[n]
            carried = self.carried.pop(0) if self.carried else 0
            if not volume + carried:
                continue
            reserve = plan.reserve_fen
            if reserve is None:
                # The rule set's rule, the previous close standing in for a VWAP while the
                # window holds no listed trade (so the first auction of a run has one too).
                reference = self.market.engine.book_info(symbol).reference_price_fen
                tick = self.market.instruments[symbol].tick_fen
                reserve = rule_reserve_price(
                    rules.reserve, self.market.listed_window, tick, year, reference
                )
            if volume:
                op = IssueAllowances(f"auction:{year}:{n}", AccountId(AUCTIONEER), year, volume)
                self._op(op)
            seed = derived_seed(self.seed, "auction", year, n)
            open_ns, close_ns = self._sessions(days[plan.day - 1])[0]
            command = PublishAuction(
                ts_ns,
                AccountId(AUCTIONEER),
                symbol,
                volume + carried,
                reserve,
                open_ns,
                close_ns,
                seed,
            )
            (change,) = self._apply(command).auction_changes
            self.closing.setdefault(plan.day, []).append((change.auction_id, reserve))

    def _close_auction(self, auction_id: int, reserve: int | None, year: int, day: dt.date) -> None:
        (change,) = self._apply(CloseAuction(self.ts_ns, auction_id)).auction_changes
        auction, result = self.market.auctions.results[auction_id]
        self.out.awarded(result.awards)
        rules = self.rules.auction
        if rules is not None and rules.unsold_to == "next_auctions" and result.unsold_t:
            parts = spread(result.unsold_t, rules.spread_over, rules.lot_t)
            owed = self.carried + [0] * (len(parts) - len(self.carried))
            self.carried = [a + b for a, b in zip(owed, parts + [0] * len(owed), strict=False)]
        self.out.auctions.append(
            {
                "trading_day": day.isoformat(),
                "year": year,
                "auction_id": auction_id,
                "symbol": auction.symbol,
                "reserve_fen": reserve,
                **result.figures(),
            }
        )
        price = "no price" if result.price_fen is None else f"at {result.price_fen} fen"
        detail = (
            f"auction {auction_id} {change.what}: {result.sold_t} of {result.volume_t} t {price}"
        )
        self.out.event(day, year, "auction", detail)

    def _issue_offsets(self, year: int, day_in_year: int, day: dt.date) -> None:
        for op in offset_issuance_ops(self.scenario, year, day_in_year):
            self._op(op)
            detail = f"{op.project_id}: {op.qty_t} t to {op.account_id}"
            self.out.event(day, year, "ccer_issuance", detail)

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
        traders = {f.account_id for f in self.scenario.firms}
        traders.update(a.account_id for a in self.scenario.agents)
        traders.update(self.scenario.seats)
        if self.scenario.spec.auctions:
            traders.add(AUCTIONEER)  # its revenue and what it did not sell
        self.out.year_end_holdings(year, self.market, traders)
        self._assess(year)
        self._msr(year, last_day, traders - {AUCTIONEER})

    def _msr(self, year: int, day: dt.date, holders: set[str]) -> None:
        """The Market Stability Reserve at a year's end (``settlement.auction.msr_change``): the
        total number of allowances in circulation, what the holders keep after surrender, sets
        what next year's auctions give up to the reserve or take from it (a release at most
        what it holds), spread over them by volume."""
        rules = self.rules.msr
        if rules is None or not self.scenario.spec.auctions:
            return
        tnac = sum(
            qty
            for (account, unit, _), qty in self.market.registry.ledger.balances().items()
            if account in holders and unit.startswith("CEA")
        )
        change = msr_change(tnac, rules)
        if change < 0:
            change = -min(-change, self.msr_held_t)
        self.msr_held_t += change
        self.msr_change_t = change
        self.out.msr.append(
            {"year": year, "tnac_t": tnac, "change_t": change, "held_t": self.msr_held_t}
        )
        detail = f"TNAC {tnac} t: {change:+d} t into the reserve from next year's auctions"
        self.out.event(day, year, "msr", detail)

    def _planned_t(self, plan: AuctionSpec, index: int) -> int:
        """What an auction of the scenario plans to offer in the ``index``-th year."""
        if plan.volume_t is not None:
            return plan.volume_t
        assert plan.share_bp is not None
        return auctioned_t(self.scenario, index) * plan.share_bp // BP

    def _abate(self, i: int, action: Abate, year: int) -> None:
        account = self.scenario.agents[i].firm
        if account is None or action.year != year or action.qty_t <= 0:
            self.out.refused("ABATE_NOT_ALLOWED")
            return
        row = self.out.year_rows[account]
        most = min(self.firms[account].curve.max_t, row.baseline_t)
        row.abated_t = compliance_year.abatement_t(row.abated_t + action.qty_t, most)

    def _verify(self, year: int) -> None:
        for firm in self.scenario.firms:
            row = self.out.year_rows[firm.account_id]
            verified_t = compliance_year.verified_emissions_t(row.baseline_t, row.abated_t)
            record, *true_up = compliance_year.verification_ops(
                self.scenario, firm, year, verified_t
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

    def _assess(self, year: int) -> None:
        assessment = compliance_year.assessment(self.market, year)
        for op in assessment.ops:
            self._op(op)
        registry = self.market.registry
        for firm in self.scenario.firms:
            record = registry.record(account_of(firm), year)
            assert record is not None, f"{firm.account_id} was not assessed for {year}"
            cap = registry.offset_cap_t(account_of(firm), year)
            self.out.compliance_outcome(year, firm, record, cap)


def simulate(scenario: LoadedScenario, seed: int, progress: Progress | None = None) -> RunResult:
    """Run ``scenario`` with ``seed`` (see the module's docstring)."""
    return Simulation(scenario, seed).run(progress)
