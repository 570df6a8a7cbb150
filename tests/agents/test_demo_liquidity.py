"""The demo market keeps trading: its bots (``demo_bots``), run faster than the demo runs them,
trade in every five-minute window of demo time and never leave the book at a price limit with
one side empty. Units bought today are sellable only tomorrow (T+1), and a demo trading day
lasts hours, so this holds only if the crowd is balanced and the sellers hold enough for a
long session.

Bots run on wall time; a demo "minute" is the demo's bot minute (``DEMO_DAY_S``: their rates are
per 60 wall seconds) compressed by ``SPEEDUP``. The short run is part of ``make test``; the hour
is ``make soak``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from exchange.agents.live import DEFAULT_DAY_S as DEMO_DAY_S
from exchange.agents.live import LiveBots, demo_bots
from exchange.runtime import MarketRuntime
from tests.agents.test_live import live_market

SPEEDUP = 30  # demo seconds per wall second
WINDOW_MIN = 5  # demo minutes a window spans
SAMPLES_PER_MIN = 4  # looks at the book per demo minute


async def watch(runtime: MarketRuntime, minutes: int) -> tuple[list[int], list[str]]:
    """Trades per window of demo time, and every moment the book sat at a limit with a
    side empty."""
    market = runtime.market
    symbol = next(iter(market.instruments))
    step_s = DEMO_DAY_S / SAMPLES_PER_MIN / SPEEDUP
    windows: list[int] = []
    stuck: list[str] = []
    last_trade = market.last_trade_id
    for minute in range(minutes):
        for sample in range(SAMPLES_PER_MIN):
            await asyncio.sleep(step_s)
            info = market.engine.book_info(symbol)
            depth = market.engine.depth(symbol, 1)
            bids, asks = depth.bids, depth.asks
            if not asks and bids and bids[0].price_fen >= info.band_upper_fen:
                stuck.append(f"minute {minute}.{sample}: bid at the upper limit, no offer")
            if not bids and asks and asks[0].price_fen <= info.band_lower_fen:
                stuck.append(f"minute {minute}.{sample}: offer at the lower limit, no bid")
        if minute % WINDOW_MIN == WINDOW_MIN - 1:
            windows.append(market.last_trade_id - last_trade)
            last_trade = market.last_trade_id
    return windows, stuck


def run_demo(tmp_path: Path, minutes: int) -> tuple[list[int], list[str]]:
    specs = demo_bots(6)

    async def scenario() -> tuple[list[int], list[str]]:
        async with live_market(tmp_path, specs) as runtime:
            bots = LiveBots(runtime, specs, day_s=DEMO_DAY_S / SPEEDUP, seed=11)
            bots.start()
            try:
                return await watch(runtime, minutes)
            finally:
                await bots.stop()

    return asyncio.run(asyncio.wait_for(scenario(), timeout=minutes * 60 / SPEEDUP + 60))


def check(windows: list[int], stuck: list[str]) -> None:
    assert windows, "no window was watched"
    assert all(trades > 0 for trades in windows), f"trades per {WINDOW_MIN} minutes: {windows}"
    assert stuck == []


def test_the_demo_trades_for_half_an_hour(tmp_path: Path) -> None:
    check(*run_demo(tmp_path, 30))


@pytest.mark.soak
def test_the_demo_trades_for_an_hour(tmp_path: Path) -> None:
    check(*run_demo(tmp_path, 60))
