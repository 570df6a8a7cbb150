"""Bots inside the server: agents trading a live ``MarketRuntime`` on wall time.

``LiveBots`` runs one asyncio task per bot beside the market's sequencer. Each bot sleeps an
exponential wall-clock interval (its ``wakeups_per_day`` scaled to a wall "day" of ``day_s``
seconds, e.g. 60 s in the demo), then, if the market is in continuous trading and some
instrument is not halted (``trading``), reads a view of the runtime's market, asks its agent
for actions and submits them with ``runtime.submit_many``: journaled and durable like any API
command, each new order with its own ``client_order_id``.

Reading the market directly is safe: the sequencer applies commands in this same event loop
thread, so between two awaits a bot sees one consistent state (``LocalMarket``/``LocalView``
from ``exchange.agents.local``, refreshed at each wake-up). A refusal is counted per code and
logged at debug; an exception in an agent is logged and pauses that bot only; a stopped market
ends the bots quietly. The server never crashes because of a bot.

Live bots trade (``on_day_open``, ``act``); nobody calls ``on_year_end`` in a live market
(the operator runs the compliance cycle) and ``Abate`` means nothing here, so it is ignored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import random
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from exchange.agents.base import AGENT_KINDS, Action, Agent, SurrenderUnits
from exchange.agents.local import LocalMarket, to_commands
from exchange.clock import trading_days
from exchange.runtime import Ack, MarketRuntime, MarketStoppedError
from matching.types import TradingState
from registry_sim.model import Account, AccountId, AccountKind
from registry_sim.ops import IssueAllowances, OpenAccount
from settlement.commands import Deposit, MarketCommand, OpenDay, RegistryCommand
from settlement.market import Market

log = logging.getLogger("carbonx.bots")

DEFAULT_DAY_S = 60.0  # wall seconds of a bot's trading "day" (the demo's pace)
FIRST_WAKE_S = 0.5
PARTICIPANT = AccountKind.PARTICIPANT


@dataclass(frozen=True, slots=True)
class BotSpec:
    """One bot: its agent kind and parameters, its account, and the funding whoever opens
    the account gives it (``exchange.cli`` does so for the demo; ``LiveBots`` does not)."""

    kind: str
    account_id: str
    params: Mapping[str, Any] = field(default_factory=dict)
    wakeups_per_day: float | None = None  # None: the agent's own
    cash_fen: int = 0
    allowances_t: int = 0

    def build(self) -> Agent:
        """The agent, told its wake-up rate when the spec overrides it."""
        cls = AGENT_KINDS.get(self.kind)
        if cls is None:
            raise ValueError(
                f"bot {self.account_id}: unknown kind {self.kind!r} ({sorted(AGENT_KINDS)})"
            )
        agent = cls(self.account_id, None, **dict(self.params))
        if self.wakeups_per_day is not None:
            agent.wakeups_per_day = self.wakeups_per_day
        return agent


def open_account_commands(market: Market, spec: BotSpec, vintage: int) -> list[MarketCommand]:
    """The commands that open a bot's participant account with its funding (cash, and
    allowances of ``vintage``), the same ones the demo uses for its human participants; none
    if the account exists (a restart keeps what the bot has made or lost)."""
    account_id = AccountId(spec.account_id)
    if market.registry.account(account_id) is not None:
        return []
    name = f"Bot {spec.account_id} ({spec.kind})"
    commands: list[MarketCommand] = [
        RegistryCommand(
            0, OpenAccount(f"open:{account_id}", Account(account_id, PARTICIPANT, name))
        )
    ]
    if spec.cash_fen:
        commands.append(Deposit(0, account_id, spec.cash_fen, f"initial:{account_id}"))
    if spec.allowances_t:
        issue = IssueAllowances(f"issue:{account_id}:bot", account_id, vintage, spec.allowances_t)
        commands.append(RegistryCommand(0, issue))
    return commands


# The demo's crowd, one bot of each row in turn after the market maker: (kind, parameters,
# wake-ups per day, cash, allowances). Rates are per wall "day" (``LiveBots.day_s``, 60 s in
# the demo): the market maker requotes every second or so, each noise trader acts about as
# often, a third of the time with a market order, so a trade prints within seconds. Buyers and
# sellers come in pairs, and everyone holds enough for hours: what a bot buys is sellable only
# the next trading day (T+1), and a demo's trading day lasts as long as the class, so a seller
# that runs out stays out (tests/agents/test_demo_liquidity.py).
_DEMO_MAKER = (
    "market_maker",
    {"half_spread_bp": 30, "qty_t": 500, "max_inventory_t": 400_000},
    60.0,
    2_000_000_000,  # CNY 20,000,000
    200_000,
)
_DEMO_CROWD: tuple[tuple[str, dict[str, Any], float, int, int], ...] = (
    ("zic", {"side": "buy", "limit_bp": 10_300, "qty_t": 100}, 30.0, 2_000_000_000, 0),
    ("zic", {"side": "sell", "limit_bp": 9_700, "qty_t": 100}, 30.0, 0, 300_000),
    ("noise", {"qty_max_t": 200, "market_bp": 3_000}, 60.0, 2_000_000_000, 300_000),
)


def demo_bots(count: int, prefix: str = "BOT") -> list[BotSpec]:
    """The demo's ``count`` bots (``BOT001``...): a market maker quoting around the market
    (so a person can always trade), then zero-intelligence buyers and sellers and noise
    traders in turn."""
    rows = [_DEMO_MAKER, *(_DEMO_CROWD[i % len(_DEMO_CROWD)] for i in range(count - 1))]
    return [
        BotSpec(kind, f"{prefix}{i + 1:03d}", params, rate, cash, units)
        for i, (kind, params, rate, cash, units) in enumerate(rows[:count])
    ]


def wake_delays(rng: random.Random, rate_per_s: float) -> Iterator[float]:
    """Wall seconds before each wake-up: a Poisson process at ``rate_per_s``, except that the
    first comes within ``FIRST_WAKE_S`` (a market with bots comes alive at once)."""
    yield rng.random() * min(1 / rate_per_s, FIRST_WAKE_S)
    while True:
        yield rng.expovariate(rate_per_s)


@dataclass(slots=True)
class BotStats:
    """What one bot did: wake-ups, commands sent, refusals by code, and whether it is paused
    (its agent raised)."""

    wakeups: int = 0
    commands: int = 0
    refusals: dict[str, int] = field(default_factory=dict)
    paused: bool = False


class LiveMarket(LocalMarket):
    """A ``LocalMarket`` over a runtime's market: the clock facts come from the market and
    its calendar at each wake-up, and today's last prices from the runtime's committed acks."""

    __slots__ = ("_days_left_for",)

    def __init__(self, runtime: MarketRuntime) -> None:
        market = runtime.market
        day = market.trading_day or dt.date.today()
        super().__init__(market, _compliance_year(market.rules, day))
        self._days_left_for: dt.date | None = None

    def refresh(self, now_ns: int) -> None:
        """Bring the clock facts up to now; instrument facts (band, state) are read afresh,
        since sessions, halts and day ends reach the market without passing through here."""
        self.now_ns = now_ns
        self._info.clear()
        self._infos = None
        day = self.market.trading_day
        if day is None or day == self._days_left_for:
            return
        self._days_left_for = day
        rules = self.market.rules
        year = _compliance_year(rules, day)
        calendar_days = trading_days(rules.calendar, day, rules.compliance.deadline(year))
        self.trading_day = day
        self.compliance_year = year
        self.trading_days_left = max(1, len(calendar_days))

    def on_acks(self, acks: Sequence[Ack]) -> None:
        """The runtime's listener: note each fill's price; a new day starts the tape again."""
        last = self.last_price_fen
        for ack in acks:
            if type(ack.command) is OpenDay and ack.outcome.code is None:
                last.clear()
            for fill in ack.outcome.fills:
                last[fill.trade.symbol] = fill.trade.price_fen


def trading(market: Market) -> bool:
    """Whether anything trades now: the session is continuous and some instrument is not
    halted (a paused clock halts them all: its bots idle instead of being refused)."""
    if market.session is not TradingState.CONTINUOUS or market.day_closed:
        return False
    continuous = TradingState.CONTINUOUS
    return any(market.engine.book_info(s).state is continuous for s in market.instruments)


def _compliance_year(rules: Any, day: dt.date) -> int:
    """The compliance year whose surrender is still ahead on ``day``: last year's until its
    deadline (national: the year's allowances are surrendered by the end of the next)."""
    last_year = day.year - 1
    return last_year if day <= rules.compliance.deadline(last_year) else day.year


@dataclass(slots=True)
class _Bot:
    spec: BotSpec
    agent: Agent
    rng: random.Random
    stats: BotStats
    day: dt.date | None = None  # the trading day of its last on_day_open


class LiveBots:
    """The bots of one hosted market. ``start()`` inside the event loop, ``await stop()``."""

    def __init__(
        self,
        runtime: MarketRuntime,
        specs: Sequence[BotSpec],
        *,
        day_s: float = DEFAULT_DAY_S,
        seed: int | None = None,
    ) -> None:
        if day_s <= 0:
            raise ValueError(f"day_s must be positive, got {day_s}")
        self.runtime = runtime
        self.day_s = day_s
        self.live = LiveMarket(runtime)
        # Client order ids must not repeat an earlier run's on the same trading day (a repeat
        # would answer the old order): each run's ids start with its own token.
        self._token = f"bot{time.time_ns():x}"
        base = int.from_bytes(os.urandom(8)) if seed is None else seed
        self.bots = [
            _Bot(spec, spec.build(), random.Random(base * 1_000_003 + i), BotStats())
            for i, spec in enumerate(specs)
        ]
        self._sent = 0
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def stats(self) -> dict[str, BotStats]:
        return {bot.spec.account_id: bot.stats for bot in self.bots}

    def start(self) -> None:
        if self._tasks:
            return
        self.runtime.listeners.append(self.live.on_acks)
        self._tasks = [
            asyncio.create_task(
                self._run(bot), name=f"bot:{self.runtime.market_id}:{bot.spec.account_id}"
            )
            for bot in self.bots
        ]
        log.info("market %s: %d bots started", self.runtime.market_id, len(self.bots))

    async def stop(self) -> None:
        """Cancel every bot and wait for them; a bot's submission in flight is abandoned, not
        withdrawn (the sequencer still applies it)."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.live.on_acks in self.runtime.listeners:
            self.runtime.listeners.remove(self.live.on_acks)
        if tasks:
            refusals: dict[str, int] = {}
            for bot in self.bots:
                for code, n in bot.stats.refusals.items():
                    refusals[code] = refusals.get(code, 0) + n
            log.info(
                "market %s: bots stopped after %d wake-ups, %d commands, refusals %s",
                self.runtime.market_id,
                sum(bot.stats.wakeups for bot in self.bots),
                sum(bot.stats.commands for bot in self.bots),
                refusals,
            )

    # ------------------------------------------------------------------ one bot

    async def _run(self, bot: _Bot) -> None:
        rate_per_s = bot.agent.wakeups_per_day / self.day_s
        if rate_per_s <= 0:
            return
        missing_logged = False
        for delay_s in wake_delays(bot.rng, rate_per_s):
            await asyncio.sleep(delay_s)
            market = self.runtime.market
            if not trading(market):
                continue
            if market.registry.account(AccountId(bot.spec.account_id)) is None:
                if not missing_logged:
                    log.warning("bot %s: no such account, waiting", bot.spec.account_id)
                    missing_logged = True
                continue
            try:
                commands = self._wake(bot)
            except Exception:
                log.exception("bot %s (%s) failed: paused", bot.spec.account_id, bot.spec.kind)
                bot.stats.paused = True
                return
            if not commands:
                continue
            try:
                acks = await self.runtime.submit_many(commands, wait_for_database=True)
            except MarketStoppedError:
                return
            bot.stats.commands += len(acks)
            for ack in acks:
                code = ack.outcome.code
                if code is not None:
                    bot.stats.refusals[code] = bot.stats.refusals.get(code, 0) + 1
                    log.debug(
                        "bot %s refused: %s %s", bot.spec.account_id, code, ack.outcome.details
                    )

    def _wake(self, bot: _Bot) -> list[MarketCommand]:
        """One wake-up: the agent's actions now, as the commands to submit."""
        clock = self.runtime.clock
        now_ns = clock.now_ns() if clock is not None else time.time_ns()
        live = self.live
        live.refresh(now_ns)
        view = live.view(bot.spec.account_id)
        bot.stats.wakeups += 1
        actions: list[Action] = []
        if bot.day != live.trading_day:
            bot.day = live.trading_day
            actions.extend(bot.agent.on_day_open(view, bot.rng))
        actions.extend(bot.agent.act(view, bot.rng))
        commands: list[MarketCommand] = []
        for action in actions:
            self._sent += 1
            ref = f"{self._token}-{self._sent}"
            surrender = isinstance(action, SurrenderUnits)
            commands += to_commands(
                action,
                bot.spec.account_id,
                0,  # the sequencer stamps the market time
                client_order_id=ref,
                op_id=f"{ref}:surrender" if surrender else None,
                on=live.trading_day if surrender else None,
            )
        return commands
