"""Block agreement trades (大宗协议) through the API, against a real server on SQLite and on
PostgreSQL: two participants negotiate and confirm, both see the deal, their cash and holdings
move by the worked numbers, the units bought are sellable from the next trading day (T+1);
every refusal with its numbers; the board's price hiding and directed quotes; the trade tape's
modes and the daily bulletin's listed and block volumes apart; the WebSocket ``block`` channel.

Each test makes its own market (``cn_national``, CEA2025 first referenced at CNY 60.00, opened
on Monday 2 March 2026) with fees of 30 bp (buy) and 25 bp (sell), rounded down, and three
participants: S holds 150,000 t of CEA2025 and CNY 100,000; B holds CNY 20,000,000; X holds
CNY 1,000,000. A stepped clock takes the market into the block session, 13:00-15:00 Beijing
time (a market without a clock stands at its day's open, 09:30). The national block rules: a
quote or deal of at least 100,000 t, priced within ±30 % of the previous listed close
(CNY 42.00-78.00 on the first day).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from websockets.sync.client import connect

from exchange.agents.base import (
    Abate,
    AcceptBlock,
    BlockInfo,
    BlockQuoteInfo,
    CancelBlock,
    PostBlock,
)
from exchange.agents.remote import read_view, send_action
from exchange.cli import prepare_demo
from exchange.client import AsyncClient, Client, NotFoundError, RefusedError
from matching.types import Side
from tests.api.conftest import client
from tests.api.server import DemoServer, start_demo, start_serve
from tests.api.test_database_blip import admin
from tests.api.test_gateway import assert_problem
from tests.api.test_ws import Feed, ws_url
from tests.integration.conftest import postgres_url  # noqa: F401 - the fixture
from tests.markets import CNY, holder, market_ns, ok, open_market

CEA = "CEA2025"
DAY1, DAY2 = dt.date(2026, 3, 2), dt.date(2026, 3, 3)  # a Monday and a Tuesday
FEES = {"settlement": {"fee_bp_buy": 30, "fee_bp_sell": 25}}
WAIT_S = 10.0


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoServer]:
    """A real server on SQLite (``carbonx demo``) or PostgreSQL (``carbonx serve`` on a
    database of its own that ``prepare_demo`` filled)."""
    where = tmp_path_factory.mktemp(f"block-{request.param}")
    if request.param == "sqlite":
        running = start_demo(where / "demo.db")
        try:
            yield running
        finally:
            running.stop()
        return
    base: str = request.getfixturevalue("postgres_url")
    name = f"carbonx_block_{uuid.uuid4().hex[:10]}"
    asyncio.run(admin(base, f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        keys = asyncio.run(prepare_demo(url))
        running = start_serve(url, where, keys)
        try:
            yield running
        finally:
            running.stop()
    finally:
        asyncio.run(admin(base, f'DROP DATABASE "{name}" WITH (FORCE)'))


at = market_ns  # market time (ns) of a Beijing time of day


@dataclass
class Desk:
    """One test's market: its path, its participants' clients and its operator."""

    server: DemoServer
    market_id: str
    m: str
    keys: dict[str, str]
    s: httpx.Client
    b: httpx.Client
    x: httpx.Client
    operator: httpx.Client

    def advance(self, day: dt.date, local: str) -> None:
        ok(self.operator.post(f"{self.m}/clock/advance", json={"to": at(day, local)}))

    def post(self, c: httpx.Client, side: str, qty: Any, price: int, **more: Any) -> Any:
        body = {"symbol": CEA, "side": side, "qty_t": qty, "price_fen": price, **more}
        return c.post(f"{self.m}/block/quotes", json=body)

    def balances(self, account: str) -> tuple[dict[str, int], dict[str, int]]:
        """(cash, CEA2025 holding) of ``account``."""
        found = ok(self.operator.get(f"{self.m}/accounts/{account}/balances"))
        holding: dict[str, int] = next((h for h in found["holdings"] if h["unit"] == CEA), {})
        return found["cash"], holding


@contextmanager
def block_market(
    server: DemoServer,
    market_id: str,
    overrides: dict[str, Any] | None = None,
    s_units: int = 150_000,
) -> Iterator[Desk]:
    """A fresh market with S (``s_units`` of CEA2025), B and X, a stepped clock at the day's
    open (09:30)."""
    m = f"/v1/markets/{market_id}"
    with ExitStack() as stack:
        exchange = stack.enter_context(client(server, server.keys["exchange_operator_key"]))
        people = {
            "S": holder(100_000 * CNY, s_units),
            "B": holder(20_000_000 * CNY),
            "X": holder(1_000_000 * CNY),
        }
        overrides = {**FEES, **(overrides or {})}
        keys = open_market(
            exchange, market_id, "cn_national", {CEA: 6_000}, DAY1, people, overrides
        )
        s, b, x = (stack.enter_context(client(server, keys[who])) for who in "SBX")
        yield Desk(server, market_id, m, keys, s, b, x, exchange)


def unique(name: str, server: DemoServer) -> str:
    return f"{name}-{server.base_url.rsplit(':', 1)[-1]}"


# ---------------------------------------------------------------------- a negotiated deal


def test_two_participants_negotiate_confirm_and_settle_t_plus_1(server: DemoServer) -> None:
    with block_market(server, unique("deal", server)) as d:
        # 09:30: no block session yet.
        board = ok(d.b.get(f"{d.m}/block/quotes"))
        assert (board["offered"], board["open_now"], board["quotes"]) == (True, False, [])
        assert board["sessions"] == [["13:00", "15:00"]]
        assert (board["min_qty_t"], board["band_bp"], board["timezone"], board["directed"]) == (
            100_000,
            3_000,
            "Asia/Shanghai",
            True,
        )
        # Today's block band: 60.00 ± 30 % = 42.00-78.00.
        assert board["bands"] == [
            {"symbol": CEA, "reference_price_fen": 6_000, "lower_fen": 4_200, "upper_fen": 7_800}
        ]
        d.advance(DAY1, "13:05")
        assert ok(d.b.get(f"{d.m}/block/quotes"))["open_now"] is True

        # S offers 150,000 t at CNY 58.00: it holds the units.
        posted = ok(d.post(d.s, "sell", 150_000, 5_800), 201)
        quote = posted["quote"]
        assert quote == {
            "quote_id": 1,
            "symbol": CEA,
            "side": "sell",
            "price_fen": 5_800,
            "qty_t": 150_000,
            "account_id": "S",
            "counterparty": None,
            "ts_ns": at(DAY1, "13:05"),
            "mine": True,
        }
        assert d.balances("S")[1]["held_t"] == 150_000
        seen_by_b = ok(d.b.get(f"{d.m}/block/quotes"))["quotes"]
        assert seen_by_b == [{**quote, "mine": False}]

        # B opens at 120,000 t × CNY 56.00: it holds 672,000,000 fen + 30 bp (2,016,000).
        opened = ok(
            d.b.post(
                f"{d.m}/block/quotes/1/negotiations", json={"price_fen": 5_600, "qty_t": 120_000}
            ),
            201,
        )["negotiation"]
        assert opened == {
            "negotiation_id": 1,
            "quote_id": 1,
            "symbol": CEA,
            "side": "buy",
            "role": "opener",
            "counterparty": "S",
            "price_fen": 5_600,
            "qty_t": 120_000,
            "proposed_by": "B",
            "my_turn": False,
            "rounds": 1,
            "ts_ns": at(DAY1, "13:05"),
        }
        cash, _ = d.balances("B")
        assert (cash["available_fen"], cash["held_fen"]) == (
            2_000_000_000 - 674_016_000,
            674_016_000,
        )
        [at_s] = ok(d.s.get(f"{d.m}/block/negotiations"))["negotiations"]
        assert (at_s["role"], at_s["side"], at_s["counterparty"], at_s["my_turn"]) == (
            "poster",
            "sell",
            "B",
            True,
        )
        assert ok(d.x.get(f"{d.m}/block/negotiations"))["negotiations"] == []
        # The operator's board counts the open negotiations (its console's block activity);
        # a participant's does not (it reads its own in full).
        assert ok(d.operator.get(f"{d.m}/block/quotes"))["negotiations_open"] == 1
        assert ok(d.x.get(f"{d.m}/block/quotes"))["negotiations_open"] is None

        # S counters at CNY 57.00; B confirms the terms it saw.
        countered = ok(
            d.s.post(
                f"{d.m}/block/negotiations/1/counter", json={"price_fen": 5_700, "qty_t": 120_000}
            )
        )["negotiation"]
        assert (countered["rounds"], countered["proposed_by"], countered["my_turn"]) == (
            2,
            "S",
            False,
        )
        [at_b] = ok(d.b.get(f"{d.m}/block/negotiations"))["negotiations"]
        assert (at_b["price_fen"], at_b["my_turn"], at_b["rounds"]) == (5_700, True, 2)
        deal = ok(
            d.b.post(
                f"{d.m}/block/negotiations/1/confirm", json={"price_fen": 5_700, "qty_t": 120_000}
            )
        )
        # 120,000 t × CNY 57.00 = 684,000,000 fen; fees 30 bp = 2,052,000 and 25 bp = 1,710,000.
        assert deal == {
            **deal,
            "deal_id": 1,
            "ts_ns": at(DAY1, "13:05"),
            "trading_day": "2026-03-02",
            "symbol": CEA,
            "price_fen": 5_700,
            "qty_t": 120_000,
            "buy_account_id": "B",
            "sell_account_id": "S",
            "buy_fee_fen": 2_052_000,
            "sell_fee_fen": 1_710_000,
            "quote_id": 1,
            "negotiation_id": 1,
        }
        # Delivery versus payment. B: 2,000,000,000 - 684,000,000 - 2,052,000 fen; its hold
        # for the opening terms released. S: 10,000,000 + 684,000,000 - 1,710,000 fen; the
        # 30,000 t left of its quote are below the minimum: the quote closed, its units free.
        cash, held = d.balances("B")
        assert (cash["available_fen"], cash["held_fen"]) == (1_313_948_000, 0)
        assert (held["available_t"], held["held_t"], held["sellable_t"]) == (120_000, 0, 0)
        cash, held = d.balances("S")
        assert (cash["available_fen"], cash["held_fen"]) == (692_290_000, 0)
        assert (held["available_t"], held["held_t"], held["sellable_t"]) == (30_000, 0, 30_000)
        assert ok(d.s.get(f"{d.m}/block/quotes"))["quotes"] == []
        assert ok(d.s.get(f"{d.m}/block/negotiations"))["negotiations"] == []
        assert ok(d.operator.get(f"{d.m}/block/quotes"))["negotiations_open"] == 0

        # Both parties see the deal; a third participant none; the operator every deal.
        for c in (d.b, d.s, d.operator):
            assert ok(c.get(f"{d.m}/block/deals"))["deals"] == [deal]
        assert ok(d.b.get(f"{d.m}/block/deals", params={"day": "2026-03-02"}))["deals"] == [deal]
        assert ok(d.b.get(f"{d.m}/block/deals", params={"day": "2026-03-03"}))["deals"] == []
        assert ok(d.x.get(f"{d.m}/block/deals"))["deals"] == []
        assert ok(d.operator.get(f"{d.m}/block/deals", params={"account_id": "X"}))["deals"] == []
        [tape] = ok(d.x.get(f"{d.m}/trades"))["trades"]
        assert tape == {
            "trade_id": 1,
            "ts_ns": at(DAY1, "13:05"),
            "symbol": CEA,
            "price_fen": 5_700,
            "qty_t": 120_000,
            "aggressor": None,
            "mode": "block",
        }

        # T+1: B's 120,000 t are not sellable today, on the book either.
        order = {"symbol": CEA, "side": "sell", "qty_t": 1_000, "price_fen": 5_700}
        refused = assert_problem(d.b.post(f"{d.m}/orders", json=order), 409, "INSUFFICIENT_UNITS")
        assert (refused["requested_t"], refused["sellable_t"], refused["locked_t"]) == (
            1_000,
            0,
            120_000,
        )

        # Listed trades the same day: X buys 1,000 t at 60.00 and 3,000 t at 61.00 from S.
        for qty, price in ((1_000, 6_000), (3_000, 6_100)):
            listed = {"symbol": CEA, "qty_t": qty, "price_fen": price}
            ok(d.s.post(f"{d.m}/orders", json={**listed, "side": "sell"}), 201)
            ok(d.x.post(f"{d.m}/orders", json={**listed, "side": "buy"}), 201)
        modes = [(t["mode"], t["qty_t"]) for t in ok(d.x.get(f"{d.m}/trades"))["trades"]]
        assert modes == [("listed", 3_000), ("listed", 1_000), ("block", 120_000)]
        assert [t["mode"] for t in ok(d.x.get(f"{d.m}/trades", params={"limit": 1}))["trades"]] == [
            "listed"
        ]
        assert_problem(d.x.get(f"{d.m}/bulletin"), 404, "NO_CLEARED_DAY")

        # The next trading day: B sells what it bought.
        d.advance(DAY2, "09:35")
        sold = ok(d.b.post(f"{d.m}/orders", json=order), 201)
        assert sold["status"] == "new"

        # The bulletin of the day: the close is the VWAP of the listed trades alone,
        # (1,000 × 6,000 + 3,000 × 6,100) / 4,000 = 6,075; the block deal apart.
        bulletin = ok(d.x.get(f"{d.m}/bulletin"))
        assert bulletin == ok(d.x.get(f"{d.m}/bulletin", params={"day": "2026-03-02"}))
        assert bulletin == {
            "market_id": d.market_id,
            "trading_day": "2026-03-02",
            "cleared": True,
            "symbols": [
                {
                    "symbol": CEA,
                    "open_fen": 6_000,
                    "high_fen": 6_100,
                    "low_fen": 6_000,
                    "close_fen": 6_075,
                    "close_method": "vwap",
                    "listed_volume_t": 4_000,
                    "listed_turnover_fen": 24_300_000,
                    "block_volume_t": 120_000,
                    "block_turnover_fen": 684_000_000,
                    "volume_t": 124_000,
                    "turnover_fen": 708_300_000,
                }
            ],
            "totals": {
                "listed_volume_t": 4_000,
                "listed_turnover_fen": 24_300_000,
                "block_volume_t": 120_000,
                "block_turnover_fen": 684_000_000,
                "volume_t": 124_000,
                "turnover_fen": 708_300_000,
            },
        }
        # Today's bands come from that close: listed 60.75 ± 10 %, block ± 30 % (inward).
        book = ok(d.x.get(f"{d.m}/book/{CEA}"))
        assert (book["band_lower_fen"], book["band_upper_fen"]) == (5_468, 6_682)
        assert ok(d.x.get(f"{d.m}/block/quotes"))["bands"] == [
            {"symbol": CEA, "reference_price_fen": 6_075, "lower_fen": 4_253, "upper_fen": 7_897}
        ]
        today = ok(d.x.get(f"{d.m}/bulletin", params={"day": "2026-03-03"}))
        assert (today["cleared"], today["symbols"][0]["close_fen"]) == (False, None)
        assert today["totals"]["volume_t"] == 0


def test_a_quote_accepted_in_part_keeps_the_rest(server: DemoServer) -> None:
    """B bids for 250,000 t at 57.00; S sells it 100,000 t: the quote stays on the board with
    150,000 t (at least the minimum) and B's hold for them, released when B cancels it."""
    with block_market(server, unique("accept", server)) as d:
        d.advance(DAY1, "13:10")
        ok(d.post(d.b, "buy", 250_000, 5_700), 201)
        # S sells 100,000 t into B's bid at 57.00: 570,000,000 fen, fees 1,710,000 and
        # 1,425,000. B held 250,000 × 5,700 + 30 bp = 1,429,275,000 for its quote; it keeps
        # the hold of the 150,000 t left: 150,000 × 5,700 + 30 bp = 857,565,000.
        deal = ok(d.s.post(f"{d.m}/block/quotes/1/accept", json={"qty_t": 100_000}))
        assert (deal["buy_fee_fen"], deal["sell_fee_fen"], deal["negotiation_id"]) == (
            1_710_000,
            1_425_000,
            None,
        )
        cash, _ = d.balances("B")
        assert cash == {**cash, "held_fen": 857_565_000}
        assert cash["available_fen"] == 2_000_000_000 - 570_000_000 - 1_710_000 - 857_565_000
        [left] = ok(d.x.get(f"{d.m}/block/quotes"))["quotes"]
        assert (left["quote_id"], left["qty_t"], left["side"]) == (1, 150_000, "buy")
        cancelled = ok(d.b.delete(f"{d.m}/block/quotes/1"))
        assert (cancelled["quote_id"], cancelled["status"], cancelled["negotiations_ended"]) == (
            1,
            "cancelled",
            [],
        )
        cash, _ = d.balances("B")
        assert (cash["held_fen"], cash["available_fen"]) == (0, 1_428_290_000)


def test_the_python_client_trades_blocks(server: DemoServer) -> None:
    """Every block operation through ``exchange.client.Client``. S offers 300,000 t at 58.00;
    B walks away from a first negotiation, takes 100,000 t at the quote's price, then
    negotiates 100,000 t at 57.00; S withdraws the 100,000 t left."""
    with (
        block_market(server, unique("client", server), s_units=300_000) as d,
        Client(server.base_url, d.keys["S"], d.market_id) as s,
        Client(server.base_url, d.keys["B"], d.market_id) as b,
    ):
        d.advance(DAY1, "13:05")
        quote = s.post_block_quote(CEA, "sell", 5_800, 300_000)["quote"]
        assert (quote["quote_id"], quote["qty_t"], quote["mine"]) == (1, 300_000, True)
        first = b.open_block_negotiation(1, 5_600, 100_000)["negotiation"]
        ended = s.end_block_negotiation(first["negotiation_id"])
        assert (ended["negotiation_id"], ended["status"]) == (1, "ended")
        # 100,000 t × 58.00 = 580,000,000 fen: fees 1,740,000 (30 bp) and 1,450,000 (25 bp).
        taken = b.accept_block_quote(1, 100_000)
        assert (taken["price_fen"], taken["buy_fee_fen"], taken["sell_fee_fen"]) == (
            5_800,
            1_740_000,
            1_450_000,
        )
        assert taken["negotiation_id"] is None
        second = b.open_block_negotiation(1, 5_600, 100_000)["negotiation"]["negotiation_id"]
        assert second == 2  # an acceptance takes no negotiation id
        s.counter_block_negotiation(second, 5_700, 100_000)
        [mine] = b.list_block_negotiations()["negotiations"]
        assert (mine["price_fen"], mine["my_turn"], mine["rounds"]) == (5_700, True, 2)
        # 100,000 t × 57.00 = 570,000,000 fen: fees 1,710,000 and 1,425,000.
        agreed = b.confirm_block_deal(second, 5_700, 100_000)
        assert (agreed["deal_id"], agreed["buy_fee_fen"], agreed["sell_fee_fen"]) == (
            2,
            1_710_000,
            1_425_000,
        )
        [left] = b.list_block_quotes()["quotes"]
        assert left["qty_t"] == 100_000
        withdrawn = s.cancel_block_quote(1)
        assert (withdrawn["status"], withdrawn["negotiations_ended"]) == ("cancelled", [])
        assert s.list_block_deals(DAY1)["deals"] == [agreed, taken]
        assert b.list_block_deals(limit=1)["deals"] == [agreed]
        tape = b.list_trades(symbol=CEA)["trades"]
        assert [(t["mode"], t["trade_id"], t["price_fen"]) for t in tape] == [
            ("block", 2, 5_700),
            ("block", 1, 5_800),
        ]
        board = b.list_block_quotes()
        assert (board["quotes"], board["open_now"]) == ([], True)
        with pytest.raises(RefusedError) as refused:
            b.accept_block_quote(1)
        assert (refused.value.code, refused.value["quote_id"]) == ("BLOCK_QUOTE_GONE", 1)
        with pytest.raises(NotFoundError) as none:
            b.get_daily_bulletin()
        assert none.value.code == "NO_CLEARED_DAY"
        d.advance(DAY2, "09:35")
        bulletin = b.get_daily_bulletin(DAY1)
        assert (bulletin["totals"]["block_volume_t"], bulletin["totals"]["listed_volume_t"]) == (
            200_000,
            0,
        )
        assert bulletin["totals"]["block_turnover_fen"] == 580_000_000 + 570_000_000
        # No listed trade: the close is the previous one, 60.00; block deals do not set it.
        assert (bulletin["symbols"][0]["close_fen"], bulletin["symbols"][0]["close_method"]) == (
            6_000,
            "previous",
        )


# ---------------------------------------------------------------------- refusals


def test_every_refusal_with_its_numbers(server: DemoServer) -> None:
    with block_market(server, unique("refusals", server)) as d:
        closed = assert_problem(d.post(d.s, "sell", 100_000, 5_800), 409, "BLOCK_SESSION_CLOSED")
        assert (closed["sessions"], closed["timezone"]) == ([["13:00", "15:00"]], "Asia/Shanghai")
        d.advance(DAY1, "13:05")

        small = assert_problem(d.post(d.s, "sell", 99_999, 5_800), 409, "BLOCK_BELOW_MINIMUM")
        assert (small["qty_t"], small["min_qty_t"]) == (99_999, 100_000)
        high = assert_problem(d.post(d.s, "sell", 100_000, 7_801), 409, "BLOCK_OUTSIDE_BAND")
        assert {k: high[k] for k in ("price_fen", "lower_fen", "upper_fen", "reference_fen")} == {
            "price_fen": 7_801,
            "lower_fen": 4_200,
            "upper_fen": 7_800,
            "reference_fen": 6_000,
        }
        assert high["band_bp"] == 3_000
        self_directed = assert_problem(
            d.post(d.s, "sell", 100_000, 5_800, counterparty="S"), 409, "BLOCK_OWN_QUOTE"
        )
        assert self_directed["counterparty"] == "S"
        nobody = assert_problem(
            d.post(d.s, "sell", 100_000, 5_800, counterparty="NOBODY"), 404, "UNKNOWN_ACCOUNT"
        )
        assert nobody["account_id"] == "NOBODY"
        # X's CNY 1,000,000 cannot hold 100,000 t × 60.00 + 30 bp = 601,800,000 fen.
        poor = assert_problem(d.post(d.x, "buy", 100_000, 6_000), 409, "INSUFFICIENT_FUNDS")
        assert (poor["required_fen"], poor["available_fen"]) == (601_800_000, 100_000_000)
        short = assert_problem(d.post(d.s, "sell", 200_000, 5_800), 409, "INSUFFICIENT_UNITS")
        assert (short["requested_t"], short["sellable_t"]) == (200_000, 150_000)
        unknown = {"symbol": "CEA1999", "side": "sell", "qty_t": 100_000, "price_fen": 5_800}
        unlisted = assert_problem(
            d.s.post(f"{d.m}/block/quotes", json=unknown), 404, "UNKNOWN_INSTRUMENT"
        )
        assert unlisted["symbol"] == "CEA1999"

        # Quote 1: S to B only, 150,000 t at 58.00.
        ok(d.post(d.s, "sell", 150_000, 5_800, counterparty="B"), 201)
        own = assert_problem(
            d.s.post(f"{d.m}/block/quotes/1/accept", json={}), 409, "BLOCK_OWN_QUOTE"
        )
        assert own["quote_id"] == 1
        other = assert_problem(
            d.x.post(f"{d.m}/block/quotes/1/accept", json={}), 409, "BLOCK_NOT_COUNTERPARTY"
        )
        assert other["quote_id"] == 1
        over = assert_problem(
            d.b.post(f"{d.m}/block/quotes/1/accept", json={"qty_t": 150_001}),
            409,
            "BLOCK_QTY_OVER_QUOTE",
        )
        assert (over["quote_id"], over["qty_t"], over["quote_qty_t"]) == (1, 150_001, 150_000)
        part = assert_problem(
            d.b.post(f"{d.m}/block/quotes/1/accept", json={"qty_t": 60_000}),
            409,
            "BLOCK_BELOW_MINIMUM",
        )
        assert (part["qty_t"], part["min_qty_t"]) == (60_000, 100_000)
        missing = assert_problem(
            d.b.post(f"{d.m}/block/quotes/99/accept", json={}), 409, "BLOCK_QUOTE_GONE"
        )
        assert missing["quote_id"] == 99
        not_mine = assert_problem(d.b.delete(f"{d.m}/block/quotes/1"), 409, "BLOCK_QUOTE_GONE")
        assert not_mine["quote_id"] == 1

        # Negotiation 1: B opens at 57.00 for 120,000 t.
        terms = {"price_fen": 5_700, "qty_t": 120_000}
        ok(d.b.post(f"{d.m}/block/quotes/1/negotiations", json=terms), 201)
        turn = assert_problem(
            d.b.post(f"{d.m}/block/negotiations/1/confirm", json=terms), 409, "BLOCK_NOT_YOUR_TURN"
        )
        assert (turn["negotiation_id"], turn["proposer"]) == (1, "B")
        again = assert_problem(
            d.b.post(f"{d.m}/block/negotiations/1/counter", json=terms), 409, "BLOCK_NOT_YOUR_TURN"
        )
        assert again["proposer"] == "B"
        changed = assert_problem(
            d.s.post(f"{d.m}/block/negotiations/1/confirm", json={**terms, "price_fen": 5_750}),
            409,
            "BLOCK_TERMS_CHANGED",
        )
        assert (changed["negotiation_id"], changed["price_fen"], changed["qty_t"]) == (
            1,
            5_700,
            120_000,
        )
        stranger = assert_problem(
            d.x.post(f"{d.m}/block/negotiations/1/counter", json=terms),
            409,
            "BLOCK_NOT_COUNTERPARTY",
        )
        assert stranger["negotiation_id"] == 1
        band = assert_problem(
            d.s.post(f"{d.m}/block/negotiations/1/counter", json={**terms, "price_fen": 4_199}),
            409,
            "BLOCK_OUTSIDE_BAND",
        )
        assert (band["price_fen"], band["lower_fen"]) == (4_199, 4_200)
        ended = ok(d.s.delete(f"{d.m}/block/negotiations/1"))
        assert (ended["negotiation_id"], ended["status"]) == (1, "ended")
        over = assert_problem(
            d.s.delete(f"{d.m}/block/negotiations/1"), 409, "BLOCK_NEGOTIATION_GONE"
        )
        assert over["negotiation_id"] == 1
        late = assert_problem(
            d.b.post(f"{d.m}/block/negotiations/1/confirm", json=terms),
            409,
            "BLOCK_NEGOTIATION_GONE",
        )
        assert late["negotiation_id"] == 1
        # B's hold for the ended negotiation is back.
        assert d.balances("B")[0]["held_fen"] == 0

        # Who may do what: observers and operators do not trade blocks; bodies are strict.
        observer_key = ok(d.operator.post(f"{d.m}/keys", json={"role": "observer"}), 201)["api_key"]
        with client(server, observer_key) as observer:
            assert_problem(d.post(observer, "sell", 100_000, 5_800), 403, "FORBIDDEN")
            assert_problem(observer.get(f"{d.m}/block/deals"), 403, "FORBIDDEN")
            assert_problem(observer.get(f"{d.m}/block/negotiations"), 403, "FORBIDDEN")
        assert_problem(d.post(d.operator, "sell", 100_000, 5_800), 403, "FORBIDDEN")
        assert_problem(d.operator.get(f"{d.m}/block/negotiations"), 422, "INVALID_REQUEST")
        assert_problem(d.post(d.s, "sell", 100_000, 5_800, note="x"), 422, "INVALID_REQUEST")
        assert_problem(d.post(d.s, "sell", "100000", 5_800), 422, "INVALID_REQUEST")
        forbidden = assert_problem(
            d.s.get(f"{d.m}/block/negotiations", params={"account_id": "B"}), 403, "FORBIDDEN"
        )
        assert forbidden["account_id"] == "B"

    # Directed quotes where the rule set allows none; no block trading at all.
    with block_market(
        server,
        unique("public-only", server),
        {"trading": {"modes": {"block": {"directed": False}}}},
    ) as d:
        d.advance(DAY1, "13:05")
        directed = assert_problem(
            d.post(d.s, "sell", 100_000, 5_800, counterparty="B"),
            409,
            "BLOCK_DIRECTED_NOT_ALLOWED",
        )
        assert directed["counterparty"] == "B"
        assert ok(d.s.get(f"{d.m}/block/quotes"))["directed"] is False
    with block_market(
        server, unique("no-block", server), {"trading": {"modes": {"block": {"enabled": False}}}}
    ) as d:
        d.advance(DAY1, "13:05")
        none = assert_problem(d.post(d.s, "sell", 100_000, 5_800), 409, "BLOCK_NOT_OFFERED")
        assert none["rules"] == "cn_national"
        board = ok(d.s.get(f"{d.m}/block/quotes"))
        assert (board["offered"], board["quotes"], board["bands"], board["min_qty_t"]) == (
            False,
            [],
            [],
            None,
        )
        assert (board["band_bp"], board["negotiations_open"]) == (None, None)


# ---------------------------------------------------------------------- who sees what


def test_the_board_hides_prices_and_directed_quotes(server: DemoServer) -> None:
    """With ``board_prices = false`` a quote's price is shown to its poster, its counterparty
    and operators only; a directed quote is seen by its two parties and operators only."""
    hidden = {"trading": {"modes": {"block": {"board_prices": False}}}}
    with block_market(server, unique("hidden", server), hidden) as d:
        d.advance(DAY1, "13:05")
        ok(d.post(d.s, "sell", 100_000, 5_800), 201)  # 1: public
        ok(d.post(d.b, "buy", 100_000, 5_600, counterparty="S"), 201)  # 2: B to S
        observer_key = ok(d.operator.post(f"{d.m}/keys", json={"role": "observer"}), 201)["api_key"]
        with client(server, observer_key) as observer:
            keyed = {"S": d.s, "B": d.b, "X": d.x, "observer": observer, "operator": d.operator}
            seen = {
                who: [
                    (q["quote_id"], q["price_fen"], q["counterparty"], q["mine"])
                    for q in ok(c.get(f"{d.m}/block/quotes"))["quotes"]
                ]
                for who, c in keyed.items()
            }
        assert seen == {
            "S": [(1, 5_800, None, True), (2, 5_600, "S", False)],
            "B": [(1, None, None, False), (2, 5_600, "S", True)],
            "X": [(1, None, None, False)],
            "observer": [(1, None, None, False)],
            "operator": [(1, 5_800, None, False), (2, 5_600, "S", False)],
        }
        board = ok(d.x.get(f"{d.m}/block/quotes"))
        assert board["board_prices"] is False
        # Accepted blind, a quote deals at its own terms.
        deal = ok(d.b.post(f"{d.m}/block/quotes/1/accept", json={}))
        assert (deal["price_fen"], deal["qty_t"], deal["sell_account_id"]) == (5_800, 100_000, "S")
    with block_market(server, unique("shown", server)) as d:
        d.advance(DAY1, "13:05")
        ok(d.post(d.s, "sell", 100_000, 5_800), 201)
        [quote] = ok(d.x.get(f"{d.m}/block/quotes"))["quotes"]
        assert (quote["price_fen"], quote["counterparty"]) == (5_800, None)


# ---------------------------------------------------------------------- the block channel


@contextmanager
def block_feed(server: DemoServer, market_id: str, key: str) -> Iterator[Feed]:
    with connect(ws_url(server), open_timeout=WAIT_S) as socket:
        feed = Feed(socket)
        feed.send(op="auth", market_id=market_id, key=key)
        feed.next("authed")
        yield feed


def subscribe(feed: Feed, channel: str) -> dict[str, Any]:
    feed.send(op="subscribe", channel=channel)
    feed.next("subscribed", channel=channel)
    return feed.recv() if channel == "block" else {}


def test_the_block_channel_tells_each_step_to_the_right_parties(server: DemoServer) -> None:
    with block_market(server, unique("feed", server)) as d:
        d.advance(DAY1, "13:05")
        ok(d.post(d.s, "sell", 150_000, 5_800), 201)  # 1, before anyone listens
        with (
            block_feed(server, d.market_id, d.keys["S"]) as s,
            block_feed(server, d.market_id, d.keys["B"]) as b,
            block_feed(server, d.market_id, d.keys["X"]) as x,
        ):
            for feed in (s, b, x):
                first = subscribe(feed, "block")
                assert first["type"] == "block_board"
                assert [q["quote_id"] for q in first["quotes"]] == [1]
                assert first["negotiations"] == []
            subscribe(b, "fills")
            subscribe(b, "balances")
            b.next("balances")

            # A directed quote: its two parties are told, X is not.
            ok(d.post(d.b, "buy", 100_000, 5_900, counterparty="S"), 201)  # 2
            for feed in (s, b):
                told = feed.next("block_quote")
                assert (told["event"], told["quote"]["quote_id"]) == ("posted", 2)
                assert (told["quote"]["counterparty"], told["quote"]["price_fen"]) == ("S", 5_900)
            # A negotiation's steps: to S and B only, each seeing its own side.
            opened = ok(
                d.b.post(
                    f"{d.m}/block/quotes/1/negotiations",
                    json={"price_fen": 5_700, "qty_t": 120_000},
                ),
                201,
            )
            at_s = s.next("block_negotiation")
            at_b = b.next("block_negotiation")
            assert (at_s["event"], at_s["market_seq"]) == ("opened", opened["seq"])
            assert (at_s["negotiation"]["role"], at_s["negotiation"]["my_turn"]) == ("poster", True)
            assert at_b["negotiation"] == opened["negotiation"]
            # The deal: S confirms B's terms.
            deal = ok(
                d.s.post(
                    f"{d.m}/block/negotiations/1/confirm",
                    json={"price_fen": 5_700, "qty_t": 120_000},
                )
            )
            for feed in (s, b):
                dealt = feed.next("block_negotiation")
                assert (dealt["event"], dealt["negotiation"]["negotiation_id"]) == ("dealt", 1)
                assert feed.next("block_deal")["deal"] == deal
            fill = b.get("fill")
            assert fill == {
                **fill,
                "mode": "block",
                "deal_id": 1,
                "side": "buy",
                "price_fen": 5_700,
                "qty_t": 120_000,
                "fee_fen": 2_052_000,
                "market_seq": deal["seq"],
            }
            balances = b.get("balances", market_seq=deal["seq"])
            [units] = balances["units"]
            assert (units["unit"], units["available_t"]) == (CEA, 120_000)
            # A public quote every subscriber sees, as a marker: all X was told since its
            # board is quote 1's deal (its 30,000 t left closed it) and the marker; nothing of
            # quote 2, of the negotiation or of the deal's parties' messages.
            ok(d.post(d.b, "buy", 100_000, 5_000), 201)  # 3, public
            x.next("block_quote", event="posted")
            board_at = next(n for n, m in enumerate(x.seen) if m["type"] == "block_board")
            since = [
                (m["type"], m.get("event"), m["quote"]["quote_id"], m["quote"]["qty_t"])
                for m in x.seen[board_at + 1 :]
            ]
            assert since == [
                ("block_quote", "dealt", 1, 30_000),
                ("block_quote", "closed", 1, 30_000),
                ("block_quote", "posted", 3, 100_000),
            ]
            # The close: what is left expires, told to whoever saw it.
            d.advance(DAY1, "15:01")
            for feed, quotes in ((s, [2, 3]), (b, [2, 3]), (x, [3])):
                expired = [feed.next("block_quote", event="expired") for _ in quotes]
                assert [m["quote"]["quote_id"] for m in expired] == quotes
            x.send(op="ping", req_id="after")
            x.next("pong")
            assert [m["event"] for m in x.seen if m["type"] == "block_quote"][-1] == "expired"
            assert sum(m.get("event") == "expired" for m in x.seen) == 1


# ---------------------------------------------------------------------- live bots


def test_live_bots_read_the_board_and_send_block_actions(server: DemoServer) -> None:
    """A remote bot's view (``exchange.agents.remote``) reads the board as its account sees it
    (here with board prices hidden) and its block actions become the REST calls."""
    hidden = {"trading": {"modes": {"block": {"board_prices": False}}}}
    with block_market(server, unique("bots", server), hidden) as d:
        d.advance(DAY1, "13:05")
        ok(d.post(d.s, "sell", 150_000, 5_800), 201)  # 1

        async def scenario() -> tuple[Any, ...]:
            url = server.base_url
            async with (
                AsyncClient(url, d.keys["B"], d.market_id) as b,
                AsyncClient(url, d.keys["S"], d.market_id) as s,
            ):
                seen = await read_view(b, "B")
                assert seen is not None
                took = await send_action(b, "B", AcceptBlock(1, 100_000), "bot-1")
                bid = PostBlock(CEA, Side.BUY, 100_000, 5_500)
                posted = await send_action(b, "B", bid, "bot-2")  # 2
                at_s = await read_view(s, "S")
                withdrew = await send_action(b, "B", CancelBlock(2), "bot-3")
                after = await read_view(b, "B")
                abated = await send_action(b, "B", Abate(2026, 10), "bot-4")
                return seen, took, posted, at_s, withdrew, after, abated

        seen, took, posted, at_s, withdrew, after, abated = asyncio.run(scenario())
        # 60.00 ± 30 %, the session open; S's price hidden from B.
        assert seen.block(CEA) == BlockInfo(100_000, (4_200, 7_800), True)
        assert seen.block("CEA1999") is None
        assert list(seen.block_quotes()) == [BlockQuoteInfo(1, CEA, Side.SELL, None, 150_000, "S")]
        assert (took, posted, withdrew, abated) == (True, True, True, False)
        # S sees B's public bid without its price, and its own quote is gone: 50,000 t left
        # after B took 100,000 t is below the minimum.
        assert list(at_s.block_quotes()) == [BlockQuoteInfo(2, CEA, Side.BUY, None, 100_000, "B")]
        assert list(after.block_quotes()) == []
        assert (after.holding_t(CEA), after.sellable_t(CEA)) == (100_000, 0)  # T+1
        [deal] = ok(d.b.get(f"{d.m}/block/deals"))["deals"]
        assert (deal["price_fen"], deal["qty_t"], deal["buy_account_id"]) == (5_800, 100_000, "B")
    with block_market(
        server, unique("bots-none", server), {"trading": {"modes": {"block": {"enabled": False}}}}
    ) as d:
        d.advance(DAY1, "13:05")

        async def plain() -> Any:
            async with AsyncClient(server.base_url, d.keys["B"], d.market_id) as b:
                return await read_view(b, "B")

        view = asyncio.run(plain())
        assert (view.block(CEA), list(view.block_quotes()), view.block_offered) == (
            None,
            [],
            False,
        )


def test_block_ops_on_the_socket_answer_as_rest(server: DemoServer) -> None:
    """A participant deals blocks on its socket: each op is answered, once durable, with its
    REST reply; a refusal with its code and numbers, in a batch too; operators may not trade
    blocks."""
    with block_market(server, unique("ws-ops", server), s_units=400_000) as d:
        d.advance(DAY1, "13:05")
        with (
            block_feed(server, d.market_id, d.keys["S"]) as s,
            block_feed(server, d.market_id, d.keys["B"]) as b,
            block_feed(server, d.market_id, d.server.keys["exchange_operator_key"]) as op,
        ):

            def post(feed: Feed, side: str, qty: int, price: int) -> dict[str, Any]:
                body = {"symbol": CEA, "side": side, "qty_t": qty, "price_fen": price}
                return feed.reply(feed.op("block_post", **body))

            small = post(s, "sell", 99_999, 5_800)
            assert small["ok"] is False
            assert small["error"] == {
                **small["error"],
                "code": "BLOCK_BELOW_MINIMUM",
                "qty_t": 99_999,
                "min_qty_t": 100_000,
            }
            quote = post(s, "sell", 150_000, 5_800)["result"]["quote"]
            assert (quote["quote_id"], quote["qty_t"], quote["mine"]) == (1, 150_000, True)
            # B opens a negotiation, S counters, B confirms what stands.
            opened = b.reply(b.op("block_open", quote_id=1, price_fen=5_600, qty_t=120_000))
            negotiation = opened["result"]["negotiation"]
            assert (negotiation["negotiation_id"], negotiation["my_turn"]) == (1, False)
            terms = {"negotiation_id": 1, "qty_t": 120_000}
            countered = s.reply(s.op("block_counter", price_fen=5_700, **terms))
            assert countered["result"]["negotiation"]["my_turn"] is False
            stale = b.reply(b.op("block_confirm", price_fen=5_600, **terms))
            assert (stale["error"]["code"], stale["error"]["price_fen"]) == (
                "BLOCK_TERMS_CHANGED",
                5_700,
            )
            deal = b.reply(b.op("block_confirm", price_fen=5_700, **terms))["result"]
            assert (deal["deal_id"], deal["price_fen"], deal["qty_t"]) == (1, 5_700, 120_000)
            assert deal == ok(d.b.get(f"{d.m}/block/deals"))["deals"][0]
            # B bids; S's batch: a cancel of a quote that is not there, then the acceptance.
            assert post(b, "buy", 100_000, 5_000)["result"]["quote"]["quote_id"] == 2
            ops = [{"op": "block_cancel", "quote_id": 99}, {"op": "block_accept", "quote_id": 2}]
            gone, accepted = s.reply(s.op("batch", ops=ops))["results"]
            assert gone["error"] == {**gone["error"], "code": "BLOCK_QUOTE_GONE", "quote_id": 99}
            assert (accepted["result"]["price_fen"], accepted["result"]["qty_t"]) == (
                5_000,
                100_000,
            )
            # A negotiation ended and a quote withdrawn on the socket.
            assert post(b, "buy", 100_000, 5_100)["result"]["quote"]["quote_id"] == 3
            opened = s.reply(s.op("block_open", quote_id=3, price_fen=5_200, qty_t=100_000))
            assert opened["result"]["negotiation"]["negotiation_id"] == 2
            ended = b.reply(b.op("block_end", negotiation_id=2))["result"]
            assert (ended["negotiation_id"], ended["status"]) == (2, "ended")
            cancelled = b.reply(b.op("block_cancel", quote_id=3))["result"]
            assert (cancelled["quote_id"], cancelled["status"]) == (3, "cancelled")
            assert ok(d.b.get(f"{d.m}/block/quotes"))["quotes"] == []
            # Operators do not trade blocks; a body is checked as on REST.
            refused = op.reply(op.op("block_cancel", quote_id=1, account_id="S"))
            assert refused["error"]["code"] == "FORBIDDEN"
            bad = s.reply(s.op("block_end"))
            assert (bad["ok"], bad["error"]["code"]) == (False, "INVALID_REQUEST")


def test_the_python_client_deals_blocks_on_its_stream(server: DemoServer) -> None:
    """``exchange.client``'s stream has every block op: S offers 300,000 t at 58.00 on its
    socket, B takes 100,000 t, walks away from one negotiation and agrees another at 57.00;
    a refusal raises with its code and numbers."""

    async def scenario(d: Desk) -> None:
        s_client = AsyncClient(server.base_url, d.keys["S"], d.market_id)
        b_client = AsyncClient(server.base_url, d.keys["B"], d.market_id)
        async with s_client, b_client, s_client.stream() as s, b_client.stream() as b:
            with pytest.raises(RefusedError) as small:
                await s.block_post(CEA, "sell", 5_800, 50_000)
            assert (small.value.code, small.value["min_qty_t"]) == ("BLOCK_BELOW_MINIMUM", 100_000)
            quote = (await s.block_post(CEA, "sell", 5_800, 300_000))["quote"]
            taken = await b.block_accept(quote["quote_id"], 100_000)
            assert (taken["price_fen"], taken["qty_t"], taken["buy_fee_fen"]) == (
                5_800,
                100_000,
                1_740_000,
            )
            first = (await b.block_open(quote["quote_id"], 5_600, 100_000))["negotiation"]
            assert (await s.block_end(first["negotiation_id"]))["status"] == "ended"
            second = (await b.block_open(quote["quote_id"], 5_600, 100_000))["negotiation"]
            n = second["negotiation_id"]
            assert (await s.block_counter(n, 5_700, 100_000))["negotiation"]["price_fen"] == 5_700
            agreed = await b.block_confirm(n, 5_700, 100_000)
            assert (agreed["price_fen"], agreed["sell_fee_fen"]) == (5_700, 1_425_000)
            withdrawn = await s.block_cancel(quote["quote_id"])
            assert (withdrawn["status"], withdrawn["quote_id"]) == ("cancelled", quote["quote_id"])

    with block_market(server, unique("stream", server), s_units=300_000) as d:
        d.advance(DAY1, "13:05")
        asyncio.run(scenario(d))
        assert [deal["qty_t"] for deal in ok(d.s.get(f"{d.m}/block/deals"))["deals"]] == [
            100_000,
            100_000,
        ]
