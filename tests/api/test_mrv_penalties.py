"""The 2024 Regulation's penalties over the API, against a real server on SQLite and on
PostgreSQL (docs/mrv.md "Enforcement over the API"), in tests/api/test_mrv.py's lab: a market
opened on Monday 2 March 2026 with two covered entities, GENCO and OTHER.

The numbers (fen): Art. 21's fine is CNY 50,000-500,000 (5,000,000-50,000,000); CNY 100,000
(10,000,000) is recorded. Art. 22 on gains of CNY 1,000,000 (100,000,000) is 5-10 × them,
500,000,000-1,000,000,000: CNY 6,000,000 (600,000,000, 6 ×) is recorded, CNY 4,000,000 (4 ×)
refused with the range. The cut: 50 % of next year's allocation, 1,000,000 t of 2027 in the
registry, is 500,000 t; 100 % of 120,000 misreported tonnes is 120,000 t; 40 % is refused. Each
cut is owed in the registry (``OweDeduction``): GENCO owes 620,000 t of its next allocation.
"""

from __future__ import annotations

from typing import Any

import httpx

from exchange.client import Client
from tests.api import test_block
from tests.api.conftest import client
from tests.api.server import DemoServer
from tests.api.test_block import unique
from tests.api.test_gateway import assert_problem
from tests.api.test_mrv import DAY1, Lab, mrv_lab
from tests.integration.conftest import postgres_url  # noqa: F401 - the fixture
from tests.markets import ok

server = test_block.server  # a real server on SQLite and on PostgreSQL, per module

CNY = 100  # fen
NEXT_YEAR = DAY1.year + 1
ART22_GAINS = 1_000_000 * CNY


def penalties(lab: Lab, account: str) -> str:
    return lab.mrv(f"/accounts/{account}/penalties")


def next_day(operator: httpx.Client, m: str) -> str:
    """Close and clear the day, open the next one; its date."""
    ok(operator.post(f"{m}/session/close-day"))
    ok(operator.post(f"{m}/session/end-of-day"))
    clock: dict[str, Any] = ok(operator.post(f"{m}/session/open-day", json={}))["clock"]
    day: str = clock["trading_day"]
    return day


def test_fines_and_cuts_are_checked_recorded_and_published(server: DemoServer) -> None:
    with mrv_lab(server, unique("mrvpen", server)) as lab:
        nxt = {"method": "fixed", "year": NEXT_YEAR, "qty_t": 1_000_000}
        ok(lab.operator.post(f"{lab.m}/accounts/GENCO/allocations", json=nxt), 201)

        # Art. 21: CNY 100,000 on OTHER, dated by the market's date.
        art21 = {"article": "art21", "fine_fen": 100_000 * CNY, "note": "report late"}
        first = ok(lab.operator.post(penalties(lab, "OTHER"), json=art21), 201)
        assert (first["seq"], first["on"], first["article"]) == (1, DAY1.isoformat(), "art21")
        assert (first["fine_min_fen"], first["fine_max_fen"]) == (5_000_000, 50_000_000)
        assert (first["allocation_cut_t"], first["cut_bp"], first["base"]) == (0, None, None)

        # Art. 22 on gains of CNY 1,000,000: 4 × is refused with the range.
        low = {"article": "art22", "fine_fen": 4 * ART22_GAINS, "gains_fen": ART22_GAINS}
        refused = assert_problem(
            lab.operator.post(penalties(lab, "GENCO"), json=low), 422, "MRV_FINE_OUT_OF_RANGE"
        )
        assert (refused["fine_fen"], refused["min_fen"], refused["max_fen"]) == (
            400_000_000,
            500_000_000,
            1_000_000_000,
        )
        assert refused["gains_fen"] == 100_000_000
        # A cut outside 50-100 %, or under an article without one, or with no base.
        art22 = {"article": "art22", "fine_fen": 6 * ART22_GAINS, "gains_fen": ART22_GAINS}
        small = lab.operator.post(penalties(lab, "GENCO"), json={**art22, "cut_bp": 4_000})
        cut = assert_problem(small, 422, "MRV_BAD_CUT")
        assert (cut["cut_bp"], cut["min_bp"], cut["max_bp"]) == (4_000, 5_000, 10_000)
        no_rule = lab.operator.post(penalties(lab, "OTHER"), json={**art21, "cut_bp": 5_000})
        assert assert_problem(no_rule, 422, "MRV_NO_CUT_RULE")["article"] == "art21"
        no_base = {**art22, "cut_bp": 10_000, "base": "misreported_t"}
        missing = lab.operator.post(penalties(lab, "GENCO"), json=no_base)
        assert assert_problem(missing, 422, "MRV_CUT_BASE_MISSING")["base"] == "misreported_t"
        # OTHER has nothing allocated for next year: no base to cut from.
        other22 = {**art22, "cut_bp": 5_000}
        none_allocated = lab.operator.post(penalties(lab, "OTHER"), json=other22)
        nothing = assert_problem(none_allocated, 422, "MRV_CUT_BASE_MISSING")
        assert (nothing["base"], nothing["year"]) == ("next_year_allocation", NEXT_YEAR)
        unknown = lab.operator.post(penalties(lab, "GENCO"), json={**art21, "article": "art99"})
        assert "art22" in assert_problem(unknown, 422, "MRV_NO_ARTICLE")["known"]
        # A participant records nothing, not even on itself.
        own = lab.genco.post(penalties(lab, "GENCO"), json=art21)
        assert assert_problem(own, 403, "FORBIDDEN")["role"] == "participant"

        # The next day: 6 × accepted, with 50 % of next year's allocation in the registry.
        day2 = next_day(lab.operator, lab.m)
        assert day2 > DAY1.isoformat()
        fined = ok(lab.operator.post(penalties(lab, "GENCO"), json=other22), 201)
        assert (fined["seq"], fined["on"], fined["fine_fen"]) == (1, day2, 600_000_000)
        assert (fined["fine_min_fen"], fined["fine_max_fen"]) == (500_000_000, 1_000_000_000)
        assert (fined["cut_bp"], fined["base"], fined["base_t"]) == (
            5_000,
            "next_year_allocation",
            1_000_000,
        )
        assert fined["allocation_cut_t"] == 500_000
        assert fined["cut_in_registry"] is True
        owed = ok(lab.genco.get(f"{lab.m}/accounts/GENCO/compliance/2026"))
        assert owed["deduction_owed_t"] == 500_000
        # The other base: all of 120,000 misreported tonnes.
        misreported = {**art22, "cut_bp": 10_000, "base": "misreported_t", "misreported_t": 120_000}
        second = ok(lab.operator.post(penalties(lab, "GENCO"), json=misreported), 201)
        assert (second["seq"], second["allocation_cut_t"], second["base_t"]) == (
            2,
            120_000,
            120_000,
        )
        # OTHER's second entry, the same day.
        ok(lab.operator.post(penalties(lab, "OTHER"), json={**art21, "note": "no plan"}), 201)

        # The credit record: the account's own key and operators, in order, with totals.
        record = ok(lab.genco.get(penalties(lab, "GENCO")))
        assert [e["seq"] for e in record["entries"]] == [1, 2]
        assert (record["fines_fen"], record["allocation_cut_t"]) == (1_200_000_000, 620_000)
        assert ok(lab.operator.get(penalties(lab, "GENCO"))) == record
        foreign = lab.other.get(penalties(lab, "GENCO"))
        assert assert_problem(foreign, 403, "FORBIDDEN")["account_id"] == "GENCO"

        # Published: any key of the market reads every penalty, by date, then as recorded.
        observer = ok(lab.operator.post(f"{lab.m}/keys", json={"role": "observer"}), 201)
        with client(server, observer["api_key"]) as public:
            listed = ok(public.get(lab.mrv("/penalties")))["penalties"]
        order = [(p["on"], p["account_id"], p["seq"]) for p in listed]
        assert order == [
            (DAY1.isoformat(), "OTHER", 1),
            (day2, "GENCO", 1),
            (day2, "GENCO", 2),
            (day2, "OTHER", 2),
        ]
        assert ok(lab.other.get(lab.mrv("/penalties")))["penalties"] == listed


def test_the_client_records_and_reads_the_credit_record(server: DemoServer) -> None:
    with mrv_lab(server, unique("mrvpenc", server)) as lab:
        key = server.keys["exchange_operator_key"]
        with Client(server.base_url, key, lab.market_id) as operator:
            entry = operator.record_mrv_penalty("GENCO", "art26", 2_000_000, note="obstruction")
            assert (entry["seq"], entry["fine_fen"], entry["note"]) == (1, 2_000_000, "obstruction")
            record = operator.list_mrv_penalties("GENCO")
            assert (record["entries"], record["fines_fen"]) == ([entry], 2_000_000)
            assert operator.list_published_mrv_penalties()["penalties"] == [entry]
