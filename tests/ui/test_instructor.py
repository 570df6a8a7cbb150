"""The instructor console's controls on the demo market in a real browser: an operator key
opens the console; halting and resuming trading (all instruments, or one) stops and restarts
the market; the clock panel shows the market's clock and session. The class-market parts of
the console (created from a scenario) are in test_class.py."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.api.server import DemoServer
from tests.ui.conftest import api, log_in, screenshot

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
