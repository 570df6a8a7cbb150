"""The instructor console's controls on the demo market in a real browser: an operator key
opens the console; halting and resuming trading (all instruments, or one) stops and restarts
the market; the clock panel shows the market's clock and session; large-holder reports are
listed and arrive live. The class-market parts of the console (created from a scenario) are in
test_class.py."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.api.server import DemoServer
from tests.ui.conftest import (
    api,
    assert_accessible,
    both_languages_and_sizes,
    log_in,
    ok,
    screenshot,
    speak,
)

pytestmark = pytest.mark.ui

M = "/v1/markets/demo"
ORDER = {"symbol": "CEA2025", "side": "buy", "order_type": "limit", "qty_t": 10}


def test_an_instructor_halts_and_resumes_trading(page: Any, server: DemoServer) -> None:
    log_in(page, server, server.keys["operator_key"])
    expect(page.get_by_test_id("instructor-view")).to_be_visible()
    assert page.url.endswith("/ui/instructor")
    state = page.get_by_test_id("instrument-state").filter(has_text="CEA2025")
    expect(state).to_contain_text("连续交易")

    page.get_by_test_id("halt").click()
    expect(state).to_contain_text("暂停交易")
    screenshot(page, "instructor-halted-1280")
    with api(server, server.keys["participants"]["P001"]) as trader:
        price = trader.get(f"{M}/book/CEA2025").json()["reference_price_fen"]
        refused = trader.post(f"{M}/orders", json={**ORDER, "price_fen": price})
        assert (refused.status_code, refused.json()["code"]) == (409, "INSTRUMENT_HALTED")

        page.get_by_test_id("resume").click()
        expect(state).to_contain_text("连续交易")
        placed = trader.post(f"{M}/orders", json={**ORDER, "price_fen": price})
        assert placed.status_code == 201, placed.text


def test_one_instrument_halts_and_resumes_alone(page: Any, server: DemoServer) -> None:
    log_in(page, server, server.keys["operator_key"])
    row = page.locator("[data-testid=instrument-state][data-symbol=CEA2025]")
    expect(row).to_contain_text("连续交易")
    others = page.locator("[data-testid=instrument-state]:not([data-symbol=CEA2025])")
    row.get_by_test_id("halt-one").click()
    expect(row).to_contain_text("暂停交易")
    expect(page.get_by_test_id("trading-message")).to_contain_text("CEA2025")
    for i in range(others.count()):
        expect(others.nth(i)).not_to_contain_text("暂停交易")
    with api(server, server.keys["operator_key"]) as op:
        assert op.get(f"{M}/book/CEA2025").json()["state"] == "halted"
        row.get_by_test_id("resume-one").click()
        expect(row).to_contain_text("连续交易")
        assert op.get(f"{M}/book/CEA2025").json()["state"] == "continuous"


def test_the_clock_panel_shows_the_market_clock(page: Any, server: DemoServer) -> None:
    log_in(page, server, server.keys["operator_key"])
    with api(server, server.keys["operator_key"]) as op:
        clock = op.get(f"{M}/clock").json()
    assert clock["running"] is False  # the demo runs no clock: the day is stepped by hand
    expect(page.get_by_test_id("clock-state")).to_have_text("未运行")
    expect(page.get_by_test_id("clock-session")).to_have_text("连续交易")
    expect(page.get_by_test_id("clock-start")).to_be_visible()
    expect(page.get_by_test_id("session-steps")).to_contain_text("收盘")
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("clock-state")).to_have_text("not running")
    expect(page.get_by_test_id("clock-session")).to_have_text("Continuous trading")


def test_a_trainee_key_cannot_reach_the_instructor_view(page: Any, server: DemoServer) -> None:
    log_in(page, server, server.keys["participants"]["P002"])
    expect(page.get_by_test_id("trade-view")).to_be_visible()
    page.goto(server.base_url + "/ui/instructor")
    expect(page.get_by_test_id("trade-view")).to_be_visible()  # sent back to its own view


def test_a_bad_key_is_refused_in_plain_words(page: Any, server: DemoServer) -> None:
    log_in(page, server, "cx_not-a-key")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("API 密钥无效")
    expect(page.get_by_test_id("trade-view")).to_have_count(0)


# --- large-holder reports (issue 16), in a market of their own ---------------------------------

HOLDERS = "ui-holders"
H = f"/v1/markets/{HOLDERS}"
REPORT_THRESHOLD_T = 5_000  # this market reports positions above 5,000 t
HOLDERS_DAY = "2026-03-02"


def test_large_holder_reports_are_listed_and_arrive_live(page: Any, server: DemoServer) -> None:
    """HB1 holds 6,000 t and buys 100 t before the console opens: reported at 6,100 t, 1,100 t
    over the 5,000 t threshold. With the console open, HB3 (4,950 t) buys 100 t: its report,
    5,050 t and 50 t over, arrives on the socket and shows at once, marked new."""
    with api(server, server.keys["exchange_operator_key"]) as exchange:
        market = {
            "market_id": HOLDERS,
            "rule_set": "cn_national",
            "overrides": {"limits": {"report_threshold_t": REPORT_THRESHOLD_T}},
            "instruments": [{"symbol": "CEA2025", "reference_price_fen": 8_000}],
            "open_day": HOLDERS_DAY,
        }
        ok(exchange.post("/v1/markets", json=market), 201)

        def account(account_id: str, qty_t: int) -> Any:
            body = {
                "account_id": account_id,
                "name": account_id,
                "kind": "participant",
                "cash_fen": 100_000_000,
                "allowances": [{"vintage": 2025, "qty_t": qty_t}],
            }
            return api(server, ok(exchange.post(f"{H}/participants", json=body), 201)["api_key"])

        def buy(buyer: Any, seller: Any, qty_t: int) -> None:
            order = {"symbol": "CEA2025", "order_type": "limit", "qty_t": qty_t, "price_fen": 8_000}
            ok(seller.post(f"{H}/orders", json={**order, "side": "sell"}), 201)
            ok(buyer.post(f"{H}/orders", json={**order, "side": "buy"}), 201)

        operator_key = ok(exchange.post(f"{H}/keys", json={"role": "operator"}), 201)["api_key"]
        with (
            account("HB1", 6_000) as hb1,
            account("HB2", 1_000) as hb2,
            account("HB3", 4_950) as hb3,
        ):
            buy(hb1, hb2, 100)
            log_in(page, server, operator_key)
            expect(page.get_by_test_id("instructor-view")).to_be_visible()
            panel = page.get_by_test_id("panel-large-holders")
            rows = panel.get_by_test_id("holder-row")
            expect(rows).to_have_count(1)
            first = rows.first
            expect(first).to_have_attribute("data-account", "HB1")
            expect(first.get_by_test_id("holder-position")).to_have_text("6,100 吨")
            expect(first.get_by_test_id("holder-threshold")).to_have_text("5,000 吨")
            expect(first.get_by_test_id("holder-over")).to_have_text("1,100 吨")
            expect(first.get_by_test_id("holder-day")).to_have_text("2026年3月2日")
            buy(hb3, hb2, 100)  # HB2 sells what it has left: 900 t
            expect(rows).to_have_count(2)
            live = rows.first  # the latest first
            expect(live).to_have_attribute("data-account", "HB3")
            expect(live.get_by_test_id("holder-position")).to_have_text("5,050 吨")
            expect(live.get_by_test_id("holder-over")).to_have_text("50 吨")
            expect(live).to_contain_text("新")
            reports = ok(exchange.get(f"{H}/large-holder-reports"))["reports"]
            assert [(r["account_id"], r["position_t"], r["threshold_t"]) for r in reports] == [
                ("HB3", 5_050, 5_000),
                ("HB1", 6_100, 5_000),
            ]

    def check(where: str) -> None:
        assert_accessible(page, where)
        panel.scroll_into_view_if_needed()

    both_languages_and_sizes(page, "instructor-large-holders", check)
    speak(page, "en")
    expect(rows.first.get_by_test_id("holder-over")).to_have_text("50 t")
    expect(rows.first).to_contain_text("new")
