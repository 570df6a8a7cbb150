"""Live bots (exchange.agents.live) on a real MarketRuntime journaling to SQLite: they trade
through the sequencer like any client, the journal replays to the same state, a failing
agent pauses only itself, nothing trades outside the continuous session, and stop is clean.

Bots run on wall time, so each test runs them for at most a few seconds with a short "day"
(``DAY_S``) and waits for an observable result, bounded by ``WAIT_S``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

from exchange.agents.base import Action, Agent, MarketView, Place, register
from exchange.agents.live import BotSpec, LiveBots, demo_bots, open_account_commands
from exchange.db.journal_store import prepare_database
from exchange.runtime import MarketRuntime, rebuild
from matching.types import Side, TradingState
from registry_sim.model import AccountId
from settlement.commands import MarketCommand, OpenDay, SetSession
from settlement.spec import MarketSpec

SPEC = MarketSpec("live-test", "cn_national", (("CEA2025", 6000),))
DAY = dt.date(2026, 3, 2)
DAY_S = 1.0  # a bot's trading "day" in wall seconds: a market maker wakes 60 times a second
WAIT_S = 10.0


@register
class BrokenAgent(Agent):
    """Raises at its first wake-up (a bug in a researcher's agent)."""

    kind = "test_broken"
    wakeups_per_day = 50.0

    def act(self, view: MarketView, rng: random.Random) -> Iterable[Action]:
        raise RuntimeError("bug in an agent")


@register
class BandBreaker(Agent):
    """Bids one tick above today's band: always refused, never fatal."""

    kind = "test_band_breaker"
    wakeups_per_day = 50.0

    def act(self, view: MarketView, rng: random.Random) -> Iterable[Action]:
        info = view.instruments()[0]
        return [Place(info.symbol, Side.BUY, info.lot_t, info.band[1] + info.tick_fen)]


def runtime_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"


@asynccontextmanager
async def live_market(tmp_path: Path, specs: list[BotSpec]) -> AsyncIterator[MarketRuntime]:
    """A market on SQLite with a trading day in continuous session and the bots' accounts."""
    url = runtime_url(tmp_path)
    await prepare_database(url)
    runtime = await MarketRuntime.create(url, SPEC)
    runtime.start()
    try:
        setup: list[MarketCommand] = [OpenDay(0, DAY), SetSession(0, TradingState.CONTINUOUS)]
        for spec in specs:
            setup += open_account_commands(runtime.market, spec, 2025)
        for ack in await runtime.submit_many(setup):
            assert ack.outcome.code is None, ack.outcome
        yield runtime
    finally:
        await runtime.stop()


async def wait_until(check: Callable[[], bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while not check():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), timeout=30))


def test_bots_trade_and_the_journal_replays_to_the_same_state(tmp_path: Path) -> None:
    specs = demo_bots(6)

    async def scenario() -> None:
        async with live_market(tmp_path, specs) as runtime:
            bots = LiveBots(runtime, specs, day_s=DAY_S, seed=7)
            bots.start()
            await wait_until(lambda: runtime.market.last_trade_id >= 20, "20 trades")
            await bots.stop()
            seq = runtime.last_seq
            await asyncio.sleep(0.2)
            assert runtime.last_seq == seq  # stopped bots send nothing more
            assert runtime.listeners == []  # and left no listener behind
            await runtime.drain()
            live_hash = runtime.market.state_hash()
            stats = bots.stats
        replayed, last_seq, _ = await rebuild(runtime_url(tmp_path), SPEC.market_id)
        assert last_seq == seq
        assert replayed.state_hash() == live_hash
        # Every kind of the crowd acted; nobody was paused.
        assert all(s.wakeups > 0 and not s.paused for s in stats.values())
        assert stats["BOT001"].commands > 0  # the market maker quoted

    run(scenario)


def test_a_failing_agent_pauses_only_itself_and_refusals_are_counted(tmp_path: Path) -> None:
    specs = [
        BotSpec("test_broken", "BRK001", cash_fen=1_000_000),
        BotSpec("test_band_breaker", "BND001", cash_fen=100_000_000),
        *demo_bots(3),
    ]

    async def scenario() -> None:
        async with live_market(tmp_path, specs) as runtime:
            bots = LiveBots(runtime, specs, day_s=DAY_S, seed=3)
            bots.start()
            stats = bots.stats
            await wait_until(
                lambda: (
                    stats["BRK001"].paused
                    and stats["BND001"].refusals.get("PRICE_OUTSIDE_BAND", 0) >= 3
                    and runtime.market.last_trade_id >= 3
                ),
                "a paused bot, three refusals and three trades",
            )
            await bots.stop()
            assert stats["BRK001"].commands == 0
            assert not stats["BND001"].paused  # refusals are a bot's business, not a failure
            assert runtime.market.registry.account(AccountId("BND001")) is not None
            assert list(runtime.market.engine.open_orders(AccountId("BND001"))) == []

    run(scenario)


def test_bots_act_only_in_the_continuous_session(tmp_path: Path) -> None:
    specs = demo_bots(2)

    async def scenario() -> None:
        async with live_market(tmp_path, specs) as runtime:
            ack = await runtime.submit(SetSession(0, TradingState.BREAK))
            assert ack.outcome.code is None
            bots = LiveBots(runtime, specs, day_s=DAY_S / 4, seed=5)
            bots.start()
            seq = runtime.last_seq
            await asyncio.sleep(0.5)  # about 120 market-maker wake-up chances
            assert runtime.last_seq == seq
            assert all(s.wakeups == 0 for s in bots.stats.values())
            await runtime.submit(SetSession(0, TradingState.CONTINUOUS))
            await wait_until(lambda: bots.stats["BOT001"].commands > 0, "the market maker quoting")
            await bots.stop()

    run(scenario)
