"""Auctions in a real browser against a real server: the instructor publishes an auction from
the console, a trainee sees its terms and bids (the form's own checks first), another bids
over REST, the console shows the bids coming in and closes the auction, and the trainee sees
the result, its award and its holdings move by the worked numbers.

One market on the module's demo server (no bots): Guangdong's rules (bids of at least
1,000 t, a bidder at most 50 % of the volume, uniform price, bids binding), CEA2025 first
referenced at CNY 10.00, opened on Monday 2 March 2026 with a stepped clock at 09:30 Beijing
time. GOV holds 1,000,000 t to sell; A1 and B1 hold CNY 5,000,000 each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.api.server import DemoServer
from tests.markets import CNY, holder, market_ns, ok, open_market
from tests.ui.conftest import (
    DESK,
    api,
    assert_accessible,
    both_languages_and_sizes,
    demo,
    log_in,
)

pytestmark = pytest.mark.ui

MARKET = "auction-ui"
M = f"/v1/markets/{MARKET}"
CEA = "CEA2025"
DAY1 = dt.date(2026, 3, 2)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    yield from demo(tmp_path_factory, "auction", 0)


def at(local: str) -> int:
    return market_ns(DAY1, local)


@pytest.fixture(scope="module")
def market(
    server: DemoServer,
) -> Iterator[tuple[httpx.Client, dict[str, str], dict[str, httpx.Client]]]:
    with api(server, server.keys["exchange_operator_key"]) as exchange:
        people = {
            "GOV": holder(units_t=1_000_000),
            "A1": holder(5_000_000 * CNY),
            "B1": holder(5_000_000 * CNY),
        }
        keys = open_market(exchange, MARKET, "guangdong_pilot", {CEA: 1_000}, DAY1, people)
        clients = {who: api(server, key) for who, key in keys.items()}
        try:
            yield exchange, keys, clients
        finally:
            for c in clients.values():
                c.close()


def test_an_auction_from_the_console_to_the_trainees_award(
    browser: Any,
    server: DemoServer,
    market: tuple[httpx.Client, dict[str, str], dict[str, httpx.Client]],
) -> None:
    operator, keys, clients = market
    console = browser.new_context(viewport=DESK).new_page()
    console.set_default_timeout(10_000)
    log_in(console, server, server.keys["exchange_operator_key"], MARKET)
    expect(console.get_by_test_id("instructor-view")).to_be_visible()
    admin = console.get_by_test_id("panel-auction-admin")
    form = admin.get_by_test_id("auction-publish")
    form.locator("input[name=auction-seller]").fill("GOV")
    form.locator("input[name=auction-volume]").fill("500000")
    form.locator("input[name=auction-reserve]").fill("9.37")
    form.locator("input[name=auction-opens]").fill("10:00")
    form.locator("input[name=auction-closes]").fill("11:30")
    form.get_by_test_id("auction-publish-submit").click()
    expect(admin.get_by_test_id("auction-admin-message")).to_have_text(
        "拍卖 1 已发布：500,000 吨，底价 9.37。"
    )
    expect(admin.get_by_test_id("auction-open-row")).to_have_count(1)
    ok(operator.post(f"{M}/clock/advance", json={"to": at("10:05")}))

    trainee = browser.new_context(viewport=DESK).new_page()
    trainee.set_default_timeout(10_000)
    errors: list[str] = []
    trainee.on("pageerror", lambda error: errors.append(str(error)))
    log_in(trainee, server, keys["A1"])
    panel = trainee.get_by_test_id("panel-auctions")
    expect(panel.get_by_test_id("auction-window")).to_have_attribute("data-open", "true")
    terms = panel.get_by_test_id("auction-terms")
    for text in ("500,000 吨", "9.37", "1,000 吨", "250,000 吨", "一经申报不可撤回"):
        expect(terms).to_contain_text(text)
    # The form's own checks, with the numbers: below the reserve, over the cap.
    bid_form = panel.get_by_test_id("auction-bid-form")
    bid_form.locator("input[name=auction-1-price]").fill("9.00")
    bid_form.locator("input[name=auction-1-qty]").fill("300000")
    checks = bid_form.get_by_test_id("auction-checks")
    expect(checks.locator("[data-code=AUCTION_BELOW_RESERVE]")).to_contain_text("9.37")
    expect(checks.locator("[data-code=AUCTION_OVER_CAP]")).to_contain_text("250,000 吨")
    bid_form.get_by_test_id("auction-bid").click()
    expect(bid_form.get_by_test_id("auction-message")).to_contain_text("未发送")
    assert ok(operator.get(f"{M}/auctions"))["auctions"][0]["bid_t"] == 0
    # A valid bid: 200,000 t at CNY 10.50 holds CNY 2,100,000.
    bid_form.locator("input[name=auction-1-price]").fill("10.50")
    bid_form.locator("input[name=auction-1-qty]").fill("200000")
    expect(checks).to_have_count(0)
    bid_form.get_by_test_id("auction-bid").click()
    expect(bid_form.get_by_test_id("auction-message")).to_have_text(
        "申报 1 已提交：200,000 吨，价格 10.50，冻结 ¥2,100,000.00。"
    )
    expect(panel.get_by_test_id("auction-my-bid")).to_have_count(1)
    expect(trainee.get_by_test_id("cash-held")).to_have_text("¥2,100,000.00")
    # B1 bids 400,000 t... no: at most 250,000 t; at CNY 9.88 (over REST).
    bid = {"price_fen": 988, "qty_t": 250_000}
    ok(clients["B1"].post(f"{M}/auctions/1/bids", json=bid), 201)
    row = admin.get_by_test_id("auction-open-row")
    expect(row.get_by_test_id("auction-bid-t")).to_have_text("450,000 (2)")
    expect(row.get_by_test_id("auction-cover")).to_have_text("0.90×")
    both_languages_and_sizes(
        trainee, "auction-trainee", lambda where: assert_accessible(trainee, where)
    )
    admin.scroll_into_view_if_needed()
    both_languages_and_sizes(
        console, "auction-console", lambda where: assert_accessible(console, where)
    )

    # The window shuts; the console closes the auction: undersubscribed (450,000 of
    # 500,000 t), every bid fills at the lowest, CNY 9.88; 50,000 t stay with GOV.
    ok(operator.post(f"{M}/clock/advance", json={"to": at("11:31")}))
    admin.get_by_test_id("auction-close").click()
    expect(admin.get_by_test_id("auction-admin-message")).to_have_text(
        "拍卖 1 已出清：成交 450,000 吨，价格 9.88。"
    )
    result = admin.get_by_test_id("auction-result")
    expect(result).to_contain_text("9.88")
    expect(result).to_contain_text("450,000 / 500,000")
    expect(result.get_by_test_id("auction-award")).to_have_text("¥4,446,000.00")
    # The trainee: its award, its cash (5,000,000 − 200,000 × 9.88 = 3,024,000) and units.
    mine = panel.get_by_test_id("auction-result")
    expect(mine.get_by_test_id("auction-award")).to_have_text("200,000 吨")
    expect(trainee.get_by_test_id("cash-held")).to_have_text("¥0.00")
    expect(trainee.get_by_test_id("cash-available")).to_have_text("¥3,024,000.00")
    holding = trainee.locator(f"[data-testid=holding][data-unit={CEA}]")
    expect(holding.get_by_test_id("holding-available")).to_contain_text("200,000")
    console.context.close()
    trainee.context.close()
    assert not errors, errors
