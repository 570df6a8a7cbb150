"""Point-select (摘牌) against a real server: ``listLevelQuotes`` shows a level's quotes,
``takeQuote`` (REST and the socket's ``take``) trades one of them at its price, and every
refusal comes back with its code and numbers.

The demo market: cn_national (point-select and price-time both; five take levels; no fees),
CEA2025 at CNY 60.00, P001 and P002 with CNY 1,000,000 and 10,000 t each, no bots.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from exchange.client import AsyncClient, Client, RefusedError
from tests.api.server import DemoServer, start_demo

SYMBOL = "CEA2025"
CASH_FEN = 100_000_000
UNITS_T = 10_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    running = start_demo(tmp_path_factory.mktemp("take") / "demo.db")
    try:
        yield running
    finally:
        running.stop()


def client(server: DemoServer, who: str) -> Client:
    return Client(server.base_url, server.keys["participants"][who], server.keys["market_id"])


def holding(c: Client, account: str) -> tuple[int, int, int]:
    """(cash available, units available, units sellable) of CEA2025."""
    balances = c.get_balances(account)
    (units,) = [h for h in balances["holdings"] if h["unit"] == SYMBOL]
    return balances["cash"]["available_fen"], units["available_t"], units["sellable_t"]


def refusal(call: Any) -> RefusedError:
    with pytest.raises(RefusedError) as refused:
        call()
    assert refused.value.status == 409
    return refused.value


def test_a_buyer_takes_a_second_level_quote_and_the_refusals(server: DemoServer) -> None:
    with client(server, "P001") as p001, client(server, "P002") as p002:
        first = p002.place_order(SYMBOL, "sell", 30, 6_010)["order_id"]
        second = p002.place_order(SYMBOL, "sell", 20, 6_020)["order_id"]

        level = p001.list_level_quotes(SYMBOL, "sell", 6_020)
        assert level["level"] == 2
        assert (level["matching"], level["take_levels"], level["strict_price_priority"]) == (
            "both",
            5,
            False,
        )
        assert level["quotes"] == [{"order_id": second, "qty_t": 20, "own": False}]
        assert p002.list_level_quotes(SYMBOL, "sell", 6_020)["quotes"][0]["own"] is True

        # P001 takes 12 t of the 60.20 quote while 60.10 rests: 12 × 6,020 = 72,240 fen.
        taken = p001.take_quote(second, 12, client_order_id="take-1")
        assert (taken["status"], taken["repeated"]) == ("filled", False)
        (fill,) = taken["fills"]
        assert (fill["price_fen"], fill["qty_t"]) == (6_020, 12)
        assert holding(p001, "P001") == (CASH_FEN - 72_240, UNITS_T + 12, UNITS_T)  # T+1
        assert holding(p002, "P002")[:2] == (CASH_FEN + 72_240, UNITS_T - 50)
        again = p001.take_quote(second, 12, client_order_id="take-1")
        assert (again["order_id"], again["repeated"]) == (taken["order_id"], True)
        order = p001.get_order(taken["order_id"])
        assert (order["side"], order["order_type"], order["price_fen"]) == ("buy", "fok", 6_020)
        assert (order["filled_t"], order["status"]) == (12, "filled")
        tape = p001.list_trades(symbol=SYMBOL, limit=1)["trades"][0]
        assert (tape["price_fen"], tape["qty_t"], tape["aggressor"]) == (6_020, 12, "buy")
        assert p001.list_level_quotes(SYMBOL, "sell", 6_020)["quotes"] == [
            {"order_id": second, "qty_t": 8, "own": False}
        ]

        over = refusal(lambda: p001.take_quote(second, 9))
        assert (over.code, over["qty_t"], over["quote_qty_t"]) == ("TAKE_OVER_QUOTE", 9, 8)
        own = refusal(lambda: p002.take_quote(first, 1))
        assert (own.code, own["order_id"]) == ("SELF_TAKE", first)
        for i in range(4):  # levels 3 to 6: 60.30 ... 60.60
            p002.place_order(SYMBOL, "sell", 1, 6_030 + 10 * i)
        sixth = p002.list_level_quotes(SYMBOL, "sell", 6_060)["quotes"][0]["order_id"]
        far = refusal(lambda: p001.take_quote(sixth, 1))
        assert (far.code, far["level"], far["take_levels"], far["price_fen"]) == (
            "QUOTE_OUTSIDE_TAKE_LEVELS",
            6,
            5,
            6_060,
        )
        p002.cancel_order(first)
        gone = refusal(lambda: p001.take_quote(first, 1))
        assert (gone.code, gone["order_id"]) == ("QUOTE_NOT_FOUND", first)
        p002.cancel_all_orders()


def test_the_socket_takes_a_bid(server: DemoServer) -> None:
    async def scenario() -> tuple[Any, RefusedError]:
        p001 = AsyncClient(
            server.base_url, server.keys["participants"]["P001"], server.keys["market_id"]
        )
        async with p001:
            bid = (await p001.place_order(SYMBOL, "buy", 40, 5_950))["order_id"]
            async with AsyncClient(
                server.base_url, server.keys["participants"]["P002"], server.keys["market_id"]
            ).stream() as ws:
                # P002 sells 15 t into P001's bid at 59.50: 89,250 fen
                taken = await ws.take(bid, 15)
                with pytest.raises(RefusedError) as refused:
                    await ws.take(bid, 26)
            await p001.cancel_all_orders()
        return taken, refused.value

    taken, refused = asyncio.run(scenario())
    (fill,) = taken["fills"]
    assert (taken["status"], fill["price_fen"], fill["qty_t"]) == ("filled", 5_950, 15)
    assert (refused.code, refused["quote_qty_t"]) == ("TAKE_OVER_QUOTE", 25)
