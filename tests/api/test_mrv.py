"""MRV over the API, against a real server on SQLite and on PostgreSQL (docs/mrv.md "Over the
API"): the worked unit of tests/mrv/conftest.py deposits twelve months of 2025, a check flags
one, the verifier applies the default, the authority publishes, the registry's verified
emissions equal the report's and allocation is trued up from verified generation.

The unit: 600 MW, condensing, bituminous coal, benchmark 0.7910 t/MWh; each month 140,000 t of
coal, 0.5460 tC/t measured, 324,000 MWh: 277,477.20 t. March's test claims 0.5000 tC/t at
21.000 GJ/t, 0.02381 tC/GJ, 9.05 % below bituminous coal's reference: DQ04 flags it
(254,100.00 t as deposited). The verifier forces the default: 21.000 × 0.03085 tC/GJ, 329,237.37
t. Signed: 11 × 277,477.20 + 329,237.37 = 3,381,486.57 t, 3,381,487 whole tonnes. Published:
the registry's verified emissions are 3,381,487 t; the final allocation is 3,888,000 MWh ×
0.7910 = 3,075,408 t (the 80 % gap cap, 2,705,189 t, is lower), of which 2,500,000 t were
allocated before: the true-up issues 575,408 t.

The market opens on Monday 2 March 2026, so every month of 2025 is deposited late (DQ01, a
warning with its days late).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from exchange.client import Client
from tests.api import test_block
from tests.api.conftest import client
from tests.api.server import DemoServer
from tests.api.test_block import unique
from tests.api.test_gateway import assert_problem
from tests.integration.conftest import postgres_url  # noqa: F401 - the fixture
from tests.markets import ok

server = test_block.server  # a real server on SQLite and on PostgreSQL, per module

DAY1 = dt.date(2026, 3, 2)
YEAR = 2025
UNIT = {"capacity_mw": "600", "kind": "condensing", "coal": "bituminous", "benchmark": "0.7910"}
PREALLOCATED_T = 2_500_000


def month_data(month: int) -> dict[str, Any]:
    """The worked month of 2025: hours within the month (672 in February, at a load that
    still gives 324,000 MWh), an NCV that moves a little from month to month (DQ14 flags one
    repeated to four decimals), March's carbon test 0.5000 tC/t."""
    last = dt.date(YEAR, month, calendar.monthrange(YEAR, month)[1])
    hours, load = ("672", "0.8036") if month == 2 else ("720", "0.75")
    ncv = "21.000" if month == 3 else f"21.{month:03d}"
    test = {
        "sampled": last.isoformat(),
        "reported": (last + dt.timedelta(days=10)).isoformat(),
        "fuel_t": "140000",
        "ncv": ncv,
        "carbon": "0.5000" if month == 3 else "0.5460",
    }
    return {
        "fuels": [{"fuel": "bituminous", "consumption": "140000", "tests": [test]}],
        "generation_mwh": "324000",
        "run_hours": hours,
        "load_factor": load,
        "purchased_mwh": "500",
    }


@dataclass
class Lab:
    m: str
    market_id: str
    operator: httpx.Client
    genco: httpx.Client  # the covered entity's own key
    other: httpx.Client  # another covered entity's key
    keys: dict[str, str]

    def mrv(self, path: str) -> str:
        return f"{self.m}/mrv{path}"

    def month(self, account: str, month: int, what: str = "") -> str:
        return self.mrv(f"/accounts/{account}/years/{YEAR}/months/{month}{what}")


@contextmanager
def mrv_lab(server: DemoServer, market_id: str) -> Iterator[Lab]:
    m = f"/v1/markets/{market_id}"
    with ExitStack() as stack:
        exchange = stack.enter_context(client(server, server.keys["exchange_operator_key"]))
        body = {
            "market_id": market_id,
            "rule_set": "cn_national",
            "instruments": [{"symbol": "CEA2025", "reference_price_fen": 6_000}],
            "open_day": DAY1.isoformat(),
        }
        ok(exchange.post("/v1/markets", json=body), 201)
        keys = {}
        for who in ("GENCO", "OTHER"):
            entity = {
                "account_id": who,
                "name": who,
                "kind": "covered_entity",
                "sector": "power",
                "province": "GD",
            }
            keys[who] = ok(exchange.post(f"{m}/participants", json=entity), 201)["api_key"]
        fixed = {"method": "fixed", "year": YEAR, "qty_t": PREALLOCATED_T}
        ok(exchange.post(f"{m}/accounts/GENCO/allocations", json=fixed), 201)
        yield Lab(
            m,
            market_id,
            exchange,
            stack.enter_context(client(server, keys["GENCO"])),
            stack.enter_context(client(server, keys["OTHER"])),
            keys,
        )


def rules_of(month: dict[str, Any]) -> list[str]:
    return [f["rule_id"] for f in month["flags"]]


def test_twelve_months_verified_and_published_into_the_registry(server: DemoServer) -> None:
    with mrv_lab(server, unique("mrv", server)) as lab:
        unit = lab.operator.put(lab.mrv("/accounts/GENCO/unit"), json=UNIT)
        assert ok(unit)["benchmark"] == "0.7910"
        refused = lab.genco.put(lab.mrv("/accounts/GENCO/unit"), json=UNIT)
        assert assert_problem(refused, 403, "FORBIDDEN")["role"] == "participant"
        # Twelve months saved and deposited by the entity itself.
        for month in range(1, 13):
            draft = ok(lab.genco.put(lab.month("GENCO", month), json=month_data(month)))
            assert (draft["state"], draft["flags"]) == ("draft", [])
            deposited = ok(lab.genco.post(lab.month("GENCO", month, "/deposit")))
            assert deposited["state"] == "deposited"
            assert deposited["deposited_on"] == DAY1.isoformat()
            expected = ["DQ01", "DQ04"] if month == 3 else ["DQ01"]
            assert rules_of(deposited) == expected, (month, deposited["flags"])
            calculated = deposited["calculated"]
            assert calculated["combustion_t"] == ("254100.00" if month == 3 else "277477.20")
            assert calculated["electricity_t"] == "285.15"  # counted in the report, not owed
            assert calculated["fuels"][0]["carbon_source"] == "measured"
        [dq04] = [f for f in deposited_march(lab)["flags"] if f["rule_id"] == "DQ04"]
        assert dq04["numbers"]["carbon_per_heat"] == "0.02381"
        assert dq04["numbers"]["deviation"] == "-0.0905"
        late = deposited_march(lab)["flags"][0]
        assert late["numbers"]["due"] == "2025-05-10"  # 40 days after 31 March
        assert late["numbers"]["days_late"] == "296"
        # The platform's steps: a deposited month is not deposited again.
        again = assert_problem(
            lab.genco.post(lab.month("GENCO", 1, "/deposit")), 409, "DEPOSIT_STEP"
        )
        assert (again["state"], again["allowed"]) == ("deposited", ["passed", "returned"])
        edit = lab.genco.put(lab.month("GENCO", 1), json=month_data(1))
        assert assert_problem(edit, 409, "MRV_MONTH_LOCKED")["state"] == "deposited"
        # Another entity may neither deposit nor read GENCO's months.
        foreign = lab.other.post(lab.month("GENCO", 1, "/deposit"))
        assert assert_problem(foreign, 403, "FORBIDDEN")["account_id"] == "GENCO"
        # A month not yet over is not deposited.
        ok(lab.operator.put(lab.mrv("/accounts/OTHER/unit"), json=UNIT))
        now = lab.operator.put(lab.mrv("/accounts/OTHER/years/2026/months/3"), json=month_data(3))
        ok(now)
        early = lab.operator.post(lab.mrv("/accounts/OTHER/years/2026/months/3/deposit"))
        early_body = assert_problem(early, 409, "MRV_MONTH_NOT_OVER")
        assert (early_body["month_end"], early_body["on"]) == ("2026-03-31", "2026-03-02")

        # Verifiers: a key of their own; never assigned to their own seat.
        verifier = ok(lab.operator.post(f"{lab.m}/keys", json={"role": "verifier"}), 201)
        seat = {"role": "verifier", "account_id": "GENCO"}
        seat_key = ok(lab.operator.post(f"{lab.m}/keys", json=seat), 201)
        assign = {"account_ids": ["GENCO"]}
        own = lab.operator.post(lab.mrv(f"/verifiers/{seat_key['key_id']}/accounts"), json=assign)
        own_body = assert_problem(own, 409, "MRV_VERIFIER_CONFLICT")
        assert (own_body["reason"], own_body["account_id"]) == ("own_account", "GENCO")
        participant_id = ok(lab.genco.get("/v1/session"))["key_id"]
        not_verifier = lab.operator.post(
            lab.mrv(f"/verifiers/{participant_id}/accounts"), json=assign
        )
        assert assert_problem(not_verifier, 409, "MRV_NOT_A_VERIFIER")["role"] == "participant"
        assigned = lab.operator.post(
            lab.mrv(f"/verifiers/{verifier['key_id']}/accounts"), json=assign
        )
        assert ok(assigned) == {"key_id": verifier["key_id"], "account_ids": ["GENCO"]}
        with client(server, verifier["api_key"]) as v:
            unassigned = v.get(lab.mrv(f"/accounts/OTHER/years/{YEAR}"))
            assert assert_problem(unassigned, 403, "MRV_NOT_ASSIGNED")["account_id"] == "OTHER"
            # Signing waits for the authority to pass every month.
            early_sign = v.post(lab.mrv(f"/accounts/GENCO/years/{YEAR}/report"))
            not_ready = assert_problem(early_sign, 409, "MRV_MONTHS_NOT_READY")
            assert not_ready["months"] == {str(m): "deposited" for m in range(1, 13)}
            for month in range(1, 13):
                passed = lab.operator.post(
                    lab.month("GENCO", month, "/review"), json={"decision": "pass"}
                )
                assert ok(passed)["state"] == "passed"
            # The verifier reads the year and forces the default on March's test.
            year = ok(v.get(lab.mrv(f"/accounts/GENCO/years/{YEAR}")))
            assert year["summary"]["calculated"]["combustion_t"] == "3306349.20"
            assert year["summary"]["guideline_id"] == "AG22"
            finding = {
                "kind": "test_default",
                "fuel": 0,
                "test": 0,
                "reason": "the lab's sample log does not match the coal burned",
            }
            wrong = v.post(lab.month("GENCO", 3, "/findings"), json={**finding, "test": 4})
            assert assert_problem(wrong, 422, "MRV_FINDING_TARGET")["tests"] == 1
            added = ok(v.post(lab.month("GENCO", 3, "/findings"), json=finding))
            assert (added["finding"]["before_t"], added["finding"]["after_t"]) == (
                "254100.00",
                "329237.37",
            )
            assert added["month"]["verified"]["fuels"][0]["carbon_source"] == "default"
            assert added["month"]["verified"]["combustion_t"] == "329237.37"
            signed = ok(v.post(lab.mrv(f"/accounts/GENCO/years/{YEAR}/report")))
            assert signed == {
                **signed,
                "state": "signed",
                "verified_t": 3_381_487,
                "emissions_t": "3381486.57",
                "calculated_t": "3306349.20",
                "generation_mwh": "3888000.00",
                "output_mwh": 3_888_000,
                "electricity_t": "3421.80",
            }
            twice = v.post(lab.mrv(f"/accounts/GENCO/years/{YEAR}/report"))
            assert assert_problem(twice, 409, "MRV_REPORT_STATE")["state"] == "signed"
            late_finding = v.post(lab.month("GENCO", 5, "/findings"), json=finding)
            assert assert_problem(late_finding, 409, "MRV_REPORT_STATE")["state"] == "signed"
        # The entity objects within its 7 working days; the report waits for the decision.
        objection = lab.mrv(f"/accounts/GENCO/years/{YEAR}/report/objection")
        reason = {"reason": "March's retained sample was never tested again"}
        assert_problem(lab.other.post(objection, json=reason), 403, "FORBIDDEN")
        objected = ok(lab.genco.post(objection, json=reason))
        filed = objected["objection"]
        assert (filed["status"], filed["filed_on"]) == ("open", objected["signed_on"])
        # ten working days: from Monday 2 March 2026 to Monday 16 March
        assert (filed["filed_on"], filed["decide_by"]) == ("2026-03-02", "2026-03-16")
        objected_again = lab.genco.post(objection, json=reason)
        assert assert_problem(objected_again, 409, "MRV_REPORT_STATE")["state"] == "signed"
        publish = lab.mrv(f"/accounts/GENCO/years/{YEAR}/report/publish")
        waiting = assert_problem(lab.operator.post(publish), 409, "MRV_OBJECTION_OPEN")
        assert waiting["decide_by"] == "2026-03-16"
        decision = {"decision": "dismissed", "note": "the finding stands: no retest exists"}
        decided = ok(lab.operator.post(f"{objection}/decision", json=decision))
        assert (decided["state"], decided["objection"]["status"]) == ("signed", "dismissed")
        assert decided["objection"]["late"] is False
        # The authority publishes: the registry's verified emissions and the true-up.
        assert_problem(lab.genco.post(publish), 403, "FORBIDDEN")
        published = ok(lab.operator.post(publish))
        assert published == {
            **published,
            "verified_t": 3_381_487,
            "allocated_t": 3_075_408,
            "issued_t": 3_075_408 - PREALLOCATED_T,
            "returned_t": 0,
        }
        assert published["report"]["state"] == "published"
        assert published["report"]["publication"]["benchmark_t"] == 3_075_408
        status = ok(lab.genco.get(f"{lab.m}/accounts/GENCO/compliance/{YEAR}"))
        assert status["obligation_t"] == 3_381_487
        balances = ok(lab.genco.get(f"{lab.m}/accounts/GENCO/balances"))
        [held] = [h for h in balances["holdings"] if h["unit"] == "CEA2025"]
        assert held["available_t"] == 3_075_408
        repeat = ok(lab.operator.post(publish))
        assert (repeat["verified_t"], repeat["allocated_t"], repeat["issued_t"]) == (
            3_381_487,
            3_075_408,
            0,
        )
        months = ok(lab.genco.get(lab.mrv(f"/accounts/GENCO/years/{YEAR}")))["months"]
        assert {m["state"] for m in months} == {"locked"}


def deposited_march(lab: Lab) -> dict[str, Any]:
    year = ok(lab.operator.get(lab.mrv(f"/accounts/GENCO/years/{YEAR}")))
    march: dict[str, Any] = year["months"][2]
    return march


def test_the_python_client_runs_the_mrv_year(server: DemoServer) -> None:
    """Every MRV operation through ``exchange.client.Client``: a month returned and deposited
    again, a meter finding, a report returned and signed again, published."""
    with mrv_lab(server, unique("mrv-client", server)) as lab, ExitStack() as stack:
        base, market = server.base_url, lab.market_id
        operator = stack.enter_context(Client(base, server.keys["exchange_operator_key"], market))
        genco = stack.enter_context(Client(base, lab.keys["GENCO"], market))
        plan = operator.put_mrv_unit("GENCO", "600", "condensing", "bituminous", "0.7910")
        assert plan["guideline_id"] is None
        for month in range(1, 13):
            genco.put_mrv_month("GENCO", YEAR, month, month_data(month))
            genco.deposit_mrv_month("GENCO", YEAR, month)
        returned = operator.review_mrv_month("GENCO", YEAR, 1, "return", note="load missing")
        assert (returned["state"], returned["review_note"]) == ("returned", "load missing")
        genco.put_mrv_month("GENCO", YEAR, 1, month_data(1))
        assert genco.deposit_mrv_month("GENCO", YEAR, 1)["state"] == "deposited"
        for month in range(1, 13):
            operator.review_mrv_month("GENCO", YEAR, month, "pass")
        issued = operator.issue_key("verifier")
        assigned = operator.assign_verifier(issued["key_id"], ["GENCO", "OTHER"])
        assert assigned["account_ids"] == ["GENCO", "OTHER"]
        kept = operator.unassign_verifier(issued["key_id"], "OTHER")
        assert kept["account_ids"] == ["GENCO"]
        verifier = stack.enter_context(Client(base, issued["api_key"], market))
        # The generation meter found uncalibrated, ±0.5 %: June's generation counts 0.5 % less.
        added = verifier.add_mrv_finding(
            "GENCO",
            YEAR,
            6,
            "meter_uncalibrated",
            "calibration certificate expired",
            meter="generation",
            required_accuracy="0.005",
        )
        assert added["month"]["verified"]["generation_mwh"] == "322380.00"
        assert added["finding"]["before_t"] == added["finding"]["after_t"] == "277477.20"
        first = verifier.sign_verification("GENCO", YEAR)
        assert (first["verified_t"], first["output_mwh"]) == (3_306_349, 3_886_380)
        back = operator.return_verification("GENCO", YEAR, note="check March")
        assert (back["state"], back["note"]) == ("returned", "check March")
        verifier.add_mrv_finding(
            "GENCO", YEAR, 3, "test_default", "sample log mismatch", fuel=0, test=0
        )
        signed = verifier.sign_verification("GENCO", YEAR)
        assert signed["verified_t"] == 3_381_487
        # An objection upheld sends the report back to its verifier, who signs again.
        objected = genco.object_to_verification("GENCO", YEAR, "June's meter was calibrated")
        assert objected["objection"] is not None
        assert objected["objection"]["status"] == "open"
        upheld = operator.decide_objection("GENCO", YEAR, "upheld", note="see the certificate")
        assert (upheld["state"], upheld["note"]) == ("returned", "see the certificate")
        assert upheld["objection"] is not None
        assert upheld["objection"]["status"] == "upheld"
        signed = verifier.sign_verification("GENCO", YEAR)
        assert (signed["verified_t"], signed["objection"]) == (3_381_487, None)
        year = verifier.list_mrv_months("GENCO", YEAR)
        report = year["report"]
        assert report is not None
        assert report["state"] == "signed"
        published = operator.publish_verification("GENCO", YEAR)
        # 3,886,380 MWh × 0.7910 = 3,074,126.58: 3,074,126 t, of which 2,500,000 t were had.
        assert (published["verified_t"], published["allocated_t"]) == (3_381_487, 3_074_126)
        assert published["issued_t"] == 574_126
