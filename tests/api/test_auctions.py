"""Auctions through the API, against a real server on SQLite and on PostgreSQL: an operator
publishes a notice, participants bid, the operator closes it; the result and everyone's cash
and units follow the worked numbers; refusals carry their numbers; the Python client has every
operation.

Each test makes its own market under Guangdong's rules (bids of at least 1,000 t, a bidder at
most 50 % of the volume, uniform price, bids binding), CEA2025 first referenced at CNY 10.00,
opened on Monday 2 March 2026 with a stepped clock at 09:30 Beijing time. GOV, the seller,
holds 1,000,000 t; A, B, C and D hold CNY 5,000,000 each. The amendments' tests use the EU's
rules instead (lots of 500, bids revocable in the window, no reserve, 09:00-11:00 Berlin time,
the day opening at 08:00), CEA2025 first referenced at 75.00, the same people and balances
(here in euro cents).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from exchange.client import AsyncClient, Client, RefusedError
from tests.api import test_block
from tests.api.conftest import client
from tests.api.server import DemoServer
from tests.api.test_block import block_feed, unique
from tests.api.test_gateway import assert_problem
from tests.integration.conftest import postgres_url  # noqa: F401 - the fixture
from tests.markets import BERLIN, CNY, LOS_ANGELES, SHANGHAI, holder, market_ns, ok, open_market

server = test_block.server  # a real server on SQLite and on PostgreSQL, per module

CEA = "CEA2025"
DAY1 = dt.date(2026, 3, 2)
START_FEN = 5_000_000 * CNY


def at(local: str, day: dt.date = DAY1) -> int:
    return market_ns(day, local)


def berlin(local: str) -> int:
    return market_ns(DAY1, local, BERLIN)


@dataclass
class Room:
    m: str
    market_id: str
    keys: dict[str, str]
    people: dict[str, httpx.Client]
    operator: httpx.Client
    zone: ZoneInfo = SHANGHAI

    def advance(self, local: str) -> None:
        to = market_ns(DAY1, local, self.zone)
        ok(self.operator.post(f"{self.m}/clock/advance", json={"to": to}))

    def held(self, account: str) -> int:
        """Cash ``account`` has on hold."""
        found = ok(self.operator.get(f"{self.m}/accounts/{account}/balances"))
        held: int = found["cash"]["held_fen"]
        return held

    def balances(self, account: str) -> tuple[int, int]:
        """(available cash, available CEA2025) of ``account``."""
        found = ok(self.operator.get(f"{self.m}/accounts/{account}/balances"))
        holding: dict[str, int] = next((h for h in found["holdings"] if h["unit"] == CEA), {})
        return found["cash"]["available_fen"], holding.get("available_t", 0)


@contextmanager
def auction_room(
    server: DemoServer,
    market_id: str,
    rule_set: str = "guangdong_pilot",
    overrides: dict[str, Any] | None = None,
) -> Iterator[Room]:
    """A fresh market under ``rule_set`` (Guangdong's, the EU's in Berlin time, or
    California-Québec's in Los Angeles time) with GOV, A, B, C and D."""
    m = f"/v1/markets/{market_id}"
    zone = {"eu_ets": BERLIN, "ca_qc": LOS_ANGELES}.get(rule_set, SHANGHAI)
    reference = {CEA: {"eu_ets": 7_500, "ca_qc": 3_000}.get(rule_set, 1_000)}
    with ExitStack() as stack:
        exchange = stack.enter_context(client(server, server.keys["exchange_operator_key"]))
        people = {"GOV": holder(units_t=1_000_000), **{who: holder(START_FEN) for who in "ABCD"}}
        keys = open_market(exchange, market_id, rule_set, reference, DAY1, people, overrides)
        clients = {who: stack.enter_context(client(server, key)) for who, key in keys.items()}
        yield Room(m, market_id, keys, clients, exchange, zone)


def eu_notice(volume_t: int = 10_000) -> dict[str, Any]:
    """An EU auction of ``volume_t`` from GOV, bids 09:00-11:00 Berlin time, no reserve."""
    return {
        "seller": "GOV",
        "symbol": CEA,
        "volume_t": volume_t,
        "opens_ns": berlin("09:00"),
        "closes_ns": berlin("11:00"),
        "seed": 11,
    }


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
        amended = r.people["A"].put(
            f"{r.m}/auctions/bids/1", json={"price_fen": 1_100, "qty_t": 200_000}
        )
        assert assert_problem(amended, 409, "AUCTION_BIDS_BINDING")["bid_id"] == 1
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


# ---------------------------------------------------------------------- amendments


def test_an_eu_bid_amended_over_rest_moves_the_hold(server: DemoServer) -> None:
    """EU rules, 10,000 t offered, full collateral. A bids 2,000 t at 80.00 (holds
    16,000,000 cents) and 1,000 t at 75.00 (7,500,000): 23,500,000 held. A amends its first
    bid to 1,500 t at 82.00: it becomes bid 3 and holds 12,300,000, so A holds 19,800,000 and
    3,700,000 is released. Each refusal leaves the hold as it was. B bids 8,000 t at 70.00;
    at the close the 10,500 t bid clear at 70.00 and A, whose bid 1 is gone, wins 2,500 t."""
    with auction_room(server, unique("auction-amend", server), "eu_ets") as r:
        a, b = r.people["A"], r.people["B"]
        notice = ok(r.operator.post(f"{r.m}/auctions", json=eu_notice()), 201)["auction"]
        assert (notice["bids_revocable"], notice["collateral"], notice["lot_t"]) == (
            True,
            "full",
            500,
        )
        r.advance("09:05")
        first = ok(a.post(f"{r.m}/auctions/1/bids", json={"price_fen": 8_000, "qty_t": 2_000}), 201)
        ok(a.post(f"{r.m}/auctions/1/bids", json={"price_fen": 7_500, "qty_t": 1_000}), 201)
        assert first["bid"]["held_fen"] == 16_000_000
        assert r.held("A") == 23_500_000
        [before] = ok(a.get(f"{r.m}/auctions"))["auctions"]
        assert before["held_fen"] == 23_500_000

        amended = ok(a.put(f"{r.m}/auctions/bids/1", json={"price_fen": 8_200, "qty_t": 1_500}))
        assert amended == {
            "seq": amended["seq"],
            "auction_id": 1,
            "replaced_bid_id": 1,
            "bid": {
                "bid_id": 3,
                "account_id": "A",
                "price_fen": 8_200,
                "qty_t": 1_500,
                "held_fen": 12_300_000,
            },
        }
        assert amended["seq"] > first["seq"]
        assert r.held("A") == 19_800_000
        assert r.balances("A")[0] == START_FEN - 19_800_000
        [after] = ok(a.get(f"{r.m}/auctions"))["auctions"]
        assert after["held_fen"] == 19_800_000
        assert [(x["bid_id"], x["price_fen"], x["qty_t"]) for x in after["bids"]] == [
            (2, 7_500, 1_000),
            (3, 8_200, 1_500),
        ]

        # Refusals, with their numbers; none moves the hold.
        gone = a.put(f"{r.m}/auctions/bids/1", json={"price_fen": 8_200, "qty_t": 1_500})
        assert assert_problem(gone, 409, "AUCTION_BID_GONE")["bid_id"] == 1
        not_hers = b.put(f"{r.m}/auctions/bids/3", json={"price_fen": 8_200, "qty_t": 1_500})
        assert assert_problem(not_hers, 409, "AUCTION_BID_GONE")["bid_id"] == 3
        size = a.put(f"{r.m}/auctions/bids/3", json={"price_fen": 8_200, "qty_t": 750})
        assert assert_problem(size, 409, "AUCTION_BID_SIZE")["lot_t"] == 500
        # 5,000 t at 1,000.00 needs 500,000,000 - 12,300,000 more than bid 3 held.
        rich = a.put(f"{r.m}/auctions/bids/3", json={"price_fen": 100_000, "qty_t": 5_000})
        funds = assert_problem(rich, 409, "INSUFFICIENT_FUNDS")
        assert (funds["required_fen"], funds["available_fen"]) == (
            487_700_000,
            START_FEN - 19_800_000,
        )
        bad = a.put(f"{r.m}/auctions/bids/3", json={"price_fen": 8_200})
        assert_problem(bad, 422, "INVALID_REQUEST")
        assert r.held("A") == 19_800_000

        ok(b.post(f"{r.m}/auctions/1/bids", json={"price_fen": 7_000, "qty_t": 8_000}), 201)
        r.advance("11:01")
        late = a.put(f"{r.m}/auctions/bids/3", json={"price_fen": 8_300, "qty_t": 1_500})
        assert assert_problem(late, 409, "AUCTION_WINDOW_CLOSED")["auction_id"] == 1
        result = ok(r.operator.post(f"{r.m}/auctions/1/close", json={}))
        assert (result["status"], result["price_fen"], result["sold_t"]) == (
            "cleared",
            7_000,
            10_000,
        )
        assert sorted((x["bid_id"], x["account_id"], x["qty_t"]) for x in result["awards"]) == [
            (2, "A", 1_000),
            (3, "A", 1_500),
            (4, "B", 7_500),
        ]
        assert (r.held("A"), r.balances("A")[0]) == (0, START_FEN - 2_500 * 7_000)


def test_a_bid_guarantee_holds_the_most_the_bids_can_cost(server: DemoServer) -> None:
    """EU rules with a bid guarantee (California-Québec's): A's bids of 1,000 t at 80.00 and
    2,000 t at 70.00 can cost it at most 3,000 × 70.00 = 21,000,000 cents (not their values'
    22,000,000). Amending the second to 60.00: at most max(1,000 × 80.00, 3,000 × 60.00) =
    18,000,000, so 3,000,000 is released."""
    guarantee = {"auction": {"collateral": "guarantee"}}
    with auction_room(server, unique("auction-guarantee", server), "eu_ets", guarantee) as r:
        a = r.people["A"]
        ok(r.operator.post(f"{r.m}/auctions", json=eu_notice()), 201)
        r.advance("09:05")
        ok(a.post(f"{r.m}/auctions/1/bids", json={"price_fen": 8_000, "qty_t": 1_000}), 201)
        second = ok(
            a.post(f"{r.m}/auctions/1/bids", json={"price_fen": 7_000, "qty_t": 2_000}), 201
        )
        assert second["bid"]["held_fen"] == 14_000_000  # its value
        [notice] = ok(a.get(f"{r.m}/auctions"))["auctions"]
        assert (notice["collateral"], notice["held_fen"]) == ("guarantee", 21_000_000)
        assert r.held("A") == 21_000_000
        amended = ok(a.put(f"{r.m}/auctions/bids/2", json={"price_fen": 6_000, "qty_t": 2_000}))
        assert (amended["replaced_bid_id"], amended["bid"]["bid_id"]) == (2, 3)
        [notice] = ok(a.get(f"{r.m}/auctions"))["auctions"]
        assert notice["held_fen"] == r.held("A") == 18_000_000


def test_bid_ops_on_the_socket_answer_as_rest(server: DemoServer) -> None:
    """A participant bids, amends and withdraws on its socket, each op answered once durable
    with its REST reply; a refusal with its code and numbers, in a batch too; operators may not
    bid; a body is checked as on REST."""
    with auction_room(server, unique("auction-ws", server), "eu_ets") as r:
        ok(r.operator.post(f"{r.m}/auctions", json=eu_notice()), 201)
        with (
            block_feed(server, r.market_id, r.keys["A"]) as a,
            block_feed(server, r.market_id, server.keys["exchange_operator_key"]) as op,
        ):
            early = a.reply(a.op("bid_submit", auction_id=1, price_fen=8_000, qty_t=1_000))
            assert early["ok"] is False
            assert early["error"] == {
                **early["error"],
                "code": "AUCTION_WINDOW_CLOSED",
                "auction_id": 1,
                "opens_ns": berlin("09:00"),
            }
            r.advance("09:05")
            placed = a.reply(a.op("bid_submit", auction_id=1, price_fen=8_000, qty_t=1_000))
            bid = placed["result"]["bid"]
            assert (placed["result"]["auction_id"], bid["bid_id"], bid["held_fen"]) == (
                1,
                1,
                8_000_000,
            )
            amended = a.reply(a.op("bid_amend", bid_id=1, price_fen=8_100, qty_t=1_500))["result"]
            assert (amended["replaced_bid_id"], amended["bid"]["bid_id"]) == (1, 2)
            assert amended["bid"]["held_fen"] == 12_150_000
            [mine] = ok(r.people["A"].get(f"{r.m}/auctions"))["auctions"]
            assert mine["bids"] == [amended["bid"]]
            assert mine["held_fen"] == r.held("A") == 12_150_000
            # A batch: a withdrawal of the bid amended away, a new bid, an amendment of it.
            ops = [
                {"op": "bid_withdraw", "bid_id": 1},
                {"op": "bid_submit", "auction_id": 1, "price_fen": 7_900, "qty_t": 500},
                {"op": "bid_amend", "bid_id": 3, "price_fen": 7_950, "qty_t": 1_000},
            ]
            gone, new, changed = a.reply(a.op("batch", ops=ops))["results"]
            assert gone["error"] == {**gone["error"], "code": "AUCTION_BID_GONE", "bid_id": 1}
            assert (new["result"]["bid"]["bid_id"], changed["result"]["bid"]["bid_id"]) == (3, 4)
            assert r.held("A") == 12_150_000 + 7_950_000
            withdrawn = a.reply(a.op("bid_withdraw", bid_id=4))["result"]
            assert withdrawn == {**withdrawn, "auction_id": 1, "bid_id": 4, "status": "withdrawn"}
            assert r.held("A") == 12_150_000
            # Operators do not bid, not even for a participant; a body is checked as on REST.
            for refused in (
                op.reply(op.op("bid_submit", auction_id=1, price_fen=8_000, qty_t=500)),
                op.reply(op.op("bid_withdraw", bid_id=2, account_id="A")),
            ):
                assert refused["error"]["code"] == "FORBIDDEN"
            bad = a.reply(a.op("bid_amend", bid_id=2, price_fen=8_000))
            assert (bad["ok"], bad["error"]["code"]) == (False, "INVALID_REQUEST")
            stray = a.reply(a.op("bid_submit", auction_id=1, price_fen=8_000, qty_t=500, x=1))
            assert stray["error"]["code"] == "INVALID_REQUEST"
            assert r.held("A") == 12_150_000


def test_the_python_client_amends_bids_and_bids_on_its_stream(server: DemoServer) -> None:
    """``Client.amend_bid`` over REST, and the stream's ``bid_submit``, ``bid_amend`` and
    ``bid_withdraw``; a refusal raises with its code and numbers."""

    async def on_stream(r: Room) -> None:
        async with (
            AsyncClient(server.base_url, r.keys["B"], r.market_id) as b_client,
            b_client.stream() as b,
        ):
            with pytest.raises(RefusedError) as size:
                await b.bid_submit(1, 7_800, 600)
            assert (size.value.code, size.value["lot_t"]) == ("AUCTION_BID_SIZE", 500)
            placed = await b.bid_submit(1, 7_800, 1_000)  # A's bids were 1 and 2
            assert (placed["bid"]["bid_id"], placed["bid"]["held_fen"]) == (3, 7_800_000)
            amended = await b.bid_amend(3, 7_700, 2_000)
            assert (amended["replaced_bid_id"], amended["bid"]["bid_id"]) == (3, 4)
            assert amended["bid"]["held_fen"] == 15_400_000
            withdrawn = await b.bid_withdraw(4)
            assert (withdrawn["status"], withdrawn["bid_id"]) == ("withdrawn", 4)
            with pytest.raises(RefusedError) as gone:
                await b.bid_withdraw(4)
            assert (gone.value.code, gone.value["bid_id"]) == ("AUCTION_BID_GONE", 4)

    with (
        auction_room(server, unique("auction-client-amend", server), "eu_ets") as r,
        Client(server.base_url, r.keys["A"], r.market_id) as a,
    ):
        ok(r.operator.post(f"{r.m}/auctions", json=eu_notice()), 201)
        r.advance("09:05")
        assert a.submit_bid(1, 8_000, 1_000)["bid"]["bid_id"] == 1
        amended = a.amend_bid(1, 8_000, 2_000)
        assert (amended["replaced_bid_id"], amended["bid"]["bid_id"]) == (1, 2)
        assert amended["bid"]["held_fen"] == 16_000_000
        assert a.list_auctions()["auctions"][0]["held_fen"] == 16_000_000
        with pytest.raises(RefusedError) as gone:
            a.amend_bid(1, 8_000, 2_000)
        assert (gone.value.code, gone.value["bid_id"]) == ("AUCTION_BID_GONE", 1)
        asyncio.run(on_stream(r))
        assert r.held("B") == 0
        assert r.held("A") == 16_000_000


def test_california_sales_and_results_published_a_week_later(server: DemoServer) -> None:
    """California-Québec: the board offers auctions, reserve and ceiling sales. A reserve sale
    in 2026 is at tier 1's price, $41.40 in 2021 raised by 5 % + 3 % a year: $60.83, and a
    participant that is not a covered entity may not buy. An auction's result waits five
    trading days: the operator sees it unpublished, participants not at all; A, a
    participant, may win 4 % of 25,000 = 1,000."""

    def la(local: str) -> int:
        return market_ns(DAY1, local, LOS_ANGELES)

    with auction_room(server, unique("auction-caqc", server), "ca_qc") as r:
        a = r.people["A"]
        assert ok(a.get(f"{r.m}/auctions"))["sales"] == ["auction", "reserve", "ceiling"]
        terms = {"seller": "GOV", "symbol": CEA, "opens_ns": la("10:00"), "closes_ns": la("13:00")}
        sale = ok(
            r.operator.post(
                f"{r.m}/auctions", json={**terms, "volume_t": 10_000, "sale": "reserve"}
            ),
            201,
        )
        assert (sale["auction"]["sale"], sale["auction"]["reserve_fen"]) == ("reserve", 6_083)
        auction = ok(r.operator.post(f"{r.m}/auctions", json={**terms, "volume_t": 25_000}), 201)
        assert auction["auction"]["reserve_fen"] == 2_794  # $25.87 in 2025, + 8 %
        r.advance("10:05")
        refused = a.post(f"{r.m}/auctions/1/bids", json={"price_fen": 6_083, "qty_t": 1_000})
        assert assert_problem(refused, 409, "AUCTION_NOT_ELIGIBLE")["sale"] == "reserve"
        over = a.post(f"{r.m}/auctions/2/bids", json={"price_fen": 3_000, "qty_t": 2_000})
        assert assert_problem(over, 409, "AUCTION_OVER_CAP")["cap_t"] == 1_000
        ok(a.post(f"{r.m}/auctions/2/bids", json={"price_fen": 3_000, "qty_t": 1_000}), 201)
        r.advance("13:00")
        result = ok(r.operator.post(f"{r.m}/auctions/2/close", json={}))
        assert (result["published"], result["price_fen"], result["sold_t"]) == (False, 3_000, 1_000)
        assert ok(a.get(f"{r.m}/auctions/results"))["results"] == []
        [seen] = ok(r.operator.get(f"{r.m}/auctions/results"))["results"]
        assert (seen["auction_id"], seen["published"]) == (2, False)
        assert r.balances("A")[1] == 1_000  # settled at clearing all the same
