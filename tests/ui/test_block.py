"""Block agreement trades (大宗协议) in a real browser against a real server: two trainees on the
block board, one posting, the other accepting; a negotiation with one counter and a confirm;
the form's own checks and a refusal on screen; both see their deals and their cash and holdings
move by the worked numbers; the instructor's dashboard shows the day's block activity.

One market on the module's demo server (no bots): ``cn_national``, CEA2025 first referenced at
CNY 60.00 and opened on Monday 2 March 2026, fees of 30 bp (buy) and 25 bp (sell) rounded down.
S1 holds 300,000 t of CEA2025 and CNY 100,000; B1 holds CNY 30,000,000; X1 (over REST) holds
150,000 t and CNY 10,000,000. A stepped clock stands at the day's open (09:30) and is advanced
into the block session (13:00-15:00 Beijing time). The national block rules: at least
100,000 t, within ±30 % of the previous listed close (CNY 42.00-78.00 today).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
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

MARKET = "block-ui"
M = f"/v1/markets/{MARKET}"
CEA = "CEA2025"
DAY1 = dt.date(2026, 3, 2)  # a Monday
S1_CASH, B1_CASH = 100_000 * CNY, 30_000_000 * CNY
S1_UNITS = 300_000
RAW_KEY = re.compile(r"\b(block|problem|enum|account|fills|trade|entry)\.[A-Za-z_]")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    yield from demo(tmp_path_factory, "block", 0)


at = market_ns  # market time (ns) of a Beijing time of day


@dataclass
class Market:
    operator: httpx.Client  # the exchange's
    keys: dict[str, str]  # S1, B1, X1
    clients: dict[str, httpx.Client]  # by the same names


@pytest.fixture(scope="module")
def market(server: DemoServer) -> Iterator[Market]:
    """The market and its three participants, the clock stepped and standing at 09:30."""
    with api(server, server.keys["exchange_operator_key"]) as exchange:
        people = {
            "S1": holder(S1_CASH, S1_UNITS),
            "B1": holder(B1_CASH),
            "X1": holder(10_000_000 * CNY, 150_000),
        }
        fees = {"settlement": {"fee_bp_buy": 30, "fee_bp_sell": 25}}
        keys = open_market(exchange, MARKET, "cn_national", {CEA: 6_000}, DAY1, people, fees)
        clients = {who: api(server, key) for who, key in keys.items()}
        try:
            yield Market(exchange, keys, clients)
        finally:
            for c in clients.values():
                c.close()


def trainee(browser: Any, server: DemoServer, key: str) -> Any:
    """A trainee's page in a context of its own, at desk size, on the block board."""
    context = browser.new_context(viewport=DESK)
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    log_in(page, server, key)
    expect(page.get_by_test_id("block-desk")).to_be_visible()
    return page


def cash(page: Any) -> Any:
    return page.get_by_test_id("cash-available")


def holding(page: Any, column: str) -> Any:
    return page.locator(f"[data-testid=holding][data-unit={CEA}]").get_by_test_id(
        f"holding-{column}"
    )


def post(page: Any, side: str, price: str, qty: str, counterparty: str = "") -> Any:
    """Fill the quote form and send it; the form, for what it then says."""
    form = page.get_by_test_id("block-post-form")
    form.get_by_test_id(f"block-side-{side}").click()
    form.locator("input[name=block-price]").fill(price)
    form.locator("input[name=block-qty]").fill(qty)
    form.locator("input[name=block-counterparty]").fill(counterparty)
    form.get_by_test_id("block-post").click()
    return form


def no_sideways_scroll(page: Any) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{overflow} px of horizontal overflow"


def test_two_trainees_deal_in_blocks_and_the_console_shows_it(
    browser: Any, server: DemoServer, market: Market
) -> None:
    operator = market.operator
    s1 = trainee(browser, server, market.keys["S1"])
    b1 = trainee(browser, server, market.keys["B1"])

    # 09:30: the rules are shown, the session closed; the form says so and sends nothing.
    rules = s1.get_by_test_id("block-rules")
    expect(s1.get_by_test_id("block-min")).to_have_text("100,000 吨")
    expect(rules).to_contain_text("13:00–15:00")
    expect(rules).to_contain_text("北京时间")  # the market's time zone by its local name
    expect(rules).to_contain_text("± 30%")
    band = s1.locator(f"[data-testid=block-band][data-symbol={CEA}]")
    expect(band).to_contain_text("42.00 – 78.00")
    expect(band).to_contain_text("60.00")
    expect(s1.get_by_test_id("block-session")).to_have_attribute("data-open", "false")
    expect(s1.get_by_test_id("block-jump")).to_have_text("大宗协议交易：当前未开放 ↓")
    form = post(s1, "sell", "58.00", "150000")
    expect(form.get_by_test_id("block-checks")).to_contain_text("大宗交易时段")
    expect(form.get_by_test_id("block-checks")).to_contain_text("北京时间 13:00–15:00")
    expect(form.get_by_test_id("block-post-message")).to_contain_text("未发送")
    assert ok(operator.get(f"{M}/block/quotes"))["quotes"] == []

    # 13:05: the session opens (the screens read it on their poll).
    ok(operator.post(f"{M}/clock/advance", json={"to": at(DAY1, "13:05")}))
    for page in (s1, b1):
        expect(page.get_by_test_id("block-session")).to_have_attribute("data-open", "true")
        expect(page.get_by_test_id("block-jump")).to_have_text("大宗协议交易：进行中 ↓")

    # The form's checks with their numbers: 90,000 t is below the minimum, CNY 80.00 above
    # today's range; nothing is sent while they stand.
    form = post(s1, "sell", "80.00", "90000")
    checks = form.get_by_test_id("block-checks")
    expect(checks.locator("li[data-code=BLOCK_BELOW_MINIMUM]")).to_contain_text("100,000")
    expect(checks.locator("li[data-code=BLOCK_BELOW_MINIMUM]")).to_contain_text("90,000")
    expect(checks.locator("li[data-code=BLOCK_OUTSIDE_BAND]")).to_contain_text("¥78.00")
    expect(checks.locator("li[data-code=BLOCK_OUTSIDE_BAND]")).to_contain_text("¥80.00")
    expect(form.get_by_test_id("block-post-message")).to_contain_text("未发送")
    assert ok(operator.get(f"{M}/block/quotes"))["quotes"] == []

    # S1 offers 150,000 t at CNY 58.00: on both boards at once (the block channel).
    form = post(s1, "sell", "58.00", "150000")
    expect(form.get_by_test_id("block-post-message")).to_have_text(
        "报价 1 已挂出：卖出 150,000 吨，价格 58.00。"
    )
    expect(holding(s1, "held")).to_have_text("150,000")
    mine = s1.get_by_test_id("block-quote")
    expect(mine).to_have_count(1)
    expect(mine.first).to_have_attribute("data-mine", "true")
    quote = b1.get_by_test_id("block-quote")
    expect(quote).to_have_count(1)
    expect(quote.get_by_test_id("bq-price")).to_have_text("58.00")
    expect(quote.get_by_test_id("bq-qty")).to_have_text("150,000 吨")
    expect(quote.get_by_test_id("bq-poster")).to_have_text("S1")

    # B1 accepts 100,000 t of it: 100,000 × 5,800 = 580,000,000 fen; fees 30 bp = 1,740,000
    # (B1) and 25 bp = 1,450,000 (S1). The 50,000 t left are below the minimum: the quote
    # closes and S1's units are free.
    quote.get_by_test_id("bq-accept").click()
    accept = quote.get_by_test_id("accept-form")
    expect(accept.locator("input[name=accept-qty]")).to_have_value("150000")
    accept.locator("input[name=accept-qty]").fill("100000")
    expect(accept).to_contain_text("¥5,800,000.00")
    accept.get_by_test_id("accept-submit").click()
    expect(b1.get_by_test_id("block-board-message")).to_have_text(
        "成交 1：您买入 100,000 吨，价格 58.00。"
    )
    for page in (s1, b1):
        expect(page.get_by_test_id("block-quote")).to_have_count(0)
        row = page.get_by_test_id("block-deal-row")
        expect(row).to_have_count(1)
        expect(row.first).to_contain_text("58.00")
        expect(row.first).to_contain_text("100,000")
    expect(b1.get_by_test_id("block-deal-row").first).to_contain_text("S1")
    expect(b1.get_by_test_id("block-deal-row").first).to_contain_text("¥17,400.00")
    expect(s1.get_by_test_id("block-deal-row").first).to_contain_text("¥14,500.00")
    # B1: 3,000,000,000 - 580,000,000 - 1,740,000 = 2,418,260,000 fen; 100,000 t, not sellable
    # before tomorrow (T+1). S1: 10,000,000 + 580,000,000 - 1,450,000 = 588,550,000 fen.
    expect(cash(b1)).to_have_text("¥24,182,600.00")
    expect(holding(b1, "available")).to_have_text("100,000")
    expect(holding(b1, "sellable")).to_have_text("0")
    expect(cash(s1)).to_have_text("¥5,885,500.00")
    expect(holding(s1, "available")).to_have_text("200,000")
    expect(holding(s1, "held")).to_have_text("0")

    # A negotiation: S1 offers 200,000 t at CNY 59.00 to B1 alone; B1 opens at 120,000 t ×
    # CNY 56.00, S1 counters at CNY 57.00, B1 confirms the terms it sees.
    form = post(s1, "sell", "59.00", "200000", "B1")
    expect(form.get_by_test_id("block-post-message")).to_contain_text("仅 B1 可见")
    quote = b1.get_by_test_id("block-quote")
    expect(quote.get_by_test_id("bq-to-you")).to_have_text("定向给您")
    quote.get_by_test_id("bq-negotiate").click()
    opening = quote.get_by_test_id("negotiate-form")
    opening.locator("input[name=negotiate-price]").fill("56.00")
    opening.locator("input[name=negotiate-qty]").fill("120000")
    opening.get_by_test_id("negotiate-submit").click()
    expect(b1.get_by_test_id("block-board-message")).to_contain_text(
        re.compile(r"议价 \d+ 已发起：120,000 吨，价格 56.00。等待 S1 回应。")
    )
    mine = b1.get_by_test_id("block-negotiation")
    expect(mine.get_by_test_id("bn-turn")).to_have_text("等待 S1 回应")
    theirs = s1.get_by_test_id("block-negotiation")
    expect(theirs.get_by_test_id("bn-terms")).to_have_text("120,000 吨 × 56.00 = ¥6,720,000.00")
    expect(theirs.get_by_test_id("bn-turn")).to_have_text("轮到您：确认、还价或终止")
    theirs.get_by_test_id("bn-counter").click()
    counter = theirs.get_by_test_id("counter-form")
    counter.locator("input[name=counter-price]").fill("57.00")
    counter.get_by_test_id("counter-submit").click()
    expect(s1.get_by_test_id("block-negotiation-message")).to_contain_text(
        re.compile(r"已在议价 \d+ 中还价：120,000 吨，价格 57.00。")
    )
    expect(mine.get_by_test_id("bn-terms")).to_have_text("120,000 吨 × 57.00 = ¥6,840,000.00")
    expect(mine.get_by_test_id("bn-rounds")).to_have_text("2")
    expect(mine).to_have_attribute("data-my-turn", "true")

    # The board with a quote and a negotiation, as B1 sees it: both languages and sizes,
    # axe-core on each, nothing scrolling sideways on the phone.
    def check(where: str) -> None:
        assert_accessible(b1, where)
        no_sideways_scroll(b1)
        text = b1.get_by_test_id("block-desk").inner_text()
        assert not RAW_KEY.search(text), where
        if " en " in f" {where} ":
            assert not CJK.search(text.replace("S1", "")), where

    b1.get_by_test_id("block-desk").scroll_into_view_if_needed()
    both_languages_and_sizes(b1, "block-board", check)

    mine.get_by_test_id("bn-confirm").click()
    expect(b1.get_by_test_id("block-negotiation-message")).to_have_text(
        "成交 2：您买入 120,000 吨，价格 57.00。"
    )
    # 120,000 × 5,700 = 684,000,000 fen; fees 2,052,000 (B1) and 1,710,000 (S1). B1:
    # 2,418,260,000 - 684,000,000 - 2,052,000 = 1,732,208,000 fen and 220,000 t. S1:
    # 588,550,000 + 684,000,000 - 1,710,000 = 1,270,840,000 fen; the 80,000 t left of its
    # quote are below the minimum: the quote closes, its units are free.
    for page in (s1, b1):
        expect(page.get_by_test_id("block-negotiation")).to_have_count(0)
        expect(page.get_by_test_id("block-quote")).to_have_count(0)
        expect(page.get_by_test_id("block-deal-row")).to_have_count(2)
        expect(page.get_by_test_id("block-deal-row").first).to_contain_text("57.00")
    expect(cash(b1)).to_have_text("¥17,322,080.00")
    expect(holding(b1, "available")).to_have_text("220,000")
    expect(cash(s1)).to_have_text("¥12,708,400.00")
    expect(holding(s1, "available")).to_have_text("80,000")
    expect(holding(s1, "held")).to_have_text("0")

    # A refusal from the exchange, in words with its numbers: B1 offers units it cannot sell
    # before tomorrow.
    form = post(b1, "sell", "58.00", "100000")
    message = form.get_by_test_id("block-post-message")
    expect(message).to_have_attribute("role", "alert")
    expect(message).to_contain_text("需要 100,000 吨，可卖 0 吨")
    expect(message).to_contain_text("220,000 吨")
    b1.get_by_test_id("lang-toggle").click()
    form = post(b1, "sell", "58.00", "100000")
    expect(form.get_by_test_id("block-post-message")).to_contain_text(
        "100,000 t needed, 0 t sellable"
    )
    b1.get_by_test_id("lang-toggle").click()

    # Open activity for the console: B1 bids 100,000 t at CNY 60.00; X1 opens a negotiation
    # on it; X1 sells 1,000 t on the book to B1 at CNY 60.00 (listed volume).
    bid = {"symbol": CEA, "side": "buy", "price_fen": 6_000, "qty_t": 100_000}
    quote_id = ok(market.clients["B1"].post(f"{M}/block/quotes", json=bid), 201)["quote"][
        "quote_id"
    ]
    terms = {"price_fen": 6_100, "qty_t": 100_000}
    ok(market.clients["X1"].post(f"{M}/block/quotes/{quote_id}/negotiations", json=terms), 201)
    listed = {"symbol": CEA, "qty_t": 1_000, "price_fen": 6_000, "order_type": "limit"}
    ok(market.clients["X1"].post(f"{M}/orders", json={**listed, "side": "sell"}), 201)
    ok(market.clients["B1"].post(f"{M}/orders", json={**listed, "side": "buy"}), 201)
    expect(b1.get_by_test_id("block-negotiation")).to_have_count(1)

    console = s1.context.browser.new_context(viewport=DESK).new_page()
    console.set_default_timeout(10_000)
    log_in(console, server, server.keys["exchange_operator_key"], MARKET)
    expect(console.get_by_test_id("instructor-view")).to_be_visible()
    console.get_by_test_id("tab-dashboard").click()
    activity = console.get_by_test_id("panel-block-activity")
    expect(activity.get_by_test_id("ba-quotes")).to_have_text("1 笔（100,000 吨）")
    expect(activity.get_by_test_id("ba-negotiations")).to_have_text("1")
    # Two deals: 100,000 t + 120,000 t, 580,000,000 + 684,000,000 fen.
    expect(activity.get_by_test_id("ba-deals")).to_have_text("2 笔（220,000 吨，¥12,640,000.00）")
    deals = activity.get_by_test_id("ba-deal")
    expect(deals).to_have_count(2)
    for row, cells in zip(
        (deals.nth(0), deals.nth(1)),
        (["B1", "S1", "57.00", "120,000"], ["B1", "S1", "58.00", "100,000"]),
        strict=True,
    ):
        for cell in cells:
            expect(row).to_contain_text(cell)
    # Today's bulletin: 1,000 t listed, 220,000 t block: a block share of 220/221 = 99.55 %.
    today = activity.locator(f"[data-testid=ba-day][data-day='{DAY1.isoformat()}']")
    expect(today).to_contain_text("1,000 吨")
    expect(today).to_contain_text("220,000 吨")
    expect(today).to_contain_text("99.55%")
    activity.scroll_into_view_if_needed()
    both_languages_and_sizes(
        console, "block-console", lambda where: assert_accessible(console, where)
    )
    console.context.close()

    # B1 withdraws its bid: X1's negotiation on it ends, and the hold is released. B1's cash:
    # 1,732,208,000 fen less the listed buy, 1,000 × 6,000 = 6,000,000 and its 30 bp fee
    # (18,000): 1,726,190,000 fen, none of it on hold.
    bid_card = b1.locator(f"[data-testid=block-quote][data-quote-id='{quote_id}']")
    bid_card.get_by_test_id("bq-cancel").click()
    expect(b1.get_by_test_id("block-board-message")).to_have_text(
        f"报价 {quote_id} 已撤销，冻结的资金或配额已释放，其上的议价随之终止。"
    )
    expect(b1.get_by_test_id("block-quote")).to_have_count(0)
    expect(b1.get_by_test_id("block-negotiation")).to_have_count(0)
    expect(cash(b1)).to_have_text("¥17,261,900.00")
    expect(b1.get_by_test_id("cash-held")).to_have_text("¥0.00")
    assert ok(market.clients["X1"].get(f"{M}/block/negotiations"))["negotiations"] == []

    for page in (s1, b1):
        errors = page.errors
        page.context.close()
        assert not errors, errors
