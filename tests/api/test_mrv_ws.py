"""The WebSocket channel ``mrv`` against a real server on SQLite and on PostgreSQL: each key is
told the MRV desk's committed changes of the accounts it may read (docs/api-ws.md): a
participant its own account's, a verifier its assigned accounts', operators every account's;
observers have no such channel. The year is tests/api/test_mrv.py's worked unit: twelve months
deposited (March flagged DQ04 besides every month's DQ01), passed, March's test forced to the
default, 3,381,487 t signed and published, the months locked.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.api import test_block
from tests.api.conftest import client
from tests.api.server import DemoServer
from tests.api.test_block import block_feed, unique
from tests.api.test_class_mrv import MRV_CLASS, advance
from tests.api.test_mrv import UNIT, YEAR, month_data, mrv_lab
from tests.api.test_ws import Feed
from tests.integration.conftest import postgres_url  # noqa: F401 - the fixture
from tests.markets import ok

server = test_block.server  # a real server on SQLite and on PostgreSQL, per module

CHANGES = ("mrv_month", "mrv_finding", "mrv_report")


def board(feed: Feed) -> dict[str, Any]:
    feed.send(op="subscribe", channel="mrv")
    feed.next("subscribed", channel="mrv")
    first = feed.recv()
    assert first["type"] == "mrv_board", first
    return first


def flush(feed: Feed) -> None:
    """Every message queued for the socket before now has been read."""
    feed.send(op="ping", req_id="flush")
    feed.next("pong", req_id="flush")


def accounts_told(feed: Feed) -> set[str]:
    return {m["account_id"] for m in feed.seen if m["type"] in CHANGES}


def test_the_mrv_channel_tells_each_key_the_changes_of_its_accounts(server: DemoServer) -> None:
    with mrv_lab(server, unique("mrv-ws", server)) as lab:
        for account in ("GENCO", "OTHER"):
            ok(lab.operator.put(lab.mrv(f"/accounts/{account}/unit"), json=UNIT))
        ok(lab.genco.put(lab.month("GENCO", 1), json=month_data(1)))  # before anyone listens
        verifier = ok(lab.operator.post(f"{lab.m}/keys", json={"role": "verifier"}), 201)
        assign = {"account_ids": ["GENCO"]}
        ok(lab.operator.post(lab.mrv(f"/verifiers/{verifier['key_id']}/accounts"), json=assign))
        observer_key = ok(lab.operator.post(f"{lab.m}/keys", json={"role": "observer"}), 201)
        market_id, operator_key = lab.market_id, server.keys["exchange_operator_key"]
        with (
            block_feed(server, market_id, lab.keys["GENCO"]) as genco,
            block_feed(server, market_id, lab.keys["OTHER"]) as other,
            block_feed(server, market_id, verifier["api_key"]) as v,
            block_feed(server, market_id, operator_key) as operator,
            block_feed(server, market_id, observer_key["api_key"]) as observer,
        ):
            observer.send(op="subscribe", channel="mrv")
            assert observer.next("error", channel="mrv")["code"] == "FORBIDDEN"
            # The boards: each key's accounts' months and reports, as they stand.
            draft = {"account_id": "GENCO", "year": YEAR, "month": 1, "state": "draft"}
            for feed, accounts in ((genco, ["GENCO"]), (v, ["GENCO"]), (operator, None)):
                first = board(feed)
                assert first["account_ids"] == accounts
                assert first["months"] == [{**draft, "flags": []}]
                assert first["reports"] == []
            assert board(other)["months"] == []

            # OTHER saves a month: its own key and operators are told, nobody of GENCO's.
            ok(lab.other.put(lab.month("OTHER", 1), json=month_data(1)))
            for feed in (other, operator):
                told = feed.next("mrv_month", account_id="OTHER", event="saved")
                assert (told["month"], told["state"], told["flags"]) == (1, "draft", [])
            assert "market_seq" not in told  # from no command of the market

            # GENCO deposits its twelve months: its key, its verifier and operators are told.
            for month in range(1, 13):
                ok(lab.genco.put(lab.month("GENCO", month), json=month_data(month)))
                ok(lab.genco.post(lab.month("GENCO", month, "/deposit")))
            for feed in (genco, v, operator):
                march = feed.next("mrv_month", account_id="GENCO", month=3, event="deposited")
                assert (march["state"], march["flags"]) == ("deposited", ["DQ01", "DQ04"])
                assert feed.next("mrv_month", month=12, event="deposited")["flags"] == ["DQ01"]
            for month in range(1, 13):
                review = lab.month("GENCO", month, "/review")
                ok(lab.operator.post(review, json={"decision": "pass"}))
            for feed in (genco, v, operator):
                feed.next("mrv_month", account_id="GENCO", month=12, event="passed", state="passed")

            # The verifier's finding and signature, the entity's objection, the authority's
            # decision and publication.
            finding = {"kind": "test_default", "fuel": 0, "test": 0, "reason": "sample log"}
            with client(server, verifier["api_key"]) as verifying:
                ok(verifying.post(lab.month("GENCO", 3, "/findings"), json=finding))
                ok(verifying.post(lab.mrv(f"/accounts/GENCO/years/{YEAR}/report")))
            report = lab.mrv(f"/accounts/GENCO/years/{YEAR}/report")
            ok(lab.genco.post(f"{report}/objection", json={"reason": "retest March"}))
            decision = {"decision": "dismissed", "note": "no retest exists"}
            ok(lab.operator.post(f"{report}/objection/decision", json=decision))
            ok(lab.operator.post(f"{report}/publish"))
            for feed in (genco, v, operator):
                found = feed.next("mrv_finding", account_id="GENCO", month=3)
                assert found["state"] == "passed"
                assert (found["finding"]["kind"], found["finding"]["after_t"]) == (
                    "test_default",
                    "329237.37",
                )
                steps = [
                    feed.next("mrv_report", account_id="GENCO", event=event)
                    for event in ("signed", "objected", "decided", "published")
                ]
                assert [(s["state"], s["objection"]) for s in steps] == [
                    ("signed", None),
                    ("signed", "open"),
                    ("signed", "dismissed"),
                    ("published", "dismissed"),
                ]
                assert {s["verified_t"] for s in steps} == {3_381_487}
                locked = [feed.next("mrv_month", event="locked") for _ in range(12)]
                assert [m["month"] for m in locked] == list(range(1, 13))
                assert {m["state"] for m in locked} == {"locked"}

            # Nobody was told of an account it may not read.
            for feed in (genco, other):
                flush(feed)
            assert accounts_told(genco) == {"GENCO"}
            assert accounts_told(v) == {"GENCO"}  # OTHER's month came before GENCO's, if at all
            assert accounts_told(other) == {"OTHER"}
            assert accounts_told(operator) == {"GENCO", "OTHER"}
            assert not [m for m in observer.seen if m["type"] in CHANGES]


def test_a_class_mrv_phase_tells_its_steps_on_the_channel(
    server: DemoServer, exchange_operator: httpx.Client
) -> None:
    """A class's MRV phase goes through the desk: the bot firm's report signed as the phase
    begins and a seat's deposits are told to the seat and the class's operator, not to another
    seat. (The months the phase generates are written at once, not told: they are in a board
    read after it began.)"""
    body = {"market_id": unique("mrv-ws-class", server), "yaml": MRV_CLASS, "mrv": "instructor"}
    made = ok(exchange_operator.post("/v1/markets/from-scenario", json=body), 201)
    market_id = made["market_id"]
    seat1, seat2, _ = made["seats"]
    a1 = seat1["account_id"]
    with (
        block_feed(server, market_id, seat1["key"]) as mine,
        block_feed(server, market_id, seat2["key"]) as theirs,
        block_feed(server, market_id, made["operator_key"]) as operator,
        client(server, made["operator_key"]) as instructor,
        client(server, seat1["key"]) as trainee,
    ):
        assert board(mine)["months"] == []  # before the phase
        board(theirs)
        board(operator)
        advance(instructor, market_id)  # the bot firm's report is signed on entering
        bot = operator.next("mrv_report", event="signed")
        assert bot["account_id"] not in {a1, seat2["account_id"]}
        ok(trainee.post(f"/v1/markets/{market_id}/class/mrv/deposit", json={}))
        for feed in (mine, operator):
            told = [feed.next("mrv_month", account_id=a1, event="deposited") for _ in range(12)]
            assert [m["month"] for m in told] == list(range(1, 13))
        for feed in (mine, theirs):
            flush(feed)
        assert accounts_told(mine) == {a1}
        assert accounts_told(theirs) == set()
