"""A kill while ``createClassMarket`` is halfway leaves nothing behind (exchange.classroom.making):
a real ``carbonx demo`` process kills itself (SIGKILL) at a chosen point of making a class
(``CARBONX_KILL_AT``, exchange.faults); after a restart the half-made market is gone (not hosted,
no keys, no class) and its id can be used again."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from exchange.faults import KILL_AT_VARIABLE
from tests.api.conftest import client
from tests.api.server import start_demo
from tests.api.test_classroom import TINY, ok
from tests.api.test_gateway import assert_problem

CREATE = "/v1/markets/from-scenario"
WAIT_S = 10.0


@pytest.mark.parametrize(
    "moment",
    [
        "class-market-created",  # the market's journal holds its spec, nothing else is written
        "class-made",  # everything is written (setup, class row, keys) but the end of making
    ],
)
def test_a_class_half_made_by_a_kill_is_removed_and_its_id_free(
    tmp_path: Path, moment: str
) -> None:
    database = tmp_path / "demo.db"
    body = {"market_id": "half", "yaml": TINY}
    dying = start_demo(database, env={KILL_AT_VARIABLE: moment})
    try:
        with (
            client(dying, dying.keys["exchange_operator_key"]) as operator,
            pytest.raises(httpx.TransportError),  # the process dies under the request
        ):
            operator.post(CREATE, json=body)
        assert dying.process.wait(WAIT_S) == -9  # SIGKILL
    finally:
        dying.stop()
    server = start_demo(database)
    try:
        with client(server, server.keys["exchange_operator_key"]) as operator:
            listed = ok(operator.get("/v1/markets"))["markets"]
            assert [m["market_id"] for m in listed] == ["demo"], "the half-made class is hosted"
            assert_problem(operator.get("/v1/markets/half"), 404, "UNKNOWN_MARKET")
            made = ok(operator.post(CREATE, json=body), 201)  # the id is free again
            assert made["market_id"] == "half"
            again = operator.post(CREATE, json=body)
            assert_problem(again, 409, "MARKET_EXISTS")  # once whole, it is kept
        with client(server, made["seats"][0]["key"]) as seat:
            assert ok(seat.get("/v1/markets/half/orders"))["orders"] == []
    finally:
        server.stop()
    restarted = start_demo(database)  # a whole class survives a restart
    try:
        with client(restarted, made["operator_key"]) as operator:
            assert ok(operator.get("/v1/markets/half/class/phase"))["phase"] == made["phase"]
    finally:
        restarted.stop()
