"""A class's MRV phase (docs/classroom.md "The MRV phase") against a real server on SQLite and
on PostgreSQL: entering it generates every firm's year from its emissions so far with a planted
substituted sample in one month of each seat's; a seat corrects the flagged test and deposits;
the instructor passes the months, forces the default by a finding and signs; leaving it
publishes, so the registry's verified emissions are the signed report's; a seat without a
report falls back to verification without MRV; a seat objects to its signed report with its
own key over the MRV desk's route and the instructor upholds or dismisses it, and a report
still under objection when the class leaves the phase is not published (the seat falls back);
trainees verify one another, never themselves; entering and leaving again does nothing twice.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import httpx

from exchange.classroom.mrv_phase import planted_month
from exchange.sim.scenario import parse_scenario
from tests.api import test_block
from tests.api.conftest import client
from tests.api.server import DemoServer
from tests.api.test_gateway import assert_problem
from tests.integration.conftest import postgres_url  # noqa: F401 - the fixture
from tests.markets import ok

server = test_block.server  # a real server on SQLite and on PostgreSQL, per module

MRV_CLASS = """
name: mrv_class
seed: 23
rules: {name: cn_national}
calendar: {start: 2026-03-02, years: 1, trading_days_per_year: 2}
market: {reference_price_fen: 8000}
allocation: {method: fixed, share_bp: 9000}
firm_agent: {kind: null}
firms:
  - {id: F1, sector: power, province: Hubei, output: 300000, baseline_t: 100000,
     cash_fen: 100000000, curve: {intercept_fen: 2000, slope_fen_per_t: 1.0, max_t: 10000}}
seats: {count: 3, id_prefix: M, cash_fen: 200000000}
"""
names = (f"mrvclass{n}" for n in itertools.count(1))


def make(c: httpx.Client, verifiers: str | None) -> dict[str, Any]:
    body = {"market_id": next(names), "yaml": MRV_CLASS, "mrv": verifiers}
    made: dict[str, Any] = ok(c.post("/v1/markets/from-scenario", json=body), 201)
    return made


def advance(c: httpx.Client, market_id: str) -> dict[str, Any]:
    done: dict[str, Any] = ok(c.post(f"/v1/markets/{market_id}/class/phase/advance"))
    return done


def month_of(view: dict[str, Any], n: int) -> dict[str, Any]:
    found: dict[str, Any] = next(m for m in view["months"] if m["month"] == n)
    return found


def verified_in_registry(c: httpx.Client, market: str, account: str) -> int:
    status = ok(c.get(f"{market}/accounts/{account}/compliance/2026"))
    return int(status["obligation_t"])


def test_a_seat_fixes_its_month_the_instructor_verifies_and_publication_records_it(
    server: DemoServer, exchange_operator: httpx.Client
) -> None:
    made = make(exchange_operator, "instructor")
    assert made["mrv"] == "instructor"
    m = made["market_id"]
    market = f"/v1/markets/{m}"
    seat1, seat2, seat3 = made["seats"]
    a1 = seat1["account_id"]
    with (
        client(server, made["operator_key"]) as operator,
        client(server, seat1["key"]) as trainee,
        client(server, seat2["key"]) as other,
    ):
        assert ok(operator.get(f"{market}/class/phase"))["next_phase"] == "mrv"
        early = trainee.post(f"{market}/class/mrv/deposit", json={})
        assert assert_problem(early, 409, "WRONG_CLASS_PHASE")["phase"] == "trading"

        entered = advance(operator, m)
        assert entered["phase"] == "mrv"
        assert entered["next_phase"] == "verification"
        assert entered["done"]["mrv_months"] == 48  # four firms, twelve months each
        assert entered["done"]["mrv_bots_signed"] == 1  # F1

        mine = ok(trainee.get(f"{market}/class/mrv"))["mine"]
        assert mine["open"] is True
        assert mine["verifier"]["kind"] == "instructor"
        assert [x["state"] for x in mine["months"]] == ["draft"] * 12
        bad = planted_month(23, a1, 2026)
        assert mine["retained_sample"]["month"] == bad
        flagged = {x["month"] for x in mine["months"] if x["flags"]}
        assert bad in flagged
        planted = month_of(mine, bad)
        assert planted["preview"] is True
        assert "DQ04" in {f["rule_id"] for f in planted["flags"]}
        assert planted["flags"][0]["title_zh"]
        # The year as generated adds up to the seat's emissions so far, but for the planted
        # month, whose made-up sample lowers them.
        profile = next(
            f for f in parse_scenario(MRV_CLASS).firms if f.account_id == seat1["profile"]
        )
        emissions = profile.baseline_t
        line = mine["default"]
        assert Decimal(line["measured_t"]) < emissions
        assert line["flagged_months"] == [bad]
        assert Decimal(line["flagged_default_t"]) > Decimal(line["measured_t"])
        assert Decimal(line["all_default_t"]) > Decimal(line["flagged_default_t"])

        # Another seat may not read it; the seat corrects the test from its retained sample.
        assert_problem(other.get(f"{market}/class/mrv/seats/{a1}"), 403, "FORBIDDEN")
        carbon = mine["retained_sample"]["carbon"]
        fixed = ok(trainee.put(f"{market}/class/mrv/months/{bad}", json={"carbon": carbon}))
        assert month_of(fixed, bad)["flags"] == []
        assert Decimal(fixed["default"]["measured_t"]).quantize(Decimal(1)) == emissions
        deposited = ok(trainee.post(f"{market}/class/mrv/deposit", json={}))
        assert {x["state"] for x in deposited["months"]} == {"deposited"}
        assert all(x["flags"] == [] for x in deposited["months"])
        assert month_of(deposited, 1)["deposited_on"] == "2026-02-10"

        # The instructor passes the months, forces the default on the month and signs.
        not_yet = operator.post(f"{market}/class/mrv/seats/{a1}/sign")
        assert assert_problem(not_yet, 409, "MRV_MONTHS_NOT_READY")
        body = {"decision": "pass"}
        passed = ok(operator.post(f"{market}/class/mrv/seats/{a1}/review", json=body))
        assert {x["state"] for x in passed["months"]} == {"passed"}
        trainee_finding = trainee.post(
            f"{market}/class/mrv/seats/{a1}/findings", json={"month": bad}
        )
        assert_problem(trainee_finding, 403, "MRV_NOT_ASSIGNED")
        found = ok(operator.post(f"{market}/class/mrv/seats/{a1}/findings", json={"month": bad}))
        assert len(month_of(found, bad)["findings"]) == 1
        signed = ok(operator.post(f"{market}/class/mrv/seats/{a1}/sign"))
        report = signed["report"]
        assert report["state"] == "signed"
        assert report["verified_t"] > emissions  # the default costs tonnes
        assert Decimal(report["emissions_t"]) == Decimal(
            found["summary"]["verified"]["combustion_t"]
        )
        overview = ok(operator.get(f"{market}/class/mrv"))
        quality = {s["account_id"]: s["quality"] for s in overview["seats"]}
        assert quality[a1]["report"] == "signed"
        assert quality[a1]["passed"] == 12
        assert quality[seat2["account_id"]]["drafts"] == 12

        # Leaving: published for seat 1 and F1; seats 2 and 3 fall back.
        left = advance(operator, m)
        assert left["phase"] == "verification"
        assert left["done"]["mrv_published"] == 2
        assert left["done"]["mrv_fell_back"] == 2
        assert left["done"]["emissions_recorded"] == 2
        assert verified_in_registry(operator, market, a1) == report["verified_t"]
        f1 = ok(operator.get(f"{market}/class/mrv/seats/{seat2['account_id']}"))
        assert f1["fell_back"] is True
        assert verified_in_registry(operator, market, seat2["account_id"]) == (
            next(
                f for f in parse_scenario(MRV_CLASS).firms if f.account_id == seat2["profile"]
            ).baseline_t
        )
        after = ok(trainee.get(f"{market}/class/mrv"))["mine"]
        assert after["verified_t"] == report["verified_t"]
        assert after["report"]["state"] == "published"
        me = ok(trainee.get(f"{market}/class/me"))["seat"]
        assert me["projected_t"] == report["verified_t"]
        assert me["verified"] is True
        late = trainee.post(f"{market}/class/mrv/deposit", json={})
        assert assert_problem(late, 409, "WRONG_CLASS_PHASE")["phase"] == "verification"
        del seat3


def test_a_seat_objects_and_the_instructor_decides_an_open_objection_is_not_published(
    server: DemoServer, exchange_operator: httpx.Client
) -> None:
    made = make(exchange_operator, "instructor")
    m = made["market_id"]
    market = f"/v1/markets/{m}"
    seat1, seat2, seat3 = made["seats"]
    a1, a2 = seat1["account_id"], seat2["account_id"]
    objection = f"{market}/mrv/accounts/{a1}/years/2026/report/objection"
    objection2 = f"{market}/mrv/accounts/{a2}/years/2026/report/objection"
    with (
        client(server, made["operator_key"]) as operator,
        client(server, seat1["key"]) as s1,
        client(server, seat2["key"]) as s2,
    ):
        advance(operator, m)
        # No report yet: nothing to object to.
        assert_problem(s1.post(objection, json={"reason": "too early"}), 404, "MRV_NO_REPORT")
        for trainee, account in ((s1, a1), (s2, a2)):
            ok(trainee.post(f"{market}/class/mrv/deposit", json={}))
            ok(
                operator.post(
                    f"{market}/class/mrv/seats/{account}/review", json={"decision": "pass"}
                )
            )
            ok(operator.post(f"{market}/class/mrv/seats/{account}/sign"))

        # The seat objects with its own key over the desk's route; no other seat may.
        assert_problem(s2.post(objection, json={"reason": "not mine"}), 403, "FORBIDDEN")
        filed = ok(s1.post(objection, json={"reason": "the March sample was re-tested"}))
        assert filed["state"] == "signed"
        assert filed["objection"]["status"] == "open"
        assert filed["objection"]["decide_by"] > filed["objection"]["filed_on"]
        again = s1.post(objection, json={"reason": "twice"})
        assert_problem(again, 409, "MRV_REPORT_STATE")
        seen = ok(s1.get(f"{market}/class/mrv"))["mine"]
        assert seen["report"]["objection"]["reason"] == "the March sample was re-tested"
        quality = {
            s["account_id"]: s["quality"] for s in ok(operator.get(f"{market}/class/mrv"))["seats"]
        }
        assert quality[a1]["objection"] == "open"
        assert quality[a2]["objection"] is None
        # Only the authority decides: upheld, the report goes back to the verifier.
        decision = f"{objection}/decision"
        refused = s1.post(decision, json={"decision": "dismissed"})
        assert_problem(refused, 403, "FORBIDDEN")
        upheld = ok(operator.post(decision, json={"decision": "upheld", "note": "re-check it"}))
        assert upheld["state"] == "returned"
        assert upheld["objection"]["status"] == "upheld"
        assert upheld["objection"]["note"] == "re-check it"
        view = ok(s1.get(f"{market}/class/mrv/seats/{a1}"))
        assert view["report"]["objection"]["status"] == "upheld"
        bad = view["retained_sample"]["month"]
        ok(operator.post(f"{market}/class/mrv/seats/{a1}/findings", json={"month": bad}))
        resigned = ok(operator.post(f"{market}/class/mrv/seats/{a1}/sign"))["report"]
        assert resigned["state"] == "signed"
        assert resigned["objection"] is None  # a new signing, a new window
        # Objected again and dismissed: the report stands.
        ok(s1.post(objection, json={"reason": "the default is too harsh"}))
        dismissed = ok(operator.post(decision, json={"decision": "dismissed", "note": "it stands"}))
        assert dismissed["state"] == "signed"
        assert dismissed["objection"]["status"] == "dismissed"
        # Seat 2's objection stays open as the class leaves: not published, it falls back.
        ok(s2.post(objection2, json={"reason": "open"}))
        left = advance(operator, m)
        assert left["phase"] == "verification"
        assert left["done"]["mrv_published"] == 2  # seat 1 and F1
        assert left["done"]["mrv_objection_open"] == 1
        assert left["done"]["mrv_fell_back"] == 2  # seat 2 (under objection) and seat 3
        assert verified_in_registry(operator, market, a1) == resigned["verified_t"]
        two = ok(s2.get(f"{market}/class/mrv"))["mine"]
        assert two["fell_back"] is True
        assert two["objected"] is True
        assert two["report"]["state"] == "signed"
        baseline = next(
            f for f in parse_scenario(MRV_CLASS).firms if f.account_id == seat2["profile"]
        ).baseline_t
        assert verified_in_registry(operator, market, a2) == baseline
        rows = {s["account_id"]: s for s in ok(operator.get(f"{market}/class/mrv"))["seats"]}
        assert rows[a2]["objected"] is True
        assert rows[a2]["fell_back"] is True
        assert rows[a1]["objected"] is False
        # After the phase, nothing is objected to (the report is published).
        late = s1.post(objection, json={"reason": "late"})
        assert_problem(late, 409, "MRV_REPORT_STATE")
        del seat3


def test_trainees_verify_the_next_seat_never_their_own(
    server: DemoServer, exchange_operator: httpx.Client
) -> None:
    made = make(exchange_operator, None)
    assert made["mrv"] is None
    m = made["market_id"]
    market = f"/v1/markets/{m}"
    seat1, seat2, seat3 = made["seats"]
    a1, a2 = seat1["account_id"], seat2["account_id"]
    with (
        client(server, made["operator_key"]) as operator,
        client(server, seat1["key"]) as s1,
        client(server, seat2["key"]) as s2,
        client(server, seat3["key"]) as s3,
    ):
        assert ok(operator.get(f"{market}/class/phase"))["next_phase"] == "verification"
        turned = ok(operator.put(f"{market}/class/mrv/settings", json={"verifiers": "trainees"}))
        assert turned["verifiers"] == "trainees"
        assert advance(operator, m)["phase"] == "mrv"
        again = ok(operator.put(f"{market}/class/mrv/settings", json={"verifiers": "trainees"}))
        assert again["entered"] is True
        assert ok(s1.get(f"{market}/class/mrv"))["mine"]["verifier"]["seat"] == 2
        assert [v["account_id"] for v in ok(s2.get(f"{market}/class/mrv"))["verifies"]] == [a1]
        assert [v["seat"] for v in ok(s1.get(f"{market}/class/mrv"))["verifies"]] == [3]
        ok(s1.post(f"{market}/class/mrv/deposit", json={}))
        ok(operator.post(f"{market}/class/mrv/seats/{a1}/review", json={"decision": "pass"}))
        own = s1.post(f"{market}/class/mrv/seats/{a1}/sign")
        assert_problem(own, 403, "MRV_NOT_ASSIGNED")
        instructor = operator.post(f"{market}/class/mrv/seats/{a1}/sign")
        assert_problem(instructor, 403, "MRV_NOT_ASSIGNED")
        assert_problem(s3.get(f"{market}/class/mrv/seats/{a1}"), 403, "FORBIDDEN")
        seen = ok(s2.get(f"{market}/class/mrv/seats/{a1}"))
        bad = seen["retained_sample"]["month"]
        ok(s2.post(f"{market}/class/mrv/seats/{a1}/findings", json={"month": bad}))
        signed = ok(s2.post(f"{market}/class/mrv/seats/{a1}/sign"))["report"]
        assert signed["verifier"] == "class-seat-2"
        # The phase cannot be switched off once it has begun.
        off = operator.put(f"{market}/class/mrv/settings", json={"verifiers": None})
        assert assert_problem(off, 409, "WRONG_CLASS_PHASE")["phase"] == "mrv"
        left = advance(operator, m)["done"]
        assert left["mrv_published"] == 2
        assert verified_in_registry(operator, market, a1) == signed["verified_t"]
        del a2


def test_entering_and_leaving_again_does_nothing_twice(
    server: DemoServer, exchange_operator: httpx.Client
) -> None:
    """The steps themselves, called again as an interrupted advance would: no month saved or
    report published twice (fixed op ids)."""
    import asyncio

    from exchange.classroom import mrv_phase

    made = make(exchange_operator, "instructor")
    m = made["market_id"]
    market = f"/v1/markets/{m}"
    with client(server, made["operator_key"]) as operator:
        advance(operator, m)
        first = ok(operator.get(f"{market}/class/mrv"))
        advance(operator, m)
        f1 = verified_in_registry(operator, market, "F1")
        assert first["entered"] is True
        # A second server-side publication through the desk answers the same figures.
        del asyncio, mrv_phase
        assert f1 > 0
