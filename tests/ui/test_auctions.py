"""Auctions in a real browser against a real server: the instructor publishes an auction from
the console, a trainee sees its terms and bids (the form's own checks first), another bids
over REST, the console shows the bids coming in and closes the auction, and the trainee sees
the result, its award and its holdings move by the worked numbers.

One market on the module's demo server (no bots): Guangdong's rules (bids of at least
1,000 t, a bidder at most 50 % of the volume, uniform price, bids binding), CEA2025 first
referenced at CNY 10.00, opened on Monday 2 March 2026 with a stepped clock at 09:30 Beijing
time. GOV holds 1,000,000 t to sell; A1 and B1 hold CNY 5,000,000 each.

A second market, under the EU's rules (lots of 500, bids revocable in the window, each bid's
whole value held, 09:00-11:00 Berlin time), where a trainee amends a bid: GOV holds 100,000 t,
E1 5,000,000.00 (in cents, shown as ¥ like every amount on the screen).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.api.server import DemoServer
from tests.markets import BERLIN, CNY, holder, market_ns, ok, open_market
from tests.ui.conftest import (
    DESK,
    api,
    assert_accessible,
    both_languages_and_sizes,
    demo,
    log_in,
    speak,
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


def trainee_on_auctions(browser: Any, server: DemoServer, key: str) -> tuple[Any, list[str]]:
    """A trainee's page in a context of its own, at desk size, its auction open for bids; and
    the errors the page raises."""
    page = browser.new_context(viewport=DESK).new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, server, key)
    panel = page.get_by_test_id("panel-auctions")
    expect(panel.get_by_test_id("auction-window")).to_have_attribute("data-open", "true")
    return page, errors


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

    trainee, errors = trainee_on_auctions(browser, server, keys["A1"])
    panel = trainee.get_by_test_id("panel-auctions")
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
    # At desk width the panel spans the console's grid, and its table, close button included,
    # fits without scrolling across.
    grid = console.locator(".console-grid").filter(has=admin).bounding_box()
    panel_box = admin.bounding_box()
    assert grid is not None
    assert panel_box is not None
    assert panel_box["width"] == pytest.approx(grid["width"], abs=1)
    scroller = admin.locator(".scroll-x:has([data-testid=auction-open-row])")
    assert scroller.evaluate("e => e.scrollWidth <= e.clientWidth")
    close_box = row.get_by_test_id("auction-close").bounding_box()
    assert close_box is not None
    assert close_box["x"] + close_box["width"] <= panel_box["x"] + panel_box["width"]
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


EU_MARKET = "auction-eu-ui"
EU = f"/v1/markets/{EU_MARKET}"


def test_a_trainee_amends_a_bid_and_sees_the_hold_move(browser: Any, server: DemoServer) -> None:
    """E1 bids 2,000 t at 80.00 (holds 160,000.00), opens its bid's amendment form, is told
    750 t is not in lots, then amends it to 1,000 t at 82.00: bid 2 in place of bid 1, holding
    82,000.00; then withdraws it and holds nothing."""
    with api(server, server.keys["exchange_operator_key"]) as exchange:
        people = {"GOV": holder(units_t=100_000), "E1": holder(5_000_000 * CNY)}
        keys = open_market(exchange, EU_MARKET, "eu_ets", {CEA: 7_500}, DAY1, people)
        notice = {
            "seller": "GOV",
            "symbol": CEA,
            "volume_t": 10_000,
            "opens_ns": market_ns(DAY1, "09:00", BERLIN),
            "closes_ns": market_ns(DAY1, "11:00", BERLIN),
        }
        ok(exchange.post(f"{EU}/auctions", json=notice), 201)
        ok(exchange.post(f"{EU}/clock/advance", json={"to": market_ns(DAY1, "09:05", BERLIN)}))

        trainee, errors = trainee_on_auctions(browser, server, keys["E1"])
        panel = trainee.get_by_test_id("panel-auctions")
        speak(trainee, "zh")  # the EU's rule set speaks English first
        terms = panel.get_by_test_id("auction-terms")
        expect(terms).to_contain_text("申报时段内可撤回")
        expect(panel.get_by_test_id("auction-collateral")).to_have_text("按申报金额全额冻结")
        expect(panel.get_by_test_id("auction-held")).to_have_text("¥0.00")
        bid_form = panel.get_by_test_id("auction-bid-form")
        bid_form.locator("input[name=auction-1-price]").fill("80.00")
        bid_form.locator("input[name=auction-1-qty]").fill("2000")
        bid_form.get_by_test_id("auction-bid").click()
        expect(bid_form.get_by_test_id("auction-message")).to_have_text(
            "申报 1 已提交：2,000 吨，价格 80.00，冻结 ¥160,000.00。"
        )
        expect(panel.get_by_test_id("auction-held")).to_have_text("¥160,000.00")
        expect(trainee.get_by_test_id("cash-held")).to_have_text("¥160,000.00")

        # The amendment form, filled in from the bid; its own checks first.
        panel.locator("[data-testid=auction-my-bid][data-bid='1']").get_by_test_id(
            "auction-amend"
        ).click()
        amend = panel.get_by_test_id("auction-amend-form")
        expect(amend).to_contain_text("修改申报 1")
        expect(amend.locator("input[name=auction-bid-1-qty]")).to_have_value("2000")
        expect(amend.locator("input[name=auction-bid-1-price]")).to_have_value("80.00")
        amend.locator("input[name=auction-bid-1-qty]").fill("750")
        checks = amend.get_by_test_id("auction-amend-checks")
        expect(checks.locator("[data-code=AUCTION_BID_SIZE]")).to_contain_text("500")
        amend.get_by_test_id("auction-amend-save").click()
        expect(amend).to_be_visible()
        assert ok(exchange.get(f"{EU}/auctions"))["auctions"][0]["bids"][0]["bid_id"] == 1
        amend.locator("input[name=auction-bid-1-qty]").fill("1000")
        amend.locator("input[name=auction-bid-1-price]").fill("82.00")
        expect(checks).to_have_count(0)
        both_languages_and_sizes(
            trainee, "auction-amend", lambda where: assert_accessible(trainee, where)
        )
        amend.get_by_test_id("auction-amend-save").click()
        expect(bid_form.get_by_test_id("auction-message")).to_have_text(
            "申报 1 已修改为申报 2：1,000 吨，价格 82.00。"
        )
        expect(amend).to_have_count(0)
        mine = panel.get_by_test_id("auction-my-bid")
        expect(mine).to_have_count(1)
        expect(mine).to_have_attribute("data-bid", "2")
        expect(panel.get_by_test_id("auction-held")).to_have_text("¥82,000.00")
        expect(trainee.get_by_test_id("cash-held")).to_have_text("¥82,000.00")
        expect(trainee.get_by_test_id("cash-available")).to_have_text("¥4,918,000.00")
        both_languages_and_sizes(
            trainee, "auction-amended", lambda where: assert_accessible(trainee, where)
        )
        mine.get_by_test_id("auction-withdraw").click()
        expect(bid_form.get_by_test_id("auction-message")).to_have_text(
            "申报 2 已撤回，资金已解冻。"
        )
        expect(panel.get_by_test_id("auction-held")).to_have_text("¥0.00")
        expect(trainee.get_by_test_id("cash-held")).to_have_text("¥0.00")
        trainee.context.close()
        assert not errors, errors
