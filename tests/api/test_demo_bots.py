"""``carbonx demo`` with its bots (exchange.agents.live), as a person meets it: trades print
within seconds of the start, a demo participant buys from the market maker bot, and bots run
over the network with ``carbonx bots`` (exchange.agents.remote) trade in the same market."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.api.conftest import client
from tests.api.server import ROOT, DemoServer, start_demo

DEMO = "/v1/markets/demo"
SYMBOL = "CEA2025"
BOTS = 6
MARKET_MAKER = "BOT001"  # the demo's first bot (exchange.agents.live.demo_bots)
FIRST_TRADE_S = 10.0
BUY_ATTEMPTS = 12
MAX_SWEEP_T = 5_000  # P001 holds CNY 1,000,000: about 16,000 t at the demo's price
REMOTE_S = 4.0

T = TypeVar("T")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    running = start_demo(
        tmp_path_factory.mktemp("bots") / "demo.db", {"CARBONX_DEMO_BOTS": str(BOTS)}
    )
    try:
        yield running
    finally:
        running.stop()


def ok(response: httpx.Response) -> Any:
    assert response.is_success, response.text
    return response.json()


def eventually(read: Callable[[], T | None], within_s: float, what: str) -> T:
    deadline = time.monotonic() + within_s
    while True:
        found = read()
        if found:
            return found
        assert time.monotonic() < deadline, f"no {what} within {within_s} s"
        time.sleep(0.1)


def test_trades_print_within_seconds_of_the_start(operator: httpx.Client) -> None:
    trades = eventually(
        lambda: ok(operator.get(f"{DEMO}/trades"))["trades"], FIRST_TRADE_S, "demo trade"
    )
    assert all(t["symbol"] == SYMBOL and t["qty_t"] > 0 for t in trades)
    # The bots' accounts were opened by the demo, funded, and are trading.
    traders = {
        f"BOT{i:03d}"
        for i in range(1, BOTS + 1)
        if ok(operator.get(f"{DEMO}/fills", params={"account_id": f"BOT{i:03d}"}))["fills"]
    }
    assert traders  # (the market maker's own trades: the next test)


def test_p001_buys_from_the_market_maker(p001: httpx.Client, operator: httpx.Client) -> None:
    """The market maker quotes around the market: P001 lifts its offer with an IOC at the
    offer's price for everything offered up to it (the crowd's cheaper offers, and the maker's
    level, whose earlier orders go first). The maker requotes every second or so and the crowd
    trades meanwhile, hence a few attempts."""
    traded: set[int] = set()
    for _ in range(BUY_ATTEMPTS):
        mine = ok(operator.get(f"{DEMO}/orders", params={"account_id": MARKET_MAKER}))["orders"]
        asks = sorted((o for o in mine if o["side"] == "sell"), key=lambda o: o["price_fen"])
        book = ok(p001.get(f"{DEMO}/book/{SYMBOL}"))["asks"]
        if not asks:
            time.sleep(0.3)
            continue
        price = asks[0]["price_fen"]
        up_to = sum(level["qty_t"] for level in book if level["price_fen"] <= price)
        if not 0 < up_to <= MAX_SWEEP_T:
            time.sleep(0.3)
            continue
        placed = ok(
            p001.post(
                f"{DEMO}/orders",
                json={
                    "symbol": SYMBOL,
                    "side": "buy",
                    "order_type": "ioc",
                    "qty_t": up_to,
                    "price_fen": price,
                },
            )
        )
        theirs = ok(operator.get(f"{DEMO}/fills", params={"account_id": MARKET_MAKER}))["fills"]
        traded = {f["trade_id"] for f in placed["fills"]} & {f["trade_id"] for f in theirs}
        if traded:
            break
    assert traded, "P001 never traded with the market maker"
    fills = ok(p001.get(f"{DEMO}/fills"))["fills"]
    assert {f["trade_id"] for f in fills if f["side"] == "buy"} >= traded


def test_remote_bots_trade_over_the_api(
    server: DemoServer, operator: httpx.Client, tmp_path: Path
) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(server.keys))
    always_market = json.dumps({"market_bp": 10_000, "qty_max_t": 20})
    command = [
        *(sys.executable, "-m", "exchange.cli", "bots"),
        *("--url", server.base_url, "--market", "demo", "--key-file", str(keys)),
        *("--bot", f"noise:2:{always_market}", "--prefix", "RT"),
        *("--day-s", "4", "--duration", str(REMOTE_S), "--seed", "1"),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "RT0001:" in done.stdout
    assert "RT0002:" in done.stdout
    fills = [
        f
        for account in ("RT0001", "RT0002")
        for f in ok(operator.get(f"{DEMO}/fills", params={"account_id": account}))["fills"]
    ]
    assert fills, done.stdout
    assert "paused" not in done.stdout
    # Opened by the exchange operator key, each with its own participant key: P001 cannot
    # see their fills (a participant reads only its own account).
    with client(server, server.keys["participants"]["P001"]) as p001:
        refused = p001.get(f"{DEMO}/fills", params={"account_id": "RT0001"})
        assert refused.status_code == 403, refused.text
