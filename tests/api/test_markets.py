"""Markets and market data against a real ``carbonx demo`` process: creating a market with an
exchange-wide operator key, trading on it, its instruments, quotes, deeper books and bars."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from exchange.cli import issue_key
from exchange.keys import Role, key_id_of
from matching.instruments import instrument_from_rules
from registry_sim.rules import load_rules
from tests.api.conftest import client
from tests.api.server import ROOT, DemoServer, start_demo
from tests.api.test_gateway import assert_problem, place

OPEN_DAY = "2026-03-02"  # a Monday, no holiday in cn_national's calendar
OVERRIDES = {
    "trading": {"tick_fen": 5, "lot_t": 10, "modes": {"listed": {"band_bp": 500, "min_qty_t": 10}}}
}
CEA, CCER = "CEA2025", "CCER:P001:2024"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    running = start_demo(tmp_path_factory.mktemp("markets") / "demo.db")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def exchange(server: DemoServer) -> Iterator[httpx.Client]:
    """The demo's exchange-wide operator key (market ``*``)."""
    with client(server, server.keys["exchange_operator_key"]) as c:
        yield c


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def new_market(market_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "market_id": market_id,
        "rule_set": "cn_national",
        "instruments": [{"symbol": CEA, "reference_price_fen": 8000}],
        "open_day": OPEN_DAY,
        **fields,
    }


def traders(server: DemoServer, exchange: httpx.Client, market_id: str) -> tuple[str, str]:
    """A buyer with cash and a seller with 1,000 t of CEA2025 in the market; their keys."""
    base = f"/v1/markets/{market_id}/participants"
    buyer = {"account_id": "B1", "name": "Buyer", "cash_fen": 100_000_000}
    seller = {
        "account_id": "S1",
        "name": "Seller",
        "allowances": [{"vintage": 2025, "qty_t": 1000}],
    }
    return (
        ok(exchange.post(base, json=buyer), 201)["api_key"],
        ok(exchange.post(base, json=seller), 201)["api_key"],
    )


def trade(buyer: httpx.Client, seller: httpx.Client, market_id: str, price: int, qty: int) -> None:
    orders = f"/v1/markets/{market_id}/orders"
    order = {"symbol": CEA, "order_type": "limit", "qty_t": qty, "price_fen": price}
    ok(buyer.post(orders, json={**order, "side": "buy"}), 201)
    fills = ok(seller.post(orders, json={**order, "side": "sell"}), 201)["fills"]
    assert [(f["price_fen"], f["qty_t"]) for f in fills] == [(price, qty)]


def test_an_exchange_operator_creates_a_market_with_overrides_and_it_trades(
    server: DemoServer, exchange: httpx.Client
) -> None:
    listing = [
        {"symbol": CEA, "reference_price_fen": 8000},
        {"symbol": CCER, "reference_price_fen": 5000},
    ]
    body = new_market("class-a", overrides=OVERRIDES, instruments=listing)
    created = ok(exchange.post("/v1/markets", json=body), 201)
    assert created == {
        **created,
        "market_id": "class-a",
        "rule_set": "cn_national",
        "timezone": "Asia/Shanghai",
        "trading_day": OPEN_DAY,
        "session": "continuous",
        "day_closed": False,
        "instruments": [CEA, CCER],
    }
    assert created["overrides"] == OVERRIDES
    assert ok(exchange.get("/v1/markets/class-a")) == created
    # The rule set as overridden decides tick, lot, band and order limits.
    rules = load_rules("cn_national", OVERRIDES)
    instrument = instrument_from_rules(CEA, rules.trading)
    assert (instrument.tick_fen, instrument.lot_t) == (5, 10)
    m = "/v1/markets/class-a"
    listed = {i["symbol"]: i for i in ok(exchange.get(f"{m}/instruments"))["instruments"]}
    lower, upper = instrument.band(8000)
    assert (lower, upper) == (7600, 8400)  # ±5 %
    assert listed[CEA] == {
        **listed[CEA],
        "unit_kind": "CEA",
        "state": "continuous",
        "reference_price_fen": 8000,
        "band_lower_fen": lower,
        "band_upper_fen": upper,
        "tick_fen": instrument.tick_fen,
        "lot_t": instrument.lot_t,
        "min_qty_t": instrument.book_rules.min_qty_t,
        "max_qty_t": instrument.book_rules.max_qty_t,
        "last_price_fen": None,
        "volume_t": 0,
    }
    assert listed[CCER]["unit_kind"] == "CCER"
    # Each instrument's display name (docs/rules.md, names); P001 is no registered project.
    assert listed[CEA]["name"] == {"zh-CN": "全国碳排放配额 2025", "en": "CEA 2025"}
    assert listed[CCER]["name"] == {"zh-CN": "CCER P001 2024", "en": "CCER P001 2024"}
    assert listed[CCER]["band_lower_fen"] == instrument.band(5000)[0]
    before = ok(exchange.get(f"{m}/quotes/{CEA}"))
    assert (before["last_price_fen"], before["open_fen"], before["close_fen"]) == (None,) * 3

    buyer_key, seller_key = traders(server, exchange, "class-a")
    with client(server, buyer_key) as buyer, client(server, seller_key) as seller:
        off_tick = buyer.post(
            f"{m}/orders", json={"symbol": CEA, "side": "buy", "qty_t": 10, "price_fen": 8001}
        )
        assert assert_problem(off_tick, 409, "PRICE_OFF_TICK")["tick_fen"] == 5
        trade(buyer, seller, "class-a", 8100, 30)
        trade(buyer, seller, "class-a", 7950, 20)
        ok(
            seller.post(
                f"{m}/orders", json={"symbol": CEA, "side": "sell", "qty_t": 40, "price_fen": 8200}
            ),
            201,
        )
        ok(
            buyer.post(
                f"{m}/orders", json={"symbol": CEA, "side": "buy", "qty_t": 60, "price_fen": 7900}
            ),
            201,
        )
        q = ok(buyer.get(f"{m}/quotes/{CEA}"))  # a participant reads its market's data
    assert q == {
        **q,
        "symbol": CEA,
        "trading_day": OPEN_DAY,
        "state": "continuous",
        "bid_price_fen": 7900,
        "bid_qty_t": 60,
        "ask_price_fen": 8200,
        "ask_qty_t": 40,
        "last_price_fen": 7950,
        "open_fen": 8100,
        "high_fen": 8100,
        "low_fen": 7950,
        "close_fen": 7950,
        "volume_t": 50,
        "turnover_fen": 8100 * 30 + 7950 * 20,
    }
    listed = {i["symbol"]: i for i in ok(exchange.get(f"{m}/instruments"))["instruments"]}
    assert (listed[CEA]["bid_price_fen"], listed[CEA]["ask_price_fen"]) == (7900, 8200)
    assert (listed[CEA]["last_price_fen"], listed[CEA]["volume_t"]) == (7950, 50)
    assert listed[CCER]["last_price_fen"] is None
    unknown = exchange.get(f"{m}/quotes/CEA1999")
    assert assert_problem(unknown, 404, "UNKNOWN_INSTRUMENT")["symbol"] == "CEA1999"


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"trading": {"modes": {"listed": {"band_bp": 20_000}}}}, "trading.modes.listed.band_bp"),
        ({"trading": {"tick_fen": 0}}, "trading.tick_fen"),
        ({"penalty": {"multiplier": 20}}, "penalty.multiplier"),
        ({"calendar": {"pre_open": "25:00"}}, "calendar.pre_open"),
        ({"settlement": {"fee_bp_buy": 1.5}}, "overrides.settlement.fee_bp_buy"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ],
)
def test_bad_overrides_name_the_rule_and_the_reason(
    exchange: httpx.Client, overrides: dict[str, Any], path: str
) -> None:
    refused = exchange.post("/v1/markets", json=new_market("bad-rules", overrides=overrides))
    body = assert_problem(refused, 422, "INVALID_RULES")
    assert (body["rule_set"], body["path"]) == ("cn_national", path)
    assert body["reason"]
    assert_problem(exchange.get("/v1/markets/bad-rules"), 404, "UNKNOWN_MARKET")


def test_bad_listings_are_refused(exchange: httpx.Client) -> None:
    unknown = exchange.post("/v1/markets", json=new_market("bad-set", rule_set="mars_ets"))
    body = assert_problem(unknown, 422, "UNKNOWN_RULE_SET")
    assert "cn_national" in body["available"]
    off_tick = new_market(
        "bad-price", overrides=OVERRIDES, instruments=[{"symbol": CEA, "reference_price_fen": 8001}]
    )
    refused = assert_problem(exchange.post("/v1/markets", json=off_tick), 422, "INVALID_REQUEST")
    assert refused["errors"][0]["loc"] == ["body", "instruments", 0, "reference_price_fen"]
    for bad in (
        new_market("Upper-Case"),
        new_market("bad-symbol", instruments=[{"symbol": "GOLD", "reference_price_fen": 1}]),
        new_market("twice", instruments=[{"symbol": CEA, "reference_price_fen": 1}] * 2),
        new_market("no-instruments", instruments=[]),
    ):
        assert_problem(exchange.post("/v1/markets", json=bad), 422, "INVALID_REQUEST")
    saturday = exchange.post("/v1/markets", json=new_market("weekend", open_day="2026-03-07"))
    assert assert_problem(saturday, 409, "NOT_A_TRADING_DAY")["trading_day"] == "2026-03-07"
    ids = [m["market_id"] for m in ok(exchange.get("/v1/markets"))["markets"]]
    assert not {"bad-set", "bad-price", "weekend"} & set(ids)


def test_a_market_id_is_created_once(exchange: httpx.Client) -> None:
    ok(exchange.post("/v1/markets", json=new_market("once")), 201)
    again = exchange.post("/v1/markets", json=new_market("once"))
    assert assert_problem(again, 409, "MARKET_EXISTS")["market_id"] == "once"
    demo = exchange.post("/v1/markets", json=new_market("demo"))
    assert assert_problem(demo, 409, "MARKET_EXISTS")["market_id"] == "demo"


def test_only_an_exchange_wide_operator_creates_markets(
    server: DemoServer, exchange: httpx.Client, operator: httpx.Client, p001: httpx.Client
) -> None:
    for c in (operator, p001):  # the demo market's own operator, and a participant
        refused = assert_problem(
            c.post("/v1/markets", json=new_market("not-mine")), 403, "FORBIDDEN"
        )
        assert refused["role"] in ("operator", "participant")
    assert_problem(exchange.get("/v1/markets/not-mine"), 404, "UNKNOWN_MARKET")
    # The exchange-wide key acts as any market's operator.
    issued = ok(exchange.post("/v1/markets/demo/keys", json={"role": "observer"}), 201)
    assert issued["key_id"] == key_id_of(issued["api_key"])
    ok(exchange.post("/v1/markets", json=new_market("seen")), 201)
    everything = [m["market_id"] for m in ok(exchange.get("/v1/markets"))["markets"]]
    assert {"demo", "seen"} <= set(everything)
    assert everything == sorted(everything)
    with client(server, issued["api_key"]) as observer:
        own = ok(observer.get("/v1/markets"))["markets"]
        assert [m["market_id"] for m in own] == ["demo"]
        assert own[0]["instruments"] == ["CEA2025"]
        assert_problem(observer.get("/v1/markets/seen"), 403, "FORBIDDEN")
        assert_problem(observer.get("/v1/markets/seen/instruments"), 403, "FORBIDDEN")
        assert ok(observer.get("/v1/markets/demo"))["market_id"] == "demo"
    assert_problem(p001.get("/v1/markets/seen/quotes/CEA2025"), 403, "FORBIDDEN")


def test_the_book_shows_as_many_levels_as_asked(p001: httpx.Client) -> None:
    placed = [ok(place(p001, price_fen=5500 + 10 * i, qty_t=10), 201) for i in range(8)]
    deep = ok(p001.get("/v1/markets/demo/book/CEA2025", params={"depth": 8}))
    prices = [level["price_fen"] for level in deep["bids"]]
    assert len(prices) >= 8
    assert prices == sorted(prices, reverse=True)  # best first
    assert {5500 + 10 * i for i in range(8)} <= set(prices)
    assert len(ok(p001.get("/v1/markets/demo/book/CEA2025"))["bids"]) == 5  # the default
    for depth in (0, 201):
        bad = p001.get("/v1/markets/demo/book/CEA2025", params={"depth": depth})
        assert_problem(bad, 422, "INVALID_REQUEST")
    for order in placed:
        ok(p001.delete(f"/v1/markets/demo/orders/{order['order_id']}"))


def test_bars_aggregate_the_trades_exactly(server: DemoServer, exchange: httpx.Client) -> None:
    ok(exchange.post("/v1/markets", json=new_market("bars-b")), 201)
    buyer_key, seller_key = traders(server, exchange, "bars-b")
    prices = [(8000, 100), (8100, 50), (7900, 30), (8050, 20)]
    with client(server, buyer_key) as buyer, client(server, seller_key) as seller:
        for price, qty in prices:
            trade(buyer, seller, "bars-b", price, qty)
    m = "/v1/markets/bars-b"
    # The first read of the market's data finds the last trade on the tape.
    listed = ok(exchange.get(f"{m}/instruments"))["instruments"][0]
    assert (listed["last_price_fen"], listed["open_fen"], listed["volume_t"]) == (8050, 8000, 200)
    day = ok(exchange.get(f"{m}/bars/{CEA}", params={"interval": "1d"}))
    assert (day["interval"], day["timezone"]) == ("1d", "Asia/Shanghai")
    [bar] = day["bars"]
    turnover = sum(p * q for p, q in prices)
    assert bar == {
        **bar,
        "open_fen": 8000,
        "high_fen": 8100,
        "low_fen": 7900,
        "close_fen": 8050,
        "volume_t": 200,
        "turnover_fen": turnover,
        "trade_count": 4,
    }
    tape = ok(exchange.get(f"{m}/trades"))["trades"]
    assert all(bar["start_ns"] <= t["ts_ns"] < bar["end_ns"] for t in tape)
    minutes = ok(exchange.get(f"{m}/bars/{CEA}", params={"interval": "1m"}))["bars"]
    assert sum(b["volume_t"] for b in minutes) == 200
    assert sum(b["turnover_fen"] for b in minutes) == turnover
    assert minutes[0]["open_fen"] == 8000
    assert minutes[-1]["close_fen"] == 8050
    latest = ok(exchange.get(f"{m}/bars/{CEA}", params={"interval": "1m", "limit": 1}))["bars"]
    assert latest == minutes[-1:]
    last_ts = max(t["ts_ns"] for t in tape)
    after = {"interval": "1h", "start_ns": last_ts + 1}
    assert ok(exchange.get(f"{m}/bars/{CEA}", params=after))["bars"] == []
    window = {"interval": "1d", "start_ns": 0, "end_ns": last_ts + 1}
    assert ok(exchange.get(f"{m}/bars/{CEA}", params=window))["bars"] == [bar]
    refused: list[dict[str, str | int]] = [
        {"interval": "2m"},
        {},
        {"interval": "1m", "limit": 1001},
        {"interval": "1m", "start_ns": 5, "end_ns": 5},
    ]
    for params in refused:
        assert_problem(exchange.get(f"{m}/bars/{CEA}", params=params), 422, "INVALID_REQUEST")
    assert_problem(
        exchange.get(f"{m}/bars/CEA1999", params={"interval": "1m"}), 404, "UNKNOWN_INSTRUMENT"
    )


def test_a_market_without_a_clock_trades_at_its_days_open(
    server: DemoServer, exchange: httpx.Client
) -> None:
    """No clock, a day not today (2026-03-02): its trades are stamped at that day's open,
    09:30 Asia/Shanghai = 01:30 UTC, not at market time 0 (1970-01-01)."""
    ok(exchange.post("/v1/markets", json=new_market("unclocked-c")), 201)
    buyer_key, seller_key = traders(server, exchange, "unclocked-c")
    with client(server, buyer_key) as buyer, client(server, seller_key) as seller:
        trade(buyer, seller, "unclocked-c", 8000, 10)
    opens = dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC).timestamp()
    [on_tape] = ok(exchange.get("/v1/markets/unclocked-c/trades"))["trades"]
    assert on_tape["ts_ns"] == int(opens) * 1_000_000_000
    [bar] = ok(exchange.get(f"/v1/markets/unclocked-c/bars/{CEA}", params={"interval": "1d"}))[
        "bars"
    ]
    midnight = dt.datetime(2026, 3, 1, 16, 0, tzinfo=dt.UTC).timestamp()  # 00:00 in Shanghai
    assert bar["start_ns"] == int(midnight) * 1_000_000_000


def test_an_ended_day_publishes_the_rules_close(server: DemoServer, exchange: httpx.Client) -> None:
    """10,000 t at 80.00 and 30,000 t at 84.00: the close is their VWAP, 83.00, in getQuote and
    the daily bar once the day has ended, and tomorrow's band is 83.00 ± 10 %."""
    m = "/v1/markets/close-e"
    ok(exchange.post("/v1/markets", json=new_market("close-e")), 201)
    buyer = {"account_id": "B1", "name": "Buyer", "cash_fen": 400_000_000}
    seller = {
        "account_id": "S1",
        "name": "Seller",
        "allowances": [{"vintage": 2025, "qty_t": 40_000}],
    }
    buyer_key = ok(exchange.post(f"{m}/participants", json=buyer), 201)["api_key"]
    seller_key = ok(exchange.post(f"{m}/participants", json=seller), 201)["api_key"]
    with client(server, buyer_key) as b, client(server, seller_key) as s:
        trade(b, s, "close-e", 8000, 10_000)
        trade(b, s, "close-e", 8400, 30_000)
    during = ok(exchange.get(f"{m}/quotes/{CEA}"))
    assert (during["last_price_fen"], during["close_fen"]) == (8400, 8400)  # so far
    ok(exchange.post(f"{m}/session/close-day"))
    ok(exchange.post(f"{m}/session/end-of-day"))
    after = ok(exchange.get(f"{m}/quotes/{CEA}"))
    vwap = (10_000 * 8000 + 30_000 * 8400) // 40_000
    assert vwap == 8300
    assert (after["last_price_fen"], after["close_fen"], after["open_fen"]) == (8400, vwap, 8000)
    assert (after["band_lower_fen"], after["band_upper_fen"]) == (7470, 9130)  # 83.00 ± 10 %
    [bar] = ok(exchange.get(f"{m}/bars/{CEA}", params={"interval": "1d"}))["bars"]
    assert (bar["open_fen"], bar["high_fen"], bar["close_fen"]) == (8000, 8400, vwap)
    minutes = ok(exchange.get(f"{m}/bars/{CEA}", params={"interval": "1m"}))["bars"]
    assert minutes[-1]["close_fen"] == 8400  # intraday bars close at their last trade


def test_the_position_limit_counts_every_vintage(
    server: DemoServer, exchange: httpx.Client
) -> None:
    """cn_national: a participant holds at most 1,000,000 t of CEA, every vintage counted.
    999,999 t of CEA2024 (not listed here) plus a buy of 2 t of CEA2025 is refused."""
    m = "/v1/markets/limits-f"
    ok(exchange.post("/v1/markets", json=new_market("limits-f")), 201)
    holder = {
        "account_id": "H1",
        "name": "Holder",
        "cash_fen": 1_000_000,
        "allowances": [{"vintage": 2024, "qty_t": 999_999}],
    }
    key = ok(exchange.post(f"{m}/participants", json=holder), 201)["api_key"]
    with client(server, key) as h:
        order = {"symbol": CEA, "side": "buy", "qty_t": 2, "price_fen": 8000}
        body = assert_problem(h.post(f"{m}/orders", json=order), 409, "POSITION_LIMIT_EXCEEDED")
        assert (body["position_t"], body["requested_t"], body["limit_t"]) == (
            999_999,
            2,
            1_000_000,
        )
        ok(h.post(f"{m}/orders", json={**order, "qty_t": 1}), 201)  # up to the limit


def test_a_created_market_survives_a_restart(tmp_path_factory: pytest.TempPathFactory) -> None:
    database = tmp_path_factory.mktemp("markets-restart") / "demo.db"
    holiday = {"calendar": {"holidays": ["2026-03-03"]}}  # dates as ISO text
    first = start_demo(database)
    try:
        with client(first, first.keys["exchange_operator_key"]) as exchange:
            closed = exchange.post(
                "/v1/markets", json=new_market("h", overrides=holiday, open_day="2026-03-03")
            )
            assert assert_problem(closed, 409, "NOT_A_TRADING_DAY")["trading_day"] == "2026-03-03"
            created = ok(
                exchange.post("/v1/markets", json=new_market("kept", overrides=holiday)), 201
            )
    finally:
        first.stop()
    second = start_demo(database)
    try:
        with client(second, second.keys["exchange_operator_key"]) as exchange:
            recovered = ok(exchange.get("/v1/markets/kept"))
            assert recovered == {**created, "last_seq": recovered["last_seq"]}
            assert recovered["overrides"] == holiday
            assert recovered["last_seq"] >= created["last_seq"]
            again = exchange.post("/v1/markets", json=new_market("kept"))
            assert_problem(again, 409, "MARKET_EXISTS")
        # `carbonx keys issue` mints keys for `carbonx serve` users, beside a running server.
        url = f"sqlite+aiosqlite:///{database}"
        key = keys_issue("--database-url", url, "--market", "*", "--role", "operator")
        assert key.returncode == 0, key.stderr
        with client(second, key.stdout.strip()) as issued:
            ok(issued.post("/v1/markets", json=new_market("by-cli")), 201)
            everything = [m["market_id"] for m in ok(issued.get("/v1/markets"))["markets"]]
            assert {"by-cli", "demo", "kept"} <= set(everything)
        with pytest.raises(SystemExit, match="no market 'nope'"):
            asyncio.run(issue_key(url, "nope", Role.OBSERVER, None))
        with pytest.raises(SystemExit, match="one market"):
            asyncio.run(issue_key(url, "*", Role.PARTICIPANT, "P1"))
    finally:
        second.stop()


def keys_issue(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "exchange.cli", "keys", "issue", *args]
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
