"""The campaign's judgement, without a server: which journal command an acknowledgement
promised, which answers are anomalies, and the comparisons the invariants make."""

from __future__ import annotations

from matching.types import OrderType, Side
from registry_sim.model import AccountId
from settlement.commands import AmendOrder, CancelOrder, CloseDay, PlaceOrder
from tests.faults.checks import api_balances, conservation_problems, differences
from tests.faults.ledger import Acked, Ledger

P01 = AccountId("P01")
ORDER = {"symbol": "CEA2025", "side": "buy", "qty_t": 10, "price_fen": 6_000}


def test_an_acknowledgement_matches_only_its_own_command() -> None:
    placed = Acked(5, "place", "P01", 3, {**ORDER, "client_order_id": "c-1"})
    command = PlaceOrder(
        0, P01, "CEA2025", Side.BUY, OrderType.LIMIT, 10, 6_000, client_order_id="c-1"
    )
    assert placed.matches(command)
    assert not placed.matches(command._replace(qty_t=11))
    assert not placed.matches(command._replace(client_order_id=None))
    assert not placed.matches(command._replace(account_id=AccountId("P02")))
    assert not placed.matches(CancelOrder(0, P01, 3))
    cancel = Acked(6, "cancel", "P01", 3, {"order_id": 3})
    assert cancel.matches(CancelOrder(0, P01, 3))
    assert not cancel.matches(CancelOrder(0, P01, 4))
    amend = Acked(7, "amend", "P01", 3, {"order_id": 3, "price_fen": 5_990})
    assert amend.matches(AmendOrder(0, P01, 3, 5_990, None))
    assert not amend.matches(AmendOrder(0, P01, 3, None, 5_990))
    assert not amend.matches(CloseDay(0))


def test_the_ledger_keeps_what_was_promised() -> None:
    ledger = Ledger()
    fills = [{"trade_id": 9, "price_fen": 6_000, "qty_t": 4}]
    ledger.acked(
        "place", "P01", ORDER, {"order_id": 3, "seq": 5, "repeated": False, "fills": fills}
    )
    ledger.acked("place", "P01", ORDER, {"order_id": 3, "seq": 8, "repeated": True, "fills": []})
    ledger.acked("cancel", "P01", {"order_id": 3}, {"order_id": 3, "seq": 9})
    assert sorted(ledger.commands) == [5, 8, 9]
    assert list(ledger.orders) == [3]
    assert ledger.orders[3].seq == 5
    assert ledger.cancels[3].seq == 9
    assert ledger.trades == {9}
    assert ledger.counts()["acked_orders"] == 1


def test_only_unexplained_server_errors_are_anomalies() -> None:
    ledger = Ledger(database_away=True)
    ledger.refused("a", 409, "ORDER_NOT_OPEN")
    ledger.refused("b", 503, "MARKET_RECONNECTING")
    ledger.refused("c", 429, "RATE_LIMITED")
    ledger.refused("d", 503, "DATABASE_UNAVAILABLE")
    assert ledger.anomalies == []
    ledger.database_away = False
    ledger.refused("e", 503, "DATABASE_UNAVAILABLE")
    ledger.refused("f", 503, "MARKET_STOPPED")
    ledger.refused("g", 500, "HTTP_500")
    ledger.refused("h", 422, "INVALID_REQUEST")
    assert ledger.anomalies == [
        "e: 503 DATABASE_UNAVAILABLE",
        "f: 503 MARKET_STOPPED",
        "g: 500 HTTP_500",
        "h: 422 INVALID_REQUEST",
    ]
    assert ledger.refusals["RATE_LIMITED"] == 1


def test_differences_name_where_the_server_and_the_replay_part() -> None:
    replay = {"books": {"CEA2025": {"bids": [{"price_fen": 5_990, "qty_t": 5}]}}, "n": 1}
    assert differences(replay, replay) == []
    server = {"books": {"CEA2025": {"bids": [{"price_fen": 5_990, "qty_t": 4}]}}}
    found = differences(replay, server)
    assert found[0].startswith("/books/CEA2025/bids: replay")
    assert found[1] == "/n: 1 != None"


def test_conservation_asks_every_asset_to_sum_to_zero() -> None:
    balanced = {
        ("SYS:CASH", "CNY", "available"): -100,
        ("P01", "CNY", "available"): 60,
        ("P01", "CNY", "held"): 30,
        ("SYS:FEES", "CNY", "available"): 10,
        ("SYS:ISSUANCE", "CEA2025", "available"): -5,
        ("P01", "CEA2025", "held"): 5,
    }
    assert conservation_problems(balanced) == []
    leaking = {**balanced, ("P01", "CNY", "held"): 29}
    assert conservation_problems(leaking) == ["CNY sums to -1"]
    overdrawn = {**balanced, ("P01", "CNY", "available"): -60, ("P02", "CNY", "available"): 120}
    assert conservation_problems(overdrawn) == ["P01 CNY available is -60"]
    assert conservation_problems({}) == ["no balances stored at all"]


def test_balances_read_as_asset_and_state() -> None:
    reply = {
        "account_id": "P01",
        "cash": {"available_fen": 90, "held_fen": 0, "withdrawable_fen": 90},
        "holdings": [
            {
                "unit": "CEA2025",
                "name": "CEA 2025",
                "available_t": 7,
                "held_t": 3,
                "pending_t": 0,
                "frozen_t": 0,
                "sellable_t": 7,
            },
        ],
    }
    assert api_balances(reply) == {
        "CNY/available": 90,
        "CEA2025/available": 7,
        "CEA2025/held": 3,
    }
