"""Auctions through the API, against a real server on SQLite and on PostgreSQL: an operator
publishes a notice, participants bid, the operator closes it; the result and everyone's cash
and units follow the worked numbers; refusals carry their numbers; the Python client has every
operation.

Each test makes its own market under Guangdong's rules (bids of at least 1,000 t, a bidder at
most 50 % of the volume, uniform price, bids binding), CEA2025 first referenced at CNY 10.00,
opened on Monday 2 March 2026 with a stepped clock at 09:30 Beijing time. GOV, the seller,
holds 1,000,000 t; A, B, C and D hold CNY 5,000,000 each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import httpx
import pytest

from exchange.client import Client, RefusedError
from tests.api import test_block
from tests.api.conftest import client
from tests.api.server import DemoServer
from tests.api.test_block import block_feed, unique
from tests.api.test_gateway import assert_problem
from tests.integration.conftest import postgres_url  # noqa: F401 - the fixture
from tests.markets import CNY, holder, market_ns, ok, open_market

server = test_block.server  # a real server on SQLite and on PostgreSQL, per module

CEA = "CEA2025"
DAY1 = dt.date(2026, 3, 2)
START_FEN = 5_000_000 * CNY


def at(local: str, day: dt.date = DAY1) -> int:
    return market_ns(day, local)


@dataclass
class Room:
    m: str
    market_id: str
    keys: dict[str, str]
    people: dict[str, httpx.Client]
    operator: httpx.Client

    def advance(self, local: str) -> None:
        ok(self.operator.post(f"{self.m}/clock/advance", json={"to": at(local)}))

    def balances(self, account: str) -> tuple[int, int]:
        """(available cash, available CEA2025) of ``account``."""
        found = ok(self.operator.get(f"{self.m}/accounts/{account}/balances"))
        holding: dict[str, int] = next((h for h in found["holdings"] if h["unit"] == CEA), {})
        return found["cash"]["available_fen"], holding.get("available_t", 0)


@contextmanager
def auction_room(server: DemoServer, market_id: str) -> Iterator[Room]:
    m = f"/v1/markets/{market_id}"
    with ExitStack() as stack:
        exchange = stack.enter_context(client(server, server.keys["exchange_operator_key"]))
        people = {"GOV": holder(units_t=1_000_000), **{who: holder(START_FEN) for who in "ABCD"}}
        keys = open_market(exchange, market_id, "guangdong_pilot", {CEA: 1_000}, DAY1, people)
        clients = {who: stack.enter_context(client(server, key)) for who, key in keys.items()}
        yield Room(m, market_id, keys, clients, exchange)


def test_an_auction_published_bid_and_closed(server: DemoServer) -> None:
    """500,000 t over a ¥9.37 reserve. A bids 200,000 t at ¥10.50, B 150,000 t at ¥10.00,
    C 250,000 t at ¥9.88, D 100,000 t at ¥9.40: 700,000 t, cover 1.40. A and B fill, C gets
    the 150,000 t left; all pay ¥9.88; GOV receives ¥4,940,000; D keeps its cash."""
    with auction_room(server, unique("auction", server)) as r:
        notice = {
            "seller": "GOV",
            "symbol": CEA,
            "volume_t": 500_000,
            "reserve_fen": 937,
            "opens_ns": at("10:00"),
            "closes_ns": at("11:30"),
            "seed": 7,
        }
        refused = assert_problem(
            r.people["A"].post(f"{r.m}/auctions", json=notice), 403, "FORBIDDEN"
        )
        assert refused["role"] == "participant"
        published = ok(r.operator.post(f"{r.m}/auctions", json=notice), 201)["auction"]
        assert published == {
            **published,
            "auction_id": 1,
            "volume_t": 500_000,
            "reserve_fen": 937,
            "open_now": False,
            "min_bid_t": 1_000,
            "cap_t": 250_000,
            "bids_revocable": False,
            "seed": 7,
            "bid_t": 0,
        }
        early = r.people["A"].post(
            f"{r.m}/auctions/1/bids", json={"price_fen": 1_050, "qty_t": 1_000}
        )
        assert assert_problem(early, 409, "AUCTION_WINDOW_CLOSED")["opens_ns"] == at("10:00")
        r.advance("10:05")
        book = {
            "A": (1_050, 200_000),
            "B": (1_000, 150_000),
            "C": (988, 250_000),
            "D": (940, 100_000),
        }
        for who, (price, qty) in book.items():
            placed = ok(
                r.people[who].post(
                    f"{r.m}/auctions/1/bids", json={"price_fen": price, "qty_t": qty}
                ),
                201,
            )
            assert placed["bid"]["held_fen"] == price * qty
        low = r.people["D"].post(f"{r.m}/auctions/1/bids", json={"price_fen": 900, "qty_t": 1_000})
        assert assert_problem(low, 409, "AUCTION_BELOW_RESERVE")["reserve_fen"] == 937
        over = r.people["C"].post(f"{r.m}/auctions/1/bids", json={"price_fen": 990, "qty_t": 1_000})
        assert assert_problem(over, 409, "AUCTION_OVER_CAP")["cap_t"] == 250_000
        binding = r.people["A"].delete(f"{r.m}/auctions/bids/1")
        assert assert_problem(binding, 409, "AUCTION_BIDS_BINDING")["bid_id"] == 1
        # A sees its own bid; the operator every bid and the cover so far.
        [mine] = ok(r.people["A"].get(f"{r.m}/auctions"))["auctions"]
        assert [(b["bid_id"], b["held_fen"]) for b in mine["bids"]] == [(1, 210_000_000)]
        assert (mine["bid_t"], mine["seed"]) == (None, None)
        [seen] = ok(r.operator.get(f"{r.m}/auctions"))["auctions"]
        assert (seen["bid_t"], seen["bidders"], seen["cover_bp"], seen["open_now"]) == (
            700_000,
            4,
            14_000,
            True,
        )
        assert r.balances("A")[0] == START_FEN - 210_000_000
        early_close = r.operator.post(f"{r.m}/auctions/1/close", json={})
        assert assert_problem(early_close, 409, "AUCTION_WINDOW_OPEN")["closes_ns"] == at("11:30")
        r.advance("11:31")
        result = ok(r.operator.post(f"{r.m}/auctions/1/close", json={}))
        assert result == {
            **result,
            "status": "cleared",
            "price_fen": 988,
            "sold_t": 500_000,
            "unsold_t": 0,
            "bid_t": 700_000,
            "cover_bp": 14_000,
            "bidders": 4,
            "winners": 3,
            "revenue_fen": 494_000_000,
        }
        assert [(a["account_id"], a["qty_t"]) for a in result["awards"]] == [
            ("A", 200_000),
            ("B", 150_000),
            ("C", 150_000),
        ]
        assert r.balances("GOV") == (494_000_000, 500_000)
        for who, won in (("A", 200_000), ("B", 150_000), ("C", 150_000), ("D", 0)):
            assert r.balances(who) == (START_FEN - 988 * won, won)
        # Everyone reads the result; a participant sees only its own award.
        [public] = ok(r.people["D"].get(f"{r.m}/auctions/results"))["results"]
        assert (public["price_fen"], public["awards"]) == (988, [])
        [own] = ok(r.people["C"].get(f"{r.m}/auctions/results"))["results"]
        assert [(a["account_id"], a["qty_t"]) for a in own["awards"]] == [("C", 150_000)]
        assert ok(r.operator.get(f"{r.m}/auctions"))["auctions"] == []
        gone = r.operator.post(f"{r.m}/auctions/1/close", json={})
        assert assert_problem(gone, 409, "AUCTION_GONE")["auction_id"] == 1


def test_the_python_client_runs_an_auction(server: DemoServer) -> None:
    """Every auction operation through ``exchange.client.Client``; the reserve price from the
    rule set (0.8 × the listed VWAP: no listed trade yet, so the notice must state one)."""
    with auction_room(server, unique("auction-client", server)) as r, ExitStack() as stack:
        operator = stack.enter_context(
            Client(server.base_url, server.keys["exchange_operator_key"], r.market_id)
        )
        a = stack.enter_context(Client(server.base_url, r.keys["A"], r.market_id))
        with pytest.raises(RefusedError) as no_reserve:
            operator.publish_auction("GOV", CEA, 10_000, at("10:00"), at("11:30"))
        assert no_reserve.value.code == "AUCTION_BAD_NOTICE"
        assert "state a reserve price" in no_reserve.value["problem"]
        notice = operator.publish_auction(
            "GOV", CEA, 10_000, at("10:00"), at("11:30"), reserve_fen=800
        )["auction"]
        assert (notice["auction_id"], notice["reserve_fen"]) == (1, 800)
        assert a.list_auctions()["offered"] is True
        r.advance("10:01")
        bid = a.submit_bid(1, 900, 5_000)
        assert (bid["bid"]["bid_id"], bid["bid"]["held_fen"]) == (1, 4_500_000)
        r.advance("11:30")
        result = operator.close_auction(1)
        assert (result["price_fen"], result["sold_t"], result["unsold_t"]) == (900, 5_000, 5_000)
        assert a.list_auction_results()["results"][0]["awards"][0]["qty_t"] == 5_000
        with pytest.raises(RefusedError) as gone:
            a.withdraw_bid(1)
        assert gone.value.code == "AUCTION_BID_GONE"


def test_the_auctions_channel_tells_notices_and_results_not_bids(server: DemoServer) -> None:
    with (
        auction_room(server, unique("auction-feed", server)) as r,
        block_feed(server, r.market_id, r.keys["D"]) as feed,
    ):
        feed.send(op="subscribe", channel="auctions")
        feed.next("subscribed", channel="auctions")
        board = feed.next("auction_board")
        assert (board["offered"], board["auctions"]) == (True, [])
        notice = {
            "seller": "GOV",
            "symbol": CEA,
            "volume_t": 10_000,
            "reserve_fen": 900,
            "opens_ns": at("10:00"),
            "closes_ns": at("11:30"),
        }
        published = ok(r.operator.post(f"{r.m}/auctions", json=notice), 201)
        told = feed.next("auction", event="published")
        assert told["market_seq"] == published["seq"]
        assert told["notice"]["reserve_fen"] == 900
        assert "seed" not in told["notice"]  # the draw's seed: operators only
        r.advance("10:05")
        ok(
            r.people["A"].post(f"{r.m}/auctions/1/bids", json={"price_fen": 950, "qty_t": 4_000}),
            201,
        )
        r.advance("11:30")
        ok(r.operator.post(f"{r.m}/auctions/1/close", json={}))
        result = feed.next("auction", event="cleared")["result"]
        assert (result["price_fen"], result["sold_t"], result["unsold_t"]) == (
            950,
            4_000,
            6_000,
        )
        assert "awards" not in result
        assert [m["event"] for m in feed.seen if m["type"] == "auction"] == [
            "published",
            "cleared",
        ]
